/**
 * Worker entry (bundled to dist/index.worker.js): scans the second part of a JSON array for the
 * index (containers/scanArrayPart.ts), reading through the file descriptor of the main thread's
 * handle, and posts the result back; then waits for the next part (the worker is kept for the next
 * scans, see splitScan.ts).
 */
import { read } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { scanArrayPart, scanLinesPart, type PartJob } from './containers/scanArrayPart';
import type { ChunkReader } from './lineIndex';

parentPort?.on('message', (msg: { fd: number; job: PartJob }) => {
  const { fd, job } = msg;
  const reader: ChunkReader = {
    read: (buf, offset, length, position) =>
      new Promise((resolve, reject) =>
        read(fd, buf, offset, length, position, (err, bytesRead) =>
          err ? reject(err) : resolve({ bytesRead }),
        ),
      ),
  };
  const part = { ...job, probe: Buffer.from(job.probe) };
  (job.lines ? scanLinesPart(reader, part) : scanArrayPart(reader, part)).then(
    (r) => {
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
