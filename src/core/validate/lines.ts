import { open } from 'node:fs/promises';

/**
 * Reads the lines of file[start, end) (start at a line start, end at a line start or EOF) and calls
 * onLine(text, index, byteOffset) for each, in order; text has no '\n' (a '\r' before it stays).
 * Decodes a block at a time and never holds more than one block (or one line, if longer).
 * Returns the number of lines.
 */
export async function forEachLine(
  path: string,
  start: number,
  end: number,
  onLine: (text: string, index: number, byteOffset: number) => void,
  shouldStop?: () => boolean,
  onBlock?: (bytesDone: number) => void,
  blockSize = 1 << 20,
): Promise<number> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(blockSize);
    let filled = 0; // bytes of buf holding data not yet consumed
    let pos = start; // file offset of buf[0]
    let index = 0;
    let eof = false;
    while (!eof || filled > 0) {
      if (shouldStop?.()) return index;
      if (!eof) {
        if (filled === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, filled);
          buf = bigger;
        }
        const want = Math.min(buf.length - filled, end - (pos + filled));
        const { bytesRead } = want > 0 ? await fh.read(buf, filled, want, pos + filled) : { bytesRead: 0 };
        filled += bytesRead;
        if (bytesRead === 0 || pos + filled >= end) eof = true;
      }
      if (filled === 0) break;
      const lastNl = buf.lastIndexOf(10, filled - 1);
      let usable: number;
      if (lastNl >= 0) usable = lastNl + 1;
      else if (eof) usable = filled;
      else continue; // a line longer than the buffer: read more
      const text = buf.toString('utf8', 0, usable);
      let bpos = 0;
      let spos = 0;
      while (bpos < usable) {
        const bnl = buf.indexOf(10, bpos);
        const snl = text.indexOf('\n', spos);
        if (bnl < 0 || bnl >= usable) {
          onLine(text.slice(spos), index++, pos + bpos);
          bpos = usable;
          break;
        }
        onLine(text.slice(spos, snl), index++, pos + bpos);
        bpos = bnl + 1;
        spos = snl + 1;
      }
      buf.copy(buf, 0, usable, filled);
      filled -= usable;
      pos += usable;
      onBlock?.(pos - start);
    }
    return index;
  } finally {
    await fh.close();
  }
}

/** The text of the line that starts at byteOffset (without its '\n'). */
export async function readLineAt(path: string, byteOffset: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const parts: Buffer[] = [];
    let pos = byteOffset;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      const nl = buf.indexOf(10);
      if (nl >= 0 && nl < bytesRead) {
        parts.push(buf.subarray(0, nl));
        break;
      }
      parts.push(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Splits [0, size) into ranges that start at line starts, about `chunk` bytes each. */
export async function splitOnLines(path: string, size: number, chunk: number): Promise<[number, number][]> {
  const cuts = [0];
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let target = chunk;
    while (target < size) {
      let pos = target;
      let cut = -1;
      while (pos < size) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        const nl = buf.indexOf(10);
        if (nl >= 0 && nl < bytesRead) {
          cut = pos + nl + 1;
          break;
        }
        pos += bytesRead;
      }
      if (cut < 0 || cut >= size) break;
      cuts.push(cut);
      target = cut + chunk;
    }
  } finally {
    await fh.close();
  }
  return cuts.map((c, i) => [c, i + 1 < cuts.length ? cuts[i + 1] : size]);
}
