// The dialogue editor's record badge (valid / not a valid record) is computed on the host from the
// stored line: its bytes decide, not the text decoded from them.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetStore } from '../../../src/core/store';
import { problemCheck } from '../../../src/extension/editor/problems';
import { summarize, summarizeStored } from '../../../src/extension/editor/records';
import { matchLine } from '../../../src/extension/editor/search';
import type { Query, RowSummary } from '../../../src/protocol';

const rec = (user: string): string =>
  JSON.stringify({
    messages: [
      { role: 'user', content: user },
      { role: 'assistant', content: 'ok' },
    ],
  });

describe('editor badge: encoding', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ps-badge-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a line of invalid UTF-8 or with a BOM mid-file is not a valid record; its bytes stay as they were', async () => {
    const path = join(dir, 'd.jsonl');
    const prefix = '{"messages":[{"role":"user","content":"é ';
    const bad = Buffer.concat([
      Buffer.from(prefix),
      Buffer.from([0xf0, 0x9f, 0x98]), // an emoji cut short
      Buffer.from('"},{"role":"assistant","content":"ok"}]}'),
    ]);
    const bytes = Buffer.concat([
      Buffer.from('\ufeff' + rec('a') + '\n'),
      bad,
      Buffer.from('\n\ufeff' + rec('b') + '\n' + rec('c') + '\n'),
    ]);
    writeFileSync(path, bytes);
    const store = await DatasetStore.open(path);
    try {
      const texts = await store.readLines(0, 4);
      const rows = await Promise.all(texts.map((t, i) => summarizeStored(store, i, t)));
      assert.deepEqual(
        rows.map((r) => r.ok),
        [true, false, false, true],
      );
      assert.match(
        rows[1].error ?? '',
        new RegExp(`invalid UTF-8: byte 0xF0 .*\\(column ${prefix.length + 1}\\)`),
      );
      assert.match(rows[2].error ?? '', /byte order mark \(U\+FEFF\) in the middle of the file/);
      // The decoded text alone reads as a valid record: that is why the bytes must decide.
      assert.equal(summarize(1, texts[1]).ok, true);
      // Reading them changed nothing.
      assert.deepEqual(await store.readLineBytes(1), bad);
    } finally {
      await store.close();
    }
    assert.deepEqual(readFileSync(path), bytes);
  });
});

describe("editor badge and filters: the record's own validation rules", () => {
  const noAnswer = JSON.stringify({ messages: [{ role: 'user', content: 'Name a wader.' }] });
  const badWeight = JSON.stringify({
    messages: [
      { role: 'user', content: 'Q' },
      { role: 'assistant', content: 'A', weight: 2 },
    ],
  });
  const samePair = JSON.stringify({
    prompt: [{ role: 'user', content: 'Q' }],
    chosen: [{ role: 'assistant', content: 'A' }],
    rejected: [{ role: 'assistant', content: 'A' }],
  });

  it('counts errors and warnings with the severities of the settings', () => {
    const check = problemCheck({});
    assert.ok(check);
    assert.deepEqual(pick(summarize(0, rec('hi'), undefined, check)), {});
    assert.deepEqual(pick(summarize(1, noAnswer, undefined, check)), { warnings: 1 });
    assert.deepEqual(pick(summarize(2, badWeight, undefined, check)), { errors: 1 });
    assert.deepEqual(pick(summarize(3, samePair, undefined, check)), { warnings: 1 });
    const off = problemCheck({
      rules: { 'dialogue/last-not-assistant': 'off', 'preference/identical': 'error' },
    });
    assert.deepEqual(pick(summarize(1, noAnswer, undefined, off)), {});
    assert.deepEqual(pick(summarize(3, samePair, undefined, off)), { errors: 1 });
  });

  it('Invalid only takes records with errors, Has problems those with warnings too', () => {
    const check = problemCheck({});
    const lines = [rec('hi'), noAnswer, badWeight, samePair, '{"broken'];
    const hits = (q: Query): number[] =>
      lines.flatMap((l, i) => (matchLine(i, l, q, undefined, undefined, check) ? [i] : []));
    assert.deepEqual(hits({ invalidOnly: true }), [2, 4]);
    assert.deepEqual(hits({ problems: true }), [1, 2, 3, 4]);
    assert.deepEqual(hits({ problems: true, minTurns: 2 }), [2, 3]);
  });
});

function pick(row: RowSummary): { errors?: number; warnings?: number } {
  const out: { errors?: number; warnings?: number } = {};
  if (row.errors !== undefined) out.errors = row.errors;
  if (row.warnings !== undefined) out.warnings = row.warnings;
  return out;
}
