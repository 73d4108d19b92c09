import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { fileStats } from '../../../src/core/stats';
import { datasetsIn } from '../../support/fixtures';

const DATASETS = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));

describe('stats', () => {
  it('matches counts computed independently on the glaive tool-call data', async () => {
    const file = path.join(DATASETS, 'llamafactory_glaive_toolcall_en_demo.jsonl');
    const s = await fileStats(file);
    // Independent count: a plain JSON.parse loop over the file.
    const hist: Record<number, number> = {};
    const roles: Record<string, { turns: number; chars: number; tokens: number }> = {};
    const seen = new Set<string>();
    let dups = 0;
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    for (const line of lines) {
      const v = JSON.parse(line) as { conversations: { from: string; value: string }[]; tools: string };
      hist[v.conversations.length] = (hist[v.conversations.length] ?? 0) + 1;
      for (const m of v.conversations) {
        const role = { human: 'user', gpt: 'assistant' }[m.from] ?? m.from;
        const r = (roles[role] ??= { turns: 0, chars: 0, tokens: 0 });
        r.turns++;
        r.chars += [...m.value].length;
        r.tokens += countTokens(m.value);
      }
      const key = JSON.stringify([v.tools, v.conversations]);
      if (seen.has(key)) dups++;
      seen.add(key);
    }
    assert.equal(s.records, lines.length);
    assert.deepEqual(s.formats, { sharegpt: lines.length });
    assert.equal(s.invalid.count, 0);
    assert.deepEqual(s.turnsHistogram, hist);
    assert.deepEqual(s.roles, roles);
    assert.equal(s.duplicates.samples, dups);
  });

  it('counts invalid lines, blank lines, duplicate ids and formats of a mixed file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-stats-'));
    const file = path.join(dir, 'mixed.jsonl');
    writeFileSync(
      file,
      [
        '{"id":"a","conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}',
        '{"id":"a","conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}',
        '',
        '{"instruction":"x","input":"","output":"y"}',
        '{"messages": [1,}',
        '{"prompt":"p","chosen":"c","rejected":"r"}',
      ].join('\r\n') + '\r\n',
    );
    const s = await fileStats(file);
    assert.equal(s.lines, 6);
    assert.equal(s.blankLines, 1);
    assert.equal(s.records, 4);
    assert.deepEqual(s.formats, { sharegpt: 2, alpaca: 1, 'trl-preference': 1 });
    assert.equal(s.invalid.count, 1);
    assert.deepEqual(s.invalid.examples[0], {
      line: 5,
      column: 17,
      message: "invalid JSON: unexpected character '}'",
    });
    assert.equal(s.duplicates.ids, 1);
    assert.equal(s.duplicates.samples, 1);
    assert.equal(s.preferencePairs, 1);
  });
});
