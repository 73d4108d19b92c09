import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: convert and stats', () => {
  it('converts ShareGPT to OpenAI on stdout, one line per record', () => {
    const file = path.join(DATASETS, 'fastchat_dummy_conversation.jsonl');
    const r = run('convert', '--to', 'openai', file);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trimEnd().split('\n');
    const src = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(out.length, src.length);
    const first = JSON.parse(out[0]) as {
      messages: { role: string; content: string }[];
      id: string;
    };
    const orig = JSON.parse(src[0]) as { id: string; conversations: { value: string }[] };
    assert.equal(first.id, orig.id);
    assert.deepEqual(
      first.messages.map((m) => m.content),
      orig.conversations.map((c) => c.value),
    );
    assert.match(r.stderr, /500 record\(s\) to OpenAI chat fine-tuning, 500 converted/);
  });

  it('--keep-unknown reports the numbers a double cannot hold instead of "0 with losses"', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-'));
    const input = path.join(dir, 'big.jsonl');
    writeFileSync(
      input,
      '{"conversations":[{"from":"human","value":"id 12345678901234567"},{"from":"gpt","value":"A"}],"n":9007199254740993,"same":9007199254740992,"huge":1e400,"f":1.5e300}\n',
    );
    const r = run('convert', '--to', 'openai', '--keep-unknown', input);
    assert.equal(r.code, 0, r.stderr);
    const lost = r.stderr.split('\n').filter((l) => l.includes(': lost: number'));
    assert.deepEqual(
      lost.map((l) => l.replace(/^.*: lost: /, '')),
      [
        'number 9007199254740993 (column 99) cannot be held exactly: written as 9007199254740992',
        'number 1e400 (column 147) cannot be held exactly: written as null',
      ],
    );
    assert.match(r.stderr, /1 with losses \(2 in all\)/);
  });

  it('a record already in the target format keeps its bytes, and roles the format has no room for are reported as losses', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-'));
    const input = path.join(dir, 'roles.jsonl');
    const text =
      '{"messages":[{"role":"gpt","content":"x"},{"role":"assistant","content":"y"}]}\n{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}\n';
    writeFileSync(input, text);
    const r = run('convert', '--to', 'openai', input);
    assert.equal(r.stdout, text, 'copied byte for byte');
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => l.includes(': lost: ')),
      [`${input}:1: lost: turn 1: role 'gpt' is not a openai role (kept as is, unknown role)`],
    );
    assert.match(r.stderr, /2 already openai, 1 with losses \(1 in all\)/);
  });

  it('reports losses per record, keeps invalid lines, writes -o atomically, exits 1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-'));
    const input = path.join(dir, 'in.jsonl');
    writeFileSync(
      input,
      '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":1}]}\n{"messages": [\n',
    );
    const out = path.join(dir, 'out.jsonl');
    const r = run('convert', '--to', 'alpaca', '-o', out, input);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.ok(
      r.stderr.includes(`${input}:1: lost: turn 2: weight 1 cannot be represented in alpaca (dropped)`),
      r.stderr,
    );
    assert.ok(r.stderr.includes(`${input}:2:15: error: invalid JSON`), r.stderr);
    assert.equal(readFileSync(out, 'utf8'), '{"instruction":"q","input":"","output":"a"}\n{"messages": [\n');
    assert.deepEqual(readdirSync(dir).sort(), ['in.jsonl', 'out.jsonl']);
  });

  it('refuses a dialogue -> preference conversion per record and bad usage with exit 2', () => {
    const r = run(
      'convert',
      '--to',
      'trl-preference',
      '--skip-invalid',
      path.join(DATASETS, 'mt_bench_questions.jsonl'),
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /mt_bench_questions\.jsonl:1:1: error: a dialogue cannot be converted to trl-preference/,
    );
    assert.equal(run('convert', '--to', 'nope', 'x').code, 2);
    assert.equal(run('convert', 'x').code, 2);
    assert.equal(run('convert', '--to', 'openai', path.join(os.tmpdir(), 'does-not-exist.jsonl')).code, 2);
    const help = run('convert', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: parrot convert/);
  });

  it('prints stats as text and JSON', () => {
    const file = path.join(DATASETS, 'llamafactory_dpo_en_demo.jsonl');
    const j = run('stats', '--json', file);
    assert.equal(j.code, 0, j.stderr);
    const s = JSON.parse(j.stdout) as {
      records: number;
      preferencePairs: number;
      formats: Record<string, number>;
    };
    assert.equal(s.records, 300);
    assert.equal(s.preferencePairs, 300);
    assert.deepEqual(s.formats, { 'sharegpt-preference': 300 });
    const t = run('stats', file);
    assert.equal(t.code, 0);
    assert.match(t.stdout, /300 record\(s\) in 300 line\(s\)/);
    assert.match(t.stdout, /per role \(tokens: o200k_base\)/);
    assert.equal(run('stats').code, 2);
  });
});
