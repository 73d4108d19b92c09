/**
 * The overview's one streaming pass over a JSONL file of any size: byte ranges aligned on line
 * starts are measured by worker threads (or in this thread for small files), their facts appended
 * in file order, then the figures are computed. Cancel with an AbortSignal: the workers stop.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { isBlankLine } from '../stats/lines';
import { TOKENIZER } from '../stats';
import { countTokens } from '../tokens';
import { forEachLine, splitOnLines } from '../validate/lines';
import { normaliseLine, RecordChecker } from '../validate/record';
import { FactsBuilder, type FactsChunk, type TokenCounter } from './facts';
import { DEFAULT_THRESHOLD, summarize, type Overview } from './figures';

/** Token counters by name. Other tokenizers register here (the name goes to workers as is). */
const COUNTERS: Record<string, () => TokenCounter> = { [TOKENIZER]: () => countTokens };

export function registerTokenCounter(name: string, make: () => TokenCounter): void {
  COUNTERS[name] = make;
}

export function tokenCounter(name: string): TokenCounter {
  const make = COUNTERS[name];
  if (!make) throw new Error(`unknown tokenizer: ${name}`);
  return make();
}

export interface ScanTask {
  id: number;
  path: string;
  start: number;
  end: number;
  tokenizer: string;
}

let checker: RecordChecker | undefined;

/** Measures the records of file[start, end) (lines relative to start). */
export async function measureRange(
  task: ScanTask,
  shouldStop?: () => boolean,
  onBlock?: (bytesDone: number) => void,
): Promise<FactsChunk> {
  const began = performance.now();
  // Default rules, full dialogue hashes (exact duplicates are found from them).
  checker ??= new RecordChecker({}, 'full');
  const c = checker;
  const count = tokenCounter(task.tokenizer);
  const b = new FactsBuilder(Math.ceil((task.end - task.start) / 1024));
  const firstOfFile = task.start === 0;
  b.lines = await forEachLine(
    task.path,
    task.start,
    task.end,
    (l) => {
      const line = firstOfFile ? l.index : l.index + 1;
      const text = normaliseLine(l.buf.toString('utf8', l.start, l.end), line);
      if (isBlankLine(text)) {
        b.addBlank();
        return;
      }
      const r = c.checkRaw(l, line);
      b.addLine(text, l.index, l.byteOffset, r.diagnostics, count, r.facts?.dialogueFull ?? NaN);
    },
    shouldStop,
    onBlock,
  );
  b.busyMs = performance.now() - began;
  return b.done();
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
  /** Heap limit of each worker in MB. */
  workerHeapMb?: number;
  /** Filled with where the time went (milliseconds). */
  timings?: { minhashMs: number; signMs: number; busyMs: number; lshMs: number };
}

export type ScanRequest = { type: 'scan'; task: ScanTask };
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
  let facts: FactsChunk;
  if (nWorkers <= 1 || size < (opts.minWorkerBytes ?? 8 << 20)) {
    facts = await measureRange(
      { id: 0, path, start: 0, end: size, tokenizer },
      () => signal?.aborted === true,
      (done) => onProgress?.(done, size),
    );
    if (signal?.aborted) throw abortError();
  } else {
    facts = await inWorkers(path, size, tokenizer, nWorkers, opts);
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

async function inWorkers(
  path: string,
  size: number,
  tokenizer: string,
  nWorkers: number,
  opts: OverviewOptions,
): Promise<FactsChunk> {
  const chunk = Math.min(16 << 20, Math.max(1 << 20, Math.ceil(size / (nWorkers * 8))));
  const ranges = await splitOnLines(path, size, chunk);
  const tasks: ScanTask[] = ranges.map(([start, end], id) => ({ id, path, start, end, tokenizer }));
  const script = opts.workerScript ?? join(__dirname, 'overview.worker.js');
  const resourceLimits =
    opts.workerHeapMb === undefined
      ? undefined
      : {
          maxOldGenerationSizeMb: opts.workerHeapMb,
          maxYoungGenerationSizeMb: Math.max(4, Math.round(opts.workerHeapMb / 8)),
        };
  let out: FactsBuilder | undefined;
  const waiting = new Map<number, FactsChunk>();
  let next = 0;
  let done = 0;
  const add = (id: number, c: FactsChunk): void => {
    waiting.set(id, c);
    for (let w = waiting.get(next); w; w = waiting.get(next)) {
      waiting.delete(next);
      // Sized from the first part's bytes per record, so that appending seldom grows the arrays.
      out ??= new FactsBuilder(
        Math.ceil((size / Math.max(1, tasks[next].end - tasks[next].start)) * w.n * 1.05) + 16,
      );
      out.append(w, out.lines);
      next++;
    }
  };
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let queued = 0;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const onAbort = (): void => fail(abortError());
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const feed = (w: Worker): void => {
        if (failed) return;
        const task = tasks[queued++];
        if (task) w.postMessage({ type: 'scan', task } satisfies ScanRequest);
      };
      for (let i = 0; i < Math.min(nWorkers, tasks.length); i++) {
        const w = new Worker(script, { resourceLimits });
        workers.push(w);
        w.on('message', (m: ScanResponse) => {
          if (m.type === 'error') {
            fail(new Error(`${m.message} (bytes ${tasks[m.id].start}-${tasks[m.id].end})`));
            return;
          }
          add(m.id, m.chunk);
          done += tasks[m.id].end - tasks[m.id].start;
          opts.onProgress?.(done, size);
          if (next === tasks.length) {
            opts.signal?.removeEventListener('abort', onAbort);
            resolve();
          } else feed(w);
        });
        w.on('error', (e) => fail(new Error(`the overview worker crashed: ${e.message}`)));
        w.on('exit', (code) => {
          if (next < tasks.length) fail(new Error(`the overview worker exited with code ${code}`));
        });
        feed(w);
      }
    });
  } finally {
    for (const w of workers) {
      w.removeAllListeners('exit');
      void w.terminate();
    }
  }
  return (out ?? new FactsBuilder(16)).done(false);
}
