import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { open, type FileHandle } from 'node:fs/promises';
import { kernelSum } from './kernel';
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

/**
 * Bytes per content checksum: the file is checked in blocks of this size (64 KiB: after another
 * program rewrote part of the file in place, only the records in the blocks it changed are lost to
 * a Save As; 4 bytes per block, 64 KiB for a 1 GiB file). Checks read up to SUM_READ_BLOCKS blocks
 * per read.
 */
export const SUM_BLOCK = 64 * 1024;
/** Blocks read and checked per read (1 MiB). */
export const SUM_READ_BLOCKS = 16;
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
  const k = kernelSum(b);
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
  private fed = 0;
  private head: Buffer | undefined;
  private headBytes = 0;
  private ring: Buffer | undefined;
  private ringAt = 0;
  private ringFill = 0;

  feed(buf: Uint8Array): void {
    this.keepEnds(buf);
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

  /**
   * Appends the sums another BlockSums computed of the bytes that follow (fed from a block
   * boundary of this one): its checksums, the bytes it fed and its last kept bytes.
   */
  append(sums: Uint32Array, fed: number, tail: Uint8Array): void {
    if (this.fill !== 0) throw new Error('block sums appended off a block boundary');
    for (const s of sums) this.push(s);
    this.fed += fed - tail.length;
    this.keepEnds(tail);
  }

  finish(): Uint32Array {
    if (this.fill > 0) this.flush();
    return this.sums.slice(0, this.count);
  }

  /** Copies of the first and last KEEP_ENDS bytes fed (the last ones in a ring). */
  private keepEnds(buf: Uint8Array): void {
    const K = KEEP_ENDS;
    if (this.headBytes < K) {
      this.head ??= Buffer.allocUnsafe(K);
      const n = Math.min(K - this.headBytes, buf.length);
      this.head.set(buf.subarray(0, n), this.headBytes);
      this.headBytes += n;
    }
    this.ring ??= Buffer.allocUnsafe(K);
    const n = buf.length;
    if (n >= K) {
      this.ring.set(buf.subarray(n - K));
      this.ringAt = 0;
      this.ringFill = K;
    } else if (n > 0) {
      const first = Math.min(n, K - this.ringAt);
      this.ring.set(buf.subarray(0, first), this.ringAt);
      if (first < n) this.ring.set(buf.subarray(first), 0);
      this.ringAt = (this.ringAt + n) % K;
      this.ringFill = Math.min(K, this.ringFill + n);
    }
    this.fed += n;
  }

  /** The bytes kept of both ends of what was fed (call after the last `feed`). */
  ends(): KeptEnds {
    const ring = this.ring ?? Buffer.alloc(0);
    const tail =
      this.ringFill < KEEP_ENDS
        ? Buffer.from(ring.subarray(0, this.ringFill))
        : Buffer.concat([ring.subarray(this.ringAt), ring.subarray(0, this.ringAt)]);
    const head = Buffer.from((this.head ?? Buffer.alloc(0)).subarray(0, this.headBytes));
    return new KeptEnds(head, tail, this.fed - tail.length);
  }
}

/** Bytes kept in memory of each end of a file version (its array's frame lies there). */
export const KEEP_ENDS = 64 * 1024;

/**
 * The first and last bytes of a file version as it was read, kept in memory: a JSON array's `[`,
 * first separator and closing bytes can be written from them after another program changed or
 * shortened the file in place.
 */
export class KeptEnds {
  constructor(
    readonly head: Buffer,
    readonly tail: Buffer,
    /** File offset of `tail[0]`. */
    readonly tailStart: number,
  ) {}

  /** Bytes `[start, end)` of the version, when they lie inside one kept end. */
  range(start: number, end: number): Buffer | undefined {
    if (end <= this.head.length) return this.head.subarray(start, end);
    if (start >= this.tailStart && end <= this.tailStart + this.tail.length) {
      return this.tail.subarray(start - this.tailStart, end - this.tailStart);
    }
    return undefined;
  }
}

/** Checksums of the blocks of `[0, size)` of an open file, read in order, and its kept ends. */
export async function sumFile(fh: FileHandle, size: number): Promise<BlockSums> {
  const sums = new BlockSums();
  const buf = Buffer.allocUnsafe(4 * SUM_BLOCK);
  for (let pos = 0; pos < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead <= 0) throw new Error('the file is shorter than expected');
    sums.feed(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return sums;
}

/**
 * Checksums of blocks `first` .. `first + count - 1` of a file whose blocks cover `[0, size)`, read
 * in one go into `buf` (at least `count * SUM_BLOCK` bytes); a block that cannot be read whole (the
 * file got shorter) is undefined.
 */
export async function sumBlocks(
  fh: FileHandle,
  first: number,
  count: number,
  size: number,
  buf: Buffer,
): Promise<Array<number | undefined>> {
  const start = first * SUM_BLOCK;
  const len = Math.max(0, Math.min(count * SUM_BLOCK, size - start));
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, start + got);
    if (bytesRead <= 0) break;
    got += bytesRead;
  }
  const out: Array<number | undefined> = [];
  for (let k = 0; k < count; k++) {
    const a = k * SUM_BLOCK;
    const b = Math.min(len, a + SUM_BLOCK);
    if (b <= a || got < b) {
      out.push(undefined);
      continue;
    }
    out.push(blockChecksum(buf.subarray(a, b)));
  }
  return out;
}
