/** What a stats worker does: the stats of one byte range of a JSONL file (see file.ts). */
import { forEachLine } from '../validate/lines';
import { StatsCollector, type StatsPart } from './collector';
import { decodeLine } from './lines';
import { dialogueOf, measureSession } from './table1';

export interface StatsTask {
  id: number;
  path: string;
  start: number;
  end: number;
  tokens: boolean;
}

export type StatsRequest = { type: 'stats'; task: StatsTask };
export type StatsResponse =
  { type: 'part'; id: number; part: StatsPart } | { type: 'error'; id: number; message: string };

/** The stats of file[start, end) (start at a line start), line numbers from 1 within the range. */
export async function measureStatsRange(task: StatsTask): Promise<StatsPart> {
  const c = new StatsCollector({ tokens: task.tokens, deferDuplicates: true });
  const table1 = { sessions: 0, queries: 0, dependent: 0 };
  const sessionOffsets: number[] = [];
  const sessionQueries: number[] = [];
  await forEachLine(task.path, task.start, task.end, (l) => {
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
  });
  return { stats: c.result(), ...c.deferredRecords(), table1, sessionOffsets, sessionQueries };
}
