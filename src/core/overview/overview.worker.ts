/** Worker entry (bundled to dist/overview.worker.js): measures the byte ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { chunkTransferList, FactsBuilder } from './facts';
import { measureRange, type ScanRequest, type ScanResponse } from './scan';

const port = parentPort;
/** One builder for every part this worker measures (parts come one at a time); its facts are sent as copies. */
let builder: FactsBuilder | undefined;
if (port) {
  port.on('message', (msg: ScanRequest) => {
    // Buffers given back are dropped here: they go with this thread's next collection.
    if (msg.type === 'release') return;
    builder ??= new FactsBuilder(Math.ceil(msg.task.bytes / 1024) + 16);
    measureRange(msg.task, undefined, undefined, builder).then(
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
