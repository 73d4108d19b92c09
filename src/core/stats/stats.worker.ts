/** Worker entry (bundled to dist/stats.worker.js): measures the byte ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { measureStatsRange, type StatsRequest, type StatsResponse } from './range';

const port = parentPort;
if (port) {
  port.on('message', (msg: StatsRequest) => {
    measureStatsRange(msg.task).then(
      (part) => port.postMessage({ type: 'part', id: msg.task.id, part } satisfies StatsResponse),
      (e: unknown) =>
        port.postMessage({
          type: 'error',
          id: msg.task.id,
          message: e instanceof Error ? e.message : String(e),
        } satisfies StatsResponse),
    );
  });
}
