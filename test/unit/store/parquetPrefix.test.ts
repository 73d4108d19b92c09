// The first rows of a row group read by page prefix (parquetPrefix.ts), against pyarrow's own rows
// of files with many small data pages (v1 and v2, dictionary on and off), and through the row
// source: the rows it gives while only a prefix is decoded equal those of a whole-group read.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ParquetRowSource,
  toRecordValue,
  type ParquetRecord,
} from '../../../src/core/store/containers/parquet';
import { prefixRows } from '../../../src/core/store/containers/parquetPrefix';
import * as lib from '../../../src/core/store/containers/parquetLib';
import { datasetsIn } from '../../support/fixtures';

const DIR = join(datasetsIn(join(__dirname, '..', '..', '..', '..')), 'containers');
const FILES = [
  'pyarrow_small_pages.parquet',
  'pyarrow_small_pages_plain.parquet',
  'pyarrow_small_pages_v2.parquet',
  'pyarrow_snappy.parquet',
];

function pyarrowRows(name: string): ParquetRecord[] {
  return JSON.parse(
    readFileSync(join(DIR, name.replace(/\.parquet$/, '.pyarrow.json')), 'utf8'),
  ) as ParquetRecord[];
}

/** Data pages of each leaf column of the first row group, counted from the page headers. */
function dataPages(src: ParquetRowSource): number[] {
  const file = readFileSync(src.path);
  return src.metadata.row_groups[0].columns.map((c) => {
    const meta = c.meta_data;
    assert.ok(meta);
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const reader = { view, offset: start };
    let n = 0;
    while (reader.offset < end) {
      const h = lib.parquetHeader(reader);
      reader.offset += h.compressed_page_size;
      if (h.type === 'DATA_PAGE' || h.type === 'DATA_PAGE_V2') n++;
    }
    return n;
  });
}

describe('Parquet: first rows by page prefix', () => {
  it('the fixtures with small pages have many data pages', async () => {
    for (const name of FILES.slice(0, 3)) {
      const src = await ParquetRowSource.open(join(DIR, name));
      try {
        assert.equal(src.info.rowGroups.length, 1, name);
        const pages = dataPages(src);
        // Column 3 is conversations.list.element.value: records of it continue across pages.
        assert.ok(
          pages[2] >= 3 && Math.max(...pages) >= 10,
          `${name}: data pages per column ${pages.join(', ')}`,
        );
      } finally {
        await src.close();
      }
    }
  });

  it("gives pyarrow's rows for any count, whatever the page layout", async () => {
    for (const name of FILES) {
      const want = pyarrowRows(name);
      const src = await ParquetRowSource.open(join(DIR, name));
      try {
        const tree = lib.parquetSchema(src.metadata);
        for (const count of [1, 2, 5, 17, 33, 130, want.length - 1, want.length, want.length + 40]) {
          const rows = await prefixRows(lib, fileOf(src), src.metadata, tree, 0, 0, count, lib.compressors);
          assert.deepEqual(
            rows.map((r) => toRecordValue(r)),
            want.slice(0, count),
            `${name}: first ${count} rows`,
          );
        }
      } finally {
        await src.close();
      }
    }
  });

  it('the row source reads the first rows of a big group by prefix, with the rows of a whole-group read', async () => {
    for (const name of FILES.slice(0, 3)) {
      const want = pyarrowRows(name);
      const src = await ParquetRowSource.open(join(DIR, name));
      try {
        src.prefixMinGroupBytes = 0; // every group counts as big
        assert.deepEqual(await src.rows(0, 3), want.slice(0, 3), `${name}: rows 1-3`);
        assert.deepEqual(
          await src.rows(3, 20),
          want.slice(3, 20),
          `${name}: rows 4-20 (the kept prefix grown)`,
        );
        assert.deepEqual(
          await src.rows(10, 12),
          want.slice(10, 12),
          `${name}: rows 11-12 (from the kept prefix)`,
        );
        assert.deepEqual(await src.rows(0, want.length), want, `${name}: every row`);
        const streamed: ParquetRecord[] = [];
        for await (const { record } of src.records()) streamed.push(record);
        assert.deepEqual(streamed, want, `${name}: streamed`);
      } finally {
        await src.close();
      }
    }
  });
});

/** The library's view of the open file, read through Node's fs (the same bytes the source reads). */
function fileOf(src: ParquetRowSource) {
  const bytes = readFileSync(src.path);
  return {
    byteLength: bytes.byteLength,
    slice: (start: number, end = bytes.byteLength) =>
      Promise.resolve(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + end)),
  };
}
