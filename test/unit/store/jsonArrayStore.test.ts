import * as assert from 'node:assert/strict';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DatasetStore, detectStyle, formatElement, type StoreEdit } from '../../../src/core/store';
import { Rng, tempDir } from './util';

const CONTAINERS = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'datasets', 'containers');

/** The published LLaMA-Factory / FastChat files are Python's json.dump(indent=2) plus a newline. */
function pretty(items: unknown[]): string {
  return JSON.stringify(items, null, 2) + '\n';
}

async function fixtures(): Promise<string[]> {
  return (await readdir(CONTAINERS))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.pyarrow.json'))
    .sort();
}

describe('store: JSON array files', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(async () => cleanup());

  async function copy(name: string): Promise<string> {
    const p = join(dir, name);
    await copyFile(join(CONTAINERS, name), p);
    return p;
  }

  it('reads the elements of the published arrays as records, on their real lines', async () => {
    for (const name of await fixtures()) {
      const path = await copy(name);
      const text = await readFile(path, 'utf8');
      const items = JSON.parse(text) as unknown[];
      const store = await DatasetStore.open(path);
      try {
        await store.indexed;
        assert.equal(store.containerKind, 'json-array');
        assert.equal(store.lineCount, items.length, name);
        const texts = await store.readLines(0, store.lineCount);
        texts.forEach((t, i) => assert.deepEqual(JSON.parse(t), items[i], `${name} #${i}`));
        // Record i starts on the line where `JSON.stringify` puts its opening brace.
        const lines = text.split('\n');
        for (const i of [0, 1, items.length - 1]) {
          const line = store.recordLine(i) as number;
          assert.equal(lines[line], '  {', `${name} #${i} line`);
        }
      } finally {
        await store.close();
      }
    }
  });

  it('edits, inserts, deletes, moves and duplicates keep the file a valid array in its own style, untouched records byte for byte; undo brings back the original bytes', async () => {
    for (const name of await fixtures()) {
      const path = await copy(name);
      const original = await readFile(path);
      const items = JSON.parse(original.toString('utf8')) as Array<Record<string, unknown>>;
      const store = await DatasetStore.open(path);
      try {
        await store.indexed;
        const expected = items.slice();
        const undo: StoreEdit[] = [];
        const edit = (e: StoreEdit): void => void undo.push(store.apply(e));
        // Replace record 1 (compact text, as the editor sends it) with a changed, non-ASCII one.
        const changed = { ...items[1], note: 'überarbeitet 中文 🦜 "quoted" \\ back' };
        edit({ kind: 'replace', index: 1, texts: [JSON.stringify(changed)] });
        expected[1] = changed;
        // Insert two new records after record 3.
        const added = [{ conversations: [] }, { messages: [{ role: 'user', content: 'x' }], n: 1.5e-7 }];
        edit({ kind: 'insert', index: 4, texts: added.map((a) => JSON.stringify(a)) });
        expected.splice(4, 0, ...added);
        // Duplicate record 0 (its own pretty text) at the end.
        edit({ kind: 'insert', index: expected.length, texts: [await store.readLine(0)] });
        expected.push(items[0]);
        // Move the original last record to the front, delete record 2.
        const lastOriginal = expected.length - 2;
        edit({ kind: 'move', from: lastOriginal, count: 1, to: 0 });
        expected.unshift(...expected.splice(lastOriginal, 1));
        edit({ kind: 'delete', index: 2, count: 1 });
        expected.splice(2, 1);
        await store.save();
        const saved = await readFile(path, 'utf8');
        assert.equal(saved, pretty(expected), name);
        // The store now reads the saved file: its records and lines are those of the new bytes.
        assert.deepEqual(JSON.parse(await store.readLine(1)), expected[1]);
        const savedLines = saved.split('\n');
        for (let i = 0; i < store.lineCount; i += Math.max(1, Math.floor(store.lineCount / 7))) {
          assert.equal(savedLines[store.recordLine(i) as number], '  {', `${name}: line of #${i} after save`);
        }
        // Undo everything, across the save: the original bytes come back.
        for (const e of undo.reverse()) store.apply(e);
        await store.save();
        assert.ok((await readFile(path)).equals(original), `${name}: undo to the original bytes`);
      } finally {
        await store.close();
      }
    }
  });

  it('deleting the last record, every record, and adding to an empty array keep valid separators', async () => {
    const path = await copy('llamafactory_identity.json');
    const items = JSON.parse(await readFile(path, 'utf8')) as unknown[];
    const store = await DatasetStore.open(path);
    try {
      await store.indexed;
      store.apply({ kind: 'delete', index: items.length - 1, count: 1 });
      await store.save();
      assert.equal(await readFile(path, 'utf8'), pretty(items.slice(0, -1)));
      store.apply({ kind: 'delete', index: 0, count: store.lineCount });
      await store.save();
      const empty = await readFile(path, 'utf8');
      assert.deepEqual(JSON.parse(empty), []);
      assert.equal(store.lineCount, 0);
      store.apply({ kind: 'insert', index: 0, texts: ['{"a":1}', '{"b":[1,2]}'] });
      await store.save();
      assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), [{ a: 1 }, { b: [1, 2] }]);
    } finally {
      await store.close();
    }
    // A compact file stays compact; an empty one gets compact records.
    for (const [text, style] of [
      ['[{"a": 1}, {"b": 2}]', '[{"a": 1}, {"c": 3}, {"b": 2}]'],
      ['[{"a":1},{"b":2}]', '[{"a":1},{"c":3},{"b":2}]'],
      ['[]\n', '[{"c":3}]\n'],
      ['[\n\n]', '[{"c":3}\n\n]'],
    ]) {
      const p = join(dir, 'compact.json');
      await writeFile(p, text);
      const s = await DatasetStore.open(p);
      try {
        await s.indexed;
        s.apply({ kind: 'insert', index: Math.min(1, s.lineCount), texts: ['{"c":3}'] });
        await s.save();
        assert.equal(await readFile(p, 'utf8'), style);
      } finally {
        await s.close();
      }
    }
  });

  it('refuses a record text that is not JSON, so the file stays an array', async () => {
    const path = await copy('llamafactory_identity.json');
    const store = await DatasetStore.open(path);
    try {
      await store.indexed;
      assert.throws(
        () => store.apply({ kind: 'replace', index: 0, texts: ['{"a": 1},{"b": 2'] }),
        /not valid JSON/,
      );
      assert.throws(() => store.apply({ kind: 'insert', index: 0, texts: [']'] }), /not valid JSON/);
      assert.equal(store.isDirty, false);
    } finally {
      await store.close();
    }
  });

  it('a file that is not an array of records fails to open with the reason and position', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        '{\n  "alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}\n}\n',
        /a JSON object, not an array.*line 1, column 1/,
      ],
      ['[\n  1,\n  2\n]', /array of numbers, not of records.*line 2, column 3/],
      ['[\n  {"a": 1},\n]', /trailing commas.*line 3, column 1/],
    ];
    for (const [text, re] of cases) {
      const p = join(dir, 'not-records.json');
      await writeFile(p, text);
      const s = await DatasetStore.open(p);
      try {
        await assert.rejects(s.indexed, re);
      } finally {
        await s.close();
      }
    }
  });

  it('hot exit: a backup of edits restores the same document and saves the same bytes', async () => {
    const path = await copy('llamafactory_dpo_en_demo.json');
    const items = JSON.parse(await readFile(path, 'utf8')) as unknown[];
    const store = await DatasetStore.open(path);
    await store.indexed;
    store.apply({ kind: 'move', from: 0, count: 3, to: 10 });
    store.apply({ kind: 'replace', index: 20, texts: ['{"conversations":[],"chosen":{},"rejected":{}}'] });
    const backup = JSON.parse(JSON.stringify(store.backup())) as ReturnType<DatasetStore['backup']>;
    await store.close();
    const restored = await DatasetStore.restore(path, backup);
    try {
      assert.equal(restored.isDirty, true);
      await restored.save();
      const expected = items.slice();
      expected.splice(10, 0, ...expected.splice(0, 3));
      expected[20] = { conversations: [], chosen: {}, rejected: {} };
      assert.equal(await readFile(path, 'utf8'), pretty(expected));
    } finally {
      await restored.close();
    }
  });

  it('random edit sequences on random pretty and compact arrays match a reference, saved and undone', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const rng = new Rng(seed);
      const indent = rng.pick([0, 2, 4]);
      const items = Array.from({ length: rng.int(1, 6) }, (_, i) => ({
        id: i,
        t: 'x"\\é'.repeat(rng.int(0, 3)),
      }));
      const fmt = (a: unknown[]) => (indent ? JSON.stringify(a, null, indent) : JSON.stringify(a)) + '\n';
      const p = join(dir, `rand${seed}.json`);
      const original = fmt(items);
      await writeFile(p, original);
      const store = await DatasetStore.open(p);
      try {
        await store.indexed;
        const ref: unknown[] = items.slice();
        const undo: StoreEdit[] = [];
        let next = 100;
        for (let step = 0; step < 8; step++) {
          const len = ref.length;
          const kind = len === 0 ? 'insert' : rng.pick(['replace', 'insert', 'delete', 'move'] as const);
          let e: StoreEdit;
          if (kind === 'insert') {
            const index = rng.int(0, len);
            const add = [{ id: next++ }];
            ref.splice(index, 0, ...add);
            e = { kind, index, texts: add.map((a) => JSON.stringify(a)) };
          } else if (kind === 'replace') {
            const index = rng.int(0, len - 1);
            ref[index] = { id: next++, r: [1, { q: '"' }] };
            e = { kind, index, texts: [JSON.stringify(ref[index])] };
          } else if (kind === 'delete') {
            const index = rng.int(0, len - 1);
            const count = rng.int(1, len - index);
            ref.splice(index, count);
            e = { kind, index, count };
          } else {
            const from = rng.int(0, len - 1);
            const count = rng.int(1, len - from);
            const to = rng.int(0, len - count);
            ref.splice(to, 0, ...ref.splice(from, count));
            e = { kind, from, count, to };
          }
          undo.push(store.apply(e));
          if (rng.chance(0.3)) await store.save();
        }
        await store.save();
        assert.equal(await readFile(p, 'utf8'), fmt(ref), `seed ${seed}`);
        for (const e of undo.reverse()) store.apply(e);
        await store.save();
        assert.equal(await readFile(p, 'utf8'), original, `seed ${seed}: undone`);
      } finally {
        await store.close();
      }
    }
  });

  it('formatElement writes a record in the style detected from a neighbour', () => {
    const value = { a: [1, { b: 'é' }], c: {}, d: [] };
    const text = JSON.stringify(value);
    const style2 = detectStyle('{\n    "x": 1', '  ');
    assert.equal(formatElement(text, style2), JSON.stringify(value, null, 2).replace(/\n/g, '\n  '));
    const py = detectStyle('{"x": 1, "y": "\\u00e9"}', '');
    assert.equal(formatElement(text, py), '{"a": [1, {"b": "\\u00e9"}], "c": {}, "d": []}');
    const crlf = detectStyle('{\r\n\t"x": 1', '');
    assert.equal(formatElement('{"a":1}', crlf), '{\r\n\t"a": 1\r\n}');
    // Numbers keep their spelling.
    assert.equal(formatElement('{"n":1.0,"m":1e400}', py), '{"n": 1.0, "m": 1e400}');
  });
});
