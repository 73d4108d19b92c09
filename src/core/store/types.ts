/**
 * Plain, serialisable data types of the dataset store. Everything here survives `JSON.stringify` /
 * `JSON.parse` unchanged, so edits and backups can cross process boundaries and be written to disk.
 */

/** A line ending as found on disk. `none` only ever applies to the last line of a file. */
export type Eol = 'lf' | 'crlf' | 'none';

/** The edits a caller usually makes. Indexes are line (= record) indexes in the current document. */
export type LineEdit =
  /** New texts for lines `index .. index + texts.length - 1`. */
  | { kind: 'replace'; index: number; texts: string[] }
  /** New lines inserted before line `index` (`index === lineCount` appends). */
  | { kind: 'insert'; index: number; texts: string[] }
  | { kind: 'delete'; index: number; count: number }
  /**
   * Move lines `from .. from + count - 1` so that the first of them ends up at index `to` of the
   * resulting document (`0 <= to <= lineCount - count`). Its inverse is `{ from: to, count, to: from }`.
   */
  | { kind: 'move'; from: number; count: number; to: number };

/**
 * A run of lines in an edit: either original lines of the file the store is based on (by line
 * index, so their exact bytes and line endings are kept), or new texts (written with the file's
 * dominant line ending).
 *
 * `base` names the file version the original line numbers refer to (see `DatasetStore.baseId`);
 * an edit whose `base` no longer matches is refused instead of being applied to the wrong lines.
 */
export type Segment =
  { kind: 'original'; start: number; count: number; base: string } | { kind: 'text'; texts: string[] };

/**
 * Remove `deleteCount` lines at `index`, then insert the lines described by `insert` there.
 * This is what inverse edits look like when they must bring back original lines by reference.
 */
export interface SpliceEdit {
  kind: 'splice';
  index: number;
  deleteCount: number;
  insert: Segment[];
}

/** Every edit `DatasetStore.apply` accepts. `apply` returns another `StoreEdit`: the inverse. */
export type StoreEdit = LineEdit | SpliceEdit;

/** Identifies one version of a file on disk without reading all of it. */
export interface Fingerprint {
  size: number;
  mtimeMs: number;
  /** sha256 (hex) of the first 64 KiB followed by the last 64 KiB (the whole file when smaller). */
  headTailSha256: string;
}

/**
 * Lines of an earlier version of the file (one that a save replaced), embedded in a backup so that
 * the backup can be restored after a restart. `data` holds the lines' exact bytes, line endings
 * included: as text when they are valid UTF-8, otherwise base64. `eolAdded` lists (relative to the
 * segment) lines whose ending was only added because they stopped being the last line.
 */
export interface EmbeddedSegment {
  kind: 'embedded';
  count: number;
  encoding: 'utf8' | 'base64';
  data: string;
  eolAdded?: number[];
}

/** Segments of a backup: those of edits, plus embedded lines of earlier file versions. */
export type BackupSegment = Segment | EmbeddedSegment;

/** A hot-exit backup: the edit overlay plus the fingerprint of the file it applies to. */
export interface StoreBackup {
  format: 'parrot-store-backup';
  /** 1 when every segment is a "text" or "original" one; 2 when it uses embedded lines or `eolAdded`. */
  version: 1 | 2;
  /** The file the overlay was made against (informational; restore takes the path as an argument). */
  path: string;
  fingerprint: Fingerprint;
  /** Number of lines of the document when the backup was made (a consistency check). */
  lineCount: number;
  /** The whole document as segments, in order. Original segments refer to the fingerprinted file. */
  segments: BackupSegment[];
  /** Lines of the fingerprinted file whose line ending was only added because they stopped being last. */
  eolAdded?: number[];
  /**
   * Present when the backup was made while the file was still being indexed: original lines from
   * this index to the end of the file follow `segments`.
   */
  tailFrom?: number;
}

/** Progress while indexing or saving. */
export interface StoreProgress {
  lines: number;
  bytes: number;
  totalBytes: number;
}

export interface OpenOptions {
  signal?: AbortSignal;
  onProgress?: (p: StoreProgress) => void;
  /** Read size while indexing, in bytes (default 4 MiB). */
  chunkSize?: number;
  /**
   * How many earlier versions of the file stay readable after saves so that undo across a save
   * works (default 8; 0 keeps none). Each holds an open file handle and its line index in memory.
   */
  maxRetiredBases?: number;
  /**
   * How the file holds its records: `jsonl` (one per line) or `json-array` (the elements of a
   * top-level JSON array). Default: `json-array` for a `.json` file, `jsonl` otherwise.
   */
  container?: 'jsonl' | 'json-array';
  /**
   * The second thread that indexes the second half of a large JSON array: the bundled
   * `index.worker.js` (default: the one beside this bundle, when it is there), or false for one
   * thread.
   */
  indexWorker?: string | false;
}

export interface SaveOptions {
  signal?: AbortSignal;
  onProgress?: (p: StoreProgress) => void;
  /**
   * Save over a file that has other names (hard links): the other names keep the old content.
   * Without it such a save is refused with a `SaveRefusedError` of reason 'hardlink'.
   */
  breakHardLinks?: boolean;
}

/** How the file at a store's path compares with the version the store is based on. */
export interface DiskState {
  /**
   * - none: unchanged; touched: only its times changed (same bytes);
   * - replaced: the path names another file (renamed over, deleted and re-created, link retargeted);
   * - deleted: nothing is at the path;
   * - appended / truncated / rewritten: the file itself was changed in place (grown, shortened, or
   *   other bytes at the same size).
   */
  change: 'none' | 'touched' | 'replaced' | 'deleted' | 'appended' | 'truncated' | 'rewritten';
  /** The size of the file at the path now (absent when deleted). */
  size?: number;
  /** When deleted: the file's folder is gone too. */
  folderMissing?: boolean;
}

export interface SaveAsOptions extends SaveOptions {
  /** Whether the store moves onto the new file afterwards (default true). */
  rebase?: boolean;
}

export interface LineInfo {
  eol: Eol;
  invalidUtf8: boolean;
  /**
   * True for lines that are not a line of the file as it is on disk: inserted or replaced text, or a
   * line of an earlier version of the file brought back by undo after a save.
   */
  edited: boolean;
  /** Bytes of the line without its line ending (original lines only). */
  byteLength?: number;
}
