import { isUtf8 } from 'node:buffer';
import type { BlockSums } from './fingerprint';
import { KERNEL_HEADROOM, KERNEL_HEAP, newKernel, releaseKernel, type Kernel } from './kernel';
import type { Eol } from './types';

/** Per-line flag bits. */
export const EOL_NONE = 0;
export const EOL_LF = 1;
export const EOL_CRLF = 2;
export const EOL_MASK = 3;
export const FLAG_INVALID_UTF8 = 4;
/**
 * The line has no line ending of its own: it was the last line of a file without a final newline and
 * got the dominant ending when something was put after it. If it becomes the last line again (an
 * undo across a save), it is written without one again.
 */
export const FLAG_EOL_ADDED = 8;

export function eolOf(flag: number): Eol {
  const e = flag & EOL_MASK;
  return e === EOL_LF ? 'lf' : e === EOL_CRLF ? 'crlf' : 'none';
}

export function eolLength(flag: number): number {
  return flag & EOL_MASK; // EOL_NONE = 0, EOL_LF = 1, EOL_CRLF = 2 bytes
}

/**
 * Byte offsets of the physical lines of one file, in typed arrays.
 *
 * Line `i` occupies bytes `[starts[i], starts[i + 1])` including its line ending; `flags[i]` holds its
 * line ending kind and whether its bytes are invalid UTF-8. Offsets are absolute (a UTF-8 BOM, when
 * present, comes before `starts[0]`). The empty text after a final newline is not a line.
 */
export class LineIndex {
  starts: Float64Array;
  flags: Uint8Array;
  /**
   * Records that are not whole lines (JSON array elements): where each record's own bytes end (the
   * separator that follows it runs to the next start) and the 0-based file line it starts on.
   * Undefined for line records, whose content ends before their line ending.
   */
  contentEnds: Float64Array | undefined;
  startLines: Float64Array | undefined;
  count = 0;
  lfCount = 0;
  crlfCount = 0;
  /**
   * For element records: the offset just after the opening `[`, where the bytes after the last
   * record (whitespace and `]`) start, and the 0-based line of that offset.
   */
  openEnd = 0;
  postStart = 0;
  postLine = 0;
  /** Offset of the closing `]`. */
  closeAt = 0;
  /**
   * How records of an array that became empty were laid out (opaque to the index), so that records
   * added to it again get the same layout.
   */
  layoutHint: unknown;

  constructor(
    readonly bomLength: number,
    capacity = 1024,
    ranged = false,
  ) {
    this.starts = new Float64Array(Math.max(2, capacity + 1));
    this.flags = new Uint8Array(Math.max(1, capacity));
    if (ranged) {
      this.contentEnds = new Float64Array(Math.max(1, capacity));
      this.startLines = new Float64Array(Math.max(1, capacity));
    }
    this.starts[0] = bomLength;
    this.openEnd = bomLength;
    this.postStart = bomLength;
  }

  get ranged(): boolean {
    return this.contentEnds !== undefined;
  }

  /**
   * Records the end (exclusive, after the line ending or separator) of the next record; element
   * records also give where their own bytes end and the line they start on.
   */
  push(end: number, flag: number, contentEnd = end, startLine = 0): void {
    const n = this.count;
    if (n >= this.flags.length) this.grow();
    this.flags[n] = flag;
    this.starts[n + 1] = end;
    if (this.contentEnds && this.startLines) {
      this.contentEnds[n] = contentEnd;
      this.startLines[n] = startLine;
    }
    this.count = n + 1;
    const e = flag & EOL_MASK;
    if (e === EOL_LF) this.lfCount++;
    else if (e === EOL_CRLF) this.crlfCount++;
  }

  /**
   * Appends lines `first .. last` of `src`, shifted by `delta` bytes. Their flags are copied in bulk;
   * only the offsets are touched one by one.
   */
  pushRun(src: LineIndex, first: number, last: number, delta: number, lineDelta = 0): void {
    const k = last - first + 1;
    if (k <= 0) return;
    while (this.count + k > this.flags.length) this.grow();
    const n = this.count;
    const flags = src.flags.subarray(first, last + 1);
    this.flags.set(flags, n);
    const from = src.starts;
    const to = this.starts;
    for (let i = 0; i < k; i++) to[n + 1 + i] = from[first + 1 + i] + delta;
    if (this.contentEnds && this.startLines && src.contentEnds && src.startLines) {
      for (let i = 0; i < k; i++) {
        this.contentEnds[n + i] = src.contentEnds[first + i] + delta;
        this.startLines[n + i] = src.startLines[first + i] + lineDelta;
      }
    }
    this.count = n + k;
    for (let i = 0; i < k; i++) {
      const e = flags[i] & EOL_MASK;
      if (e === EOL_LF) this.lfCount++;
      else if (e === EOL_CRLF) this.crlfCount++;
    }
  }

  /** Ors `bits` into the flags of the line that is being scanned (index `count`, not yet pushed). */
  markPending(bits: number): void {
    if (this.count >= this.flags.length) this.grow();
    this.flags[this.count] |= bits;
  }

  pendingFlags(): number {
    return this.count < this.flags.length ? this.flags[this.count] : 0;
  }

  /** Doubles the capacity; `starts` always has one entry more than `flags` (the end of the last line). */
  private grow(): void {
    const capacity = this.flags.length * 2;
    const starts = new Float64Array(capacity + 1);
    starts.set(this.starts);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    this.starts = starts;
    this.flags = flags;
    if (this.contentEnds && this.startLines) {
      const ends = new Float64Array(flags.length);
      ends.set(this.contentEnds);
      this.contentEnds = ends;
      const lines = new Float64Array(flags.length);
      lines.set(this.startLines);
      this.startLines = lines;
    }
  }

  start(i: number): number {
    return this.starts[i];
  }
  /** End of the line's text (before its line ending). */
  contentEnd(i: number): number {
    return this.contentEnds ? this.contentEnds[i] : this.starts[i + 1] - eolLength(this.flags[i]);
  }
  end(i: number): number {
    return this.starts[i + 1];
  }
  flag(i: number): number {
    return this.flags[i];
  }
  get dominantEol(): 'lf' | 'crlf' {
    return this.crlfCount > this.lfCount ? 'crlf' : 'lf';
  }
  /** Whether the file ends with a line ending (true for a file without lines). */
  get finalNewline(): boolean {
    return this.count === 0 || (this.flags[this.count - 1] & EOL_MASK) !== EOL_NONE;
  }
}

/** Indexes lines held in memory (`buf` starts at a line start; offsets are relative to `buf`). */
export function indexBuffer(buf: Buffer): LineIndex {
  const index = new LineIndex(0, 16);
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    const end = nl < 0 ? buf.length : nl + 1;
    const cr = nl > pos && buf[nl - 1] === 13;
    let flag = nl < 0 ? EOL_NONE : cr ? EOL_CRLF : EOL_LF;
    if (!isUtf8(buf.subarray(pos, end - eolLength(flag)))) flag |= FLAG_INVALID_UTF8;
    index.push(end, flag);
    pos = end;
  }
  return index;
}

export class AbortedError extends Error {
  constructor(what: string) {
    super(`${what} was cancelled.`);
    this.name = 'AbortError';
  }
}

export interface ScanOptions {
  chunkSize: number;
  signal?: AbortSignal;
  /** Called after each chunk. */
  onChunk: (bytesDone: number) => void;
  /** Called with each chunk's bytes, in file order (for content checksums). */
  onData?: (bytes: Buffer) => void;
  /**
   * The content checksums of the bytes read, fed in file order as `onData` is. A JSON array scan
   * split between two threads (`parallel`) computes the second part's in the other thread.
   */
  checksums?: BlockSums;
  /**
   * Scan a large JSON array in two threads (see `scanJsonArray`): `worker` is the bundled
   * index.worker.js, or `in-thread` to run the second part's scan in this thread (tests); `at`
   * where the second part starts (default: the chunk boundary nearest the middle); `minBytes` the
   * smallest file split (default 64 MiB).
   */
  parallel?: { worker: string; at?: number; minBytes?: number };
}

/** Length of an incomplete UTF-8 sequence at the very end of `buf[0..n)` (0..3). */
export function incompleteTail(buf: Buffer, n: number): number {
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = buf[n - back];
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return need > back ? back : 0;
    }
  }
  return 0;
}

/**
 * Appends to `out` the offsets (`pos` + index) of the first byte of every invalid UTF-8 sequence in
 * `buf[from, to)` (Unicode's well-formed byte sequences: no overlong forms, surrogates or code
 * points beyond U+10FFFF; a sequence cut short by `to` is invalid). For chunks that `isUtf8` refused.
 */
export function invalidUtf8Offsets(
  buf: Uint8Array,
  from: number,
  to: number,
  pos: number,
  out: number[],
): void {
  let i = from;
  while (i < to) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    }
    let ok = need > 0 && i + need < to;
    for (let k = 1; ok && k <= need; k++) {
      const c = buf[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) ok = false;
    }
    if (ok) i += need + 1;
    else {
      out.push(pos + i);
      i++;
    }
  }
}

/** What the scans read through: a FileHandle, or a file descriptor's reads in a worker. */
export interface ChunkReader {
  read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** One chunk of a scan, with the UTF-8 validity of its bytes. */
export interface Chunk {
  view: Buffer;
  /** File offset of view[0]. */
  pos: number;
  /** Bytes at the start that complete the previous chunk's last character, and whether that character is valid. */
  lead: number;
  headValid: boolean;
  /** Bytes at the end that start a character completed by the next chunk. */
  tail: number;
  /** Whether view[lead, length - tail) is valid UTF-8. */
  bodyValid: boolean;
}

/** The two read buffers of a scan in a kernel's memory, and where the first is (see `chunkBuffers`). */
export interface ChunkIo {
  bufs: [Buffer, Buffer];
  /** Called when a chunk has arrived in `buf`, before the next read into the other buffer starts. */
  arrive?: (buf: Buffer) => void;
}

/**
 * Two read buffers of `chunkSize` bytes in a new kernel instance's memory, each with
 * KERNEL_HEADROOM bytes before it and 64 after, and 128 spare bytes (then `extra`) after both; undefined without
 * WebAssembly SIMD.
 */
export function chunkBuffers(
  chunkSize: number,
  extra = 0,
): { kernel: Kernel; io: ChunkIo; spare: number } | undefined {
  const chunk = Math.max(8, Math.floor(chunkSize));
  const stride = KERNEL_HEADROOM + chunk + 64;
  const kernel = newKernel(2 * stride + 128 + extra);
  if (!kernel) return undefined;
  const at = (k: number) => KERNEL_HEAP + k * stride + KERNEL_HEADROOM;
  const bufs: [Buffer, Buffer] = [
    kernel.mem.subarray(at(0), at(0) + chunk),
    kernel.mem.subarray(at(1), at(1) + chunk),
  ];
  return { kernel, io: { bufs }, spare: KERNEL_HEAP + 2 * stride };
}

/**
 * Reads `[from, size)` of the file in big positional reads alternating between two reused buffers
 * (the next read runs while `visit` looks at the current chunk) and checks each chunk's UTF-8 with
 * one SIMD call, a character split across two chunks checked across the boundary. After the first,
 * reads start at multiples of the chunk size (so that whole checksum blocks arrive aligned). The
 * buffers are `io`'s when given (a kernel's memory), else new ones. Returns the end offset and
 * whether the file ends inside a UTF-8 sequence. No read is left running on return.
 */
export async function forEachChunk(
  fh: ChunkReader,
  from: number,
  size: number,
  opts: ScanOptions,
  visit: (c: Chunk) => void,
  io?: ChunkIo,
): Promise<{ end: number; endsInsideCharacter: boolean }> {
  const chunk = io ? io.bufs[0].length : Math.max(8, Math.floor(opts.chunkSize));
  const bufs = io ? io.bufs : [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
  let k = 0;
  let pos = from;
  const carry = Buffer.alloc(8); // incomplete UTF-8 sequence at the end of the previous chunk
  let carryLen = 0;
  // Up to the next multiple of the chunk size, then whole chunks.
  const readAt = (buf: Buffer, at: number) =>
    at < size
      ? fh.read(buf, 0, Math.min(chunk - (at % chunk), size - at), at).then((r) => r.bytesRead)
      : Promise.resolve(0);
  let pending = readAt(bufs[0], pos);
  try {
    for (;;) {
      const n = await pending;
      if (opts.signal?.aborted) throw new AbortedError('Indexing');
      if (n === 0) break;
      const buf = bufs[k];
      io?.arrive?.(buf.subarray(0, n));
      k ^= 1;
      pending = readAt(bufs[k], pos + n);
      const view = buf.subarray(0, n);
      opts.onData?.(view);
      opts.checksums?.feed(view);
      // UTF-8 validity: the bytes that complete the previous chunk's tail, then the chunk itself.
      let lead = 0;
      let headValid = true;
      if (carryLen > 0) {
        while (lead < 3 && lead < n && (view[lead] & 0xc0) === 0x80) lead++;
        headValid = isUtf8(Buffer.concat([carry.subarray(0, carryLen), view.subarray(0, lead)]));
        carryLen = 0;
      }
      const tail = incompleteTail(view, n);
      const bodyValid = isUtf8(view.subarray(lead, n - tail));
      if (tail > 0) {
        view.copy(carry, 0, n - tail, n);
        carryLen = tail;
      }
      visit({ view, pos, lead, headValid, tail, bodyValid });
      pos += n;
      opts.onChunk(pos);
    }
  } finally {
    await pending.catch(() => 0);
  }
  return { end: pos, endsInsideCharacter: carryLen > 0 };
}

/**
 * Scans `[from, size)` of the file into `index`: `forEachChunk`'s reads and UTF-8 checks,
 * `Buffer.indexOf(10)` for newlines (per line UTF-8 checks only when a chunk is not valid UTF-8).
 */
export async function scanLines(
  fh: ChunkReader,
  index: LineIndex,
  from: number,
  size: number,
  opts: ScanOptions,
): Promise<void> {
  let prevByte = -1; // last byte of the previous chunk
  // Read into a kernel's memory, where the checksums are computed in place.
  const bufs = chunkBuffers(opts.chunkSize);
  const { end, endsInsideCharacter } = await forEachChunk(
    fh,
    from,
    size,
    opts,
    (c) => {
      const { view, pos, tail, bodyValid } = c;
      const n = view.length;
      if (!c.headValid) index.markPending(FLAG_INVALID_UTF8);
      let i = 0;
      let fragStart = c.lead;
      for (;;) {
        const nl = view.indexOf(10, i);
        if (nl < 0) break;
        const cr = nl > 0 ? view[nl - 1] === 13 : prevByte === 13;
        let flag = cr ? EOL_CRLF : EOL_LF;
        if (!bodyValid && nl > fragStart && !isUtf8(view.subarray(fragStart, nl))) flag |= FLAG_INVALID_UTF8;
        flag |= index.pendingFlags();
        index.push(pos + nl + 1, flag);
        i = nl + 1;
        fragStart = i;
      }
      if (!bodyValid && fragStart < n - tail && !isUtf8(view.subarray(fragStart, n - tail))) {
        index.markPending(FLAG_INVALID_UTF8);
      }
      prevByte = view[n - 1];
    },
    bufs?.io,
  ).finally(() => bufs && releaseKernel(bufs.kernel));
  if (endsInsideCharacter) index.markPending(FLAG_INVALID_UTF8); // file ends inside a UTF-8 sequence
  if (end > index.starts[index.count]) index.push(end, EOL_NONE | index.pendingFlags());
}
