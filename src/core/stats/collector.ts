/**
 * Streaming statistics over a dataset file: formats, invalid lines, turns, roles, duplicates,
 * characters and tokens per role (o200k_base BPE, the GPT-4o family's tokenizer).
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { countTokensCached } from '../tokens';
import { parseRecord } from '../formats';
import { mapRecordText, type RecordMapping } from '../formats/recordMapping';
import type { FormatId, Sample, Turn } from '../model';
import { contentText } from '../model';
import type { EncodingProblem } from '../encoding';
import { isBlankLine } from './lines';
import { keyDigest, keyRaw, keyStart, keyTag, keyText, keyUtf8 } from '../store/kernel';
import { DigestSet, IdTable } from './keyTable';

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
  /** The dataset_info.json entry the records were read through, when one renamed something. */
  datasetInfo?: { entry: string; file: string };
}

/**
 * What a stats worker gives back for its byte range: the figures of its lines (line numbers of
 * examples relative to the range, from 0), and per record what duplicates are found from, in order.
 */
export interface StatsPart {
  stats: DatasetStats;
  /** 0-based line (within the range) of each record. */
  recordLines: number[];
  /** Each record's id (null: none). */
  ids: (string | null)[];
  /** Each record's sampleDigest. */
  hashes: string[];
  /** Table 1 counts of the range's dialogues. */
  table1: { sessions: number; queries: number; dependent: number };
  /** Per session (dialogue with a user query): file offset of its line, and its query count. */
  sessionOffsets: number[];
  sessionQueries: number[];
  /** Lines counted from their bytes (stats' fast path, see range.ts). */
  fastLines?: number;
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
  private readonly ids = new IdTable();
  private readonly hashes = new DigestSet();
  /** In a worker: what the duplicates are found from, kept for the main thread. */
  private readonly deferred?: Pick<StatsPart, 'recordLines' | 'ids' | 'hashes'>;

  /**
   * `tokens: false` leaves token counts at 0 (the tokenizer is most of the time of a run).
   * `deferDuplicates` (workers): keep ids and sample hashes for `mergePart` instead of checking them.
   */
  constructor(
    private readonly opts: { tokens?: boolean; deferDuplicates?: boolean; mapping?: RecordMapping } = {},
  ) {
    if (opts.deferDuplicates) this.deferred = { recordLines: [], ids: [], hashes: [] };
  }

  /**
   * Adds one line; `encoding` is its encoding problem (an invalid line, whatever its text). Returns
   * the line's sample when it is a valid record (so that other measures need not parse it again).
   */
  add(text: string, line: number, encoding?: EncodingProblem): Sample | undefined {
    const s = this.s;
    s.lines++;
    if (encoding) {
      s.invalid.count++;
      if (s.invalid.examples.length < 100)
        s.invalid.examples.push({ line, column: encoding.column + 1, message: encoding.message });
      return undefined;
    }
    if (isBlankLine(text)) {
      s.blankLines++;
      return undefined;
    }
    const r = parseRecord(this.opts.mapping ? mapRecordText(text, this.opts.mapping) : text, undefined, {
      style: false,
    });
    if (!r.ok) {
      s.invalid.count++;
      if (s.invalid.examples.length < 100) s.invalid.examples.push({ line, ...r.error });
      return undefined;
    }
    s.records++;
    s.formats[r.layout.format] = (s.formats[r.layout.format] ?? 0) + 1;
    const sample = r.sample;
    if (sample.kind === 'dialogue') {
      s.dialogues++;
      s.turnsHistogram[sample.turns.length] = (s.turnsHistogram[sample.turns.length] ?? 0) + 1;
      if (sample.system !== undefined) this.count('system', sample.system);
      for (const t of sample.turns) this.count(t.role, contentText(t.content));
    } else {
      s.preferencePairs++;
      const n = sample.prompt.length + sample.chosen.length;
      s.turnsHistogram[n] = (s.turnsHistogram[n] ?? 0) + 1;
      if (sample.system !== undefined) this.count('system', sample.system);
      for (const side of [sample.prompt, sample.chosen, sample.rejected])
        for (const t of side) this.count(t.role, contentText(t.content));
    }
    const id = recordId(sample);
    const h = sampleDigest(sample);
    if (this.deferred) {
      this.deferred.recordLines.push(line);
      this.deferred.ids.push(id ?? null);
      this.deferred.hashes.push(h);
    } else this.noteRecord(line, id, h);
    return sample;
  }

  /**
   * Adds a ShareGPT dialogue record read from its bytes (stats' fast path), counted as `add`
   * counts it: turn i's role `roles[i]`, `chars[i]` code points, its text `text(i)` (asked for only
   * when tokens are counted); its id and its sampleDigest.
   */
  addShareGpt(
    line: number,
    n: number,
    roles: readonly string[],
    chars: readonly number[],
    text: (i: number) => string,
    id: string | undefined,
    digest: string,
  ): void {
    const s = this.s;
    s.lines++;
    s.records++;
    s.formats.sharegpt = (s.formats.sharegpt ?? 0) + 1;
    s.dialogues++;
    s.turnsHistogram[n] = (s.turnsHistogram[n] ?? 0) + 1;
    const tokens = this.opts.tokens !== false;
    for (let i = 0; i < n; i++) {
      const r = (s.roles[roles[i]] ??= { turns: 0, chars: 0, tokens: 0 });
      r.turns++;
      r.chars += chars[i];
      if (tokens) r.tokens += countTokensCached(text(i)); // never empty: the kernel takes no blank text
    }
    if (this.deferred) {
      this.deferred.recordLines.push(line);
      this.deferred.ids.push(id ?? null);
      this.deferred.hashes.push(digest);
    } else this.noteRecord(line, id, digest);
  }

  private noteRecord(line: number, id: string | undefined | null, h: string): void {
    const s = this.s;
    if (id !== undefined && id !== null) {
      const first = this.ids.firstLine(id, line);
      if (first >= 0) {
        s.duplicates.ids++;
        if (s.duplicates.idExamples.length < 20) s.duplicates.idExamples.push({ id, line, firstLine: first });
      }
    }
    if (this.hashes.seen(h)) s.duplicates.samples++;
  }

  private count(role: string, text: string): void {
    const r = (this.s.roles[role] ??= { turns: 0, chars: 0, tokens: 0 });
    r.turns++;
    r.chars += codePoints(text);
    if (this.opts.tokens !== false) r.tokens += text ? countTokensCached(text) : 0;
  }

  /** The ids and hashes kept with `deferDuplicates`. */
  deferredRecords(): Pick<StatsPart, 'recordLines' | 'ids' | 'hashes'> {
    return this.deferred ?? { recordLines: [], ids: [], hashes: [] };
  }

  /**
   * Appends a worker's part whose range starts after `this` has seen all lines before it: its
   * line numbers are shifted by the lines counted so far, its records checked for duplicates.
   */
  mergePart(p: StatsPart): void {
    const s = this.s;
    const q = p.stats;
    const base = s.lines;
    s.lines += q.lines;
    s.blankLines += q.blankLines;
    s.records += q.records;
    s.dialogues += q.dialogues;
    s.preferencePairs += q.preferencePairs;
    for (const [f, n] of Object.entries(q.formats) as [FormatId, number][])
      s.formats[f] = (s.formats[f] ?? 0) + n;
    s.invalid.count += q.invalid.count;
    for (const e of q.invalid.examples) {
      if (s.invalid.examples.length >= 100) break;
      s.invalid.examples.push({ ...e, line: e.line + base });
    }
    for (const [k, n] of Object.entries(q.turnsHistogram)) {
      const turns = Number(k);
      s.turnsHistogram[turns] = (s.turnsHistogram[turns] ?? 0) + n;
    }
    for (const [role, v] of Object.entries(q.roles)) {
      const r = (s.roles[role] ??= { turns: 0, chars: 0, tokens: 0 });
      r.turns += v.turns;
      r.chars += v.chars;
      r.tokens += v.tokens;
    }
    for (let i = 0; i < p.hashes.length; i++) this.noteRecord(p.recordLines[i] + base, p.ids[i], p.hashes[i]);
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

/** String.prototype.isWellFormed (Node 20+; the TypeScript library here predates it). */
type WellFormed = string & { isWellFormed(): boolean };

/** One value of a sample key, self-delimiting: a tag, the length of its text, `:`, the text. */
function keyPart(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'string') {
    // UTF-8 (what the digest reads) has no lone surrogate: such a text is written escaped, as JSON.
    if ((v as WellFormed).isWellFormed()) return `s${v.length}:${v}`;
    const j = JSON.stringify(v);
    return `u${j.length}:${j}`;
  }
  const j = JSON.stringify(v) ?? 'null';
  return `j${j.length}:${j}`;
}

function turnsKey(turns: readonly Turn[]): string {
  let k = `#${turns.length}`;
  for (const t of turns) k += keyPart(t.role) + keyPart(t.content) + keyPart(t.toolCalls);
  return k;
}

/** A key's parts as `sampleDigest` writes them for the kernel's digest (see keyStart). */
function writePart(v: unknown): void {
  if (v === undefined || v === null) keyTag(0x2d, 0);
  else if (typeof v === 'string') {
    keyTag(0x73, v.length);
    keyText(v);
  } else {
    const j = JSON.stringify(v) ?? 'null';
    keyTag(0x6a, j.length);
    keyText(j);
  }
}

/** A turn's content: a text as its JSON string token in UTF-8 (self-delimiting), as `tokenDigest` writes it. */
function writeContent(v: unknown): void {
  if (typeof v !== 'string') return writePart(v);
  keyTag(0x4a, 0);
  keyUtf8(JSON.stringify(v));
}

function writeTurns(turns: readonly Turn[]): void {
  keyTag(0x23, turns.length);
  for (const t of turns) {
    writePart(t.role);
    writeContent(t.content);
    writePart(t.toolCalls);
  }
}

/**
 * sampleDigest of a ShareGPT dialogue read from its bytes (stats' fast path): no system, tools or
 * tool calls; turn i's role is `roles[i]` and its text the JSON string token bytes[starts[i],
 * ends[i]) (its quotes included), which must be what JSON.stringify writes for the text (see
 * fast.wat's `turns`). Undefined when the key does not fit the kernel's digest: the caller then
 * digests the parsed sample.
 */
export function tokenDigest(
  n: number,
  roles: readonly string[],
  bytes: Uint8Array,
  starts: readonly number[],
  ends: readonly number[],
): string | undefined {
  if (!keyStart()) return undefined;
  keyTag(0x64, 0);
  writePart(undefined);
  writePart(undefined);
  keyTag(0x23, n);
  for (let i = 0; i < n; i++) {
    writePart(roles[i]);
    keyTag(0x4a, 0);
    keyRaw(bytes, starts[i], ends[i]);
    writePart(undefined);
  }
  return keyDigest();
}

/**
 * What stats counts repeated samples by: equal for two samples exactly when their hashSample is
 * (the same fields: system, tools, and each turn's role, content and tool calls; null and a missing
 * value alike), several times cheaper: the key's parts are written straight into the SIMD kernel's
 * memory (no key string; a text as UTF-16 with its length, a turn's content as its JSON string
 * token, which the fast path copies from the line's bytes), and its digest is the kernel's rather
 * than SHA-1's.
 */
export function sampleDigest(sample: Sample): string {
  if (keyStart()) {
    if (sample.kind === 'dialogue') {
      keyTag(0x64, 0);
      writePart(sample.system);
      writePart(sample.tools);
      writeTurns(sample.turns);
    } else {
      keyTag(0x70, 0);
      writePart(sample.system);
      writePart(sample.tools);
      writeTurns(sample.prompt);
      writeTurns(sample.chosen);
      writeTurns(sample.rejected);
    }
    const fast = keyDigest();
    if (fast !== undefined) return fast;
  }
  // Without SIMD, or a key over 1 MiB: SHA-1 of the key as a string (its UTF-8), marked so that the
  // two kinds never meet. Which one a key gets depends on its length and on SIMD being there, the
  // same in every thread of a run.
  const key =
    sample.kind === 'dialogue'
      ? 'd' + keyPart(sample.system) + keyPart(sample.tools) + turnsKey(sample.turns)
      : 'p' +
        keyPart(sample.system) +
        keyPart(sample.tools) +
        turnsKey(sample.prompt) +
        turnsKey(sample.chosen) +
        turnsKey(sample.rejected);
  return typeof oneShotHash === 'function'
    ? 'S' + oneShotHash('sha1', key, 'base64')
    : 'S' + createHash('sha1').update(key).digest('base64');
}

const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

function codePoints(s: string): number {
  // Most texts have no character beyond U+FFFF: one native scan instead of a loop over each unit.
  if (!HIGH_SURROGATE.test(s)) return s.length;
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
