/**
 * The first rows of a row group, read page by page, for files without an offset index.
 *
 * Without an offset index the library decodes a nested column chunk whole before it gives any row
 * of it, and a file written with pyarrow's defaults (pandas' `to_parquet` included) holds up to a
 * million rows in one row group: the first dialogues of a 1 GB file would wait for the whole file
 * to be read and decoded, and memory would hold it. Here only a prefix of each column chunk is read:
 * its page headers are walked up to its first data pages, the library decodes those whole pages
 * (its own page decoder and record assembly), and more pages are taken (four times as many each
 * time) until every column holds the rows asked for. A record of a nested column may continue on the next page (data page
 * v1), so the last record of a cut-off chunk is never used.
 */
import type { AsyncBuffer, ColumnMetaData, FileMetaData, SchemaTree } from 'hyparquet';
import type { ColumnDecoder, DecodedArray } from 'hyparquet/src/types.js';

type Lib = typeof import('./parquetLib');

/** Row groups whose column chunks hold less than this are decoded whole (as fast, and cached). */
export const PREFIX_MIN_GROUP_BYTES = 8 << 20;
/** The first bytes read of a column chunk to find its first pages (doubled until they fit). */
const FIRST_BUDGET = 1.25 * (1 << 20);

interface Prefix {
  /** Whole pages from the start of the chunk (its dictionary page first). */
  bytes: ArrayBuffer;
  /** True when they are the whole chunk. */
  complete: boolean;
}

/**
 * The pages from the start of a column chunk up to its `pages`-th data page (the dictionary page
 * and any other page before it included), or the whole chunk when it has no more.
 */
async function chunkPrefix(l: Lib, file: AsyncBuffer, meta: ColumnMetaData, pages: number): Promise<Prefix> {
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const size = Number(meta.total_compressed_size);
  for (let budget = Math.min(size, FIRST_BUDGET); ; budget = Math.min(size, budget * 2)) {
    if (budget >= size) return { bytes: await file.slice(start, start + size), complete: true };
    const window = await file.slice(start, start + budget);
    const view = new DataView(window);
    let end = 0;
    let dataPages = 0;
    while (dataPages < pages) {
      const reader = { view, offset: end };
      let next: number;
      let isData: boolean;
      try {
        const header = l.parquetHeader(reader);
        next = reader.offset + header.compressed_page_size;
        isData = header.type === 'DATA_PAGE' || header.type === 'DATA_PAGE_V2';
      } catch {
        break; // the header runs past the window
      }
      if (next > window.byteLength) break;
      end = next;
      if (isData) dataPages++;
    }
    if (dataPages === pages) return { bytes: window.slice(0, end), complete: end === size };
  }
}

/**
 * Rows [0, `count`) of row group `g` (fewer when the group has fewer), as the library's row objects,
 * from prefixes of its column chunks. `groupStart` is the group's first row in the file.
 */
export async function prefixRows(
  l: Lib,
  file: AsyncBuffer,
  metadata: FileMetaData,
  tree: SchemaTree,
  g: number,
  groupStart: number,
  count: number,
  compressors: ColumnDecoder['compressors'],
): Promise<Record<string, unknown>[]> {
  const group = metadata.row_groups[g];
  const groupRows = Number(group.num_rows);
  const want = Math.min(count, groupRows);
  const parsers = l.DEFAULT_PARSERS;
  for (let pages = 1; ; pages *= 4) {
    const prefixes = await Promise.all(
      group.columns.map((c) => {
        if (!c.meta_data) throw new Error('parquet column metadata is undefined');
        return chunkPrefix(l, file, c.meta_data, pages);
      }),
    );
    const leaves = group.columns.map((c, i) => {
      const meta = c.meta_data as ColumnMetaData;
      const p = prefixes[i];
      const schemaPath = l.getTreePath(tree, meta.path_in_schema);
      const decoder: ColumnDecoder = {
        pathInSchema: meta.path_in_schema,
        type: meta.type,
        element: schemaPath[schemaPath.length - 1].element,
        schemaPath,
        codec: meta.codec,
        parsers,
        compressors,
      };
      const reader = { view: new DataView(p.bytes), offset: 0 };
      const decoded = l.readColumn(
        reader,
        { groupStart, selectStart: 0, selectEnd: groupRows, groupRows },
        decoder,
      );
      return { pathInSchema: meta.path_in_schema, data: Promise.resolve(decoded), complete: p.complete };
    });
    const assembled = l.assembleAsync(
      { groupStart, groupRows, selectStart: 0, selectEnd: groupRows, asyncColumns: leaves },
      tree,
      parsers,
    );
    // Rows every top-level column holds whole: a cut-off nested chunk may end inside a record.
    let whole = groupRows;
    for (const column of assembled.asyncColumns) {
      const { data, skipped } = await column.data;
      const rows = skipped + data.reduce((n: number, d: DecodedArray) => n + d.length, 0);
      const cut = leaves.some((leaf) => leaf.pathInSchema[0] === column.pathInSchema[0] && !leaf.complete);
      whole = Math.min(whole, cut ? rows - 1 : rows);
    }
    if (whole >= want || prefixes.every((p) => p.complete))
      return l.asyncGroupToRows(assembled, 0, Math.min(want, whole), undefined, 'object') as Promise<
        Record<string, unknown>[]
      >;
  }
}
