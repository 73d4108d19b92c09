/**
 * Dataset Overview throughput on a synthetic dataset (default ~1.4 GB), against a baseline
 * measured in the same run: a bare single-thread loop that reads the file, JSON.parses every line
 * and counts the o200k tokens of every message with the same tokenizer (the figures' main cost),
 * summing them per role. The overview runs with 2 worker threads (target >= 1.5x the baseline) and
 * also computes formats, percentiles, problems by rule, duplicates and MinHash/LSH clusters.
 * Printed: both times and the ratio, the share of MinHash (signatures in the workers + LSH
 * clustering) in the overview's work, and the peak memory of this process while the overview runs
 * (RSS, worker threads included, as they would be in the extension host). Also printed: the CPU time
 * of each (the process's, worker threads included), whose ratio says how much more work the
 * overview does than the bare loop, and so the best ratio two free cores allow, whatever the load.
 * PS_BENCH_OVERVIEW_BYTES sets the dataset size; PS_BENCH_ROUNDS the rounds (default 1).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { overviewFile } from '../src/core/overview';
import { countTokens } from '../src/core/tokens';
import { forEachDecodedLine } from './baselines';
import { ensureSynthDataset, repoRoot } from './synth';

const BYTES = Number(process.env.PS_BENCH_OVERVIEW_BYTES ?? 1.4e9);
const ROUNDS = Math.max(1, Number(process.env.PS_BENCH_ROUNDS ?? 1));

interface Msg {
  role?: string;
  from?: string;
  content?: unknown;
  value?: unknown;
}

/** The baseline: 1 MiB blocks, split on newlines, JSON.parse, tokens per role. */
async function bareLoop(path: string): Promise<{ records: number; tokens: Record<string, number> }> {
  const tokens: Record<string, number> = {};
  const records = await forEachDecodedLine(path, (line) => {
    const v = JSON.parse(line) as { messages?: Msg[]; conversations?: Msg[] };
    for (const m of v.messages ?? v.conversations ?? []) {
      const role = m.role ?? m.from ?? '?';
      const content = m.content ?? m.value;
      if (typeof content === 'string' && content) tokens[role] = (tokens[role] ?? 0) + countTokens(content);
    }
  });
  return { records, tokens };
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  console.log(`synthetic dataset of ${(BYTES / 2 ** 20).toFixed(0)} MiB (bench-data/, reused between runs)…`);
  const file = await ensureSynthDataset(BYTES);
  const mb = (await stat(file)).size / 2 ** 20;
  const worker = join(repoRoot(), 'dist', 'overview.worker.js');
  countTokens('warm up the tokenizer');
  for (let round = 1; round <= ROUNDS; round++) {
    let t0 = Date.now();
    let cpu0 = process.cpuUsage();
    const bare = await bareLoop(file);
    const bareS = (Date.now() - t0) / 1000;
    const bareCpu = cpuSeconds(process.cpuUsage(cpu0));
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const timings = { minhashMs: 0, signMs: 0, busyMs: 0, lshMs: 0 };
    t0 = Date.now();
    cpu0 = process.cpuUsage();
    const o = await overviewFile(file, { workers: 2, workerScript: worker, timings, workerHeapMb: 96 });
    const ovS = (Date.now() - t0) / 1000;
    // CPU time of the process, worker threads included: the work done, whatever else the machine runs.
    const ovCpu = cpuSeconds(process.cpuUsage(cpu0));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    // The same figures: records and tokens of the user and assistant turns.
    const user = o.figures.roles.find((r) => r.role === 'user')?.histogram;
    const userTokens = user ? Math.round(user.mean * user.count) : 0;
    const bareUser = (bare.tokens.user ?? 0) + (bare.tokens.human ?? 0);
    if (o.figures.records !== bare.records || Math.abs(userTokens - bareUser) > user!.count)
      throw new Error(
        `the figures differ: ${o.figures.records} vs ${bare.records} records, ${userTokens} vs ${bareUser} user tokens`,
      );
    const share = timings.minhashMs / (timings.busyMs + timings.lshMs);
    console.log(
      `round ${round}: ${mb.toFixed(0)} MiB, ${bare.records} records. bare loop (1 thread) ${bareS.toFixed(1)} s ` +
        `(${(mb / bareS).toFixed(1)} MiB/s); overview (2 workers) ${ovS.toFixed(1)} s (${(mb / ovS).toFixed(1)} MiB/s): ` +
        `${(bareS / ovS).toFixed(2)}x (target >= 1.5x)`,
    );
    const work = ovCpu / bareCpu;
    console.log(
      `  work (CPU time, threads included): bare loop ${bareCpu.toFixed(1)} s, overview ${ovCpu.toFixed(1)} s = ` +
        `${work.toFixed(2)}x the bare loop's; on two free cores the overview can be at best ${(2 / work).toFixed(2)}x faster`,
    );
    console.log(
      `  MinHash: ${(timings.signMs / 1000).toFixed(1)} s of signatures in the workers + ${(timings.lshMs / 1000).toFixed(1)} s of LSH clustering = ` +
        `${(share * 100).toFixed(1)}% of the overview's work (${(timings.busyMs / 1000).toFixed(1)} s measuring records in all)`,
    );
    console.log(
      `  memory: peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (${((peak - rss0) / 2 ** 20).toFixed(0)} MiB over the ${(rss0 / 2 ** 20).toFixed(0)} MiB before; target < 200 MB)`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
