import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { encodingProblem } from '../encoding';
import { entryMappingFor, type RecordMapping } from '../formats/entryMapping';
import { isParquetPath } from '../store/containers/parquet';
import { readFileRecords, recordContainer } from '../store/records';
import { validateRecords } from './records';
import { validateArrayFile } from './arrayFile';
import type { FormatId } from '../model';
import {
  checkChunk,
  hashRecords,
  type ChunkResult,
  type ChunkTask,
  type HashTask,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './chunk';
import { CrossState, type DialogueHashes, type RecordRef } from './cross';
import { lineKernelModule } from './kernel';
import { LineReader, lineAtOffset, splitOnLines, UnfinishedError, walkLines } from './lines';
import { RecordChecker, resolveCrossSpan, type RecordFacts } from './record';
import { FORMAT_IDS } from './schemas';
import type { Diagnostic, ValidateOptions } from './types';
import { byPosition, majorFormatOf, publicDiagnostic } from './validator';

export interface ValidateFileOptions extends ValidateOptions {
  /** Worker threads; 0 or 1 validates in this thread. Default: os.availableParallelism(). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, totalBytes: number) => void;
  /** The bundled worker script. Default: validate.worker.js beside this bundle. */
  workerScript?: string;
  /** Files smaller than this are validated in this thread whatever `workers` says. Default 16 MiB. */
  minWorkerBytes?: number;
  /**
   * Heap limit of each worker in MB (V8 old generation; the young generation gets an eighth). Keeps
   * a background validation small inside a long-lived process such as the extension host; a record
   * too large for it fails the validation with a clear error. Default: V8's own limits.
   */
  workerHeapMb?: number;
  /**
   * false: records are read as they are, not through the dataset_info.json entry that names the
   * file (beside it or a folder above). Default true.
   */
  datasetInfo?: boolean;
  /** Lines longer than this many bytes stop the validation (default and maximum: MAX_LINE_BYTES). */
  maxLineBytes?: number;
  /**
   * Whether this thread checks parts of the file too, as one of the `workers` (which then starts
   * one worker fewer). For a process that does nothing else meanwhile (the CLI); a long-lived host
   * (the extension host) keeps its thread free. Default false.
   */
  inThread?: boolean;
}

export interface ValidateFileResult {
  /** Diagnostics in line order, at most maxDiagnostics. */
  diagnostics: Diagnostic[];
  /** How many diagnostics there were before truncation. */
  total: number;
  /** How many of them (before truncation) are errors. */
  errors: number;
  lines: number;
  /** The format of most records (or the forced one). */
  format?: FormatId;
  /** The dataset_info.json entry the records were read through, when one renamed something. */
  mapping?: RecordMapping;
}

/** Below this size starting workers costs more than it saves. */
const SMALL_FILE = 16 * 1024 * 1024;
/** The largest part of a file checked at a time (its facts are kept until it is merged). */
const PART = 16 << 20;
export const DEFAULT_MAX_DIAGNOSTICS = 1000;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('validation was cancelled');
  e.name = 'AbortError';
  return e;
}

function hashTask(path: string, refs: readonly RecordRef[], id = 0, mapping?: RecordMapping): HashTask {
  return {
    mapping,
    id,
    path,
    offsets: Float64Array.from(refs, (r) => r.ref),
    lines: Float64Array.from(refs, (r) => r.line),
    formats: Int8Array.from(refs, (r) => r.format),
  };
}

/**
 * A file in UTF-16 or UTF-32 (by its byte order mark) is one problem, reported once on line 1:
 * read as UTF-8, every line of it would be noise.
 */
async function foreignEncoding(path: string, checker: RecordChecker): Promise<Diagnostic | undefined> {
  const severity = checker.sev.get('json/encoding');
  if (severity === 'off') return undefined;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    const p = encodingProblem(head, 0, bytesRead, true);
    if (!p?.wholeFile) return undefined;
    return { line: 0, startCol: 0, endCol: 0, severity, code: 'json/encoding', message: p.message };
  } finally {
    await fh.close();
  }
}

/** Merges chunk results in file order and runs the cross-record rules. */
class Merger {
  readonly cross: CrossState;
  readonly kept: Diagnostic[] = [];
  total = 0;
  errors = 0;
  lines = 0;
  readonly formatCounts = FORMAT_IDS.map(() => 0);
  private next = 0;
  private readonly waiting = new Map<number, ChunkResult>();
  private readonly facts: RecordFacts = {
    format: -1,
    idHash: NaN,
    dialogueKey: NaN,
    dialogueFull: NaN,
    kinds: 0,
    recStart: 0,
    recEnd: 0,
  };

  constructor(
    private readonly checker: RecordChecker,
    private readonly max: number,
    forced: boolean,
  ) {
    this.cross = new CrossState(checker.sev, max, !forced, true);
  }

  add(r: ChunkResult): void {
    this.waiting.set(r.id, r);
    for (let w = this.waiting.get(this.next); w; w = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.next++;
      this.merge(w);
    }
  }

  private merge(r: ChunkResult): void {
    const base = this.lines;
    this.total += r.total;
    this.errors += r.errors;
    for (const d of r.diagnostics) {
      if (this.kept.length >= this.max) break;
      this.kept.push({ ...d, line: d.line + base });
    }
    // One facts object for every record (CrossState.add copies what it keeps).
    const f = this.facts;
    for (let i = 0; i < r.factLine.length; i++) {
      if (r.format[i] >= 0) this.formatCounts[r.format[i]]++;
      f.format = r.format[i];
      f.idHash = r.idHash[i];
      f.dialogueKey = r.dialogueKey[i];
      f.dialogueFull = r.dialogueFull[i];
      f.kinds = r.kinds[i];
      f.recStart = r.recStart[i];
      f.recEnd = r.recEnd[i];
      this.cross.add(base + r.factLine[i], f, r.factOffset[i]);
    }
    this.lines += r.lines;
  }

  async finish(
    path: string,
    hashes: DialogueHashes,
  ): Promise<{ diagnostics: Diagnostic[]; total: number; errors: number }> {
    // First records come as a kept record and a count of lines after it: walked to their starts.
    await this.cross.confirmDialogues(async (refs) => hashes(await walkLines(path, refs)));
    this.cross.finish();
    const reader = new LineReader(path);
    const cross: Diagnostic[] = [];
    try {
      for (const p of this.cross.out) {
        // Spans are found again in the exact text (records may have been checked as bytes).
        const span = resolveCrossSpan(
          await reader.read(p.ref),
          p.line,
          p.target,
          p.format,
          this.checker.opts.mapping,
        );
        cross.push(publicDiagnostic(p, span));
      }
    } finally {
      await reader.close();
    }
    const all = this.kept.concat(cross).sort(byPosition).slice(0, this.max);
    return {
      diagnostics: all,
      total: this.total + this.cross.total,
      errors: this.errors + this.cross.errors,
    };
  }

  majorFormat(): FormatId | undefined {
    return majorFormatOf(this.formatCounts);
  }
}

/**
 * Validates a JSONL file of any size: byte ranges aligned on line starts are validated in
 * parallel by worker threads, merged in line order, then the cross-record rules run.
 */
export async function validateFile(
  path: string,
  opts: ValidateFileOptions = {},
): Promise<ValidateFileResult> {
  const { datasetInfo = true, ...rest } = opts;
  const mapping = opts.mapping ?? (datasetInfo ? await entryMappingFor(path) : undefined);
  const r = await validateAny(path, mapping ? { ...rest, mapping } : rest);
  return mapping ? { ...r, mapping } : r;
}

async function validateAny(path: string, opts: ValidateFileOptions): Promise<ValidateFileResult> {
  if (isParquetPath(path)) {
    // A Parquet file's records are its rows (positions: `row N`), read in order by row group.
    const size = (await stat(path)).size;
    return validateRecords(readFileRecords(path), {
      ...opts,
      positionUnit: 'row',
      onProgress: (done) => opts.onProgress?.(done, size),
    });
  }
  if (recordContainer(path) === 'json-array') {
    // A JSON array's records are its elements: checked in order, positions mapped to the file.
    return validateArrayFile(path, opts, opts.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS);
  }
  try {
    return await validateWhole(path, opts);
  } catch (e) {
    // Work left unfinished is an error that says where, never a partial verdict.
    if (e instanceof UnfinishedError && e.line === undefined) {
      e.line = await lineAtOffset(path, e.byteOffset).catch(() => undefined);
      if (e.line !== undefined) e.message = `line ${e.line + 1}: ${e.message}`;
    }
    throw e;
  }
}

async function validateWhole(path: string, opts: ValidateFileOptions): Promise<ValidateFileResult> {
  const {
    workers: wanted,
    signal,
    onProgress,
    workerScript,
    minWorkerBytes = SMALL_FILE,
    workerHeapMb,
    maxLineBytes,
    inThread = false,
    ...vopts
  } = opts;
  const max = vopts.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS;
  // Media paths are relative to the dataset's folder (LLaMA-Factory's default media_dir).
  const ropts: ValidateOptions = { mediaRoot: dirname(resolve(path)), ...vopts, maxDiagnostics: max };
  if (signal?.aborted) throw abortError(signal);
  // Compiles the schema here: a bad --schema fails before any work.
  const checker = new RecordChecker(ropts, 'signature');
  const size = (await stat(path)).size;
  const foreign = await foreignEncoding(path, checker);
  if (foreign) {
    onProgress?.(size, size);
    return { diagnostics: [foreign], total: 1, errors: foreign.severity === 'error' ? 1 : 0, lines: 1 };
  }
  const merger = new Merger(checker, max, ropts.format !== undefined);
  const nWorkers = Math.max(0, Math.min(wanted ?? availableParallelism(), 64));
  let finished: Awaited<ReturnType<Merger['finish']>>;

  if (nWorkers <= 1 || size < minWorkerBytes) {
    // Part after part, as the workers do: a part's per-record facts are kept only until it is merged.
    const parts = await splitOnLines(path, size, PART);
    for (const [id, [start, end]] of parts.entries()) {
      const r = await checkChunk(
        checker,
        { id, path, start, end, maxLineBytes },
        max,
        () => signal?.aborted === true,
        (done) => onProgress?.(start + done, size),
      );
      if (signal?.aborted) throw abortError(signal);
      merger.add(r);
    }
    finished = await merger.finish(path, (refs) => hashRecords(hashTask(path, refs, 0, ropts.mapping)));
  } else {
    const chunk = Math.min(PART, Math.max(1 << 20, Math.ceil(size / (nWorkers * 8))));
    const ranges = await splitOnLines(path, size, chunk);
    const tasks: ChunkTask[] = ranges.map(([start, end], id) => ({ id, path, start, end, maxLineBytes }));
    const here = inThread ? 1 : 0;
    const pool = new WorkerPool(
      Math.max(1, Math.min(nWorkers - here, tasks.length - here)),
      workerScript ?? join(__dirname, 'validate.worker.js'),
      { opts: ropts, kernel: checker.usesFastPath ? lineKernelModule() : undefined },
      workerHeapMb === undefined
        ? undefined
        : {
            maxOldGenerationSizeMb: workerHeapMb,
            maxYoungGenerationSizeMb: Math.max(4, Math.round(workerHeapMb / 8)),
          },
      signal,
    );
    // Each thread takes the next part when it is done with one: no thread waits on a slower one.
    let next = 0;
    let failed = false;
    const take = (): ChunkTask | undefined => (failed ? undefined : tasks[next++]);
    const loops = (work: (task: ChunkTask) => Promise<ChunkResult>): Promise<void> =>
      (async () => {
        for (let task = take(); task; task = take()) {
          merger.add(await work(task));
          onProgress?.(task.end, size);
        }
      })().catch((e: unknown) => {
        failed = true;
        throw e;
      });
    const inWorker = async (task: ChunkTask): Promise<ChunkResult> => {
      const res = await pool.submit({ type: 'task', task });
      if (res.type !== 'result') throw new Error(`validation worker answered ${res.type}`);
      return res.result;
    };
    const stop = (): boolean => failed || signal?.aborted === true;
    try {
      const all = Array.from({ length: pool.size }, () => loops(inWorker));
      if (here) all.push(loops((task) => checkChunk(checker, task, max, stop)));
      // Every loop ends before the first failure is thrown (none keeps reading the file after).
      const settled = await Promise.allSettled(all);
      if (signal?.aborted) throw abortError(signal);
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
      finished = await merger.finish(path, async (refs) => {
        // In file order, one contiguous share per thread.
        const sorted = refs.map((r, i) => ({ r, i })).sort((a, b) => a.r.ref - b.r.ref);
        const per = Math.ceil(sorted.length / (pool.size + here));
        const out = new Float64Array(refs.length);
        await Promise.all(
          Array.from({ length: Math.ceil(sorted.length / per) }, async (_, k) => {
            const part = sorted.slice(k * per, (k + 1) * per);
            const task = hashTask(
              path,
              part.map((p) => p.r),
              k,
              ropts.mapping,
            );
            let hashes: Float64Array;
            if (here && k === 0) hashes = await hashRecords(task);
            else {
              const res = await pool.submit({ type: 'hash', task });
              if (res.type !== 'hashes') throw new Error(`validation worker answered ${res.type}`);
              hashes = res.hashes;
            }
            part.forEach((p, j) => (out[p.i] = hashes[j]));
          }),
        );
        return out;
      });
    } finally {
      pool.close();
    }
  }
  const { diagnostics, total, errors } = finished;
  onProgress?.(size, size);
  return { diagnostics, total, errors, lines: merger.lines, format: ropts.format ?? merger.majorFormat() };
}

/** The first file offset a request reads. */
function startOf(req: WorkerRequest): number {
  return req.type === 'task' ? req.task.start : (req.task.offsets[0] ?? 0);
}

interface Job {
  req: WorkerRequest;
  resolve: (res: WorkerResponse) => void;
  reject: (err: Error) => void;
}

/**
 * Validation workers, each given one request at a time. The first failure (a worker's error, a
 * crash, the signal) fails every pending request and stops the pool.
 */
class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private failure?: Error;
  private readonly onAbort = (): void => this.fail(abortError(this.signal as AbortSignal));

  constructor(
    n: number,
    script: string,
    init: WorkerInit,
    resourceLimits: ResourceLimits | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
    for (let i = 0; i < n && !this.failure; i++) {
      let w: Worker;
      try {
        w = new Worker(script, { workerData: init, resourceLimits });
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      this.workers.push(w);
      this.idle.push(w);
      w.on('message', (msg: WorkerResponse) => {
        const job = this.busy.get(w);
        if (!job) return;
        if (msg.type === 'error') {
          // fail() rejects this job too: it is still among the busy ones.
          this.fail(new UnfinishedError(msg.message, msg.byteOffset ?? startOf(job.req)));
          return;
        }
        this.busy.delete(w);
        this.idle.push(w);
        job.resolve(msg);
        this.pump();
      });
      w.on('error', (e) => this.failWorker(w, `the validation worker crashed: ${e.message}`));
      // Workers only end when the pool stops them: any other exit fails the pending requests.
      w.on('exit', (code) => this.failWorker(w, `the validation worker exited with code ${code}`));
    }
  }

  get size(): number {
    return this.workers.length;
  }

  submit(req: WorkerRequest): Promise<WorkerResponse> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop() as Worker;
      const job = this.queue.shift() as Job;
      this.busy.set(w, job);
      w.postMessage(job.req);
    }
  }

  /** Fails the pool for a worker that stopped: positioned at the part it was checking. */
  private failWorker(w: Worker, message: string): void {
    const job = this.busy.get(w);
    this.fail(
      job
        ? new UnfinishedError(`${message} while checking this part of the file`, startOf(job.req))
        : new Error(message),
    );
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const job of [...this.busy.values(), ...this.queue]) job.reject(err);
    this.busy.clear();
    this.queue.length = 0;
    this.close();
  }

  close(): void {
    this.failure ??= new Error('the validation workers were stopped');
    this.signal?.removeEventListener('abort', this.onAbort);
    for (const w of this.workers) void w.terminate();
  }
}
