import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { FormatId } from '../model';
import {
  checkChunk,
  type ChunkResult,
  type ChunkTask,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './chunk';
import { CrossState } from './cross';
import { LineReader, splitOnLines } from './lines';
import { RecordChecker, resolveCrossSpan, rereadDialogueHash } from './record';
import { FORMAT_IDS } from './schemas';
import type { Diagnostic, ValidateOptions } from './types';
import { byPosition, publicDiagnostic } from './validator';

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
}

/** Below this size starting workers costs more than it saves. */
const SMALL_FILE = 16 * 1024 * 1024;
export const DEFAULT_MAX_DIAGNOSTICS = 1000;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('validation was cancelled');
  e.name = 'AbortError';
  return e;
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

  constructor(
    checker: RecordChecker,
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
    for (let i = 0; i < r.factLine.length; i++) {
      if (r.format[i] >= 0) this.formatCounts[r.format[i]]++;
      this.cross.add(
        base + r.factLine[i],
        {
          format: r.format[i],
          idHash: r.idHash[i],
          dialogueKey: r.dialogueKey[i],
          kinds: r.kinds[i],
          recStart: r.recStart[i],
          recEnd: r.recEnd[i],
        },
        r.factOffset[i],
      );
    }
    this.lines += r.lines;
  }

  async finish(path: string): Promise<{ diagnostics: Diagnostic[]; total: number; errors: number }> {
    const reader = new LineReader(path);
    const cross: Diagnostic[] = [];
    try {
      await this.cross.confirmDialogues(async (ref, line, format) =>
        rereadDialogueHash(await reader.read(ref), line, format),
      );
      this.cross.finish();
      for (const p of this.cross.out) {
        const span =
          p.target === 'record'
            ? undefined
            : resolveCrossSpan(await reader.read(p.ref), p.line, p.target, p.format);
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
    let best = -1;
    this.formatCounts.forEach((n, i) => {
      if (n > 0 && (best < 0 || n > this.formatCounts[best])) best = i;
    });
    return best < 0 ? undefined : FORMAT_IDS[best];
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
  const {
    workers: wanted,
    signal,
    onProgress,
    workerScript,
    minWorkerBytes = SMALL_FILE,
    workerHeapMb,
    ...vopts
  } = opts;
  const max = vopts.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS;
  const ropts: ValidateOptions = { ...vopts, maxDiagnostics: max };
  if (signal?.aborted) throw abortError(signal);
  // Compiles the schema here: a bad --schema fails before any work.
  const checker = new RecordChecker(ropts, 'signature');
  const size = (await stat(path)).size;
  const merger = new Merger(checker, max, ropts.format !== undefined);
  const nWorkers = Math.max(0, Math.min(wanted ?? availableParallelism(), 64));

  if (nWorkers <= 1 || size < minWorkerBytes) {
    const r = await checkChunk(
      checker,
      { id: 0, path, start: 0, end: size },
      max,
      () => signal?.aborted === true,
      (done) => onProgress?.(done, size),
    );
    if (signal?.aborted) throw abortError(signal);
    merger.add(r);
  } else {
    const chunk = Math.min(32 << 20, Math.max(1 << 20, Math.ceil(size / (nWorkers * 8))));
    const ranges = await splitOnLines(path, size, chunk);
    const tasks: ChunkTask[] = ranges.map(([start, end], id) => ({ id, path, start, end }));
    await runWorkers(
      tasks,
      Math.min(nWorkers, tasks.length),
      workerScript ?? join(__dirname, 'validate.worker.js'),
      { opts: ropts },
      workerHeapMb === undefined
        ? undefined
        : {
            maxOldGenerationSizeMb: workerHeapMb,
            maxYoungGenerationSizeMb: Math.max(4, Math.round(workerHeapMb / 8)),
          },
      signal,
      (r) => {
        merger.add(r);
        onProgress?.(tasks[r.id].end, size);
      },
    );
  }
  const { diagnostics, total, errors } = await merger.finish(path);
  onProgress?.(size, size);
  return { diagnostics, total, errors, lines: merger.lines, format: ropts.format ?? merger.majorFormat() };
}

function runWorkers(
  tasks: ChunkTask[],
  n: number,
  script: string,
  init: WorkerInit,
  resourceLimits: ResourceLimits | undefined,
  signal: AbortSignal | undefined,
  onResult: (r: ChunkResult) => void,
): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const pool: Worker[] = [];
    let nextTask = 0;
    let done = 0;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      for (const w of pool) void w.terminate();
      if (err) reject(err);
      else resolvePromise();
    };
    const onAbort = (): void => finish(abortError(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const feed = (w: Worker): void => {
      if (nextTask < tasks.length) {
        const req: WorkerRequest = { type: 'task', task: tasks[nextTask++] };
        w.postMessage(req);
      }
    };
    for (let i = 0; i < n; i++) {
      let w: Worker;
      try {
        w = new Worker(script, { workerData: init, resourceLimits });
      } catch (e) {
        finish(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      pool.push(w);
      w.on('message', (msg: WorkerResponse) => {
        if (settled) return;
        if (msg.type === 'error') {
          finish(new Error(`validation worker failed on a part of the file: ${msg.message}`));
          return;
        }
        try {
          onResult(msg.result);
        } catch (e) {
          finish(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (++done === tasks.length) finish();
        else feed(w);
      });
      w.on('error', (e) => finish(new Error(`validation worker crashed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!settled && code !== 0) finish(new Error(`validation worker exited with code ${code}`));
      });
      feed(w);
    }
  });
}
