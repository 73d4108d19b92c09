/**
 * The SIMD kernels of the index scans (`kernel.wat`, WebAssembly 128-bit SIMD, assembled at build
 * time): the block checksum (`sum`), the 128-bit digest stats finds repeated samples by (`hash`,
 * keyDigest) and the scan of the inside of a JSON array element. Each scan gets its own instance, whose memory
 * holds the scan's read buffers, so the kernels read the bytes where the file reads put them. Where
 * WebAssembly SIMD is not available, `newKernel` returns undefined and the callers use their
 * JavaScript paths.
 */
import wasm from './kernel.wat';
import { CompiledWasm, wasmApi } from '../wasm';

interface KernelExports {
  hash(p: number, len: number): number;
  sum(p: number, len: number): number;
  begin(kind: number): void;
  scan(p: number, end: number): number;
  depth(): number;
  inString(): number;
  top(): number;
  lines(): number;
  lastNewline(): number;
  stop(): number;
  errorAt(): number;
  errorOpen(): number;
  beginRel(): void;
  scanRel(p: number, end: number, out: number, outEnd: number): number;
  outAt(): number;
  relDepth(): number;
  relMin(): number;
}

/** Where the buffers of an instance's memory start (below: the secret, scratch and bracket stack). */
export const KERNEL_HEAP = 131072;
/** Headroom before each read buffer: up to 63 bytes an element scan carries into the next chunk. */
export const KERNEL_HEADROOM = 64;
const PAGE = 65536;
/** Where `scanRel` records the kinds of the levels opened before its start (one bit each). */
export const KERNEL_REQ = 66560;
/** Where `hash` leaves its two 64-bit folds (16 bytes: `keyDigest`). */
const KERNEL_DIGEST = 256;
/** Deepest nesting of brackets inside one element the kernel's stack holds. */
export const KERNEL_MAX_DEPTH = 524288;

/** The kind (1: "{", 2: "[") of the bracket at level `d` of the stack of the kernel whose memory is `mem`. */
export function kernelKindAt(mem: Uint8Array, d: number): number {
  return 1 + ((mem[512 + (d >> 3)] >> (d & 7)) & 1);
}

const kernel = new CompiledWasm(wasm);

/** An instance of the kernels with `bytes` of heap (at KERNEL_HEAP in `mem`). */
export interface Kernel {
  readonly exports: KernelExports;
  /** The instance's whole memory. */
  readonly mem: Buffer;
}

/** Memories of live kernels, to find the kernel whose memory a buffer lies in. */
const owners = new WeakMap<ArrayBuffer, Kernel>();

/** The secret of the checksum: 192 fixed pseudo-random bytes (splitmix64 of a fixed seed). */
function writeSecret(mem: Buffer): void {
  let x = 0x9e3779b97f4a7c15n;
  const M = (1n << 64n) - 1n;
  for (let i = 0; i < 192; i += 8) {
    x = (x + 0x9e3779b97f4a7c15n) & M;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    mem.writeBigUInt64LE(z, i);
  }
}

/**
 * A kernel instance with a heap of at least `heapBytes` (a pooled one when one is large enough), or
 * undefined without WebAssembly SIMD.
 */
export function newKernel(heapBytes: number): Kernel | undefined {
  const m = kernel.module();
  const wa = wasmApi();
  if (!m || !wa) return undefined;
  const free = pool.findIndex((k) => k.mem.length >= KERNEL_HEAP + heapBytes);
  if (free >= 0) return pool.splice(free, 1)[0];
  const pages = Math.ceil((KERNEL_HEAP + heapBytes) / PAGE);
  try {
    const memory = new wa.Memory({ initial: pages, maximum: pages });
    const exports = new wa.Instance(m, { env: { memory } }).exports as KernelExports;
    const mem = Buffer.from(memory.buffer);
    writeSecret(mem);
    const k: Kernel = { exports, mem };
    owners.set(memory.buffer, k);
    return k;
  } catch {
    return undefined; // no memory for it: the JavaScript paths do the work
  }
}

/** Kernels whose scan has ended, kept for the next scans (a wasm memory reserves address space). */
const pool: Kernel[] = [];

/** Gives a kernel from `newKernel` back once nothing reads into its memory any more. */
export function releaseKernel(k: Kernel): void {
  if (pool.length < 2 && !pool.includes(k)) pool.push(k);
}

let scratch: Kernel | null | undefined;
const SCRATCH = 1 << 20;

/**
 * The block checksum of `bytes` (the kernel's `sum`): computed where the bytes are when they lie in
 * a kernel's memory, else through a copy into a shared scratch instance. Undefined without SIMD.
 */
export function kernelSum(bytes: Uint8Array): number | undefined {
  const own = owners.get(bytes.buffer as ArrayBuffer);
  if (own && bytes.byteOffset >= KERNEL_HEAP) return own.exports.sum(bytes.byteOffset, bytes.length) >>> 0;
  if (scratch === undefined) scratch = newKernel(SCRATCH) ?? null;
  if (!scratch) return undefined;
  if (bytes.length > SCRATCH) throw new RangeError(`a checksum block is at most ${SCRATCH} bytes`);
  scratch.mem.set(bytes, KERNEL_HEAP);
  return scratch.exports.sum(KERNEL_HEAP, bytes.length) >>> 0;
}

/** Bytes of the key being written into the scratch instance (`keyStart`), -1 once it does not fit. */
let keyLength = -1;

/**
 * Starts a key for `keyDigest` in the scratch instance's memory; false without SIMD. A key is its
 * parts one after the other as they are appended: `keyTag` a byte and a 32-bit number, `keyText` a
 * text's UTF-16 code units (every text can be written, lone surrogates too, at two bytes a unit),
 * `keyUtf8` a text's UTF-8, `keyRaw` bytes as they are.
 */
export function keyStart(): boolean {
  if (scratch === undefined) scratch = newKernel(SCRATCH) ?? null;
  keyLength = scratch ? 0 : -1;
  return scratch !== null;
}

/**
 * Where `n` more bytes of the key go in the scratch memory, or -1 (the key marked as not fitting,
 * from then on) when they do not fit or no key is being written.
 */
function keyRoom(n: number): number {
  if (keyLength < 0 || !scratch) return -1;
  if (keyLength + n > SCRATCH) return (keyLength = -1);
  return KERNEL_HEAP + keyLength;
}

export function keyTag(tag: number, n: number): void {
  const at = keyRoom(5);
  if (at < 0 || !scratch) return;
  const m = scratch.mem;
  m[at] = tag;
  m[at + 1] = n;
  m[at + 2] = n >>> 8;
  m[at + 3] = n >>> 16;
  m[at + 4] = n >>> 24;
  keyLength += 5;
}

export function keyText(text: string): void {
  const at = keyRoom(2 * text.length);
  if (at >= 0 && scratch) keyLength += scratch.mem.write(text, at, 'utf16le');
}

/** Appends the bytes src[start, end). */
export function keyRaw(src: Uint8Array, start: number, end: number): void {
  const at = keyRoom(end - start);
  if (at < 0 || !scratch) return;
  scratch.mem.set(src.subarray(start, end), at);
  keyLength += end - start;
}

/** Appends the UTF-8 bytes of `text` (well-formed: a lone surrogate would be written as U+FFFD). */
export function keyUtf8(text: string): void {
  // Three bytes a unit where that fits, else the exact length: whether it fits is decided as for
  // the same bytes appended by keyRaw.
  const bound = 3 * text.length;
  const at = keyRoom(keyLength + bound <= SCRATCH ? bound : Buffer.byteLength(text, 'utf8'));
  if (at >= 0 && scratch) keyLength += scratch.mem.write(text, at, 'utf8');
}

/**
 * The 128-bit digest of the key written since `keyStart` (the kernel's `hash` of its bytes, both
 * 64-bit folds) as a 16-character latin1 string; undefined when the key did not fit the scratch
 * instance (over 1 MiB), which the caller digests otherwise. Not a cryptographic hash: it tells
 * accidental differences apart.
 */
export function keyDigest(): string | undefined {
  if (keyLength < 0 || !scratch) return undefined;
  scratch.exports.hash(KERNEL_HEAP, keyLength);
  keyLength = -1;
  return scratch.mem.toString('latin1', KERNEL_DIGEST, KERNEL_DIGEST + 16);
}

/** Whether the SIMD kernels are in use (false where WebAssembly SIMD is missing or turned off). */
export function kernelsAvailable(): boolean {
  return kernel.module() !== undefined;
}
