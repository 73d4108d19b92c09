/** What a stats worker does: the stats of one byte range of a JSONL file (see file.ts). */
import { withLineKernel, type LineKernel } from '../validate/kernel';
import { forEachLine, type RawLine } from '../validate/lines';
import { StatsCollector, tokenDigest, type StatsPart } from './collector';
import { decodeLine } from './lines';
import { dependentQueries, dialogueOf, measureSession } from './table1';

export interface StatsTask {
  id: number;
  path: string;
  start: number;
  end: number;
  tokens: boolean;
  /** false: every line read the full way (what the tests compare the fast path with). */
  fastPath?: boolean;
}

export type StatsRequest = { type: 'stats'; task: StatsTask };
export type StatsResponse =
  { type: 'part'; id: number; part: StatsPart } | { type: 'error'; id: number; message: string };

/** The blocks the line kernel reads (as validation's), and room for the turns of a line. */
const BLOCK = 1 << 20;
const TABLE = 1 << 18;
const ROLES: Record<number, string> = { 0x55: 'user', 0x41: 'assistant', 0x53: 'system' };

/**
 * The stats of file[start, end) (start at a line start), line numbers from 1 within the range.
 * The lines the validation kernel accepts (ShareGPT records with nothing for validation to report,
 * see fast.ts) are counted from their bytes (fast.wat's `turns`): roles, code points, the id and
 * the sample digest without parsing the record, only the user turns decoded (for Table 1) and,
 * with tokens, every turn. Every other line is read as before. The figures are the same
 * (test/unit/stats/fastStats.test.ts compares the two).
 */
export function measureStatsRange(task: StatsTask): Promise<StatsPart> {
  return withLineKernel({ block: BLOCK, table: TABLE }, task.fastPath !== false, (kernel) =>
    statsOfLines(task, kernel),
  );
}

async function statsOfLines(task: StatsTask, kernel: LineKernel | undefined): Promise<StatsPart> {
  const c = new StatsCollector({ tokens: task.tokens, deferDuplicates: true });
  const table1 = { sessions: 0, queries: 0, dependent: 0 };
  const sessionOffsets: number[] = [];
  const sessionQueries: number[] = [];
  let fastLines = 0;
  const roles: string[] = [];
  const chars: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const queries: string[] = [];
  const texts: (string | undefined)[] = [];
  let buf: Buffer = Buffer.alloc(0);
  const textOf = (i: number): string =>
    (texts[i] ??= JSON.parse(buf.toString('utf8', starts[i], ends[i])) as string);
  /** The line from its bytes; false when the full path must read it. */
  const fast = (l: RawLine): boolean => {
    const k = l.kernel;
    if (l.slot < 0 || !k) return false;
    const n = k.readTurns(l.start);
    if (n < 0) return false;
    const t = k.table;
    const base = k.blockBase;
    buf = l.buf;
    roles.length = chars.length = starts.length = ends.length = queries.length = texts.length = 0;
    for (let i = 0, o = 4; i < n; i++, o += 4) {
      roles.push(ROLES[t[o]]);
      starts.push(t[o + 1] - base);
      ends.push(t[o + 2] - base + 1);
      chars.push(t[o + 3]);
    }
    const digest = tokenDigest(n, roles, buf, starts, ends);
    if (digest === undefined) return false;
    // An id string is ASCII without escapes; a number's digits are what String() writes for it.
    const id = t[3] === 0 ? undefined : buf.toString('latin1', t[1] - base, t[2] - base);
    c.addShareGpt(l.index + 1, n, roles, chars, textOf, id, digest);
    for (let i = 0; i < n; i++) if (roles[i] === 'user') queries.push(textOf(i));
    table1.sessions++;
    table1.queries += queries.length;
    table1.dependent += dependentQueries(queries);
    sessionOffsets.push(l.byteOffset);
    sessionQueries.push(queries.length);
    fastLines++;
    return true;
  };
  const onLine = (l: RawLine): void => {
    if (fast(l)) return;
    const b = l.buf;
    // As readFileLines reads a line: without a '\r' before its '\n', a BOM on line 1 left out.
    const end = l.end > l.start && b[l.end - 1] === 0x0d ? l.end - 1 : l.end;
    const { text, encoding } = decodeLine(b, l.start, end, task.start === 0 && l.index === 0, l.validUtf8);
    const sample = c.add(text, l.index + 1, encoding);
    // Table 1 reads every line that is a dialogue record, whatever its encoding.
    const d = encoding ? dialogueOf(text) : sample?.kind === 'dialogue' ? sample : undefined;
    const m = d && measureSession(d);
    if (m) {
      table1.sessions++;
      table1.queries += m.queries.length;
      table1.dependent += m.dependent;
      sessionOffsets.push(l.byteOffset);
      sessionQueries.push(m.queries.length);
    }
  };
  await forEachLine(task.path, task.start, task.end, onLine, undefined, undefined, BLOCK, undefined, kernel);
  return { stats: c.result(), ...c.deferredRecords(), table1, sessionOffsets, sessionQueries, fastLines };
}
