/**
 * Splitting a JSON array's index scan between two threads: where the second part starts (just after
 * a newline near the middle of the file) and the thread that scans it (`index.worker.js`, or this
 * thread in tests). See scanArrayPart.ts for the part's scan and `JsonArrayScanner.adoptPart` for
 * how the two are joined.
 */
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SUM_BLOCK } from '../fingerprint';
import type { ScanOptions } from '../lineIndex';
import { scanArrayPart, type PartJob, type PartResult } from './scanArrayPart';

/** Files smaller than this are scanned by one thread (a worker takes ~30 ms to start). */
const MIN_SPLIT = 64 * 1024 * 1024;
/** How far after the chosen offset a newline is looked for. */
const PROBE = 64 * 1024;

/** The `parallel` scan option for the store: the worker beside this bundle, unless turned off. */
export function parallelIndex(indexWorker: string | false | undefined): ScanOptions['parallel'] {
  if (indexWorker === false) return undefined;
  const script = indexWorker ?? join(__dirname, 'index.worker.js');
  return script === 'in-thread' || existsSync(script) ? { worker: script } : undefined;
}

/**
 * Where the second part of a scan of [from, size) starts, or undefined when the file is scanned by
 * one thread: too small, other consumers of the bytes than the checksums, or no newline within
 * 64 KiB after the middle (a compact array on one line: a split anywhere else could fall inside a
 * string, which nothing before the scan can tell).
 */
export async function planSplit(
  fh: FileHandle,
  from: number,
  size: number,
  opts: ScanOptions,
): Promise<PartJob | undefined> {
  const par = opts.parallel;
  if (!par || opts.onData) return undefined;
  if (size - from < (par.minBytes ?? MIN_SPLIT)) return undefined;
  const chunk = Math.max(8, Math.floor(opts.chunkSize));
  let at = par.at ?? Math.round((from + size) / 2 / chunk) * chunk;
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
export interface RunningPart {
  result: Promise<PartResult | undefined>;
  stop(): Promise<void>;
}

/** The index worker kept between scans (a worker takes tens of milliseconds of CPU to start). */
let idle: { script: string; worker: Worker } | undefined;

/**
 * Starts the scan of the part `job` in the worker `script` (or in this thread for `in-thread`). The
 * worker is kept, not holding the process open, for the next scan; a scan while it is busy starts
 * another one.
 */
export function startPart(fh: FileHandle, job: PartJob, script: string): RunningPart {
  if (script === 'in-thread') {
    const result = scanArrayPart(fh, job).catch(() => undefined);
    return { result, stop: () => result.then(() => undefined) };
  }
  let worker: Worker;
  if (idle && idle.script === script) {
    worker = idle.worker;
    idle = undefined;
  } else worker = new Worker(script);
  worker.ref();
  let settled = false;
  let finish: (r: PartResult | undefined) => void = () => undefined;
  const result = new Promise<PartResult | undefined>((resolve) => (finish = resolve));
  const onMessage = (r: PartResult) => done(r, true);
  const onGone = () => done(undefined, false);
  const done = (r: PartResult | undefined, keep: boolean) => {
    if (settled) return;
    settled = true;
    worker.off('message', onMessage);
    worker.off('error', onGone);
    worker.off('exit', onGone);
    if (keep && !idle) {
      worker.unref();
      idle = { script, worker };
    } else if (keep) void worker.terminate();
    finish(r?.ok === false && !r.cur ? undefined : r);
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
