import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { validateText } from '../../../src/core/validate';
import { parseRecord } from '../../../src/core/formats';
import { recordTokens } from '../../../src/core/chat/lengths';
import { loadChatTokenizer } from '../../../src/core/chat/tokenizer';
import { datasetsIn, qwen3ModelDir } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const QWEN3 = qwen3ModelDir(ROOT);

describe('validate: tokens/cutoff', function () {
  this.timeout(120_000);
  const tok = loadChatTokenizer(QWEN3);
  const lines = readFileSync(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 'utf8')
    .split('\n')
    .slice(0, 40);
  const text = lines.join('\n') + '\n';

  it('is off without a cutoff', () => {
    assert.equal(validateText(text).filter((d) => d.code === 'tokens/cutoff').length, 0);
  });

  it('marks, in the JSON text, the part of the last assistant turn that truncation drops', () => {
    const cutoff = 60;
    const found = validateText(text, { tokens: { tokenizer: QWEN3, cutoff } }).filter(
      (d) => d.code === 'tokens/cutoff',
    );
    // Independently: the records whose last assistant turn ends past the cutoff, prompt within it.
    const expected: number[] = [];
    lines.forEach((l, i) => {
      const r = parseRecord(l);
      assert.ok(r.ok);
      const [c] = recordTokens(tok, r.sample);
      const last = c?.turns.filter((t) => t.role === 'assistant').pop();
      if (c && last && last.tokenEnd > cutoff) expected.push(i);
    });
    assert.ok(expected.length > 3 && expected.length < lines.length);
    assert.deepEqual(
      found.map((d) => d.line),
      expected,
    );
    let inContent = 0;
    for (const d of found) {
      assert.equal(d.severity, 'warning');
      const line = lines[d.line] ?? '';
      const r = parseRecord(line);
      assert.ok(r.ok);
      const [c] = recordTokens(tok, r.sample);
      assert.ok(c);
      if (/is cut after/.test(d.message)) {
        inContent++;
        // The marked range is the escaped tail of a content string that truncation drops: the
        // rendering up to where that tail begins is exactly `cutoff` tokens. When the cut falls
        // before the content (in the turn's header), the whole content value is marked.
        const marked = line.slice(d.startCol, d.endCol);
        const whole = marked.startsWith('"') && marked.endsWith('"') && marked.length > 1;
        const tail = JSON.parse(whole ? marked : `"${marked}"`) as string;
        // "is cut after": the cut falls in the last assistant turn.
        const t = c.turns.filter((x) => x.role === 'assistant').pop();
        assert.ok(
          t && c.text.slice(t.contentStart, t.contentEnd).endsWith(tail),
          `line ${d.line + 1}: the range is the end of its content`,
        );
        const kept = tok.count(c.text.slice(0, t.contentEnd - tail.length));
        if (whole && tail === c.text.slice(t.contentStart, t.contentEnd))
          assert.ok(kept >= cutoff, `line ${d.line + 1}`);
        else assert.equal(kept, cutoff, `line ${d.line + 1}`);
      } else assert.match(d.message, /the prompt alone is \d+ tokens/);
    }
    assert.ok(inContent > 0);
  });

  it('a tokenizer that does not load is reported once, not on every record', () => {
    const d = validateText(text, {
      tokens: { tokenizer: path.join(DATASETS, 'missing-model'), cutoff: 10 },
    }).filter((x) => x.code === 'tokens/cutoff');
    assert.equal(d.length, 1);
    assert.match(d[0]?.message ?? '', /tokenizer did not load: .*not a folder/);
  });
});
