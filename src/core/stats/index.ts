/**
 * Streaming statistics over a dataset file: formats, invalid lines, turns, roles, duplicates,
 * characters and tokens per role (o200k_base BPE, the GPT-4o family's tokenizer).
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { countTokens } from '../tokens';
import { parseRecord } from '../formats';
import type { FormatId, Sample, Turn } from '../model';
import { contentText } from '../model';
import type { EncodingProblem } from '../encoding';
import { readFileRecords } from '../store/records';
import { isBlankLine, type FileLine } from './lines';

export { isBlankLine, readFileLines, type FileLine } from './lines';

export const TOKENIZER = 'o200k_base';

export interface RoleStats {
  turns: number;
  chars: number;
  tokens: number;
}

export interface DatasetStats {
  lines: number;
  blankLines: number;
  records: number;
  dialogues: number;
  preferencePairs: number;
  formats: Partial<Record<FormatId, number>>;
  invalid: {
    count: number;
    /** The first 100. */ examples: { line: number; column: number; message: string }[];
  };
  /** Number of turns -> number of dialogues (for pairs: prompt + chosen turns). */
  turnsHistogram: Record<number, number>;
  roles: Record<string, RoleStats>;
  duplicates: {
    /** Records whose id (id / question_id) was already used by an earlier record. */
    ids: number;
    /** Records identical (system, tools, turns) to an earlier record. */
    samples: number;
    /** The first 20 repeated ids with the line they first appeared on. */
    idExamples: { id: string; line: number; firstLine: number }[];
  };
  tokenizer: string;
}

/** Accumulates stats line by line; `result()` gives the figures so far. */
export class StatsCollector {
  private readonly s: DatasetStats = {
    lines: 0,
    blankLines: 0,
    records: 0,
    dialogues: 0,
    preferencePairs: 0,
    formats: {},
    invalid: { count: 0, examples: [] },
    turnsHistogram: {},
    roles: {},
    duplicates: { ids: 0, samples: 0, idExamples: [] },
    tokenizer: TOKENIZER,
  };
  private readonly ids = new Map<string, number>();
  private readonly hashes = new Set<string>();

  /** `tokens: false` leaves token counts at 0 (the tokenizer is most of the time of a run). */
  constructor(private readonly opts: { tokens?: boolean } = {}) {}

  /** Adds one line; `encoding` is its encoding problem (an invalid line, whatever its text). */
  add(text: string, line: number, encoding?: EncodingProblem): void {
    const s = this.s;
    s.lines++;
    if (encoding) {
      s.invalid.count++;
      if (s.invalid.examples.length < 100)
        s.invalid.examples.push({ line, column: encoding.column + 1, message: encoding.message });
      return;
    }
    if (isBlankLine(text)) {
      s.blankLines++;
      return;
    }
    const r = parseRecord(text, undefined, { style: false });
    if (!r.ok) {
      s.invalid.count++;
      if (s.invalid.examples.length < 100) s.invalid.examples.push({ line, ...r.error });
      return;
    }
    s.records++;
    s.formats[r.layout.format] = (s.formats[r.layout.format] ?? 0) + 1;
    const sample = r.sample;
    const turns = sample.kind === 'dialogue' ? sample.turns : [...sample.prompt, ...sample.chosen];
    if (sample.kind === 'dialogue') s.dialogues++;
    else s.preferencePairs++;
    s.turnsHistogram[turns.length] = (s.turnsHistogram[turns.length] ?? 0) + 1;
    const all =
      sample.kind === 'dialogue' ? sample.turns : [...sample.prompt, ...sample.chosen, ...sample.rejected];
    if (sample.system !== undefined) this.count('system', sample.system);
    for (const t of all) this.count(t.role, contentText(t.content));
    const id = recordId(sample);
    if (id !== undefined) {
      const first = this.ids.get(id);
      if (first === undefined) this.ids.set(id, line);
      else {
        s.duplicates.ids++;
        if (s.duplicates.idExamples.length < 20) s.duplicates.idExamples.push({ id, line, firstLine: first });
      }
    }
    const h = hashSample(sample);
    if (this.hashes.has(h)) s.duplicates.samples++;
    else this.hashes.add(h);
  }

  private count(role: string, text: string): void {
    const r = (this.s.roles[role] ??= { turns: 0, chars: 0, tokens: 0 });
    r.turns++;
    r.chars += codePoints(text);
    if (this.opts.tokens !== false) r.tokens += text ? countTokens(text) : 0;
  }

  result(): DatasetStats {
    return structuredClone(this.s);
  }
}

function recordId(sample: Sample): string | undefined {
  const v = sample.id ?? sample.meta.id ?? sample.meta.question_id;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

function turnKey(t: Turn): unknown[] {
  return [t.role, typeof t.content === 'string' ? t.content : t.content, t.toolCalls ?? null];
}

/** Hash of what makes two samples the same conversation (ids and unknown fields are ignored). */
export function hashSample(sample: Sample): string {
  const key =
    sample.kind === 'dialogue'
      ? ['d', sample.system ?? null, sample.tools ?? null, sample.turns.map(turnKey)]
      : [
          'p',
          sample.system ?? null,
          sample.tools ?? null,
          sample.prompt.map(turnKey),
          sample.chosen.map(turnKey),
          sample.rejected.map(turnKey),
        ];
  const text = JSON.stringify(key);
  // One-shot hashing where Node has it (20.12+): the same digest without a Hash object per sample.
  return typeof oneShotHash === 'function'
    ? oneShotHash('sha1', text, 'base64')
    : createHash('sha1').update(text).digest('base64');
}

function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Stats of a whole file (JSONL, or Parquet: one record per row, `lines` counting rows), streamed.
 * `onProgress` gets the bytes read so far.
 */
export async function fileStats(
  path: string,
  onProgress?: (bytes: number, line: FileLine) => void,
  opts?: { tokens?: boolean },
): Promise<DatasetStats> {
  const c = new StatsCollector(opts);
  for await (const l of readFileRecords(path)) {
    c.add(l.text, l.line, l.encoding);
    onProgress?.(l.bytes, l);
    // A UTF-16/32 file: its other lines are not text to count.
    if (l.encoding?.wholeFile) break;
  }
  return c.result();
}
