/** Worker entry (bundled to dist/validate.worker.js): validates the byte ranges it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { checkChunk, transferList, type WorkerInit, type WorkerRequest, type WorkerResponse } from './chunk';
import { RecordChecker } from './record';

const init = workerData as WorkerInit;
const port = parentPort;
if (port) {
  const checker = new RecordChecker(init.opts, 'signature');
  const max = init.opts.maxDiagnostics ?? Number.POSITIVE_INFINITY;
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'close') {
      port.close();
      return;
    }
    const task = msg.task;
    checkChunk(checker, task, max).then(
      (result) => {
        const res: WorkerResponse = { type: 'result', result };
        port.postMessage(res, transferList(result));
      },
      (e: unknown) => {
        const res: WorkerResponse = {
          type: 'error',
          id: task.id,
          message: e instanceof Error ? e.message : String(e),
        };
        port.postMessage(res);
      },
    );
  });
}
