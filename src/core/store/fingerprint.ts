import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { open, type FileHandle } from 'node:fs/promises';
import { kernelHash } from './kernel';
import type { Fingerprint } from './types';

const EDGE = 64 * 1024;

/** Fingerprint of an open file: size, mtime and a hash of its first and last 64 KiB. */
export async function fingerprintHandle(fh: FileHandle): Promise<Fingerprint> {
  const st = await fh.stat();
  const size = st.size;
  const hash = createHash('sha256');
  const head = Buffer.allocUnsafe(Math.min(EDGE, size));
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  hash.update(head.subarray(0, bytesRead));
  if (size > EDGE) {
    const tailStart = Math.max(EDGE, size - EDGE);
    const tail = Buffer.allocUnsafe(size - tailStart);
    const r = await fh.read(tail, 0, tail.length, tailStart);
    hash.update(tail.subarray(0, r.bytesRead));
  }
  return { size, mtimeMs: st.mtimeMs, headTailSha256: hash.digest('hex') };
}

export async function fingerprintFile(path: string): Promise<Fingerprint> {
  const fh = await open(path, 'r');
  try {
    return await fingerprintHandle(fh);
  } finally {
    await fh.close();
  }
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.headTailSha256 === b.headTailSha256;
}

/** Says in plain words how two fingerprints differ. */
export function describeFingerprintChange(expected: Fingerprint, actual: Fingerprint): string {
  const parts: string[] = [];
  if (expected.size !== actual.size)
    parts.push(`its size is ${actual.size} bytes instead of ${expected.size}`);
  if (expected.mtimeMs !== actual.mtimeMs) {
    parts.push(
      `it was modified at ${new Date(actual.mtimeMs).toISOString()} instead of ${new Date(expected.mtimeMs).toISOString()}`,
    );
  }
  if (expected.headTailSha256 !== actual.headTailSha256) parts.push('its first or last 64 KiB differ');
  return parts.join(', ') || 'it is unchanged';
}

/** Bytes per content checksum: the file is checked in blocks of this size. */
export const SUM_BLOCK = 1024 * 1024;
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** Checksum of one block, continued from `value` (CRC-32; SHA-1's first 32 bits where zlib has none). */
class BlockHash {
  private crc = 0;
  private sha = crc32 ? undefined : createHash('sha1');
  update(b: Uint8Array): void {
    if (this.sha) this.sha.update(b);
    else this.crc = (crc32 as (d: Uint8Array, v?: number) => number)(b, this.crc);
  }
  digest(): number {
    return this.sha ? this.sha.digest().readUInt32LE(0) : this.crc >>> 0;
  }
}

/**
 * The checksum of one whole block: the SIMD kernel's hash where WebAssembly SIMD is available (about
 * twice as fast as zlib's CRC-32 here, and in place when the block lies in a scan's buffers), else
 * CRC-32. Checksums are only compared within one process, so which one is used never mixes.
 */
export function blockChecksum(b: Uint8Array): number {
  const k = kernelHash(b);
  if (k !== undefined) return k;
  const h = new BlockHash();
  h.update(b);
  return h.digest();
}

/**
 * Checksums of the consecutive SUM_BLOCK-byte blocks of a file, fed in order (the index scan feeds
 * the bytes it reads, so the checksums describe exactly the bytes that were indexed). Whole blocks
 * that arrive aligned are hashed where they are; the others are gathered in a block buffer first.
 */
export class BlockSums {
  private sums = new Uint32Array(64);
  private count = 0;
  private pending: Buffer | undefined;
  private fill = 0;

  feed(buf: Uint8Array): void {
    let at = 0;
    while (at < buf.length) {
      if (this.fill === 0 && buf.length - at >= SUM_BLOCK) {
        this.push(blockChecksum(buf.subarray(at, at + SUM_BLOCK)));
        at += SUM_BLOCK;
        continue;
      }
      this.pending ??= Buffer.allocUnsafe(SUM_BLOCK);
      const n = Math.min(SUM_BLOCK - this.fill, buf.length - at);
      this.pending.set(buf.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === SUM_BLOCK) this.flush();
    }
  }

  private flush(): void {
    this.push(blockChecksum((this.pending as Buffer).subarray(0, this.fill)));
    this.fill = 0;
  }

  private push(sum: number): void {
    if (this.count === this.sums.length) {
      const grown = new Uint32Array(this.sums.length * 2);
      grown.set(this.sums);
      this.sums = grown;
    }
    this.sums[this.count++] = sum;
  }

  finish(): Uint32Array {
    if (this.fill > 0) this.flush();
    return this.sums.slice(0, this.count);
  }
}

/** Checksums of the blocks of `[0, size)` of an open file, read in order. */
export async function sumFile(fh: FileHandle, size: number): Promise<Uint32Array> {
  const sums = new BlockSums();
  const buf = Buffer.allocUnsafe(4 * SUM_BLOCK);
  for (let pos = 0; pos < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead <= 0) throw new Error('the file is shorter than expected');
    sums.feed(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return sums.finish();
}

/** Checksum of block `b` of a file whose blocks cover `[0, size)`; undefined when it cannot be read whole. */
export async function sumBlock(
  fh: FileHandle,
  b: number,
  size: number,
  buf: Buffer,
): Promise<number | undefined> {
  const start = b * SUM_BLOCK;
  const len = Math.min(SUM_BLOCK, size - start);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, start + got);
    if (bytesRead <= 0) return undefined;
    got += bytesRead;
  }
  return blockChecksum(buf.subarray(0, len));
}
