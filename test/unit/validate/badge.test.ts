// The dialogue editor's record badge (valid / not a valid record) is computed on the host from the
// stored line: its bytes decide, not the text decoded from them.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetStore } from '../../../src/core/store';
import { summarize, summarizeStored } from '../../../src/extension/editor/records';

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
