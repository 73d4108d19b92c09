/**
 * Dataset Overview throughput on a synthetic dataset (default ~1.4 GB), against a baseline
 * measured in the same run: a bare single-thread loop that reads the file, JSON.parses every line
 * and counts the o200k tokens of every message with the same tokenizer (the figures' main cost),
 * summing them per role. The overview runs with 2 worker threads (target >= 1.5x the baseline) and
 * also computes formats, percentiles, problems by rule, duplicates and MinHash/LSH clusters.
 * Printed: both times and the ratio, the share of MinHash (signatures in the workers + LSH
 * clustering) in the overview's work, and the peak memory of the overview's process (run in a
 * process of its own, see overviewInChild; RSS, worker threads included, as they would be in the
 * extension host). Also printed: the CPU time
 * of each (the process's, worker threads included), whose ratio says how much more work the
 * overview does than the bare loop, and so the best ratio two free cores allow, whatever the load;
 * the load average before and after each round; and a second bare loop that counts with the
 * overview's counter (cached pieces in front of the same library count), to show what the threads
 * alone bring. Rounds are interleaved (bare, overview, bare with cached pieces); the best of them
 * is printed at the end.
 * PS_BENCH_OVERVIEW_BYTES sets the dataset size; PS_BENCH_ROUNDS the rounds (default 1);
 * PS_BENCH_OVERVIEW_HEAP_MB each worker's heap limit (default 96, the extension host's).
 */
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { overviewFile } from '../src/core/overview';
import type { GptEncoding } from 'gpt-tokenizer/GptEncoding';
import { countTokensCached } from '../src/core/tokens';
import { forEachDecodedLine } from './baselines';
import { ensureSynthDataset, repoRoot } from './synth';

const BYTES = Number(process.env.PS_BENCH_OVERVIEW_BYTES ?? 1.4e9);
const ROUNDS = Math.max(1, Number(process.env.PS_BENCH_ROUNDS ?? 1));
/** Each worker's heap limit (MB), as the extension host sets it. */
const HEAP_MB = Number(process.env.PS_BENCH_OVERVIEW_HEAP_MB ?? 96);

interface Msg {
  role?: string;
  from?: string;
  content?: unknown;
  value?: unknown;
}

/**
 * The baseline: 1 MiB blocks, split on newlines, JSON.parse, tokens per role. `count` is the
 * library's own o200k count (gpt-tokenizer's countTokens, what the target is judged against) or
 * the overview's counter (cached pieces in front of the same count), to show what the threads
 * alone bring.
 */
/**
 * The library as a script would use it: gpt-tokenizer's o200k encoding with its own defaults, an
 * instance of its own (countTokensCached turns the shared instance's merge cache off, tokens.ts).
 */
let library: GptEncoding | undefined;
const ORDINARY = { disallowedSpecial: new Set<string>() };
function libraryCount(text: string): number {
  // Made on first use: the overview's process (--child) must not hold it.
  /* eslint-disable @typescript-eslint/no-require-imports */
  library ??= (
    require('gpt-tokenizer/GptEncoding') as typeof import('gpt-tokenizer/GptEncoding')
  ).GptEncoding.getEncodingApi(
    'o200k_base',
    () =>
      (require('gpt-tokenizer/bpeRanks/o200k_base') as typeof import('gpt-tokenizer/bpeRanks/o200k_base'))
        .default,
  );
  /* eslint-enable @typescript-eslint/no-require-imports */
  return text.includes('<|') ? library.countTokens(text, ORDINARY) : library.countTokens(text);
}

async function bareLoop(
  path: string,
  count: (text: string) => number,
): Promise<{ records: number; tokens: Record<string, number> }> {
  const tokens: Record<string, number> = {};
  const records = await forEachDecodedLine(path, (line) => {
    const v = JSON.parse(line) as { messages?: Msg[]; conversations?: Msg[] };
    for (const m of v.messages ?? v.conversations ?? []) {
      const role = m.role ?? m.from ?? '?';
      const content = m.content ?? m.value;
      if (typeof content === 'string' && content) tokens[role] = (tokens[role] ?? 0) + count(content);
    }
  });
  return { records, tokens };
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

interface Run {
  wall: number;
  cpu: number;
}

/** Times `f`: wall seconds and CPU seconds of the process (worker threads included). */
async function timed<T>(f: () => Promise<T>): Promise<Run & { value: T }> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const value = await f();
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(process.cpuUsage(cpu0)), value };
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

interface ChildRun {
  wall: number;
  cpu: number;
  rss0: number;
  peak: number;
  records: number;
  userTokens: number;
  userCount: number;
  timings: { minhashMs: number; signMs: number; busyMs: number; lshMs: number };
}

/**
 * The overview in a process of its own (this script with `--child`), as a newly started extension
 * host would run it: its memory is measured from what that process holds just before (after a
 * garbage collection), every 10 ms until it returns, worker threads included. Measured in the
 * process that ran the bare loops instead, it would reuse the memory they freed and look smaller.
 */
function overviewInChild(file: string): ChildRun {
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--child', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`the overview's process failed (${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildRun;
}

async function child(file: string): Promise<void> {
  const worker = join(repoRoot(), 'dist', 'overview.worker.js');
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const timings = { minhashMs: 0, signMs: 0, busyMs: 0, lshMs: 0 };
  const ov = await timed(() =>
    overviewFile(file, { workers: 2, workerScript: worker, timings, workerHeapMb: HEAP_MB }),
  );
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const user = ov.value.figures.roles.find((x) => x.role === 'user')?.histogram;
  const out: ChildRun = {
    wall: ov.wall,
    cpu: ov.cpu,
    rss0,
    peak,
    records: ov.value.figures.records,
    userTokens: user ? Math.round(user.mean * user.count) : 0,
    userCount: user?.count ?? 0,
    timings,
  };
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  console.log(`synthetic dataset of ${(BYTES / 2 ** 20).toFixed(0)} MiB (bench-data/, reused between runs)…`);
  const file = await ensureSynthDataset(BYTES);
  const mb = (await stat(file)).size / 2 ** 20;
  libraryCount('warm up the tokenizer');
  countTokensCached('warm up the tokenizer');
  const best = {
    bare: Infinity,
    bareCpu: Infinity,
    cached: Infinity,
    cachedCpu: Infinity,
    ov: Infinity,
    ovCpu: Infinity,
  };
  let peakOver = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const loadBefore = load();
    // Interleaved: bare loop, overview, bare loop with cached pieces, in every round.
    const bare = await timed(() => bareLoop(file, libraryCount));
    const child = overviewInChild(file);
    const ov = { wall: child.wall, cpu: child.cpu };
    const { timings, peak, rss0 } = child;
    peakOver = Math.max(peakOver, peak - rss0);
    const cached = await timed(() => bareLoop(file, countTokensCached));
    const loadAfter = load();
    // The same figures: records and tokens of the user turns, from both counters.
    const { records, userTokens, userCount } = child;
    for (const b of [bare.value, cached.value]) {
      const bareUser = (b.tokens.user ?? 0) + (b.tokens.human ?? 0);
      if (records !== b.records || Math.abs(userTokens - bareUser) > userCount)
        throw new Error(
          `the figures differ: ${records} vs ${b.records} records, ${userTokens} vs ${bareUser} user tokens`,
        );
    }
    if (JSON.stringify(bare.value.tokens) !== JSON.stringify(cached.value.tokens))
      throw new Error('the cached piece counts differ from the library count');
    best.bare = Math.min(best.bare, bare.wall);
    best.bareCpu = Math.min(best.bareCpu, bare.cpu);
    best.cached = Math.min(best.cached, cached.wall);
    best.cachedCpu = Math.min(best.cachedCpu, cached.cpu);
    best.ov = Math.min(best.ov, ov.wall);
    best.ovCpu = Math.min(best.ovCpu, ov.cpu);
    const share = timings.minhashMs / (timings.busyMs + timings.lshMs);
    console.log(
      `round ${round}: ${mb.toFixed(0)} MiB, ${bare.value.records} records, load average ${loadBefore} -> ${loadAfter}`,
    );
    console.log(
      `  wall: bare loop (1 thread, library count) ${bare.wall.toFixed(1)} s (${(mb / bare.wall).toFixed(1)} MiB/s); ` +
        `overview (2 workers) ${ov.wall.toFixed(1)} s (${(mb / ov.wall).toFixed(1)} MiB/s): ${(bare.wall / ov.wall).toFixed(2)}x (target >= 1.5x); ` +
        `bare loop with cached pieces ${cached.wall.toFixed(1)} s: ${(cached.wall / ov.wall).toFixed(2)}x`,
    );
    console.log(
      `  work (CPU time, threads included): bare loop ${bare.cpu.toFixed(1)} s, overview ${ov.cpu.toFixed(1)} s = ` +
        `${(ov.cpu / bare.cpu).toFixed(2)}x the bare loop's (best on two free cores: ${((2 * bare.cpu) / ov.cpu).toFixed(2)}x); ` +
        `bare loop with cached pieces ${cached.cpu.toFixed(1)} s (${(ov.cpu / cached.cpu).toFixed(2)}x)`,
    );
    console.log(
      `  MinHash: ${(timings.signMs / 1000).toFixed(1)} s of signatures in the workers + ${(timings.lshMs / 1000).toFixed(1)} s of LSH clustering = ` +
        `${(share * 100).toFixed(1)}% of the overview's work (${(timings.busyMs / 1000).toFixed(1)} s measuring records in all)`,
    );
    console.log(
      `  memory (the overview's own process): peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, ${((peak - rss0) / 1e6).toFixed(0)} MB over the ${(rss0 / 1e6).toFixed(0)} MB before (target < 200 MB)`,
    );
  }
  if (ROUNDS > 1)
    console.log(
      `best of ${ROUNDS} rounds: wall ${(best.bare / best.ov).toFixed(2)}x (bare ${best.bare.toFixed(1)} s, overview ${best.ov.toFixed(1)} s; ` +
        `against cached pieces ${(best.cached / best.ov).toFixed(2)}x); work ${(best.ovCpu / best.bareCpu).toFixed(2)}x ` +
        `(best on two free cores ${((2 * best.bareCpu) / best.ovCpu).toFixed(2)}x); peak RSS over before ${(peakOver / 1e6).toFixed(0)} MB`,
    );
}

const childAt = process.argv.indexOf('--child');
(childAt > 0 ? child(process.argv[childAt + 1]) : main()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
