import type { ChatMessage, ChatRequest, LlmClient } from '../llm/client';
import { isCancel } from '../llm/errors';
import { contentText, type CapoStrategy, type Dialogue, type PreferencePair, type Turn } from '../model';
import { buildJudgeRequest, contextDependence, parseJudgeReply } from './context';
import { buildAnswerRequest } from './extend';
import { dialogueMessages, turnText } from './messages';
import { loadTemplate, render, type Template } from './templates';
import { overlap, similarity } from './text';

export const CAPO_STRATEGIES: readonly CapoStrategy[] = ['neglect', 'hallucinate', 'misread'];

export interface CapoSettings {
  model: string;
  temperature: number;
  maxTokens: number;
  templates?: { hallucinate?: Template; misread?: Template };
}

/** Where the pair came from: file, 1-based record (line) number. */
export interface CapoSource {
  file: string;
  record: number;
}

/** The part of the history a misread request points the model at. */
export interface MisreadTarget {
  /** 0-based index in `dialogue.turns`. */
  index: number;
  role: Turn['role'];
  text: string;
}

export interface CapoRequest {
  strategy: CapoStrategy;
  request: ChatRequest;
  templateVersion?: string;
  misreadTarget?: MisreadTarget;
}

/** Checks that `assistantIndex` is an assistant turn answering a user turn; returns the user turn index. */
export function userIndexFor(d: Dialogue, assistantIndex: number): number {
  const a = d.turns[assistantIndex];
  if (!a || a.role !== 'assistant') throw new Error(`turn ${assistantIndex + 1} is not an assistant turn`);
  const u = d.turns[assistantIndex - 1];
  if (!u || u.role !== 'user') throw new Error(`turn ${assistantIndex + 1} does not answer a user turn`);
  return assistantIndex - 1;
}

/** Context neglect: the request holds ONLY the current user turn — no system prompt, no history. */
export function buildNeglectRequest(d: Dialogue, assistantIndex: number, s: CapoSettings): CapoRequest {
  const u = d.turns[userIndexFor(d, assistantIndex)];
  return {
    strategy: 'neglect',
    request: {
      model: s.model,
      messages: [{ role: 'user', content: turnText(u) }],
      temperature: s.temperature,
      max_tokens: s.maxTokens,
    },
  };
}

/** Context hallucination: history deleted; the instruction tells the model to assume what references mean. */
export function buildHallucinateRequest(d: Dialogue, assistantIndex: number, s: CapoSettings): CapoRequest {
  const u = d.turns[userIndexFor(d, assistantIndex)];
  const t = s.templates?.hallucinate ?? loadTemplate('capo-hallucinate');
  const messages: ChatMessage[] = [
    { role: 'system', content: render(t, {}) },
    { role: 'user', content: turnText(u) },
  ];
  return {
    strategy: 'hallucinate',
    request: { model: s.model, messages, temperature: s.temperature, max_tokens: s.maxTokens },
    templateVersion: t.version,
  };
}

/**
 * The earlier turn a misread points at: the reference's likely target is the exchange just
 * before the current question; among the other earlier turns (user or assistant), the one least
 * similar to that target wins, the earliest on ties. Deterministic.
 */
export function chooseMisreadTarget(d: Dialogue, assistantIndex: number): MisreadTarget | undefined {
  const ui = userIndexFor(d, assistantIndex);
  const prevA = ui - 1;
  const prevU = ui - 2;
  const target = [d.turns[prevU], d.turns[prevA]]
    .filter((t): t is Turn => !!t)
    .map((t) => contentText(t.content))
    .join('\n');
  let best: MisreadTarget | undefined;
  let bestScore = Infinity;
  for (let i = 0; i < ui; i++) {
    const t = d.turns[i];
    if (i === prevA || (t.role !== 'user' && t.role !== 'assistant')) continue;
    if (i === prevU && ui > 2) continue;
    const text = contentText(t.content);
    if (text.trim() === '') continue;
    const score = similarity(text, target) + overlap(text, target);
    if (score < bestScore) {
      bestScore = score;
      best = { index: i, role: t.role, text };
    }
  }
  return best;
}

/** Context misunderstanding: full history, but the instruction resolves the reference to a wrong earlier turn. */
export function buildMisreadRequest(d: Dialogue, assistantIndex: number, s: CapoSettings): CapoRequest {
  const ui = userIndexFor(d, assistantIndex);
  const target = chooseMisreadTarget(d, assistantIndex);
  if (!target) throw new Error(`turn ${assistantIndex + 1} has no earlier turn to misread`);
  const t = s.templates?.misread ?? loadTemplate('capo-misread');
  const instruction = render(t, { target: target.text });
  const history = { system: d.system, turns: d.turns.slice(0, ui + 1) };
  const messages = dialogueMessages(history, {
    system: d.system ? `${d.system}\n\n${instruction}` : instruction,
  });
  return {
    strategy: 'misread',
    request: { model: s.model, messages, temperature: s.temperature, max_tokens: s.maxTokens },
    templateVersion: t.version,
    misreadTarget: target,
  };
}

export function buildCapoRequest(
  strategy: CapoStrategy,
  d: Dialogue,
  assistantIndex: number,
  s: CapoSettings,
): CapoRequest {
  switch (strategy) {
    case 'neglect':
      return buildNeglectRequest(d, assistantIndex, s);
    case 'hallucinate':
      return buildHallucinateRequest(d, assistantIndex, s);
    case 'misread':
      return buildMisreadRequest(d, assistantIndex, s);
  }
}

export interface CapoTurnChoice {
  /** 0-based index of the assistant turn. */
  index: number;
  score: number;
  cues: string[];
}

/** Assistant turns whose user turn depends on context (never the first exchange). */
export function dependentTurns(d: Dialogue, threshold = 0.5): CapoTurnChoice[] {
  const out: CapoTurnChoice[] = [];
  for (let i = 1; i < d.turns.length; i++) {
    const t = d.turns[i];
    const u = d.turns[i - 1];
    if (t.role !== 'assistant' || u.role !== 'user') continue;
    const history = d.turns.slice(0, i - 1).filter((x) => x.role !== 'system');
    if (history.length === 0) continue;
    const r = contextDependence(contentText(u.content), history, threshold);
    if (r.dependent) out.push({ index: i, score: r.score, cues: r.cues });
  }
  return out;
}

/** Provenance stored in a pair's meta. `turn` is the 1-based position of the replaced assistant turn. */
export interface CapoProvenance {
  strategy: CapoStrategy;
  source: { file: string; record: number; turn: number };
  models: { chosen: string; rejected: string };
  template?: string;
  misread_target?: { turn: number; role: string };
  created: string;
}

/** Builds the pair: prompt = history + user turn, chosen = the record's own answer, rejected = generated. */
export function makePair(
  d: Dialogue,
  assistantIndex: number,
  req: CapoRequest,
  rejectedText: string,
  source: CapoSource,
  now = new Date(),
): PreferencePair {
  const ui = userIndexFor(d, assistantIndex);
  const prov: CapoProvenance = {
    strategy: req.strategy,
    source: { file: source.file, record: source.record, turn: assistantIndex + 1 },
    models: { chosen: 'source', rejected: req.request.model },
    created: now.toISOString(),
  };
  if (req.templateVersion) prov.template = req.templateVersion;
  if (req.misreadTarget)
    prov.misread_target = { turn: req.misreadTarget.index + 1, role: req.misreadTarget.role };
  const pair: PreferencePair = {
    kind: 'preference',
    prompt: d.turns.slice(0, ui + 1),
    chosen: [d.turns[assistantIndex]],
    rejected: [{ role: 'assistant', content: rejectedText }],
    meta: { ...prov },
  };
  if (d.system) pair.system = d.system;
  return pair;
}

/**
 * The paper's second selection stage: an LLM judge confirms each detector hit (its user turn needs
 * the history to be understood). A reply that is neither DEPENDENT nor INDEPENDENT is asked again
 * `retries` times, then the turn is left out with a reason (never guessed).
 */
export interface CapoJudge {
  model: string;
  retries?: number;
  template?: Template;
}

export interface JudgedTurns {
  confirmed: number[];
  /** Detector hits the judge did not confirm, or could not judge. */
  rejected: { turn: number; reason: string; failed?: boolean }[];
  requests: number;
}

/** Asks the judge about each assistant turn's user turn; keeps the confirmed ones (in order). */
export async function judgeTurns(
  client: LlmClient,
  d: Dialogue,
  turns: readonly number[],
  judge: CapoJudge,
  signal?: AbortSignal,
): Promise<JudgedTurns> {
  const out: JudgedTurns = { confirmed: [], rejected: [], requests: 0 };
  const verdicts = await Promise.all(
    turns.map(async (idx) => {
      const ui = userIndexFor(d, idx);
      const history = d.turns.slice(0, ui).filter((t) => t.role !== 'system');
      const req = buildJudgeRequest(
        contentText(d.turns[ui]?.content ?? ''),
        history,
        judge.model,
        judge.template,
      );
      let last = '';
      for (let attempt = 0; attempt <= (judge.retries ?? 1); attempt++) {
        out.requests++;
        try {
          last = (await client.chat(req, { signal })).texts[0] ?? '';
        } catch (e) {
          if (isCancel(e)) throw e;
          return {
            idx,
            reason: `judge request failed: ${e instanceof Error ? e.message : String(e)}`,
            failed: true,
          };
        }
        const v = parseJudgeReply(last);
        if (v !== undefined) return { idx, dependent: v };
      }
      return {
        idx,
        reason: `judge reply not understood: ${JSON.stringify(last.slice(0, 40))}`,
        failed: true,
      };
    }),
  );
  for (const v of verdicts) {
    if ('dependent' in v) {
      if (v.dependent) out.confirmed.push(v.idx);
      else
        out.rejected.push({
          turn: v.idx + 1,
          reason: 'the judge found the question independent of the context',
        });
    } else out.rejected.push({ turn: v.idx + 1, reason: v.reason, failed: v.failed });
  }
  return out;
}

export interface CapoOptions {
  strategies: readonly CapoStrategy[];
  /** Assistant turn indexes (0-based) to use; default: the context-dependent ones. */
  turns?: number[];
  threshold?: number;
  /** Confirm the selected turns (the detector's hits, or `turns`) with an LLM judge first. */
  judge?: CapoJudge;
  /**
   * Regenerate the chosen answer with the answer model (full context) instead of keeping the
   * record's own: one more request per turn; its provenance names the model.
   */
  regenerateChosen?: boolean;
  source: CapoSource;
  signal?: AbortSignal;
}

export interface CapoResult {
  pairs: PreferencePair[];
  /**
   * Pairs not made. `failed` marks a request that failed or came back empty (worth retrying);
   * without it the turn cannot have that pair (e.g. nothing earlier to misread).
   */
  skipped: { turn: number; strategy?: CapoStrategy; reason: string; failed?: boolean }[];
  cancelled: boolean;
  /** Requests sent to the context judge. */
  judgeRequests: number;
}

/** Generates rejected answers for the chosen turns and strategies of one dialogue. */
export async function capo(
  client: LlmClient,
  d: Dialogue,
  s: CapoSettings,
  o: CapoOptions,
): Promise<CapoResult> {
  const res: CapoResult = { pairs: [], skipped: [], cancelled: false, judgeRequests: 0 };
  let turns = o.turns ?? dependentTurns(d, o.threshold).map((t) => t.index);
  if (o.judge && turns.length > 0) {
    let judged: JudgedTurns;
    try {
      judged = await judgeTurns(client, d, turns, o.judge, o.signal);
    } catch (e) {
      if (!isCancel(e)) throw e;
      res.cancelled = true;
      return res;
    }
    res.judgeRequests = judged.requests;
    // One entry per turn the judge kept out (no strategy: none of them was tried).
    res.skipped.push(...judged.rejected);
    turns = judged.confirmed;
  }
  // With `regenerateChosen`, each turn's chosen answer is asked for first (full context).
  const base = new Map<number, Dialogue>();
  if (o.regenerateChosen) {
    const kept: number[] = [];
    await Promise.all(
      turns.map(async (idx) => {
        const ui = userIndexFor(d, idx);
        try {
          const r = await client.chat(buildAnswerRequest({ ...d, turns: d.turns.slice(0, ui + 1) }, s), {
            signal: o.signal,
          });
          const text = r.texts[0] ?? '';
          if (text.trim() === '') throw new Error('empty answer');
          base.set(idx, {
            ...d,
            turns: d.turns.map((t, i) => (i === idx ? { role: 'assistant', content: text } : t)),
          });
          kept.push(idx);
        } catch (e) {
          if (isCancel(e)) res.cancelled = true;
          else
            res.skipped.push({
              turn: idx + 1,
              reason: `chosen answer: ${e instanceof Error ? e.message : String(e)}`,
              failed: true,
            });
        }
      }),
    );
    if (res.cancelled) return res;
    turns = turns.filter((t) => kept.includes(t));
  }
  const jobs: Promise<void>[] = [];
  for (const idx of turns) {
    const chosenFrom = base.get(idx);
    for (const strategy of o.strategies) {
      let req: CapoRequest;
      try {
        req = buildCapoRequest(strategy, d, idx, s);
      } catch (e) {
        res.skipped.push({ turn: idx + 1, strategy, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
      jobs.push(
        client.chat(req.request, { signal: o.signal }).then(
          (r) => {
            const text = r.texts[0] ?? '';
            if (text.trim() === '')
              res.skipped.push({ turn: idx + 1, strategy, reason: 'empty answer', failed: true });
            else {
              const pair = makePair(chosenFrom ?? d, idx, req, text, o.source);
              if (chosenFrom) (pair.meta as unknown as CapoProvenance).models.chosen = s.model;
              res.pairs.push(pair);
            }
          },
          (e: unknown) => {
            if (isCancel(e)) res.cancelled = true;
            else
              res.skipped.push({
                turn: idx + 1,
                strategy,
                reason: e instanceof Error ? e.message : String(e),
                failed: true,
              });
          },
        ),
      );
    }
  }
  await Promise.all(jobs);
  const order = (p: PreferencePair): number => {
    const m = p.meta as unknown as CapoProvenance;
    return m.source.turn * 10 + o.strategies.indexOf(m.strategy);
  };
  res.pairs.sort((a, b) => order(a) - order(b));
  return res;
}
