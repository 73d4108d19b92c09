/**
 * The fast path over whole blocks (`fast.wat`, WebAssembly 128-bit SIMD, assembled at build time):
 * forEachLine reads each block straight into a kernel's memory, the kernel checks every line of it
 * the way fastLine does and writes, per line, where it ends, whether it was accepted and the
 * accepted record's facts; JavaScript then touches only the lines it did not accept. Each
 * forEachLine takes its own kernel (a pooled one when free), so interleaved validations never share
 * buffers. Without WebAssembly SIMD, `takeLineKernel` returns undefined and the lines go through
 * fastLine one by one.
 */
import wasm from './fast.wat';
import { CompiledWasm, wasmApi } from '../wasm';
import type { FastFacts } from './fast';

interface Exports {
  run(p: number, end: number, out: number, cap: number): number;
  stop(): number;
  convert(p: number, dst: number, table: number, cap: number): number;
  turns(p: number, dst: number, cap: number): number;
}

/** Where the facts table starts, and how many lines one `run` reports at most (32 bytes each). */
const OUT = 1024;
const CAP = 16384;
/** Where the two block buffers start; each is followed by SLACK bytes (the sentinel, SIMD reads). */
const BUFFERS = 1 << 20;
const SLACK = 64;
const PAGE = 65536;

const kernel = new CompiledWasm(wasm);

/** The compiled kernel, to hand to worker threads (a module is shared, not compiled again). */
export function lineKernelModule(): object | undefined {
  return kernel.module();
}

/** Uses a module from lineKernelModule in this thread (a worker's start). */
export function useLineKernelModule(m: object | undefined): void {
  kernel.adopt(m);
}

/**
 * One kernel instance: its memory holds two read buffers of `blockSize` bytes, the facts table and,
 * when asked for, a turns table of `tableSize` bytes (see `readTurns`) and an output area of
 * `outputSize` bytes (see `convertLine`).
 */
export class LineKernel {
  /** The two read buffers (views of the kernel's memory). */
  readonly buffers: [Buffer, Buffer];
  /** The turns of the last line `readTurns` or `convertLine` read (fast.wat's `turns`). */
  readonly table: Int32Array;
  /** The output area `convertLine` writes into (a view of the kernel's memory). */
  readonly output: Buffer;
  private readonly mem: Buffer;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private base = 0;
  private usable = 0;
  private count = 0;
  private cursor = 0;

  constructor(
    private readonly exports: Exports,
    memory: ArrayBuffer,
    readonly blockSize: number,
    readonly tableSize: number,
    readonly outputSize: number,
  ) {
    this.mem = Buffer.from(memory);
    this.f64 = new Float64Array(memory, OUT, CAP * 4);
    this.i32 = new Int32Array(memory, OUT, CAP * 8);
    const second = BUFFERS + blockSize + SLACK;
    this.buffers = [
      Buffer.from(memory, BUFFERS, blockSize),
      Buffer.from(memory, second + ((8 - (second % 8)) % 8), blockSize),
    ];
    this.table = new Int32Array(memory, tablesStart(blockSize), tableSize >> 2);
    this.output = Buffer.from(memory, tablesStart(blockSize) + tableSize, outputSize);
  }

  /** How many turns `table` has room for. */
  private get turnsRoom(): number {
    return Math.max(0, (this.table.length - 4) >> 2);
  }

  /**
   * Reads the turns of the line that starts at `at` (relative to the block), one the kernel
   * accepted, into `table` (see fast.wat's `turns`; its addresses are the kernel's: `blockBase`
   * makes them relative to the block): the number of turns, or -1 when the full path has to read it.
   */
  readTurns(at: number): number {
    return this.exports.turns(this.base + at, this.table.byteOffset, this.turnsRoom);
  }

  /** Where the block read by `begin` starts in the kernel's memory. */
  get blockBase(): number {
    return this.base;
  }

  /** Whether `buf` is one of this kernel's buffers (the kernel can only read those). */
  owns(buf: Buffer): boolean {
    return buf === this.buffers[0] || buf === this.buffers[1];
  }

  /** Starts the lines of buf[0, usable) (`buf` one of `buffers`, its bytes valid UTF-8). */
  begin(buf: Buffer, usable: number): void {
    this.base = buf.byteOffset;
    this.usable = usable;
    this.mem[this.base + usable] = 10; // the sentinel
    this.count = 0;
    this.cursor = 0;
  }

  /**
   * The end (exclusive, relative to the block) of the line that starts at `at`, the next line after
   * the previous call's; `slot` then says whether the kernel accepted it (see `facts`).
   */
  next(at: number): number {
    if (this.cursor === this.count) {
      this.count = this.exports.run(this.base + at, this.base + this.usable, OUT, CAP);
      this.cursor = 0;
    }
    const r = this.cursor++;
    this.slot = this.i32[r * 8 + 7] !== 0 ? r : -1;
    return this.i32[r * 8 + 6] - this.base;
  }

  /** The slot of the facts of the last line `next` gave, or -1 when the kernel did not accept it. */
  slot = -1;

  /**
   * Writes the line that starts at `at` (relative to the block), one the kernel accepted, as an
   * OpenAI chat record at output[dst..]: the number of bytes written (at most twice the line's
   * length + 64), or -1 when the full conversion has to write it (see fast.wat's `convert`).
   */
  convertLine(at: number, dst: number): number {
    return this.exports.convert(
      this.base + at,
      this.output.byteOffset + dst,
      this.table.byteOffset,
      this.turnsRoom,
    );
  }

  /** Copies the facts of an accepted line (by its slot) into `out`. */
  facts(slot: number, out: FastFacts): void {
    out.idHash = this.f64[slot * 4];
    out.signature = this.f64[slot * 4 + 1];
    out.recStart = this.i32[slot * 8 + 4];
    out.recEnd = this.i32[slot * 8 + 5];
  }
}

/** Where the turns table starts (the output area after it): after the two read buffers. */
function tablesStart(blockSize: number): number {
  return BUFFERS + 2 * (blockSize + SLACK + 8);
}

const pool: LineKernel[] = [];

/**
 * A kernel for blocks of `blockSize` bytes with a turns table of `tableSize` bytes and an output
 * area of `outputSize` (a pooled one when free), or undefined without SIMD.
 */
export function takeLineKernel(blockSize: number, tableSize = 0, outputSize = 0): LineKernel | undefined {
  const free = pool.findIndex(
    (k) => k.blockSize === blockSize && k.tableSize === tableSize && k.outputSize === outputSize,
  );
  if (free >= 0) return pool.splice(free, 1)[0];
  const m = kernel.module();
  const wa = wasmApi();
  if (!m || !wa) return undefined;
  const pages = Math.ceil((tablesStart(blockSize) + tableSize + outputSize) / PAGE);
  try {
    const memory = new wa.Memory({ initial: pages, maximum: pages });
    const exports = new wa.Instance(m, { env: { memory } }).exports as Exports;
    return new LineKernel(exports, memory.buffer, blockSize, tableSize, outputSize);
  } catch {
    return undefined; // no memory for it: fastLine does the work
  }
}

/** Gives a kernel back once its buffers are no longer read into. */
export function releaseLineKernel(k: LineKernel): void {
  if (pool.length < 2 && !pool.includes(k)) pool.push(k);
}

/**
 * Runs `scan` with a kernel from takeLineKernel (undefined without SIMD, or when `use` is false),
 * given back once `scan` has settled.
 */
export async function withLineKernel<T>(
  sizes: { block: number; table?: number; output?: number },
  use: boolean,
  scan: (k: LineKernel | undefined) => Promise<T>,
): Promise<T> {
  const k = use ? takeLineKernel(sizes.block, sizes.table, sizes.output) : undefined;
  try {
    return await scan(k);
  } finally {
    if (k) releaseLineKernel(k);
  }
}
