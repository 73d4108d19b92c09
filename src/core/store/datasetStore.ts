import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { Stats } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import {
  FileBase,
  MemoryBase,
  identityOf,
  readExactly,
  readExactlySync,
  openRegularFile,
  type Base,
  type FileIdentity,
} from './base';
import { SaveRefusedError, explainFsError } from './errors';
import { conflictRefusal, diskStateOf } from './diskState';
import { BlockSums, baseIdOf, describeFingerprintChange, sameFingerprint, sumFile } from './fingerprint';
import {
  AbortedError,
  EOL_MASK,
  EOL_NONE,
  FLAG_EOL_ADDED,
  FLAG_INVALID_UTF8,
  LineIndex,
  eolOf,
  indexBuffer,
} from './lineIndex';
import { parallelIndex } from './containers/splitScan';
import { isInt } from './overlayEdit';
import type { Piece } from './pieces';
import { atomicWrite } from './save';
import { StoreCore } from './storeCore';
import {
  JsonArrayError,
  containerKindFor,
  containerOf,
  type Container,
  type ContainerKind,
} from './containers';
import type {
  BackupSegment,
  DiskState,
  EmbeddedSegment,
  Eol,
  Fingerprint,
  LineInfo,
  OpenOptions,
  SaveOptions,
  Segment,
  StoreBackup,
} from './types';

const DEFAULT_CHUNK = 4 * 1024 * 1024;
/** Consecutive original lines up to this many bytes are fetched with one read by `readLines`. */
const MAX_BATCH_READ = 8 * 1024 * 1024;
const CACHE_ENTRIES = 512;
const CACHE_CHARS = 32 * 1024 * 1024;
const CACHE_MAX_LINE = 1024 * 1024;
/** Earlier file versions kept readable after saves (for undo across a save), at most. */
const DEFAULT_MAX_RETIRED = 8;
/** A save starts from a copy of the file when at least this many leading bytes are unchanged. */
const SEED_MIN_BYTES = 4 * 1024 * 1024;

/** A small LRU cache of decoded original lines, keyed by original line index. */
class LineCache {
  private map = new Map<number, string>();
  private chars = 0;
  get(k: number): string | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: number, v: string): void {
    if (v.length > CACHE_MAX_LINE || this.map.has(k)) return;
    this.map.set(k, v);
    this.chars += v.length;
    while (this.map.size > CACHE_ENTRIES || this.chars > CACHE_CHARS) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.chars -= this.map.get(oldest.value)?.length ?? 0;
      this.map.delete(oldest.value);
    }
  }
  clear(): void {
    this.map.clear();
    this.chars = 0;
  }
}

interface Waiter {
  lines: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * A line-oriented view of a (possibly huge) text file: a streaming line index, reads by offset,
 * an edit overlay with exact inverses, atomic saves and overlay backups.
 *
 * Line `i` is record `i`. Line texts never include their line ending; the UTF-8 BOM is not part of
 * line 0's text but is written back on save.
 * What it shares with the Parquet store (the overlay, versions, save guard, retired versions) is in
 * storeCore.ts.
 */
export class DatasetStore extends StoreCore<Base, FileBase> {
  private cache = new LineCache();
  private _indexed: Promise<void> = Promise.resolve();
  private indexing = false;
  private indexError: unknown;
  private waiters: Waiter[] = [];
  private _hasBom: boolean;

  private abortIndexing: AbortController | undefined;

  private constructor(
    path: string,
    fh: FileHandle,
    fp: Fingerprint,
    ident: FileIdentity,
    hasBom: boolean,
    maxRetired: number,
    private readonly container: Container,
  ) {
    super(
      path,
      new FileBase(baseIdOf(fp), fh, fp, container.newIndex(hasBom ? 3 : 0), path, ident),
      maxRetired,
      { one: 'line', many: 'lines' },
    );
    this._hasBom = hasBom;
  }

  protected recordsOf(b: Base): number {
    return b.index.count;
  }

  /** Opens a file and starts indexing it; resolves as soon as the first lines can be read. */
  static async open(path: string, opts: OpenOptions = {}): Promise<DatasetStore> {
    const { fh, fp, ident, hasBom } = await DatasetStore.openFile(path);
    const max = opts.maxRetiredBases;
    const store = new DatasetStore(
      path,
      fh,
      fp,
      ident,
      hasBom,
      isInt(max) && max >= 0 ? max : DEFAULT_MAX_RETIRED,
      containerOf(opts.container ?? containerKindFor(path)),
    );
    store.startIndexing(opts);
    return store;
  }

  private get index(): LineIndex {
    return this.base.index;
  }
  private get fp(): Fingerprint {
    return this.base.fp;
  }

  private static async openFile(
    path: string,
  ): Promise<{ fh: FileHandle; fp: Fingerprint; ident: FileIdentity; hasBom: boolean }> {
    const { fh, st, fp } = await openRegularFile(path);
    try {
      const head = Buffer.alloc(3);
      const { bytesRead } = await fh.read(head, 0, 3, 0);
      const hasBom = bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
      return { fh, fp, ident: identityOf(st), hasBom };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  private startIndexing(opts: OpenOptions): void {
    const ctl = new AbortController();
    this.abortIndexing = ctl;
    const outer = opts.signal;
    const onAbort = () => ctl.abort();
    if (outer) {
      if (outer.aborted) ctl.abort();
      else outer.addEventListener('abort', onAbort, { once: true });
    }
    const index = this.index;
    const total = this.fp.size;
    this.indexing = true;
    this.indexError = undefined;
    // The content checksums are computed from the very bytes the scan indexes.
    const sums = new BlockSums();
    if (index.bomLength > 0) sums.feed(Buffer.from([0xef, 0xbb, 0xbf]));
    const startedMs = Date.now();
    this._indexed = this.container
      .scan(this.base.fh, index, index.bomLength, total, {
        chunkSize: opts.chunkSize ?? DEFAULT_CHUNK,
        signal: ctl.signal,
        checksums: sums,
        parallel: parallelIndex(opts.indexWorker),
        onChunk: (bytes) => {
          opts.onProgress?.({ lines: index.count, bytes, totalBytes: total });
          this.wakeWaiters();
        },
      })
      .then(
        () => {
          outer?.removeEventListener('abort', onAbort);
          if (this.index !== index) return;
          this.indexing = false;
          opts.onProgress?.({ lines: index.count, bytes: total, totalBytes: total });
          this.wakeWaiters();
        },
        (err: unknown) => {
          outer?.removeEventListener('abort', onAbort);
          if (this.index !== index) return;
          this.indexing = false;
          this.indexError =
            err instanceof AbortedError
              ? err
              : err instanceof JsonArrayError
                ? Object.assign(new Error(`Cannot open "${this._path}" as a dataset: ${err.message}.`), {
                    line: err.line,
                    column: err.column,
                    reason: err.reason,
                  })
                : new Error(`Could not index "${this._path}": ${explainFsError(err, this._path)}.`);
          this.wakeWaiters();
          throw this.indexError;
        },
      );
    this._indexed.catch(() => undefined); // callers that care await `indexed`
    this.base.provideSums(
      this._indexed.then(() => sums.finish()),
      startedMs,
      false,
      this._indexed.then(() => sums.ends()),
    );
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    const n = this.lineCount;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.lines <= n || !this.indexing) {
        if (w.lines <= n || this.indexError === undefined) w.resolve();
        else w.reject(this.indexError);
      } else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Resolves once at least `lines` lines are known or indexing has ended. */
  private waitForLines(lines: number): Promise<void> {
    if (!this.indexing || lines <= this.lineCount) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ lines, resolve, reject }));
  }

  /** Resolves when the full index is built (rejects when indexing failed or was cancelled). */
  get indexed(): Promise<void> {
    return this._indexed;
  }
  get isIndexing(): boolean {
    return this.indexing;
  }
  /** Bytes of the file on disk the store is based on. */
  get fileSize(): number {
    return this.fp.size;
  }
  get hasBom(): boolean {
    return this._hasBom;
  }
  /** The kind of file the records are read from (JSON Lines or a JSON array). */
  get containerKind(): ContainerKind {
    return this.container.kind;
  }
  /** What a save keeps of the records nobody edited (`bytes`: their exact bytes). */
  get savePreserves(): 'bytes' | 'rows' {
    return this.container.preserves;
  }
  /**
   * The 0-based line of the file on disk that record `i` starts on, when the record is one of the
   * file's as it is on disk (undefined for an edited or inserted record).
   */
  recordLine(i: number): number | undefined {
    this.checkLine(i);
    const src = this.table.source(i);
    if (src.kind !== 'original' || src.base !== this.base) return undefined;
    return this.index.startLines ? this.index.startLines[src.line] : src.line;
  }
  /** The line ending of most lines (LF on a tie or without line endings); used for new lines. */
  get dominantEol(): 'lf' | 'crlf' {
    return this.index.dominantEol;
  }

  /** Raw bytes of line `line` of `base`, without its line ending. */
  private async readOriginalBytes(base: Base, line: number): Promise<Buffer> {
    const start = base.index.start(line);
    return readExactly(base, start, base.index.contentEnd(line) - start);
  }

  private async readOriginalText(base: Base, line: number): Promise<string> {
    if (base !== this.base) return (await this.readOriginalBytes(base, line)).toString('utf8');
    const cached = this.cache.get(line);
    if (cached !== undefined) return cached;
    const text = (await this.readOriginalBytes(base, line)).toString('utf8');
    this.cache.set(line, text);
    return text;
  }

  /** The text of line `i` (waits for the index to reach it while indexing). */
  async readLine(i: number): Promise<string> {
    this.checkOpen();
    if (isInt(i) && i >= this.lineCount) await this.waitForLines(i + 1);
    this.checkLine(i);
    const src = this.table.source(i);
    return src.kind === 'text' ? src.text : this.readOriginalText(src.base, src.line);
  }

  /** The bytes of line `i` without its line ending (new texts are UTF-8 encoded). */
  async readLineBytes(i: number): Promise<Buffer> {
    this.checkOpen();
    if (isInt(i) && i >= this.lineCount) await this.waitForLines(i + 1);
    this.checkLine(i);
    const src = this.table.source(i);
    return src.kind === 'text' ? Buffer.from(src.text, 'utf8') : this.readOriginalBytes(src.base, src.line);
  }

  /**
   * Lines `start .. start + count - 1`, fewer when the document ends earlier. Neighbouring original
   * lines are fetched with one read.
   */
  async readLines(start: number, count: number): Promise<string[]> {
    this.checkOpen();
    if (!isInt(start) || !isInt(count) || start < 0 || count < 0) {
      throw new RangeError(`Cannot read ${String(count)} lines from line ${String(start)}.`);
    }
    await this.waitForLines(start + count);
    const end = Math.min(start + count, this.lineCount);
    if (start > end) this.checkLine(start);
    const out: string[] = [];
    let i = start;
    while (i < end) {
      const src = this.table.source(i);
      if (src.kind === 'text') {
        out.push(src.text);
        i++;
        continue;
      }
      const base = src.base;
      const current = base === this.base;
      const cached = current ? this.cache.get(src.line) : undefined;
      if (cached !== undefined) {
        out.push(cached);
        i++;
        continue;
      }
      // Extend over following lines that continue the same original run and are not cached.
      const index = base.index;
      let j = i + 1;
      let last = src.line;
      const from = index.start(src.line);
      while (j < end) {
        const s = this.table.source(j);
        if (s.kind !== 'original' || s.base !== base || s.line !== last + 1) break;
        if (index.end(s.line) - from > MAX_BATCH_READ) break;
        last = s.line;
        j++;
      }
      const bytes = await readExactly(base, from, index.contentEnd(last) - from);
      for (let l = src.line; l <= last; l++) {
        const text = bytes.toString('utf8', index.start(l) - from, index.contentEnd(l) - from);
        if (current) this.cache.set(l, text);
        out.push(text);
      }
      i = j;
    }
    return out;
  }

  /** Line ending (as it will be saved), UTF-8 validity and origin of line `i`. */
  lineInfo(i: number): LineInfo {
    this.checkLine(i);
    const src = this.table.source(i);
    const last = i === this.lineCount - 1 && !this.indexing;
    if (src.kind === 'text') {
      const eol: Eol = last && !this.index.finalNewline ? 'none' : this.dominantEol;
      return { eol, invalidUtf8: false, edited: true };
    }
    const index = src.base.index;
    const flag = index.flag(src.line);
    const own = (flag & FLAG_EOL_ADDED) !== 0 ? 'none' : eolOf(flag);
    return {
      eol: own === 'none' && !last ? this.dominantEol : own,
      invalidUtf8: (flag & FLAG_INVALID_UTF8) !== 0,
      // A line of an earlier version (brought back by undo after a save) is not on disk any more.
      edited: src.base !== this.base,
      byteLength: index.contentEnd(src.line) - index.start(src.line),
    };
  }

  // ---- edits ---------------------------------------------------------------------------------

  protected override checkText(text: string, what: string, k: number): void {
    this.container.checkText(text, what, k);
  }

  protected override checkRange(what: string, index: unknown, count: unknown, allowEnd: boolean): void {
    super.checkRange(what, index, count, allowEnd);
    // While indexing, the end of the document is not known yet.
    if (this.indexing && (index as number) + Math.max(count as number, 1) >= this.lineCount) {
      throw new Error(
        `${what}: the end of "${this._path}" is still being indexed; try again when indexing is done.`,
      );
    }
  }

  protected segmentsToPieces(segments: unknown, what: string, embedded?: Map<string, Base>): Piece<Base>[] {
    if (!Array.isArray(segments)) throw new TypeError(`${what}: "insert" must be an array of segments.`);
    return segments.map((s: unknown, k): Piece<Base> => {
      const seg = s as Partial<Segment> | null;
      if (seg && seg.kind === 'text')
        return { kind: 'text', texts: this.checkTexts(seg.texts, what).slice() };
      if (embedded && seg && (seg as { kind?: unknown }).kind === 'embedded') {
        const base = embeddedBase(seg as Partial<EmbeddedSegment>, `${what}: segment ${k}`);
        embedded.set(base.id, base);
        return { kind: 'original', base, start: 0, count: base.index.count };
      }
      if (seg && seg.kind === 'original') return this.originalPiece(seg, k, what, embedded !== undefined);
      throw new TypeError(`${what}: segment ${k} is neither an "original" nor a "text" segment.`);
    });
  }

  protected override checkMoveTarget(to: number, count: number): void {
    if (this.indexing && to + count >= this.lineCount) {
      throw new Error(
        `move: the end of "${this._path}" is still being indexed; try again when indexing is done.`,
      );
    }
  }

  // ---- saving --------------------------------------------------------------------------------

  /** Byte ranges of the current version that the document still shows (and a save copies). */
  private neededRanges(runs: Piece<Base>[]): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const r of runs) {
      if (r.kind === 'original' && r.base === this.base) {
        out.push([this.index.start(r.start), this.index.end(r.start + r.count - 1)]);
      }
    }
    return out;
  }

  /** True when `target` is the store's own file (the same path, or another name of the same file). */
  private async isOwnPath(target: string): Promise<boolean> {
    if (resolvePath(target) === resolvePath(this._path)) return true;
    const st = await stat(target).catch(() => undefined);
    return st !== undefined && st.dev === this.base.ident.dev && st.ino === this.base.ident.ino;
  }

  /** A refusal to save over a file that another program changed, in words. */
  private conflict(d: DiskState): SaveRefusedError {
    return conflictRefusal(this._path, this.fp.size, d);
  }

  /** A refusal to write lines of the opened version that another program has overwritten since. */
  private unrecoverable(
    target: string,
    changed: Array<[number, number]>,
    runs: Piece<Base>[],
  ): SaveRefusedError {
    const index = this.index;
    let doc = 0;
    let first = -1;
    let last = -1;
    let count = 0;
    for (const r of runs) {
      const n = r.kind === 'original' ? r.count : r.texts.length;
      if (r.kind === 'original' && r.base === this.base) {
        for (let l = r.start; l < r.start + r.count; l++) {
          const a = index.start(l);
          const b = index.end(l);
          if (changed.some(([x, y]) => x < b && a < y)) {
            const line = doc + (l - r.start);
            if (first < 0) first = line;
            last = line;
            count++;
          }
        }
      }
      doc += n;
    }
    const lines = count === 1 ? `line ${first + 1}` : `${count} lines (from ${first + 1} to ${last + 1})`;
    return new SaveRefusedError(
      'unrecoverable',
      this._path,
      `Cannot save "${target}": ${lines} of the document come from "${this._path}" as it was opened, and another program has overwritten them there since (the file was changed in place), so they can no longer be read as they were. Nothing was written. Every other line can still be saved: delete or retype those lines, or reload.`,
      false,
      { first, last, count },
    );
  }

  /**
   * How the file at the store's path compares with the version the store is based on: the same file
   * (device and inode), and the same bytes (size, and the checksums of its blocks; a touch that
   * changed only the times is "touched"). While indexing, only size and times are compared.
   */
  async diskState(): Promise<DiskState> {
    this.checkOpen();
    return diskStateOf(this._path, this.base, this.indexing);
  }

  protected async saveUnguarded(target: string, opts: SaveOptions, rebase: boolean): Promise<void> {
    if (this.indexing) await this._indexed;
    if (this.indexError !== undefined) {
      throw new Error(`Cannot save "${target}": the file was not fully indexed, so not all of it is known.`);
    }
    const runs = [...this.table.runs()];
    const own = await this.isOwnPath(target);
    const needed = this.neededRanges(runs);
    // Over its own file, a save must not lose another program's version of it; to another file, the
    // bytes it copies from the held-open version must still be the ones that were read.
    const checkSource = async (): Promise<void> => {
      if (own) {
        const d = await this.diskState();
        if (d.change !== 'none' && d.change !== 'touched') throw this.conflict(d);
      } else {
        const c = await this.base.checkContent(needed);
        if (c.changed.length > 0) throw this.unrecoverable(target, c.changed, runs);
      }
    };
    await checkSource();
    // Lines brought back from earlier versions (undo across a save) are copied from those versions.
    const earlier = new Set<Base>();
    for (const r of runs) if (r.kind === 'original' && r.base !== this.base) earlier.add(r.base);
    for (const b of earlier) {
      try {
        await b.verify();
      } catch (err) {
        throw new Error(`Cannot save "${target}": ${err instanceof Error ? err.message : String(err)}.`, {
          cause: err,
        });
      }
    }
    const st = await this.base.fh.stat();
    const version = this._version;
    const lineCount = this.lineCount;
    // When a long stretch at the start is unchanged, the temporary file starts as a copy of the file
    // (a clone, where the file system can) and only the rest is written. An unchanged run of n lines
    // at the start keeps n - 1 of them, so that the run's last line is written with the usual care.
    const first = runs[0];
    const prefixLines =
      first?.kind === 'original' && first.base === this.base && first.start === 0 ? first.count - 1 : 0;
    const prefixBytes = prefixLines > 0 ? this.index.end(prefixLines - 1) : 0;
    const seed =
      prefixBytes >= SEED_MIN_BYTES
        ? { from: this.base.path, reflinkOnly: prefixBytes < this.fp.size / 2 }
        : undefined;
    const sameFile = (a: Stats, b: Stats) =>
      a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs;
    const newIndex = await atomicWrite(
      target,
      st.mode & 0o7777,
      opts.signal,
      async (out, seeded) => {
        let keep = 0;
        if (seeded) {
          // The copy was made by path: it holds our bytes only if the path still names our file.
          const now = await stat(this.base.path).catch(() => undefined);
          const copied = await out.stat();
          if (now && sameFile(now, st) && copied.size === st.size) keep = prefixLines;
          await out.truncate(keep > 0 ? prefixBytes : 0);
        }
        const written = await this.container.write(out, {
          index: this.index,
          base: this.base,
          baseSize: this.fp.size,
          runs,
          lineCount,
          hasBom: this._hasBom,
          prefixLines: keep,
          signal: opts.signal,
          onProgress: opts.onProgress,
          totalBytes: this.fp.size,
        });
        // Another program may have changed the file while it was copied: check again before the
        // rename (quick when its size and times did not move).
        const after = await this.base.fh.stat();
        if (after.size !== st.size || after.mtimeMs !== st.mtimeMs || after.ctimeMs !== st.ctimeMs) {
          await checkSource();
        } else if (own) {
          const now = await stat(this._path).catch(() => undefined);
          if (!now || now.dev !== st.dev || now.ino !== st.ino) {
            throw this.conflict({ change: now ? 'replaced' : 'deleted', size: now?.size });
          }
        }
        return written;
      },
      seed,
      { breakHardLinks: opts.breakHardLinks },
    );
    if (!rebase) return;
    // Re-base on the new file: the index was computed from what we wrote.
    const readMs = Date.now();
    const { fh, fp, ident } = await DatasetStore.openFile(target);
    const old = this.base;
    let id = baseIdOf(fp);
    // Two versions with the same fingerprint (a coarse clock) must still be told apart.
    for (let k = 2; id === old.id || this.retired.has(id); k++) id = `${baseIdOf(fp)}-${k}`;
    this.base = new FileBase(id, fh, fp, newIndex, target, ident);
    // The checksums of what was written are read back in the background.
    const read = sumFile(fh, fp.size);
    this.base.provideSums(
      read.then((r) => r.finish()),
      readMs,
      true,
      read.then((r) => r.ends()),
    );
    for (let l = 0; l < newIndex.count; l++) {
      if ((newIndex.flags[l] & FLAG_EOL_ADDED) !== 0) this.base.eolAdded.push(l);
    }
    this._path = target;
    this.table.reset();
    this.cache.clear();
    this.savedVersion = version;
    await this.retire(old);
  }

  protected markRetired(b: Base): void {
    if (b instanceof FileBase) b.retired = true;
  }

  protected closeBase(b: Base): Promise<void> {
    return b.close();
  }

  // ---- backups, reload, external changes ----------------------------------------------------

  /** The texts of records `start .. start + count - 1` of an earlier version (read now, synchronously). */
  private readTextsSync(base: Base, start: number, count: number): string[] {
    const out: string[] = [];
    for (let l = start; l < start + count; l++) {
      const from = base.index.start(l);
      out.push(readExactlySync(base, from, base.index.contentEnd(l) - from).toString('utf8'));
    }
    return out;
  }

  /** Embeds lines `start .. start + count - 1` of an earlier version (read now, synchronously). */
  private embed(base: Base, start: number, count: number): EmbeddedSegment {
    const index = base.index;
    const from = index.start(start);
    const bytes = readExactlySync(base, from, index.end(start + count - 1) - from);
    const valid = isUtf8(bytes);
    const seg: EmbeddedSegment = {
      kind: 'embedded',
      count,
      encoding: valid ? 'utf8' : 'base64',
      data: bytes.toString(valid ? 'utf8' : 'base64'),
    };
    const added: number[] = [];
    for (let l = 0; l < count; l++) if ((index.flag(start + l) & FLAG_EOL_ADDED) !== 0) added.push(l);
    if (added.length > 0) seg.eolAdded = added;
    return seg;
  }

  /**
   * The edit overlay plus the fingerprint of the file it applies to (no copy of the file). Lines
   * that the document shows from an earlier version of the file (after an undo across a save) are
   * embedded, since that version is gone after a restart.
   */
  backup(): StoreBackup {
    this.checkOpen();
    const segments: BackupSegment[] = [];
    let embedded = false;
    for (const p of this.table.runs()) {
      if (p.kind === 'text') segments.push({ kind: 'text', texts: p.texts.slice() });
      else if (p.base === this.base)
        segments.push({ kind: 'original', start: p.start, count: p.count, base: p.base.id });
      else if (this.index.ranged) {
        // Elements of an earlier version: kept as their texts (written in the file's style on save).
        segments.push({ kind: 'text', texts: this.readTextsSync(p.base, p.start, p.count) });
      } else {
        segments.push(this.embed(p.base, p.start, p.count));
        embedded = true;
      }
    }
    const backup: StoreBackup = {
      format: 'parrot-store-backup',
      version: 1,
      path: this._path,
      fingerprint: { ...this.fp },
      lineCount: this.indexing ? -1 : this.lineCount,
      segments,
    };
    if (this.base.eolAdded.length > 0) backup.eolAdded = this.base.eolAdded.slice();
    if (embedded || backup.eolAdded) backup.version = 2;
    if (this.indexing) {
      // The last original run continues to the end of the file, which is not known yet.
      const last = segments[segments.length - 1];
      if (last && last.kind === 'original' && last.start + last.count === this.index.count) {
        segments.pop();
        backup.tailFrom = last.start;
      } else backup.tailFrom = this.index.count;
    }
    return backup;
  }

  /**
   * Opens `path` and re-applies a backup's overlay. Fails (without applying anything) when the file
   * no longer matches the backup's fingerprint.
   */
  static async restore(path: string, backup: StoreBackup, opts: OpenOptions = {}): Promise<DatasetStore> {
    const b = backup as Partial<StoreBackup> | null;
    if (
      !b ||
      b.format !== 'parrot-store-backup' ||
      (b.version !== 1 && b.version !== 2) ||
      !b.fingerprint ||
      !Array.isArray(b.segments)
    ) {
      throw new Error(
        `Cannot restore "${path}": the backup is not a Parrot Studio store backup (version 1 or 2).`,
      );
    }
    const store = await DatasetStore.open(path, opts);
    try {
      if (!sameFingerprint(store.fp, b.fingerprint)) {
        throw new Error(
          `Cannot restore the unsaved edits of "${path}": the file changed after the backup was made (${describeFingerprintChange(b.fingerprint, store.fp)}). The edits were not applied.`,
        );
      }
      await store.indexed;
      const index = store.index;
      if (b.eolAdded !== undefined) {
        if (!Array.isArray(b.eolAdded))
          throw new Error(`Cannot restore "${path}": "eolAdded" is not a list.`);
        for (const l of b.eolAdded) {
          if (!isInt(l) || l < 0 || l >= index.count) {
            throw new Error(`Cannot restore "${path}": the backup refers to lines the file does not have.`);
          }
          if ((index.flags[l] & EOL_MASK) !== EOL_NONE) {
            index.flags[l] |= FLAG_EOL_ADDED;
            store.base.eolAdded.push(l);
          }
        }
      }
      const embedded = new Map<string, Base>();
      const pieces = store.segmentsToPieces(b.segments, 'restore', embedded);
      for (const [id, base] of embedded) store.retired.set(id, base);
      if (b.tailFrom !== undefined) {
        if (!isInt(b.tailFrom) || b.tailFrom < 0 || b.tailFrom > index.count) {
          throw new Error(`Cannot restore "${path}": the backup refers to lines the file does not have.`);
        }
        pieces.push({
          kind: 'original',
          base: store.base,
          start: b.tailFrom,
          count: index.count - b.tailFrom,
        });
      }
      store.table.setAll(pieces);
      store.restored(b.lineCount);
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /** The fingerprint of the file version the store is based on. */
  get baseFingerprint(): Fingerprint {
    return { ...this.fp };
  }

  /**
   * Drops all edits and re-reads the file from disk (indexing restarts; await `indexed`). Earlier
   * versions kept for undo are released too: edits made before the reload no longer apply.
   */
  async reload(opts: OpenOptions = {}): Promise<void> {
    this.checkOpen();
    this.abortIndexing?.abort();
    const { fh, fp, ident, hasBom } = await DatasetStore.openFile(this._path);
    const old = this.base;
    const retired = [...this.retired.values()];
    this.retired.clear();
    this._hasBom = hasBom;
    this.base = new FileBase(
      baseIdOf(fp),
      fh,
      fp,
      this.container.newIndex(hasBom ? 3 : 0),
      this._path,
      ident,
    );
    this.table.reset();
    this.cache.clear();
    this._version++;
    this.savedVersion = this._version;
    for (const w of this.waiters) w.reject(new Error(`"${this._path}" was reloaded.`));
    this.waiters = [];
    this.startIndexing(opts);
    await old.close();
    for (const b of retired) await b.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abortIndexing?.abort();
    for (const w of this.waiters) w.reject(new Error(`The store for "${this._path}" was closed.`));
    this.waiters = [];
    await this._indexed.catch(() => undefined);
    await this.base.close();
    for (const b of this.retired.values()) await b.close();
    this.retired.clear();
  }
}

/** Turns an embedded backup segment back into lines held in memory. */
function embeddedBase(seg: Partial<EmbeddedSegment>, what: string): MemoryBase {
  const { count, encoding, data, eolAdded } = seg;
  if (
    !isInt(count) ||
    count <= 0 ||
    typeof data !== 'string' ||
    (encoding !== 'utf8' && encoding !== 'base64')
  ) {
    throw new TypeError(`${what} is not a valid embedded segment.`);
  }
  const buf = Buffer.from(data, encoding);
  const index = indexBuffer(buf);
  if (index.count !== count) {
    throw new Error(`${what} should hold ${count} lines but holds ${index.count}.`);
  }
  for (const l of eolAdded ?? []) {
    if (!isInt(l) || l < 0 || l >= count || (index.flags[l] & EOL_MASK) === EOL_NONE) {
      throw new Error(`${what} marks a line ending that does not exist.`);
    }
    index.flags[l] |= FLAG_EOL_ADDED;
  }
  return new MemoryBase(`embedded-${randomBytes(8).toString('hex')}`, buf, index);
}
