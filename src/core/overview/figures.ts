/**
 * The figures of a dataset overview, computed from per-record facts: records by format, turns and
 * tokens per record (overall and per role) as histograms with percentiles, problems by rule, exact
 * duplicates and near-duplicate clusters, and the Parrot paper's Table 1 measures. `selectLines`
 * turns a bar or a cluster back into the lines of its records.
 */
import type { FormatId } from '../model';
import { selfRouge } from '../stats/table1';
import { FORMAT_IDS } from '../validate/schemas';
import { ROLE_SLOTS, type FactsChunk } from './facts';
import { LshScratch, lshClusters, radixOrder } from './minhash';

/** Values lo <= v < hi. */
export interface Bin {
  lo: number;
  hi: number;
  count: number;
}

export interface Histogram {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  bins: Bin[];
}

export interface Cluster {
  size: number;
  /** Indices of its first records (at most CLUSTER_LINES): 0-based lines, elements or rows. */
  lines: number[];
}

export interface DuplicateGroups {
  /** Clusters of two or more records. */
  clusters: number;
  /** Records in them. */
  records: number;
  /** Records beyond the first of each cluster (what dropping copies would remove). */
  redundant: number;
  /** The largest clusters (at most TOP_CLUSTERS), largest first. */
  top: Cluster[];
}

export interface PaperMeasures {
  sessions: number;
  queries: number;
  turnsPerSession: number | null;
  /** Offline context detector (src/core/parrot/context.ts). */
  contextDependentPerSession: number | null;
  selfRouge: number | null;
  selfRougeSample: number;
}

export interface OverviewFigures {
  /** Non-blank lines: records and lines that are not records. */
  rows: number;
  lines: number;
  blank: number;
  /** Lines of a known format. */
  records: number;
  /** Lines that are not a record of a known format (invalid JSON, unknown shape). */
  notRecords: number;
  dialogues: number;
  preferencePairs: number;
  tokenizer: string;
  formats: { format: FormatId; count: number }[];
  turns: Histogram | null;
  tokens: Histogram | null;
  roles: { role: string; histogram: Histogram }[];
  /** Records with at least one problem of each rule (per-record rules of the validator). */
  problems: { code: string; records: number }[];
  duplicates: {
    /** Similarity (estimated Jaccard of word 3-shingles) from which records are near-duplicates. */
    threshold: number;
    exact: DuplicateGroups;
    userQuestions: DuplicateGroups;
    dialogues: DuplicateGroups;
  };
  paper: PaperMeasures;
}

export const MAX_BINS = 30;
export const TOP_CLUSTERS = 50;
export const CLUSTER_LINES = 20;
export const DEFAULT_THRESHOLD = 0.8;

/** The nearest-rank percentile of sorted values: the least v with at least p% of values <= v. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[Math.min(n, rank) - 1];
}

function niceWidth(raw: number): number {
  const exp = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * exp >= raw) return m * exp;
  return 10 * exp;
}

/**
 * A histogram of integer values: one bin per value when they span fewer than MAX_BINS values;
 * otherwise bins of a round width up to the 99th percentile and one last bin for the rest.
 */
export function histogram(values: ArrayLike<number>): Histogram | null {
  return values.length === 0 ? null : histogramOfSorted(Float64Array.from(values).sort());
}

/**
 * The histogram of `value(i)` for each record i of `recs` (only values above 0 when `positive`),
 * sorted in `scratch` (as long as recs): one buffer for all of an overview's histograms, where a
 * copy per histogram would leave tens of MB behind on a large file.
 */
function histogramOf(
  recs: Uint32Array,
  scratch: Uint32Array,
  value: (i: number) => number,
  positive: boolean,
): Histogram | null {
  let k = 0;
  for (let j = 0; j < recs.length; j++) {
    const v = value(recs[j]);
    if (!positive || v > 0) scratch[k++] = v;
  }
  return k === 0 ? null : histogramOfSorted(scratch.subarray(0, k).sort());
}

function histogramOfSorted(sorted: Float64Array | Uint32Array): Histogram {
  const n = sorted.length;
  const min = sorted[0];
  const max = sorted[n - 1];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const p99 = percentile(sorted, 99);
  const edges: number[] = [];
  if (max - min + 1 <= MAX_BINS) {
    for (let v = min; v <= max + 1; v++) edges.push(v);
  } else {
    const top = p99 - min + 1 < MAX_BINS / 2 ? max : p99;
    const width = niceWidth((top - min + 1) / (MAX_BINS - 1));
    let e = Math.floor(min / width) * width;
    edges.push(e);
    while (e <= top) edges.push((e += width));
    if (max >= e) edges.push(max + 1);
  }
  const bins: Bin[] = [];
  let k = 0;
  for (let b = 0; b + 1 < edges.length; b++) {
    const hi = edges[b + 1];
    let count = 0;
    while (k < n && sorted[k] < hi) {
      count++;
      k++;
    }
    bins.push({ lo: edges[b], hi, count });
  }
  return {
    count: n,
    min,
    mean: Math.round((sum / n) * 100) / 100,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99,
    max,
    bins,
  };
}

/** Everything an overview keeps: the figures and, to answer clicks, the facts and clusters. */
export interface Overview {
  figures: OverviewFigures;
  facts: FactsChunk;
  clusters: { exact: number[][]; userQuestions: number[][]; dialogues: number[][] };
}

function groups(clusters: number[][], facts: FactsChunk): DuplicateGroups {
  let records = 0;
  for (const c of clusters) records += c.length;
  return {
    clusters: clusters.length,
    records,
    redundant: records - clusters.length,
    top: clusters.slice(0, TOP_CLUSTERS).map((c) => ({
      size: c.length,
      lines: c.slice(0, CLUSTER_LINES).map((i) => facts.line[i]),
    })),
  };
}

/**
 * Clusters of records with the same conversation hash, each in record order, largest first (ties:
 * first record first). The records are ordered by the hash's 64 bits with two radix sorts in
 * typed buffers (`scratch`), where sorting an array of indices with a comparator held several
 * times their size (40 MB more on a 1.4 GB file).
 */
export function exactClusters(facts: FactsChunk, scratch = new LshScratch(facts.n)): number[][] {
  const h = facts.exact;
  const { idx, tmp, keys } = scratch;
  let m = 0;
  for (let i = 0; i < facts.n; i++) if (!Number.isNaN(h[i])) idx[m++] = i;
  const bits = new Uint32Array(2);
  const one = new Float64Array(bits.buffer);
  // Low words first, then high words (stable): equal hashes end up together, in record order.
  for (const word of [0, 1]) {
    for (let k = 0; k < m; k++) {
      const i = idx[k];
      one[0] = h[i] === 0 ? 0 : h[i]; // -0 and 0 are the same hash
      keys[i] = bits[word];
    }
    radixOrder(keys, m, idx, tmp);
  }
  const out: number[][] = [];
  for (let s = 0; s < m;) {
    let e = s + 1;
    while (e < m && h[idx[e]] === h[idx[s]]) e++;
    if (e - s > 1) out.push(Array.from(idx.subarray(s, e)));
    s = e;
  }
  out.sort((a, b) => b.length - a.length || a[0] - b[0]);
  return out;
}

function where(facts: FactsChunk, pred: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < facts.n; i++) if (pred(i)) out.push(i);
  return out;
}

/** Computes the figures from the facts of a whole file. */
export function summarize(
  facts: FactsChunk,
  tokenizer: string,
  threshold = DEFAULT_THRESHOLD,
  timings?: { minhashMs: number },
): Overview {
  const n = facts.n;
  const formatCounts = new Array<number>(FORMAT_IDS.length).fill(0);
  let dialogues = 0;
  let pairs = 0;
  let nRecs = 0;
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const f = facts.format[i];
    if (f >= 0) formatCounts[f]++;
    if (facts.kind[i] === 0) dialogues++;
    else if (facts.kind[i] === 1) pairs++;
    if (facts.kind[i] >= 0) all[nRecs++] = i;
  }
  const recs = all.subarray(0, nRecs);
  const scratch = new Uint32Array(nRecs);
  const R = ROLE_SLOTS.length;
  const roles: OverviewFigures['roles'] = [];
  for (let r = 0; r < R; r++) {
    const h = histogramOf(recs, scratch, (i) => facts.roleTokens[i * R + r], true);
    if (h) roles.push({ role: ROLE_SLOTS[r], histogram: h });
  }
  const t0 = Date.now();
  // One set of buffers for the three: on a large file, a set per pass is tens of MB left behind.
  const lsh = new LshScratch(n);
  const exact = exactClusters(facts, lsh);
  const userQuestions = lshClusters(facts.userSig, facts.userHas, n, threshold, lsh);
  const dialogueClusters = lshClusters(facts.dialogueSig, facts.dialogueHas, n, threshold, lsh);
  if (timings) timings.minhashMs += Date.now() - t0;
  const per = (x: number): number | null =>
    facts.sessions ? Math.round((x / facts.sessions) * 100) / 100 : null;
  const figures: OverviewFigures = {
    rows: n,
    lines: facts.lines,
    blank: facts.blank,
    records: dialogues + pairs,
    notRecords: n - dialogues - pairs,
    dialogues,
    preferencePairs: pairs,
    tokenizer,
    formats: FORMAT_IDS.map((format, i) => ({ format, count: formatCounts[i] }))
      .filter((f) => f.count > 0)
      .sort((a, b) => b.count - a.count),
    turns: histogramOf(recs, scratch, (i) => facts.turns[i], false),
    tokens: histogramOf(recs, scratch, (i) => facts.tokens[i], false),
    roles,
    problems: Object.entries(facts.problems)
      .map(([code, list]) => ({ code, records: list.length }))
      .sort((a, b) => b.records - a.records || (a.code < b.code ? -1 : 1)),
    duplicates: {
      threshold,
      exact: groups(exact, facts),
      userQuestions: groups(userQuestions, facts),
      dialogues: groups(dialogueClusters, facts),
    },
    paper: {
      sessions: facts.sessions,
      queries: facts.queries,
      turnsPerSession: per(facts.queries),
      contextDependentPerSession: per(facts.dependent),
      selfRouge: selfRouge(facts.sample.map((s) => s.tokens)),
      selfRougeSample: facts.sample.length,
    },
  };
  return { figures, facts, clusters: { exact, userQuestions, dialogues: dialogueClusters } };
}

/** What a click on a bar or a cluster selects. */
export type Selection =
  | { chart: 'format'; format: FormatId }
  | { chart: 'turns' | 'tokens'; bin: number }
  | { chart: 'role'; role: string; bin: number }
  | { chart: 'problem'; code: string }
  | { chart: 'exact' | 'userQuestions' | 'dialogues'; cluster: number };

/**
 * The records a selection stands for, in file order, as the dialogue editor numbers them: 0-based
 * lines of a JSONL file, elements of a JSON array, rows of a Parquet file.
 */
export function selectLines(o: Overview, sel: Selection): number[] {
  const { facts, figures } = o;
  const lines = (idx: number[]): number[] => idx.map((i) => facts.line[i]).sort((a, b) => a - b);
  const inBin = (h: Histogram | null, bin: number): ((v: number) => boolean) | undefined => {
    const b = h?.bins[bin];
    return b ? (v) => v >= b.lo && v < b.hi : undefined;
  };
  switch (sel.chart) {
    case 'format': {
      const f = FORMAT_IDS.indexOf(sel.format);
      return lines(where(facts, (i) => facts.format[i] === f));
    }
    case 'turns':
    case 'tokens': {
      const test = inBin(sel.chart === 'turns' ? figures.turns : figures.tokens, sel.bin);
      const col = sel.chart === 'turns' ? facts.turns : facts.tokens;
      return test ? lines(where(facts, (i) => facts.kind[i] >= 0 && test(col[i]))) : [];
    }
    case 'role': {
      const r = ROLE_SLOTS.indexOf(sel.role);
      const test = inBin(figures.roles.find((x) => x.role === sel.role)?.histogram ?? null, sel.bin);
      const R = ROLE_SLOTS.length;
      return test && r >= 0
        ? lines(
            where(
              facts,
              (i) =>
                facts.kind[i] >= 0 && facts.roleTokens[i * R + r] > 0 && test(facts.roleTokens[i * R + r]),
            ),
          )
        : [];
    }
    case 'problem':
      return lines(facts.problems[sel.code] ?? []);
    default:
      return lines(o.clusters[sel.chart][sel.cluster] ?? []);
  }
}
