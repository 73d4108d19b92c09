/**
 * Parquet rows as lines of JSON text for the commands that stream a whole file (through
 * `readFileRecords` in records.ts), how positions are named (`line N` of a text file, `row N` of a
 * Parquet file), and JSONL to Parquet for `convert -o x.parquet`.
 */
import { readFileLines, type FileLine } from '../stats/lines';
import {
  isParquetPath,
  ParquetRowSource,
  ParquetSchemaBuilder,
  writeParquet,
  type ParquetRecord,
  type ParquetWriteResult,
} from './containers/parquet';

/** How positions in a file are named: lines (JSONL) or rows (Parquet, which has no lines). */
export type PositionUnit = 'line' | 'row';

export function positionUnit(path: string): PositionUnit {
  return isParquetPath(path) ? 'row' : 'line';
}

/**
 * `FILE:LINE:COL` for a line (the form problem matchers read), `FILE:row N` for a Parquet row
 * (columns would point into a JSON text that is not in the file, so none is given).
 */
export function positionOf(file: string, unit: PositionUnit, n: number, column?: number): string {
  if (unit === 'row') return `${file}:row ${n}`;
  return column === undefined ? `${file}:${n}` : `${file}:${n}:${column}`;
}

/**
 * The rows of a Parquet file in order, one line each: `line` the 1-based row number, `text` the
 * row as JSON and `bytes` the share of the file read so far (by row group). Memory: one row group
 * at a time. (Every container: `readFileRecords` in records.ts.)
 */
export async function* readParquetRows(path: string): AsyncGenerator<FileLine> {
  const src = await ParquetRowSource.open(path);
  try {
    const total = src.metadata.row_groups.reduce((a, g) => a + Number(g.total_compressed_size ?? 0), 0);
    const groupBytes = src.metadata.row_groups.map((g) => Number(g.total_compressed_size ?? 0));
    let done = 0;
    let group = -1;
    for await (const { row, record } of src.records()) {
      const g = src.groupOf(row);
      if (g !== group) {
        if (group >= 0) done += groupBytes[group] ?? 0;
        group = g;
      }
      const text = JSON.stringify(record);
      const bytes =
        total > 0
          ? done + ((groupBytes[g] ?? 0) * (row - (src.startOf(g) ?? 0) + 1)) / (src.info.rowGroups[g] || 1)
          : 0;
      yield { line: row + 1, text, bytes: Math.round(bytes), raw: Buffer.from(text) };
    }
  } finally {
    await src.close();
  }
}

/** Rows per row group of a Parquet file written from records that had none. */
const NEW_ROW_GROUP = 10_000;

/** The records of a JSONL file (one object per line; blank lines skipped). */
async function* jsonlRecords(path: string): AsyncGenerator<ParquetRecord> {
  for await (const l of readFileLines(path)) {
    if (l.text.trim() === '') continue;
    const v: unknown = JSON.parse(l.text);
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new Error(`line ${l.line}: not a JSON object`);
    yield v as ParquetRecord;
  }
}

/**
 * Writes the records of a JSONL file as a new Parquet file at `target`, atomically: one pass infers
 * the schema from every record, a second writes the rows (memory: one row group).
 */
export async function jsonlToParquet(jsonl: string, target: string): Promise<ParquetWriteResult> {
  const b = new ParquetSchemaBuilder();
  for await (const r of jsonlRecords(jsonl)) b.add(r);
  return writeParquet(target, jsonlRecords(jsonl), { schema: b.schema(), rowGroups: [NEW_ROW_GROUP] });
}
