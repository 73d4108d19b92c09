/**
 * Validate against the fastest bare single-thread parse (bench/baselines.ts), on the two ShareGPT-like
 * benchmark files, timed as wall seconds AND as CPU seconds of the whole process (all threads,
 * `process.cpuUsage`), with the load average printed: on a shared machine the wall ratio swings
 * with other work, the CPU ratio much less. Interleaved rounds, best times compared.
 * PS_BENCH_BYTES (default 100e6), PS_BENCH_ROUNDS (default 4), PS_BENCH_KINDS (default "ascii,cjk").
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { validateFile } from '../src/core/validate';
import { BARE_PARSES } from './baselines';
import { bestRun, measure, type Run } from './cpu';
import { ensureShareGpt, type SynthKind } from './sharegptSynth';
import { repoRoot } from './synth';

const BYTES = Number(process.env.PS_BENCH_BYTES ?? 100e6);
const ROUNDS = Math.max(1, Number(process.env.PS_BENCH_ROUNDS ?? 4));
const KINDS = (process.env.PS_BENCH_KINDS ?? 'ascii,cjk').split(',') as SynthKind[];
const WORKER = join(repoRoot(), 'dist', 'validate.worker.js');

async function main(): Promise<void> {
  for (const kind of KINDS) {
    const file = await ensureShareGpt(kind, BYTES);
    const sides: Record<string, () => Promise<unknown>> = {
      ...Object.fromEntries(Object.entries(BARE_PARSES).map(([n, f]) => [`bare: ${n}`, () => f(file)])),
      'validate, 1 thread': () => validateFile(file, { workers: 0 }),
      'validate, 2 threads (this one + 1 worker)': () =>
        validateFile(file, { workers: 2, inThread: true, workerScript: WORKER }),
    };
    const runs: Record<string, Run[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
    const loads: string[] = [];
    await BARE_PARSES['latin1 per line + isUtf8 per block'](file); // warm the page cache
    for (let r = 0; r < ROUNDS; r++) {
      loads.push(loadavg()[0].toFixed(1));
      for (const [name, f] of Object.entries(sides)) runs[name].push(await measure(f));
    }
    const best = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, bestRun(v)]));
    const bare = Object.keys(best).filter((k) => k.startsWith('bare: '));
    const fastWall = bare.reduce((a, b) => (best[a].wall <= best[b].wall ? a : b));
    const fastCpu = bare.reduce((a, b) => (best[a].cpu <= best[b].cpu ? a : b));
    console.log(
      `\n== ${kind}, ${(BYTES / 1e6).toFixed(0)} MB, ${ROUNDS} rounds, load ${loads.join(', ')} ==`,
    );
    for (const [name, b] of Object.entries(best)) {
      const ratio = bare.includes(name)
        ? ''
        : `  = ${(best[fastWall].wall / b.wall).toFixed(2)}x wall, ${(best[fastCpu].cpu / b.cpu).toFixed(2)}x CPU of the fastest bare`;
      console.log(`${name}: ${b.wall.toFixed(3)} s wall, ${b.cpu.toFixed(3)} s CPU${ratio}`);
    }
    console.log(`fastest bare: "${fastWall.slice(6)}" (wall), "${fastCpu.slice(6)}" (CPU)`);
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
