/**
 * Converting a whole dataset file, record by record: the engine behind `parrot convert`,
 * `parrot export` and the editor's Convert Dataset… / Export for Training… commands, so that all of
 * them write the same bytes and report the same losses.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import type { FormatId } from '../model';
import { startsWithForeignBom } from '../encoding';
import { BatchedWriter } from '../batchedWriter';
import { isBlankLine } from '../stats/lines';
import { formatElement, type ElementStyle } from '../store/containers/jsonArray';
import { isParquetPath } from '../store/containers/parquet';
import { jsonlToParquet } from '../store/recordSource';
import { readFileRecords, recordContainer, type FileRecord } from '../store/records';
import { splitOnLines } from '../validate/lines';
import { runOrdered } from '../workerPool';
import { FORMATS } from './catalog';
import type { ConvertPart, ConvertRequest, ConvertResponse, ConvertTask } from './convertRange';
import {
  addConvertStats,
  asOneLine,
  atText,
  convertRecord,
  emptyConvertStats,
  HELD,
  type ConvertStats,
  type RecordConverter,
} from './convertRecord';
import { entryMappingFor } from './entryMapping';
import { UnpairedPairer } from './unpaired';
import type { RecordMapping } from './index';

export type { ConvertStats } from './convertRecord';

const NEWLINE = Buffer.from('\n');

/** How a `.json` output writes its array: as Python's json.dump(indent=2, ensure_ascii=False) does. */
const ARRAY_STYLE: ElementStyle = {
  indent: '  ',
  base: '  ',
  newline: '\n',
  colon: ': ',
  comma: ',',
  ascii: false,
};

/** What a converted file is written as, by its name. */
export type OutputContainer = 'jsonl' | 'json' | 'parquet';

export function outputContainer(out: string): OutputContainer {
  if (isParquetPath(out)) return 'parquet';
  return path.extname(out).toLowerCase() === '.json' ? 'json' : 'jsonl';
}

/** One line of the report: `text` is what `parrot convert` prints (FILE:LINE[:COL]: kind: ...). */
export interface ConvertReportEntry {
  kind: 'error' | 'lost' | 'paired';
  /** 1-based line (Parquet: row) of the record. */
  line: number;
  /** 1-based column when the problem has one. */
  column?: number;
  message: string;
  text: string;
}

export interface ConvertFileOptions {
  to: FormatId;
  /** Read every record as this format instead of detecting it. */
  from?: FormatId;
  keepUnknown?: boolean;
  /** Leave invalid records out (always so for a JSON array or Parquet output). */
  skipInvalid?: boolean;
  /** Leaves out the records it returns false for, before anything is read of them. */
  keep?: (r: FileRecord) => boolean;
  /** Every report line, in file order. */
  report: (e: ConvertReportEntry) => void;
  /** Called as records are read (for progress): the last line read and the bytes read so far. */
  progress?: (r: { line: number; bytes: number }) => void;
  /** Stops the conversion: nothing is written to `out` (its old contents stay). */
  signal?: AbortSignal;
  /** The name records are reported under (default: `file`). */
  label?: string;
  /**
   * Read the records through the dataset_info.json entry that names `file` when it renames
   * columns, keys or roles (default true); `mapping` gives the renames instead of looking them up.
   */
  datasetInfo?: boolean;
  mapping?: RecordMapping;
  /**
   * Worker threads for a JSONL file into JSONL (0 or 1: this thread). Default:
   * os.availableParallelism(). The output is the same either way.
   */
  workers?: number;
  /** The bundled worker script. Default: convert.worker.js beside this bundle. */
  workerScript?: string;
  /** Files smaller than this are converted on this thread. Default 8 MiB. */
  minWorkerBytes?: number;
}

export class ConvertCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** Whether invalid records are left out for this output (a JSON array or Parquet cannot hold them). */
export function skipsInvalid(out: string | undefined, skipInvalid: boolean | undefined): boolean {
  return skipInvalid === true || (out !== undefined && outputContainer(out) !== 'jsonl');
}

/**
 * Converts every record of `file` to `opts.to`, into `out`: a path, written atomically (temp file
 * beside it, then rename; a Parquet output is staged as JSONL and written from it in one atomic
 * save), or a stream (JSONL). Throws on an I/O error, a file that cannot be read as records, or a
 * cancel; the temp file is removed and `out` left as it was.
 */
export async function convertFile(
  file: string,
  out: string | NodeJS.WritableStream,
  opts: ConvertFileOptions,
): Promise<ConvertStats> {
  const { to, from } = opts;
  const label = opts.label ?? file;
  const mapping = opts.mapping ?? (opts.datasetInfo === false ? undefined : await entryMappingFor(file));
  const outPath = typeof out === 'string' ? out : undefined;
  const container = outPath ? outputContainer(outPath) : 'jsonl';
  const skipInvalid = skipsInvalid(outPath, opts.skipInvalid);
  const toArray = container === 'json';
  const tmp = outPath
    ? path.join(path.dirname(outPath), `.${path.basename(outPath)}.${process.pid}.tmp`)
    : undefined;
  const file$ = tmp ? createWriteStream(tmp, { flags: 'wx' }) : undefined;
  const sink: NodeJS.WritableStream = file$ ?? (out as NodeJS.WritableStream);
  let sinkError: Error | undefined;
  const onError = (e: Error): void => {
    sinkError ??= e;
  };
  /** Throws the first write error of the output, or a cancel. */
  const check = (): void => {
    const e = sinkError;
    if (e) throw e;
    if (opts.signal?.aborted) throw new ConvertCancelled();
  };
  sink.on('error', onError);
  const batched = BatchedWriter.toStream(sink);
  const stats = emptyConvertStats();
  if (mapping) stats.datasetInfo = { entry: mapping.entry, infoPath: mapping.infoPath };
  // Unpaired (KTO) records into a pair format: two records of one prompt with opposite labels.
  const pairer = FORMATS[to].preference ? new UnpairedPairer<{ line: number; raw: Buffer }>() : undefined;
  const report = (kind: ConvertReportEntry['kind'], at: string, message: string): void => {
    // `at` is FILE:LINE, FILE:LINE:COL or FILE:row N.
    const [line, column] = at
      .slice(label.length + 1)
      .replace(/^row /, '')
      .split(':')
      .map(Number);
    const e: ConvertReportEntry = { kind, line, message, text: `${at}: ${kind}: ${message}` };
    if (column !== undefined) e.column = column;
    opts.report(e);
  };
  const converter: RecordConverter = {
    to,
    keepUnknown: opts.keepUnknown === true,
    toArray,
    stats,
    report: (kind, at, message) => report(kind, atText(label, at), message),
    ...(from !== undefined ? { from } : {}),
    ...(pairer ? { pairer } : {}),
    ...(mapping ? { mapping } : {}),
  };
  let written$ = 0;
  const put = async (text: string | Buffer): Promise<void> => {
    const wrote = batched.write(text);
    if (wrote) await wrote;
  };
  try {
    if (toArray) await put('[');
    const parallel =
      container === 'jsonl' &&
      !pairer &&
      !mapping &&
      to !== 'mt-bench' &&
      !opts.keep &&
      (await inParallel(file, opts));
    if (parallel) {
      await inWorkers(file, parallel, opts, skipInvalid, put, (part, lineBase) => {
        check();
        addConvertStats(stats, part.stats);
        for (const r of part.reports)
          report(
            r.kind,
            atText(label, 'row' in r.at ? r.at : { ...r.at, line: r.at.line + lineBase }),
            r.message,
          );
      });
    } else
      for await (const l of readFileRecords(file)) {
        check();
        opts.progress?.(l);
        if (l.encoding?.wholeFile) throw new Error(`${label}:1:1: ${l.encoding.message}`);
        if (!l.encoding && isBlankLine(l.text)) {
          stats.blank++;
          continue;
        }
        if (opts.keep && !opts.keep(l)) continue;
        const outLine = convertRecord(l, converter);
        if (outLine === HELD) continue; // written when its counterpart comes, or reported at the end
        if (outLine === undefined && skipInvalid) continue;
        if (toArray) {
          await put((written$++ === 0 ? '\n  ' : ',\n  ') + formatElement(outLine as string, ARRAY_STYLE));
          continue;
        }
        await put(outLine !== undefined ? outLine + '\n' : Buffer.concat([asOneLine(l), NEWLINE]));
      }
    for (const w of pairer?.leftovers() ?? []) {
      stats.records--;
      stats.invalid++;
      report(
        'error',
        `${label}:${w.line}:1`,
        `unpaired record: no other record has its prompt and the opposite label (${skipInvalid ? 'left out' : 'copied unchanged at the end'})`,
      );
      if (!skipInvalid) await put(Buffer.concat([w.raw, NEWLINE]));
    }
    check();
    if (toArray) await put(written$ > 0 ? '\n]\n' : ']\n');
    await batched.flush();
    if (tmp && outPath) {
      file$?.end();
      await once(sink, 'close');
      check();
      if (container === 'parquet') {
        await jsonlToParquet(tmp, outPath);
        await rm(tmp, { force: true });
      } else await rename(tmp, outPath);
    }
  } catch (e) {
    if (tmp) {
      // The temp file may still be opening: remove it once the stream has closed, not before.
      if (file$ && !file$.closed) {
        const closed = once(file$, 'close').catch(() => undefined);
        file$.destroy();
        await closed;
      }
      await rm(tmp, { force: true });
    }
    throw e;
  } finally {
    // A caller's stream gets its listener back; our own file stream keeps it (a late error is caught).
    if (!file$) sink.off('error', onError);
  }
  return stats;
}

/** The file's size when it is converted in worker threads, or undefined (see ConvertFileOptions). */
async function inParallel(file: string, opts: ConvertFileOptions): Promise<number | undefined> {
  const workers = Math.max(0, Math.min(opts.workers ?? availableParallelism(), 16));
  if (workers < 2 || isParquetPath(file) || recordContainer(file) !== 'jsonl') return undefined;
  const size = (await stat(file)).size;
  if (size < (opts.minWorkerBytes ?? 8 << 20)) return undefined;
  // A dataset_info.json entry that renames fields, or a UTF-16/32 file: read on this thread.
  if ((await entryMappingFor(file)) || (await startsWithForeignBom(file))) return undefined;
  return size;
}

/**
 * Converts file in byte ranges on worker threads; `onPart` gets each range's part in file order
 * (with the number of lines before it) and its output is written with `put`, in order. At most a
 * few ranges wait to be written (the workers wait for the output, e.g. a slow pipe).
 */
async function inWorkers(
  file: string,
  size: number,
  opts: ConvertFileOptions,
  skipInvalid: boolean,
  put: (chunk: Buffer) => Promise<void>,
  onPart: (part: ConvertPart, lineBase: number) => void,
): Promise<void> {
  const workers = Math.max(0, Math.min(opts.workers ?? availableParallelism(), 16));
  const chunk = Math.min(16 << 20, Math.max(1 << 20, Math.ceil(size / (workers * 8))));
  const ranges = await splitOnLines(file, size, chunk);
  const tasks: ConvertTask[] = ranges.map(([start, end], id) => ({
    id,
    path: file,
    start,
    end,
    to: opts.to,
    keepUnknown: opts.keepUnknown === true,
    skipInvalid,
    ...(opts.from !== undefined ? { from: opts.from } : {}),
  }));
  // written[i]: range i is written (or the writing failed: the error is thrown below).
  const written = tasks.map(() => {
    let done = (): void => undefined;
    const p = new Promise<void>((resolve) => (done = resolve));
    return { p, done };
  });
  let writing: Promise<void> = Promise.resolve();
  let writeError: Error | undefined;
  let lineBase = 0;
  const lag = 2 * workers;
  try {
    await runOrdered<ConvertTask, ConvertPart>({
      script: opts.workerScript ?? path.join(__dirname, 'convert.worker.js'),
      workers,
      tasks,
      request: (task) => ({ type: 'convert', task }) satisfies ConvertRequest,
      response: (m) => {
        const r = m as ConvertResponse;
        return r.type === 'error' ? { id: r.id, error: r.message } : { id: r.id, result: r.part };
      },
      ready: async (i) => {
        if (i >= lag) await written[i - lag].p;
        if (writeError !== undefined) throw writeError;
      },
      onResult: (part, i) => {
        if (writeError !== undefined) throw writeError;
        onPart(part, lineBase);
        lineBase += part.lines;
        const line = lineBase;
        const bytes = tasks[i].end;
        writing = writing
          .then(async () => {
            for (const c of part.chunks) await put(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
            opts.progress?.({ line, bytes });
          })
          .catch((e: unknown) => {
            writeError ??= e instanceof Error ? e : new Error(String(e));
          })
          .finally(() => {
            if (writeError !== undefined) for (const w of written) w.done();
            else written[i].done();
          });
      },
      where: (task) => `${opts.label ?? file}: bytes ${task.start}-${task.end}`,
      name: 'the convert worker',
      ...(opts.signal ? { signal: opts.signal } : {}),
      abortError: () => new ConvertCancelled(),
    });
  } finally {
    await writing;
  }
  if (writeError !== undefined) throw writeError;
}

/** The summary line `parrot convert` ends with. */
export function convertSummary(
  label: string,
  to: FormatId,
  stats: ConvertStats,
  skipInvalid: boolean,
  out?: string,
): string {
  const parts = [
    `${stats.records} record(s) to ${FORMATS[to].title}`,
    `${stats.converted} converted`,
    `${stats.copied} already ${to}`,
    `${stats.lossy} with losses (${stats.losses} in all)`,
    `${stats.invalid} invalid${skipInvalid ? ' (left out)' : ' (copied unchanged)'}`,
  ];
  if (stats.blank) parts.push(`${stats.blank} blank line(s) left out`);
  if (stats.paired) parts.push(`${stats.paired} pair(s) made of unpaired records`);
  return `${label}: ${parts.join(', ')}${out ? ` -> ${out}` : ''}`;
}
