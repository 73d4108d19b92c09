/**
 * A whole validation run in one worker thread, for the files whose records the calling thread would
 * otherwise check itself: JSON arrays (their elements are found by one scan, in order) and Parquet
 * files (rows decoded by row group). In the extension host, that thread is shared by every
 * extension; a background validation of a large file must not take it for seconds.
 */
import { Worker } from 'node:worker_threads';
import type { ValidateFileOptions, ValidateFileResult } from './file';

/** What the worker is sent: the file and the options that can cross threads. */
export interface WholeInit {
  path: string;
  opts: Omit<ValidateFileOptions, 'signal' | 'onProgress' | 'workerScript'>;
}

export type WholeMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'result'; result: ValidateFileResult }
  | { type: 'error'; message: string };

/** Validates `path` in a worker running `script` (dist/validateWhole.worker.js). */
export function validateOffThread(
  script: string,
  path: string,
  opts: ValidateFileOptions,
): Promise<ValidateFileResult> {
  const { signal, onProgress, workerScript: _script, workerHeapMb, ...rest } = opts;
  void _script;
  if (signal?.aborted) return Promise.reject(new Error('validation was cancelled'));
  const init: WholeInit = { path, opts: rest };
  const worker = new Worker(script, {
    workerData: init,
    ...(workerHeapMb === undefined
      ? {}
      : {
          resourceLimits: {
            maxOldGenerationSizeMb: workerHeapMb,
            maxYoungGenerationSizeMb: Math.max(1, Math.ceil(workerHeapMb / 8)),
          },
        }),
  });
  return new Promise<ValidateFileResult>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      f();
      void worker.terminate();
    };
    const abort = (): void => finish(() => reject(new Error('validation was cancelled')));
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: WholeMessage) => {
      if (m.type === 'progress') onProgress?.(m.done, m.total);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`the validation worker stopped (exit code ${code})`))),
    );
  });
}
