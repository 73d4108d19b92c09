import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { detectFileFormat, parseRecord, recordToLine, writeRecord } from '../../../src/core/formats';
import type { FormatId } from '../../../src/core/model';
import { datasetsIn } from '../../support/fixtures';

const DATASETS = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));

/** The format each shared dataset is documented to be in (datasets/README.md). */
const EXPECTED: Record<string, FormatId> = {
  'mt_bench_questions.jsonl': 'mt-bench',
  'fastchat_dummy_conversation.jsonl': 'sharegpt',
  'llamafactory_dpo_en_demo.jsonl': 'sharegpt-preference',
  'llamafactory_glaive_toolcall_en_demo.jsonl': 'sharegpt',
  'llamafactory_alpaca_en_demo.jsonl': 'alpaca',
  'llamafactory_identity.jsonl': 'alpaca',
  'llamafactory_v1_sft_demo.jsonl': 'llamafactory-v1',
};

function lines(file: string): string[] {
  const text = readFileSync(path.join(DATASETS, file), 'utf8');
  return text.split('\n').filter((l) => l !== '');
}

describe('formats: shared datasets', () => {
  for (const [file, format] of Object.entries(EXPECTED)) {
    describe(file, () => {
      const all = lines(file);

      it(`is detected as ${format}, every record`, () => {
        const d = detectFileFormat(all, all.length);
        assert.equal(d.format, format);
        assert.equal(d.mixed, false);
        assert.equal(d.counts[format], all.length);
      });

      it('round-trips every record to the same JSON value, key order and line text', () => {
        all.forEach((line, i) => {
          const r = parseRecord(line);
          assert.ok(r.ok, `line ${i + 1}: ${r.ok ? '' : r.error.message}`);
          assert.equal(r.layout.format, format);
          const back = writeRecord(r.sample, r.layout);
          assert.equal(JSON.stringify(back), JSON.stringify(JSON.parse(line)), `line ${i + 1}`);
          assert.equal(recordToLine(r.sample, r.layout), line, `line ${i + 1}`);
        });
      });
    });
  }

  it('keeps function_call / observation roles of the glaive tool-call data', () => {
    const roles = new Set<string>();
    for (const line of lines('llamafactory_glaive_toolcall_en_demo.jsonl')) {
      const r = parseRecord(line);
      assert.ok(r.ok && r.sample.kind === 'dialogue');
      for (const t of r.sample.turns) roles.add(t.role);
      assert.equal(typeof r.sample.tools, 'string');
    }
    assert.deepEqual([...roles].sort(), ['assistant', 'function_call', 'observation', 'user']);
  });

  it('changes only the edited value when one turn is edited', () => {
    for (const file of [
      'llamafactory_v1_sft_demo.jsonl',
      'mt_bench_questions.jsonl',
      'fastchat_dummy_conversation.jsonl',
    ]) {
      // A line whose own text shows its escaping style (MT-Bench escapes non-ASCII, v1 does not).
      const line = lines(file).find((l) => /\\u[0-9a-f]{4}|[^ -~]/.test(l)) ?? lines(file)[5];
      const r = parseRecord(line);
      assert.ok(r.ok && r.sample.kind === 'dialogue');
      const turn = r.sample.turns[0];
      assert.ok(turn);
      if (typeof turn.content === 'string') turn.content = 'Edited é “quote”';
      else turn.content = [{ ...turn.content[0], type: 'text', text: 'Edited é “quote”' }];
      const out = recordToLine(r.sample, r.layout);
      // Expected: the original value with that one string replaced, in the original's style.
      const orig = JSON.parse(line) as Record<string, unknown>;
      const edited = JSON.parse(out) as Record<string, unknown>;
      const expected = structuredClone(orig);
      if (file.startsWith('mt_bench')) (expected.turns as string[])[0] = 'Edited é “quote”';
      else if (file.startsWith('fastchat'))
        (expected.conversations as { value: string }[])[0].value = 'Edited é “quote”';
      else (expected.messages as { content: { value: string }[] }[])[0].content[0].value = 'Edited é “quote”';
      assert.equal(JSON.stringify(edited), JSON.stringify(expected), file);
      if (file.startsWith('mt_bench')) {
        assert.match(out, /^\{"question_id": \d+, "category": /);
        assert.ok(out.includes('Edited \\u00e9 \\u201cquote\\u201d'), out.slice(0, 120));
      } else if (file.startsWith('llamafactory_v1')) {
        assert.ok(out.includes('"Edited é “quote”"'));
        assert.ok(out.includes('"loss_weight": 0.0'));
      } else
        assert.ok(
          out.startsWith('{"id":"identity_5","conversations":[{"from":"human","value":"Edited é “quote”"}'),
        );
    }
  });
});
