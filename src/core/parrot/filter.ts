/**
 * The paper's question filters (Parrot-40K drops repetitive, short and sensitive queries), for
 * whole files and for generated candidates. Every rejection carries its reason.
 */
import { contentText, type Dialogue, type Turn } from '../model';
import { contextDependence } from './context';
import { normalize, similarity, words } from './text';

export interface QuestionFilter {
  /** Fewer words than this is too short. */
  minWords: number;
  /** Similarity (0..1, word-bigram Dice) to an earlier question or to the question's own answer at or above which it is repetitive. */
  maxOverlap: number;
  /** Sensitive words and phrases (normalized; matched as whole words). */
  words: readonly string[];
  /** Reject questions after the first that do not depend on the earlier context. */
  requireContext: boolean;
}

export const DEFAULT_QUESTION_FILTER: QuestionFilter = {
  minWords: 3,
  maxOverlap: 0.8,
  words: [],
  requireContext: false,
};

/** Parses a word list: one word or phrase a line; blank lines and `#` comments ignored. */
export function parseWordList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, ''))
    .map(normalize)
    .filter((l) => l !== '');
}

/** The first listed word or phrase `text` contains as whole words, if any. */
export function sensitiveHit(text: string, list: readonly string[]): string | undefined {
  if (list.length === 0) return undefined;
  const padded = ` ${normalize(text)} `;
  return list.find((w) => padded.includes(` ${w} `));
}

/**
 * Why a question is rejected, or undefined. `earlier` are the dialogue's earlier questions,
 * `answer` the question's own answer (if any), `history` the turns before it.
 */
export function questionProblem(
  question: string,
  earlier: readonly string[],
  answer: string | undefined,
  history: readonly Turn[],
  f: QuestionFilter,
): string | undefined {
  const n = words(question).length;
  if (n < f.minWords) return `too short (${n} word${n === 1 ? '' : 's'}, minimum ${f.minWords})`;
  for (let j = 0; j < earlier.length; j++) {
    const s = similarity(earlier[j] ?? '', question);
    if (s >= f.maxOverlap)
      return `repetitive (overlap ${s.toFixed(2)} >= ${f.maxOverlap} with question ${j + 1})`;
  }
  if (answer !== undefined) {
    const s = similarity(answer, question);
    if (s >= f.maxOverlap)
      return `repetitive (overlap ${s.toFixed(2)} >= ${f.maxOverlap} with its own answer)`;
  }
  const hit = sensitiveHit(question, f.words);
  if (hit !== undefined) return `sensitive (word list: "${hit}")`;
  if (f.requireContext && earlier.length > 0 && !contextDependence(question, history).dependent)
    return 'context-free (does not refer to the earlier conversation)';
  return undefined;
}

export interface DialogueRejection {
  /** 1-based question number. */
  question: number;
  reason: string;
}

/** Every rejected question of a dialogue, in order (empty: the dialogue passes). */
export function dialogueRejections(d: Dialogue, f: QuestionFilter): DialogueRejection[] {
  const out: DialogueRejection[] = [];
  const earlier: string[] = [];
  d.turns.forEach((t, i) => {
    if (t.role !== 'user') return;
    const q = contentText(t.content);
    const next = d.turns[i + 1];
    const answer = next?.role === 'assistant' ? contentText(next.content) : undefined;
    const reason = questionProblem(q, earlier, answer, d.turns.slice(0, i), f);
    if (reason) out.push({ question: earlier.length + 1, reason });
    earlier.push(q);
  });
  return out;
}

/** The dialogue cut just before user question `k` (1-based): what is kept when question k is rejected. */
export function cutBeforeQuestion(d: Dialogue, k: number): Dialogue {
  let seen = 0;
  const idx = d.turns.findIndex((t) => t.role === 'user' && ++seen === k);
  return { ...d, turns: idx < 0 ? d.turns : d.turns.slice(0, idx) };
}
