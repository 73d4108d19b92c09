/**
 * The Parrot paper's Table 1 measures for a dialogue dataset: turns per session, context-dependent
 * queries per session and Self-ROUGE (query diversity). Streamed: one `add()` per line; Self-ROUGE
 * works on a fixed-seed reservoir sample of user queries so it stays fast on any file size.
 */
import { parseRecord } from '../formats';
import type { LlmClient } from '../llm/client';
import { isCancel } from '../llm/errors';
import { contentText, type Dialogue } from '../model';
import { buildJudgeRequest, dependsOnContext, parseJudgeReply } from '../parrot/context';
import type { Template } from '../parrot/templates';

/** User queries sampled for Self-ROUGE (reservoir sampling, seed `SELF_ROUGE_SEED`). */
export const SELF_ROUGE_SAMPLE = 300;
export const SELF_ROUGE_SEED = 20231011;
/** Tokens of a query used for ROUGE-L (longer queries are cut). */
const MAX_TOKENS = 64;

export interface Table1Stats {
  sessions: number;
  /** User queries per session (a "turn" is one user query and its answer). */
  turnsPerSession: number | null;
  /** Queries after the first flagged by the offline context detector, per session. */
  contextDependentPerSession: number | null;
  /** 100 x mean pairwise ROUGE-L F1 among the sampled user queries; lower = more diverse. */
  selfRouge: number | null;
  /** Queries that Self-ROUGE was computed on (all of them when fewer than the sample size). */
  selfRougeSample: number;
  queries: number;
  /** With an LLM judge (`judgeTable1`): its figure and what it was computed on. */
  judged?: JudgedDependence;
}

export interface JudgedDependence {
  /** Queries after the first that the judge called DEPENDENT, per judged session. */
  contextDependentPerSession: number | null;
  model: string;
  /** Sessions judged (a fixed-seed sample of all sessions, or all of them). */
  sessions: number;
  queries: number;
  /** Queries whose verdict could not be read even after the retries (left out of the figure). */
  unreadable: number;
  requests: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lower-cased word tokens (letters and digits in any script), at most MAX_TOKENS. */
export function rougeTokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_TOKENS);
}

/** ROUGE-L F1 (beta = 1) of two token lists: LCS length over their lengths. */
export function rougeL(a: readonly string[], b: readonly string[]): number {
  const ids = new Map<string, number>();
  const id = (t: string): number => {
    let v = ids.get(t);
    if (v === undefined) ids.set(t, (v = ids.size));
    return v;
  };
  return rougeLIds(Int32Array.from(a, id), Int32Array.from(b, id), new Int32Array(b.length + 1));
}

/** ROUGE-L F1 of two interned token arrays; `row` is scratch space of at least b.length + 1. */
function rougeLIds(a: Int32Array, b: Int32Array, row: Int32Array): number {
  if (!a.length || !b.length) return 0;
  row.fill(0, 0, b.length + 1);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    let diag = 0; // row[j - 1] of the previous row
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = x === b[j - 1] ? diag + 1 : up > row[j - 1] ? up : row[j - 1];
      diag = up;
    }
  }
  return f1(row[b.length], a.length, b.length);
}

/** ROUGE-L F1 from the LCS length of two token lists of lengths `m` (a) and `n` (b). */
function f1(lcs: number, m: number, n: number): number {
  if (lcs === 0) return 0;
  const p = lcs / n;
  const r = lcs / m;
  return (2 * p * r) / (p + r);
}

/**
 * LCS length of `a` (at most 64 tokens) and `b`, bit-parallel (Hyyrö 2004): bit i of V is 0 where
 * the LCS of b's prefix and a's prefix grows at a[i]; one add per token of b instead of a row of
 * the table. `masks` holds, for each token id, the positions of a where it occurs (two 32-bit
 * halves). The same length as the table rougeLIds fills.
 */
function lcsBits(m: number, b: Int32Array, masks: Uint32Array): number {
  let lo = m >= 32 ? 0xffffffff : (2 ** m - 1) >>> 0;
  let hi = m > 32 ? (m >= 64 ? 0xffffffff : (2 ** (m - 32) - 1) >>> 0) : 0;
  for (let j = 0; j < b.length; j++) {
    const k = b[j] * 2;
    const ulo = (lo & masks[k]) >>> 0;
    const uhi = (hi & masks[k + 1]) >>> 0;
    if (ulo === 0 && uhi === 0) continue;
    // V = (V + U) | (V - U); U is a subset of V, so V - U = V & ~U.
    const sum = lo + ulo;
    const carry = sum > 0xffffffff ? 1 : 0;
    const slo = sum >>> 0;
    const shi = (hi + uhi + carry) >>> 0;
    lo = (slo | (lo & ~ulo)) >>> 0;
    hi = (shi | (hi & ~uhi)) >>> 0;
  }
  const mlo = m >= 32 ? 0xffffffff : (2 ** m - 1) >>> 0;
  const mhi = m > 32 ? (m >= 64 ? 0xffffffff : (2 ** (m - 32) - 1) >>> 0) : 0;
  return m - popcount((lo & mlo) >>> 0) - popcount((hi & mhi) >>> 0);
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** 100 x the mean ROUGE-L F1 over all pairs of `queries`; null with fewer than 2. */
export function selfRouge(queries: readonly string[][]): number | null {
  if (queries.length < 2) return null;
  const ids = new Map<string, number>();
  const arr = queries.map((q) =>
    Int32Array.from(q, (t) => {
      let v = ids.get(t);
      if (v === undefined) ids.set(t, (v = ids.size));
      return v;
    }),
  );
  const row = new Int32Array(MAX_TOKENS + 1);
  const masks = new Uint32Array(ids.size * 2);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < arr.length; i++) {
    const a = arr[i];
    const bits = a.length <= 64;
    if (bits) for (let k = 0; k < a.length; k++) masks[a[k] * 2 + (k >> 5)] |= 1 << (k & 31);
    for (let j = i + 1; j < arr.length; j++) {
      const b = arr[j];
      if (a.length && b.length)
        sum += bits ? f1(lcsBits(a.length, b, masks), a.length, b.length) : rougeLIds(a, b, row);
      pairs++;
    }
    if (bits) for (let k = 0; k < a.length; k++) masks[a[k] * 2 + (k >> 5)] = 0;
  }
  return Math.round((sum / pairs) * 10000) / 100;
}

/**
 * Reservoir sampling (algorithm R) with a fixed seed: `offer(n)` says which slot the n-th item
 * (1-based) takes, or -1 when it is not kept. Every item has the same chance to end in the sample,
 * and the same sequence of offers always keeps the same items, whichever thread saw them.
 */
export class Reservoir {
  private readonly random: () => number;
  size = 0;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  offer(n: number): number {
    if (this.size < this.capacity) return this.size++;
    const j = Math.floor(this.random() * n);
    return j < this.capacity ? j : -1;
  }
}

/** The dialogue record of a line, if it is one (what Table 1 measures). */
export function dialogueOf(text: string): Dialogue | undefined {
  if (text.trim() === '') return undefined;
  const r = parseRecord(text, undefined, { style: false });
  return r.ok && r.sample.kind === 'dialogue' ? r.sample : undefined;
}

/** What Table 1 counts of one dialogue: its user queries, and how many after the first depend on the context. */
export function measureSession(d: Dialogue): { queries: string[]; dependent: number } | undefined {
  const queries: string[] = [];
  for (const t of d.turns) if (t.role === 'user') queries.push(contentText(t.content));
  return queries.length ? { queries, dependent: dependentQueries(queries) } : undefined;
}

/**
 * How many of a session's queries after the first depend on the context: the offline detector's
 * verdict with a history (`dependsOnContext`, which stops once the score is known and lists no cues).
 */
export function dependentQueries(queries: readonly string[]): number {
  let dependent = 0;
  for (let i = 1; i < queries.length; i++) if (dependsOnContext(queries[i])) dependent++;
  return dependent;
}

export class Table1Collector {
  private sessions = 0;
  private queries = 0;
  private dependent = 0;
  private readonly sample: string[][] = [];
  private readonly reservoir: Reservoir;
  /** Sessions kept for an LLM judge (reservoir, its own seed), when asked for. */
  readonly judgeSample: Dialogue[] = [];
  private readonly judgeReservoir: Reservoir;

  constructor(
    sampleSize = SELF_ROUGE_SAMPLE,
    readonly judgeSampleSize = 0,
  ) {
    this.reservoir = new Reservoir(sampleSize, SELF_ROUGE_SEED);
    this.judgeReservoir = new Reservoir(judgeSampleSize, SELF_ROUGE_SEED + 1);
  }

  /** One line of the file; lines that are not dialogue records are ignored here. */
  addLine(text: string): void {
    const d = dialogueOf(text);
    if (d) this.addDialogue(d);
  }

  addDialogue(d: Dialogue): void {
    const m = measureSession(d);
    if (!m) return;
    this.sessions++;
    if (this.judgeSampleSize > 0) {
      const j = this.judgeReservoir.offer(this.sessions);
      if (j >= 0) this.judgeSample[j] = d;
    }
    this.dependent += m.dependent;
    for (const text of m.queries) {
      const j = this.reservoir.offer(++this.queries);
      if (j >= 0) this.sample[j] = rougeTokens(text);
    }
  }

  /**
   * Adds sessions measured elsewhere (the stats workers): their counts, and for each of their
   * queries in file order, the text when the Self-ROUGE reservoir keeps it. `queryText(n)` gives the
   * n-th (0-based) query of these sessions; it is called only for the few queries kept.
   */
  async addMeasured(
    sessions: number,
    queries: number,
    dependent: number,
    queryText: (n: number) => Promise<string>,
  ): Promise<void> {
    this.sessions += sessions;
    this.dependent += dependent;
    const kept = new Map<number, number>(); // slot -> query
    for (let n = 0; n < queries; n++) {
      const j = this.reservoir.offer(++this.queries);
      if (j >= 0) kept.set(j, n);
    }
    for (const [j, n] of kept) this.sample[j] = rougeTokens(await queryText(n));
  }

  result(): Table1Stats {
    const per = (x: number): number | null =>
      this.sessions ? Math.round((x / this.sessions) * 100) / 100 : null;
    return {
      sessions: this.sessions,
      turnsPerSession: per(this.queries),
      contextDependentPerSession: per(this.dependent),
      selfRouge: selfRouge(this.sample),
      selfRougeSample: this.sample.length,
      queries: this.queries,
    };
  }
}

export interface Table1Judge {
  model: string;
  /** Extra requests for a verdict that is neither DEPENDENT nor INDEPENDENT (default 1). */
  retries?: number;
  template?: Template;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Context-dependent queries per session as the paper measures them (judged by an LLM): every user
 * query after the first of each session in `sessions` is judged with the history before it.
 */
export async function judgeTable1(
  client: LlmClient,
  sessions: readonly Dialogue[],
  judge: Table1Judge,
): Promise<JudgedDependence> {
  const jobs: { d: Dialogue; at: number }[] = [];
  for (const d of sessions) {
    let k = 0;
    d.turns.forEach((t, i) => {
      if (t.role === 'user' && k++ > 0) jobs.push({ d, at: i });
    });
  }
  const r: JudgedDependence = {
    contextDependentPerSession: null,
    model: judge.model,
    sessions: sessions.length,
    queries: jobs.length,
    unreadable: 0,
    requests: 0,
  };
  let dependent = 0;
  let done = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const history = job.d.turns.slice(0, job.at).filter((t) => t.role !== 'system');
      const req = buildJudgeRequest(
        contentText(job.d.turns[job.at]?.content ?? ''),
        history,
        judge.model,
        judge.template,
      );
      let verdict: boolean | undefined;
      for (let attempt = 0; attempt <= (judge.retries ?? 1) && verdict === undefined; attempt++) {
        r.requests++;
        try {
          verdict = parseJudgeReply((await client.chat(req, { signal: judge.signal })).texts[0] ?? '');
        } catch (e) {
          if (isCancel(e)) throw e;
          break; // a failed request counts as unreadable, as a reply that does not parse
        }
      }
      if (verdict === undefined) r.unreadable++;
      else if (verdict) dependent++;
      judge.onProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, judge.concurrency ?? 4) }, worker));
  r.contextDependentPerSession = sessions.length
    ? Math.round((dependent / sessions.length) * 100) / 100
    : null;
  return r;
}
