/**
 * Encoding checks of a line's bytes, shared by validation, stats, convert and the editor: JSONL is
 * UTF-8, and Python's json, Hugging Face `datasets` and the fine-tuning APIs refuse anything else.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';

export interface EncodingProblem {
  /** 0-based column (UTF-16 code units, a BOM on the first line not counted) of the first bad byte. */
  column: number;
  /** 0-based byte index of that byte in the line. */
  byte: number;
  message: string;
  /** The whole file is in another encoding (UTF-16/32): nothing in it can be read as UTF-8. */
  wholeFile?: boolean;
}

export const MISPLACED_BOM =
  'a byte order mark (U+FEFF) in the middle of the file: loaders read it as a character before the record; remove it';

const BOMS: [number[], string][] = [
  [[0xff, 0xfe, 0x00, 0x00], 'UTF-32 LE'],
  [[0x00, 0x00, 0xfe, 0xff], 'UTF-32 BE'],
  [[0xff, 0xfe], 'UTF-16 LE'],
  [[0xfe, 0xff], 'UTF-16 BE'],
];

/** The encoding named by a UTF-16/32 byte order mark at `start`, if there is one. */
export function foreignBom(
  b: Uint8Array,
  start = 0,
  end = b.length,
): { name: string; bom: string } | undefined {
  for (const [bytes, name] of BOMS) {
    if (end - start >= bytes.length && bytes.every((x, k) => b[start + k] === x)) {
      return { name, bom: bytes.map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ') };
    }
  }
  return undefined;
}

/**
 * Index (from `start`) of the first byte of the first ill-formed UTF-8 sequence in b[start, end),
 * or -1 when it is all well-formed (RFC 3629: no overlong forms, surrogates or code points above
 * U+10FFFF; the same verdict as `isUtf8`).
 */
export function firstInvalidUtf8(b: Uint8Array, start = 0, end = b.length): number {
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i - start;
    if (i + n >= end) return i - start; // cut short by the end of the line
    const d = b[i + 1];
    if (d < lo || d > hi) return i - start;
    for (let k = 2; k <= n; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return i - start;
    i += n + 1;
  }
  return -1;
}

/**
 * What is wrong with the encoding of one line (bytes b[start, end), without its line ending), or
 * undefined: a UTF-16/32 byte order mark (first line), ill-formed UTF-8, or a UTF-8 byte order mark
 * that is not at the start of the file (loaders read it as a character before the record).
 */
export function encodingProblem(
  b: Buffer,
  start: number,
  end: number,
  firstLine: boolean,
): EncodingProblem | undefined {
  if (firstLine) {
    const foreign = foreignBom(b, start, end);
    if (foreign) {
      return {
        column: 0,
        byte: 0,
        message: `the file is ${foreign.name} (BOM ${foreign.bom}): convert it to UTF-8`,
        wholeFile: true,
      };
    }
  }
  const bomAt = b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf;
  if (isUtf8(b.subarray(start, end))) {
    if (firstLine || !bomAt) return undefined;
    return {
      column: 0,
      byte: 0,
      message: MISPLACED_BOM,
    };
  }
  const i = firstInvalidUtf8(b, start, end);
  const skip = firstLine && bomAt ? 3 : 0;
  const column = b.toString('utf8', start + skip, start + Math.max(i, skip)).length;
  const hex = (b[start + i] ?? 0).toString(16).padStart(2, '0').toUpperCase();
  return {
    column,
    byte: i,
    message: `invalid UTF-8: byte 0x${hex} does not start a well-formed character (Python and Hugging Face datasets refuse such files)`,
  };
}

/** Whether the file starts with a UTF-16/32 byte order mark (see foreignBom). */
export async function startsWithForeignBom(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return foreignBom(b, 0, bytesRead) !== undefined;
  } finally {
    await fh.close();
  }
}
