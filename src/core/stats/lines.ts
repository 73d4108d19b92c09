/** Streams the lines of a file (any size) without holding it whole in memory. */
import { createReadStream } from 'node:fs';
import { encodingProblem, type EncodingProblem } from '../encoding';

export interface FileLine {
  /** 1-based line number. */
  line: number;
  /** Line text without its line ending (`\n` or `\r\n`); a leading BOM is removed from line 1. */
  text: string;
  /** Bytes of the file read so far (for progress). */
  bytes: number;
  /** The line's bytes without its line ending (a BOM on line 1 included). */
  raw: Buffer;
  /**
   * Its encoding problem, if any (see encodingProblem): ill-formed UTF-8 (then `text` holds U+FFFD
   * where the bad bytes are; write `raw` to keep them), a BOM in the middle of the file, or a
   * UTF-16/32 file (on line 1).
   */
  encoding?: EncodingProblem;
}

/**
 * A line loaders skip or fail on as empty: nothing but JSON whitespace (space, tab, CR). Lines of
 * other invisible characters (NUL, control characters, U+00A0, U+3000, a BOM) are not blank: they
 * are invalid JSON, as `parrot validate` says too.
 */
export function isBlankLine(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

const utf8 = new TextDecoder('utf-8');

/**
 * The text and encoding problem of the line b[start, end) (its line ending left out) as
 * readFileLines reads it: a BOM on line 1 left out of the text; ill-formed bytes as U+FFFD.
 * `validUtf8` may say that bytes around the line are known to be valid UTF-8 (skips the check).
 */
export function decodeLine(
  b: Buffer,
  start: number,
  end: number,
  first: boolean,
  validUtf8 = false,
): { text: string; encoding?: EncodingProblem } {
  const bomAt = b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf;
  const encoding = validUtf8 && !first && !bomAt ? undefined : encodingProblem(b, start, end, first);
  let text = encoding ? utf8.decode(b.subarray(start, end)) : b.toString('utf8', start, end);
  if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return encoding ? { text, encoding } : { text };
}

/** Yields every line; a final line without a newline is yielded, an empty remainder after the last newline is not. */
export async function* readFileLines(path: string): AsyncGenerator<FileLine> {
  let pending: Buffer[] = [];
  let line = 0;
  let bytes = 0;
  const emit = (chunks: Buffer[]): FileLine => {
    let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    const { text, encoding } = decodeLine(buf, 0, buf.length, line === 0);
    const out: FileLine = { line: ++line, text, bytes, raw: buf };
    if (encoding) out.encoding = encoding;
    return out;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, nl));
      yield emit(pending);
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.some((b) => b.length > 0)) yield emit(pending);
}
