// Editing one turn of a record rewrites that turn's text only: every other value keeps the bytes it
// was written with (escapes, number spellings, big numbers, duplicate keys, `__proto__` keys).
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseRecord, recordToLine } from '../../../src/core/formats';
import type { Sample } from '../../../src/core/model';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

function edit(line: string, change: (s: Sample) => void): string {
  const p = parseRecord(line);
  assert.ok(p.ok, `not a record: ${line}`);
  const sample = structuredClone(p.sample);
  change(sample);
  return recordToLine(sample, p.layout);
}

function setTurn(k: number, text: string) {
  return (s: Sample) => {
    assert.equal(s.kind, 'dialogue');
    if (s.kind === 'dialogue') (s.turns[k] as { content: string }).content = text;
  };
}

describe('formats: an edit keeps the bytes of what it did not change', () => {
  const tricky =
    '{"id": "caf\\u00e9", "messages": [{"role": "user", "content": "a\\/b \\u00e9"}, ' +
    '{"role": "assistant", "content": "old"}], "n": 9007199254740993, "huge": 1e400, ' +
    '"f": 1.0, "e": 1E5, "dup": 1, "dup": 2, "__proto__": {"x": 1}, "constructor": "c", ' +
    '"nested": {"s": "\\ud83e\\udd9c", "z": -0.0}}';

  it('rewrites only the edited turn (escapes, numbers, duplicate and special keys kept)', () => {
    const out = edit(tricky, setTurn(1, 'new "text" é'));
    // The line escapes non-ASCII characters, so the new text does too.
    assert.equal(out, tricky.replace('"old"', '"new \\"text\\" \\u00e9"'));
  });

  it('keeps the other turns and fields when a turn is added or removed', () => {
    const added = edit(tricky, (s) => {
      if (s.kind === 'dialogue') s.turns.push({ role: 'user', content: 'more' });
    });
    assert.ok(added.includes('"content": "a\\/b \\u00e9"'), added);
    assert.ok(added.includes('"n": 9007199254740993, "huge": 1e400, "f": 1.0, "e": 1E5'), added);
    assert.ok(added.includes('"dup": 1, "dup": 2, "__proto__": {"x": 1}'), added);
    assert.ok(added.includes('{"role": "user", "content": "more"}'), added);
    const removed = edit(tricky, (s) => {
      if (s.kind === 'dialogue') s.turns.pop();
    });
    assert.equal(
      removed,
      tricky.replace(', {"role": "assistant", "content": "old"}', ''),
      'the remaining turn and every field keep their bytes',
    );
  });

  it('an unchanged record is written back byte for byte', () => {
    assert.equal(
      edit(tricky, () => undefined),
      tricky,
    );
  });

  it('on every record of the real datasets, editing the first turn changes only that text', () => {
    let checked = 0;
    for (const file of readdirSync(datasetsIn(ROOT))
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => path.join(datasetsIn(ROOT), f))) {
      for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const p = parseRecord(line);
        if (!p.ok || p.sample.kind !== 'dialogue') continue;
        const first = p.sample.turns[0];
        if (!first || typeof first.content !== 'string' || first.content.length === 0) continue;
        const out = edit(line, setTurn(0, `${first.content} (edited)`));
        // Exactly one place differs, and what differs there is the edited string.
        let a = 0;
        while (a < line.length && line[a] === out[a]) a++;
        let b = 0;
        while (b < line.length - a && line[line.length - 1 - b] === out[out.length - 1 - b]) b++;
        const before = line.slice(a, line.length - b);
        const after = out.slice(a, out.length - b);
        // The difference lies inside one string literal (no unescaped quote in it)...
        const unquoted = (t: string) => !t.replace(/\\./g, '').includes('"');
        assert.ok(unquoted(before) && unquoted(after), `${file}: ${before} -> ${after}`);
        // ...and that literal is the first turn, now edited; the rest reads as before.
        const back = parseRecord(out);
        assert.ok(back.ok && back.sample.kind === 'dialogue');
        if (back.ok && back.sample.kind === 'dialogue') {
          assert.equal(back.sample.turns[0]?.content, `${first.content} (edited)`);
          assert.deepEqual(back.sample.turns.slice(1), p.sample.turns.slice(1));
        }
        checked++;
      }
    }
    assert.ok(checked > 100, `${checked} records checked`);
  });
});
