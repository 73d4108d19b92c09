import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { datasetsIn, qwen3ModelDir } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);
const QWEN3 = qwen3ModelDir(ROOT);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Counts recorded by the Python `tokenizers` library (test/fixtures/datasets/tokens). */
const recorded = JSON.parse(readFileSync(path.join(DATASETS, 'tokens', 'qwen3-counts.json'), 'utf8')) as {
  files: Record<string, { line: number; tokens: number[] }[]>;
};

describe('cli: stats --tokenizer', function () {
  this.timeout(180_000);

  it('--per-record prints LINE<TAB>TOKENS equal to the Python tokenizers counts (pairs: the longer side)', () => {
    const file = 'llamafactory_dpo_en_demo.jsonl';
    const r = run('stats', '--tokenizer', QWEN3, '--per-record', path.join(DATASETS, file));
    assert.equal(r.code, 0, r.stderr);
    const want = (recorded.files[file] ?? []).map((x) => `${x.line}\t${Math.max(...x.tokens)}`);
    assert.equal(want.length, 300);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), want);
  });

  it('--cutoff counts and lists the records over it', () => {
    const file = 'llamafactory_glaive_toolcall_en_demo.jsonl';
    const rows = recorded.files[file] ?? [];
    const cutoff = 700;
    const over = rows.filter((x) => Math.max(...x.tokens) > cutoff).map((x) => x.line);
    assert.ok(over.length > 5 && over.length < rows.length, 'the cutoff splits the file');
    const r = run(
      'stats',
      '--json',
      '--tokenizer',
      QWEN3,
      '--cutoff',
      String(cutoff),
      path.join(DATASETS, file),
    );
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as {
      templateTokens: {
        records: number;
        total: number;
        max: number;
        cutoff: { over: number; overLines: number[] };
      };
    };
    assert.equal(j.templateTokens.records, rows.length);
    assert.equal(
      j.templateTokens.total,
      rows.reduce((a, x) => a + Math.max(...x.tokens), 0),
    );
    assert.equal(j.templateTokens.cutoff.over, over.length);
    assert.deepEqual(j.templateTokens.cutoff.overLines, over);
    const text = run('stats', '--tokenizer', QWEN3, '--cutoff', String(cutoff), path.join(DATASETS, file));
    assert.match(text.stdout, new RegExp(`cutoff ${cutoff}: ${over.length} record\\(s\\) over it`));
    assert.match(text.stdout, new RegExp(`over: line ${over.slice(0, 3).join(', ')}`));
  });

  it('o200k works without a model folder; bad arguments are usage errors', () => {
    const file = path.join(DATASETS, 'mt_bench_questions.jsonl');
    const r = run('stats', '--tokenizer', 'o200k', '--per-record', file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').length, 80);
    assert.match(r.stdout, /^1\t\d+\n2\t\d+\n/);
    assert.equal(run('stats', '--cutoff', '10', file).code, 2);
    assert.equal(run('stats', '--tokenizer', 'o200k', '--cutoff', 'ten', file).code, 2);
    const bad = run('stats', '--tokenizer', path.join(DATASETS, 'nope'), file);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--tokenizer: .*not a folder/);
  });

  it('parrot validate --cutoff: tokens/cutoff on the records the Python counts put past the cutoff', () => {
    const file = 'fastchat_dummy_conversation.jsonl';
    const cutoff = 80;
    // Every record ends with an assistant turn and its rendering with "<|im_end|>\n": the last
    // answer is cut when the record is over cutoff + 1 tokens.
    const want = (recorded.files[file] ?? [])
      .filter((x) => (x.tokens[0] ?? 0) > cutoff + 1)
      .map((x) => x.line);
    assert.ok(want.length > 10 && want.length < 500);
    const r = run(
      'validate',
      '--json',
      '--max-errors',
      '100000',
      '--tokenizer',
      QWEN3,
      '--cutoff',
      String(cutoff),
      path.join(DATASETS, file),
    );
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { files: { diagnostics: { line: number; code: string }[] }[] };
    const diags = j.files[0]?.diagnostics ?? [];
    assert.deepEqual(
      diags.filter((d) => d.code === 'tokens/cutoff').map((d) => d.line),
      want,
    );
    const off = run('validate', '--json', path.join(DATASETS, file));
    assert.ok(!off.stdout.includes('tokens/cutoff'));
  });
});
