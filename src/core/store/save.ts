import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { explainFsError } from './errors';
import type { Base } from './base';
import { AbortedError, EOL_CRLF, EOL_LF, EOL_MASK, EOL_NONE, FLAG_EOL_ADDED, LineIndex } from './lineIndex';
import type { Piece } from './pieces';
import type { StoreProgress } from './types';

const WRITE_BUFFER = 8 * 1024 * 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Buffered writer with two big buffers: one is filled (by copying ranges of the source file straight
 * into it, or by encoding new text) while the other is being written, so reads and writes overlap.
 */
class Writer {
  private readonly bufs = [Buffer.allocUnsafe(WRITE_BUFFER), Buffer.allocUnsafe(WRITE_BUFFER)];
  private cur = 0;
  private len = 0;
  private inflight: Promise<void> = Promise.resolve();
  /** File position of the first byte of the current buffer. */
  private filePos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly signal: AbortSignal | undefined,
    private readonly onFlush: (bytes: number) => void,
  ) {}

  get position(): number {
    return this.filePos + this.len;
  }

  private async writeAll(buf: Buffer, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.fh.write(buf, done, length - done, position + done);
      if (bytesWritten <= 0) throw new Error('the disk accepted no more data');
      done += bytesWritten;
    }
  }

  private async flush(): Promise<void> {
    if (this.signal?.aborted) throw new AbortedError('Saving');
    await this.inflight;
    if (this.len === 0) return;
    const buf = this.bufs[this.cur];
    const len = this.len;
    const at = this.filePos;
    this.inflight = this.writeAll(buf, len, at);
    this.inflight.catch(() => undefined); // observed by the next flush / finish
    this.filePos += len;
    this.cur ^= 1;
    this.len = 0;
    this.onFlush(this.filePos);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.inflight;
  }

  async put(b: Buffer): Promise<void> {
    if (this.len + b.length > WRITE_BUFFER) await this.flush();
    if (b.length > WRITE_BUFFER) {
      await this.inflight;
      await this.writeAll(b, b.length, this.filePos);
      this.filePos += b.length;
      return;
    }
    b.copy(this.bufs[this.cur], this.len);
    this.len += b.length;
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

  /** Copies bytes `[start, end)` of `src` into the output, straight into the write buffers. */
  async copy(src: Base, start: number, end: number): Promise<void> {
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
  runs: Iterable<Piece<Base>>;
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
  const w = new Writer(out, input.signal, (bytes) =>
    input.onProgress?.({ lines: linesDone, bytes, totalBytes: input.totalBytes }),
  );
  if (hasBom) await w.put(BOM);
  let docLine = 0;
  for (const run of input.runs) {
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
 * Writes a file atomically: into a temporary file in the target's folder, fsync, rename over the
 * target. On failure the target is left as it was, the temporary file is removed and the error says
 * why in plain words.
 */
export async function atomicWrite<T>(
  target: string,
  fallbackMode: number | undefined,
  signal: AbortSignal | undefined,
  write: (fh: FileHandle) => Promise<T>,
): Promise<T> {
  const dir = dirname(target);
  let existed = false;
  let mode = fallbackMode;
  try {
    const st = await stat(target);
    existed = true;
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    mode = st.mode & 0o7777;
  } catch (err) {
    if ((err as { code?: string }).code === 'EISDIR') throw saveError(target, err, true);
    // a missing target is fine (save as a new file); other problems show up when writing
  }
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  try {
    if (signal?.aborted) throw new AbortedError('Saving');
    fh = await open(tmp, 'wx', mode ?? 0o666);
    const result = await write(fh);
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
    if (err instanceof AbortedError) throw err;
    throw saveError(target, err, existed);
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
