/**
 * Stats of a whole file. A JSONL file is cut into byte ranges on line starts, measured by worker
 * threads (parse, counts, tokens, the Table 1 detector: all per record), and the parts merged in
 * file order on this thread, where the duplicates and the Self-ROUGE sample (file order matters to
 * both) are found. Small files, JSON arrays and Parquet are read on this thread, with one parse per
 * record as well. Either way the figures are the same.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startsWithForeignBom } from '../encoding';
import { entryMappingFor, mapRecordText } from '../formats/entryMapping';
import { readFileRecords } from '../store/records';
import { recordContainer } from '../store/records';
import { isParquetPath } from '../store/containers/parquet';
import { LineReader, splitOnLines } from '../validate/lines';
import { lastAtOrBefore } from '../ascending';
import { Column } from '../validate/column';
import { StatsCollector, type DatasetStats, type StatsPart } from './collector';
import type { StatsRequest, StatsResponse, StatsTask } from './range';
import { runOrdered } from '../workerPool';
import type { FileLine } from './lines';
import { dialogueOf, measureSession, type Table1Collector } from './table1';

export { measureStatsRange, type StatsRequest, type StatsResponse, type StatsTask } from './range';

export interface FileStatsOptions {
  /** false: token counts stay 0. */
  tokens?: boolean;
  /** Also measures Table 1 (from the same parse of each record). */
  table1?: Table1Collector;
  /** Every line, in order (then the file is read on this thread). */
  onLine?: (line: FileLine) => void;
  /** Worker threads; 0 or 1 measures on this thread. Default: os.availableParallelism(). */
  workers?: number;
  /** The bundled worker script. Default: stats.worker.js beside this bundle. */
  workerScript?: string;
  /**
   * false: records are read as they are, not through the dataset_info.json entry that names the
   * file. Default true. An entry that renames something is read on this thread.
   */
  datasetInfo?: boolean;
  /** Files smaller than this are measured on this thread. Default 8 MiB. */
  minWorkerBytes?: number;
}

/**
 * Stats of a whole file (JSONL, a JSON array, or Parquet: one record per row, `lines` counting
 * rows), streamed. `onProgress` gets the bytes read so far.
 */
export async function fileStats(
  path: string,
  onProgress?: (bytes: number) => void,
  opts: FileStatsOptions = {},
): Promise<DatasetStats> {
  const size = (await stat(path)).size;
  const nWorkers = Math.max(0, Math.min(opts.workers ?? availableParallelism(), 16));
  const mapping = opts.datasetInfo === false ? undefined : await entryMappingFor(path);
  const parallel =
    !mapping &&
    nWorkers > 1 &&
    size >= (opts.minWorkerBytes ?? 8 << 20) &&
    !opts.onLine &&
    !(opts.table1 && opts.table1.judgeSampleSize > 0) &&
    !isParquetPath(path) &&
    recordContainer(path) === 'jsonl' &&
    !(await startsWithForeignBom(path));
  if (parallel) return inWorkers(path, size, nWorkers, opts, onProgress);
  const c = new StatsCollector({ tokens: opts.tokens, mapping });
  for await (const l of readFileRecords(path)) {
    const sample = c.add(l.text, l.line, l.encoding);
    if (opts.table1) {
      if (l.encoding) opts.table1.addLine(l.text);
      else if (sample?.kind === 'dialogue') opts.table1.addDialogue(sample);
    }
    opts.onLine?.(mapping && !l.encoding ? { ...l, text: mapRecordText(l.text, mapping) } : l);
    onProgress?.(l.bytes);
    // A UTF-16/32 file: its other lines are not text to count.
    if (l.encoding?.wholeFile) break;
  }
  const s = c.result();
  if (mapping) s.datasetInfo = { entry: mapping.entry, file: mapping.infoPath };
  return s;
}

async function inWorkers(
  path: string,
  size: number,
  nWorkers: number,
  opts: FileStatsOptions,
  onProgress?: (bytes: number) => void,
): Promise<DatasetStats> {
  const chunk = Math.min(16 << 20, Math.max(1 << 20, Math.ceil(size / (nWorkers * 8))));
  const ranges = await splitOnLines(path, size, chunk);
  const tasks: StatsTask[] = ranges.map(([start, end], id) => ({
    id,
    path,
    start,
    end,
    tokens: opts.tokens !== false,
  }));
  const c = new StatsCollector({ tokens: opts.tokens });
  const t1 = { sessions: 0, queries: 0, dependent: 0 };
  // Per session: its line's offset and its query count (typed: 12 bytes a session).
  const sessionOffsets = new Column((n) => new Float64Array(n));
  const sessionQueries = new Column((n) => new Uint32Array(n));
  let done = 0;
  await runOrdered<StatsTask, StatsPart>({
    script: opts.workerScript ?? join(__dirname, 'stats.worker.js'),
    workers: nWorkers,
    tasks,
    request: (task) => ({ type: 'stats', task }) satisfies StatsRequest,
    response: (m) => {
      const r = m as StatsResponse;
      return r.type === 'error' ? { id: r.id, error: r.message } : { id: r.id, result: r.part };
    },
    onResult: (p) => {
      c.mergePart(p);
      t1.sessions += p.table1.sessions;
      t1.queries += p.table1.queries;
      t1.dependent += p.table1.dependent;
      for (let i = 0; i < p.sessionOffsets.length; i++) {
        sessionOffsets.push(p.sessionOffsets[i]);
        sessionQueries.push(p.sessionQueries[i]);
      }
    },
    onDone: (task) => {
      done += task.end - task.start;
      onProgress?.(done);
    },
    where: (task) => `bytes ${task.start}-${task.end}`,
    name: 'the stats worker',
  });
  if (opts.table1) {
    // Only the queries the Self-ROUGE sample keeps are read again (a few hundred lines).
    const reader = new LineReader(path);
    const queries = sessionQueries.done();
    const offsets = sessionOffsets.done();
    const firstQuery = new Float64Array(queries.length);
    let n = 0;
    for (let i = 0; i < queries.length; i++) {
      firstQuery[i] = n;
      n += queries[i];
    }
    try {
      await opts.table1.addMeasured(t1.sessions, t1.queries, t1.dependent, async (query) => {
        const lo = lastAtOrBefore(firstQuery, query);
        const d = dialogueOf(await reader.read(offsets[lo]));
        const m = d && measureSession(d);
        const text = m?.queries[query - firstQuery[lo]];
        if (text === undefined) throw new Error(`${path}: the file changed while it was read`);
        return text;
      });
    } finally {
      await reader.close();
    }
  }
  return c.result();
}
