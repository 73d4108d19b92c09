/**
 * MT-Bench++ evaluation: a model under test answers every user turn of a session with its own
 * earlier answers in the history, and a judge model grades each answer 1–10 (MT-Bench's
 * single-answer grading; the verdict is written `Rating: [[N]]`). Nothing here guesses a score: a
 * verdict that does not parse is asked again, then recorded as missing.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ChatMessage, ChatRequest, LlmClient } from '../llm/client';
import { LlmError, isCancel } from '../llm/errors';
import { readFileRecords, where } from '../store/records';
import { countTokens } from '../tokens';
import type { MtBenchQuestion } from './mtbench';
import type { SlotResult } from './output';

/** Categories whose turns are graded against a reference answer when one is given (as MT-Bench). */
export const REFERENCE_CATEGORIES: readonly string[] = ['math', 'reasoning', 'coding'];

export interface EvalSettings {
  model: string;
  judgeModel: string;
  /** Sampling temperature of the model under test. */
  temperature: number;
  maxTokens: number;
  /** Judge requests per turn after the first one when the verdict does not parse. */
  judgeRetries: number;
  /** Reference answers by question id, one per turn (a missing turn has none). */
  references?: ReadonlyMap<string, readonly string[]>;
}

/** One judge request and what came back, kept for audit. */
export interface JudgeAttempt {
  reply?: string;
  /** Set when the reply had no strict `[[N]]` verdict, or the request failed. */
  error?: string;
}

export interface TurnResult {
  turn: number;
  question: string;
  answer?: string;
  /** 1–10, or null when no verdict could be parsed (never guessed). */
  score: number | null;
  /** True when the judge saw a reference answer. */
  reference: boolean;
  judgeRequest?: ChatRequest;
  attempts: JudgeAttempt[];
}

export interface SessionResult {
  question_id: number | string;
  category: string;
  model: string;
  judge_model: string;
  turns: TurnResult[];
  /** The answer or judge request that stopped the session (the turns before it are kept). */
  error?: string;
  status: 'done' | 'failed' | 'cancelled';
}

const JUDGE_SYSTEM =
  'You are a strict, impartial evaluator of AI assistants. You grade one answer of a multi-turn ' +
  'conversation. Judge only the answer marked for grading; use the earlier turns as its context ' +
  '(an answer must resolve references such as "it" or "the previous one" correctly). Consider ' +
  'helpfulness, relevance, accuracy, depth, creativity and level of detail. Do not let length or ' +
  'style sway you. Write a short explanation first, then the verdict on its own line exactly as ' +
  '"Rating: [[N]]" where N is a whole number from 1 (worst) to 10 (best).';

const JUDGE_SYSTEM_REF =
  'You are a strict, impartial evaluator of AI assistants. You grade one answer of a multi-turn ' +
  'conversation against a reference answer. Judge only the answer marked for grading; use the ' +
  'earlier turns as its context. Correctness comes first: compare the answer with the reference, ' +
  'point out every mistake, then consider helpfulness. Write a short explanation first, then the ' +
  'verdict on its own line exactly as "Rating: [[N]]" where N is a whole number from 1 (worst) ' +
  'to 10 (best).';

/** The judge request for turn `k` (1-based) of `questions`/`answers`. */
export function judgeRequest(
  questions: readonly string[],
  answers: readonly string[],
  k: number,
  judgeModel: string,
  reference?: string,
): ChatRequest {
  const parts: string[] = [];
  for (let i = 0; i < k; i++) {
    const mark = i === k - 1 ? ' (the answer to grade)' : '';
    parts.push(`<|turn ${i + 1} user|>\n${questions[i]}\n<|end|>`);
    parts.push(`<|turn ${i + 1} assistant${mark}|>\n${answers[i] ?? ''}\n<|end|>`);
  }
  let user = `<|conversation|>\n${parts.join('\n')}\n<|end of conversation|>\n\n`;
  if (reference !== undefined) user += `<|reference answer to turn ${k}|>\n${reference}\n<|end|>\n\n`;
  user += `Grade the assistant's answer to turn ${k} only. End with "Rating: [[N]]".`;
  return {
    model: judgeModel,
    messages: [
      { role: 'system', content: reference !== undefined ? JUDGE_SYSTEM_REF : JUDGE_SYSTEM },
      { role: 'user', content: user },
    ],
    temperature: 0,
    max_tokens: 1024,
  };
}

/**
 * The score in a judge reply, strictly: exactly one `[[N]]` (N a number from 1 to 10, at most one
 * decimal) anywhere in the reply; none, several different ones or one out of range is an error.
 */
export function parseVerdict(reply: string): { score: number } | { error: string } {
  const found = [...reply.matchAll(/\[\[\s*([^\]]*?)\s*\]\]/g)].map((m) => m[1]);
  if (found.length === 0) return { error: 'no "[[N]]" verdict in the reply' };
  const distinct = [...new Set(found)];
  if (distinct.length > 1) return { error: `several verdicts in the reply (${distinct.join(', ')})` };
  if (!/^(10|[1-9])(\.\d)?$/.test(distinct[0]) || Number(distinct[0]) > 10)
    return { error: `verdict "[[${distinct[0]}]]" is not a number from 1 to 10` };
  return { score: Number(distinct[0]) };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A session's result before its first turn (the key order every results line has). */
export function newSessionResult(
  q: MtBenchQuestion,
  s: Pick<EvalSettings, 'model' | 'judgeModel'>,
): SessionResult {
  return {
    question_id: q.question_id,
    category: q.category,
    model: s.model,
    judge_model: s.judgeModel,
    turns: [],
    status: 'done',
  };
}

/** The reference answers a session's turns are graded against (math, reasoning, coding), if any. */
export function sessionReferences(
  q: MtBenchQuestion,
  refs: ReadonlyMap<string, readonly string[]> | undefined,
): readonly string[] | undefined {
  if (!REFERENCE_CATEGORIES.includes(q.category)) return undefined;
  const inline =
    Array.isArray(q.reference) && q.reference.every((x) => typeof x === 'string') ? q.reference : undefined;
  return refs?.get(String(q.question_id)) ?? inline;
}

/**
 * Answers and grades every turn of `q` in order. Answers go to `settings.model` with the full
 * history (its own earlier answers); each answer is graded before the next question is asked.
 * On a failed or cancelled request the turns finished so far are returned with the status.
 */
export async function evaluateSession(
  client: LlmClient,
  q: MtBenchQuestion,
  s: EvalSettings,
  signal?: AbortSignal,
): Promise<SessionResult> {
  const res = newSessionResult(q, s);
  const history: ChatMessage[] = [];
  const answers: string[] = [];
  const refs = sessionReferences(q, s.references);
  try {
    for (let k = 1; k <= q.turns.length; k++) {
      if (signal?.aborted) throw new LlmError('cancelled', 'cancelled', client.host);
      const question = q.turns[k - 1];
      history.push({ role: 'user', content: question });
      const a = await client.chat(
        { model: s.model, messages: history.slice(), temperature: s.temperature, max_tokens: s.maxTokens },
        { signal },
      );
      const answer = a.texts[0] ?? '';
      history.push({ role: 'assistant', content: answer });
      answers.push(answer);
      const reference = refs?.[k - 1];
      const req = judgeRequest(q.turns, answers, k, s.judgeModel, reference);
      const t: TurnResult = {
        turn: k,
        question,
        answer,
        score: null,
        reference: reference !== undefined,
        judgeRequest: req,
        attempts: [],
      };
      res.turns.push(t);
      for (let attempt = 0; attempt <= s.judgeRetries && t.score === null; attempt++) {
        const j = await client.chat(req, { signal });
        const reply = j.texts[0] ?? '';
        const v = parseVerdict(reply);
        if ('score' in v) {
          t.score = v.score;
          t.attempts.push({ reply });
        } else t.attempts.push({ reply, error: v.error });
      }
    }
  } catch (e) {
    res.status = isCancel(e) || signal?.aborted ? 'cancelled' : 'failed';
    res.error = errText(e);
  }
  return res;
}

export interface TurnSummary {
  turn: number;
  /** Mean of the scored answers, null when none was scored. */
  mean: number | null;
  /** Scored answers. */
  n: number;
  /** Answers without a verdict (unparseable after retries). */
  missing: number;
}

export interface EvalSummary {
  turns: TurnSummary[];
  categories: Record<string, { mean: number | null; n: number; missing: number }>;
  overall: number | null;
  n: number;
  missing: number;
  sessions: number;
  /** Sessions stopped by a failed request (their finished turns count). */
  failed: number;
}

function mean(sum: number, n: number): number | null {
  return n ? Math.round((sum / n) * 1000) / 1000 : null;
}

/** Per turn (1…), per category and overall means of the scored turns of `results`. */
export function summarize(
  results: Iterable<Pick<SessionResult, 'category' | 'turns' | 'status'>>,
): EvalSummary {
  const byTurn: { sum: number; n: number; missing: number }[] = [];
  const byCat = new Map<string, { sum: number; n: number; missing: number }>();
  let sum = 0;
  let n = 0;
  let missing = 0;
  let sessions = 0;
  let failed = 0;
  for (const r of results) {
    sessions++;
    if (r.status !== 'done') failed++;
    const c = byCat.get(r.category) ?? { sum: 0, n: 0, missing: 0 };
    byCat.set(r.category, c);
    for (const t of r.turns) {
      const b = (byTurn[t.turn - 1] ??= { sum: 0, n: 0, missing: 0 });
      if (t.score === null) {
        b.missing++;
        c.missing++;
        missing++;
      } else {
        b.sum += t.score;
        b.n++;
        c.sum += t.score;
        c.n++;
        sum += t.score;
        n++;
      }
    }
  }
  const turns: TurnSummary[] = [];
  for (let i = 0; i < byTurn.length; i++) {
    const b = byTurn[i] ?? { sum: 0, n: 0, missing: 0 };
    turns.push({ turn: i + 1, mean: mean(b.sum, b.n), n: b.n, missing: b.missing });
  }
  const categories: EvalSummary['categories'] = {};
  for (const [k, c] of [...byCat].sort((a, b) => a[0].localeCompare(b[0])))
    categories[k] = { mean: mean(c.sum, c.n), n: c.n, missing: c.missing };
  return { turns, categories, overall: mean(sum, n), n, missing, sessions, failed };
}

/** The summary of every non-blank line of a results file written by an evaluation run. */
export async function summarizeFile(file: string): Promise<EvalSummary> {
  const results: SessionResult[] = [];
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of rl) if (text.trim()) results.push(JSON.parse(text) as SessionResult);
  return summarize(results);
}

/** Requests and approximate prompt tokens a run will take (answers unknown: estimated at maxTokens/2). */
export function estimateEval(
  questions: readonly MtBenchQuestion[],
  s: EvalSettings,
): { sessions: number; turns: number; answerRequests: number; judgeRequests: number; promptTokens: number } {
  let turns = 0;
  let promptTokens = 0;
  const answerGuess = Math.round(s.maxTokens / 2);
  for (const q of questions) {
    let ctx = 0;
    for (const t of q.turns) {
      turns++;
      ctx += countTokens(t);
      promptTokens += ctx; // answer request
      ctx += answerGuess;
      promptTokens += ctx + 200; // judge request (history + instructions)
    }
  }
  return { sessions: questions.length, turns, answerRequests: turns, judgeRequests: turns, promptTokens };
}

/** Settings a resumed evaluation must keep: its sessions are scored by one model and one judge. */
export function evalKeep(s: Pick<EvalSettings, 'model' | 'judgeModel'>): Record<string, string> {
  return { model: s.model, 'judge model': s.judgeModel };
}

/**
 * A session as a slot of the run's output (one line): a session stopped by an error is a short slot
 * (its finished turns kept) that a resume redoes from its first turn.
 */
export function sessionSlot(r: SessionResult): SlotResult {
  return {
    lines: [JSON.stringify(r)],
    error: r.status === 'failed' ? (r.error ?? 'failed') : undefined,
  };
}

/** Reference answers by question id: MT-Bench's `{question_id, choices: [{turns: [...]}]}` lines. */
export async function readReferences(file: string): Promise<Map<string, string[]>> {
  const refs = new Map<string, string[]>();
  for await (const rec of readFileRecords(file)) {
    const text = rec.text;
    const at = where(file, rec);
    if (text.trim() === '') continue;
    let v: { question_id?: unknown; choices?: { turns?: unknown }[] };
    try {
      v = JSON.parse(text) as typeof v;
    } catch (e) {
      throw new Error(`${at}: invalid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const turns = v?.choices?.[0]?.turns;
    if (
      (typeof v?.question_id !== 'number' && typeof v?.question_id !== 'string') ||
      !Array.isArray(turns) ||
      !turns.every((t) => typeof t === 'string')
    )
      throw new Error(`${at}: a reference answer needs question_id and choices[0].turns (strings)`);
    refs.set(String(v.question_id), turns);
  }
  return refs;
}
