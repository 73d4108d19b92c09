import { constants } from 'node:fs';
import {
  access,
  copyFile,
  lstat,
  open,
  readdir,
  realpath,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SaveRefusedError, explainFsError } from './errors';
import type { Base } from './base';
import { AbortedError, EOL_CRLF, EOL_LF, EOL_MASK, EOL_NONE, FLAG_EOL_ADDED, LineIndex } from './lineIndex';
import type { Piece } from './pieces';
import type { StoreProgress } from './types';

const WRITE_BUFFER = 8 * 1024 * 1024;
/** Buffers in rotation: one is filled while up to two are being written. */
const BUFFERS = 3;
/**
 * Long runs of untouched bytes are copied by LANES reads and writes in flight, of COPY_CHUNK bytes
 * each: a chunk stays in the CPU cache between its read and its write. Copying through the 8 MiB
 * write buffers instead measured 1.0x-5x a kernel copy from run to run here; these chunks ~1.35x.
 */
const COPY_CHUNK = 256 * 1024;
const LANES = 8;
const LONG_COPY = 4 * 1024 * 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Writes `length` bytes of `buf` at `position`, however many write calls that takes. */
async function writeAll(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error('the disk accepted no more data');
    done += bytesWritten;
  }
}

/**
 * Buffered writer with three big buffers in rotation: one is filled (by positioned reads of the
 * source straight into it, or by encoding new text) while the others are being written, so reads
 * and writes overlap.
 */
export class Writer {
  private readonly bufs = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafe(WRITE_BUFFER));
  /** The write of each buffer that may still be running. */
  private readonly pending: Promise<void>[] = Array.from({ length: BUFFERS }, () => Promise.resolve());
  private cur = 0;
  private len = 0;
  /** File position of the first byte of the current buffer. */
  private filePos: number;

  constructor(
    private readonly fh: FileHandle,
    private readonly signal: AbortSignal | undefined,
    private readonly onFlush: (bytes: number) => void,
    startAt = 0,
  ) {
    this.filePos = startAt;
  }

  get position(): number {
    return this.filePos + this.len;
  }

  private async flush(): Promise<void> {
    if (this.signal?.aborted) throw new AbortedError('Saving');
    if (this.len === 0) return;
    const k = this.cur;
    const write = writeAll(this.fh, this.bufs[k], this.len, this.filePos);
    write.catch(() => undefined); // observed when the buffer is reused, or by finish
    this.pending[k] = write;
    this.filePos += this.len;
    this.len = 0;
    this.cur = (k + 1) % BUFFERS;
    this.onFlush(this.filePos);
    await this.pending[this.cur]; // the next buffer must be written out before it is refilled
  }

  private async drain(): Promise<void> {
    for (const p of this.pending) await p;
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.drain();
  }

  async put(b: Buffer): Promise<void> {
    if (this.len + b.length > WRITE_BUFFER) await this.flush();
    if (b.length > WRITE_BUFFER) {
      await this.drain();
      await writeAll(this.fh, b, b.length, this.filePos);
      this.filePos += b.length;
      return;
    }
    b.copy(this.bufs[this.cur], this.len);
    this.len += b.length;
  }

  /**
   * A long copy, written in place at the output position chunk by chunk, LANES chunks at a time. A
   * lane that fails stops the others before their next operation, and all have settled on return,
   * so no read or write is left running on a handle the caller is about to close.
   */
  private async copyLong(src: Base, start: number, end: number): Promise<void> {
    await this.flush();
    await this.drain();
    const to = this.filePos - start;
    let next = start;
    let done = 0; // bytes copied, for progress (chunks finish in any order)
    let failure: { error: unknown } | undefined;
    const lane = async (): Promise<void> => {
      const buf = Buffer.allocUnsafe(COPY_CHUNK);
      try {
        while (next < end && !failure) {
          if (this.signal?.aborted) throw new AbortedError('Saving');
          const from = next;
          const len = Math.min(COPY_CHUNK, end - from);
          next += len;
          for (let got = 0; got < len;) {
            const n = await src.read(buf, got, len - got, from + got);
            if (n <= 0) throw new Error(`${src.describe} is shorter than expected (was it changed on disk?)`);
            got += n;
          }
          await writeAll(this.fh, buf, len, to + from);
          done += len;
          if (done % WRITE_BUFFER < COPY_CHUNK) this.onFlush(to + start + done);
        }
      } catch (error) {
        failure ??= { error };
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    if (failure) throw failure.error;
    this.filePos = to + end;
    this.onFlush(this.filePos);
  }

  async putText(text: string, eol: Buffer | undefined): Promise<void> {
    const n = Buffer.byteLength(text, 'utf8') + (eol ? eol.length : 0);
    if (n > WRITE_BUFFER / 2) {
      await this.put(Buffer.from(text, 'utf8'));
      if (eol) await this.put(eol);
      return;
    }
    if (this.len + n > WRITE_BUFFER) await this.flush();
    const buf = this.bufs[this.cur];
    this.len += buf.write(text, this.len, 'utf8');
    if (eol) {
      eol.copy(buf, this.len);
      this.len += eol.length;
    }
  }

  /** Copies bytes `[start, end)` of `src` into the output. */
  async copy(src: Base, start: number, end: number): Promise<void> {
    if (end - start >= LONG_COPY) return this.copyLong(src, start, end);
    // Straight into the write buffers.
    while (start < end) {
      if (this.len === WRITE_BUFFER) await this.flush();
      const n = Math.min(WRITE_BUFFER - this.len, end - start);
      const bytesRead = await src.read(this.bufs[this.cur], this.len, n, start);
      if (bytesRead <= 0)
        throw new Error(`${src.describe} is shorter than expected (was it changed on disk?)`);
      this.len += bytesRead;
      start += bytesRead;
    }
  }
}

export interface WriteInput {
  /** The index of the current base: its dominant line ending and final newline apply to new lines. */
  index: LineIndex;
  /** The current base and its size (what lies before and after the records is read from it). */
  base: Base;
  baseSize: number;
  runs: Iterable<Piece<Base>>;
  /**
   * The output file already holds this many leading lines of the first run (copied or cloned from
   * the current base, BOM included); writing starts right after them.
   */
  prefixLines?: number;
  lineCount: number;
  hasBom: boolean;
  signal?: AbortSignal;
  onProgress?: (p: StoreProgress) => void;
  /** Estimated output size for progress reports. */
  totalBytes: number;
}

/**
 * Writes the document (original byte ranges + new texts) to `out` and returns the line index of
 * what was written, computed from the lengths written (no re-read needed).
 */
export async function writeDocument(out: FileHandle, input: WriteInput): Promise<LineIndex> {
  const { index, hasBom, lineCount } = input;
  const dominant = index.dominantEol;
  const domFlag = dominant === 'crlf' ? EOL_CRLF : EOL_LF;
  const domBytes = Buffer.from(dominant === 'crlf' ? '\r\n' : '\n');
  const finalNewline = index.finalNewline;
  const newIndex = new LineIndex(hasBom ? BOM.length : 0, lineCount);
  let linesDone = 0;
  let runs = input.runs;
  let startAt = 0;
  const prefix = input.prefixLines ?? 0;
  if (prefix > 0) {
    const [first, ...rest] = [...runs];
    if (first?.kind !== 'original' || first.start !== 0 || first.count <= prefix) {
      throw new Error('the prefix to keep is not the start of the document');
    }
    startAt = index.end(prefix - 1);
    newIndex.pushRun(first.base.index, 0, prefix - 1, 0);
    runs = [{ ...first, start: prefix, count: first.count - prefix }, ...rest];
  }
  const w = new Writer(
    out,
    input.signal,
    (bytes) => input.onProgress?.({ lines: linesDone, bytes, totalBytes: input.totalBytes }),
    startAt,
  );
  if (hasBom && prefix === 0) await w.put(BOM);
  let docLine = prefix;
  for (const run of runs) {
    if (run.kind === 'original') {
      // One coalesced copy for the whole run of untouched lines, line endings included.
      const src = run.base.index;
      const first = run.start;
      const lastLine = run.start + run.count - 1;
      const lastFlag = src.flag(lastLine);
      docLine += run.count;
      const isLast = docLine === lineCount;
      const from = src.start(first);
      const delta = w.position - from;
      if (isLast && (lastFlag & FLAG_EOL_ADDED) !== 0) {
        // The line had no ending of its own and is the last line again: it is written without one.
        await w.copy(run.base, from, src.contentEnd(lastLine));
        newIndex.pushRun(src, first, lastLine - 1, delta);
        newIndex.push(w.position, lastFlag & ~(EOL_MASK | FLAG_EOL_ADDED));
      } else {
        await w.copy(run.base, from, src.end(lastLine));
        newIndex.pushRun(src, first, lastLine, delta);
        if ((lastFlag & EOL_MASK) === EOL_NONE && !isLast) {
          // A last line without newline that is no longer last gets the dominant ending.
          await w.put(domBytes);
          newIndex.count--;
          newIndex.push(w.position, (lastFlag & ~EOL_MASK) | domFlag | FLAG_EOL_ADDED);
        }
      }
    } else {
      for (const text of run.texts) {
        docLine++;
        const last = docLine === lineCount;
        const withEol = !last || finalNewline;
        await w.putText(text, withEol ? domBytes : undefined);
        newIndex.push(w.position, withEol ? domFlag : EOL_NONE);
      }
    }
    linesDone = docLine;
  }
  await w.finish();
  return newIndex;
}

/**
 * Where the temporary file may start as a copy of another file (a reflink clone where the file
 * system supports it). `reflinkOnly` skips the copy unless it can be a clone.
 */
export interface Seed {
  from: string;
  reflinkOnly: boolean;
}

export interface AtomicWriteOptions {
  /** Replace a file that has other names (hard links), which then keep the old content. */
  breakHardLinks?: boolean;
}

/** Temporary files of saves are named `.<name>.parrot-save-<pid>-<random>.tmp`. */
export function tempNameFor(target: string): string {
  // Web Crypto's generator (a global): node:crypto costs ~5 ms to load at the start of every command.
  const random = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('hex');
  return `.${basename(target)}.parrot-save-${process.pid}-${random}.tmp`;
}

/** A temporary file of a save whose process is gone is removed once it is this old. */
const STALE_DEAD_MS = 5 * 60 * 1000;
/** Any temporary file of ours (or of versions before the name said so) is removed once it is this old. */
const STALE_ANY_MS = 24 * 60 * 60 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'; // alive, but someone else's
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes the temporary files that killed saves of `target` left beside it, and only those: regular
 * files (not links) of this user named as our saves name them, whose process is gone and which
 * have not been written for 5 minutes, or which are older than a day (the process id may have been
 * reused; a folder shared by several machines). Temporary files of the older naming
 * (`.<name>.<12 hex>.tmp`) are removed after a day. Never throws; returns the names removed.
 */
export async function removeStaleTempFiles(target: string, nowMs = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  try {
    const real = await realpath(target).catch(() => target);
    const dir = dirname(real);
    const name = escapeRegExp(basename(real));
    const ours = new RegExp(`^\\.${name}\\.parrot-save-(\\d+)-[0-9a-f]{12}\\.tmp$`);
    const legacy = new RegExp(`^\\.${name}\\.[0-9a-f]{12}\\.tmp$`);
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    for (const entry of await readdir(dir)) {
      const m = ours.exec(entry);
      if (!m && !legacy.test(entry)) continue;
      const p = join(dir, entry);
      const st = await lstat(p).catch(() => undefined);
      if (!st?.isFile() || (uid !== undefined && st.uid !== uid)) continue;
      const age = nowMs - st.mtimeMs;
      const pid = m ? Number(m[1]) : undefined;
      const stale =
        age > STALE_ANY_MS ||
        (pid !== undefined && pid !== process.pid && age > STALE_DEAD_MS && !processAlive(pid));
      if (!stale) continue;
      try {
        await unlink(p);
        removed.push(entry);
      } catch {
        // gone already, or not ours to remove
      }
    }
  } catch {
    // an unreadable folder: nothing to clean
  }
  return removed;
}

/** True when the file may be written by this process: a write bit is set and access() agrees. */
async function writable(path: string, mode: number): Promise<boolean> {
  if ((mode & 0o222) === 0) return false; // read-only for everyone (root included)
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a file atomically: into a temporary file in the target's folder, fsync, rename over the
 * target. On failure the target is left as it was, the temporary file is removed and the error says
 * why in plain words. With a `seed`, the temporary file starts as a copy of `seed.from` when that
 * works, and `write` is told so.
 *
 * A symbolic link is followed: its target is written and the link kept. The file's mode and, where
 * the process may, its owner and group are kept. A read-only file, and (unless
 * `opts.breakHardLinks`) a file with other hard links, are refused with a `SaveRefusedError`.
 * Stale temporary files of earlier killed saves are removed first.
 */
export async function atomicWrite<T>(
  linkOrTarget: string,
  fallbackMode: number | undefined,
  signal: AbortSignal | undefined,
  write: (fh: FileHandle, seeded: boolean) => Promise<T>,
  seed?: Seed,
  opts: AtomicWriteOptions = {},
): Promise<T> {
  // Write the file a symbolic link points to, not the link.
  const target = await realpath(linkOrTarget).catch(() => linkOrTarget);
  const dir = dirname(target);
  let existed = false;
  let mode = fallbackMode;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = await stat(target);
    existed = true;
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
    if (!(await writable(target, st.mode))) {
      throw new SaveRefusedError(
        'readonly',
        linkOrTarget,
        `Cannot save "${linkOrTarget}": the file is read-only (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}), so it was not replaced. The file on disk was not changed. Make it writable, or save to another file.`,
        true,
      );
    }
    if (st.nlink > 1 && !opts.breakHardLinks) {
      throw new SaveRefusedError(
        'hardlink',
        linkOrTarget,
        `Cannot save "${linkOrTarget}": the file has ${st.nlink - 1} other name${st.nlink > 2 ? 's' : ''} (hard link${st.nlink > 2 ? 's' : ''}). A save writes a new file under this name only, so the other names would keep the old content. The file on disk was not changed. Save anyway to break the link, or save to another file.`,
        true,
      );
    }
  } catch (err) {
    if (err instanceof SaveRefusedError) throw err;
    if ((err as { code?: string }).code === 'EISDIR') throw saveError(target, err, true);
    // a missing target is fine (save as a new file); other problems show up when writing
  }
  await removeStaleTempFiles(target);
  const tmp = join(dir, tempNameFor(target));
  let fh: FileHandle | undefined;
  try {
    if (signal?.aborted) throw new AbortedError('Saving');
    let seeded = false;
    if (seed) {
      try {
        const clone = seed.reflinkOnly ? constants.COPYFILE_FICLONE_FORCE : constants.COPYFILE_FICLONE;
        await copyFile(seed.from, tmp, constants.COPYFILE_EXCL | clone);
        fh = await open(tmp, 'r+');
        seeded = true;
      } catch {
        // No clone here (or the copy failed): write the whole file instead.
        await unlink(tmp).catch(() => undefined);
      }
    }
    fh ??= await open(tmp, 'wx', mode ?? 0o666);
    const result = await write(fh, seeded);
    if (owner) await keepOwner(fh, owner);
    // After chown, which clears set-user/group-id bits.
    if (mode !== undefined) await fh.chmod(mode);
    await fh.sync();
    await fh.close();
    fh = undefined;
    if (signal?.aborted) throw new AbortedError('Saving');
    await rename(tmp, target);
    await syncFolder(dir);
    return result;
  } catch (err) {
    if (fh) await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (err instanceof AbortedError || err instanceof SaveRefusedError) throw err;
    throw saveError(target, err, existed);
  }
}

/**
 * Gives the new file the replaced file's owner and group where the process may (root may; others
 * may only set a group they belong to); otherwise it keeps the saving user's, as any editor's save.
 */
async function keepOwner(fh: FileHandle, owner: { uid: number; gid: number }): Promise<void> {
  const st = await fh.stat();
  if (st.uid === owner.uid && st.gid === owner.gid) return;
  try {
    await fh.chown(owner.uid, owner.gid);
  } catch {
    if (st.gid !== owner.gid) await fh.chown(st.uid, owner.gid).catch(() => undefined);
  }
}

async function syncFolder(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Not every platform can fsync a folder; the rename itself is still atomic.
  }
}

function saveError(target: string, err: unknown, existed: boolean): Error {
  const reason = explainFsError(err, dirname(target));
  const after = existed ? 'The file on disk was not changed.' : 'No file was written.';
  return new Error(`Could not save "${target}": ${reason}. ${after}`, { cause: err });
}
