/**
 * Splitting an index scan (a JSON array's or a JSON Lines file's) between two threads: where the
 * second part starts (just after a newline past this thread's share of the bytes, which follows
 * both threads' measured speeds) and the thread that scans it (`index.worker.js`, or this thread in
 * tests). See scanArrayPart.ts for the part's scan and `JsonArrayScanner.adoptPart` for
 * how the two are joined.
 */
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SUM_BLOCK } from '../fingerprint';
import type { ScanOptions } from '../lineIndex';
import { LineIndex, scanLines } from '../lineIndex';
import {
  scanArrayPart,
  scanLinesPart,
  type LinesPartResult,
  type PartJob,
  type PartResult,
} from './scanArrayPart';

/** Files smaller than this are scanned by one thread (a worker takes ~30 ms to start). */
const MIN_SPLIT = 64 * 1024 * 1024;
/** How far after the chosen offset a newline is looked for. */
const PROBE = 64 * 1024;

/** What a part scan is: the lines of a JSON Lines file or the elements of a JSON array. */
export type PartKind = 'lines' | 'array';

/**
 * This thread's share of the bytes of a split scan, by kind: half until a split scan has measured
 * both threads, then the share at which both would have ended together (this thread reads
 * asynchronously, the index worker synchronously, so their speeds differ by machine).
 */
const shares: Record<PartKind, number> = { lines: 0.5, array: 0.5 };

/** This thread's share of the next split scan of `kind`. */
export function splitShare(kind: PartKind): number {
  return shares[kind];
}

/**
 * Learns from a split scan that was joined: this thread scanned [from, split) in `hereMs`, the
 * worker [split, size) in `workerMs` (its own time, from the job's arrival to its result). The next
 * share is the one at which both would have ended together, halfway from the last (one slow scan
 * on a busy machine moves it only halfway), kept within [0.25, 0.75].
 */
export function learnSplit(
  kind: PartKind,
  job: PartJob,
  from: number,
  hereMs: number,
  workerMs: number | undefined,
): void {
  if (workerMs === undefined || !(hereMs > 0) || !(workerMs > 0)) return;
  const here = (job.split - from) / hereMs;
  const there = (job.size - job.split) / workerMs;
  if (!(here > 0) || !(there > 0)) return;
  const balanced = here / (here + there);
  shares[kind] = Math.min(0.75, Math.max(0.25, (shares[kind] + balanced) / 2));
}

/** The `parallel` scan option for the store: the worker beside this bundle, unless turned off. */
export function parallelIndex(indexWorker: string | false | undefined): ScanOptions['parallel'] {
  if (indexWorker === false) return undefined;
  const script = indexWorker ?? join(__dirname, 'index.worker.js');
  return script === 'in-thread' || existsSync(script) ? { worker: script } : undefined;
}

/**
 * Where the second part of a scan of [from, size) starts (after this thread's share of the bytes
 * after `from`, see splitShare, at a chunk boundary), or undefined when the file is scanned by one
 * thread: too small, other consumers of the bytes than the checksums, or no newline within 64 KiB
 * after that point (a compact array on one line: a split anywhere else could fall inside a string,
 * which nothing before the scan can tell).
 */
export async function planSplit(
  fh: FileHandle,
  from: number,
  size: number,
  opts: ScanOptions,
  kind: PartKind,
): Promise<PartJob | undefined> {
  const par = opts.parallel;
  if (!par || opts.onData) return undefined;
  if (size - from < (par.minBytes ?? MIN_SPLIT)) return undefined;
  const chunk = Math.max(8, Math.floor(opts.chunkSize));
  let at = par.at ?? Math.round((from + (size - from) * shares[kind]) / chunk) * chunk;
  // The other thread's checksums start on a checksum block.
  if (opts.checksums) at = Math.floor(at / SUM_BLOCK) * SUM_BLOCK;
  if (at <= from || at >= size) return undefined;
  const probe = Buffer.alloc(Math.min(PROBE, size - at));
  const { bytesRead } = await fh.read(probe, 0, probe.length, at);
  const nl = probe.subarray(0, bytesRead).indexOf(0x0a);
  if (nl < 0 || at + nl + 1 >= size) return undefined;
  return {
    at,
    split: at + nl + 1,
    size,
    chunkSize: chunk,
    probe: probe.subarray(0, nl + 1),
    sums: opts.checksums !== undefined,
  };
}

/** A running part scan: its result (undefined when it failed), and a way to stop it. */
export interface RunningPart<T = PartResult> {
  result: Promise<T | undefined>;
  stop(): Promise<void>;
}

/** The index worker kept between scans (a worker takes tens of milliseconds of CPU to start). */
let idle: { script: string; worker: Worker } | undefined;

/**
 * Starts the scan of the part `job` in the worker `script` (or in this thread for `in-thread`). The
 * worker is kept, not holding the process open, for the next scan; a scan while it is busy starts
 * another one.
 */
export function startPart<T extends { ok: boolean } = PartResult>(
  fh: FileHandle,
  job: PartJob,
  script: string,
): RunningPart<T> {
  if (script === 'in-thread') {
    const scan = job.lines ? scanLinesPart(fh, job) : scanArrayPart(fh, job);
    const result = (scan as Promise<unknown> as Promise<T>).catch(() => undefined);
    return { result, stop: () => result.then(() => undefined) };
  }
  let worker: Worker;
  if (idle && idle.script === script) {
    worker = idle.worker;
    idle = undefined;
  } else worker = new Worker(script);
  worker.ref();
  let settled = false;
  let finish: (r: T | undefined) => void = () => undefined;
  const result = new Promise<T | undefined>((resolve) => (finish = resolve));
  const onMessage = (r: T) => done(r, true);
  const onGone = () => done(undefined, false);
  const done = (r: T | undefined, keep: boolean) => {
    if (settled) return;
    settled = true;
    worker.off('message', onMessage);
    worker.off('error', onGone);
    worker.off('exit', onGone);
    if (keep && !idle) {
      worker.unref();
      idle = { script, worker };
    } else if (keep) void worker.terminate();
    finish(r?.ok === false && !('cur' in r) ? undefined : r);
  };
  worker.on('message', onMessage);
  worker.once('error', onGone);
  worker.once('exit', onGone);
  worker.postMessage({ fd: fh.fd, job });
  return {
    result,
    stop: async () => {
      if (settled) return;
      // Still reading the file: it ends now (the caller closes the file after this).
      settled = true;
      finish(undefined);
      await worker.terminate();
    },
  };
}

/**
 * `opts` for a scan of the bytes from `from` on whose checksums stop at `to` (the other thread
 * sums those after it).
 */
export function checksumsBefore(opts: ScanOptions, from: number, to: number): ScanOptions {
  const sums = opts.checksums;
  if (!sums || to === Infinity) return opts;
  let fedTo = from;
  return {
    ...opts,
    checksums: undefined,
    onData: (view) => {
      opts.onData?.(view);
      const k = Math.min(view.length, to - fedTo);
      if (k > 0) sums.feed(k === view.length ? view : view.subarray(0, k));
      fedTo += view.length;
    },
  };
}

/**
 * Indexes the lines of [from, size) as `scanLines` does, the part of a large file (`opts.parallel`)
 * after a newline past this thread's share (splitShare) in another thread: its lines are appended
 * as it found them (a line ends at each newline whatever came before, so the split changes
 * nothing), or, when that thread failed, indexed here. Says which (undefined: not split).
 */
export async function scanLinesSplit(
  fh: FileHandle,
  index: LineIndex,
  from: number,
  size: number,
  opts: ScanOptions,
): Promise<'joined' | 'rescanned' | undefined> {
  const job = opts.parallel ? await planSplit(fh, from, size, opts, 'lines') : undefined;
  if (!job || !opts.parallel) {
    await scanLines(fh, index, from, size, opts);
    return undefined;
  }
  const part = startPart<LinesPartResult>(fh, { ...job, lines: true }, opts.parallel.worker);
  try {
    const t0 = performance.now();
    await scanLines(fh, index, from, job.split, checksumsBefore(opts, from, job.at));
    const hereMs = performance.now() - t0;
    const r = await part.result;
    if (r?.ok && (r.sums !== undefined) === job.sums && index.starts[index.count] === job.split) {
      learnSplit('lines', job, from, hereMs, r.ms);
      const src = new LineIndex(job.split, 1);
      src.starts = r.starts;
      src.flags = r.flags;
      src.count = r.count;
      index.pushRun(src, 0, r.count - 1, 0);
      if (r.sums && r.tail) opts.checksums?.append(r.sums, r.fed, r.tail);
      opts.onChunk(size);
      return 'joined';
    }
    await part.stop();
    opts.checksums?.feed(job.probe);
    await scanLines(fh, index, job.split, size, opts);
    return 'rescanned';
  } finally {
    await part.stop();
  }
}
