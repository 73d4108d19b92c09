import * as assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ParquetRowSource, type ParquetRecord } from '../../../src/core/store/containers/parquet';
import { ParquetStore } from '../../../src/core/store/parquetStore';
import { SaveRefusedError } from '../../../src/core/store';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CONTAINERS = path.join(datasetsIn(ROOT), 'containers');

/** pyarrow's own rows of a fixture (exported beside it by make_parquet.py). */
function pyarrowRows(file: string): ParquetRecord[] {
  const json = path.join(CONTAINERS, path.basename(file).replace(/\.parquet$/, '.pyarrow.json'));
  return JSON.parse(readFileSync(json, 'utf8')) as ParquetRecord[];
}

async function readAll(file: string): Promise<ParquetRecord[]> {
  const src = await ParquetRowSource.open(file);
  try {
    const out: ParquetRecord[] = [];
    for await (const { record } of src.records()) out.push(record);
    return out;
  } finally {
    await src.close();
  }
}

/** A copy of a fixture in a fresh folder. */
function copyOf(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-pqstore-'));
  const file = path.join(dir, name);
  copyFileSync(path.join(CONTAINERS, name), file);
  return file;
}

/** Record `text` with the first turn's value changed. */
function editFirstTurn(text: string, value: string): string {
  const r = JSON.parse(text) as { conversations: { value: string }[] };
  r.conversations[0].value = value;
  return JSON.stringify(r);
}

describe('store: Parquet documents (ParquetStore)', () => {
  it('reads the rows of a multi-row-group file as pyarrow does, by window', async () => {
    const file = copyOf('pyarrow_row_groups.parquet');
    const want = pyarrowRows(file);
    const store = await ParquetStore.open(file);
    try {
      assert.equal(store.lineCount, want.length);
      assert.equal(store.isIndexing, false);
      // A window across the first row-group boundary (25 rows each).
      const texts = await store.readLines(20, 10);
      assert.deepEqual(
        texts.map((t) => JSON.parse(t) as unknown),
        want.slice(20, 30),
      );
      assert.deepEqual(JSON.parse(await store.readLine(want.length - 1)), want[want.length - 1]);
    } finally {
      await store.close();
    }
  });

  it('saves an edited turn: that row changes, every other row, the schema, metadata and row groups stay', async () => {
    const file = copyOf('pyarrow_row_groups.parquet');
    const want = pyarrowRows(file);
    const before = await ParquetRowSource.open(file);
    const layout = { schema: before.metadata.schema, info: before.info };
    await before.close();
    const store = await ParquetStore.open(file);
    try {
      const text = await store.readLine(30);
      store.apply({ kind: 'replace', index: 30, texts: [editFirstTurn(text, 'edited turn')] });
      assert.equal(store.isDirty, true);
      await store.save();
      assert.equal(store.isDirty, false);
      const back = await readAll(file);
      assert.equal(back.length, want.length);
      assert.equal((back[30].conversations as { value: string }[])[0].value, 'edited turn');
      for (let i = 0; i < want.length; i++) if (i !== 30) assert.deepEqual(back[i], want[i], `row ${i + 1}`);
      const after = await ParquetRowSource.open(file);
      assert.deepEqual(after.metadata.schema, layout.schema);
      assert.deepEqual(after.info.rowGroups, layout.info.rowGroups);
      assert.deepEqual(after.info.keyValueMetadata, layout.info.keyValueMetadata);
      assert.deepEqual(after.info.columns, layout.info.columns);
      assert.deepEqual(after.info.codecs, layout.info.codecs);
      await after.close();
      // The store reads the saved file now, and the edit is its row.
      assert.equal(store.recordLine(30), 30);
      assert.deepEqual(JSON.parse(await store.readLine(30)), back[30]);
    } finally {
      await store.close();
    }
  });

  it('adds, deletes, moves and duplicates records, and undoes across a save', async () => {
    const file = copyOf('fastchat_dummy_conversation.parquet');
    const want = await readAll(file);
    const store = await ParquetStore.open(file);
    try {
      const first = await store.readLine(0);
      const undo: ReturnType<ParquetStore['apply']>[] = [];
      undo.push(store.apply({ kind: 'insert', index: 1, texts: [first] })); // duplicate row 1
      undo.push(store.apply({ kind: 'delete', index: 3, count: 2 }));
      undo.push(store.apply({ kind: 'move', from: 0, count: 1, to: 4 }));
      const n = want.length + 1 - 2;
      assert.equal(store.lineCount, n);
      const expected = [want[0], ...want.slice(1)];
      expected.splice(1, 0, want[0]);
      expected.splice(3, 2);
      expected.splice(4, 0, ...expected.splice(0, 1));
      await store.save();
      assert.deepEqual(await readAll(file), expected);
      // Undo after the save brings the original rows back from the version that was replaced.
      for (const u of undo.reverse()) store.apply(u);
      assert.deepEqual(
        (await store.readLines(0, store.lineCount)).map((t) => JSON.parse(t) as unknown),
        want,
      );
      await store.save();
      assert.deepEqual(await readAll(file), want);
    } finally {
      await store.close();
    }
  });

  it('refuses malformed edits as the JSON store does, naming rows: ranges, segments, closed store', async () => {
    const file = copyOf('fastchat_dummy_conversation.parquet');
    const store = await ParquetStore.open(file);
    const n = store.lineCount;
    const id = store.baseId;
    try {
      assert.throws(
        () => store.apply({ kind: 'delete', index: n, count: 1 }),
        /rows \d+\.\.\d+ are outside the document \(\d+ rows\)/,
      );
      await assert.rejects(store.readLine(n), /Row \d+ does not exist \(the document has \d+ rows\)/);
      const splice = (insert: unknown) =>
        store.apply({ kind: 'splice', index: 0, deleteCount: 0, insert } as never);
      assert.throws(
        () => splice([{ kind: 'original', base: id, start: n - 1, count: 2 }]),
        /segment 0 refers to original rows that do not exist/,
      );
      assert.throws(
        () => splice([{ kind: 'original', base: 'gone', start: 0, count: 1 }]),
        /refers to rows of an earlier version .* no longer kept/,
      );
      assert.throws(() => splice([{ kind: 'text', texts: [1] }]), /text 0 is not a string/);
      // A valid splice of original rows goes through and is undone exactly.
      const first = await store.readLine(0);
      const inverse = splice([{ kind: 'original', base: id, start: 0, count: 1 }]);
      assert.equal(store.lineCount, n + 1);
      assert.equal(await store.readLine(1), first);
      store.apply(inverse);
      assert.equal(store.lineCount, n);
    } finally {
      await store.close();
    }
    assert.throws(() => store.apply({ kind: 'delete', index: 0, count: 1 }), /is closed/);
  });

  it('restores a hot-exit backup of a dirty document, including rows of a replaced version', async () => {
    const file = copyOf('fastchat_dummy_conversation.parquet');
    const want = await readAll(file);
    const store = await ParquetStore.open(file);
    let backup;
    try {
      const u = store.apply({ kind: 'delete', index: 0, count: 1 });
      await store.save();
      store.apply(u); // row 0 is now a row of the replaced version
      store.apply({
        kind: 'replace',
        index: 2,
        texts: [editFirstTurn(await store.readLine(2), 'from backup')],
      });
      backup = JSON.parse(JSON.stringify(await store.backup())) as Awaited<
        ReturnType<ParquetStore['backup']>
      >;
    } finally {
      await store.close();
    }
    const restored = await ParquetStore.restore(file, backup);
    try {
      assert.equal(restored.isDirty, true);
      const rows = (await restored.readLines(0, restored.lineCount)).map(
        (t) => JSON.parse(t) as ParquetRecord,
      );
      assert.equal(rows.length, want.length);
      assert.deepEqual(rows[0], want[0]);
      assert.equal((rows[2].conversations as { value: string }[])[0].value, 'from backup');
      assert.deepEqual(rows.slice(3), want.slice(3));
    } finally {
      await restored.close();
    }
    // A backup of another version of the file is refused, applying nothing.
    writeFileSync(file, readFileSync(path.join(CONTAINERS, 'pyarrow_snappy.parquet')));
    await assert.rejects(ParquetStore.restore(file, backup), /changed after the backup was made/);
  });

  it('refuses to save over a file another program replaced, and writes nothing', async () => {
    const file = copyOf('fastchat_dummy_conversation.parquet');
    const store = await ParquetStore.open(file);
    try {
      store.apply({ kind: 'delete', index: 0, count: 1 });
      const other = readFileSync(path.join(CONTAINERS, 'pyarrow_snappy.parquet'));
      const tmp = `${file}.other`;
      writeFileSync(tmp, other);
      const { renameSync } = await import('node:fs');
      renameSync(tmp, file);
      await assert.rejects(
        store.save(),
        (e: unknown) => e instanceof SaveRefusedError && e.reason === 'replaced',
      );
      assert.deepEqual(readFileSync(file), other);
    } finally {
      await store.close();
    }
  });

  it('refuses a save whose edited row the schema cannot hold, naming the row, and keeps the file', async () => {
    const file = copyOf('fastchat_dummy_conversation.parquet');
    const bytes = readFileSync(file);
    const store = await ParquetStore.open(file);
    try {
      const r = JSON.parse(await store.readLine(4)) as Record<string, unknown>;
      r.extra = 1;
      store.apply({ kind: 'replace', index: 4, texts: [JSON.stringify(r)] });
      await assert.rejects(store.save(), /row 5: .*"extra"/);
      store.apply({ kind: 'replace', index: 4, texts: ['{"id": '] });
      await assert.rejects(store.save(), /row 5: not valid JSON/);
      assert.deepEqual(readFileSync(file), bytes);
      assert.equal(store.isDirty, true);
    } finally {
      await store.close();
    }
  });

  it('saves as JSON Lines, as a JSON array and as another Parquet file, staying on its own file', async () => {
    const file = copyOf('pyarrow_snappy.parquet');
    const want = pyarrowRows(file);
    const store = await ParquetStore.open(file);
    try {
      store.apply({ kind: 'replace', index: 0, texts: [editFirstTurn(await store.readLine(0), 'in jsonl')] });
      const jsonl = path.join(path.dirname(file), 'out.jsonl');
      await store.saveAs(jsonl, { rebase: false });
      const lines = readFileSync(jsonl, 'utf8').split('\n');
      assert.equal(lines.pop(), '');
      const rows = lines.map((l) => JSON.parse(l) as ParquetRecord);
      assert.equal((rows[0].conversations as { value: string }[])[0].value, 'in jsonl');
      assert.deepEqual(rows.slice(1), want.slice(1));
      const json = path.join(path.dirname(file), 'out.json');
      await store.saveAs(json);
      const text = readFileSync(json, 'utf8');
      assert.match(text, /^\[\n {2}\{\n {4}"id": /);
      assert.deepEqual((JSON.parse(text) as ParquetRecord[]).slice(1), want.slice(1));
      // Another Parquet file, with the edit; the store stays on its own file when asked to.
      const copy = path.join(path.dirname(file), 'copy.parquet');
      await store.saveAs(copy, { rebase: false });
      const copied = await readAll(copy);
      assert.deepEqual(copied[0], rows[0]);
      assert.deepEqual(copied.slice(1), want.slice(1));
      // Still on the Parquet file, still dirty (a text container is a copy).
      assert.equal(store.path, file);
      assert.equal(store.isDirty, true);
      assert.ok(statSync(file).size > 0);
    } finally {
      await store.close();
    }
  });
});
