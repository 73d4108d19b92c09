/**
 * What a cutoff (LLaMA-Factory `cutoff_len`, TRL `max_length`) does to a record: trainers keep
 * the first `cutoff` tokens of the rendered conversation and drop the rest.
 */
import type { Sample } from '../model';
import { recordTokens, type RenderedConversation, type TurnTokens } from './lengths';
import type { ChatTokenizer } from './tokenizer';

export type CutKind = 'assistant-cut' | 'prompt-over' | 'pair-identical' | 'pair-empty';

export interface CutPoint {
  side?: 'chosen' | 'rejected';
  /** The turn where the first dropped token lies (index in the conversation's turns; -1: system). */
  turn: number;
  role: string;
  /** Where in that turn's content the cut falls (UTF-16 offset), when it falls in its content. */
  contentOffset?: number;
  /** Tokens of that turn kept / in all. */
  kept: number;
  of: number;
}

export interface CutFinding {
  kind: CutKind;
  message: string;
  /** Where the cut falls (for prompt-over: where the prompt passes the cutoff). */
  at: CutPoint;
}

export interface CutoffResult {
  /** Tokens of the record (a pair: its longer side). */
  tokens: number;
  over: boolean;
  findings: CutFinding[];
  conversations: RenderedConversation[];
}

function turnAt(c: RenderedConversation, token: number): TurnTokens | undefined {
  return c.turns.find((t) => t.tokenStart <= token && token < t.tokenEnd);
}

function label(t: TurnTokens): string {
  return t.turn === -1 ? 'the system prompt' : `turn ${t.turn + 1} (${t.role})`;
}

/** Where token number `token` (the first one dropped) lies. */
export function cutPoint(tok: ChatTokenizer, c: RenderedConversation, token: number): CutPoint | undefined {
  const t = turnAt(c, token);
  if (!t) return undefined;
  const p: CutPoint = {
    turn: t.turn,
    role: t.role,
    kept: token - t.tokenStart,
    of: t.tokenEnd - t.tokenStart,
  };
  if (c.side) p.side = c.side;
  if (t.located) {
    const ch = tok.tokenStart(c.text, token);
    if (ch >= t.contentStart && ch < t.contentEnd) p.contentOffset = ch - t.contentStart;
  }
  return p;
}

function lastAssistant(c: RenderedConversation): TurnTokens | undefined {
  for (let i = c.turns.length - 1; i >= 0; i--) if (c.turns[i]?.role === 'assistant') return c.turns[i];
  return undefined;
}

export function checkCutoff(tok: ChatTokenizer, sample: Sample, cutoff: number): CutoffResult {
  const convs = recordTokens(tok, sample);
  const tokens = Math.max(...convs.map((c) => c.tokens));
  const findings: CutFinding[] = [];
  const res: CutoffResult = { tokens, over: tokens > cutoff, findings, conversations: convs };
  if (!res.over) return res;
  if (sample.kind === 'dialogue') {
    const c = convs[0];
    const a = lastAssistant(c);
    if (!a) return res;
    if (a.bodyTokenStart >= cutoff) {
      const at = cutPoint(tok, c, cutoff);
      if (at)
        findings.push({
          kind: 'prompt-over',
          at,
          message: `the prompt alone is ${a.bodyTokenStart} tokens (cutoff ${cutoff}): the last assistant turn (turn ${a.turn + 1}) is cut off whole; the cut falls in ${label(turnAt(c, cutoff) as TurnTokens)}`,
        });
    } else if (a.tokenEnd > cutoff) {
      const at = cutPoint(tok, c, cutoff);
      if (at)
        findings.push({
          kind: 'assistant-cut',
          at,
          message: `the last assistant turn (turn ${a.turn + 1}) is cut after ${cutoff - a.bodyTokenStart} of its ${a.tokenEnd - a.bodyTokenStart} tokens (record ${c.tokens} tokens, cutoff ${cutoff})`,
        });
    }
    return res;
  }
  const [ch, rj] = convs as [RenderedConversation, RenderedConversation];
  const answerStart = (c: RenderedConversation): number =>
    c.turns.find((t) => t.turn >= c.promptTurns)?.bodyTokenStart ?? c.tokens;
  const prompt = Math.min(answerStart(ch), answerStart(rj));
  if (prompt >= cutoff) {
    const at = cutPoint(tok, ch, cutoff);
    if (at)
      findings.push({
        kind: 'pair-empty',
        at,
        message: `the prompt alone is ${prompt} tokens (cutoff ${cutoff}): chosen and rejected are both empty after truncation`,
      });
    return res;
  }
  // Both sides cut at the cutoff: the pair teaches nothing when what is kept is the same.
  const keep = (c: RenderedConversation): string =>
    c.tokens > cutoff ? c.text.slice(0, tok.tokenStart(c.text, cutoff)) : c.text;
  if (ch.tokens > cutoff && rj.tokens > cutoff && keep(ch) === keep(rj)) {
    const at = cutPoint(tok, rj, cutoff);
    if (at)
      findings.push({
        kind: 'pair-identical',
        at,
        message: `chosen and rejected are identical after truncation to ${cutoff} tokens: they differ only after token ${cutoff} (chosen ${ch.tokens}, rejected ${rj.tokens} tokens)`,
      });
    return res;
  }
  const longer = ch.tokens >= rj.tokens ? ch : rj;
  const a = lastAssistant(longer);
  const at = cutPoint(tok, longer, cutoff);
  if (a && at && a.tokenEnd > cutoff)
    findings.push({
      kind: 'assistant-cut',
      at,
      message: `the ${longer.side ?? 'chosen'} answer is cut after ${cutoff - a.bodyTokenStart} of its ${a.tokenEnd - a.bodyTokenStart} tokens (${longer.tokens} tokens, cutoff ${cutoff})`,
    });
  return res;
}
