export { DatasetStore } from './datasetStore';
export { SaveRefusedError, type SaveRefusal } from './errors';
export { removeStaleTempFiles } from './save';
export { JsonArrayError, containerKindFor, looksLikeRecordArray, type ContainerKind } from './containers';
export { COMPACT_STYLE, detectStyle, formatElement, type ElementStyle } from './containers/jsonArray';
export { fingerprintFile, sameFingerprint, describeFingerprintChange } from './fingerprint';
export type {
  BackupSegment,
  DiskState,
  EmbeddedSegment,
  Eol,
  Fingerprint,
  LineEdit,
  LineInfo,
  OpenOptions,
  SaveAsOptions,
  SaveOptions,
  Segment,
  SpliceEdit,
  StoreBackup,
  StoreEdit,
  StoreProgress,
} from './types';
export { ParquetStore } from './parquetStore';
export { openRecordStore, restoreRecordStore, type RecordStore } from './recordStore';
