/**
 * The store a dataset file is edited through, whatever holds its records: the byte-range store
 * (`DatasetStore`) for JSON Lines and JSON arrays, the row store (`ParquetStore`) for Parquet. Both
 * offer the same records, edits, undo, backups and guarded atomic saves; callers ask
 * `savePreserves` only to say what a save keeps.
 */
import { isParquetPath } from './containers/parquet';
import { DatasetStore } from './datasetStore';
import { ParquetStore } from './parquetStore';
import type { OpenOptions, StoreBackup } from './types';

export type RecordStore = DatasetStore | ParquetStore;

/** Opens `path` with the store for its container (Parquet by its `.parquet` name). */
export function openRecordStore(path: string, opts: OpenOptions = {}): Promise<RecordStore> {
  return isParquetPath(path) ? ParquetStore.open(path, opts) : DatasetStore.open(path, opts);
}

/** Opens `path` and re-applies a hot-exit backup (see `DatasetStore.restore`, `ParquetStore.restore`). */
export function restoreRecordStore(
  path: string,
  backup: StoreBackup,
  opts: OpenOptions = {},
): Promise<RecordStore> {
  return isParquetPath(path)
    ? ParquetStore.restore(path, backup, opts)
    : DatasetStore.restore(path, backup, opts);
}
