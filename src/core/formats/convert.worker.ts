/** Worker entry (bundled to dist/convert.worker.js): converts the byte ranges it is sent. */
import { parentPort } from 'node:worker_threads';
import { convertRange, type ConvertRequest, type ConvertResponse } from './convertRange';

const port = parentPort;
if (port) {
  port.on('message', (msg: ConvertRequest) => {
    convertRange(msg.task).then(
      (part) => {
        // Handed over, not copied; a buffer that shares memory (Node's pool) is copied first.
        part.chunks = part.chunks.map((c) =>
          c.byteOffset === 0 && c.byteLength === c.buffer.byteLength ? c : new Uint8Array(c),
        );
        port.postMessage(
          { type: 'part', id: msg.task.id, part } satisfies ConvertResponse,
          part.chunks.map((c) => c.buffer as ArrayBuffer),
        );
      },
      (e: unknown) =>
        port.postMessage({
          type: 'error',
          id: msg.task.id,
          message: e instanceof Error ? e.message : String(e),
        } satisfies ConvertResponse),
    );
  });
}
