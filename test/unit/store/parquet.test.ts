import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ParquetRecordError,
  ParquetRowSource,
  ParquetSchemaBuilder,
  layoutOf,
  writeParquet,
  writableCodec,
  type ParquetRecord,
} from '../../../src/core/store/containers/parquet';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CONTAINERS = path.join(datasetsIn(ROOT), 'containers');
const FIXTURES = readdirSync(CONTAINERS)
  .filter((f) => f.endsWith('.parquet'))
  .sort();

/** pyarrow's own rows of a fixture, exported beside it by make_parquet.py. */
function pyarrowRows(file: string): ParquetRecord[] {
  return JSON.parse(readFileSync(file.replace(/\.parquet$/, '.pyarrow.json'), 'utf8')) as ParquetRecord[];
}

/** Whether python3 with pyarrow is here (the pyarrow cross-checks are skipped otherwise). */
const PYARROW = spawnSync('python3', ['-c', 'import pyarrow'], { encoding: 'utf8' }).status === 0;

/** pyarrow's reading of a file: rows, the Arrow schema (with metadata), codecs and row groups. */
function pyarrowView(file: string): {
  rows: ParquetRecord[];
  schema: string;
  metadata: Record<string, string>;
  codecs: string[];
  rowGroups: number[];
} {
  const script = `
import json, sys, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1]); m = f.metadata; t = f.read()
print(json.dumps({
  "rows": t.to_pylist(),
  "schema": str(t.schema.remove_metadata()),
  "metadata": {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items()},
  "codecs": [m.row_group(0).column(i).compression for i in range(m.num_columns)] if m.num_row_groups else [],
  "rowGroups": [m.row_group(i).num_rows for i in range(m.num_row_groups)],
}))`;
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ReturnType<typeof pyarrowView>;
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

describe('store: Parquet container', () => {
  it('has the pyarrow fixtures of every codec, encoding and type this test covers', () => {
    for (const name of [
      'pyarrow_snappy',
      'pyarrow_gzip',
      'pyarrow_zstd',
      'pyarrow_brotli',
      'pyarrow_lz4',
      'pyarrow_uncompressed',
      'pyarrow_plain',
      'pyarrow_delta',
      'pyarrow_page_v2',
      'pyarrow_row_groups',
      'pyarrow_large_types',
    ])
      assert.ok(FIXTURES.includes(`${name}.parquet`), name);
  });

  for (const f of FIXTURES) {
    it(`reads ${f} as pyarrow wrote it`, async () => {
      const file = path.join(CONTAINERS, f);
      const want = pyarrowRows(file);
      assert.ok(want.length > 0);
      assert.deepEqual(await readAll(file), want);
    });
  }

  it('reads a window of rows across row groups, and the footer says the layout', async () => {
    const file = path.join(CONTAINERS, 'pyarrow_row_groups.parquet');
    const want = pyarrowRows(file);
    const src = await ParquetRowSource.open(file);
    try {
      assert.deepEqual(src.info.rowGroups, [25, 25, 10]);
      assert.equal(src.rowCount, 60);
      assert.deepEqual(src.info.columns, ['id', 'conversations', 'meta', 'tags', 'score', 'n', 'ok']);
      assert.ok(src.info.keyValueMetadata.some((kv) => kv.key === 'huggingface'));
      assert.deepEqual(await src.rows(20, 53), want.slice(20, 53));
      assert.deepEqual(await src.rows(3, 7), want.slice(3, 7));
      assert.deepEqual(await src.rows(58, 100), want.slice(58));
      assert.deepEqual(await src.rows(70, 80), []);
      assert.equal(src.groupOf(0), 0);
      assert.equal(src.groupOf(25), 1);
      assert.equal(src.groupOf(59), 2);
    } finally {
      await src.close();
    }
    // A first window inside a group, then more of the same group: the same rows either way.
    const again = await ParquetRowSource.open(file);
    try {
      assert.deepEqual(await again.rows(27, 30), want.slice(27, 30));
      assert.deepEqual(await again.rows(31, 33), want.slice(31, 33));
      assert.deepEqual(await again.rows(25, 50), want.slice(25, 50));
      assert.deepEqual((await again.group(1)).length, 25);
    } finally {
      await again.close();
    }
  });

  it('says plainly that a file which is not Parquet is not', async () => {
    const file = path.join(CONTAINERS, 'llamafactory_identity.json');
    await assert.rejects(ParquetRowSource.open(file), /not a readable Parquet file/);
  });

  for (const f of FIXTURES) {
    it(`saves ${f} keeping rows, schema, metadata, codec and row groups`, async function () {
      const file = path.join(CONTAINERS, f);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-parquet-'));
      const out = path.join(dir, f);
      const src = await ParquetRowSource.open(file);
      const rows: ParquetRecord[] = [];
      for await (const { record } of src.records()) rows.push(record);
      // One edit: the first record's first turn; every other row must come back equal.
      const edited = structuredClone(rows);
      const first = edited[0];
      const conv = (first.conversations ?? first.messages) as { value?: string }[] | undefined;
      if (conv?.[0]?.value !== undefined) conv[0].value = 'edited: ' + conv[0].value;
      else first.id = 'edited';
      const layout = layoutOf(src);
      const res = await writeParquet(out, edited, layout);
      await src.close();
      assert.equal(res.rows, rows.length);
      // A codec this process cannot compress with is written as snappy, and the result says so.
      for (const [column, wanted] of Object.entries(layout.codecs ?? {})) {
        const fellBack = res.codecFallbacks.some((f) => f.column === column && f.wanted === wanted);
        assert.equal(fellBack, writableCodec(wanted) !== wanted, column);
        assert.equal(res.codecs[column], writableCodec(wanted));
      }
      const back = await readAll(out);
      assert.deepEqual(back[0], edited[0]);
      assert.notDeepEqual(back[0], rows[0]);
      assert.deepEqual(back.slice(1), rows.slice(1));
      if (!PYARROW) {
        this.skip(); // the pyarrow cross-check needs python3 with pyarrow (pip install pyarrow)
      }
      const a = pyarrowView(file);
      const b = pyarrowView(out);
      assert.deepEqual(b.rows.slice(1), a.rows.slice(1));
      assert.deepEqual(b.rows[0], edited[0]);
      assert.equal(b.schema, a.schema);
      assert.deepEqual(b.metadata, a.metadata);
      assert.deepEqual(b.rowGroups, a.rowGroups);
      const wanted = a.codecs.map((c) => (c === 'LZ4' ? 'LZ4_RAW' : c));
      const written = wanted.map((c) => writableCodec(c as never));
      assert.deepEqual(
        b.codecs.map((c) => (c === 'LZ4' ? 'LZ4_RAW' : c)),
        written,
      );
    });
  }

  it('refuses a record with a field the schema lacks, naming the row, and leaves the file as it was', async () => {
    const file = path.join(CONTAINERS, 'fastchat_dummy_conversation.parquet');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-parquet-'));
    const out = path.join(dir, 'x.parquet');
    writeFileSync(out, 'old');
    const src = await ParquetRowSource.open(file);
    const rows = await src.rows(0, 5);
    const layout = layoutOf(src);
    await src.close();
    rows[3] = { ...rows[3], extra: 1 };
    await assert.rejects(writeParquet(out, rows, layout), (e: unknown) => {
      const cause = (e as Error).cause;
      return (
        cause instanceof ParquetRecordError &&
        cause.row === 3 &&
        /row 4: .*"extra".*schema.*not changed/.test((e as Error).message)
      );
    });
    assert.equal(readFileSync(out, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['x.parquet']);
  });

  it('refuses a value the column type cannot hold (a fraction in an INT64 column), naming the row', async () => {
    const src = await ParquetRowSource.open(path.join(CONTAINERS, 'pyarrow_snappy.parquet'));
    const rows = await src.rows(0, 10);
    const layout = layoutOf(src);
    await src.close();
    rows[6] = { ...rows[6], n: 1.5 };
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'parrot-parquet-')), 'x.parquet');
    await assert.rejects(writeParquet(out, rows, layout), (e: unknown) => {
      const cause = (e as Error).cause;
      return (
        cause instanceof ParquetRecordError &&
        cause.row === 6 &&
        /n must be a whole number/.test(cause.message)
      );
    });
    assert.deepEqual(readdirSync(path.dirname(out)), []);
  });

  it('writes records without a schema yet as nested Parquet that pyarrow and we read back equal', async function () {
    const records = readFileSync(
      path.join(datasetsIn(ROOT), 'llamafactory_glaive_toolcall_en_demo.jsonl'),
      'utf8',
    )
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ParquetRecord);
    // A field that is a string in one record and an object in another, and one with nulls.
    records[0] = { ...records[0], mixed: 'text', score: 1 };
    records[1] = { ...records[1], mixed: { a: [1, 2] }, score: 2.5 };
    const b = new ParquetSchemaBuilder();
    for (const r of records) b.add(r);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-parquet-'));
    const out = path.join(dir, 'new.parquet');
    await writeParquet(out, records, { schema: b.schema(), rowGroups: [100] });
    const back = await readAll(out);
    const norm = (r: ParquetRecord): ParquetRecord => ({ mixed: null, score: null, ...r });
    assert.equal(back.length, records.length);
    // Keys the record lacked come back as null columns; nothing else changes.
    for (let i = 0; i < records.length; i++) {
      const want = norm(records[i]);
      for (const k of Object.keys(back[i])) assert.deepEqual(back[i][k], want[k] ?? null, `row ${i} ${k}`);
    }
    assert.ok(statSync(out).size > 0);
    if (!PYARROW) this.skip(); // needs python3 with pyarrow
    const v = pyarrowView(out);
    assert.equal(v.rows.length, records.length);
    assert.deepEqual(v.rowGroups, [100, 100, 100]);
    assert.match(v.schema, /conversations: list<element: struct<from: string, value: string>>/);
    assert.deepEqual(v.rows[5].conversations, records[5].conversations);
  });
});
