/** Worker entry (bundled to dist/overview.worker.js): measures the byte ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { chunkTransferList } from './facts';
import { measureRange, type ScanRequest, type ScanResponse } from './scan';

const port = parentPort;
if (port) {
  port.on('message', (msg: ScanRequest) => {
    measureRange(msg.task).then(
      (chunk) =>
        port.postMessage(
          { type: 'facts', id: msg.task.id, chunk } satisfies ScanResponse,
          chunkTransferList(chunk),
        ),
      (e: unknown) =>
        port.postMessage({
          type: 'error',
          id: msg.task.id,
          message: e instanceof Error ? e.message : String(e),
        } satisfies ScanResponse),
    );
  });
}
