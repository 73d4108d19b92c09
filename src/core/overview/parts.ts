/**
 * How the overview splits a dataset file into parts that worker threads read themselves, whatever
 * holds its records: byte ranges aligned on lines for JSONL; runs of elements of the store's element
 * index (the JSON array scan of src/core/store) for a JSON array; whole row groups for Parquet. A
 * part carries the index of its first record as the dialogue editor numbers records (JSONL: the
 * 0-based line, blank lines included; a JSON array: the element; Parquet: the row), so that every
 * worker names records as the editor does and a click on a bar selects the same records.
 */
import { open } from 'node:fs/promises';
import { encodingProblem, foreignBom, type EncodingProblem } from '../encoding';
import { containerKindFor, containerOf, JsonArrayError } from '../store/containers';
import { isParquetPath, ParquetRowSource } from '../store/containers/parquet';
import { splitOnLines } from '../validate/lines';

export type PartKind = 'jsonl' | 'json-array' | 'parquet';

/** The kind of file `path` is, as the store and `readFileRecords` read it. */
export function partKind(path: string): PartKind {
  return isParquetPath(path) ? 'parquet' : containerKindFor(path);
}

export interface ScanTask {
  id: number;
  path: string;
  tokenizer: string;
  kind: PartKind;
  /** JSONL and JSON array: the file's bytes [start, end); Parquet: rows [start, end) (whole row groups). */
  start: number;
  end: number;
  /** The editor's index of the part's first record (for JSONL, its line; -1 until counted). */
  first: number;
  /** JSON array: the start and end offsets of each element of the part, in pairs. */
  elements?: Float64Array;
  /** How many bytes of the file the part stands for (progress). */
  bytes: number;
}

/** The size each part aims at (bytes): a few parts per worker, so that the work evens out. */
export function partBytes(size: number, workers: number): number {
  return Math.min(16 << 20, Math.max(1 << 20, Math.ceil(size / (workers * 8))));
}

/** The parts of a JSONL file: byte ranges aligned on line starts (`first` counted later). */
async function jsonlParts(path: string, size: number, chunk: number, tokenizer: string): Promise<ScanTask[]> {
  const ranges = await splitOnLines(path, size, chunk);
  return ranges.map(([start, end], id) => ({
    id,
    path,
    tokenizer,
    kind: 'jsonl',
    start,
    end,
    first: id === 0 ? 0 : -1,
    bytes: end - start,
  }));
}

/**
 * The parts of a JSON array: its elements found by the store's scan (strings and escapes
 * respected; a file that is not an array of records throws a JsonArrayError with its line and
 * column), cut into runs of about `chunk` bytes.
 */
async function arrayParts(
  path: string,
  size: number,
  chunk: number,
  tokenizer: string,
  signal?: AbortSignal,
): Promise<ScanTask[]> {
  const container = containerOf('json-array');
  const fh = await open(path, 'r');
  let index;
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    const foreign = foreignBom(head, 0, bytesRead);
    if (foreign)
      throw new JsonArrayError(
        `the file is ${foreign.name} (BOM ${foreign.bom}): convert it to UTF-8`,
        0,
        0,
        0,
      );
    const bom = bytesRead >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    index = container.newIndex(bom, 1024);
    await container.scan(fh, index, bom, size, { chunkSize: 8 << 20, signal, onChunk: () => undefined });
  } finally {
    await fh.close();
  }
  const tasks: ScanTask[] = [];
  for (let i = 0; i < index.count;) {
    const start = index.start(i);
    let j = i;
    while (j < index.count && (j === i || index.contentEnd(j) - start <= chunk)) j++;
    const elements = new Float64Array(2 * (j - i));
    for (let k = i; k < j; k++) {
      elements[2 * (k - i)] = index.start(k);
      elements[2 * (k - i) + 1] = index.contentEnd(k);
    }
    const end = index.contentEnd(j - 1);
    tasks.push({
      id: tasks.length,
      path,
      tokenizer,
      kind: 'json-array',
      start,
      end,
      first: i,
      elements,
      bytes: end - start,
    });
    i = j;
  }
  return tasks;
}

/** The parts of a Parquet file: one per row group (a worker decodes one group at a time). */
async function parquetParts(path: string, tokenizer: string): Promise<ScanTask[]> {
  const src = await ParquetRowSource.open(path);
  try {
    return src.info.rowGroups.map((rows, g) => {
      const first = src.startOf(g) ?? 0;
      return {
        id: g,
        path,
        tokenizer,
        kind: 'parquet',
        start: first,
        end: first + rows,
        first,
        bytes: Number(src.metadata.row_groups[g]?.total_compressed_size ?? 0),
      } satisfies ScanTask;
    });
  } finally {
    await src.close();
  }
}

/** The parts of a file for `workers` worker threads. */
export async function planParts(
  path: string,
  size: number,
  workers: number,
  tokenizer: string,
  signal?: AbortSignal,
  chunk = partBytes(size, workers),
): Promise<ScanTask[]> {
  switch (partKind(path)) {
    case 'parquet':
      return parquetParts(path, tokenizer);
    case 'json-array':
      return arrayParts(path, size, chunk, tokenizer, signal);
    default:
      return jsonlParts(path, size, chunk, tokenizer);
  }
}

/**
 * Fills `first` of each JSONL part (its first line) by counting the newlines before it, one part
 * after another; `ready(i)` resolves when part i's is known. Counting runs while workers measure
 * the parts already known, at memchr speed.
 */
export function countFirstLines(tasks: ScanTask[], signal?: AbortSignal): (i: number) => Promise<void> {
  const done: Promise<void>[] = [];
  let chain = Promise.resolve();
  // 1 MiB reads count as fast as larger ones here, and the buffer lives until a collection.
  const buf = Buffer.allocUnsafe(1 << 20);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  for (let i = 0; i < tasks.length; i++) {
    if (tasks[i].first >= 0) {
      done.push(chain);
      continue;
    }
    chain = chain.then(async () => {
      const prev = tasks[i - 1];
      fh ??= await open(prev.path, 'r');
      let lines = 0;
      for (let pos = prev.start; pos < prev.end;) {
        if (signal?.aborted) throw new Error('cancelled');
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, prev.end - pos), pos);
        if (bytesRead === 0) break;
        for (let k = buf.indexOf(10, 0); k >= 0 && k < bytesRead; k = buf.indexOf(10, k + 1)) lines++;
        pos += bytesRead;
      }
      tasks[i].first = prev.first + lines;
    });
    done.push(chain);
  }
  const closing = chain.finally(async () => {
    await fh?.close().catch(() => undefined);
  });
  void closing.catch(() => undefined);
  return (i) => done[i];
}

/** One record of a JSON array or Parquet part, as a worker reads it. */
export interface PartRecord {
  /** The editor's index of the record. */
  index: number;
  text: string;
  encoding?: EncodingProblem;
}

/** The records of a JSON array part: its bytes read at once, cut at the element offsets. */
export async function* arrayPartRecords(task: ScanTask): AsyncGenerator<PartRecord> {
  const el = task.elements ?? new Float64Array(0);
  const fh = await open(task.path, 'r');
  let buf: Buffer;
  try {
    buf = Buffer.allocUnsafe(task.end - task.start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, task.start + got);
      if (bytesRead === 0)
        throw new Error(`the file ended at byte ${task.start + got}: it changed while read`);
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
  for (let k = 0; k < el.length / 2; k++) {
    const raw = buf.subarray(el[2 * k] - task.start, el[2 * k + 1] - task.start);
    const r: PartRecord = { index: task.first + k, text: raw.toString('utf8') };
    const enc = encodingProblem(raw, 0, raw.length, false);
    if (enc) r.encoding = enc;
    yield r;
  }
}

/** The rows of a Parquet part (its row groups), each as the JSON text of its record. */
export async function* parquetPartRecords(task: ScanTask): AsyncGenerator<PartRecord> {
  const src = await ParquetRowSource.open(task.path);
  try {
    for (let g = src.groupOf(task.start); g < src.info.rowGroups.length; g++) {
      const first = src.startOf(g) ?? 0;
      if (first >= task.end) break;
      const rows = await src.group(g);
      for (let i = 0; i < rows.length; i++) {
        const row = first + i;
        if (row >= task.start && row < task.end) yield { index: row, text: JSON.stringify(rows[i]) };
      }
    }
  } finally {
    await src.close();
  }
}
