import { setMaxListeners } from 'node:events';
import { countTokens } from '../tokens';
import type { ChatRequest, LlmClient } from '../llm/client';
import { LlmError, isCancel } from '../llm/errors';
import { contentText, type Dialogue, type Turn } from '../model';
import { ask, type AskSettings, type FilterOptions, type RejectReason } from './ask';
import { dialogueMessages, lastRole, userTurnCount } from './messages';

export interface AnswerSettings {
  model: string;
  temperature: number;
  maxTokens: number;
}

/** The request for the assistant's next turn: the dialogue as is. */
export function buildAnswerRequest(d: Dialogue, s: AnswerSettings): ChatRequest {
  if (lastRole(d) !== 'user')
    throw new Error('the dialogue does not end with a user question — there is nothing to answer');
  return {
    model: s.model,
    messages: dialogueMessages(d),
    temperature: s.temperature,
    max_tokens: s.maxTokens,
  };
}

/** Streams the assistant's answer to the last user turn. */
export function answer(
  client: LlmClient,
  d: Dialogue,
  s: AnswerSettings,
  opts: { signal?: AbortSignal; onDelta?: (delta: string) => void } = {},
): Promise<string> {
  return client.streamText(buildAnswerRequest(d, s), opts);
}

export interface ExtendSettings {
  ask: AskSettings;
  answer: AnswerSettings;
  filter?: Partial<FilterOptions>;
  /** Ask again this many times when every candidate was rejected. */
  askAttempts?: number;
  /** Stream answers (default) or fetch them in one piece. */
  stream?: boolean;
}

export type ExtendStatus = 'done' | 'cancelled' | 'failed';

export interface ExtendResult {
  /** The dialogue with every completed exchange appended (partial work is kept). */
  dialogue: Dialogue;
  status: ExtendStatus;
  /** Turns appended (user + assistant). */
  added: number;
  requests: number;
  rejected: { text: string; reason: RejectReason }[];
  error?: string;
  /** Text of an answer whose stream was cut (not appended to the dialogue). */
  partialAnswer?: string;
}

export interface ExtendEvents {
  signal?: AbortSignal;
  onTurn?: (turn: Turn) => void;
  onDelta?: (delta: string) => void;
}

/**
 * Grows a dialogue until it has `targetUserTurns` user questions, each answered:
 * ask (first kept candidate) -> answer -> ask … A dialogue ending in a user turn is answered first.
 * "Turns" here counts user questions (= exchanges); the result ends with an assistant turn.
 */
export async function extend(
  client: LlmClient,
  source: Dialogue,
  targetUserTurns: number,
  s: ExtendSettings,
  ev: ExtendEvents = {},
): Promise<ExtendResult> {
  const d: Dialogue = { ...source, turns: [...source.turns] };
  const res: ExtendResult = { dialogue: d, status: 'done', added: 0, requests: 0, rejected: [] };
  const push = (t: Turn): void => {
    d.turns.push(t);
    res.added++;
    ev.onTurn?.(t);
  };
  try {
    for (;;) {
      if (ev.signal?.aborted) throw new LlmError('cancelled', 'cancelled', client.host);
      if (lastRole(d) === 'user') {
        const req = buildAnswerRequest(d, s.answer);
        res.requests++;
        const text =
          s.stream === false
            ? ((await client.chat(req, { signal: ev.signal })).texts[0] ?? '')
            : await client.streamText(req, { signal: ev.signal, onDelta: ev.onDelta });
        if (text.trim() === '')
          throw new LlmError('malformed', `${client.host} returned an empty answer`, client.host);
        push({ role: 'assistant', content: text });
        continue;
      }
      if (userTurnCount(d) >= targetUserTurns) break;
      let question: string | undefined;
      for (let attempt = 0; attempt < (s.askAttempts ?? 2) && question === undefined; attempt++) {
        const r = await ask(client, d, s.ask, { filter: s.filter, signal: ev.signal });
        res.requests += r.requests;
        res.rejected.push(...r.rejected);
        question = r.kept[0];
      }
      if (question === undefined) {
        const reasons = [...new Set(res.rejected.map((r) => r.reason))].join(', ');
        throw new Error(
          `every follow-up candidate was rejected (${reasons}) — try another asker model, mode or template`,
        );
      }
      push({ role: 'user', content: question });
    }
  } catch (e) {
    // Never keep a generated question without its answer: the record ends at its last exchange.
    if (res.added > 0 && lastRole(d) === 'user') {
      d.turns.pop();
      res.added--;
    }
    if (isCancel(e) || ev.signal?.aborted) res.status = 'cancelled';
    else res.status = 'failed';
    if (e instanceof LlmError && e.details.partial) res.partialAnswer = e.details.partial;
    if (res.status === 'failed') res.error = e instanceof Error ? e.message : String(e);
  }
  return res;
}

export interface ExtendManyProgress {
  total?: number;
  done: number;
  failed: number;
  cancelled: number;
  inProgress: number;
  requests: number;
}

export interface ExtendManyOptions extends Omit<ExtendEvents, 'onTurn' | 'onDelta'> {
  /** Records processed at once (default: the client's concurrency). */
  concurrency?: number;
  total?: number;
  onProgress?: (p: ExtendManyProgress) => void;
  /** Called as each record finishes, in completion order. */
  onResult?: (index: number, r: ExtendResult) => void | Promise<void>;
}

/**
 * Extends many records with a bounded number in progress. Results are delivered per record as
 * they complete; after cancellation, finished records stay delivered and in-flight ones are
 * reported with status `cancelled` (their completed exchanges kept).
 */
export async function extendMany(
  client: LlmClient,
  records:
    Iterable<{ index: number; dialogue: Dialogue }> | AsyncIterable<{ index: number; dialogue: Dialogue }>,
  targetUserTurns: number,
  s: ExtendSettings,
  opts: ExtendManyOptions = {},
): Promise<ExtendManyProgress> {
  // Every in-flight request listens to the one signal.
  if (opts.signal) setMaxListeners(0, opts.signal);
  const p: ExtendManyProgress = {
    total: opts.total,
    done: 0,
    failed: 0,
    cancelled: 0,
    inProgress: 0,
    requests: 0,
  };
  const it =
    Symbol.asyncIterator in records
      ? records[Symbol.asyncIterator]()
      : (records as Iterable<{ index: number; dialogue: Dialogue }>)[Symbol.iterator]();
  let exhausted = false;
  const next = async (): Promise<{ index: number; dialogue: Dialogue } | undefined> => {
    if (exhausted || opts.signal?.aborted) return undefined;
    const r = await it.next();
    if (r.done) {
      exhausted = true;
      return undefined;
    }
    return r.value;
  };
  const worker = async (): Promise<void> => {
    for (let rec = await next(); rec; rec = await next()) {
      p.inProgress++;
      opts.onProgress?.({ ...p });
      const r = await extend(client, rec.dialogue, targetUserTurns, s, { signal: opts.signal });
      p.inProgress--;
      p.requests += r.requests;
      if (r.status === 'done') p.done++;
      else if (r.status === 'failed') p.failed++;
      else p.cancelled++;
      await opts.onResult?.(rec.index, r);
      opts.onProgress?.({ ...p });
    }
  };
  const n = opts.concurrency ?? client.config.concurrency;
  await Promise.all(Array.from({ length: n }, worker));
  return p;
}

export interface Estimate {
  records: number;
  /** Records that need no request (already long enough). */
  unchanged: number;
  askRequests: number;
  answerRequests: number;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

/**
 * Requests and approximate tokens (o200k tokenizer) an extension will take. New questions and
 * answers are assumed to be as long as the dialogue's own average (or 30 / half of maxTokens).
 */
export function estimate(
  dialogues: Iterable<Dialogue>,
  targetUserTurns: number,
  s: Pick<ExtendSettings, 'ask' | 'answer'>,
): Estimate {
  const e = newEstimate();
  for (const d of dialogues) addToEstimate(e, d, targetUserTurns, s);
  return e;
}

export function newEstimate(): Estimate {
  return {
    records: 0,
    unchanged: 0,
    askRequests: 0,
    answerRequests: 0,
    requests: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
}

/** Adds one dialogue to a running estimate (so a file of any size can be estimated as it streams). */
export function addToEstimate(
  e: Estimate,
  d: Dialogue,
  targetUserTurns: number,
  s: Pick<ExtendSettings, 'ask' | 'answer'>,
): void {
  e.records++;
  const tok = (t: Turn): number => countTokens(contentText(t.content));
  const users = d.turns.filter((t) => t.role === 'user');
  const assistants = d.turns.filter((t) => t.role === 'assistant');
  const avgQ = users.length ? Math.round(users.reduce((a, t) => a + tok(t), 0) / users.length) : 30;
  const avgA = assistants.length
    ? Math.round(assistants.reduce((a, t) => a + tok(t), 0) / assistants.length)
    : Math.round(s.answer.maxTokens / 2);
  let history = d.turns.reduce((a, t) => a + tok(t), 0) + (d.system ? countTokens(d.system) : 0);
  const needAnswer = lastRole(d) === 'user' ? 1 : 0;
  const asks = Math.max(0, targetUserTurns - users.length);
  if (asks === 0 && needAnswer === 0) {
    e.unchanged++;
    return;
  }
  const instr = 120; // template overhead
  if (needAnswer) {
    e.answerRequests++;
    e.promptTokens += history;
    e.completionTokens += avgA;
    history += avgA;
  }
  for (let i = 0; i < asks; i++) {
    e.askRequests++;
    e.promptTokens += history + instr;
    e.completionTokens += avgQ * Math.max(1, s.ask.n);
    history += avgQ;
    e.answerRequests++;
    e.promptTokens += history;
    e.completionTokens += avgA;
    history += avgA;
  }
  e.requests = e.askRequests + e.answerRequests;
}
