/**
 * Bare single-thread loops that the throughput benchmark compares against: the fastest correct way
 * found to read, split and parse a JSONL file in Node, measured in the same run as our code.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';

const BLOCK = 8 << 20;

/**
 * Reads `path` in blocks of `blockBytes` (8 MiB by default) and hands each block to `onBlock` up to
 * its last newline (the rest is carried into the next block). A line longer than the block grows
 * the block.
 */
export async function forEachBlock(
  path: string,
  onBlock: (buf: Buffer, end: number) => void,
  blockBytes = BLOCK,
): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(blockBytes);
    let filled = 0;
    let pos = 0;
    for (;;) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, pos);
      pos += bytesRead;
      filled += bytesRead;
      const end = bytesRead === 0 ? filled : buf.lastIndexOf(10, filled - 1) + 1;
      if (end > 0) {
        onBlock(buf, end);
        buf.copy(buf, 0, end, filled);
        filled -= end;
      }
      if (bytesRead === 0) break;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Reads `path` in 8 MiB blocks, finds each newline with `Buffer.indexOf`, and hands each line's
 * range to `onLine` with the block (and the block first to `onBlock`). Returns the line count.
 */
export async function forEachRange(
  path: string,
  onLine: (buf: Buffer, start: number, end: number) => void,
  onBlock?: (buf: Buffer, end: number) => void,
): Promise<number> {
  let lines = 0;
  await forEachBlock(path, (buf, end) => {
    onBlock?.(buf, end);
    let start = 0;
    while (start < end) {
      let nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= end) nl = end;
      if (nl > start) {
        onLine(buf, start, nl);
        lines++;
      }
      start = nl + 1;
    }
  });
  return lines;
}

/**
 * A slower baseline kept for the older benchmarks: 1 MiB blocks, each decoded as UTF-8 up to its
 * last newline, split with `String.indexOf`; `onLine` gets each non-empty line's text.
 */
export async function forEachDecodedLine(path: string, onLine: (text: string) => void): Promise<number> {
  let lines = 0;
  await forEachBlock(
    path,
    (buf, end) => {
      const text = buf.toString('utf8', 0, end);
      let start = 0;
      while (start < text.length) {
        let nl = text.indexOf('\n', start);
        if (nl < 0) nl = text.length;
        if (nl > start) {
          onLine(text.slice(start, nl));
          lines++;
        }
        start = nl + 1;
      }
    },
    1 << 20,
  );
  return lines;
}

/**
 * The baseline the issue names: 8 MiB reads, `indexOf` newline split, each line decoded as Latin-1
 * for `JSON.parse` (JSON's structure is ASCII) and checked with `buffer.isUtf8`.
 */
export function bareLatin1PerLine(path: string): Promise<number> {
  return forEachRange(path, (buf, s, e) => {
    JSON.parse(buf.toString('latin1', s, e));
    if (!isUtf8(buf.subarray(s, e))) throw new Error('invalid UTF-8');
  });
}

/** The same with one `isUtf8` per block instead of per line (fewer native calls). */
export function bareLatin1PerBlock(path: string): Promise<number> {
  return forEachRange(
    path,
    (buf, s, e) => {
      JSON.parse(buf.toString('latin1', s, e));
    },
    (buf, end) => {
      if (!isUtf8(buf.subarray(0, end))) throw new Error('invalid UTF-8');
    },
  );
}

/** Each line decoded as UTF-8, then parsed (what a straightforward loader does). */
export function bareUtf8PerLine(path: string): Promise<number> {
  return forEachRange(path, (buf, s, e) => {
    JSON.parse(buf.toString('utf8', s, e));
  });
}

export const BARE_PARSES = {
  'latin1 per line + isUtf8 per line': bareLatin1PerLine,
  'latin1 per line + isUtf8 per block': bareLatin1PerBlock,
  'utf8 per line': bareUtf8PerLine,
} as const;
