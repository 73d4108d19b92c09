import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { open, type FileHandle } from 'node:fs/promises';
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

/** A short id of a file version (what edits' original-line references name). */
export function baseIdOf(fp: Fingerprint): string {
  return createHash('sha256')
    .update(`${fp.size}:${fp.mtimeMs}:${fp.headTailSha256}`)
    .digest('hex')
    .slice(0, 24);
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
 * Checksums of the consecutive SUM_BLOCK-byte blocks of a file, fed in order (the index scan feeds
 * the bytes it reads, so the checksums describe exactly the bytes that were indexed).
 */
export class BlockSums {
  private sums = new Uint32Array(64);
  private count = 0;
  private hash = new BlockHash();
  private fill = 0;

  feed(buf: Uint8Array): void {
    let at = 0;
    while (at < buf.length) {
      const n = Math.min(SUM_BLOCK - this.fill, buf.length - at);
      this.hash.update(buf.subarray(at, at + n));
      this.fill += n;
      at += n;
      if (this.fill === SUM_BLOCK) this.push();
    }
  }

  private push(): void {
    if (this.count === this.sums.length) {
      const grown = new Uint32Array(this.sums.length * 2);
      grown.set(this.sums);
      this.sums = grown;
    }
    this.sums[this.count++] = this.hash.digest();
    this.hash = new BlockHash();
    this.fill = 0;
  }

  finish(): Uint32Array {
    if (this.fill > 0) this.push();
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
  const h = new BlockHash();
  h.update(buf.subarray(0, len));
  return h.digest();
}
