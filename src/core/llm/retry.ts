import { abortReason } from './semaphore';

/**
 * Delay asked for by a response: `retry-after-ms` (milliseconds), else `retry-after`
 * (seconds, or an HTTP date). Undefined when absent or unreadable.
 */
export function retryAfterMs(
  get: (name: string) => string | null | undefined,
  now = Date.now(),
): number | undefined {
  const ms = get('retry-after-ms');
  if (ms != null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  const ra = get('retry-after');
  if (ra == null || ra.trim() === '') return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(ra);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1 random source (for tests). */
  random?: () => number;
}

/** Exponential backoff with full jitter: uniform in [base·2^attempt / 2, base·2^attempt], capped. */
export function backoffMs(attempt: number, opts: BackoffOptions): number {
  const rnd = opts.random ?? Math.random;
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** attempt);
  return Math.round(cap / 2 + (rnd() * cap) / 2);
}

/** Sleeps, waking early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
