import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRecord } from '../../../src/core/formats';
import { recordTokenCount, promptTokens, recordTokens, trainingMask } from '../../../src/core/chat/lengths';
import { loadChatTokenizer } from '../../../src/core/chat/tokenizer';
import { conversations } from '../../../src/core/chat/messages';
import { datasetsIn, qwen3ModelDir } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const QWEN3 = qwen3ModelDir(ROOT);

interface Row {
  line: number;
  tokens: number[];
  assistant: number[];
  prompt?: number[];
}
const recorded = JSON.parse(readFileSync(path.join(DATASETS, 'tokens', 'qwen3-counts.json'), 'utf8')) as {
  files: Record<string, Row[]>;
};

describe('chat template token counts (Qwen3)', function () {
  this.timeout(120_000);
  const tok = loadChatTokenizer(QWEN3);

  for (const [file, rows] of Object.entries(recorded.files)) {
    it(`equal the Python tokenizers counts on ${file} (${rows.length} records)`, () => {
      const lines = readFileSync(path.join(DATASETS, file), 'utf8').split('\n');
      assert.ok(rows.length > 50, 'the recorded counts cover the file');
      const wrong: string[] = [];
      for (const row of rows) {
        const r = parseRecord(lines[row.line - 1] ?? '');
        assert.ok(r.ok, `${file}:${row.line} parses`);
        const convs = recordTokens(tok, r.sample);
        const tokens = convs.map((c) => c.tokens);
        const assistant = convs.map((c) => trainingMask(c, 'assistant').lossTokens);
        if (JSON.stringify(tokens) !== JSON.stringify(row.tokens))
          wrong.push(`${row.line}: tokens ${tokens.join(',')} != ${row.tokens.join(',')}`);
        if (JSON.stringify(assistant) !== JSON.stringify(row.assistant))
          wrong.push(`${row.line}: assistant ${assistant.join(',')} != ${row.assistant.join(',')}`);
        if (row.prompt) {
          const prompt = conversations(r.sample).map((c) =>
            promptTokens(tok, r.sample.system, c.turns, r.sample.tools),
          );
          if (JSON.stringify(prompt) !== JSON.stringify(row.prompt))
            wrong.push(`${row.line}: prompt ${prompt.join(',')} != ${row.prompt.join(',')}`);
        }
        assert.equal(recordTokenCount(tok, r.sample), Math.max(...row.tokens));
      }
      assert.deepEqual(wrong.slice(0, 10), []);
    });
  }
});
