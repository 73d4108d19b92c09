/**
 * Converting one record of a file: what `convertFile` does with each record, on its own thread or
 * in a worker thread over a byte range (convertRange.ts), so that both write the same bytes and
 * report the same losses.
 */
import type { FormatId } from '../model';
import type { EncodingProblem } from '../encoding';
import { jsonlText, positionIn, type FileRecord } from '../store/records';
import { FormatError } from './adapters';
import { convertSample, foreignRoles } from './convert';
import { serializeLike } from './json';
import { inexactNumbers } from './jsonKeep';
import type { UnpairedPairer } from './unpaired';
import { parseRecord, recordToLine, type RecordMapping } from './index';

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

export function emptyConvertStats(): ConvertStats {
  return { records: 0, converted: 0, copied: 0, lossy: 0, losses: 0, invalid: 0, blank: 0, paired: 0 };
}

export function addConvertStats(into: ConvertStats, s: ConvertStats): void {
  into.records += s.records;
  into.converted += s.converted;
  into.copied += s.copied;
  into.lossy += s.lossy;
  into.losses += s.losses;
  into.invalid += s.invalid;
  into.blank += s.blank;
  into.paired += s.paired;
}

/** Where a report line points: a line (and column), or a Parquet row. */
export type ReportAt = { line: number; column?: number } | { row: number };

/** `FILE:LINE[:COL]` or `FILE:row N`, as the report prints it. */
export function atText(label: string, at: ReportAt): string {
  if ('row' in at) return `${label}:row ${at.row}`;
  return at.column === undefined ? `${label}:${at.line}` : `${label}:${at.line}:${at.column}`;
}

/** The record fields a conversion reads. */
export type ConvertInput = Pick<FileRecord, 'line' | 'column' | 'text' | 'raw' | 'encoding' | 'container'>;

export interface RecordConverter {
  to: FormatId;
  from?: FormatId;
  keepUnknown: boolean;
  /** The record is written into a JSON array (a copied record keeps its text as it is). */
  toArray: boolean;
  stats: ConvertStats;
  /** Unpaired (KTO) records into a pair format (the conversion then depends on the file order). */
  pairer?: UnpairedPairer<{ line: number; raw: Buffer }>;
  report: (kind: 'error' | 'lost' | 'paired', at: ReportAt, message: string) => void;
  /** The dataset_info.json entry's renames the records are read through. */
  mapping?: RecordMapping;
}

/**
 * A record copied unchanged into JSON Lines, as one line: a JSONL line's bytes as they are; an
 * element of a JSON array (which may span lines) without the whitespace between its tokens, or, when
 * its bytes are not valid UTF-8 (they are copied, never replaced), with its line breaks turned into
 * spaces (a raw line break is only ever whitespace between JSON tokens).
 */
export function asOneLine(l: ConvertInput): Buffer {
  if (l.container === 'jsonl') return l.raw;
  if (!l.encoding) return Buffer.from(jsonlText(l));
  const out = Buffer.from(l.raw);
  for (let i = 0; i < out.length; i++) if (out[i] === 0x0a || out[i] === 0x0d) out[i] = 0x20;
  return out;
}

/** The record is held by the pairer: written when its counterpart comes, or reported at the end. */
export const HELD = Symbol('held');

function pos(l: ConvertInput, at = 0): ReportAt {
  return l.container === 'parquet' ? { row: l.line } : positionIn(l, at);
}

function lineOf(l: ConvertInput): ReportAt {
  return l.container === 'parquet' ? { row: l.line } : { line: l.line };
}

/**
 * Converts one record that is not blank: its output line (one or more JSONL lines joined by
 * '\n', without the last newline), undefined for an invalid record (copied as it is or left out),
 * or HELD. Counts it in `c.stats` and reports what it finds.
 */
export function convertRecord(l: ConvertInput, c: RecordConverter): string | undefined | typeof HELD {
  const { stats, to } = c;
  const r = l.encoding ? undefined : parseRecord(l.text, c.from, { style: false, mapping: c.mapping });
  if (!r) {
    // Bad bytes are reported and copied as they are: never replaced by U+FFFD.
    stats.invalid++;
    const enc = l.encoding as EncodingProblem;
    c.report('error', pos(l, enc.column), enc.message);
    return undefined;
  }
  if (!r.ok) {
    stats.invalid++;
    c.report('error', pos(l, r.error.column - 1), r.error.message);
    return undefined;
  }
  if (r.layout.format === to) {
    stats.records++;
    stats.copied++;
    // Copied as it is: what the format has no room for is reported as a conversion's losses are.
    const foreign = foreignRoles(r.sample, to);
    if (foreign.length) {
      stats.lossy++;
      stats.losses += foreign.length;
      for (const f of foreign) c.report('lost', lineOf(l), f);
    }
    // A record read through a dataset_info.json entry is written under the format's own names,
    // everything else of it as it was.
    if (r.layout.entry) return recordToLine(r.sample, { ...r.layout, entry: undefined });
    return c.toArray ? l.text : jsonlText(l);
  }
  stats.records++;
  let sample = r.sample;
  if (c.pairer && sample.kind === 'dialogue' && sample.label !== undefined) {
    const m = c.pairer.add(sample, { line: l.line, raw: asOneLine(l) });
    if (!m) return HELD;
    sample = m.pair;
    stats.paired++;
    c.report(
      'paired',
      { line: l.line },
      `lines ${m.keys[0].line} (desirable) and ${m.keys[1].line} (undesirable)`,
    );
  }
  try {
    const conv = convertSample(sample, to, { keepUnknown: c.keepUnknown, index: stats.records });
    const out = conv.more
      ? [conv.value, ...conv.more].map((v) => serializeLike(v)).join('\n')
      : serializeLike(conv.value);
    stats.converted++;
    // Numbers a double cannot hold exactly change on the way (the record is rewritten).
    for (const n of inexactNumbers(l.text))
      conv.losses.push(
        `number ${n.token} (column ${n.at + 1}) cannot be held exactly: written as ${n.written}`,
      );
    if (conv.losses.length) {
      stats.lossy++;
      stats.losses += conv.losses.length;
      for (const loss of conv.losses) c.report('lost', lineOf(l), loss);
    }
    return out;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    stats.records--;
    stats.invalid++;
    c.report('error', pos(l), e.message);
    return undefined;
  }
}
