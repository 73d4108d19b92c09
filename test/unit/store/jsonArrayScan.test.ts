import * as assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonArrayError, scanJsonArray } from '../../../src/core/store/containers/scanJsonArray';
import { LineIndex } from '../../../src/core/store/lineIndex';
import { randomRecord, randomValue, serialise } from './arrays';
import { Rng, tempDir } from './util';

async function scan(path: string, chunkSize: number, any = true): Promise<LineIndex> {
  const fh = await open(path, 'r');
  try {
    const index = new LineIndex(0, 4, true);
    const size = (await fh.stat()).size;
    await scanJsonArray(fh, index, 0, size, { chunkSize, onChunk: () => undefined }, any);
    return index;
  } finally {
    await fh.close();
  }
}

describe('JSON array scan', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(async () => cleanup());

  it('finds the elements of random pretty and compact arrays with tricky strings, as JSON.parse does', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rng = new Rng(seed);
      const items = Array.from({ length: rng.int(0, 8) }, () =>
        rng.chance(0.8) ? randomRecord(rng) : randomValue(rng, 0),
      );
      const text = serialise(rng, items);
      const bytes = Buffer.from(text, 'utf8');
      const path = join(dir, `r${seed}.json`);
      await writeFile(path, bytes);
      const index = await scan(path, rng.pick([1, 2, 3, 7, 16, 4096]));
      assert.equal(index.count, items.length, `seed ${seed}: element count`);
      const parsed = JSON.parse(text) as unknown[];
      for (let i = 0; i < index.count; i++) {
        const el = bytes.toString('utf8', index.start(i), index.contentEnd(i));
        assert.deepEqual(JSON.parse(el), parsed[i], `seed ${seed}: element ${i}`);
        // The separator is a comma with whitespace, except after the last element.
        const sep = bytes.toString('latin1', index.contentEnd(i), index.end(i));
        assert.match(sep, i < index.count - 1 ? /^\s*,\s*$/ : /^$/, `seed ${seed}: separator ${i}`);
        // The element starts on the file line of its first byte.
        const line = bytes.subarray(0, index.start(i)).toString('latin1').split('\n').length - 1;
        assert.equal(index.startLines?.[i], line, `seed ${seed}: line of element ${i}`);
      }
      const close = bytes.toString('latin1', index.postStart);
      assert.match(close, /^\s*\]\s*$/, `seed ${seed}: after the last element`);
      const postLine = bytes.subarray(0, index.postStart).toString('latin1').split('\n').length - 1;
      assert.equal(index.postLine, postLine, `seed ${seed}: line after the last element`);
      assert.equal(bytes[index.openEnd - 1], 0x5b, `seed ${seed}: opening bracket`);
    }
  });

  it('reports files that are not JSON arrays with an exact line and column', async () => {
    const cases: Array<[string, RegExp, number, number]> = [
      ['{"a": 1}', /a JSON object, not an array/, 0, 0],
      ['\n\n  "x"', /not a JSON array/, 2, 2],
      ['[{"a": 1},\n {"b": 2},\n]', /trailing commas/, 2, 0],
      ['[{"a": 1}\n {"b": 2}]', /expected "," or "\]"/, 1, 1],
      ['[{"a": [1}]', /does not close/, 0, 9],
      ['[{"é": "ü"}, {"a": "x"}] x', /after the closing/, 0, 25],
      ['[{"a": "x\\"]', /ends inside a string/, 0, 12],
      ['[{"a": {"b": 1}', /"}" is missing/, 0, 15],
      ['[1, 2', /before the closing/, 0, 5],
      ['', /empty/, 0, 0],
      ['[{"a":1},,{"b":2}]', /expected a value, found ","/, 0, 9],
    ];
    for (const [text, re, line, column] of cases) {
      const path = join(dir, 'bad.json');
      await writeFile(path, text);
      for (const chunk of [1, 5, 4096]) {
        await assert.rejects(scan(path, chunk), (e: unknown) => {
          assert.ok(e instanceof JsonArrayError, String(e));
          assert.match(e.message, re, text);
          assert.equal(e.line, line, `${text}: line`);
          assert.equal(e.column, column, `${text}: column`);
          return true;
        });
      }
    }
  });

  it('refuses an array of non-records with a clear message, and opens an empty array', async () => {
    const path = join(dir, 'numbers.json');
    await writeFile(path, '[\n  1,\n  2\n]\n');
    await assert.rejects(
      scan(path, 4096, false),
      /a JSON array of numbers, not of records.*line 2, column 3/,
    );
    await writeFile(path, '[\n  "a", "b"]');
    await assert.rejects(scan(path, 4096, false), /array of strings/);
    await writeFile(path, '[ ]\n');
    const index = await scan(path, 4096, false);
    assert.equal(index.count, 0);
    assert.equal(index.openEnd, 1);
    assert.equal(index.postStart, 1);
  });

  it('marks elements with invalid UTF-8', async () => {
    const path = join(dir, 'bad-utf8.json');
    const bytes = Buffer.concat([
      Buffer.from('[{"a": "ok"},\n {"a": "'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('"},\n {"a": "中"}]'),
    ]);
    await writeFile(path, bytes);
    for (const chunk of [1, 2, 3, 9, 4096]) {
      const index = await scan(path, chunk);
      assert.equal(index.count, 3);
      assert.deepEqual(
        [0, 1, 2].map((i) => (index.flag(i) & 4) !== 0),
        [false, true, false],
        `chunk ${chunk}`,
      );
    }
  });
});
