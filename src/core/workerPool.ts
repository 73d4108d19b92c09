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
  const waiting = new Map<number, R>();
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
          waiting.set(r.id, r.result);
          try {
            for (let p = waiting.get(next); p !== undefined; p = waiting.get(next)) {
              waiting.delete(next);
              o.onResult(p, next);
              next++;
            }
            o.onDone?.(task, r.id);
          } catch (e) {
            return fail(e as Error);
          }
          if (++finished === tasks.length) {
            o.signal?.removeEventListener('abort', onAbort);
            resolve();
          } else feed(w);
        });
        w.on('error', (e) => fail(new Error(`${o.name} crashed: ${e.message}`)));
        w.on('exit', (code) => {
          if (finished < tasks.length) fail(new Error(`${o.name} exited with code ${code}`));
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
}
