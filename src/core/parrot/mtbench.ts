import type { LlmClient } from '../llm/client';
import type { Dialogue } from '../model';
import { extend, type ExtendEvents, type ExtendResult, type ExtendSettings } from './extend';

/** An MT-Bench question record (`question_id`, `category`, `turns`: user questions). */
export interface MtBenchQuestion {
  question_id: number | string;
  category: string;
  turns: string[];
  [key: string]: unknown;
}

export function isMtBenchQuestion(v: unknown): v is MtBenchQuestion {
  const o = v as MtBenchQuestion;
  return (
    !!o &&
    typeof o === 'object' &&
    (typeof o.question_id === 'number' || typeof o.question_id === 'string') &&
    Array.isArray(o.turns) &&
    o.turns.every((t) => typeof t === 'string')
  );
}

export interface MtBenchResult {
  record: MtBenchQuestion;
  status: ExtendResult['status'];
  error?: string;
  /** The full dialogue used as context (questions and the answerer's answers). */
  context: Dialogue;
}

/**
 * MT-Bench++: grows the question list to `targetTurns` (8 in the paper). The asker needs answers
 * in context, so each question is answered by the answerer model while extending, but only the
 * questions are stored in `turns` (answers are produced again by the models under evaluation).
 * Every other field of the record is kept as it was.
 */
export async function extendMtBench(
  client: LlmClient,
  q: MtBenchQuestion,
  s: ExtendSettings,
  targetTurns = 8,
  ev: ExtendEvents = {},
): Promise<MtBenchResult> {
  // Existing questions have no answers yet: answer them one by one, then extend.
  const d: Dialogue = { kind: 'dialogue', turns: [], meta: {} };
  let r: ExtendResult | undefined;
  for (const t of q.turns) {
    d.turns.push({ role: 'user', content: t });
    r = await extend(client, d, d.turns.filter((x) => x.role === 'user').length, s, ev);
    d.turns = r.dialogue.turns;
    if (r.status !== 'done') break;
  }
  if (!r || r.status === 'done') {
    r = await extend(client, d, targetTurns, s, ev);
    d.turns = r.dialogue.turns;
  }
  const questions = d.turns
    .filter((t) => t.role === 'user')
    .map((t) => (typeof t.content === 'string' ? t.content : ''));
  const record: MtBenchQuestion = { ...q, turns: questions.length >= q.turns.length ? questions : q.turns };
  return { record, status: r.status, error: r.error, context: d };
}
