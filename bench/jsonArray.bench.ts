/**
 * JSON array benchmark: the time to index a pretty-printed JSON array (its top-level elements)
 * against `wc -l` on the same file, in the same run: one thread, and two (the second part scanned
 * by dist/index.worker.js), interleaved round by round with `wc -l` after `sync`, best of
 * PARROT_BENCH_ROUNDS (default 5) each, warm page cache, then cold-ish rounds (the file's pages
 * dropped before each run, when `dd iflag=nocache` works). Prints wall and CPU time of each side
 * (ours: the whole process, worker included; `wc -l`: the child), the load average, and the peak
 * memory while indexing. Also a floor for the two-thread index on this machine: a JSON Lines file
 * of the same size with about as many lines as the array has records (the ShareGPT file of
 * sharegptSynth.ts), indexed by the same two threads: the same reads, checksums and UTF-8 checks
 * with a newline search in place of the element scan, so that what the element scan adds is seen.
 * Size: PARROT_BENCH_BYTES (default 1.4 GB).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DatasetStore } from '../src/core/store';
import { best, dropFromCache, fmtT, load, timeChild, timeHere, type Timed } from './indexTiming';
import { ensureShareGpt } from './sharegptSynth';
import { ensureSynthJsonArray, peakRssKiB, repoRoot } from './synth';

const WORKER = join(repoRoot(), 'dist', 'index.worker.js');

async function index(file: string, worker: boolean): Promise<number> {
  const store = await DatasetStore.open(file, { indexWorker: worker ? WORKER : false });
  await store.indexed;
  const n = store.lineCount;
  await store.close();
  return n;
}

/** Runs in a child process so that the peak RSS belongs to indexing alone. */
async function rssChild(file: string, worker: boolean): Promise<void> {
  const before = peakRssKiB();
  const records = await index(file, worker);
  process.stdout.write(JSON.stringify({ before, after: peakRssKiB(), records }) + '\n');
}

async function rounds(file: string, jsonl: string, n: number, cold: boolean): Promise<void> {
  const wc: Timed[] = [];
  const one: Timed[] = [];
  const two: Timed[] = [];
  const floor: Timed[] = [];
  const loads: string[] = [];
  let lines = 0;
  let records = 0;
  const spawn = best([0, 1, 2].map(() => timeChild('wc', ['-l', '/dev/null'])));
  for (let r = 0; r < n; r++) {
    loads.push(load());
    execFileSync('sync'); // no dirty pages of other work written back during the round
    if (cold) dropFromCache(file);
    const w = timeChild('wc', ['-l', file]);
    lines = Number(w.out.trim().split(/\s+/)[0]);
    wc.push({ wall: Math.max(1e-3, w.wall - spawn.wall), cpu: w.cpu });
    // The order of the two of ours alternates between rounds.
    for (const worker of r % 2 === 0 ? [false, true] : [true, false]) {
      if (cold) dropFromCache(file);
      const t = await timeHere(async () => {
        records = await index(file, worker);
      });
      (worker ? two : one).push(t);
    }
    if (cold) dropFromCache(jsonl);
    floor.push(await timeHere(async () => void (await index(jsonl, true))));
  }
  const w = best(wc);
  const a = best(one);
  const b = best(two);
  const f = best(floor);
  console.log(
    `${cold ? 'cold-ish (file dropped from the page cache before each run)' : 'warm page cache'}, best of ${n}, load average ${loads.join(', ')}:`,
  );
  console.log(`  wc -l ${fmtT(w)} (process start ${spawn.wall.toFixed(3)} s taken off), ${lines} lines`);
  console.log(`  index, one thread:  ${fmtT(a)} = ${(a.wall / w.wall).toFixed(2)}x wc -l`);
  console.log(
    `  index, two threads: ${fmtT(b)} = ${(b.wall / w.wall).toFixed(2)}x wc -l (${(a.wall / b.wall).toFixed(2)}x one thread), ${records} records`,
  );
  console.log(
    `  floor, a JSON Lines file of the same size indexed by two threads: ${fmtT(f)} = ${(f.wall / w.wall).toFixed(2)}x wc -l (the element scan adds ${((b.wall - f.wall) / w.wall).toFixed(2)}x)`,
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === '--index-rss') return rssChild(process.argv[3], process.argv[4] === 'two');
  const bytes = Number(process.env.PARROT_BENCH_BYTES ?? 1.4e9);
  const n = Math.max(1, Number(process.env.PARROT_BENCH_ROUNDS ?? 5));
  const file = await ensureSynthJsonArray(bytes);
  console.log(`${file}: ${(bytes / 1e9).toFixed(2)} GB, pretty-printed`);
  const jsonl = await ensureShareGpt('ascii', bytes);
  console.log(`floor: ${jsonl}`);
  execFileSync('wc', ['-l', file, jsonl]); // into the page cache
  await rounds(file, jsonl, n, false);
  if (dropFromCache(file)) await rounds(file, jsonl, Math.min(n, 3), true);
  else console.log('cold-ish rounds skipped: dd iflag=nocache is not available');
  for (const mode of ['one', 'two']) {
    const rss = JSON.parse(
      execFileSync(process.execPath, [__filename, '--index-rss', file, mode], { encoding: 'utf8' }),
    ) as { before: number; after: number; records: number };
    console.log(
      `peak RSS while indexing, ${mode} thread${mode === 'two' ? 's' : ''}: ${(rss.after / 1024).toFixed(0)} MB (process before opening: ${(rss.before / 1024).toFixed(0)} MB)`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
