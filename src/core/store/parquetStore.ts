/**
 * A Parquet file as an editable document of records: the rows, read by row group on demand through
 * `ParquetRowSource`, under the same edit overlay (piece table), edit inverses, undo across saves,
 * hot-exit backups and save guards as the byte-range store of JSONL and JSON arrays. Record `i` is
 * row `i`, as the JSON object text a JSONL line of the same dataset would hold.
 *
 * A save rewrites the whole file atomically through the Parquet writer, keeping the schema, column
 * order, key-value metadata, codecs and row-group sizes of the file; rows nobody edited are written
 * from the values read, so they read back equal (a Parquet save is row-preserving, never
 * byte-preserving). Save As to `.jsonl` or `.json` writes those containers instead.
 */
import { stat, type FileHandle } from 'node:fs/promises';
import { extname, resolve as resolvePath } from 'node:path';
import { BatchedWriter } from '../batchedWriter';
import { FileBase, identityOf, openRegularFile } from './base';
import { COMPACT_STYLE, formatElement, type ElementStyle } from './containers/jsonArray';
import {
  ParquetRecordError,
  ParquetRowSource,
  layoutOf,
  writeParquet,
  type ParquetRecord,
  type ParquetWriteResult,
} from './containers/parquet';
import { conflictRefusal, diskStateOf } from './diskState';
import { SaveRefusedError } from './errors';
import { baseIdOf, describeFingerprintChange, sameFingerprint, sumFile } from './fingerprint';
import { LineIndex } from './lineIndex';
import { isInt } from './overlayEdit';
import type { Piece } from './pieces';
import { atomicWrite } from './save';
import { StoreCore } from './storeCore';
import type {
  DiskState,
  Fingerprint,
  LineInfo,
  OpenOptions,
  SaveOptions,
  Segment,
  StoreBackup,
} from './types';

/** Earlier file versions kept readable after saves (for undo across a save), at most. */
const DEFAULT_MAX_RETIRED = 8;

/** One version of the file: its rows, and the handle and checksums that tell whether it changed. */
interface Version {
  readonly id: string;
  readonly src: ParquetRowSource;
  readonly file: FileBase;
}

/** The indentation of a `.json` array written by Save As (Python's `json.dump(indent=2)`). */
const ARRAY_STYLE: ElementStyle = {
  indent: '  ',
  base: '  ',
  newline: '\n',
  colon: ': ',
  comma: ', ',
  ascii: false,
};

/** What a save to `target` writes, by its name: Parquet, a JSON array (`.json`) or JSON Lines. */
function targetKind(target: string): 'parquet' | 'json-array' | 'jsonl' {
  const ext = extname(target).toLowerCase();
  return ext === '.parquet' ? 'parquet' : ext === '.json' ? 'json-array' : 'jsonl';
}

/**
 * Opens one version of the file. `id` names it (default: from its fingerprint); `ownWrite` says the
 * store has just written it (its times prove it unchanged once they are quiet, see FileBase).
 */
async function openVersion(
  path: string,
  id?: (fp: Fingerprint) => string,
  ownWrite = false,
): Promise<Version> {
  const { fh, st, fp } = await openRegularFile(path);
  try {
    const src = await ParquetRowSource.fromHandle(path, fh);
    const file = new FileBase(id ? id(fp) : baseIdOf(fp), fh, fp, new LineIndex(0), path, identityOf(st));
    // The checksums a later save compares the file with are read in the background.
    file.provideSums(
      sumFile(fh, fp.size).then((s) => s.finish()),
      Date.now(),
      ownWrite,
    );
    return { id: file.id, src, file };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** A row of the document being written: the values of an original row, or a record's text. */
type DocRow = { record: ParquetRecord; text?: undefined } | { text: string; record?: undefined };

/**
 * The rows of a Parquet file as a document of records, with edits, undo across saves, backups and
 * atomic, guarded saves. Opening reads the footer only; rows are read when asked for. A save writes
 * a new Parquet file; `saveAs` writes Parquet for a `.parquet` name (the store then moves onto it,
 * unless `rebase: false`), a JSON array for `.json`, JSON Lines otherwise (the store stays on its
 * file). What the two stores share is in storeCore.ts.
 */
export class ParquetStore extends StoreCore<Version> {
  /** What the last save to a Parquet file wrote (its codecs, and those it could not write). */
  lastWrite: ParquetWriteResult | undefined;

  private constructor(path: string, base: Version, maxRetired: number) {
    super(path, base, maxRetired, { one: 'row', many: 'rows' });
  }

  protected recordsOf(b: Version): number {
    return b.src.rowCount;
  }

  /** Opens a Parquet file: reads its footer (schema, row groups, metadata), no rows. */
  static async open(path: string, opts: OpenOptions = {}): Promise<ParquetStore> {
    const base = await openVersion(path);
    const max = opts.maxRetiredBases;
    const store = new ParquetStore(path, base, isInt(max) && max >= 0 ? max : DEFAULT_MAX_RETIRED);
    opts.onProgress?.({ lines: base.src.rowCount, bytes: base.file.fp.size, totalBytes: base.file.fp.size });
    return store;
  }

  /** The row count is in the footer: there is nothing to index. */
  get indexed(): Promise<void> {
    return Promise.resolve();
  }
  get isIndexing(): boolean {
    return false;
  }
  get fileSize(): number {
    return this.base.file.fp.size;
  }
  get hasBom(): boolean {
    return false;
  }
  get containerKind(): 'parquet' {
    return 'parquet';
  }
  /** A save keeps rows (their values), not bytes. */
  get savePreserves(): 'bytes' | 'rows' {
    return 'rows';
  }
  /** Records are written as JSON texts without line endings of their own. */
  get dominantEol(): 'lf' | 'crlf' {
    return 'lf';
  }
  /** The 0-based row of the file on disk that record `i` is, when it is one (not edited or inserted). */
  recordLine(i: number): number | undefined {
    this.checkLine(i);
    const src = this.table.source(i);
    return src.kind === 'original' && src.base === this.base ? src.line : undefined;
  }
  get baseFingerprint(): Fingerprint {
    return { ...this.base.file.fp };
  }

  // ---- reading -------------------------------------------------------------------------------

  async readLine(i: number): Promise<string> {
    this.checkOpen();
    this.checkLine(i);
    return (await this.readLines(i, 1))[0];
  }

  async readLineBytes(i: number): Promise<Buffer> {
    return Buffer.from(await this.readLine(i), 'utf8');
  }

  /** Records `start .. start + count - 1` as JSON texts (fewer at the end); runs of rows are read together. */
  async readLines(start: number, count: number): Promise<string[]> {
    this.checkOpen();
    if (!isInt(start) || !isInt(count) || start < 0 || count < 0) {
      throw new RangeError(`Cannot read ${String(count)} rows from row ${String(start)}.`);
    }
    const end = Math.min(start + count, this.lineCount);
    if (start > end) this.checkLine(start);
    const out: string[] = [];
    let i = start;
    while (i < end) {
      const s = this.table.source(i);
      if (s.kind === 'text') {
        out.push(s.text);
        i++;
        continue;
      }
      let j = i + 1;
      let last = s.line;
      while (j < end) {
        const t = this.table.source(j);
        if (t.kind !== 'original' || t.base !== s.base || t.line !== last + 1) break;
        last++;
        j++;
      }
      for (const r of await s.base.src.rows(s.line, last + 1)) out.push(JSON.stringify(r));
      i = j;
    }
    return out;
  }

  lineInfo(i: number): LineInfo {
    this.checkLine(i);
    const src = this.table.source(i);
    return { eol: 'lf', invalidUtf8: false, edited: src.kind === 'text' || src.base !== this.base };
  }

  // ---- edits ---------------------------------------------------------------------------------

  protected segmentsToPieces(segments: unknown, what: string, restoring = false): Piece<Version>[] {
    if (!Array.isArray(segments)) throw new TypeError(`${what}: "insert" must be an array of segments.`);
    return segments.map((s: unknown, k): Piece<Version> => {
      const seg = s as Partial<Segment> | null;
      if (seg && seg.kind === 'text')
        return { kind: 'text', texts: this.checkTexts(seg.texts, what).slice() };
      if (seg && seg.kind === 'original') return this.originalPiece(seg, k, what, restoring);
      throw new TypeError(`${what}: segment ${k} is neither an "original" nor a "text" segment.`);
    });
  }

  // ---- saving --------------------------------------------------------------------------------

  private async isOwnPath(target: string): Promise<boolean> {
    if (resolvePath(target) === resolvePath(this._path)) return true;
    const st = await stat(target).catch(() => undefined);
    return st !== undefined && st.dev === this.base.file.ident.dev && st.ino === this.base.file.ident.ino;
  }

  /** The document's rows in order: values of original rows (read by row group), texts of edited ones. */
  private async *documentRows(runs: Piece<Version>[]): AsyncGenerator<DocRow> {
    for (const r of runs) {
      if (r.kind === 'text') {
        for (const text of r.texts) yield { text };
        continue;
      }
      const src = r.base.src;
      const end = r.start + r.count;
      for (let a = r.start; a < end;) {
        const g = src.groupOf(a);
        const b = Math.min(end, (src.startOf(g) ?? 0) + src.info.rowGroups[g]);
        for (const record of await src.rows(a, b)) yield { record };
        a = b;
      }
    }
  }

  private async *documentRecords(runs: Piece<Version>[], target: string): AsyncGenerator<ParquetRecord> {
    let row = 0;
    for await (const r of this.documentRows(runs)) {
      if (r.record) yield r.record;
      else {
        let v: unknown;
        try {
          v = JSON.parse(r.text);
        } catch (err) {
          throw new ParquetRecordError(
            row,
            `not valid JSON (${(err as Error).message}); fix or delete it to save "${target}"`,
          );
        }
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          throw new ParquetRecordError(row, 'not a JSON object, so it cannot be a row');
        yield v as ParquetRecord;
      }
      row++;
    }
  }

  /** Writes the document as JSON Lines or a JSON array (one record per line / element). */
  private async writeText(
    out: FileHandle,
    runs: Piece<Version>[],
    kind: 'jsonl' | 'json-array',
  ): Promise<void> {
    const w = BatchedWriter.toFile(out);
    let first = true;
    let row = 0;
    if (kind === 'json-array') await w.write('[');
    for await (const r of this.documentRows(runs)) {
      let text = r.record ? JSON.stringify(r.record) : r.text;
      if (kind === 'json-array') {
        try {
          text = formatElement(text, ARRAY_STYLE);
        } catch {
          throw new ParquetRecordError(row, 'not valid JSON, so it cannot be an element of a JSON array');
        }
        await w.write(`${first ? '\n' : ',\n'}${ARRAY_STYLE.base}${text}`);
      } else {
        // A record text is one line in JSON Lines.
        if (/[\r\n]/.test(text)) text = formatElement(text, COMPACT_STYLE);
        await w.write(`${text}\n`);
      }
      first = false;
      row++;
    }
    if (kind === 'json-array') await w.write(first ? ']\n' : '\n]\n');
    await w.flush();
  }

  protected async saveUnguarded(target: string, opts: SaveOptions, rebase: boolean): Promise<void> {
    const runs = [...this.table.runs()];
    const own = await this.isOwnPath(target);
    const size0 = this.base.file.fp.size;
    // Over its own file, a save must not lose another program's version of it; to another file, the
    // rows it copies from the held-open version must still be the ones that were read.
    const checkSource = async (): Promise<void> => {
      if (own) {
        const d = await this.diskState();
        if (d.change !== 'none' && d.change !== 'touched') throw conflictRefusal(this._path, size0, d);
        return;
      }
      const c = await this.base.file.checkContent();
      if (c.changed.length > 0 || c.size !== size0) {
        throw new SaveRefusedError(
          'unrecoverable',
          this._path,
          `Cannot save "${target}": its rows come from "${this._path}" as it was opened, and another program has changed that file in place since, so they can no longer be read as they were. Nothing was written. Reload it to start from its new content.`,
          false,
        );
      }
    };
    await checkSource();
    const earlier = new Set<Version>();
    for (const r of runs) if (r.kind === 'original' && r.base !== this.base) earlier.add(r.base);
    for (const b of earlier) {
      try {
        await b.file.verify();
      } catch (err) {
        throw new Error(`Cannot save "${target}": ${err instanceof Error ? err.message : String(err)}.`, {
          cause: err,
        });
      }
    }
    const version = this._version;
    const kind = targetKind(target);
    const mode = (await this.base.file.fh.stat()).mode & 0o7777;
    // A row the schema cannot hold fails the write with its row number (atomicWrite says "nothing
    // was written").
    if (kind === 'parquet') {
      this.lastWrite = await writeParquet(
        target,
        this.documentRecords(runs, target),
        layoutOf(this.base.src),
        opts.signal,
        { breakHardLinks: opts.breakHardLinks, beforeRename: checkSource },
      );
    } else {
      await atomicWrite(
        target,
        mode,
        opts.signal,
        async (out) => {
          await this.writeText(out, runs, kind);
          await checkSource();
        },
        undefined,
        { breakHardLinks: opts.breakHardLinks },
      );
    }
    if (!rebase || kind !== 'parquet') return;
    const old = this.base;
    const next = await openVersion(
      target,
      (fp) => {
        let id = baseIdOf(fp);
        // Two versions with the same fingerprint (a coarse clock) must still be told apart.
        for (let k = 2; id === old.id || this.retired.has(id); k++) id = `${baseIdOf(fp)}-${k}`;
        return id;
      },
      true,
    );
    this.base = next;
    this._path = target;
    this.table.reset();
    this.savedVersion = version;
    await this.retire(old);
  }

  protected markRetired(b: Version): void {
    b.file.retired = true;
    b.src.dropCache();
  }

  protected closeBase(b: Version): Promise<void> {
    return b.file.close();
  }

  // ---- backups, reload, external changes ----------------------------------------------------

  /**
   * The edit overlay plus the fingerprint of the file it applies to (no copy of the file). Rows the
   * document shows from an earlier version (after an undo across a save) are kept as their texts.
   */
  async backup(): Promise<StoreBackup> {
    this.checkOpen();
    const segments: StoreBackup['segments'] = [];
    for (const p of this.table.runs()) {
      if (p.kind === 'text') segments.push({ kind: 'text', texts: p.texts.slice() });
      else if (p.base === this.base)
        segments.push({ kind: 'original', start: p.start, count: p.count, base: p.base.id });
      else {
        const rows = await p.base.src.rows(p.start, p.start + p.count);
        segments.push({ kind: 'text', texts: rows.map((r) => JSON.stringify(r)) });
      }
    }
    return {
      format: 'parrot-store-backup',
      version: 1,
      path: this._path,
      fingerprint: { ...this.base.file.fp },
      lineCount: this.lineCount,
      segments,
    };
  }

  /** Opens `path` and re-applies a backup's overlay; fails (applying nothing) when the file changed since. */
  static async restore(path: string, backup: StoreBackup, opts: OpenOptions = {}): Promise<ParquetStore> {
    const b = backup as Partial<StoreBackup> | null;
    if (
      !b ||
      b.format !== 'parrot-store-backup' ||
      b.version !== 1 ||
      !b.fingerprint ||
      !Array.isArray(b.segments)
    ) {
      throw new Error(
        `Cannot restore "${path}": the backup is not a Parrot Studio backup of a Parquet document.`,
      );
    }
    const store = await ParquetStore.open(path, opts);
    try {
      const fp = store.base.file.fp;
      if (!sameFingerprint(fp, b.fingerprint)) {
        throw new Error(
          `Cannot restore the unsaved edits of "${path}": the file changed after the backup was made (${describeFingerprintChange(b.fingerprint, fp)}). The edits were not applied.`,
        );
      }
      store.table.setAll(store.segmentsToPieces(b.segments, 'restore', true));
      store.restored(b.lineCount);
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /** How the file at the path compares with the version the store is based on. */
  async diskState(): Promise<DiskState> {
    this.checkOpen();
    return diskStateOf(this._path, this.base.file);
  }

  /** Drops all edits and re-reads the file from disk; earlier versions kept for undo are released. */
  async reload(opts: OpenOptions = {}): Promise<void> {
    this.checkOpen();
    const next = await openVersion(this._path);
    const old = this.base;
    const retired = [...this.retired.values()];
    this.retired.clear();
    this.base = next;
    this.table.reset();
    this._version++;
    this.savedVersion = this._version;
    opts.onProgress?.({ lines: next.src.rowCount, bytes: next.file.fp.size, totalBytes: next.file.fp.size });
    await old.file.close();
    for (const b of retired) await b.file.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.base.file.close();
    for (const b of this.retired.values()) await b.file.close();
    this.retired.clear();
  }
}
