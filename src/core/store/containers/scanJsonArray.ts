/**
 * The streaming scan of a JSON array file: finds the byte ranges of the top-level elements (strings
 * and escapes respected, pretty-printed or compact, any size) with a small resumable state machine
 * fed chunk by chunk. Memory use is the index alone (a few numbers per element), whatever the size.
 */
import type { FileHandle } from 'node:fs/promises';
import { KERNEL_MAX_DEPTH, kernelKindAt, releaseKernel, type Kernel } from '../kernel';
import {
  EOL_LF,
  EOL_NONE,
  FLAG_INVALID_UTF8,
  chunkBuffers,
  forEachChunk,
  invalidUtf8Offsets,
  type LineIndex,
  type ScanOptions,
} from '../lineIndex';
import type { PartResult } from './scanArrayPart';
import { checksumsBefore, learnSplit, planSplit, startPart, type RunningPart } from './splitScan';

/** A JSON array file whose structure is broken (or that is not an array), with where. */
export class JsonArrayError extends Error {
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    /** File offset of the problem. */
    readonly offset: number,
    /** 0-based line and (UTF-16) column. */
    readonly line: number,
    public column: number,
  ) {
    super(`${reason} (line ${line + 1}, column ${column + 1})`);
    this.name = 'JsonArrayError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const NL = 0x0a;
/** Strings up to this many bytes are skipped byte by byte; longer ones with indexOf. */
const SHORT_STRING = 32;
/** Bytes that matter inside an element outside strings: newline, quote, brackets. */
const CLASS = new Uint8Array(256);
for (const c of [NL, QUOTE, LBRACE, RBRACE, LBRACKET, RBRACKET, BACKSLASH]) CLASS[c] = 1;
const OUTSIDE_BACKSLASH = 'a backslash outside a string';

// States of the top level.
const S_BEFORE = 0; // before the opening [
const S_FIRST = 1; // after [: an element or ]
const S_ELEMENT = 2; // after a comma: an element
const S_INSIDE = 3; // inside an element
const S_AFTER = 4; // after an element: a comma or ]
const S_DONE = 5; // after the closing ]

/** What the first element of the array is, when it is not a record. */
export type ElementKind = 'object' | 'array' | 'string' | 'number' | 'literal';

function kindOf(b: number): ElementKind {
  if (b === LBRACE) return 'object';
  if (b === LBRACKET) return 'array';
  if (b === QUOTE) return 'string';
  if (b === 0x2d || (b >= 0x30 && b <= 0x39)) return 'number';
  return 'literal';
}

function isWs(b: number): boolean {
  return b === 0x20 || b === NL || b === 0x0d || b === 0x09;
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * The scanner proper. `feed` takes consecutive chunks of the file; records go into the index as soon
 * as the next one starts (or the array closes). Throws a JsonArrayError (column in bytes from the
 * line start, made exact by `scanJsonArray`) when the file is not a JSON array.
 */
export class JsonArrayScanner {
  private state = S_BEFORE;
  /** Bracket stack inside the current element: 1 for {, 2 for [. */
  private stack: number[] = [];
  private inString = false;
  private escaped = false;
  /** The current element is a scalar (number or literal) being read. */
  private inScalar = false;
  private line = 0;
  private lineStart = 0;
  private elStart = -1;
  private elLine = 0;
  private elEnd = -1;
  private elEndLine = 0;
  /** Where an element without a string or bracket ends: after its last non-space byte. */
  private scalarEnd = -1;
  /** The kind of the first element. */
  firstKind: ElementKind | undefined;
  firstOffset = -1;
  firstLine = 0;
  firstColumnBytes = 0;
  /** Called for every completed record with [start, contentEnd) of its own bytes. */
  onRecord?: (start: number, contentEnd: number) => void;

  /** Bytes at the end of the last chunk the kernel left for the next one (less than one block). */
  carryLen = 0;
  /** Address (in the kernel's memory) of those bytes, and their file offset. */
  carryFrom = 0;
  carryPos = 0;

  constructor(
    private readonly index: LineIndex,
    private readonly from: number,
    /** The SIMD kernel that scans inside elements; without it, the JavaScript loop does. */
    private readonly kernel?: Kernel,
  ) {
    this.lineStart = 0;
  }

  get done(): boolean {
    return this.state === S_DONE;
  }

  /** The line the scan has reached and where that line starts (for error positions). */
  get position(): { line: number; lineStart: number } {
    return { line: this.line, lineStart: this.lineStart };
  }

  private fail(reason: string, offset: number): never {
    throw new JsonArrayError(reason, offset, this.line, offset - this.lineStart);
  }

  private startElement(at: number, b: number): void {
    const index = this.index;
    if (this.elEnd >= 0) {
      // The previous element is complete now that the next one starts.
      index.push(at, EOL_LF | index.pendingFlags(), this.elEnd, this.elLine);
    } else {
      index.starts[0] = at;
    }
    if (this.firstKind === undefined) {
      this.firstKind = kindOf(b);
      this.firstOffset = at;
      this.firstLine = this.line;
      this.firstColumnBytes = at - this.lineStart;
    }
    this.elStart = at;
    this.elLine = this.line;
    this.elEnd = -1;
    this.state = S_INSIDE;
    if (b === LBRACE || b === LBRACKET) {
      const kind = b === LBRACE ? 1 : 2;
      this.stack.push(kind);
      this.kernel?.exports.begin(kind);
    } else if (b === QUOTE) this.inString = true;
    else if (b === RBRACE || b === COMMA || b === 0x3a)
      this.fail(`expected a value, found ${describeByte(b)}`, at);
    else {
      this.inScalar = true;
      this.scalarEnd = at + 1;
    }
  }

  private endElement(end: number): void {
    this.elEnd = end;
    this.elEndLine = this.line;
    this.onRecord?.(this.elStart, end);
    this.state = S_AFTER;
  }

  /** Index in the buffer being fed of the next newline at or after the last one counted; -1 unknown. */
  private nlAt = -1;

  /** Counts the newlines in `buf[from, to)` (forward only: `nlAt` never moves back within a feed). */
  private newlines(buf: Buffer, from: number, to: number, n: number, pos: number): void {
    if (this.nlAt < from) {
      const j = buf.indexOf(NL, from);
      this.nlAt = j < 0 || j >= n ? n : j;
    }
    while (this.nlAt < to) {
      this.line++;
      this.lineStart = pos + this.nlAt + 1;
      const j = buf.indexOf(NL, this.nlAt + 1);
      this.nlAt = j < 0 || j >= n ? n : j;
    }
  }

  /**
   * Scans `buf[0..n)`, the bytes at file offset `pos`. With a kernel, `buf` lies in its memory; the
   * kernel may leave the last bytes of an element (less than 64) unscanned: `carryLen` bytes at
   * `carryFrom`, which the next call must begin with.
   */
  feed(buf: Buffer, n: number, pos: number): void {
    let i = 0;
    this.carryLen = 0;
    this.nlAt = -1;
    while (i < n) {
      if (this.state === S_INSIDE && !this.inString && !this.inScalar && this.stack.length > 0) {
        if (this.kernel) {
          i = this.insideKernel(this.kernel, buf, n, pos, i);
          if (i < 0) return; // the rest is carried
        } else i = this.inside(buf, n, pos, i);
        continue;
      }
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          this.newlines(buf, i, i + 1, n, pos);
          i++;
          continue;
        }
        const q = buf.indexOf(QUOTE, i);
        // Line breaks inside a string (not valid JSON, but physical lines all the same).
        this.newlines(buf, i, q < 0 || q >= n ? n : q, n, pos);
        if (q < 0 || q >= n) {
          // The string goes on in the next chunk: is its last byte an escaping backslash?
          let k = n - 1;
          while (k >= i && buf[k] === BACKSLASH) k--;
          this.escaped = (n - 1 - k) % 2 === 1;
          return;
        }
        let k = q - 1;
        while (k >= i && buf[k] === BACKSLASH) k--;
        i = q + 1;
        if ((q - 1 - k) % 2 === 1) continue; // an escaped quote
        this.inString = false;
        if (this.stack.length === 0 && this.state === S_INSIDE) this.endElement(pos + q + 1);
        continue;
      }
      const b = buf[i];
      if (b === NL) {
        if (this.inScalar) this.finishScalar();
        this.line++;
        this.lineStart = pos + i + 1;
        i++;
        continue;
      }
      switch (this.state) {
        case S_INSIDE:
          if (this.inScalar) {
            if (b === COMMA || b === RBRACKET) {
              this.finishScalar();
              continue; // seen again in S_AFTER
            }
            if (isWs(b)) this.finishScalar();
            else this.scalarEnd = pos + i + 1;
            i++;
            continue;
          }
          if (b === QUOTE) this.inString = true;
          else if (b === BACKSLASH && this.stack.length > 0) this.fail(OUTSIDE_BACKSLASH, pos + i);
          else if (b === LBRACE) this.stack.push(1);
          else if (b === LBRACKET) this.stack.push(2);
          else if (b === RBRACE || b === RBRACKET) {
            const want = b === RBRACE ? 1 : 2;
            const top = this.stack.pop();
            if (top !== want) {
              const open = top === 1 ? '{' : '[';
              this.fail(`"${String.fromCharCode(b)}" does not close the "${open}" before it`, pos + i);
            }
            if (this.stack.length === 0) this.endElement(pos + i + 1);
          }
          i++;
          continue;
        case S_AFTER:
          if (b === COMMA) {
            this.state = S_ELEMENT;
          } else if (b === RBRACKET) this.closeArray(pos + i);
          else if (!isWs(b))
            this.fail(`expected "," or "]" after an element, found ${describeByte(b)}`, pos + i);
          i++;
          continue;
        case S_ELEMENT:
          if (b === RBRACKET) this.fail('a comma before "]" (trailing commas are not JSON)', pos + i);
          if (!isWs(b)) this.startElement(pos + i, b);
          i++;
          continue;
        case S_FIRST:
          if (b === RBRACKET) this.closeArray(pos + i);
          else if (!isWs(b)) this.startElement(pos + i, b);
          i++;
          continue;
        case S_BEFORE:
          if (b === LBRACKET) {
            this.state = S_FIRST;
            this.index.openEnd = pos + i + 1;
            this.openLine = this.line;
            this.index.starts[0] = pos + i + 1;
          } else if (!isWs(b)) {
            const what =
              b === LBRACE
                ? 'the file is a JSON object, not an array of records'
                : `the file is not a JSON array (it starts with ${describeByte(b)}, not "[")`;
            this.fail(what, pos + i);
          }
          i++;
          continue;
        default:
          if (!isWs(b)) this.fail(`unexpected ${describeByte(b)} after the closing "]"`, pos + i);
          i++;
      }
    }
  }

  /**
   * The hot loop: inside an element, outside strings. Only newlines, quotes and brackets matter (a
   * table lookup per byte); short strings are skipped here, long or escaped ones by the general
   * path (indexOf). Returns where the general path goes on.
   */
  private inside(buf: Buffer, n: number, pos: number, from: number): number {
    const stack = this.stack;
    let line = this.line;
    let lineStart = this.lineStart;
    let i = from;
    while (i < n) {
      const b = buf[i];
      if (CLASS[b] === 0) {
        i++;
        continue;
      }
      if (b === NL) {
        line++;
        lineStart = pos + i + 1;
        i++;
        continue;
      }
      if (b === QUOTE) {
        let j = i + 1;
        const lim = Math.min(n, j + SHORT_STRING);
        while (j < lim && buf[j] !== QUOTE && buf[j] !== BACKSLASH && buf[j] !== NL) j++;
        if (j < lim && buf[j] === QUOTE) {
          i = j + 1;
          continue;
        }
        this.inString = true;
        i++;
        break;
      }
      if (b === BACKSLASH) {
        this.line = line;
        this.lineStart = lineStart;
        this.fail(OUTSIDE_BACKSLASH, pos + i);
      }
      const closing = b === RBRACE || b === RBRACKET;
      if (!closing) {
        stack.push(b === LBRACE ? 1 : 2);
        i++;
        continue;
      }
      const top = stack.pop();
      if (top !== (b === RBRACE ? 1 : 2)) {
        this.line = line;
        this.lineStart = lineStart;
        const open = top === 1 ? '{' : '[';
        this.fail(`"${String.fromCharCode(b)}" does not close the "${open}" before it`, pos + i);
      }
      i++;
      if (stack.length === 0) {
        this.line = line;
        this.lineStart = lineStart;
        this.endElement(pos + i);
        return i;
      }
    }
    this.line = line;
    this.lineStart = lineStart;
    return i;
  }

  /**
   * The kernel's loop over the inside of an element from `buf[from]`: returns where the JavaScript
   * scan goes on (after the element), or -1 when the chunk's whole blocks are scanned and the rest
   * is carried into the next chunk.
   */
  private insideKernel(kernel: Kernel, buf: Buffer, n: number, pos: number, from: number): number {
    const k = kernel.exports;
    const base = buf.byteOffset;
    const r = k.scan(base + from, base + n);
    this.line += k.lines();
    const nl = k.lastNewline();
    if (nl >= 0) this.lineStart = pos + (nl - base);
    if (r >= 0) {
      this.stack.length = 0;
      this.endElement(pos + (r - base));
      return r - base;
    }
    if (r === -1) {
      this.carryFrom = k.stop();
      this.carryLen = base + n - this.carryFrom;
      this.carryPos = pos + (this.carryFrom - base);
      return -1;
    }
    const at = k.errorAt() - base;
    if (r === -2) {
      const open = k.errorOpen() === 1 ? '{' : '[';
      this.fail(`"${String.fromCharCode(buf[at])}" does not close the "${open}" before it`, pos + at);
    }
    if (r === -4) this.fail(OUTSIDE_BACKSLASH, pos + at);
    this.fail(`the element nests more than ${KERNEL_MAX_DEPTH} brackets deep`, pos + at);
  }

  /**
   * The depth inside the current element at the end of what was fed, when a part scanned from
   * there on its own can be joined (`adoptPart`): inside an element outside strings, or between
   * elements. Undefined otherwise (then the main thread scans on).
   */
  splitDepth(): number | undefined {
    if (this.inString || this.inScalar || this.escaped) return undefined;
    if (this.state === S_AFTER || this.state === S_ELEMENT) return 0;
    if (this.state !== S_INSIDE || this.stack.length === 0 || !this.kernel) return undefined;
    if (this.kernel.exports.inString() !== 0) return undefined;
    return this.kernel.exports.depth();
  }

  /**
   * Takes the elements of a part scanned from `split` on its own (scanArrayPart.ts), the scan
   * having reached `split` at depth `depth` (`splitDepth`) on line `line`: its list of the level
   * the array's elements are at, when everything in the part fits a valid array — the brackets
   * that close levels opened before the split of the kinds opened there, one comma and whitespace
   * between elements, the array closed by "]" with only whitespace after it. Returns false and
   * changes nothing otherwise.
   */
  adoptPart(part: PartResult, depth: number, line: number): boolean {
    const { cur, prev, reqs } = part;
    if (!part.ok || !cur || !prev || !reqs || part.relMin !== -depth - 1 || part.relDepth !== -depth - 1)
      return false;
    // After the closing "]": nothing but whitespace.
    if (cur.count !== 1 || cur.type[0] !== 2 || cur.tailCommas !== 0 || cur.tailBad) return false;
    const req = (i: number) => 1 + ((reqs[i >> 3] >> (i & 7)) & 1);
    const mem = this.kernel?.mem;
    for (let i = 0; i < depth; i++) {
      if (!mem || req(i) !== kernelKindAt(mem, depth - 1 - i)) return false;
    }
    if (req(depth) !== 2) return false; // the array's own "]"
    // Before "]": no comma after the last element.
    if (prev.bad || prev.tailCommas !== 0 || prev.tailBad) return false;
    if (prev.count === 0 && (depth > 0 || this.state !== S_AFTER)) return false;
    let first = 0;
    if (depth > 0) {
      if (prev.type[0] !== 2) return false;
      first = 1;
    } else if (prev.count > 0 && (prev.leadBad || prev.leadCommas !== (this.state === S_AFTER ? 1 : 0)))
      return false;
    if ((prev.count - first) % 2 !== 0) return false;
    for (let j = first; j < prev.count; j++)
      if (prev.type[j] !== ((j - first) % 2 === 0 ? 0 : 1)) return false;
    // It fits: the elements, then the closing bracket.
    if (depth > 0) {
      this.line = line + prev.line[0];
      this.stack.length = 0;
      this.endElement(prev.pos[0] + 1);
    }
    const index = this.index;
    for (let j = first; j < prev.count; j += 2) {
      const at = prev.pos[j];
      if (this.elEnd >= 0) index.push(at, EOL_LF | index.pendingFlags(), this.elEnd, this.elLine);
      this.elStart = at;
      this.elLine = line + prev.line[j];
      this.elEnd = -1;
      this.state = S_INSIDE;
      this.line = line + prev.line[j + 1];
      this.endElement(prev.pos[j + 1] + 1);
    }
    this.line = line + cur.line[0];
    this.closeArray(cur.pos[0]);
    this.line = line + part.lines;
    return true;
  }

  private finishScalar(): void {
    this.inScalar = false;
    this.endElement(this.scalarEnd);
  }

  private closeArray(at: number): void {
    const index = this.index;
    if (this.elEnd >= 0) {
      index.push(this.elEnd, EOL_NONE | index.pendingFlags(), this.elEnd, this.elLine);
      index.postStart = this.elEnd;
      index.postLine = this.elEndLine;
    } else {
      index.postStart = index.openEnd;
      index.postLine = this.openLine;
    }
    this.postAt = at;
    index.closeAt = at;
    this.state = S_DONE;
  }

  private openLine = 0;
  /** Inside an element (its start is `elementStart`). */
  get inElement(): boolean {
    return this.state === S_INSIDE;
  }
  get elementStart(): number {
    return this.elStart;
  }

  /** Offset of the closing bracket (once seen). */
  postAt = -1;

  /**
   * Whether the scan was split between two threads: `joined` when the other thread's part was
   * taken, `rescanned` when this thread scanned it again (it did not fit a valid array).
   */
  split: 'joined' | 'rescanned' | undefined;

  /** Checks that the file ended where a JSON array may end. */
  finish(size: number): void {
    if (this.inScalar) this.finishScalar();
    if (this.state === S_DONE) return;
    const where = size;
    if (this.state === S_BEFORE) this.fail('the file is empty: a JSON array starts with "["', where);
    if (this.kernel && this.stack.length > 0) {
      // The kernel's state at the end: inside a string, and the innermost open bracket.
      this.inString = this.kernel.exports.inString() === 1;
      this.stack[this.stack.length - 1] = this.kernel.exports.top();
    }
    if (this.inString)
      this.fail(`the file ends inside a string (the record starting at line ${this.elLine + 1})`, where);
    if (this.stack.length > 0) {
      this.fail(
        `the file ends inside a record (the one starting at line ${this.elLine + 1}): a "${this.stack[this.stack.length - 1] === 1 ? '}' : ']'}" is missing`,
        where,
      );
    }
    this.fail('the file ends before the closing "]" of the array', where);
  }

  /** Whether bytes from `from` on are scanned (the scan starts at the first byte after a BOM). */
  get startOffset(): number {
    return this.from;
  }
}

/**
 * Scans `[from, size)` of a JSON array file into `index` (records = the array's elements): big
 * positioned reads alternating between two buffers, the state machine over each chunk, and a SIMD
 * UTF-8 check per chunk (per record only in a chunk that fails it). After the scan,
 * `index.postLine` is the line of the bytes after the last element. Throws a JsonArrayError with an
 * exact line and column when the file is not a JSON array (of records: an array whose first element
 * is not an object is refused too, unless `anyElements`).
 */
export async function scanJsonArray(
  fh: FileHandle,
  index: LineIndex,
  from: number,
  size: number,
  opts: ScanOptions,
  anyElements = false,
  simd = true,
): Promise<JsonArrayScanner> {
  const bufs = simd ? chunkBuffers(opts.chunkSize) : undefined;
  const scanner = new JsonArrayScanner(index, from, bufs?.kernel);
  const mem = bufs?.kernel.mem;
  if (bufs && mem) {
    // The bytes the kernel left at the end of the last chunk go just before the new one.
    bufs.io.arrive = (buf) => {
      if (scanner.carryLen > 0) {
        mem.copyWithin(
          buf.byteOffset - scanner.carryLen,
          scanner.carryFrom,
          scanner.carryFrom + scanner.carryLen,
        );
      }
    };
  }
  // UTF-8 validity per record: the offsets of invalid sequences, found only in chunks that are not
  // valid as a whole, are matched with each record as it completes (the kernel's scan may lag
  // behind the chunk by less than a block).
  const bad: number[] = [];
  let badHead = 0;
  scanner.onRecord = (start, end) => {
    while (badHead < bad.length && bad[badHead] < start) badHead++;
    if (badHead < bad.length && bad[badHead] < end) index.markPending(FLAG_INVALID_UTF8);
  };
  let part: RunningPart | undefined;
  try {
    // The bytes of [a, b) through the scanner, with the checksums of those before `sumsTo`.
    const scanRange = async (a: number, b: number, sumsTo: number): Promise<number> => {
      const { end } = await forEachChunk(
        fh,
        a,
        b,
        checksumsBefore(opts, a, sumsTo),
        (c) => {
          const { view, pos } = c;
          const n = view.length;
          if (!c.headValid) bad.push(c.lead > 0 ? pos : pos - 1);
          if (!c.bodyValid) invalidUtf8Offsets(view, c.lead, n - c.tail, pos, bad);
          const carried = scanner.carryLen;
          if (mem && carried > 0) {
            scanner.feed(
              mem.subarray(view.byteOffset - carried, view.byteOffset + n),
              n + carried,
              pos - carried,
            );
          } else scanner.feed(view, n, pos);
        },
        bufs?.io,
      );
      while (mem && bufs && scanner.carryLen > 0) {
        // The last bytes, less than a block: scanned as a block padded with spaces (again for an
        // element that starts in them).
        const len = scanner.carryLen;
        const at = scanner.carryPos;
        mem.copyWithin(bufs.spare, scanner.carryFrom, scanner.carryFrom + len);
        mem.fill(0x20, bufs.spare + len, bufs.spare + 64);
        scanner.feed(mem.subarray(bufs.spare, bufs.spare + 64), 64, at);
      }
      return end;
    };
    // A large array: the part after a newline past this thread's share (splitShare) is scanned by
    // another thread.
    const job = bufs && opts.parallel ? await planSplit(fh, from, size, opts, 'array') : undefined;
    if (job && opts.parallel) part = startPart(fh, job, opts.parallel.worker);
    let end: number;
    if (job && part) {
      const t0 = performance.now();
      await scanRange(from, job.split, job.at);
      const hereMs = performance.now() - t0;
      const depth = scanner.splitDepth();
      const r = depth === undefined ? undefined : await part.result;
      if (r && depth !== undefined && (r.sums !== undefined) === job.sums) {
        for (const o of r.bad) bad.push(o);
        if (scanner.adoptPart(r, depth, scanner.position.line)) {
          learnSplit('array', job, from, hereMs, r.ms);
          if (r.sums && r.tail) opts.checksums?.append(r.sums, r.fed, r.tail);
          end = size;
          scanner.split = 'joined';
          opts.onChunk(size);
        } else {
          bad.length -= r.bad.length;
          end = -1;
        }
      } else end = -1;
      if (end < 0) {
        // Scanned here from the split on, as without it (errors at their exact position).
        await part.stop();
        scanner.split = 'rescanned';
        opts.checksums?.feed(job.probe);
        end = await scanRange(job.split, size, Infinity);
      }
    } else end = await scanRange(from, size, Infinity);
    scanner.finish(end);
    if (!anyElements && scanner.firstKind !== undefined && scanner.firstKind !== 'object') {
      const what: Record<ElementKind, string> = {
        object: 'objects',
        array: 'arrays',
        string: 'strings',
        number: 'numbers',
        literal: 'true/false/null values',
      };
      throw new JsonArrayError(
        `the file is a JSON array of ${what[scanner.firstKind]}, not of records (objects): its first element is not an object`,
        scanner.firstOffset,
        scanner.firstLine,
        scanner.firstColumnBytes,
      );
    }
  } catch (err) {
    if (err instanceof JsonArrayError) await exactColumn(fh, err);
    throw err;
  } finally {
    await part?.stop();
    if (bufs) releaseKernel(bufs.kernel);
  }
  return scanner;
}

/** Turns an error's byte column into a UTF-16 column by reading its line's start. */
export async function exactColumn(fh: FileHandle, err: JsonArrayError): Promise<void> {
  const bytes = err.column;
  if (bytes <= 0 || bytes > 1 << 20) return;
  const buf = Buffer.allocUnsafe(bytes);
  const { bytesRead } = await fh.read(buf, 0, bytes, err.offset - bytes).catch(() => ({ bytesRead: 0 }));
  if (bytesRead !== bytes) return;
  let text = buf.toString('utf8');
  if (err.offset - bytes === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  err.column = text.length;
  Object.defineProperty(err, 'message', {
    value: `${err.reason} (line ${err.line + 1}, column ${err.column + 1})`,
  });
}
