/**
 * One way to read the records of a dataset file in order, whatever holds them: the lines of a JSONL
 * file, the elements of a JSON array, or the rows of a Parquet file (each as a JSON object text;
 * positions are `row N` there, since the file has no lines). Every command that reads a dataset file (validate, stats,
 * convert, the generation commands) goes through `readFileRecords`, and reports positions through
 * `where`, so that line:column is always the file's own.
 */
import { open } from 'node:fs/promises';
import { encodingProblem, foreignBom, type EncodingProblem } from '../encoding';
import { readFileLines } from '../stats/lines';
import { containerKindFor, type ContainerKind } from './containers';
import { JsonArrayError, JsonArrayScanner, exactColumn } from './containers/scanJsonArray';
import { COMPACT_STYLE, formatElement } from './containers/jsonArray';
import { isParquetPath } from './containers/parquet';
import { LineIndex } from './lineIndex';
import { readParquetRows } from './recordSource';

export interface FileRecord {
  /** 1-based line the record starts on. */
  line: number;
  /** 0-based (UTF-16) column the record starts at: 0 for a JSONL line. */
  column: number;
  /** 0-based index of the record (JSONL: of the line, blank lines included). */
  index: number;
  /** File offset of the record's first byte. */
  offset: number;
  /** The record's text (a JSONL line without its line ending; a JSON array element, as written). */
  text: string;
  /** Bytes of the file read so far (for progress). */
  bytes: number;
  /** The record's bytes. */
  raw: Buffer;
  /** Its encoding problem, if any (ill-formed UTF-8, a misplaced BOM, a UTF-16/32 file). */
  encoding?: EncodingProblem;
  /** What holds the record. */
  container: ContainerKind | 'parquet';
}

/**
 * The record as one JSONL line: a JSONL line as it is; an element of a JSON array (which may span
 * lines) with the whitespace between its tokens removed (its tokens unchanged), or, when it is not
 * valid JSON, with its line breaks turned into spaces.
 */
export function jsonlText(r: Pick<FileRecord, 'text' | 'container'>): string {
  if (r.container === 'jsonl') return r.text;
  try {
    return formatElement(r.text, COMPACT_STYLE);
  } catch {
    return r.text.replace(/\r?\n/g, ' ');
  }
}

/** The 1-based line and column of offset `at` (UTF-16 units) of a record's text. */
export function positionIn(
  r: Pick<FileRecord, 'line' | 'column' | 'text'>,
  at: number,
): { line: number; column: number } {
  const text = r.text;
  const end = Math.max(0, Math.min(at, text.length));
  const nl = end > 0 ? text.lastIndexOf('\n', end - 1) : -1;
  if (nl < 0) return { line: r.line, column: r.column + end + 1 };
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) lines++;
  return { line: r.line + lines, column: end - nl };
}

/**
 * `FILE:LINE:COLUMN` of offset `at` (UTF-16 units, 0-based) of a record's text; `FILE:row N` for a
 * Parquet row (a column would point into a JSON text that is not in the file).
 */
export function where(
  file: string,
  r: Pick<FileRecord, 'line' | 'column' | 'text'> & { container?: FileRecord['container'] },
  at = 0,
): string {
  if (r.container === 'parquet') return `${file}:row ${r.line}`;
  const p = positionIn(r, at);
  return `${file}:${p.line}:${p.column}`;
}

/** How a file holds its records (by its name: `.json` is a JSON array). */
export function recordContainer(path: string): ContainerKind {
  return containerKindFor(path);
}

/**
 * Yields every record of a dataset file, streamed (memory: one chunk and one record). JSONL: every
 * line (blank ones too, as `readFileLines`). A JSON array: every element; a file that is not a JSON
 * array of records throws a JsonArrayError with its line and column.
 */
export async function* readFileRecords(path: string): AsyncGenerator<FileRecord> {
  if (isParquetPath(path)) {
    let index = 0;
    for await (const l of readParquetRows(path))
      yield { ...l, column: 0, index: index++, offset: -1, container: 'parquet' };
    return;
  }
  if (recordContainer(path) === 'jsonl') {
    let index = 0;
    for await (const l of readFileLines(path)) {
      const r: FileRecord = { ...l, column: 0, index: index++, offset: -1, container: 'jsonl' };
      yield r;
    }
    return;
  }
  yield* readArrayRecords(path);
}

const CHUNK = 1 << 20;

async function* readArrayRecords(path: string): AsyncGenerator<FileRecord> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let { bytesRead } = await fh.read(buf, 0, CHUNK, 0);
    const foreign = foreignBom(buf, 0, bytesRead);
    if (foreign)
      throw new JsonArrayError(
        `the file is ${foreign.name} (BOM ${foreign.bom}): convert it to UTF-8`,
        0,
        0,
        0,
      );
    const bom = bytesRead >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    const index = new LineIndex(bom, 64, true);
    const scanner = new JsonArrayScanner(index, bom);
    // The bytes from `winStart` on, so that a record that spans chunks can be cut out whole.
    let win = Buffer.alloc(0);
    let winStart = 0;
    let pos = 0;
    let recNo = 0;
    // Where the last record (or the start) ended, and the line and UTF-16 column there.
    let cursor = bom;
    let line = 0;
    let col = 0;
    const advance = (text: string): void => {
      const nl = text.lastIndexOf('\n');
      if (nl < 0) col += text.length;
      else {
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
        col = text.length - nl - 1;
      }
    };
    const take = function* (): Generator<FileRecord> {
      for (let i = 0; i < index.count; i++) {
        const start = index.start(i);
        const end = index.contentEnd(i);
        advance(win.toString('utf8', cursor - winStart, start - winStart));
        const raw = win.subarray(start - winStart, end - winStart);
        const text = raw.toString('utf8');
        const rec: FileRecord = {
          line: line + 1,
          column: col,
          index: recNo++,
          offset: start,
          text,
          bytes: pos,
          raw,
          container: 'json-array',
        };
        const enc = encodingProblem(raw, 0, raw.length, false);
        if (enc) rec.encoding = enc;
        yield rec;
        advance(text);
        cursor = end;
      }
      // The next record starts at starts[count]: keep the bytes from the cursor on.
      index.starts[0] = index.starts[index.count];
      index.flags[0] = index.flags[index.count];
      index.count = 0;
    };
    for (;;) {
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      scanner.feed(chunk, bytesRead, pos);
      pos += bytesRead;
      // Keep the bytes from the cursor (the end of the last record yielded) on.
      const keepFrom = Math.min(cursor, pos);
      const kept = win.subarray(Math.max(0, keepFrom - winStart));
      win = Buffer.concat([kept, chunk]);
      winStart = pos - win.length;
      yield* take();
      ({ bytesRead } = await fh.read(buf, 0, CHUNK, pos));
    }
    scanner.finish(pos);
    yield* take();
  } catch (err) {
    if (err instanceof JsonArrayError) await exactColumn(fh, err);
    throw err;
  } finally {
    await fh.close();
  }
}
