/**
 * The Parquet libraries (hyparquet, hyparquet-compressors, hyparquet-writer) behind one module, so
 * that they load on first use only: the extension and CLI bundles import this file with a dynamic
 * `import()`, which the build turns into a `require` of the separate bundle `dist/parquet.js`.
 */
export { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
export { compressors } from 'hyparquet-compressors';
export { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
