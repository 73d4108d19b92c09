import { constants, isUtf8 } from 'node:buffer';

/** The longest line the validator can read: a JavaScript string holds at most this many characters. */
export const MAX_LINE_BYTES = constants.MAX_STRING_LENGTH;

/**
 * A line that cannot be checked (longer than a JavaScript string can be), or a part of the file the
 * validation could not finish; `byteOffset` is where that line or part starts in the file.
 */
export class UnfinishedError extends Error {
  constructor(
    message: string,
    readonly byteOffset: number,
    /** 0-based line of byteOffset, once known. */
    public line?: number,
  ) {
    super(message);
    this.name = 'UnfinishedError';
  }
}
import { open, type FileHandle } from 'node:fs/promises';
import { hasControl } from './fast';
import type { RecordRef } from './cross';
import type { LineKernel } from './kernel';

/** RawLine.slot of a line whose block the kernel did not read. */
export const NO_KERNEL = -2;

/**
 * One line as forEachLine hands it over (the same object, updated for each line, valid during the
 * call only). `latin` is the line's bytes read as Latin-1: one character per byte, so that it costs
 * a copy rather than a UTF-8 decode, its indices are byte offsets, and JSON.parse reads its
 * structure exactly (every byte of a multi-byte character is >= 0x80, never JSON syntax). It is
 * made on first use: the fast path reads the block's text (`block`) and never asks for it. The
 * exact text is `buf.toString('utf8', start, end)`.
 */
export class RawLine {
  /** Line number within the range, from 0. */
  index = 0;
  /** File offset of the line. */
  byteOffset = 0;
  start = 0;
  end = 0;
  /** Whether the block the line is in is valid UTF-8. */
  validUtf8 = true;
  /** The block's Latin-1 text once made, and the length to make it of (-1: none to make). */
  private blockText?: string;
  private blockLength = -1;

  /**
   * The block's bytes read as Latin-1 (`start`, `end` index it as they index `buf`), if it fits a
   * string: made on first use, so that readers of the lines that never ask for it do not pay it.
   */
  get block(): string | undefined {
    if (this.blockText === undefined && this.blockLength >= 0) {
      this.blockText = this.buf.toString('latin1', 0, this.blockLength);
      this.blockLength = -1;
    }
    return this.blockText;
  }
  /**
   * When the block kernel read the line's block: the slot of its facts in `kernel` when the kernel
   * accepted it, -1 when not (fastLine would not either); NO_KERNEL otherwise.
   */
  slot = NO_KERNEL;
  kernel?: LineKernel;
  private text?: string;

  constructor(public buf: Buffer) {}

  /**
   * Starts a block of `buf`: its Latin-1 text given (`block`), or to be made of its first
   * `blockLength` bytes when asked for.
   */
  setBlock(
    buf: Buffer,
    block: string | undefined,
    validUtf8: boolean,
    kernel?: LineKernel,
    blockLength = -1,
  ): void {
    this.buf = buf;
    this.blockText = block;
    this.blockLength = block === undefined ? blockLength : -1;
    this.validUtf8 = validUtf8;
    this.kernel = kernel;
    this.slot = NO_KERNEL;
  }

  /**
   * Whether the line's bytes [start, end) hold a control character (below 0x20: JSON forbids them
   * in strings; tab and CR may be whitespace, which the fast path leaves to the full check).
   */
  hasControl(end = this.end): boolean {
    return hasControl(this.buf, this.start, end);
  }

  get latin(): string {
    this.text ??=
      this.blockText !== undefined
        ? this.blockText.slice(this.start, this.end)
        : this.buf.toString('latin1', this.start, this.end);
    return this.text;
  }

  /** Moves to the line buf[start, end) at file offset byteOffset. */
  set(index: number, byteOffset: number, start: number, end: number): void {
    this.index = index;
    this.byteOffset = byteOffset;
    this.start = start;
    this.end = end;
    this.text = undefined;
  }
}

/**
 * Reads the lines of file[start, end) (start at a line start, end at a line start or EOF) and calls
 * onLine for each, in order; a line has no '\n' (a '\r' before it stays). Reads a block at a time
 * and never holds more than one block (or one line, if longer). Returns the number of lines. With a
 * `kernel`, blocks are read into its memory and each valid UTF-8 block is first read by it (see
 * RawLine.slot). A block's Latin-1 text (RawLine.block) is made only when asked for, never when the
 * kernel read the block.
 */
export async function forEachLine(
  path: string,
  start: number,
  end: number,
  onLine: (line: RawLine) => void,
  shouldStop?: () => boolean,
  onBlock?: (bytesDone: number) => void,
  blockSize = 4 << 20,
  maxLineBytes = MAX_LINE_BYTES,
  kernel?: LineKernel,
): Promise<number> {
  const fh = await open(path, 'r');
  try {
    // Two buffers: the next block is read while the lines of the current one are checked.
    const own = kernel?.blockSize === blockSize ? kernel.buffers : undefined;
    let buf = own?.[0] ?? Buffer.allocUnsafe(blockSize);
    let other = own?.[1] ?? Buffer.allocUnsafe(blockSize);
    let pos = start; // file offset of buf[0]
    let filled = (await fh.read(buf, 0, Math.min(buf.length, end - start), start)).bytesRead;
    let index = 0;
    const line = new RawLine(buf);
    while (filled > 0) {
      if (shouldStop?.()) return index;
      const eof = pos + filled >= end;
      const lastNl = buf.lastIndexOf(10, filled - 1);
      if (lastNl < 0 && filled > maxLineBytes) {
        throw new UnfinishedError(
          `a line longer than ${mib(maxLineBytes)}: too long to check (a JavaScript string holds at most that much)`,
          pos,
        );
      }
      if (lastNl < 0 && !eof) {
        // A line longer than the buffer: grow it and read more.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
        other = Buffer.allocUnsafe(bigger.length);
        filled += (
          await fh.read(buf, filled, Math.min(buf.length - filled, end - pos - filled), pos + filled)
        ).bytesRead;
        continue;
      }
      const usable = lastNl >= 0 && !eof ? lastNl + 1 : filled;
      const carry = filled - usable;
      buf.copy(other, 0, usable, filled);
      const nextAt = pos + filled;
      // After a line that outgrew the kernel's buffers, read no more than they hold (see below).
      const room = own && !own.includes(other) && carry < own[0].length ? own[0].length : other.length;
      const next = !eof ? fh.read(other, carry, Math.min(room - carry, end - nextAt), nextAt) : undefined;
      const valid = isUtf8(buf.subarray(0, usable));
      const k = valid && kernel?.owns(buf) ? kernel : undefined;
      // A block of several long lines may be longer than a string: then each line is read alone.
      line.setBlock(buf, undefined, valid, k, !k && usable <= MAX_LINE_BYTES ? usable : -1);
      k?.begin(buf, usable);
      let at = 0;
      try {
        while (at < usable) {
          let nl: number;
          if (k) {
            nl = k.next(at);
            line.slot = k.slot;
          } else {
            nl = buf.indexOf(10, at);
            if (nl < 0 || nl > usable) nl = usable;
          }
          if (nl - at > maxLineBytes) {
            throw new UnfinishedError(
              `a line of ${(nl - at).toLocaleString('en')} bytes, longer than ${mib(maxLineBytes)}: too long to check`,
              pos + at,
            );
          }
          line.set(index++, pos + at, at, nl);
          onLine(line);
          at = nl + 1;
        }
      } finally {
        // Never leave a read in flight on a file handle that is about to close.
        if (next) await next.catch(() => undefined);
      }
      const bytesRead = next ? (await next).bytesRead : 0;
      pos += usable;
      [buf, other] = [other, buf];
      filled = carry + bytesRead;
      if (own && !own.includes(buf) && filled <= own[0].length) {
        // Back to the kernel's buffers once the line that outgrew them has been read.
        buf.copy(own[0], 0, 0, filled);
        [buf, other] = own;
      }
      onBlock?.(pos - start);
    }
    return index;
  } finally {
    await fh.close();
  }
}

function mib(n: number): string {
  return n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MiB` : `${n} bytes`;
}

/** The 0-based line that file offset `byteOffset` is on (counts the newlines before it). */
export async function lineAtOffset(path: string, byteOffset: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let line = 0;
    for (let pos = 0; pos < byteOffset;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, byteOffset - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) line++;
      pos += bytesRead;
    }
    return line;
  } finally {
    await fh.close();
  }
}

/** Reads single lines of a file by their byte offset, through one open handle. */
export class LineReader {
  private fh?: FileHandle;
  private buf = Buffer.allocUnsafe(16 * 1024);

  constructor(private readonly path: string) {}

  /** The text of the line that starts at byteOffset (without its '\n'). */
  async read(byteOffset: number): Promise<string> {
    this.fh ??= await open(this.path, 'r');
    let len = 0;
    for (;;) {
      if (len === this.buf.length) {
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, len);
        this.buf = bigger;
      }
      const { bytesRead } = await this.fh.read(this.buf, len, this.buf.length - len, byteOffset + len);
      const nl = this.buf.subarray(0, len + bytesRead).indexOf(10, len);
      if (nl >= 0) return this.buf.toString('utf8', 0, nl);
      len += bytesRead;
      if (bytesRead === 0) return this.buf.toString('utf8', 0, len);
    }
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}

/**
 * The records of `refs` with their `skip` walked: a record given as the handle (byte offset) of an
 * earlier line start and a count of lines after it gets the offset of its own line start. Walks
 * in line order, reading each stretch of the file once however many records lie in it.
 */
export async function walkLines(path: string, refs: readonly RecordRef[]): Promise<RecordRef[]> {
  const out = refs.slice();
  const todo = refs
    .flatMap((r, i) => ((r.skip ?? 0) > 0 ? [i] : []))
    .sort((a, b) => refs[a].line - refs[b].line);
  if (todo.length === 0) return out.map(({ skip: _, ...r }) => r);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(256 * 1024);
    let bufStart = 0;
    let bufEnd = 0;
    let pos = -1; // the cursor: a line start and its line
    let line = -1;
    for (const i of todo) {
      const r = refs[i];
      const from = r.line - (r.skip as number);
      if (pos < 0 || line < from) {
        pos = r.ref;
        line = from;
      }
      while (line < r.line) {
        if (pos < bufStart || pos >= bufEnd) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) throw new Error(`line ${r.line + 1} is past the end of the file`);
          bufStart = pos;
          bufEnd = pos + bytesRead;
        }
        const nl = buf.subarray(0, bufEnd - bufStart).indexOf(10, pos - bufStart);
        if (nl < 0) pos = bufEnd;
        else {
          pos = bufStart + nl + 1;
          line++;
        }
      }
      out[i] = { ...r, ref: pos };
    }
  } finally {
    await fh.close();
  }
  return out.map(({ skip: _, ...r }) => r);
}

/** Splits [0, size) into ranges that start at line starts, about `chunk` bytes each. */
export async function splitOnLines(path: string, size: number, chunk: number): Promise<[number, number][]> {
  const cuts = [0];
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let target = chunk;
    while (target < size) {
      let pos = target;
      let cut = -1;
      while (pos < size) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        const nl = buf.indexOf(10);
        if (nl >= 0 && nl < bytesRead) {
          cut = pos + nl + 1;
          break;
        }
        pos += bytesRead;
      }
      if (cut < 0 || cut >= size) break;
      cuts.push(cut);
      target = cut + chunk;
    }
  } finally {
    await fh.close();
  }
  return cuts.map((c, i) => [c, i + 1 < cuts.length ? cuts[i + 1] : size]);
}
