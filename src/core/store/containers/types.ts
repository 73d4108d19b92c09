import type { FileHandle } from 'node:fs/promises';
import type { LineIndex, ScanOptions } from '../lineIndex';
import type { WriteInput } from '../save';

/** The kinds of file a store reads records from. */
export type ContainerKind = 'jsonl' | 'json-array';

/**
 * How records lie in one kind of file. The store's index, overlay, saves, backups and conflict
 * checks are the same for every container; a container says where records are (its scan), what a
 * record's text may be, and what lies between records when the document is written (line endings
 * for JSONL; `[`, commas, indentation and `]` for a JSON array).
 */
export interface Container {
  readonly kind: ContainerKind;
  /**
   * What a save keeps of records nobody edited: `bytes` (the file's own bytes, copied) here. This is
   * the one thing callers above the store may ask a container.
   */
  readonly preserves: 'bytes' | 'rows';
  /** A new, empty index for a file with a BOM of `bomLength` bytes. */
  newIndex(bomLength: number, capacity?: number): LineIndex;
  /** Scans `[from, size)` of the file into `index`; rejects with a positioned error on a broken file. */
  scan(fh: FileHandle, index: LineIndex, from: number, size: number, opts: ScanOptions): Promise<void>;
  /** Throws a clear error when `text` cannot be record `k` of an edit called `what`. */
  checkText(text: string, what: string, k: number): void;
  /** Writes the document (original byte ranges, new texts, what lies between) and returns its index. */
  write(out: FileHandle, input: WriteInput): Promise<LineIndex>;
}
