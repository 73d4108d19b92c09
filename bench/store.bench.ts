/**
 * Dataset store benchmark: index time vs `wc -l`, save-after-one-edit vs a plain file copy, and peak
 * memory while indexing, all measured in the same run on the same synthetic file.
 * Size: PARROT_BENCH_BYTES (default 1 GiB). Cheap measurements are the best of 5, saves the best of 3.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatasetStore } from '../src/core/store';
import { ensureSynthDataset, repoRoot } from './synth';

const RUNS = 3;
const execFileAsync = promisify(execFile);
const run = async (cmd: string, args: string[]) =>
  (await execFileAsync(cmd, args, { encoding: 'utf8' })).stdout;

async function timeit(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function best(fn: () => Promise<void>, runs = RUNS): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < runs; i++) b = Math.min(b, await timeit(fn));
  return b;
}

const fmt = (s: number) => `${s.toFixed(2)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** Runs in a child process so that the peak RSS belongs to indexing alone. */
async function rssChild(file: string): Promise<void> {
  const before = process.resourceUsage().maxRSS;
  const store = await DatasetStore.open(file);
  await store.indexed;
  const after = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify({ before, after, lines: store.lineCount }) + '\n');
  await store.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--index-rss') return rssChild(process.argv[3]);
  const bytes = Number(process.env.PARROT_BENCH_BYTES ?? 1024 * 1024 * 1024);
  const tGen = performance.now();
  const file = await ensureSynthDataset(bytes);
  console.log(
    `dataset: ${file} (${(bytes / 1e6).toFixed(0)} MB requested; ready in ${fmt((performance.now() - tGen) / 1000)})`,
  );

  // Warm the page cache for everyone, then measure.
  execFileSync('wc', ['-l', file]);
  let wcLines = 0;
  // The cost of starting a process is not part of counting lines: measure it and take it off.
  const spawn = await best(async () => {
    await run('wc', ['-l', '/dev/null']);
  }, 5);
  const wcRaw = await best(async () => {
    wcLines = Number((await run('wc', ['-l', file])).trim().split(/\s+/)[0]);
  }, 5);
  const wc = Math.max(wcRaw - spawn, 1e-3);
  let lines = 0;
  const index = await best(async () => {
    const store = await DatasetStore.open(file);
    await store.indexed;
    lines = store.lineCount;
    await store.close();
  }, 5);
  if (lines !== wcLines) throw new Error(`line count differs: store ${lines}, wc -l ${wcLines}`);
  console.log(`lines: ${lines}`);
  console.log(
    `index: ${ratio(index, wc)} wc -l (${fmt(index)} vs ${fmt(wc)}; wc -l took ${fmt(wcRaw)} minus ${fmt(spawn)} to start a process)`,
  );

  const rss = JSON.parse(
    execFileSync(process.execPath, [__filename, '--index-rss', file], { encoding: 'utf8' }),
  ) as { before: number; after: number };
  console.log(
    `peak RSS while indexing: ${(rss.after / 1024).toFixed(0)} MB (process before opening: ${(rss.before / 1024).toFixed(0)} MB)`,
  );

  const outDir = join(repoRoot(), 'bench-data');
  const copyTarget = join(outDir, 'copy.tmp.jsonl');
  const saveTarget = join(outDir, 'save.tmp.jsonl');
  let copyPlain = Infinity;
  let copySynced = Infinity;
  let save = Infinity;
  // Each timed write starts with no dirty pages left over from the previous one.
  const settle = () => execFileSync('sync');
  for (let i = 0; i < RUNS; i++) {
    settle();
    copyPlain = Math.min(copyPlain, await timeit(() => copyFile(file, copyTarget)));
    await rm(copyTarget, { force: true });
    settle();
    copySynced = Math.min(
      copySynced,
      await timeit(async () => {
        await copyFile(file, copyTarget);
        const fh = await open(copyTarget, 'r+');
        await fh.sync();
        await fh.close();
      }),
    );
    await rm(copyTarget, { force: true });
    const store = await DatasetStore.open(file);
    await store.indexed;
    const mid = Math.floor(store.lineCount / 2);
    const text = await store.readLine(mid);
    store.apply({ kind: 'replace', index: mid, texts: [text.replace('"', '"edited_')] });
    settle();
    save = Math.min(save, await timeit(() => store.saveAs(saveTarget)));
    await store.close();
    await rm(saveTarget, { force: true });
  }
  console.log(
    `save after one edit: ${ratio(save, copySynced)} copyFile+fsync (${fmt(save)} vs ${fmt(copySynced)})`,
  );
  console.log(
    `save after one edit: ${ratio(save, copyPlain)} copyFile without fsync (${fmt(save)} vs ${fmt(copyPlain)})`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
