// parrot convert reads a file through the dataset_info.json entry that renames its columns, message
// keys and role tags: the output is the one the same records under their canonical names give.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const RENAMED = path.join(DATASETS, 'llamafactory-renamed');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Rec = Record<string, unknown>;
const published = (name: string, n: number): Rec[] =>
  (JSON.parse(readFileSync(path.join(DATASETS, 'containers', name), 'utf8')) as Rec[]).slice(0, n);
const jsonl = (text: string): Rec[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Rec);

describe('parrot convert through a dataset_info.json entry', function () {
  this.timeout(60_000);
  let tmp = '';
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'parrot-convert-dsinfo-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** The published records (canonical names) as a JSONL file with no entry. */
  function canonical(name: string, n: number): string {
    const f = path.join(tmp, name.replace(/\.json$/, '.jsonl'));
    writeFileSync(
      f,
      published(name, n)
        .map((r) => JSON.stringify(r) + '\n')
        .join(''),
    );
    return f;
  }

  for (const [file, source, n, to] of [
    ['glaive_renamed.jsonl', 'llamafactory_glaive_toolcall_en_demo.json', 100, 'openai'],
    ['dpo_renamed.jsonl', 'llamafactory_dpo_en_demo.json', 50, 'trl-preference'],
    ['alpaca_renamed.json', 'llamafactory_alpaca_en_demo.json', 100, 'sharegpt'],
  ] as const) {
    it(`${file} --to ${to}: the bytes the canonical records give, and the entry named on stderr`, () => {
      const mapped = run('convert', '--to', to, path.join(RENAMED, file));
      const plain = run('convert', '--to', to, canonical(source, n));
      assert.equal(mapped.code, 0, mapped.stderr);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(jsonl(mapped.stdout).length, n);
      assert.equal(mapped.stdout, plain.stdout);
      assert.match(
        mapped.stderr,
        new RegExp(`read through entry "${file.replace(/\..*$/, '')}" of .*dataset_info\\.json`),
      );
    });
  }

  it('into its own format: records under the canonical names, as published (-o out.json)', () => {
    const out = path.join(tmp, 'glaive.json');
    const r = run('convert', '--to', 'sharegpt', '-o', out, path.join(RENAMED, 'glaive_renamed.jsonl'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(readFileSync(out, 'utf8')),
      published('llamafactory_glaive_toolcall_en_demo.json', 100),
    );
    const a = run('convert', '--to', 'alpaca', path.join(RENAMED, 'alpaca_renamed.json'));
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(jsonl(a.stdout), published('llamafactory_alpaca_en_demo.json', 100));
  });

  it('--no-dataset-info reads the records as they are: of no known format', () => {
    const r = run(
      'convert',
      '--to',
      'openai',
      '--no-dataset-info',
      path.join(RENAMED, 'glaive_renamed.jsonl'),
    );
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /read through entry/);
    assert.match(r.stderr, /100 invalid/);
    // Invalid lines are copied unchanged: the output is the input.
    assert.equal(r.stdout, readFileSync(path.join(RENAMED, 'glaive_renamed.jsonl'), 'utf8'));
  });
});
