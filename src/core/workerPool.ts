import { Worker, type ResourceLimits } from 'node:worker_threads';

/** A worker's answer to one task: its result, or the error it met. */
export type PoolResponse<R> = { id: number; error?: undefined; result: R } | { id: number; error: string };

export interface OrderedPoolOptions<T, R> {
  script: string;
  resourceLimits?: ResourceLimits;
  workers: number;
  tasks: readonly T[];
  /** The message that asks a worker for task `i`. */
  request: (task: T, i: number) => unknown;
  /** Reads a worker's message. */
  response: (message: unknown) => PoolResponse<R>;
  /** Called with every task's result in task order (whatever order the workers finish in). */
  onResult: (result: R, i: number) => void;
  /**
   * The buffers of a result that `onResult` is done with, and the message that hands them back to
   * the worker that sent them. Transferred there, they leave this thread at once: a worker that
   * allocates all the time frees them at its next collection, where this thread, allocating little,
   * would keep every one until its heap next grew (tens of MB over a large file).
   */
  release?: (result: R) => { message: unknown; buffers: ArrayBuffer[] };
  /** Called as each task finishes (in any order). */
  onDone?: (task: T, i: number) => void;
  /** Waits before task `i` may be sent (e.g. until what it needs is known). */
  ready?: (i: number) => Promise<void>;
  /** Where task `i` lies, for error messages. */
  where: (task: T) => string;
  /** The workers' name in error messages ("the stats worker"). */
  name: string;
  signal?: AbortSignal;
  abortError?: () => Error;
}

/**
 * Runs `tasks` on a pool of worker threads, each taking the next task as it finishes one, and hands
 * the results on in task order. The first error (a task's, a worker's crash or exit, a cancel)
 * rejects and stops feeding; the workers are terminated in every case.
 */
export async function runOrdered<T, R>(o: OrderedPoolOptions<T, R>): Promise<void> {
  const { tasks } = o;
  if (tasks.length === 0) return;
  const waiting = new Map<number, { result: R; from: Worker }>();
  let next = 0;
  let queued = 0;
  let finished = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        o.signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      const onAbort = (): void => fail(o.abortError?.() ?? new Error('cancelled'));
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const feed = (w: Worker): void => {
        if (failed) return;
        const i = queued++;
        const task = tasks[i];
        if (task === undefined) return;
        const send = (): void => {
          if (!failed) w.postMessage(o.request(task, i));
        };
        if (!o.ready) return send();
        o.ready(i).then(send, (e: unknown) =>
          fail(o.signal?.aborted ? (o.abortError?.() ?? new Error('cancelled')) : (e as Error)),
        );
      };
      for (let k = 0; k < Math.min(o.workers, tasks.length); k++) {
        const w = new Worker(o.script, o.resourceLimits ? { resourceLimits: o.resourceLimits } : undefined);
        workers.push(w);
        w.on('message', (m: unknown) => {
          if (failed) return;
          const r = o.response(m);
          const task = tasks[r.id];
          if (r.error !== undefined) return fail(new Error(`${r.error} (${o.where(task)})`));
          waiting.set(r.id, { result: r.result, from: w });
          // The worker's next task goes out before the results are handed on, so that it does not
          // wait while this thread merges them.
          feed(w);
          try {
            for (let p = waiting.get(next); p !== undefined; p = waiting.get(next)) {
              waiting.delete(next);
              o.onResult(p.result, next);
              if (o.release) {
                const { message, buffers } = o.release(p.result);
                p.from.postMessage(message, buffers);
              }
              next++;
            }
            o.onDone?.(task, r.id);
          } catch (e) {
            return fail(e as Error);
          }
          if (++finished === tasks.length) {
            o.signal?.removeEventListener('abort', onAbort);
            resolve();
          }
        });
        w.on('error', (e) => fail(new Error(`${o.name} crashed: ${e.message}`)));
        w.on('exit', (code) => {
          if (finished < tasks.length) fail(new Error(`${o.name} exited with code ${code}`));
        });
        feed(w);
      }
    });
  } finally {
    // Waited for, so that what comes next (the figures, over the results of all parts) runs once
    // the workers' memory is given back rather than on top of it.
    for (const w of workers) w.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
