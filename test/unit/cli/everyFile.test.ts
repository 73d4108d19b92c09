// Every published JSON array and pyarrow Parquet file of the fixtures through the CLI, against the
// JSON Lines file of the same records: `validate` finds the same records, format and problems, and
// `convert` writes the same records.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);
const CONTAINERS = path.join(DATASETS, 'containers');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Verdict {
  /** Records: `lines` for line-based files, `rows` for Parquet. */
  lines?: number;
  rows?: number;
  format?: string;
  total: number;
  errors: number;
  diagnostics: { code: string }[];
}

function verdict(file: string): Verdict {
  const r = run('validate', '--json', file);
  assert.ok(r.code === 0 || r.code === 1, `${file}: exit ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { files: Verdict[] }).files[0];
}

describe('cli: every published container file reads as its JSON Lines twin', () => {
  const pairs = readdirSync(CONTAINERS)
    .filter((n) => /\.(json|parquet)$/.test(n) && !n.endsWith('.pyarrow.json'))
    .map((n) => [path.join(CONTAINERS, n), path.join(DATASETS, n.replace(/\.(json|parquet)$/, '.jsonl'))])
    .filter(([, twin]) => existsSync(twin));

  it('has JSON arrays and Parquet files with twins', () => {
    const kinds = new Set(pairs.map(([f]) => path.extname(f)));
    assert.deepEqual([...kinds].sort(), ['.json', '.parquet']);
    assert.ok(pairs.length >= 6, pairs.map(([f]) => path.basename(f)).join(', '));
  });

  it('validate: the same records, format, problem counts and codes', () => {
    for (const [file, twin] of pairs) {
      const a = verdict(file);
      const b = verdict(twin);
      const name = path.basename(file);
      assert.equal(a.lines ?? a.rows, b.lines, `${name}: records`);
      assert.equal(a.format, b.format, `${name}: format`);
      assert.equal(a.total, b.total, `${name}: problems`);
      assert.equal(a.errors, b.errors, `${name}: errors`);
      assert.deepEqual(
        a.diagnostics.map((d) => d.code),
        b.diagnostics.map((d) => d.code),
        `${name}: codes in record order`,
      );
    }
  });

  it('convert: the same records in every target format', () => {
    for (const [file, twin] of pairs)
      for (const to of ['openai', 'sharegpt', 'trl-preference']) {
        const a = run('convert', '--to', to, file);
        const b = run('convert', '--to', to, twin);
        const name = `${path.basename(file)} --to ${to}`;
        assert.equal(a.code, b.code, `${name}: ${a.stderr}`);
        // One record per line (a record that cannot be converted is copied: compact, on one line).
        const records = (out: string) =>
          out
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l) as unknown);
        assert.deepEqual(records(a.stdout), records(b.stdout), name);
      }
  });
});
