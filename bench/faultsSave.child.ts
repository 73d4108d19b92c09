// Child process of the fault campaign (bench/faults.ts): opens a file, writes `{"killed":N}` over its
// first line and saves; the parent kills it with SIGKILL at a random moment after "opened".
import { DatasetStore } from '../src/core/store';

async function main(): Promise<void> {
  const [file, n] = process.argv.slice(2) as [string, string];
  const store = await DatasetStore.open(file);
  await store.indexed;
  store.apply({ kind: 'replace', index: 0, texts: [`{"killed":${n}}`] });
  process.stdout.write('opened\n');
  await store.save();
  process.stdout.write('saved\n');
  await store.close();
}

void main();
