/** Worker entry (bundled to dist/validate.worker.js): validates the byte ranges it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import {
  checkChunk,
  hashRecords,
  transferList,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './chunk';
import { useLineKernelModule } from './kernel';
import { UnfinishedError } from './lines';
import { RecordChecker } from './record';

const init = workerData as WorkerInit;
const port = parentPort;
if (port) {
  useLineKernelModule(init.kernel);
  const checker = new RecordChecker(init.opts, 'signature');
  const max = init.opts.maxDiagnostics ?? Number.POSITIVE_INFINITY;
  port.on('message', (msg: WorkerRequest) => {
    const id = msg.task.id;
    const work: Promise<[WorkerResponse, ArrayBuffer[]]> =
      msg.type === 'task'
        ? checkChunk(checker, msg.task, max).then((result) => [
            { type: 'result', result },
            transferList(result),
          ])
        : hashRecords(msg.task).then((hashes) => [
            { type: 'hashes', id, hashes },
            [hashes.buffer as ArrayBuffer],
          ]);
    work.then(
      ([res, transfer]) => port.postMessage(res, transfer),
      (e: unknown) => {
        const res: WorkerResponse = {
          type: 'error',
          id,
          message: e instanceof Error ? e.message : String(e),
        };
        if (e instanceof UnfinishedError) res.byteOffset = e.byteOffset;
        port.postMessage(res);
      },
    );
  });
}
