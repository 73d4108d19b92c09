/**
 * JSON array benchmark: the time to index a pretty-printed JSON array (its top-level elements)
 * against `wc -l` on the same file, measured in the same run, and the peak memory while indexing.
 * Size: PARROT_BENCH_BYTES (default 1.4 GB). Best of 3 runs each, interleaved, with the load average.
 */
import { execFile, execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DatasetStore } from '../src/core/store';
import { ensureSynthJsonArray, peakRssKiB } from './synth';

const execFileAsync = promisify(execFile);
const run = async (cmd: string, args: string[]) =>
  (await execFileAsync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 })).stdout;

async function timeit(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function index(file: string): Promise<number> {
  const store = await DatasetStore.open(file);
  await store.indexed;
  const n = store.lineCount;
  await store.close();
  return n;
}

/** Runs in a child process so that the peak RSS belongs to indexing alone. */
async function rssChild(file: string): Promise<void> {
  const before = peakRssKiB();
  const records = await index(file);
  process.stdout.write(JSON.stringify({ before, after: peakRssKiB(), records }) + '\n');
}

async function main(): Promise<void> {
  if (process.argv[2] === '--index-rss') return rssChild(process.argv[3]);
  const bytes = Number(process.env.PARROT_BENCH_BYTES ?? 1.4e9);
  const file = await ensureSynthJsonArray(bytes);
  execFileSync('wc', ['-l', file]); // into the page cache
  const spawn = Math.min(
    ...(await Promise.all(
      [0, 1, 2].map(() => timeit(() => run('wc', ['-l', '/dev/null']).then(() => undefined))),
    )),
  );
  let wcBest = Infinity;
  let idxBest = Infinity;
  let records = 0;
  let lines = 0;
  for (let round = 0; round < 3; round++) {
    execFileSync('sync'); // no dirty pages of other work written back during the round
    const wc = await timeit(async () => {
      lines = Number((await run('wc', ['-l', file])).trim().split(/\s+/)[0]);
    });
    const idx = await timeit(async () => {
      records = await index(file);
    });
    wcBest = Math.min(wcBest, wc - spawn);
    idxBest = Math.min(idxBest, idx);
    console.log(
      `round ${round + 1}: index ${idx.toFixed(2)} s, wc -l ${(wc - spawn).toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
    );
  }
  console.log(`${file}: ${(bytes / 1e9).toFixed(2)} GB, ${lines} lines, ${records} records (array elements)`);
  console.log(
    `index: ${(idxBest / wcBest).toFixed(2)}x wc -l (${idxBest.toFixed(2)} s vs ${wcBest.toFixed(2)} s, best of 3; wc's process start-up ${spawn.toFixed(3)} s taken off)`,
  );
  const rss = JSON.parse(
    execFileSync(process.execPath, [__filename, '--index-rss', file], { encoding: 'utf8' }),
  ) as { before: number; after: number; records: number };
  console.log(
    `peak RSS while indexing: ${(rss.after / 1024).toFixed(0)} MB (process before opening: ${(rss.before / 1024).toFixed(0)} MB)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
