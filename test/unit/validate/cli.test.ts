import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'validate', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('validate/CLI', function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ps-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints FILE:LINE:COL: severity CODE: message (1-based) and exits 1 on errors', () => {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(
      f,
      '{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}\n{"conversations": [}\n\n',
    );
    const r = run(f);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      `${f}:2:20: error json/syntax: invalid JSON: expected a JSON value, found '}'`,
      `${f}:3:1: warning json/blank-line: blank line: most dataset loaders fail on empty lines`,
    ]);
    assert.match(r.stderr, /1 error, 1 warning/);
  });

  it('exits 0 with warnings only; --rule turns a rule off or into an error', () => {
    const f = join(DATASETS, 'llamafactory_v1_sft_demo.jsonl');
    const r = run(f);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /^.*llamafactory_v1_sft_demo\.jsonl:326:1: warning duplicate\/dialogue: duplicate dialogue: same content as line 168$/m,
    );
    const off = run('--rule', 'duplicate/dialogue=off', f);
    assert.equal(off.code, 0);
    assert.equal(off.stdout, '');
    assert.equal(run('--rule=duplicate/dialogue=error', f).code, 1);
  });

  it('--json output with 1-based positions', () => {
    const f = join(dir, 'j.jsonl');
    writeFileSync(f, '{"instruction":"a","output":""}\n');
    const r = run('--json', f);
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout) as {
      files: { file: string; diagnostics: Record<string, unknown>[]; format: string }[];
    };
    assert.equal(out.files[0].format, 'alpaca');
    assert.deepEqual(out.files[0].diagnostics, [
      // '{"instruction":"a","output":' is 28 characters: the empty string is columns 29-30.
      {
        line: 1,
        column: 29,
        endLine: 1,
        endColumn: 31,
        severity: 'warning',
        code: 'content/empty',
        message: '"output": content is empty',
      },
    ]);
  });

  it('--max-errors caps output and says how many more', () => {
    const f = join(dir, 'many.jsonl');
    writeFileSync(f, '{\n'.repeat(20));
    const r = run('--max-errors', '3', f);
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[3], /17 more problems not shown/);
  });

  it('--format and --schema', () => {
    const f = join(DATASETS, 'mt_bench_questions.jsonl');
    assert.equal(run('--format', 'mt-bench', f).code, 0);
    assert.equal(run('--format', 'sharegpt', '--max-errors', '1', f).code, 1);
    const s = join(dir, 's.json');
    writeFileSync(s, JSON.stringify({ type: 'object', required: ['nope'] }));
    const r = run('--schema', s, f);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /:1:1: error schema\/required: missing required property "nope"/);
  });

  it('usage and I/O errors exit 2 without a stack trace', () => {
    for (const args of [
      [],
      ['--bogus', 'x'],
      ['--format', 'nope', 'x'],
      ['--rule', 'nope=off', 'x'],
      ['--max-errors', 'abc', 'x'],
    ]) {
      const r = run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    }
    const missing = run(join(dir, 'missing.jsonl'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing\.jsonl: no such file/);
    const badSchema = join(dir, 'bad-schema.json');
    writeFileSync(badSchema, '{ nope');
    const r = run('--schema', badSchema, join(DATASETS, 'mt_bench_questions.jsonl'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read schema/);
  });

  it('--help lists the rules and exits 0', () => {
    const r = run('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /role\/alternation/);
    assert.match(r.stdout, /Exit status/);
  });
});
