/**
 * JSON array files (`.json`): the records are the elements of the top-level array. The container owns
 * what lies between them: the bytes before the first element (`[` and its indentation), the
 * separators (a comma and whitespace) and the bytes after the last one (whitespace and `]`).
 *
 * A save copies untouched elements byte for byte, separators included; an element that stops being
 * last gets the file's separator, one that becomes last loses its own; new and edited elements are
 * written in the style (indentation, line ending, `": "` or `":"`, ASCII escapes) of the element
 * before them.
 */
import type { FileHandle } from 'node:fs/promises';
import { readExactly, type Base } from '../base';
import { EOL_LF, EOL_MASK, EOL_NONE, LineIndex } from '../lineIndex';
import { Writer, type WriteInput } from '../save';
import { scanJsonArray } from './scanJsonArray';
import type { Container } from './types';

/** How an element is laid out; detected from the start of an element of the file. */
export interface ElementStyle {
  /** One level of indentation; undefined for a compact element on one line. */
  indent: string | undefined;
  /** The indentation of the line the element starts on. */
  base: string;
  newline: '\n' | '\r\n';
  /** What follows a key: `": "` style (`: `) or `:`. */
  colon: string;
  /** Between items of a compact element: `, ` or `,`. */
  comma: string;
  /** Non-ASCII characters are written as \\u escapes (Python's `ensure_ascii`). */
  ascii: boolean;
}

export const COMPACT_STYLE: ElementStyle = {
  indent: undefined,
  base: '',
  newline: '\n',
  colon: ':',
  comma: ',',
  ascii: false,
};

/** How many bytes of an element are read to learn its style. */
const STYLE_HEAD = 4096;

/**
 * The style of an element from its first bytes (`head`, as Latin-1) and the bytes on its line before
 * it (`prefix`).
 */
export function detectStyle(head: string, prefix: string): ElementStyle {
  const base = /^[ \t]*$/.test(prefix) ? prefix : (/^[ \t]*/.exec(prefix)?.[0] ?? '');
  let indent: string | undefined;
  let newline: '\n' | '\r\n' = '\n';
  const m = /^[{[][ \t]*(\r?\n)([ \t]*)/.exec(head);
  if (m) {
    newline = m[1] === '\r\n' ? '\r\n' : '\n';
    const inner = m[2];
    indent = inner.startsWith(base) && inner.length > base.length ? inner.slice(base.length) : '  ';
  }
  // The first key and the first comma outside strings show the separators.
  let colon = indent === undefined ? ':' : ': ';
  let comma = ',';
  let sawColon = false;
  let sawComma = false;
  for (let i = 0; i < head.length && !(sawColon && sawComma); i++) {
    const c = head[i];
    if (c === '"') {
      for (i++; i < head.length && head[i] !== '"'; i++) if (head[i] === '\\') i++;
      continue;
    }
    if (c === ':' && !sawColon) {
      sawColon = true;
      colon = head[i + 1] === ' ' ? ': ' : ':';
    } else if (c === ',' && !sawComma) {
      sawComma = true;
      comma = head[i + 1] === ' ' ? ', ' : ',';
    }
  }
  // Python's ensure_ascii: \u escapes of non-ASCII characters and no raw non-ASCII bytes.
  let ascii = false;
  if (!/[\x80-\xff]/.test(head)) {
    for (const e of head.matchAll(/\\u([0-9a-fA-F]{4})/g)) {
      if (parseInt(e[1], 16) >= 0x80) {
        ascii = true;
        break;
      }
    }
  }
  return { indent, base, newline, colon, comma, ascii };
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Writes a JSON value (the text of one record) in `style`. Its tokens are kept as they are (a number
 * is not re-printed, a string keeps its escapes, unless `ascii` asks for \\u escapes of non-ASCII
 * characters); only the whitespace between them changes. Throws when the text is not JSON.
 */
export function formatElement(text: string, style: ElementStyle): string {
  JSON.parse(text); // only valid JSON can become an element
  const out: string[] = [];
  const pretty = style.indent !== undefined;
  let depth = 0;
  const breakLine = (): void => {
    out.push(style.newline, style.base, (style.indent ?? '').repeat(depth));
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWs(c)) {
      i++;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      // An empty object or list stays `{}` / `[]`.
      let j = i + 1;
      while (j < n && isWs(text.charCodeAt(j))) j++;
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (text.charCodeAt(j) === close) {
        out.push(c === 0x7b ? '{}' : '[]');
        i = j + 1;
        continue;
      }
      out.push(text[i]);
      depth++;
      if (pretty) breakLine();
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (pretty) breakLine();
      out.push(text[i]);
      i++;
    } else if (c === 0x2c) {
      out.push(',');
      if (pretty) breakLine();
      else if (style.comma !== ',') out.push(' ');
      i++;
    } else if (c === 0x3a) {
      out.push(style.colon);
      i++;
    } else if (c === 0x22) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const token = text.slice(i, j + 1);
      out.push(style.ascii ? escapeNonAscii(token) : token);
      i = j + 1;
    } else {
      let j = i + 1;
      while (j < n && !isWs(text.charCodeAt(j)) && !',:]}'.includes(text[j])) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out.join('');
}

function escapeNonAscii(s: string): string {
  return s.replace(/[\u0080-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

function countNewlines(b: Buffer | string): number {
  let n = 0;
  if (typeof b === 'string') {
    for (let i = b.indexOf('\n'); i >= 0; i = b.indexOf('\n', i + 1)) n++;
  } else {
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}

async function readRange(base: Base, start: number, end: number): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0);
  // The array's frame (its opening, first separator and closing bytes) usually lies in the ends
  // the base kept in memory: a save then needs no bytes of the file outside its records.
  return (await base.kept?.(start, end)) ?? readExactly(base, start, end - start);
}

/** Copies `[start, end)` of a base to the output: from the kept ends when they hold it. */
async function copyRange(w: Writer, base: Base, start: number, end: number): Promise<void> {
  const kept = end > start ? await base.kept?.(start, end) : undefined;
  if (kept) await w.put(kept);
  else await w.copy(base, start, end);
}

/** The style of element `i` of `base`. */
async function styleOf(base: Base, i: number): Promise<ElementStyle> {
  const index = base.index;
  const start = index.start(i);
  const head = await readRange(base, start, Math.min(index.contentEnd(i), start + STYLE_HEAD));
  // The bytes on its line before it: from the previous line break (looked for in the bytes before).
  const back = Math.min(start, 256);
  const before = (await readRange(base, start - back, start)).toString('latin1');
  const nl = before.lastIndexOf('\n');
  const prefix = nl >= 0 ? before.slice(nl + 1) : '';
  return detectStyle(head.toString('latin1'), prefix);
}

/** How the records of a file are laid out: kept across a save that leaves the array empty. */
interface Layout {
  /** The whitespace after `[` before the first record, and after the last one before `]`. */
  lead: Buffer;
  close: Buffer;
  /** Between two records. */
  sep: Buffer;
  /** The style of the first record. */
  style: ElementStyle;
}

/**
 * The layout of a file with records: the separator after its first element (else a comma and the
 * whitespace after `[`, so a one-element file keeps its layout) and the style of the first element.
 * For an empty array, the layout it had before it was emptied by a save, if any.
 */
async function layoutOf(base: Base): Promise<Layout | undefined> {
  const index = base.index;
  if (index.count === 0) return index.layoutHint as Layout | undefined;
  const lead = await readRange(base, index.openEnd, index.start(0));
  const close = await readRange(base, index.postStart, index.closeAt);
  const sep =
    index.count >= 2
      ? await readRange(base, index.contentEnd(0), index.end(0))
      : Buffer.concat([Buffer.from(','), lead]);
  return { lead, close, sep, style: await styleOf(base, 0) };
}

/** Writes a JSON array document and returns the index of what was written. */
async function writeJsonArray(out: FileHandle, input: WriteInput): Promise<LineIndex> {
  const { index, base, baseSize, lineCount } = input;
  const hasRecords = index.count > 0;
  const newIndex = new LineIndex(index.bomLength, lineCount, true);
  const layout = await layoutOf(base);
  const sep = layout?.sep ?? Buffer.from(',');
  let docLine = 0;
  let runs = [...input.runs];
  let startAt = 0;
  let line = 0; // newlines written so far
  const prefix = input.prefixLines ?? 0;
  if (prefix > 0) {
    const [first, ...rest] = runs;
    if (first?.kind !== 'original' || first.start !== 0 || first.count <= prefix || first.base !== base) {
      throw new Error('the prefix to keep is not the start of the document');
    }
    startAt = index.end(prefix - 1);
    newIndex.openEnd = index.openEnd;
    newIndex.starts[0] = index.start(0);
    newIndex.pushRun(index, 0, prefix - 1, 0);
    line = index.startLines?.[prefix] ?? 0;
    docLine = prefix;
    runs = [{ ...first, start: prefix, count: first.count - prefix }, ...rest];
  }
  const w = new Writer(
    out,
    input.signal,
    (bytes) => input.onProgress?.({ lines: docLine, bytes, totalBytes: input.totalBytes }),
    startAt,
  );
  const put = async (b: Buffer): Promise<void> => {
    await w.put(b);
    line += countNewlines(b);
  };
  if (prefix === 0) {
    // `[` and, when there are records, the whitespace before the first one.
    const head = await readRange(base, 0, lineCount > 0 && hasRecords ? index.start(0) : index.openEnd);
    await put(head);
    newIndex.openEnd = index.openEnd;
    if (lineCount > 0 && !hasRecords && layout) await put(layout.lead);
    newIndex.starts[0] = w.position;
  }
  let style: ElementStyle | undefined = hasRecords ? undefined : layout?.style;
  let styleFrom: { base: Base; at: number } | undefined = hasRecords ? { base, at: 0 } : undefined;
  for (const run of runs) {
    if (run.kind === 'original') {
      const src = run.base.index;
      const first = run.start;
      const last = run.start + run.count - 1;
      docLine += run.count;
      const isLast = docLine === lineCount;
      const lastHasSep = (src.flag(last) & EOL_MASK) !== EOL_NONE;
      const from = src.start(first);
      const delta = w.position - from;
      const lineDelta = line - (src.startLines?.[first] ?? 0);
      newIndex.pushRun(src, first, last - 1, delta, lineDelta);
      const lastContentEnd = src.contentEnd(last) + delta;
      const lastLine = (src.startLines?.[last] ?? 0) + lineDelta;
      if (isLast) {
        await w.copy(run.base, from, src.contentEnd(last));
        // The line the element ends on: after its separator (if any) there is the next element's line.
        line =
          lastHasSep && src.startLines
            ? src.startLines[last + 1] +
              lineDelta -
              countNewlines(await readRange(run.base, src.contentEnd(last), src.end(last)))
            : src.postLine + lineDelta;
        newIndex.push(w.position, EOL_NONE | (src.flag(last) & ~EOL_MASK), lastContentEnd, lastLine);
      } else if (lastHasSep) {
        await w.copy(run.base, from, src.end(last));
        line = (src.startLines?.[last + 1] ?? 0) + lineDelta;
        newIndex.push(w.position, EOL_LF | (src.flag(last) & ~EOL_MASK), lastContentEnd, lastLine);
      } else {
        // The file's last element, no longer last: it gets the file's separator.
        await w.copy(run.base, from, src.contentEnd(last));
        line = src.postLine + lineDelta;
        await put(sep);
        newIndex.push(w.position, EOL_LF | (src.flag(last) & ~EOL_MASK), lastContentEnd, lastLine);
      }
      if (styleFrom?.base !== run.base || styleFrom.at !== last) {
        styleFrom = { base: run.base, at: last };
        style = undefined;
      }
    } else {
      for (const text of run.texts) {
        docLine++;
        const isLast = docLine === lineCount;
        style ??= styleFrom ? await styleOf(styleFrom.base, styleFrom.at) : COMPACT_STYLE;
        const formatted = formatElement(text, style);
        const startLine = line;
        await w.putText(formatted, undefined);
        line += countNewlines(formatted);
        const contentEnd = w.position;
        if (!isLast) await put(sep);
        newIndex.push(w.position, isLast ? EOL_NONE : EOL_LF, contentEnd, startLine);
      }
    }
  }
  newIndex.postStart = lineCount > 0 ? w.position : newIndex.openEnd;
  newIndex.postLine = line;
  // The whitespace before `]`, `]`, and whatever follows the array. An array left empty is written
  // `[]`, and keeps its layout for records added later.
  if (lineCount === 0) {
    newIndex.layoutHint = layout;
    newIndex.closeAt = w.position;
    await copyRange(w, base, hasRecords ? index.closeAt : index.openEnd, baseSize);
  } else if (!hasRecords && layout) {
    await put(layout.close);
    newIndex.closeAt = w.position;
    await copyRange(w, base, index.closeAt, baseSize);
  } else {
    const from = hasRecords ? index.postStart : index.openEnd;
    newIndex.closeAt = w.position + (index.closeAt - from);
    await copyRange(w, base, from, baseSize);
  }
  await w.finish();
  return newIndex;
}

export const jsonArrayContainer: Container = {
  kind: 'json-array',
  preserves: 'bytes',
  newIndex: (bomLength, capacity) => new LineIndex(bomLength, capacity, true),
  async scan(fh, index, from, size, opts) {
    await scanJsonArray(fh, index, from, size, opts);
  },
  checkText(text, what, k) {
    try {
      JSON.parse(text);
    } catch (err) {
      throw new Error(
        `${what}: text ${k} is not valid JSON (${err instanceof Error ? err.message : String(err)}); a record of a JSON array file must be, or the file would no longer be an array.`,
      );
    }
  },
  write: writeJsonArray,
};
