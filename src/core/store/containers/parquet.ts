/**
 * Parquet as a container of records: a row source that opens a file of any size and reads rows by
 * row group (and, where the file has an offset index, by page) on demand, and a writer that writes
 * a new file atomically, keeping the schema, column order, key-value metadata, codec and row-group
 * sizes of the file it replaces.
 *
 * Each row is mapped to the record object the JSONL records of its format would be: struct columns
 * are objects (keys in schema order), lists are arrays, nulls are null. INT64 values are numbers
 * when they fit a double exactly and decimal strings otherwise; timestamps are ISO strings; binary
 * values are base64 strings. Writing maps them back through the file's schema.
 *
 * The Parquet libraries load on first use (see parquetLib.ts), never when this module is imported.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import * as zlib from 'node:zlib';
import type {
  AsyncBuffer,
  CompressionCodec,
  FileMetaData,
  KeyValue,
  SchemaElement,
  SchemaTree,
} from 'hyparquet';
import { lastAtOrBefore } from '../../ascending';
import { atomicWrite } from '../save';
import { PREFIX_MIN_GROUP_BYTES, prefixRows } from './parquetPrefix';

type Lib = typeof import('./parquetLib');
type WriterSchema = Parameters<Lib['parquetWriteRows']>[0]['schema'];
let lib: Lib | undefined;
/** The Parquet libraries, loaded once, on first use. */
function loadLib(): Promise<Lib> {
  // A require() rather than an import keeps the load lazy in the bundles (esbuild, CommonJS), as
  // for the tokenizer; the build points it at dist/parquet.js.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lib ??= require('./parquetLib') as Lib;
  return Promise.resolve(lib);
}

/** A record: one row as the JSON object a JSONL line of the same dataset would hold. */
export type ParquetRecord = Record<string, unknown>;

/** True for a path whose name says it is Parquet (`.parquet`, any case). */
export function isParquetPath(path: string): boolean {
  return /\.parquet$/i.test(path);
}

/** What a Parquet file holds, from its footer. */
export interface ParquetInfo {
  rows: number;
  /** Rows in each row group, in file order. */
  rowGroups: number[];
  /** Top-level column names in schema order. */
  columns: string[];
  /** Codec of each top-level column (that of its first leaf in the first row group). */
  codecs: Record<string, CompressionCodec>;
  keyValueMetadata: KeyValue[];
  createdBy?: string;
}

/** Rows from a group's start that are read by page prefix rather than by decoding the group. */
const PREFIX_MAX_ROWS = 10_000;

/** The file's row groups kept decoded at once (the one being read and the two read before it). */
const CACHED_GROUPS = 3;

/** A file opened through a handle, read by byte range only when the library asks. */
function fileBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const buf = new Uint8Array(Math.max(0, end - start));
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) throw new Error(`the file ended at byte ${start + off} (expected ${end})`);
        off += bytesRead;
      }
      return buf.buffer;
    },
  };
}

/** A JSON-shaped copy of one value as the library decoded it. */
export function toRecordValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (typeof v !== 'object') return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<unknown>, toRecordValue);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toRecordValue(x);
  return out;
}

/** Top-level column names of a flat schema (root first), in order. */
function topLevelColumns(schema: SchemaElement[]): string[] {
  const names: string[] = [];
  const skip = (i: number): number => {
    let j = i + 1;
    for (let k = 0; k < (schema[i]?.num_children ?? 0); k++) j = skip(j);
    return j;
  };
  for (let i = 1, k = 0; k < (schema[0]?.num_children ?? 0); k++) {
    names.push(schema[i].name);
    i = skip(i);
  }
  return names;
}

/**
 * Rows of a Parquet file, read on demand. Memory holds the footer and at most CACHED_GROUPS decoded
 * row groups; a file of any size opens by reading its footer only.
 */
export class ParquetRowSource {
  private readonly cache = new Map<number, ParquetRecord[]>();
  /** Groups already read once by a window (the next read of one decodes it whole). */
  private readonly windowed = new Set<number>();
  /** Row groups of at least this many bytes have their first rows read by page prefix. */
  prefixMinGroupBytes = PREFIX_MIN_GROUP_BYTES;
  /** The first rows of one group read by page prefix (parquetPrefix.ts). */
  private prefix: { group: number; rows: ParquetRecord[] } | undefined;
  private readonly starts: number[] = [];

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly file: AsyncBuffer,
    readonly metadata: FileMetaData,
    readonly info: ParquetInfo,
    private readonly l: Lib,
  ) {
    let s = 0;
    for (const n of info.rowGroups) {
      this.starts.push(s);
      s += n;
    }
  }

  /** Opens a file: reads its footer (schema, row groups, metadata), no rows. */
  static async open(path: string): Promise<ParquetRowSource> {
    const fh = await open(path, 'r');
    try {
      return await ParquetRowSource.fromHandle(path, fh);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Reads the footer of the file open as `fh` (which the source reads rows through and `close`
   * closes; on failure the caller keeps it).
   */
  static async fromHandle(path: string, fh: FileHandle): Promise<ParquetRowSource> {
    const l = await loadLib();
    const size = (await fh.stat()).size;
    const file = fileBuffer(fh, size);
    let metadata: FileMetaData;
    try {
      metadata = await l.parquetMetadataAsync(file);
    } catch (e) {
      throw new Error(
        `${path} is not a readable Parquet file: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const columns = topLevelColumns(metadata.schema);
    const tree = l.parquetSchema(metadata);
    const codecs: Record<string, CompressionCodec> = {};
    const first = metadata.row_groups[0]?.columns ?? [];
    for (const c of first) {
      const top = c.meta_data?.path_in_schema[0];
      if (top !== undefined && !(top in codecs) && c.meta_data) codecs[top] = c.meta_data.codec;
    }
    for (const child of tree.children) codecs[child.element.name] ??= 'SNAPPY';
    const info: ParquetInfo = {
      rows: Number(metadata.num_rows),
      rowGroups: metadata.row_groups.map((g) => Number(g.num_rows)),
      columns,
      codecs,
      keyValueMetadata: metadata.key_value_metadata ?? [],
      createdBy: metadata.created_by,
    };
    return new ParquetRowSource(path, fh, file, metadata, info, l);
  }

  get rowCount(): number {
    return this.info.rows;
  }

  /** The first row (0-based) of row group `g`. */
  startOf(g: number): number | undefined {
    return this.starts[g];
  }

  /** The row group holding row `row` (0-based). */
  groupOf(row: number): number {
    return lastAtOrBefore(this.starts, row);
  }

  /** Rows [start, end) of the file, as records; reads only the row groups they are in. */
  async rows(start: number, end: number): Promise<ParquetRecord[]> {
    start = Math.max(0, start);
    end = Math.min(this.info.rows, end);
    const out: ParquetRecord[] = [];
    if (start >= end) return out;
    // The first window inside a group not cached yet: just those rows (only their pages, with an
    // offset index), so the first rows of a huge group appear at once; a second read of the same
    // group decodes it whole and keeps it, so paging on through it does not decode it again.
    const g0 = this.groupOf(start);
    if (!this.cache.has(g0) && end - this.starts[g0] <= PREFIX_MAX_ROWS && this.readsByPrefix(g0)) {
      // The first rows of a big group without an offset index: only the pages before them, kept
      // (and grown twofold at least) so that paging on through them decodes nothing again.
      const from = start - this.starts[g0];
      const to = Math.min(end - this.starts[g0], this.info.rowGroups[g0]);
      let kept = this.prefix?.group === g0 ? this.prefix.rows : undefined;
      if (!kept || kept.length < to) {
        const rows = await prefixRows(
          this.l,
          this.file,
          this.metadata,
          this.l.parquetSchema(this.metadata),
          g0,
          this.starts[g0],
          Math.min(PREFIX_MAX_ROWS, Math.max(to, 2 * (kept?.length ?? 0))),
          this.l.compressors,
        );
        kept = rows.map((r) => toRecordValue(r) as ParquetRecord);
        this.prefix = { group: g0, rows: kept };
      }
      return kept.slice(from, to);
    }
    if (
      !this.cache.has(g0) &&
      !this.windowed.has(g0) &&
      this.groupOf(end - 1) === g0 &&
      end - start < this.info.rowGroups[g0]
    ) {
      this.windowed.add(g0);
      return this.read(start, end);
    }
    for (let g = g0; g < this.starts.length && this.starts[g] < end; g++) {
      const rows = await this.group(g);
      const s = this.starts[g];
      for (let r = Math.max(start, s); r < Math.min(end, s + rows.length); r++) out.push(rows[r - s]);
    }
    return out;
  }

  /**
   * Whether the first rows of group `g` are read by page prefix (parquetPrefix.ts): a group too big
   * to decode at once for its first rows, whose columns have no offset index (with one, the library
   * reads only the pages of the rows asked for).
   */
  private readsByPrefix(g: number): boolean {
    const group = this.metadata.row_groups[g];
    if (!group || group.columns.some((c) => c.offset_index_offset !== undefined)) return false;
    let bytes = 0;
    for (const c of group.columns) bytes += Number(c.meta_data?.total_compressed_size ?? 0);
    return bytes >= this.prefixMinGroupBytes;
  }

  /** One whole row group, decoded (kept among the last CACHED_GROUPS read). */
  async group(g: number): Promise<ParquetRecord[]> {
    const hit = this.cache.get(g);
    if (hit) {
      this.cache.delete(g);
      this.cache.set(g, hit);
      return hit;
    }
    const rows = await this.read(this.starts[g], this.starts[g] + this.info.rowGroups[g]);
    this.cache.set(g, rows);
    while (this.cache.size > CACHED_GROUPS) this.cache.delete(this.cache.keys().next().value as number);
    return rows;
  }

  private async read(rowStart: number, rowEnd: number): Promise<ParquetRecord[]> {
    let rows: unknown[] = [];
    await this.l.parquetRead({
      file: this.file,
      metadata: this.metadata,
      compressors: this.l.compressors,
      rowStart,
      rowEnd,
      rowFormat: 'object',
      useOffsetIndex: true,
      onComplete: (r: unknown[]) => {
        rows = r;
      },
    });
    return rows.map((r) => toRecordValue(r) as ParquetRecord);
  }

  /** Every row in order, one row group at a time (memory: one group). */
  async *records(): AsyncGenerator<{ row: number; record: ParquetRecord }> {
    for (let g = 0; g < this.starts.length; g++) {
      const cached = this.cache.get(g);
      const rows = cached ?? (await this.read(this.starts[g], this.starts[g] + this.info.rowGroups[g]));
      for (let i = 0; i < rows.length; i++) yield { row: this.starts[g] + i, record: rows[i] };
    }
  }

  /** Forgets the decoded row groups (an earlier version kept only for undo holds none). */
  dropCache(): void {
    this.cache.clear();
    this.prefix = undefined;
    this.windowed.clear();
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.prefix = undefined;
    await this.fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Codecs this process can compress with; others are written as SNAPPY (and the result says so). */
function writeCompressors(): Partial<Record<CompressionCodec, (input: Uint8Array) => Uint8Array>> {
  const z = zlib as typeof zlib & { zstdCompressSync?: (b: Uint8Array) => Buffer };
  const out: Partial<Record<CompressionCodec, (input: Uint8Array) => Uint8Array>> = {
    GZIP: (b) => zlib.gzipSync(b),
    BROTLI: (b) => zlib.brotliCompressSync(b),
  };
  if (typeof z.zstdCompressSync === 'function') {
    const zstd = z.zstdCompressSync.bind(zlib);
    out.ZSTD = (b) => zstd(b);
  }
  return out;
}

/** The codec written for a wanted one: itself when this process can compress it, else SNAPPY. */
export function writableCodec(wanted: CompressionCodec): CompressionCodec {
  if (wanted === 'UNCOMPRESSED' || wanted === 'SNAPPY') return wanted;
  return writeCompressors()[wanted] ? wanted : 'SNAPPY';
}

/** How a Parquet file is to be laid out: taken from the file it replaces, or inferred. */
export interface ParquetLayout {
  /** Flat Parquet schema, root first. */
  schema: SchemaElement[];
  keyValueMetadata?: KeyValue[];
  /** Codec per top-level column (default SNAPPY). */
  codecs?: Record<string, CompressionCodec>;
  /** Row-group sizes in rows; the last one repeats. Default: 10,000 rows each. */
  rowGroups?: number[];
}

export interface ParquetWriteResult {
  rows: number;
  /** Codec per top-level column as written. */
  codecs: Record<string, CompressionCodec>;
  /** Columns whose codec could not be written here (written as SNAPPY instead). */
  codecFallbacks: { column: string; wanted: CompressionCodec }[];
}

export interface ParquetWriteOptions {
  /** Replace a file that has other names (hard links); refused otherwise (see atomicWrite). */
  breakHardLinks?: boolean;
  /** Called when every row is written, before the new file is renamed over the target; may throw. */
  beforeRename?: () => Promise<void>;
}

/** The layout of an open file: what a save of it keeps. */
export function layoutOf(src: ParquetRowSource): ParquetLayout {
  return {
    schema: src.metadata.schema,
    keyValueMetadata: src.info.keyValueMetadata,
    codecs: src.info.codecs,
    rowGroups: src.info.rowGroups.length ? src.info.rowGroups : undefined,
  };
}

/** A record that the schema cannot hold, with the row it is on (0-based). */
export class ParquetRecordError extends Error {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(`row ${row + 1}: ${message}`);
    this.name = 'ParquetRecordError';
  }
}

/** Whether a schema node is a list (3-level or legacy 2-level). */
function isList(t: SchemaTree): boolean {
  return t.element.converted_type === 'LIST' || t.element.logical_type?.type === 'LIST';
}

/** A BYTE_ARRAY leaf that holds bytes, not text (what we read as base64). */
function isBinary(e: SchemaElement): boolean {
  if (e.type !== 'BYTE_ARRAY' && e.type !== 'FIXED_LEN_BYTE_ARRAY') return false;
  const lt = e.logical_type?.type;
  if (lt === 'STRING' || lt === 'JSON' || lt === 'ENUM' || lt === 'UUID' || lt === 'BSON') return false;
  const ct = e.converted_type;
  return (
    ct !== 'UTF8' && ct !== 'JSON' && ct !== 'ENUM' && ct !== 'BSON' && ct !== 'DECIMAL' && lt !== 'DECIMAL'
  );
}

/**
 * The value the writer takes for record value `v` at schema node `t` (the inverse of
 * toRecordValue), or a string saying why the schema cannot hold it.
 */
function toParquetValue(t: SchemaTree, v: unknown, where: string): unknown {
  if (v === null || v === undefined) {
    if (t.element.repetition_type === 'REQUIRED')
      throw new Error(`${where || 'the record'} is null but the column is required`);
    return null;
  }
  const e = t.element;
  if (t.children.length === 0) {
    if (e.converted_type === 'JSON' || e.logical_type?.type === 'JSON') return v;
    if (e.type === 'INT64' || e.type === 'INT96') {
      const ts = e.converted_type?.startsWith('TIMESTAMP') || e.logical_type?.type === 'TIMESTAMP';
      if (ts && typeof v === 'string') {
        const d = new Date(v);
        if (Number.isNaN(d.getTime())) throw new Error(`${where} must be a date and time`);
        return d;
      }
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
      if (typeof v === 'bigint') return v;
      throw new Error(`${where} must be a whole number (the column is INT64), not ${JSON.stringify(v)}`);
    }
    if (isBinary(e) && typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    return v;
  }
  if (isList(t)) {
    if (!Array.isArray(v)) throw new Error(`${where} must be a list`);
    const rep = t.children[0];
    // 3-level lists: the repeated group holds one element; 2-level: the repeated node is it.
    const el =
      rep && rep.children.length === 1 && rep.element.repetition_type === 'REPEATED' ? rep.children[0] : rep;
    return el ? v.map((x, i) => toParquetValue(el, x, `${where}[${i}]`)) : v;
  }
  if (e.converted_type === 'MAP' || e.converted_type === 'MAP_KEY_VALUE' || e.logical_type?.type === 'MAP')
    return v;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${where || 'the record'} must be an object`);
  const known = new Set(t.children.map((c) => c.element.name));
  for (const k of Object.keys(v)) {
    if (!known.has(k))
      throw new Error(`${where || 'the record'} has the field "${k}", which the file's schema does not have`);
  }
  const out: Record<string, unknown> = {};
  for (const c of t.children) {
    const name = c.element.name;
    out[name] = toParquetValue(c, (v as Record<string, unknown>)[name], where ? `${where}.${name}` : name);
  }
  return out;
}

/** A writer of the library's kind that appends to an open file, flushing every megabyte. */
function handleWriter(l: Lib, fh: FileHandle): InstanceType<Lib['ByteWriter']> {
  const w: InstanceType<Lib['ByteWriter']> & { flush?: () => void } = new l.ByteWriter();
  const fd = fh.fd;
  const flush = (): void => {
    let off = 0;
    const bytes = new Uint8Array(w.buffer, 0, w.index);
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    w.index = 0;
  };
  const grow = w.ensure.bind(w);
  w.ensure = (size: number): void => {
    if (w.index > 1 << 20) flush();
    grow(size);
  };
  w.flush = flush;
  w.finish = flush;
  w.getBuffer = () => {
    throw new Error('not kept in memory');
  };
  return w;
}

/**
 * Writes `records` as a new Parquet file at `target`, atomically (temp file, fsync, rename; the old
 * file stays whole on any failure). The layout (schema, metadata, codecs, row-group sizes) is kept;
 * a record the schema cannot hold fails the write with its row and leaves the target unchanged.
 */
export async function writeParquet(
  target: string,
  records: AsyncIterable<ParquetRecord> | Iterable<ParquetRecord>,
  layout: ParquetLayout,
  signal?: AbortSignal,
  opts: ParquetWriteOptions = {},
): Promise<ParquetWriteResult> {
  const l = await loadLib();
  const tree = l.parquetSchema({ schema: layout.schema });
  const columns = tree.children.map((c) => c.element.name);
  const codecs: Record<string, CompressionCodec> = {};
  const codecFallbacks: ParquetWriteResult['codecFallbacks'] = [];
  for (const name of columns) {
    const wanted = layout.codecs?.[name] ?? 'SNAPPY';
    const got = writableCodec(wanted);
    codecs[name] = got;
    if (got !== wanted) codecFallbacks.push({ column: name, wanted });
  }
  let rows = 0;
  async function* checked(): AsyncGenerator<ParquetRecord> {
    for await (const r of records as AsyncIterable<ParquetRecord>) {
      if (signal?.aborted) throw Object.assign(new Error('the save was cancelled'), { name: 'AbortError' });
      let value: ParquetRecord;
      try {
        value = toParquetValue(tree, r, '') as ParquetRecord;
      } catch (e) {
        throw new ParquetRecordError(rows, e instanceof Error ? e.message : String(e));
      }
      rows++;
      yield value;
    }
  }
  await atomicWrite(
    target,
    undefined,
    signal,
    async (fh) => {
      const writer = handleWriter(l, fh);
      await l.parquetWriteRows({
        writer,
        rows: checked(),
        columns: columns.map((name) => ({ name, codec: codecs[name] })),
        // The writer declares the schema with its own (pinned) copy of hyparquet's types.
        schema: layout.schema as WriterSchema,
        compressors: writeCompressors(),
        kvMetadata: layout.keyValueMetadata?.length ? layout.keyValueMetadata : undefined,
        rowGroupSize: layout.rowGroups?.length ? layout.rowGroups : 10_000,
        createdBy: 'parrot-studio (hyparquet-writer)',
      });
      await opts.beforeRename?.();
    },
    undefined,
    { breakHardLinks: opts.breakHardLinks },
  );
  return { rows, codecs, codecFallbacks };
}

// ---------------------------------------------------------------------------------------------
// A schema for records that have none yet (a JSONL dataset converted to Parquet)

type Shape =
  | { k: 'null' }
  | { k: 'bool' }
  | { k: 'int' }
  | { k: 'double' }
  | { k: 'string' }
  | { k: 'json' }
  | { k: 'list'; of: Shape }
  | { k: 'struct'; fields: Map<string, Shape> };

function shapeOf(v: unknown): Shape {
  if (v === null || v === undefined) return { k: 'null' };
  if (typeof v === 'boolean') return { k: 'bool' };
  if (typeof v === 'number') return Number.isInteger(v) ? { k: 'int' } : { k: 'double' };
  if (typeof v === 'string') return { k: 'string' };
  if (Array.isArray(v))
    return { k: 'list', of: v.reduce<Shape>((s, x) => merge(s, shapeOf(x)), { k: 'null' }) };
  if (typeof v === 'object') {
    const fields = new Map<string, Shape>();
    for (const [k, x] of Object.entries(v)) fields.set(k, shapeOf(x));
    return { k: 'struct', fields };
  }
  return { k: 'json' };
}

function merge(a: Shape, b: Shape): Shape {
  if (a.k === 'null') return b;
  if (b.k === 'null') return a;
  if (a.k === 'json' || b.k === 'json') return { k: 'json' };
  if ((a.k === 'int' && b.k === 'double') || (a.k === 'double' && b.k === 'int')) return { k: 'double' };
  if (a.k === 'list' && b.k === 'list') return { k: 'list', of: merge(a.of, b.of) };
  if (a.k === 'struct' && b.k === 'struct') {
    const fields = new Map(a.fields);
    for (const [k, s] of b.fields) fields.set(k, merge(fields.get(k) ?? { k: 'null' }, s));
    return { k: 'struct', fields };
  }
  return a.k === b.k ? a : { k: 'json' };
}

function elements(name: string, s: Shape, out: SchemaElement[]): void {
  const repetition_type = 'OPTIONAL' as const;
  switch (s.k) {
    case 'bool':
      out.push({ name, type: 'BOOLEAN', repetition_type });
      return;
    case 'int':
      out.push({ name, type: 'INT64', repetition_type });
      return;
    case 'double':
      out.push({ name, type: 'DOUBLE', repetition_type });
      return;
    case 'null':
    case 'string':
      out.push({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type });
      return;
    case 'json':
      out.push({ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type });
      return;
    case 'list':
      out.push({ name, repetition_type, converted_type: 'LIST', num_children: 1 });
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      elements('element', s.of, out);
      return;
    case 'struct':
      // Parquet has no empty groups: an object that never had a field is kept as JSON.
      if (s.fields.size === 0) {
        out.push({ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type });
        return;
      }
      out.push({ name, repetition_type, num_children: s.fields.size });
      for (const [k, f] of s.fields) elements(k, f, out);
  }
}

/**
 * Infers a Parquet schema for records, fed one at a time: objects become structs, arrays lists,
 * numbers INT64 (all whole) or DOUBLE; a field whose values disagree in kind (a string here, an
 * object there) becomes a JSON column, which hyparquet reads back as the values themselves.
 */
export class ParquetSchemaBuilder {
  private shape: Shape = { k: 'struct', fields: new Map() };

  add(record: ParquetRecord): void {
    this.shape = merge(this.shape, shapeOf(record));
  }

  schema(): SchemaElement[] {
    const root = this.shape as Extract<Shape, { k: 'struct' }>;
    if (root.fields.size === 0)
      throw new Error('there are no records (or only empty ones) to write as Parquet');
    const out: SchemaElement[] = [{ name: 'schema', num_children: root.fields.size }];
    for (const [k, f] of root.fields) elements(k, f, out);
    return out;
  }
}
