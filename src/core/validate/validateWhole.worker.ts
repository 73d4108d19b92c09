/** Worker entry (bundled to dist/validateWhole.worker.js): one whole validation run, see offThread.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import { validateFile } from './file';
import type { WholeInit, WholeMessage } from './offThread';

const PROGRESS_MS = 100;

const port = parentPort;
if (port) {
  const { path, opts } = workerData as WholeInit;
  const post = (m: WholeMessage): void => port.postMessage(m);
  let last = 0;
  validateFile(path, {
    ...opts,
    // This thread is the one off the caller's: it checks the records itself.
    workers: 1,
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - last < PROGRESS_MS && done < total) return;
      last = now;
      post({ type: 'progress', done, total });
    },
  }).then(
    (result) => post({ type: 'result', result }),
    (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
  );
}
