/**
 * Converting a whole dataset file, record by record: the engine behind `parrot convert`,
 * `parrot export` and the editor's Convert Dataset… / Export for Training… commands, so that all of
 * them write the same bytes and report the same losses.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import type { FormatId } from '../model';
import type { EncodingProblem } from '../encoding';
import { BatchedWriter } from '../batchedWriter';
import { isBlankLine } from '../stats/lines';
import { formatElement, type ElementStyle } from '../store/containers/jsonArray';
import { isParquetPath } from '../store/containers/parquet';
import { jsonlToParquet } from '../store/recordSource';
import { jsonlText, readFileRecords, where, type FileRecord } from '../store/records';
import { FormatError } from './adapters';
import { FORMATS } from './catalog';
import { convertSample, foreignRoles } from './convert';
import { serializeLike } from './json';
import { inexactNumbers } from './jsonKeep';
import { UnpairedPairer } from './unpaired';
import { entryMappingFor } from './entryMapping';
import { parseRecord, recordToLine, type RecordMapping } from './index';

const NEWLINE = Buffer.from('\n');

/**
 * A record copied unchanged into JSON Lines, as one line: a JSONL line's bytes as they are; an
 * element of a JSON array (which may span lines) without the whitespace between its tokens, or, when
 * its bytes are not valid UTF-8 (they are copied, never replaced), with its line breaks turned into
 * spaces (a raw line break is only ever whitespace between JSON tokens).
 */
function asOneLine(l: FileRecord): Buffer {
  if (l.container === 'jsonl') return l.raw;
  if (!l.encoding) return Buffer.from(jsonlText(l));
  const out = Buffer.from(l.raw);
  for (let i = 0; i < out.length; i++) if (out[i] === 0x0a || out[i] === 0x0d) out[i] = 0x20;
  return out;
}

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

export interface ConvertStats {
  records: number;
  converted: number;
  copied: number;
  lossy: number;
  losses: number;
  invalid: number;
  blank: number;
  paired: number;
  /** The dataset_info.json entry the records were read through, if any. */
  datasetInfo?: { entry: string; infoPath: string };
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
  /** Called for each record read (for progress). */
  progress?: (r: FileRecord) => void;
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
  const stats: ConvertStats = {
    records: 0,
    converted: 0,
    copied: 0,
    lossy: 0,
    losses: 0,
    invalid: 0,
    blank: 0,
    paired: 0,
  };
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
  let written$ = 0;
  const put = async (text: string | Buffer): Promise<void> => {
    const wrote = batched.write(text);
    if (wrote) await wrote;
  };
  try {
    if (toArray) await put('[');
    for await (const l of readFileRecords(file)) {
      check();
      opts.progress?.(l);
      if (l.encoding?.wholeFile) throw new Error(`${label}:1:1: ${l.encoding.message}`);
      if (!l.encoding && isBlankLine(l.text)) {
        stats.blank++;
        continue;
      }
      if (opts.keep && !opts.keep(l)) continue;
      let outLine: string | undefined;
      const r = l.encoding ? undefined : parseRecord(l.text, from, { style: false, mapping });
      if (!r) {
        // Bad bytes are reported and copied as they are: never replaced by U+FFFD.
        stats.invalid++;
        const enc = l.encoding as EncodingProblem;
        report('error', where(label, l, enc.column), enc.message);
      } else if (!r.ok) {
        stats.invalid++;
        report('error', where(label, l, r.error.column - 1), r.error.message);
      } else if (r.layout.format === to) {
        stats.records++;
        stats.copied++;
        // A record read through a dataset_info.json entry is written under the format's own names,
        // everything else of it as it was.
        if (r.layout.entry) outLine = recordToLine(r.sample, { ...r.layout, entry: undefined });
        else outLine = toArray ? l.text : jsonlText(l);
        // Copied as it is: what the format has no room for is reported as a conversion's losses are.
        const foreign = foreignRoles(r.sample, to);
        if (foreign.length) {
          stats.lossy++;
          stats.losses += foreign.length;
          const at = l.container === 'parquet' ? where(label, l) : `${label}:${l.line}`;
          for (const f of foreign) report('lost', at, f);
        }
      } else {
        stats.records++;
        let sample = r.sample;
        if (pairer && sample.kind === 'dialogue' && sample.label !== undefined) {
          const m = pairer.add(sample, { line: l.line, raw: asOneLine(l) });
          if (!m) continue; // written when its counterpart comes, or reported at the end
          sample = m.pair;
          stats.paired++;
          report(
            'paired',
            `${label}:${l.line}`,
            `lines ${m.keys[0].line} (desirable) and ${m.keys[1].line} (undesirable)`,
          );
        }
        try {
          const c = convertSample(sample, to, {
            keepUnknown: opts.keepUnknown === true,
            index: stats.records,
          });
          outLine = [c.value, ...(c.more ?? [])].map((v) => serializeLike(v)).join('\n');
          stats.converted++;
          // Numbers a double cannot hold exactly change on the way (the record is rewritten).
          for (const n of inexactNumbers(l.text))
            c.losses.push(
              `number ${n.token} (column ${n.at + 1}) cannot be held exactly: written as ${n.written}`,
            );
          if (c.losses.length) {
            stats.lossy++;
            stats.losses += c.losses.length;
            const at = l.container === 'parquet' ? where(label, l) : `${label}:${l.line}`;
            for (const loss of c.losses) report('lost', at, loss);
          }
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          stats.records--;
          stats.invalid++;
          report('error', where(label, l), e.message);
        }
      }
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
