/**
 * Per-record facts of a dataset overview, kept in columns (typed arrays) so that a million records
 * cost tens of megabytes, not a million objects: what each chart counts and what a click on a bar
 * selects. `FactsBuilder` measures records one at a time (in a worker or in-process);
 * `FactsChunk`s of consecutive parts of a file are appended in order into one `FactsBuilder`.
 */
import { parseRecord, readRecord } from '../formats';
import { contentText, ROLES, type Turn } from '../model';
import { dependsOnContext } from '../parrot/context';
import { rougeTokens } from '../stats/table1';
import { FORMAT_IDS } from '../validate/schemas';
import type { Diagnostic } from '../validate/types';
import { hashString, SIG_HASHES, signTexts } from './minhash';

/** Token counts per role go to these slots; a role the model does not know counts as 'other'. */
export const ROLE_SLOTS: readonly string[] = [...ROLES, 'other'];
const OTHER = ROLE_SLOTS.length - 1;

/** User queries kept for Self-ROUGE. */
export const SELF_ROUGE_SAMPLE = 300;

/** One user query of the Self-ROUGE sample: its key (a hash of where it is) and its tokens. */
export interface SampledQuery {
  key: number;
  tokens: string[];
}

/**
 * Facts of consecutive records of one part of a file. Each record is named by its index in the
 * file as the dialogue editor numbers records: the 0-based line of a JSONL file (blank lines
 * included), the element of a JSON array, the row of a Parquet file.
 */
export interface FactsChunk {
  n: number;
  /** Lines of the part (records, blank and invalid lines); elements or rows for the other containers. */
  lines: number;
  blank: number;
  line: Uint32Array;
  /** Index in FORMAT_IDS; -1 for a line that is not a record of a known format. */
  format: Int8Array;
  /** 0 dialogue, 1 preference pair, -1 not a record. */
  kind: Int8Array;
  turns: Uint32Array;
  tokens: Uint32Array;
  /** n x ROLE_SLOTS.length: tokens of each role in the record. */
  roleTokens: Uint32Array;
  /** Hash of the conversation (the validator's duplicate/dialogue hash); NaN when none. */
  exact: Float64Array;
  /** n x SIG_HASHES: MinHash of the record's user questions; userHas[i] = 1 when it has words. */
  userSig: Uint8Array;
  userHas: Uint8Array;
  /** n x SIG_HASHES: MinHash of the whole dialogue's text. */
  dialogueSig: Uint8Array;
  dialogueHas: Uint8Array;
  /** Problem codes and, per code, the records (indices in this chunk) that have it. */
  problems: Record<string, number[]>;
  sessions: number;
  queries: number;
  dependent: number;
  sample: SampledQuery[];
  /** Milliseconds spent on MinHash signatures, and on measuring records in all. */
  signMs: number;
  busyMs: number;
}

class Grow<T extends Float64Array | Uint32Array | Int8Array | Uint8Array> {
  data: T;
  constructor(
    private readonly make: (n: number) => T,
    private readonly width: number,
    capacity: number,
  ) {
    this.data = make(Math.max(16, capacity) * width);
  }
  reserve(records: number): void {
    const need = records * this.width;
    if (need <= this.data.length) return;
    const bigger = this.make(Math.max(need, Math.ceil(this.data.length * 1.5)));
    bigger.set(this.data);
    this.data = bigger;
  }
  clear(records: number): void {
    this.data.fill(0, 0, records * this.width);
  }
  done(records: number, copy: boolean): T {
    return (
      copy ? this.data.slice(0, records * this.width) : this.data.subarray(0, records * this.width)
    ) as T;
  }
}

export type TokenCounter = (text: string) => number;

/** A record read into the model, from its text or from the value the validator parsed from it. */
function readLine(text: string, parsed: unknown): ReturnType<typeof parseRecord> {
  if (parsed === undefined) return parseRecord(text, undefined, { style: false });
  const r = readRecord(parsed);
  return 'error' in r
    ? { ok: false, error: { message: r.error, column: 1 }, value: parsed }
    : { ok: true, ...r, value: parsed };
}

/** Accumulates the facts of records in order. */
export class FactsBuilder {
  n = 0;
  lines = 0;
  blank = 0;
  private readonly line: Grow<Uint32Array>;
  private readonly format: Grow<Int8Array>;
  private readonly kind: Grow<Int8Array>;
  private readonly turns: Grow<Uint32Array>;
  private readonly tokens: Grow<Uint32Array>;
  private readonly roleTokens: Grow<Uint32Array>;
  private readonly exact: Grow<Float64Array>;
  private readonly userSig: Grow<Uint8Array>;
  private readonly userHas: Grow<Uint8Array>;
  private readonly dialogueSig: Grow<Uint8Array>;
  private readonly dialogueHas: Grow<Uint8Array>;
  problems: Record<string, number[]> = Object.create(null) as Record<string, number[]>;
  sessions = 0;
  queries = 0;
  dependent = 0;
  private sample: SampledQuery[] = [];
  /** A record's texts and whether each is a user's, reused from record to record. */
  private readonly texts: string[] = [];
  private readonly isUser: boolean[] = [];
  signMs = 0;
  busyMs = 0;

  constructor(capacity = 1024) {
    const R = ROLE_SLOTS.length;
    this.line = new Grow((n) => new Uint32Array(n), 1, capacity);
    this.format = new Grow((n) => new Int8Array(n), 1, capacity);
    this.kind = new Grow((n) => new Int8Array(n), 1, capacity);
    this.turns = new Grow((n) => new Uint32Array(n), 1, capacity);
    this.tokens = new Grow((n) => new Uint32Array(n), 1, capacity);
    this.roleTokens = new Grow((n) => new Uint32Array(n), R, capacity);
    this.exact = new Grow((n) => new Float64Array(n), 1, capacity);
    this.userSig = new Grow((n) => new Uint8Array(n), SIG_HASHES, capacity);
    this.userHas = new Grow((n) => new Uint8Array(n), 1, capacity);
    this.dialogueSig = new Grow((n) => new Uint8Array(n), SIG_HASHES, capacity);
    this.dialogueHas = new Grow((n) => new Uint8Array(n), 1, capacity);
  }

  /**
   * Empty again, its arrays kept (zeroed where they were written): a worker measures part after
   * part in the same arrays instead of leaving each part's behind for its next full collection.
   */
  reset(): void {
    for (const g of this.grows()) g.clear(this.n);
    this.n = this.lines = this.blank = 0;
    this.problems = Object.create(null) as Record<string, number[]>;
    this.sessions = this.queries = this.dependent = 0;
    this.sample = [];
    this.signMs = this.busyMs = 0;
  }

  private grows(): Grow<Float64Array | Uint32Array | Int8Array | Uint8Array>[] {
    return [
      this.line,
      this.format,
      this.kind,
      this.turns,
      this.tokens,
      this.roleTokens,
      this.exact,
      this.userSig,
      this.userHas,
      this.dialogueSig,
      this.dialogueHas,
    ];
  }

  private reserve(records: number): void {
    for (const g of this.grows()) g.reserve(records);
  }

  /**
   * Adds one record (a non-blank line): its diagnostics (from the validator's per-record check),
   * its text, its index in the file and a number unique to it there (its index too: it picks the
   * Self-ROUGE sample, whatever the parts records are measured in and whatever holds them, so that
   * the same records give the same sample in JSONL, a JSON array or Parquet). `parsed`, when
   * given, is the value JSON.parse gives for `text` (the validator's, so that it is parsed once).
   */
  addLine(
    text: string,
    line: number,
    where: number,
    diagnostics: readonly Diagnostic[],
    count: TokenCounter,
    exact = NaN,
    parsed?: unknown,
  ): void {
    const i = this.n;
    this.reserve(i + 1);
    this.n++;
    this.line.data[i] = line;
    this.exact.data[i] = exact;
    for (let d = 0; d < diagnostics.length; d++) {
      const code = diagnostics[d].code;
      let again = false;
      for (let e = 0; e < d && !again; e++) again = diagnostics[e].code === code;
      if (!again) (this.problems[code] ??= []).push(i);
    }
    // The layout's style (how the line was written) is not needed here: its pass is skipped.
    const r = readLine(text, parsed);
    if (!r.ok) {
      this.format.data[i] = -1;
      this.kind.data[i] = -1;
      return;
    }
    const s = r.sample;
    this.format.data[i] = FORMAT_IDS.indexOf(r.layout.format);
    this.kind.data[i] = s.kind === 'dialogue' ? 0 : 1;
    this.turns.data[i] = s.kind === 'dialogue' ? s.turns.length : s.prompt.length + s.chosen.length;
    const R = ROLE_SLOTS.length;
    const rt = this.roleTokens.data;
    const all = this.texts;
    const isUser = this.isUser;
    all.length = isUser.length = 0;
    let total = 0;
    if (s.system !== undefined && s.system !== '') {
      const t = count(s.system);
      rt[i * R] += t;
      total += t;
      all.push(s.system);
      isUser.push(false);
    }
    const add = (turns: readonly Turn[]): void => {
      for (const turn of turns) {
        const text = contentText(turn.content);
        if (!text) continue;
        const t = count(text);
        const slot = ROLE_SLOTS.indexOf(turn.role);
        rt[i * R + (slot < 0 ? OTHER : slot)] += t;
        total += t;
        all.push(text);
        isUser.push(turn.role === 'user');
      }
    };
    if (s.kind === 'dialogue') add(s.turns);
    else {
      add(s.prompt);
      add(s.chosen);
      add(s.rejected);
    }
    this.tokens.data[i] = total;
    const t0 = performance.now();
    const has = signTexts(all, isUser, this.userSig.data, this.dialogueSig.data, i * SIG_HASHES);
    this.userHas.data[i] = has & 1;
    this.dialogueHas.data[i] = has >> 1;
    this.signMs += performance.now() - t0;
    if (s.kind === 'dialogue') this.paper(s.turns, where);
  }

  /** A blank line: counted, not a record. */
  addBlank(): void {
    this.blank++;
  }

  /** The Parrot paper's Table 1 measures of one dialogue (as Table1Collector counts them). */
  private paper(turns: readonly Turn[], where: number): void {
    let k = 0;
    for (let i = 0; i < turns.length; i++) {
      const t = turns[i];
      if (t.role !== 'user') continue;
      if (k === 0) this.sessions++;
      const text = contentText(t.content);
      this.queries++;
      // An earlier user turn: the history is not empty.
      if (k > 0 && dependsOnContext(text)) this.dependent++;
      // Bottom-k sampling on a hash of the query's place: a uniform sample that does not depend
      // on how the file was split between workers.
      const key = hashString(`${where}:${k}`, 0x2545f491);
      if (this.sample.length < SELF_ROUGE_SAMPLE || key < this.sample[SELF_ROUGE_SAMPLE - 1].key) {
        this.sample.push({ key, tokens: rougeTokens(text) });
        // Sorted when first full, so that sample[SELF_ROUGE_SAMPLE - 1] is the greatest key kept.
        if (this.sample.length === SELF_ROUGE_SAMPLE || this.sample.length > 2 * SELF_ROUGE_SAMPLE)
          this.trimSample();
      }
      k++;
    }
  }

  private trimSample(): void {
    this.sample.sort((a, b) => a.key - b.key);
    this.sample.length = Math.min(this.sample.length, SELF_ROUGE_SAMPLE);
  }

  /** Appends the facts of the next part of the file; its lines start at `lineBase`. */
  append(c: FactsChunk, lineBase: number): void {
    const base = this.n;
    this.reserve(base + c.n);
    const R = ROLE_SLOTS.length;
    for (let i = 0; i < c.n; i++) this.line.data[base + i] = c.line[i] + lineBase;
    this.format.data.set(c.format, base);
    this.kind.data.set(c.kind, base);
    this.turns.data.set(c.turns, base);
    this.tokens.data.set(c.tokens, base);
    this.roleTokens.data.set(c.roleTokens, base * R);
    this.exact.data.set(c.exact, base);
    this.userSig.data.set(c.userSig, base * SIG_HASHES);
    this.userHas.data.set(c.userHas, base);
    this.dialogueSig.data.set(c.dialogueSig, base * SIG_HASHES);
    this.dialogueHas.data.set(c.dialogueHas, base);
    for (const [code, recs] of Object.entries(c.problems)) {
      const to = (this.problems[code] ??= []);
      for (const r of recs) to.push(r + base);
    }
    this.n += c.n;
    this.lines += c.lines;
    this.blank += c.blank;
    this.sessions += c.sessions;
    this.queries += c.queries;
    this.dependent += c.dependent;
    this.signMs += c.signMs;
    this.busyMs += c.busyMs;
    this.sample.push(...c.sample);
    this.trimSample();
  }

  /**
   * The facts so far, as arrays of exactly n records: copies (to transfer), or views of the
   * builder's own arrays (no copy; valid until the next add or append).
   */
  done(copy = true): FactsChunk {
    this.trimSample();
    const n = this.n;
    return {
      n,
      lines: this.lines,
      blank: this.blank,
      line: this.line.done(n, copy),
      format: this.format.done(n, copy),
      kind: this.kind.done(n, copy),
      turns: this.turns.done(n, copy),
      tokens: this.tokens.done(n, copy),
      roleTokens: this.roleTokens.done(n, copy),
      exact: this.exact.done(n, copy),
      userSig: this.userSig.done(n, copy),
      userHas: this.userHas.done(n, copy),
      dialogueSig: this.dialogueSig.done(n, copy),
      dialogueHas: this.dialogueHas.done(n, copy),
      problems: this.problems,
      sessions: this.sessions,
      queries: this.queries,
      dependent: this.dependent,
      sample: this.sample,
      signMs: this.signMs,
      busyMs: this.busyMs,
    };
  }
}

/** The buffers of a chunk, to transfer it from a worker without a copy. */
export function chunkTransferList(c: FactsChunk): ArrayBuffer[] {
  return [
    c.line,
    c.format,
    c.kind,
    c.turns,
    c.tokens,
    c.roleTokens,
    c.exact,
    c.userSig,
    c.userHas,
    c.dialogueSig,
    c.dialogueHas,
  ].map((a) => a.buffer as ArrayBuffer);
}
