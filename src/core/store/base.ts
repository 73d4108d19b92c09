import { readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { explainFsError } from './errors';
import { type KeptEnds, SUM_BLOCK, SUM_READ_BLOCKS, fingerprintHandle, sumBlocks } from './fingerprint';
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
  /** Bytes `[start, end)` as they were read, from memory, when the base kept them (see KeptEnds). */
  kept?(start: number, end: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/**
 * A file is "quiet" when its last change (ctime) lies this far before we read it: a later write then
 * always moves its ctime, even with coarse file-system clocks (FAT: 2 s), so an unchanged ctime proves
 * unchanged content without reading it (the "racy git" rule).
 */
const QUIET_MS = 2000;
/**
 * The same, for a file system whose times have sub-millisecond parts (ext4, xfs, btrfs, APFS, NTFS):
 * its clock ticks every few milliseconds at most (Linux: 1–10 ms), so a change 100 ms after the last
 * one always shows in the times. Waiting the coarse 2 s there would make a save right after the file
 * was written read all of it again.
 */
const QUIET_FINE_MS = 100;

/** How long after `ident`'s last change unchanged times prove unchanged bytes. */
function quietMs(ident: FileIdentity): number {
  const fine = ident.ctimeMs % 1 !== 0 || ident.mtimeMs % 1 !== 0;
  return fine ? QUIET_FINE_MS : QUIET_MS;
}

/** The identity of a file version: which inode it is, and its size and times when we read it. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function identityOf(st: Stats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

/** What a content check of a file version found (through its open handle). */
export interface ContentCheck {
  /** The size the open file has now. */
  size: number;
  /** Byte ranges of the checked blocks of the version that no longer hold the same bytes, merged. */
  changed: Array<[number, number]>;
  /** Only the times changed (a touch): same size, every checked block the same. */
  touched: boolean;
  /** The stat of the open file the check ended on. */
  stat: Stats;
}

/** A file version read through an open handle (which keeps the inode readable after a rename). */
export class FileBase implements Base {
  /** Set when a newer version of the file became the store's base. */
  retired = false;
  /** Lines whose ending was only added because they stopped being last (see FLAG_EOL_ADDED). */
  eolAdded: number[] = [];
  /** Checksums of the version's SUM_BLOCK blocks; undefined when they could not be computed. */
  private sums: Promise<Uint32Array | undefined> = Promise.resolve(undefined);
  /** Both ends of the version as read, valid exactly when the checksums are. */
  private ends: Promise<KeptEnds | undefined> = Promise.resolve(undefined);
  /** True when an unchanged size, mtime and ctime prove that the content is unchanged. */
  private quiet = false;
  /**
   * For a file we wrote ourselves (its ctime is that of our write): unchanged times prove unchanged
   * content once this wall-clock time has passed (see `provideSums`).
   */
  private quietAfterMs: number | undefined;
  constructor(
    readonly id: string,
    readonly fh: FileHandle,
    readonly fp: Fingerprint,
    readonly index: LineIndex,
    readonly path: string,
    /** Identity when the version was read (dev, inode, size, times). */
    public ident: FileIdentity,
  ) {}

  /**
   * Sets where the checksums come from (the index scan, or a read after a save). `readStartedMs` is
   * the wall-clock time at which reading the bytes they describe started.
   */
  provideSums(
    sums: Promise<Uint32Array | undefined>,
    readStartedMs: number,
    ownWrite = false,
    ends?: Promise<KeptEnds>,
  ): void {
    // A file we just wrote has a ctime of now: its times prove it unchanged once they are quiet
    // (a write by another program within the clock tick of our own last write is not seen).
    this.quietAfterMs = ownWrite ? this.ident.ctimeMs + quietMs(this.ident) : undefined;
    this.sums = sums
      .then(
        async (s) => {
          // Writes during the read would make the checksums describe neither version: drop them.
          const st = await this.fh.stat();
          if (!sameTimes(identityOf(st), this.ident)) return undefined;
          this.quiet = this.ident.ctimeMs + quietMs(this.ident) < readStartedMs;
          if (!this.quiet && !ownWrite) this.confirmQuietLater();
          return s;
        },
        () => undefined,
      )
      .catch(() => undefined); // closed meanwhile
    const sumsNow = this.sums;
    this.ends = ends
      ? Promise.all([sumsNow, ends]).then(
          ([s, e]) => (s ? e : undefined),
          () => undefined,
        )
      : Promise.resolve(undefined);
  }

  async kept(start: number, end: number): Promise<Buffer | undefined> {
    return (await this.ends)?.range(start, end);
  }

  /**
   * A file read too soon after its last change (not quiet) would need a full content check at every
   * save. Instead, once its quiet time has passed, its blocks are compared with the checksums once in
   * the background (as git re-hashes "racily clean" files): the same bytes then, with unchanged
   * times, prove it unchanged from then on, since any later write moves its times.
   */
  private confirmQuietLater(): void {
    const wait = Math.max(0, this.ident.ctimeMs + quietMs(this.ident) - Date.now()) + 10;
    const timer = setTimeout(() => {
      const startedMs = Date.now();
      const before = this.ident;
      this.checkContent()
        .then((c) => {
          const unchanged = c.changed.length === 0 && c.size === this.fp.size && !c.touched;
          const timesHeld = sameTimes(identityOf(c.stat), before) && before === this.ident;
          if (unchanged && timesHeld && before.ctimeMs + quietMs(before) < startedMs) this.quiet = true;
        })
        .catch(() => undefined); // closed meanwhile: nothing to confirm
    }, wait);
    timer.unref?.();
  }

  get describe(): string {
    return this.retired ? `the earlier version of "${this.path}"` : `"${this.path}"`;
  }

  async read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(buf, offset, length, position)).bytesRead;
  }

  readSync(buf: Buffer, offset: number, length: number, position: number): number {
    return readSync(this.fh.fd, buf, offset, length, position);
  }

  /**
   * Compares the bytes the open handle sees now with the version that was read: the blocks that
   * cover `ranges` (byte ranges of the version; all of it when omitted). An unchanged size, mtime
   * and ctime of a quiet file prove it unchanged without reading; otherwise every block is read and
   * compared with its checksum. A full check that finds only new times adopts them (a touch).
   */
  async checkContent(ranges?: Array<[number, number]>): Promise<ContentCheck> {
    const size0 = this.fp.size;
    const startedMs = Date.now();
    const st = await this.fh.stat();
    const now = identityOf(st);
    const sums = await this.sums;
    const quiet = this.quiet || (this.quietAfterMs !== undefined && startedMs > this.quietAfterMs);
    if (sums && quiet && sameTimes(now, this.ident)) {
      return { size: st.size, changed: [], touched: false, stat: st };
    }
    const blocks = new Set<number>();
    for (const [a, b] of ranges ?? [[0, size0]]) {
      for (let k = Math.floor(a / SUM_BLOCK); k * SUM_BLOCK < Math.min(b, size0); k++) blocks.add(k);
    }
    const changed: Array<[number, number]> = [];
    const buf = Buffer.allocUnsafe(SUM_READ_BLOCKS * SUM_BLOCK);
    const order = [...blocks].sort((x, y) => x - y);
    for (let i = 0; i < order.length;) {
      // Consecutive blocks are read together, up to SUM_READ_BLOCKS per read.
      const first = order[i];
      let count = 1;
      while (count < SUM_READ_BLOCKS && order[i + count] === first + count) count++;
      const current = sums === undefined ? [] : await sumBlocks(this.fh, first, count, size0, buf);
      for (let j = 0; j < count; j++) {
        const k = first + j;
        if (sums !== undefined && current[j] !== undefined && current[j] === sums[k]) continue;
        const a = k * SUM_BLOCK;
        const b = Math.min(size0, a + SUM_BLOCK);
        const last = changed[changed.length - 1];
        if (last && last[1] === a) last[1] = b;
        else changed.push([a, b]);
      }
      i += count;
    }
    const after = identityOf(await this.fh.stat());
    const timesMoved = !sameTimes(now, this.ident);
    const touched = timesMoved && changed.length === 0 && st.size === size0;
    if (touched && ranges === undefined && sameTimes(after, now)) {
      // Only the times changed: adopt them, so that the next check can be quick again.
      this.ident = now;
      this.fp.mtimeMs = now.mtimeMs;
      this.quiet = now.ctimeMs + quietMs(now) < startedMs;
      this.quietAfterMs = undefined;
    }
    return { size: st.size, changed, touched, stat: st };
  }

  async verify(): Promise<void> {
    const c = await this.checkContent();
    if (c.changed.length > 0 || c.size !== this.fp.size) {
      const how =
        c.size !== this.fp.size
          ? `its size is ${c.size} bytes instead of ${this.fp.size}`
          : 'its content differs from the version that was read';
      throw new Error(
        `${this.describe} was changed on disk by another program (${how}), so its lines can no longer be brought back`,
      );
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

function sameTimes(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
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

/**
 * Opens the dataset file at `path` for reading, with its stat and fingerprint; a clear error when
 * it does not exist, cannot be opened or is not a regular file (the handle is closed then).
 */
export async function openRegularFile(path: string): Promise<{ fh: FileHandle; st: Stats; fp: Fingerprint }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : explainFsError(err, path);
    throw new Error(`Could not open "${path}": ${reason}.`, { cause: err });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`Could not open "${path}": it is not a regular file.`);
    return { fh, st, fp: await fingerprintHandle(fh) };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
