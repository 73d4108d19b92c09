/**
 * The overview's one streaming pass over a dataset file of any size and container (JSONL, a JSON
 * array, Parquet): its parts (parts.ts) are measured by worker threads that read them themselves,
 * or a small file in this thread through `readFileRecords`; their facts are appended in file
 * order, then the figures are computed. Cancel with an AbortSignal: the workers stop.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runOrdered } from '../workerPool';
import { isBlankLine } from '../stats/lines';
import { TOKENIZER } from '../stats';
import { countTokensCached } from '../tokens';
import { entryMappingFor, mapRecordText, type RecordMapping } from '../formats/entryMapping';
import { readFileRecords, type FileRecord } from '../store/records';
import { forEachLine } from '../validate/lines';
import { normaliseLine, RecordChecker } from '../validate/record';
import { chunkTransferList, FactsBuilder, type FactsChunk, type TokenCounter } from './facts';
import { DEFAULT_THRESHOLD, summarize, type Overview } from './figures';
import {
  arrayPartRecords,
  countFirstLines,
  parquetPartRecords,
  partKind,
  planParts,
  type PartRecord,
  type ScanTask,
} from './parts';

/**
 * Token counters by name. Other tokenizers register here (the name goes to workers as is). o200k
 * counts pieces of text cut where its pre-tokens are and caches them: the same counts as the
 * library's count of the whole text (tokens.ts), in less than half the time on natural language.
 */
const COUNTERS: Record<string, () => TokenCounter> = { [TOKENIZER]: () => countTokensCached };

export function registerTokenCounter(name: string, make: () => TokenCounter): void {
  COUNTERS[name] = make;
}

export function tokenCounter(name: string): TokenCounter {
  const make = COUNTERS[name];
  if (!make) throw new Error(`unknown tokenizer: ${name}`);
  return make();
}

export type { ScanTask } from './parts';

let checker: RecordChecker | undefined;

/**
 * A worker reads its part 1 MiB at a time (two buffers): it measures ~50 MB/s, so larger reads
 * gain nothing, and each worker holds 6 MB less than with the line reader's default 4 MiB.
 */
const READ_BLOCK = 1 << 20;

/** A record read from a JSON array or a Parquet file (from `readFileRecords` or a part). */
type AnyRecord = Pick<PartRecord, 'index' | 'text' | 'encoding'> & { bytes?: number };

/**
 * Measures records that are not JSONL lines (JSON array elements, Parquet rows as JSON text): each
 * is checked as its text, as `parrot validate` checks an element, and named by its index.
 */
async function measureRecords(
  b: FactsBuilder,
  records: AsyncIterable<AnyRecord>,
  count: TokenCounter,
  shouldStop?: () => boolean,
  onRecord?: (r: AnyRecord) => void,
): Promise<void> {
  const c = (checker ??= new RecordChecker({}, 'full'));
  const encSev = c.sev.get('json/encoding');
  for await (const r of records) {
    if (shouldStop?.()) return;
    b.lines++;
    const res = c.check(r.text, r.index + 1);
    const parsed = c.parsed;
    let diagnostics = res.diagnostics;
    if (r.encoding && encSev !== 'off')
      diagnostics = [
        ...diagnostics,
        {
          line: r.index,
          startCol: r.encoding.column,
          endCol: r.encoding.column + 1,
          severity: encSev,
          code: 'json/encoding',
          message: r.encoding.message,
        },
      ];
    b.addLine(r.text, r.index, r.index, diagnostics, count, res.facts?.dialogueFull ?? NaN, parsed);
    onRecord?.(r);
  }
}

/**
 * Measures the records of one part of a file (parts.ts): lines, JSON array elements or Parquet
 * rows, each named by its index in the file as the editor names it.
 */
export async function measureRange(
  task: ScanTask,
  shouldStop?: () => boolean,
  onBlock?: (bytesDone: number) => void,
  reuse?: FactsBuilder,
): Promise<FactsChunk> {
  const began = performance.now();
  const count = tokenCounter(task.tokenizer);
  reuse?.reset();
  const b = reuse ?? new FactsBuilder(Math.ceil(task.bytes / 1024) + 16);
  if (task.kind === 'jsonl') {
    // Default rules, full dialogue hashes (exact duplicates are found from them).
    const c = (checker ??= new RecordChecker({}, 'full'));
    const base = task.first;
    if (base < 0) throw new Error(`the first line of bytes ${task.start}-${task.end} is not known`);
    const lines = await forEachLine(
      task.path,
      task.start,
      task.end,
      (l) => {
        const line = base + l.index;
        const raw = l.buf.toString('utf8', l.start, l.end);
        const text = normaliseLine(raw, line);
        if (isBlankLine(text)) {
          b.addBlank();
          return;
        }
        // The text is at hand (the adapter reads it): checked as it, and parsed once for both,
        // unless its bytes need the byte-level checks (ill-formed UTF-8, a BOM).
        const exact = l.validUtf8 && l.buf[l.start] !== 0xef;
        const r = exact ? c.check(raw, line) : c.checkRaw(l, line);
        const parsed = exact ? c.parsed : undefined;
        b.addLine(text, line, line, r.diagnostics, count, r.facts?.dialogueFull ?? NaN, parsed);
      },
      shouldStop,
      onBlock,
      READ_BLOCK,
    );
    b.lines = lines;
  } else {
    await measureRecords(
      b,
      task.kind === 'parquet' ? parquetPartRecords(task) : arrayPartRecords(task),
      count,
      shouldStop,
    );
    onBlock?.(task.bytes);
  }
  b.busyMs = performance.now() - began;
  return b.done();
}

/**
 * Measures a whole JSON array or Parquet file in this thread, through `readFileRecords`; or any
 * file read through its dataset_info.json entry (`mapping`), each record renamed as it is read.
 */
async function measureFile(
  path: string,
  tokenizer: string,
  shouldStop: () => boolean,
  onProgress: (bytesDone: number) => void,
  mapping?: RecordMapping,
): Promise<FactsChunk> {
  const began = performance.now();
  const b = new FactsBuilder(1024);
  const records = mapping ? mappedRecords(readFileRecords(path), mapping, b) : readFileRecords(path);
  await measureRecords(b, records, tokenCounter(tokenizer), shouldStop, (r) => onProgress(r.bytes ?? 0));
  b.busyMs = performance.now() - began;
  return b.done();
}

/** Records read through a dataset_info.json entry (blank JSONL lines counted as the line scan counts them). */
async function* mappedRecords(
  records: AsyncIterable<FileRecord>,
  mapping: RecordMapping,
  b: FactsBuilder,
): AsyncGenerator<FileRecord> {
  for await (const r of records) {
    if (!r.encoding && r.container === 'jsonl' && isBlankLine(r.text)) {
      b.lines++;
      b.addBlank();
      continue;
    }
    yield r.encoding ? r : { ...r, text: mapRecordText(r.text, mapping) };
  }
}

export interface OverviewOptions {
  /** Worker threads; 0 or 1 measures in this thread. Default: os.availableParallelism(). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, totalBytes: number) => void;
  tokenizer?: string;
  threshold?: number;
  /** The bundled worker script. Default: overview.worker.js beside this bundle. */
  workerScript?: string;
  /** Files smaller than this are measured in this thread. Default 8 MiB. */
  minWorkerBytes?: number;
  /** Bytes each part of a JSONL or JSON array file aims at. Default: a few parts per worker, 1–16 MiB. */
  partBytes?: number;
  /** Heap limit of each worker in MB. */
  workerHeapMb?: number;
  /** Filled with where the time went (milliseconds). */
  timings?: { minhashMs: number; signMs: number; busyMs: number; lshMs: number };
  /**
   * Read the records through the dataset_info.json entry that names the file when it renames
   * columns, keys or roles (default true; such a file is measured in this thread).
   */
  datasetInfo?: boolean;
}

/** A part to measure; or the buffers of a part's facts, given back once they are copied. */
export type ScanRequest = { type: 'scan'; task: ScanTask } | { type: 'release' };
export type ScanResponse =
  { type: 'facts'; id: number; chunk: FactsChunk } | { type: 'error'; id: number; message: string };

function abortError(): Error {
  const e = new Error('the overview was cancelled');
  e.name = 'AbortError';
  return e;
}

/** The overview of a whole file. */
export async function overviewFile(path: string, opts: OverviewOptions = {}): Promise<Overview> {
  const { signal, onProgress } = opts;
  const tokenizer = opts.tokenizer ?? TOKENIZER;
  tokenCounter(tokenizer);
  if (signal?.aborted) throw abortError();
  const size = (await stat(path)).size;
  const nWorkers = Math.max(0, Math.min(opts.workers ?? availableParallelism(), 16));
  const stop = (): boolean => signal?.aborted === true;
  const mapping = opts.datasetInfo === false ? undefined : await entryMappingFor(path);
  let facts: FactsChunk;
  if (mapping) {
    facts = await measureFile(path, tokenizer, stop, (done) => onProgress?.(done, size), mapping);
    if (signal?.aborted) throw abortError();
  } else if (nWorkers <= 1 || size < (opts.minWorkerBytes ?? 8 << 20)) {
    const progress = (done: number): void => onProgress?.(done, size);
    facts =
      partKind(path) === 'jsonl'
        ? await measureRange(
            { id: 0, path, tokenizer, kind: 'jsonl', start: 0, end: size, first: 0, bytes: size },
            stop,
            progress,
          )
        : await measureFile(path, tokenizer, stop, progress);
    if (signal?.aborted) throw abortError();
  } else {
    const tasks = await planParts(path, size, nWorkers, tokenizer, signal, opts.partBytes);
    if (signal?.aborted) throw abortError();
    facts = await inWorkers(tasks, size, nWorkers, opts);
  }
  onProgress?.(size, size);
  const timings = { minhashMs: 0 };
  const o = summarize(facts, tokenizer, opts.threshold ?? DEFAULT_THRESHOLD, timings);
  if (opts.timings) {
    opts.timings.signMs += facts.signMs;
    opts.timings.busyMs += facts.busyMs;
    opts.timings.lshMs += timings.minhashMs;
    opts.timings.minhashMs += facts.signMs + timings.minhashMs;
  }
  return o;
}

const YOUNG_GENERATION_MB = 4;

async function inWorkers(
  tasks: ScanTask[],
  size: number,
  nWorkers: number,
  opts: OverviewOptions,
): Promise<FactsChunk> {
  if (tasks.length === 0) return new FactsBuilder(16).done(false);
  const ready = countFirstLines(tasks, opts.signal);
  const script = opts.workerScript ?? join(__dirname, 'overview.worker.js');
  // A young generation of 4 MB: each worker's records die young either way, and the overview of a
  // 300 MB file measured as fast with it as with 12 MB while using 18 MB less resident memory.
  const resourceLimits =
    opts.workerHeapMb === undefined
      ? undefined
      : { maxOldGenerationSizeMb: opts.workerHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  let out: FactsBuilder | undefined;
  let done = 0;
  await runOrdered<ScanTask, FactsChunk>({
    script,
    resourceLimits,
    workers: nWorkers,
    tasks,
    request: (task) => ({ type: 'scan', task }) satisfies ScanRequest,
    response: (m) => {
      const r = m as ScanResponse;
      return r.type === 'error' ? { id: r.id, error: r.message } : { id: r.id, result: r.chunk };
    },
    release: (chunk) => ({
      message: { type: 'release' } satisfies ScanRequest,
      buffers: chunkTransferList(chunk),
    }),
    onResult: (w, i) => {
      // Sized from the first part's bytes per record, so that appending seldom grows the arrays.
      out ??= new FactsBuilder(Math.ceil((size / Math.max(1, tasks[i].bytes)) * w.n * 1.05) + 16);
      // Records are named by their index in the file already.
      out.append(w, 0);
    },
    onDone: (task) => {
      done += task.bytes;
      opts.onProgress?.(done, size);
    },
    ready,
    where,
    name: 'the overview worker',
    signal: opts.signal,
    abortError,
  });
  return (out ?? new FactsBuilder(16)).done(false);
}

/** Where a part is, for an error message. */
function where(t: ScanTask): string {
  return t.kind === 'parquet' ? `rows ${t.start + 1}-${t.end}` : `bytes ${t.start}-${t.end}`;
}
