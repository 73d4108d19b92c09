/**
 * MT-Bench++ through the Batch API. A session's turn k+1 is asked with the model's own answers to
 * turns 1…k in the history, so a session cannot go in one batch: the job goes in rounds. Round r
 * holds every session's answer to turn r and the judge's grading of turn r−1 (grading does not
 * change the history, so it rides along with the next answers), plus a new judge request for a
 * verdict that did not parse (up to `judgeRetries` more). The results are the live run's: the same
 * requests, the same per-turn lines, the same summary.
 */
import type { ChatRequest } from '../llm/client';
import {
  judgeRequest,
  newSessionResult,
  parseVerdict,
  sessionReferences,
  type JudgeAttempt,
  type SessionResult,
  type TurnResult,
} from '../parrot/evaluate';
import { isMtBenchQuestion, type MtBenchQuestion } from '../parrot/mtbench';
import type { BatchOutcome } from './lines';
import type { SourceRef } from './source';

/** What an eval job keeps per turn: the model's answer and the judge's replies (no question text). */
export interface EvalTurnState {
  answer: string;
  score: number | null;
  attempts: JudgeAttempt[];
}

export interface EvalSessionState extends SourceRef {
  question_id: number | string;
  category: string;
  /** Turns the question has. */
  total: number;
  turns: EvalTurnState[];
  status: 'active' | 'done' | 'failed';
  error?: string;
}

/** Settings of an eval job (references are read again from their file, never copied in). */
export interface StoredEvalSettings {
  model: string;
  judgeModel: string;
  temperature: number;
  maxTokens: number;
  judgeRetries: number;
  referencesFile?: string;
}

/** The question of a source record, or why it is not one. */
export function questionOf(value: unknown): MtBenchQuestion | string {
  if (!isMtBenchQuestion(value) || typeof value.category !== 'string')
    return 'not an MT-Bench question (question_id, category, turns)';
  if (value.turns.length === 0) return 'no turns';
  return value;
}

export function evalEntry(ref: SourceRef, q: MtBenchQuestion): EvalSessionState {
  return {
    ...ref,
    question_id: q.question_id,
    category: q.category,
    total: q.turns.length,
    turns: [],
    status: 'active',
  };
}

export type EvalTask = { task: string; body: ChatRequest };

/** Whether a turn still needs a judge request (no verdict yet, attempts left). */
function needsJudge(t: EvalTurnState, retries: number): boolean {
  return t.score === null && t.attempts.length <= retries;
}

/** True when the session needs no more requests. */
export function evalSessionFinished(e: EvalSessionState, s: StoredEvalSettings): boolean {
  if (e.status !== 'active') return true;
  return e.turns.length >= e.total && e.turns.every((t) => !needsJudge(t, s.judgeRetries));
}

/** The session's requests of the next round: the next answer, and the judge requests due. */
export function evalTasks(
  e: EvalSessionState,
  q: MtBenchQuestion,
  s: StoredEvalSettings,
  refs: ReadonlyMap<string, readonly string[]> | undefined,
): EvalTask[] {
  const tasks: EvalTask[] = [];
  const answers = e.turns.map((t) => t.answer);
  const reference = sessionReferences(q, refs);
  e.turns.forEach((t, i) => {
    if (needsJudge(t, s.judgeRetries))
      tasks.push({
        task: `judge@t${i + 1}.a${t.attempts.length + 1}`,
        body: judgeRequest(q.turns, answers, i + 1, s.judgeModel, reference?.[i]),
      });
  });
  const k = e.turns.length;
  if (k < e.total) {
    const messages: ChatRequest['messages'] = [];
    for (let i = 0; i < k; i++)
      messages.push(
        { role: 'user', content: q.turns[i] ?? '' },
        { role: 'assistant', content: answers[i] ?? '' },
      );
    messages.push({ role: 'user', content: q.turns[k] ?? '' });
    tasks.push({
      task: `answer@t${k + 1}`,
      body: { model: s.model, messages, temperature: s.temperature, max_tokens: s.maxTokens },
    });
  }
  return tasks;
}

/**
 * Applies one round's outcomes for a session. A failed answer or judge request stops the session
 * at that turn, as a live run stops (the turns before it are kept; later answers are dropped).
 * Returns the failure message, if any.
 */
export function applyEvalOutcomes(
  e: EvalSessionState,
  outcomes: { task: string; out: BatchOutcome | undefined }[],
): string | undefined {
  let stopAt: { turn: number; error: string; judged: boolean } | undefined;
  const stop = (turn: number, error: string, judged: boolean): void => {
    if (!stopAt || turn < stopAt.turn) stopAt = { turn, error, judged };
  };
  for (const { task, out } of outcomes) {
    const m = /^(answer|judge)@t(\d+)(?:\.a\d+)?$/.exec(task);
    if (!m) continue;
    const turn = Number(m[2]);
    const error = !out ? 'no result for this request in the batch output' : out.ok ? undefined : out.error;
    if (m[1] === 'answer') {
      if (error !== undefined) stop(turn, error, false);
      else if (turn === e.turns.length + 1)
        e.turns.push({ answer: out?.ok ? (out.texts[0] ?? '') : '', score: null, attempts: [] });
      continue;
    }
    const t = e.turns[turn - 1];
    if (!t) continue;
    if (error !== undefined) {
      stop(turn, error, true);
      continue;
    }
    const reply = out?.ok ? (out.texts[0] ?? '') : '';
    const v = parseVerdict(reply);
    if ('score' in v) {
      t.score = v.score;
      t.attempts.push({ reply });
    } else t.attempts.push({ reply, error: v.error });
  }
  if (!stopAt) return undefined;
  // Live: a failed answer leaves its turn out; a failed judge request keeps the turn, unscored.
  e.turns.length = Math.min(e.turns.length, stopAt.judged ? stopAt.turn : stopAt.turn - 1);
  e.status = 'failed';
  e.error = stopAt.error;
  return stopAt.error;
}

/** The session's result line, exactly as a live run writes it. */
export function evalSessionResult(
  e: EvalSessionState,
  q: MtBenchQuestion,
  s: StoredEvalSettings,
  refs: ReadonlyMap<string, readonly string[]> | undefined,
): SessionResult {
  const res: SessionResult = newSessionResult(q, s);
  const answers = e.turns.map((t) => t.answer);
  const reference = sessionReferences(q, refs);
  e.turns.forEach((t, i) => {
    const r: TurnResult = {
      turn: i + 1,
      question: q.turns[i] ?? '',
      answer: t.answer,
      score: t.score,
      reference: reference?.[i] !== undefined,
      judgeRequest: judgeRequest(q.turns, answers, i + 1, s.judgeModel, reference?.[i]),
      attempts: t.attempts,
    };
    res.turns.push(r);
  });
  if (e.status === 'failed') {
    res.status = 'failed';
    res.error = e.error ?? 'failed';
  }
  return res;
}
