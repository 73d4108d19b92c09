import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { describeFingerprintChange, fingerprintHandle, sameFingerprint } from './fingerprint';
import type { LineIndex } from './lineIndex';
import type { Fingerprint } from './types';

/**
 * One version of the document's lines that original-line references can point to: the file the
 * store is based on, an earlier version of it kept readable after a save (a "retired" base, so that
 * undo across a save works), or lines restored from a backup and held in memory.
 */
export interface Base {
  readonly id: string;
  readonly index: LineIndex;
  /** Where the lines come from, for messages. */
  readonly describe: string;
  /** Positioned read of the base's bytes; returns the number of bytes read (0 at the end). */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  readSync(buf: Buffer, offset: number, length: number, position: number): number;
  /** Throws a clear error when the bytes can no longer be trusted (the file was changed). */
  verify(): Promise<void>;
  close(): Promise<void>;
}

/** A file version read through an open handle (which keeps the inode readable after a rename). */
export class FileBase implements Base {
  /** Set when a newer version of the file became the store's base. */
  retired = false;
  /** Lines whose ending was only added because they stopped being last (see FLAG_EOL_ADDED). */
  eolAdded: number[] = [];
  constructor(
    readonly id: string,
    readonly fh: FileHandle,
    readonly fp: Fingerprint,
    readonly index: LineIndex,
    readonly path: string,
  ) {}

  get describe(): string {
    return this.retired ? `the earlier version of "${this.path}"` : `"${this.path}"`;
  }

  async read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(buf, offset, length, position)).bytesRead;
  }

  readSync(buf: Buffer, offset: number, length: number, position: number): number {
    return readSync(this.fh.fd, buf, offset, length, position);
  }

  async verify(): Promise<void> {
    const now = await fingerprintHandle(this.fh);
    if (!sameFingerprint(now, this.fp)) {
      throw new Error(
        `${this.describe} was changed on disk by another program (${describeFingerprintChange(this.fp, now)}), so its lines can no longer be brought back`,
      );
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Lines held in memory (lines of an earlier file version embedded in a backup). */
export class MemoryBase implements Base {
  readonly describe = 'lines restored from a backup';
  constructor(
    readonly id: string,
    readonly buf: Buffer,
    readonly index: LineIndex,
  ) {}

  readSync(buf: Buffer, offset: number, length: number, position: number): number {
    if (position >= this.buf.length) return 0;
    return this.buf.copy(buf, offset, position, Math.min(this.buf.length, position + length));
  }

  read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return Promise.resolve(this.readSync(buf, offset, length, position));
  }

  verify(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Reads exactly `len` bytes at `start` of a base. */
export async function readExactly(base: Base, start: number, len: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let done = 0;
  while (done < len) {
    const n = await base.read(buf, done, len - done, start + done);
    if (n <= 0) throw shortRead(base);
    done += n;
  }
  return buf;
}

export function readExactlySync(base: Base, start: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let done = 0;
  while (done < len) {
    const n = base.readSync(buf, done, len - done, start + done);
    if (n <= 0) throw shortRead(base);
    done += n;
  }
  return buf;
}

function shortRead(base: Base): Error {
  return new Error(`Could not read ${base.describe}: it is shorter than expected; was it changed on disk?`);
}
