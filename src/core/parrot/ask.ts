import type { ChatRequest, LlmClient, Usage } from '../llm/client';
import type { Dialogue } from '../model';
import { contentText } from '../model';
import { sensitiveHit } from './filter';
import { dialogueMessages, lastRole, transcript } from './messages';
import { loadTemplate, render, type Template } from './templates';
import { normalize, similarity, words } from './text';

export type AskMode = 'parrot-ask' | 'instruct';

export interface AskSettings {
  mode: AskMode;
  model: string;
  temperature: number;
  maxTokens: number;
  /** Candidates asked for (`n`). */
  n: number;
  /** Template override: the reversed-mode system prompt or the instruct prompt. */
  template?: Template;
}

export function askTemplate(mode: AskMode, overrideFile?: string): Template {
  return loadTemplate(mode === 'parrot-ask' ? 'ask-reversed-system' : 'ask-instruct', overrideFile);
}

/** The assistant's system prompt: `d.system` and any system turns (OpenAI-style files keep it as a message). */
function assistantSystem(d: Dialogue): string {
  const parts = [
    d.system ?? '',
    ...d.turns.filter((t) => t.role === 'system').map((t) => contentText(t.content)),
  ];
  return parts.filter((p) => p.trim() !== '').join('\n\n');
}

function systemBlock(d: Dialogue): string {
  const sys = assistantSystem(d);
  return sys ? `The assistant was set up with this system prompt:\n<system>\n${sys}\n</system>` : '';
}

/**
 * The request that asks for the next user question of `d`.
 * - `parrot-ask`: the history with user and assistant swapped, after the asker's system prompt,
 *   so a model trained with reversed roles replies with the next user turn.
 * - `instruct`: any chat model; the history as a transcript in one user message plus the instruction.
 */
export function buildAskRequest(d: Dialogue, s: AskSettings): ChatRequest {
  if (d.turns.filter((t) => t.role !== 'system').length === 0) {
    throw new Error('the dialogue has no turns yet — write the first user question, then ask for follow-ups');
  }
  if (lastRole(d) === 'user')
    throw new Error('the dialogue ends with a user question — answer it before asking the next one');
  const template = s.template ?? askTemplate(s.mode);
  const vars = { system_block: systemBlock(d), transcript: transcript(d.turns), system: assistantSystem(d) };
  const messages =
    s.mode === 'parrot-ask'
      ? dialogueMessages({ turns: d.turns }, { swapRoles: true, system: render(template, vars) })
      : [{ role: 'user' as const, content: render(template, vars) }];
  const req: ChatRequest = { model: s.model, messages, temperature: s.temperature, max_tokens: s.maxTokens };
  if (s.n > 1) req.n = s.n;
  return req;
}

export type RejectReason =
  'empty' | 'too-short' | 'duplicate' | 'repeats-history' | 'answer-not-question' | 'sensitive';

export interface FilterOptions {
  minChars: number;
  minWords: number;
  /** Similarity (0..1) to an earlier user question at or above which a candidate is a repeat. */
  repeatThreshold: number;
  /** Words above which text without question intent counts as an answer. */
  answerWords: number;
  /** Sensitive words and phrases (see `parseWordList`): a candidate containing one is rejected. */
  words?: readonly string[];
}

export const DEFAULT_FILTER: FilterOptions = {
  minChars: 8,
  minWords: 2,
  repeatThreshold: 0.8,
  answerWords: 60,
};

export interface Candidates {
  kept: string[];
  rejected: { text: string; reason: RejectReason }[];
}

/** Strips wrappers models add around a question: quotes, `User:` / `Question:` prefixes. */
export function cleanCandidate(raw: string): string {
  let s = raw.trim();
  s = s.replace(/^(?:\*\*)?(?:user|question|next question|human)\s*(?:\*\*)?\s*:\s*/i, '');
  const q = /^(["“'])([\s\S]*)(["”'])$/.exec(s);
  if (q && q[2] && !q[2].includes(q[1] ?? '"')) s = q[2];
  return s.trim();
}

const QUESTION_START =
  /^(?:(?:and|but|so|ok(?:ay)?|now|also|then|great|thanks|thank you|hmm|wait)[\s,!.]+)*(?:what|what's|whats|how|why|when|where|which|who|whom|whose|is|are|was|were|do|does|did|can|could|would|will|should|shall|may|might|have|has|had|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|shouldn't|please|write|rewrite|explain|describe|give|tell|show|list|make|create|compare|summarize|summarise|translate|provide|suggest|help|let's|let|add|change|use|convert|generate|implement|modify|fix|expand|elaborate|continue|try|now|also|any|could)\b/i;
const ANSWER_START =
  /^(?:sure|certainly|of course|absolutely|here(?:'s| is| are)|as an ai|i'd be happy|i would be happy|great question|in summary|to answer|the answer is|yes,|no,)/i;

/** True when a text reads as a question or request (not as an answer). */
export function hasQuestionIntent(text: string): boolean {
  const t = text.trim();
  if (t.includes('?')) return true;
  return QUESTION_START.test(t);
}

/**
 * Heuristic for "the asker answered instead of asking": an assistant-style opening, or long
 * text (> answerWords words, or several paragraphs / a code block) without question intent.
 */
export function looksLikeAnswer(text: string, answerWords = DEFAULT_FILTER.answerWords): boolean {
  const t = text.trim();
  if (ANSWER_START.test(t)) return true;
  const long = words(t).length > answerWords || /\n\s*\n/.test(t) || t.includes('```');
  if (!long) return false;
  if (!hasQuestionIntent(t)) return true;
  // Long text whose only question mark sits inside a long body is still an answer ("…, right?").
  const firstQ = t.indexOf('?');
  return firstQ > 0 && words(t.slice(0, firstQ)).length > answerWords * 2;
}

/** Keeps usable candidates and says why each other one was dropped. */
export function filterCandidates(
  raw: readonly string[],
  d: Dialogue,
  opts: Partial<FilterOptions> = {},
): Candidates {
  const o = { ...DEFAULT_FILTER, ...opts };
  const earlier = d.turns.filter((t) => t.role === 'user').map((t) => contentText(t.content));
  const out: Candidates = { kept: [], rejected: [] };
  const seen = new Set<string>();
  for (const r of raw) {
    const text = cleanCandidate(r);
    const norm = normalize(text);
    let reason: RejectReason | undefined;
    if (norm === '') reason = 'empty';
    else if (text.length < o.minChars || words(text).length < o.minWords) reason = 'too-short';
    else if (seen.has(norm)) reason = 'duplicate';
    else if (earlier.some((q) => normalize(q) === norm || similarity(q, text) >= o.repeatThreshold))
      reason = 'repeats-history';
    else if (looksLikeAnswer(text, o.answerWords)) reason = 'answer-not-question';
    else if (sensitiveHit(text, o.words ?? []) !== undefined) reason = 'sensitive';
    if (norm !== '') seen.add(norm);
    if (reason) out.rejected.push({ text: r, reason });
    else out.kept.push(text);
  }
  return out;
}

export interface AskResult extends Candidates {
  request: ChatRequest;
  usage: Usage;
  requests: number;
}

export interface AskOptions {
  filter?: Partial<FilterOptions>;
  signal?: AbortSignal;
}

/** Asks for `settings.n` follow-up candidates and filters them. */
export async function ask(
  client: LlmClient,
  d: Dialogue,
  settings: AskSettings,
  opts: AskOptions = {},
): Promise<AskResult> {
  const request = buildAskRequest(d, settings);
  const r = await client.chat(request, { signal: opts.signal });
  return { ...filterCandidates(r.texts, d, opts.filter), request, usage: r.usage, requests: r.requests };
}
