import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateFile, validateText } from '../../../src/core/validate';
import { datasetsIn } from '../../support/fixtures';

const DATASETS = datasetsIn(resolve(__dirname, '..', '..', '..', '..'));
const norm = (s: unknown): unknown => (typeof s === 'string' ? s.replace(/\s+/g, ' ').trim() : s);
const roleOf: Record<string, string> = { human: 'user', gpt: 'assistant' };

/** A reference duplicate finder written independently of the validator: 0-based lines of later copies. */
function referenceDuplicates(file: string): number[] {
  const seen = new Set<string>();
  const dups: number[] = [];
  readFileSync(resolve(DATASETS, file), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const r = JSON.parse(line) as Record<string, unknown>;
      const turn = (t: Record<string, unknown>): unknown[] => [
        roleOf[String(t.from ?? t.role)] ?? t.from ?? t.role,
        JSON.stringify(t.value ?? t.content, (_k, v: unknown) => norm(v)),
      ];
      const key = JSON.stringify([
        r.system,
        ((r.conversations ?? r.messages ?? []) as Record<string, unknown>[]).map(turn),
        r.chosen ? turn(r.chosen as Record<string, unknown>) : null,
        r.rejected ? turn(r.rejected as Record<string, unknown>) : null,
        norm(r.instruction),
        norm(r.input),
        norm(r.output),
        r.turns,
      ]);
      if (seen.has(key)) dups.push(i);
      else seen.add(key);
    });
  return dups;
}

interface Expect {
  file: string;
  format: string;
  lines: number;
}

// What each file contains, established by reading it: all are valid; some hold duplicate records.
const FILES: Expect[] = [
  { file: 'fastchat_dummy_conversation.jsonl', format: 'sharegpt', lines: 500 },
  { file: 'llamafactory_alpaca_en_demo.jsonl', format: 'alpaca', lines: 999 },
  { file: 'llamafactory_dpo_en_demo.jsonl', format: 'sharegpt-preference', lines: 300 },
  { file: 'llamafactory_glaive_toolcall_en_demo.jsonl', format: 'sharegpt', lines: 300 },
  { file: 'llamafactory_identity.jsonl', format: 'alpaca', lines: 91 },
  { file: 'llamafactory_v1_sft_demo.jsonl', format: 'llamafactory-v1', lines: 500 },
  { file: 'mt_bench_questions.jsonl', format: 'mt-bench', lines: 80 },
];

describe('validate/shared datasets', () => {
  it('the reference finder sees the duplicates known to be in these files', () => {
    // Counted by hand-checked scripts when the files were added; guards the reference itself.
    assert.equal(referenceDuplicates('fastchat_dummy_conversation.jsonl').length, 0);
    assert.equal(referenceDuplicates('llamafactory_identity.jsonl').length, 0);
    assert.equal(referenceDuplicates('llamafactory_alpaca_en_demo.jsonl').length, 14);
    assert.equal(referenceDuplicates('llamafactory_dpo_en_demo.jsonl').length, 5);
    assert.equal(referenceDuplicates('llamafactory_glaive_toolcall_en_demo.jsonl').length, 38);
    assert.equal(referenceDuplicates('llamafactory_v1_sft_demo.jsonl').length, 1);
  });

  for (const e of FILES) {
    it(`${e.file}: no errors; the only warnings are its duplicate dialogues`, async () => {
      const path = resolve(DATASETS, e.file);
      const r = await validateFile(path, { workers: 0 });
      assert.equal(r.lines, e.lines);
      assert.equal(r.format, e.format);
      assert.equal(r.errors, 0, JSON.stringify(r.diagnostics.slice(0, 3)));
      const dups = r.diagnostics.filter((d) => d.code === 'duplicate/dialogue').map((d) => d.line);
      assert.deepEqual(dups, referenceDuplicates(e.file));
      assert.deepEqual(
        r.diagnostics.filter((d) => d.code !== 'duplicate/dialogue'),
        [],
      );
      assert.equal(r.total, dups.length);
      // The editor path (whole text) agrees with the file path.
      assert.deepEqual(validateText(readFileSync(path, 'utf8')), r.diagnostics);
    });
  }

  it('a forced wrong format reports schema errors on every record', async () => {
    const r = await validateFile(resolve(DATASETS, 'mt_bench_questions.jsonl'), {
      workers: 0,
      format: 'sharegpt',
      maxDiagnostics: 5,
    });
    assert.equal(r.diagnostics.length, 5);
    assert.equal(r.errors, 80);
    assert.equal(r.diagnostics[0].message, 'missing required property "conversations"');
  });
});
