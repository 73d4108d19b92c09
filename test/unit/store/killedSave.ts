// Child process for the killed-save test: opens a file, edits its first line and saves; it tells
// the parent (over IPC) when the save has written some bytes, and the parent kills it with SIGKILL.
import { DatasetStore } from '../../../src/core/store';

async function main(): Promise<void> {
  const path = process.argv[2];
  const store = await DatasetStore.open(path);
  await store.indexed;
  store.apply({ kind: 'replace', index: 0, texts: ['{"edited":true}'] });
  let told = false;
  await store.save({
    onProgress: (p) => {
      if (!told && p.bytes > 0) {
        told = true;
        process.send?.('writing');
        // Hold the save here, half written, until the parent kills the process.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
      }
    },
  });
  process.send?.('saved');
}

void main();
