/** What a convert worker does: converts one byte range of a JSONL file to JSONL (see convertFile.ts). */
import type { FormatId } from '../model';
import { decodeLine, isBlankLine } from '../stats/lines';
import { forEachLine } from '../validate/lines';
import {
  convertRecord,
  emptyConvertStats,
  HELD,
  type ConvertInput,
  type ConvertStats,
  type ReportAt,
} from './convertRecord';

export interface ConvertTask {
  id: number;
  path: string;
  start: number;
  end: number;
  to: FormatId;
  from?: FormatId;
  keepUnknown: boolean;
  skipInvalid: boolean;
}

/** A report line of a range: `at` counts lines from 1 within the range. */
export interface RangeReport {
  kind: 'error' | 'lost' | 'paired';
  at: ReportAt;
  message: string;
}

export interface ConvertPart {
  /** The output of the range, in order (UTF-8; the bytes of invalid records as they are). */
  chunks: Uint8Array[];
  /** Lines in the range. */
  lines: number;
  stats: ConvertStats;
  reports: RangeReport[];
}

export type ConvertRequest = { type: 'convert'; task: ConvertTask };
export type ConvertResponse =
  { type: 'part'; id: number; part: ConvertPart } | { type: 'error'; id: number; message: string };

/** Output text is encoded to bytes about this often (fewer, larger buffers to hand over). */
const ENCODE_AT = 1 << 20;

/** Converts file[start, end) (start at a line start), line numbers from 1 within the range. */
export async function convertRange(task: ConvertTask): Promise<ConvertPart> {
  const stats = emptyConvertStats();
  const reports: RangeReport[] = [];
  const chunks: Uint8Array[] = [];
  let parts: string[] = [];
  let size = 0;
  const encode = (): void => {
    if (parts.length === 0) return;
    chunks.push(Buffer.from(parts.length === 1 ? parts[0] : parts.join(''), 'utf8'));
    parts = [];
    size = 0;
  };
  const converter = {
    to: task.to,
    keepUnknown: task.keepUnknown,
    toArray: false,
    stats,
    report: (kind: RangeReport['kind'], at: ReportAt, message: string) => reports.push({ kind, at, message }),
    ...(task.from !== undefined ? { from: task.from } : {}),
  };
  const lines = await forEachLine(task.path, task.start, task.end, (l) => {
    const b = l.buf;
    // As readFileLines reads a line: without a '\r' before its '\n', a BOM on line 1 left out.
    const end = l.end > l.start && b[l.end - 1] === 0x0d ? l.end - 1 : l.end;
    const { text, encoding } = decodeLine(b, l.start, end, task.start === 0 && l.index === 0, l.validUtf8);
    if (!encoding && isBlankLine(text)) {
      stats.blank++;
      return;
    }
    const r: ConvertInput = {
      line: l.index + 1,
      column: 0,
      text,
      raw: b.subarray(l.start, end),
      container: 'jsonl',
    };
    if (encoding) r.encoding = encoding;
    const out = convertRecord(r, converter);
    if (out === HELD) throw new Error('a record was held for pairing in a range');
    if (out !== undefined) {
      parts.push(out, '\n');
      size += out.length + 1;
      if (size >= ENCODE_AT) encode();
    } else if (!task.skipInvalid) {
      encode();
      // The buffer is reused for the next block: the bytes are copied.
      const raw = Buffer.allocUnsafe(end - l.start + 1);
      b.copy(raw, 0, l.start, end);
      raw[raw.length - 1] = 0x0a;
      chunks.push(raw);
    }
  });
  encode();
  return { chunks, lines, stats, reports };
}
