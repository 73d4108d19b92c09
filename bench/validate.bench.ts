/**
 * Validation throughput on a synthetic >= 1 GB dataset, against baselines measured in the same run:
 *   1. validateFile in one thread vs a bare read + split + JSON.parse loop (target >= 0.8x);
 *   2. validateFile with 2 workers vs the same bare loop (target > 1x);
 *   3. `parrot validate` vs a per-line Python jsonschema script (target >= 20x), Python timed on a
 *      slice of the file and scaled to the whole file.
 * PS_BENCH_BYTES sets the dataset size (default 1 GiB); PS_BENCH_PY_BYTES the Python slice (64 MiB).
 */
import { spawnSync } from 'node:child_process';
import { open, writeFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFile } from '../src/core/validate';
import { ensureSynthDataset, repoRoot } from './synth';

const BYTES = Number(process.env.PS_BENCH_BYTES ?? 1024 * 1024 * 1024);
const PY_BYTES = Number(process.env.PS_BENCH_PY_BYTES ?? 64 * 1024 * 1024);

/**
 * The baseline: read 1 MiB blocks, decode each up to its last newline, split on newlines with
 * indexOf, JSON.parse every line. (Measured faster here than String.split on a carried string.)
 */
async function bareParse(path: string): Promise<number> {
  const fh = await open(path, 'r');
  let records = 0;
  try {
    let buf = Buffer.allocUnsafe(1 << 20);
    let filled = 0;
    let pos = 0;
    for (;;) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, pos);
      pos += bytesRead;
      filled += bytesRead;
      const end = bytesRead === 0 ? filled : buf.lastIndexOf(10, filled - 1) + 1;
      if (end > 0) {
        const text = buf.toString('utf8', 0, end);
        let start = 0;
        while (start < text.length) {
          let nl = text.indexOf('\n', start);
          if (nl < 0) nl = text.length;
          if (nl > start) {
            JSON.parse(text.slice(start, nl));
            records++;
          }
          start = nl + 1;
        }
        buf.copy(buf, 0, end, filled);
        filled -= end;
      }
      if (bytesRead === 0) break;
    }
  } finally {
    await fh.close();
  }
  return records;
}

async function time<T>(label: string, f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(44)} ${seconds.toFixed(2).padStart(7)} s`);
  return { seconds, value };
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
  const bare = await time('bare split + JSON.parse (1 thread)', () => bareParse(file));
  const one = await time('validateFile, in-process (1 thread)', () => validateFile(file, { workers: 0 }));
  const two = await time('validateFile, 2 workers', () =>
    validateFile(file, { workers: 2, workerScript: worker }),
  );
  if (JSON.stringify(one.value) !== JSON.stringify(two.value))
    throw new Error('1-thread and 2-worker results differ');

  console.log(`\n${bare.value} records, ${one.value.total} diagnostics (${one.value.errors} errors)`);
  console.log(`bare parse        ${(mb / bare.seconds).toFixed(0)} MiB/s`);
  console.log(
    `validate 1 thread ${(mb / one.seconds).toFixed(0)} MiB/s   ratio vs bare ${(bare.seconds / one.seconds).toFixed(2)}x (target >= 0.8x)`,
  );
  console.log(
    `validate 2 workers ${(mb / two.seconds).toFixed(0)} MiB/s  ratio vs bare ${(bare.seconds / two.seconds).toFixed(2)}x (target > 1x)`,
  );

  const hasPy = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8' }).status === 0;
  if (!hasPy) {
    console.log('\npython3 jsonschema not installed: CLI vs Python comparison skipped');
    return;
  }
  const cli = await time('node dist/cli.js validate (all cores)', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'dist', 'cli.js'), 'validate', '--max-errors', '10', file],
      { encoding: 'utf8' },
    );
    if (r.status === 2) throw new Error(r.stderr);
    return Promise.resolve(r.status);
  });
  const dir = await mkdtemp(join(tmpdir(), 'ps-bench-'));
  try {
    const script = join(dir, 'validate.py');
    await writeFile(script, PY);
    const slice = Math.min(PY_BYTES, size);
    const py = await time(`python jsonschema on ${(slice / 2 ** 20).toFixed(0)} MiB slice`, () => {
      const r = spawnSync(
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
      if (r.status !== 0) throw new Error(r.stderr);
      return Promise.resolve(r.stdout.trim());
    });
    const pyWhole = (py.seconds * size) / slice;
    console.log(
      `python jsonschema scaled to the whole file: ${pyWhole.toFixed(1)} s (${(slice / 2 ** 20 / py.seconds).toFixed(1)} MiB/s)`,
    );
    console.log(
      `parrot validate vs python jsonschema: ${(pyWhole / cli.seconds).toFixed(1)}x (target >= 20x)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
