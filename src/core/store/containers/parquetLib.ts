/**
 * The Parquet libraries (hyparquet, hyparquet-compressors, hyparquet-writer) behind one module, so
 * that they load on first use only: the extension, CLI and worker bundles `require` this file when
 * first needed, which the build points at the separate bundle `dist/parquet.js`.
 */
export { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
export { compressors } from 'hyparquet-compressors';
export { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
