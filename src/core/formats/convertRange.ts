/** What a convert worker does: converts one byte range of a JSONL file to JSONL (see convertFile.ts). */
import type { FormatId } from '../model';
import { decodeLine, isBlankLine } from '../stats/lines';
import { withLineKernel, type LineKernel } from '../validate/kernel';
import { forEachLine, type RawLine } from '../validate/lines';
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

/** Output is handed over in buffers of about this size (fewer, larger buffers to hand over). */
const CHUNK = 1 << 20;
/** The blocks the line kernel reads (as validation's), and its output area. */
const BLOCK = 1 << 20;
const TABLE = 1 << 18;
const AREA = 2 * BLOCK + 64;

/**
 * The output of a range as it is made: lines are written into an area (the line kernel's output
 * area, or a buffer of our own) and copied out as a chunk once it holds CHUNK bytes.
 */
class RangeOutput {
  readonly chunks: Uint8Array[] = [];
  used = 0;

  constructor(readonly area: Buffer) {}

  /** Makes room for n more bytes; false when the area could never hold them. */
  room(n: number): boolean {
    if (this.used + n > this.area.length) this.flush();
    return n <= this.area.length;
  }

  /** A line (the newline is added). */
  text(s: string): void {
    if (this.room(s.length * 3 + 1)) {
      this.used += this.area.write(s, this.used);
      this.area[this.used++] = 0x0a;
      if (this.used >= CHUNK) this.flush();
    } else {
      this.flush();
      this.chunks.push(Buffer.from(s + '\n'));
    }
  }

  /** The bytes b[start, end) as a line (the newline is added). */
  bytes(b: Buffer, start: number, end: number): void {
    const n = end - start + 1;
    if (this.room(n)) {
      b.copy(this.area, this.used, start, end);
      this.used += n;
      this.area[this.used - 1] = 0x0a;
      if (this.used >= CHUNK) this.flush();
    } else {
      this.flush();
      const raw = Buffer.allocUnsafe(n);
      b.copy(raw, 0, start, end);
      raw[n - 1] = 0x0a;
      this.chunks.push(raw);
    }
  }

  /** Copies what the area holds out as a chunk (the area is written again). */
  flush(): void {
    if (this.used === 0) return;
    this.chunks.push(Buffer.from(this.area.subarray(0, this.used)));
    this.used = 0;
  }
}

/**
 * Converts file[start, end) (start at a line start), line numbers from 1 within the range.
 * ShareGPT into OpenAI chat takes a fast path: the lines the validation kernel accepts (records
 * with nothing for validation to report, see fast.ts) are written by the kernel from their bytes
 * (fast.wat's `convert`), the same bytes as convertRecord's; every other line is converted the full
 * way. test/unit/formats/convertKernel.test.ts compares the two.
 */
export function convertRange(task: ConvertTask): Promise<ConvertPart> {
  const fast = task.to === 'openai' && (task.from === undefined || task.from === 'sharegpt');
  return withLineKernel({ block: BLOCK, table: TABLE, output: AREA }, fast, (kernel) =>
    convertLines(task, kernel),
  );
}

async function convertLines(task: ConvertTask, kernel: LineKernel | undefined): Promise<ConvertPart> {
  const stats = emptyConvertStats();
  const reports: RangeReport[] = [];
  const out = new RangeOutput(kernel?.output ?? Buffer.allocUnsafe(AREA));
  const converter = {
    to: task.to,
    keepUnknown: task.keepUnknown,
    toArray: false,
    stats,
    report: (kind: RangeReport['kind'], at: ReportAt, message: string) => reports.push({ kind, at, message }),
    ...(task.from !== undefined ? { from: task.from } : {}),
  };
  const onLine = (l: RawLine): void => {
    const b = l.buf;
    if (l.slot >= 0 && l.kernel && out.room(2 * (l.end - l.start) + 64)) {
      const n = l.kernel.convertLine(l.start, out.used);
      if (n >= 0) {
        stats.records++;
        stats.converted++;
        out.used += n;
        out.area[out.used++] = 0x0a;
        if (out.used >= CHUNK) out.flush();
        return;
      }
    }
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
    const line = convertRecord(r, converter);
    if (line === HELD) throw new Error('a record was held for pairing in a range');
    if (line !== undefined) out.text(line);
    else if (!task.skipInvalid) out.bytes(b, l.start, end);
  };
  const lines = await forEachLine(
    task.path,
    task.start,
    task.end,
    onLine,
    undefined,
    undefined,
    BLOCK,
    undefined,
    kernel,
  );
  out.flush();
  return { chunks: out.chunks, lines, stats, reports };
}
