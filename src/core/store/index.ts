export { DatasetStore } from './datasetStore';
export { fingerprintFile, sameFingerprint, describeFingerprintChange } from './fingerprint';
export type {
  BackupSegment,
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
