/**
 * The Parquet libraries (hyparquet, hyparquet-compressors, hyparquet-writer) behind one module, so
 * that they load on first use only: the extension, CLI and worker bundles `require` this file when
 * first needed, which the build points at the separate bundle `dist/parquet.js`.
 */
export { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
export { compressors } from 'hyparquet-compressors';
export { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
// Page-level pieces, for the first rows of a row group without an offset index (parquetPrefix.ts).
export { parquetHeader, readColumn } from 'hyparquet/src/column.js';
export { assembleAsync, asyncGroupToRows } from 'hyparquet/src/rowgroup.js';
export { getTreePath } from 'hyparquet/src/schema.js';
export { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
