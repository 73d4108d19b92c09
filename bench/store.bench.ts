/**
 * Dataset store benchmark: index time vs `wc -l`, save-after-one-edit (near the start, in the
 * middle, appended at the end) vs a plain file copy, and peak memory while indexing and saving, all
 * measured in the same run on the same synthetic file.
 * Size: PARROT_BENCH_BYTES (default 1 GiB). Cheap measurements are the best of 5; copies and saves
 * are interleaved, 3 rounds, and both the best and the median are printed with the load average.
 * `--save-only` skips the index measurements, `--index-only` the saves.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatasetStore } from '../src/core/store';
import { best as bestT, fmtT, load as loadNow, timeChild, timeHere, type Timed } from './indexTiming';
import { ensureSynthDataset, peakRssKiB, repoRoot } from './synth';

const RUNS = 3;

async function timeit(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const fmt = (s: number) => `${s.toFixed(2)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** Runs in a child process so that the peak RSS belongs to indexing alone. */
async function rssChild(file: string): Promise<void> {
  const before = peakRssKiB();
  const store = await DatasetStore.open(file);
  await store.indexed;
  const after = peakRssKiB();
  process.stdout.write(JSON.stringify({ before, after, lines: store.lineCount }) + '\n');
  await store.close();
}

type Where = 'start' | 'middle' | 'end';

/** Applies one edit at `where` (a replaced line, or a line appended at the end). */
async function editAt(store: DatasetStore, where: Where): Promise<void> {
  if (where === 'end') {
    store.apply({ kind: 'insert', index: store.lineCount, texts: ['{"messages":[]}'] });
    return;
  }
  const i = where === 'start' ? Math.floor(store.lineCount / 100) : Math.floor(store.lineCount / 2);
  const text = await store.readLine(i);
  store.apply({ kind: 'replace', index: i, texts: [text.replace('"', '"edited_')] });
}

/** Runs in a child process so that the peak RSS belongs to one save alone. */
async function saveRssChild(file: string, target: string): Promise<void> {
  const store = await DatasetStore.open(file);
  await store.indexed;
  await editAt(store, 'middle');
  const before = peakRssKiB();
  await store.saveAs(target);
  const after = peakRssKiB();
  process.stdout.write(JSON.stringify({ before, after }) + '\n');
  await store.close();
  await rm(target, { force: true });
}

const best5 = (f: () => Timed): number => bestT([0, 1, 2, 3, 4].map(f)).wall;
const load = loadNow;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function indexBench(file: string): Promise<void> {
  let wcLines = 0;
  // The cost of starting a process is not part of counting lines: measure it and take it off.
  const spawn = best5(() => timeChild('wc', ['-l', '/dev/null']));
  // wc -l and the index interleaved, after a sync, best of 5 each (wall; CPU of the same run).
  const wcs: Timed[] = [];
  const ours: Record<'one' | 'two', Timed[]> = { one: [], two: [] };
  const loads: string[] = [];
  let lines = 0;
  const worker = join(repoRoot(), 'dist', 'index.worker.js');
  for (let r = 0; r < 5; r++) {
    execFileSync('sync');
    loads.push(load());
    const w = timeChild('wc', ['-l', file]);
    wcLines = Number(w.out.trim().split(/\s+/)[0]);
    wcs.push({ wall: Math.max(w.wall - spawn, 1e-3), cpu: w.cpu });
    // One thread and two (the second half in dist/index.worker.js), in alternating order.
    for (const mode of r % 2 === 0 ? (['one', 'two'] as const) : (['two', 'one'] as const)) {
      ours[mode].push(
        await timeHere(async () => {
          const store = await DatasetStore.open(file, { indexWorker: mode === 'two' ? worker : false });
          await store.indexed;
          lines = store.lineCount;
          await store.close();
        }),
      );
    }
  }
  const wc = bestT(wcs);
  if (lines !== wcLines) throw new Error(`line count differs: store ${lines}, wc -l ${wcLines}`);
  console.log(
    `lines: ${lines}; wc -l ${fmtT(wc)} (${fmt(spawn)} to start a process taken off); load average ${loads.join(', ')}`,
  );
  for (const mode of ['one', 'two'] as const) {
    const index = bestT(ours[mode]);
    console.log(
      `index, ${mode === 'one' ? 'one thread' : 'two threads'}: ${ratio(index.wall, wc.wall)} wc -l (${fmtT(index)})`,
    );
  }

  const rss = JSON.parse(
    execFileSync(process.execPath, [__filename, '--index-rss', file], { encoding: 'utf8' }),
  ) as { before: number; after: number };
  console.log(
    `peak RSS while indexing: ${(rss.after / 1024).toFixed(0)} MB (process before opening: ${(rss.before / 1024).toFixed(0)} MB)`,
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === '--index-rss') return rssChild(process.argv[3]);
  if (process.argv[2] === '--save-rss') return saveRssChild(process.argv[3], process.argv[4]);
  const saveOnly = process.argv.includes('--save-only');
  const bytes = Number(process.env.PARROT_BENCH_BYTES ?? 1024 * 1024 * 1024);
  const tGen = performance.now();
  const file = await ensureSynthDataset(bytes);
  console.log(
    `dataset: ${file} (${(bytes / 1e6).toFixed(0)} MB requested; ready in ${fmt((performance.now() - tGen) / 1000)})`,
  );

  // Warm the page cache for everyone, then measure.
  execFileSync('wc', ['-l', file]);
  if (!saveOnly) await indexBench(file);
  if (process.argv.includes('--index-only')) return;
  const outDir = join(repoRoot(), 'bench-data');
  const copyTarget = join(outDir, 'copy.tmp.jsonl');
  const saveTarget = join(outDir, 'save.tmp.jsonl');
  const copyPlain: number[] = [];
  const copySynced: number[] = [];
  const saves: Record<Where, number[]> = { start: [], middle: [], end: [] };
  const loads: string[] = [];
  // Each timed write starts with no dirty pages left over from the previous one.
  const settle = () => execFileSync('sync');
  for (let i = 0; i < RUNS; i++) {
    loads.push(load());
    settle();
    copyPlain.push(await timeit(() => copyFile(file, copyTarget)));
    await rm(copyTarget, { force: true });
    settle();
    copySynced.push(
      await timeit(async () => {
        await copyFile(file, copyTarget);
        const fh = await open(copyTarget, 'r+');
        await fh.sync();
        await fh.close();
      }),
    );
    await rm(copyTarget, { force: true });
    // The order rotates between rounds so that no case always runs right after the copies.
    const order: Where[] = ['start', 'middle', 'end'];
    for (const where of [...order.slice(i % 3), ...order.slice(0, i % 3)]) {
      const store = await DatasetStore.open(file);
      await store.indexed;
      await editAt(store, where);
      settle();
      saves[where].push(await timeit(() => store.saveAs(saveTarget)));
      await store.close();
      await rm(saveTarget, { force: true });
    }
  }
  console.log(`load average (1 min) at each round: ${loads.join(', ')}`);
  console.log(
    `copyFile: best ${fmt(Math.min(...copyPlain))}, median ${fmt(median(copyPlain))}; copyFile+fsync: best ${fmt(Math.min(...copySynced))}, median ${fmt(median(copySynced))}`,
  );
  for (const where of ['start', 'middle', 'end'] as const) {
    const xs = saves[where];
    const what = where === 'end' ? 'a line appended' : `one line replaced near the ${where}`;
    console.log(
      `save, ${what}: best ${ratio(Math.min(...xs), Math.min(...copyPlain))} copyFile / ${ratio(Math.min(...xs), Math.min(...copySynced))} copyFile+fsync; median ${ratio(median(xs), median(copyPlain))} / ${ratio(median(xs), median(copySynced))} (best ${fmt(Math.min(...xs))}, median ${fmt(median(xs))})`,
    );
  }
  const rss = JSON.parse(
    execFileSync(process.execPath, [__filename, '--save-rss', file, saveTarget], { encoding: 'utf8' }),
  ) as { before: number; after: number };
  console.log(
    `peak RSS while saving: ${(rss.after / 1024).toFixed(0)} MB (after indexing, before the save: ${(rss.before / 1024).toFixed(0)} MB)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
