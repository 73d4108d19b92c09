/**
 * Worker entry (bundled to dist/index.worker.js): scans the second part of a JSON array for the
 * index (containers/scanArrayPart.ts), reading through the file descriptor of the main thread's
 * handle, and posts the result back; then waits for the next part (the worker is kept for the next
 * scans, see splitScan.ts).
 *
 * The worker has nothing else to do while it scans, so it reads synchronously, in 1 MiB chunks: no
 * thread-pool hop per read, and each chunk is checksummed, UTF-8 checked and scanned while it is
 * still in the core's cache (about 5% less time for a 1.4 GB array than 4 MiB asynchronous reads,
 * `bench/jsonArray.bench.ts`). The main thread keeps its asynchronous reads: it must not block.
 */
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { scanArrayPart, scanLinesPart, type PartJob } from './containers/scanArrayPart';
import type { ChunkReader } from './lineIndex';

/** The worker's read size (the main thread's chunk size is larger: its reads are asynchronous). */
const WORKER_CHUNK = 1 << 20;

parentPort?.on('message', (msg: { fd: number; job: PartJob }) => {
  const { fd, job } = msg;
  const reader: ChunkReader = {
    // A failed read throws in the executor, which rejects the promise.
    read: (buf, offset, length, position) =>
      new Promise((resolve) => resolve({ bytesRead: readSync(fd, buf, offset, length, position) })),
  };
  const part = { ...job, probe: Buffer.from(job.probe), chunkSize: Math.min(job.chunkSize, WORKER_CHUNK) };
  const t0 = performance.now();
  (job.lines ? scanLinesPart(reader, part) : scanArrayPart(reader, part)).then(
    (r) => {
      r.ms = performance.now() - t0;
      const transfer =
        'starts' in r
          ? [r.starts.buffer, r.flags.buffer, r.sums?.buffer]
          : [r.cur?.pos.buffer, r.cur?.line.buffer, r.prev?.pos.buffer, r.prev?.line.buffer, r.sums?.buffer];
      parentPort?.postMessage(
        r,
        transfer.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
      );
    },
    () => parentPort?.postMessage({ ok: false }),
  );
});
