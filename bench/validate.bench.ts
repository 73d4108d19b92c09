/**
 * Validation throughput on a synthetic >= 1 GB dataset, against baselines measured in the same run:
 *   1. validateFile in one thread vs a bare read + split + JSON.parse loop (target >= 0.8x);
 *   2. validateFile with 2 workers vs the same bare loop (target > 1x);
 *   3. `parrot validate` vs a per-line Python jsonschema script (target >= 20x), Python timed on a
 *      slice of the file and scaled to the whole file.
 * Each measurement is taken ROUNDS times, interleaved with its baseline, and the best and the median
 * ratio are printed (a shared machine swings between runs).
 * PS_BENCH_BYTES sets the dataset size (default 1 GiB); PS_BENCH_PY_BYTES the Python slice (64 MiB);
 * PS_BENCH_ROUNDS the rounds (default 3).
 */
import { spawnSync } from 'node:child_process';
import { writeFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFile } from '../src/core/validate';
import { forEachDecodedLine } from './baselines';
import { ensureSynthDataset, repoRoot } from './synth';

const BYTES = Number(process.env.PS_BENCH_BYTES ?? 1024 * 1024 * 1024);
const PY_BYTES = Number(process.env.PS_BENCH_PY_BYTES ?? 64 * 1024 * 1024);
const ROUNDS = Math.max(1, Number(process.env.PS_BENCH_ROUNDS ?? 3));

/**
 * The baseline: read 1 MiB blocks, decode each up to its last newline, split on newlines with
 * indexOf, JSON.parse every line. (Measured faster here than String.split on a carried string.)
 */
function bareParse(path: string): Promise<number> {
  return forEachDecodedLine(path, (line) => {
    JSON.parse(line);
  });
}

async function time<T>(f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

/** "best 1.23x, median 1.10x" of baseline time over measured time. */
function ratios(baseline: number[], measured: number[]): string {
  return `best ${(best(baseline) / best(measured)).toFixed(2)}x, median ${(median(baseline) / median(measured)).toFixed(2)}x`;
}

const PY = `
import json, sys, time
from jsonschema import Draft202012Validator
schemas = {k: Draft202012Validator(json.load(open(p))) for k, p in (a.split('=', 1) for a in sys.argv[3:])}
limit = int(sys.argv[2])
done = 0
errors = 0
with open(sys.argv[1], 'rb') as f:
    for raw in f:
        done += len(raw)
        if done > limit:
            break
        line = raw.decode('utf-8').strip()
        if not line:
            continue
        v = json.loads(line)
        fmt = 'sharegpt' if 'conversations' in v else 'openai'
        for e in schemas[fmt].iter_errors(v):
            errors += 1
print(done, errors)
`;

async function main(): Promise<void> {
  const root = repoRoot();
  console.log(`synthetic dataset of ${(BYTES / 2 ** 20).toFixed(0)} MiB (bench-data/, reused between runs)…`);
  const file = await ensureSynthDataset(BYTES);
  const size = (await stat(file)).size;
  const mb = size / 2 ** 20;
  const worker = join(root, 'dist', 'validate.worker.js');

  // Warm the file cache so the first measurement is not penalised.
  await bareParse(file);
  const bare: number[] = [];
  const one: number[] = [];
  const two: number[] = [];
  const loads: string[] = [];
  let records = 0;
  let result: Awaited<ReturnType<typeof validateFile>> | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(loadavg()[0].toFixed(1));
    const b = await time(() => bareParse(file));
    const o = await time(() => validateFile(file, { workers: 0 }));
    const t = await time(() => validateFile(file, { workers: 2, workerScript: worker }));
    if (JSON.stringify(o.value) !== JSON.stringify(t.value))
      throw new Error('1-thread and 2-worker results differ');
    bare.push(b.seconds);
    one.push(o.seconds);
    two.push(t.seconds);
    records = b.value;
    result = o.value;
  }
  console.log(`\n${records} records, ${result?.total} diagnostics (${result?.errors} errors)`);
  console.log(`load average (1 min) at each round: ${loads.join(', ')}`);
  console.log(
    `bare split + JSON.parse, 1 thread: ${secs(bare)} s (best ${(mb / best(bare)).toFixed(0)} MiB/s)`,
  );
  console.log(
    `validateFile, 1 thread:            ${secs(one)} s (best ${(mb / best(one)).toFixed(0)} MiB/s)`,
  );
  console.log(
    `validateFile, 2 workers:           ${secs(two)} s (best ${(mb / best(two)).toFixed(0)} MiB/s)`,
  );
  console.log(`validate 1 thread vs bare parse:  ${ratios(bare, one)} (target >= 0.8x)`);
  console.log(`validate 2 workers vs bare parse: ${ratios(bare, two)} (target > 1x)`);

  const hasPy = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8' }).status === 0;
  if (!hasPy) {
    console.log('\npython3 jsonschema not installed: CLI vs Python comparison skipped');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ps-bench-'));
  try {
    const script = join(dir, 'validate.py');
    await writeFile(script, PY);
    const slice = Math.min(PY_BYTES, size);
    const cli: number[] = [];
    const py: number[] = [];
    for (let r = 0; r < Math.min(ROUNDS, 2); r++) {
      const c = await time(() => {
        const res = spawnSync(
          process.execPath,
          [join(root, 'dist', 'cli.js'), 'validate', '--max-errors', '10', file],
          { encoding: 'utf8' },
        );
        if (res.status === 2) throw new Error(res.stderr);
        return Promise.resolve(res.status);
      });
      const p = await time(() => {
        const res = spawnSync(
          'python3',
          [
            script,
            file,
            String(slice),
            `sharegpt=${join(root, 'schemas', 'sharegpt.schema.json')}`,
            `openai=${join(root, 'schemas', 'openai.schema.json')}`,
          ],
          { encoding: 'utf8' },
        );
        if (res.status !== 0) throw new Error(res.stderr);
        return Promise.resolve(res.stdout.trim());
      });
      cli.push(c.seconds);
      // Python is timed on a slice and scaled to the whole file.
      py.push((p.seconds * size) / slice);
    }
    console.log(`\nnode dist/cli.js validate (all cores): ${secs(cli)} s`);
    console.log(
      `python jsonschema, ${(slice / 2 ** 20).toFixed(0)} MiB slice scaled to the whole file: ${secs(py)} s (best ${(mb / best(py)).toFixed(1)} MiB/s)`,
    );
    console.log(`parrot validate vs python jsonschema: ${ratios(py, cli)} (target >= 20x)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
