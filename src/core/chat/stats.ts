/**
 * Dataset figures in a model's own tokens (its chat template and tokenizer), line by line: tokens
 * per record with percentiles, tokens per role, and with a cutoff the records over it and what
 * truncation does to them.
 */
import { parseRecord } from '../formats';
import type { Sample } from '../model';
import { checkCutoff, type CutKind } from './cutoff';
import { recordTokens, type RenderedConversation } from './lengths';
import type { ChatTokenizer } from './tokenizer';

export interface ChatTokenStats {
  tokenizer: string;
  records: number;
  /** Records the template could not render (raise_exception, a missing variable). */
  failed: { count: number; examples: { line: number; message: string }[] };
  total: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Body tokens (what each turn says, with its end-of-turn token) per role the template saw. */
  roles: Record<string, number>;
  cutoff?: {
    length: number;
    over: number;
    /** Lines (1-based) of the records over the cutoff: the first 1000. */
    overLines: number[];
    findings: Record<CutKind, number>;
  };
}

export interface RecordTokens {
  line: number;
  tokens: number;
}

function percentile(sorted: Float64Array, q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
}

export class ChatTokenCollector {
  private readonly counts: number[] = [];
  private readonly s: ChatTokenStats;

  constructor(
    private readonly tok: ChatTokenizer,
    private readonly cutoff?: number,
    private readonly perRecord?: (r: RecordTokens) => void,
  ) {
    this.s = {
      tokenizer: tok.name,
      records: 0,
      failed: { count: 0, examples: [] },
      total: 0,
      mean: null,
      p50: null,
      p90: null,
      p99: null,
      max: null,
      roles: {},
    };
    if (cutoff !== undefined)
      this.s.cutoff = {
        length: cutoff,
        over: 0,
        overLines: [],
        findings: { 'assistant-cut': 0, 'prompt-over': 0, 'pair-identical': 0, 'pair-empty': 0 },
      };
  }

  /** Adds one line (1-based `line`); lines that are not records are skipped. */
  addLine(text: string, line: number): void {
    if (!text.trim()) return;
    const r = parseRecord(text);
    if (r.ok) this.add(r.sample, line);
  }

  add(sample: Sample, line: number): void {
    let convs: RenderedConversation[];
    const s = this.s;
    try {
      if (s.cutoff && this.cutoff !== undefined) {
        const c = checkCutoff(this.tok, sample, this.cutoff);
        convs = c.conversations;
        if (c.over) {
          s.cutoff.over++;
          if (s.cutoff.overLines.length < 1000) s.cutoff.overLines.push(line);
        }
        for (const f of c.findings) s.cutoff.findings[f.kind]++;
      } else convs = recordTokens(this.tok, sample);
    } catch (e) {
      s.failed.count++;
      if (s.failed.examples.length < 100)
        s.failed.examples.push({ line, message: e instanceof Error ? e.message : String(e) });
      return;
    }
    const tokens = Math.max(...convs.map((c) => c.tokens));
    s.records++;
    s.total += tokens;
    this.counts.push(tokens);
    // Roles from the first conversation (for a pair: the prompt and the chosen answer).
    for (const t of convs[0]?.turns ?? [])
      s.roles[t.role] = (s.roles[t.role] ?? 0) + t.tokenEnd - t.bodyTokenStart;
    this.perRecord?.({ line, tokens });
  }

  result(): ChatTokenStats {
    const sorted = Float64Array.from(this.counts).sort();
    const out = structuredClone(this.s);
    out.mean = sorted.length ? out.total / sorted.length : null;
    out.p50 = percentile(sorted, 0.5);
    out.p90 = percentile(sorted, 0.9);
    out.p99 = percentile(sorted, 0.99);
    out.max = sorted.length ? (sorted[sorted.length - 1] ?? null) : null;
    return out;
  }
}
