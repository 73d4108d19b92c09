import { createHash } from 'node:crypto';
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
