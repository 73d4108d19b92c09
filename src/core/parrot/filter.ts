/**
 * The paper's question filters (Parrot-40K drops repetitive, short and sensitive queries), for
 * whole files and for generated candidates. Every rejection carries its reason.
 */
import { BatchedWriter } from '../batchedWriter';
import { parseRecord, recordToLine, type RecordMapping } from '../formats';
import { contentText, type Dialogue, type Turn } from '../model';
import { jsonlText, readFileRecords, type FileRecord } from '../store/records';
import { atomicWrite } from '../store/save';
import { contextDependence } from './context';
import { normalize, similarity, words } from './text';

function isFileRecord(l: { line: number; text: string }): l is FileRecord {
  return 'container' in l;
}

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

export interface FilterReport {
  line: number;
  question: number;
  reason: string;
  /** On the first rejection of a record: what happened to it. */
  fate?: string;
}

export interface FilterFileResult {
  dialogues: number;
  passed: number;
  cut: number;
  dropped: number;
  rejected: FilterReport[];
  invalid: { line: number; column: number; message: string }[];
}

/**
 * Filters every dialogue of `source` (a file, or numbered lines of an open document) into `out`,
 * atomically. A rejected question cuts the dialogue just before it (or, with `drop`, leaves it
 * out); a dialogue rejected at its first question is left out. Passing dialogues, other records
 * and invalid lines are copied byte for byte. With `rejectedOut`, the original lines of cut or
 * left-out records are written there too.
 */
export async function filterFile(
  source: string | AsyncIterable<{ line: number; text: string }>,
  out: string,
  f: QuestionFilter,
  o: {
    drop?: boolean;
    rejectedOut?: string;
    signal?: AbortSignal;
    /** The endpoint's moderation: flagged categories per question (empty: not flagged). */
    moderate?: (questions: string[]) => Promise<string[][]>;
    /**
     * The renames of the source's dataset_info.json entry: records are read through it, and a cut
     * dialogue is written back under the source's own names.
     */
    mapping?: RecordMapping;
  } = {},
): Promise<FilterFileResult> {
  const r: FilterFileResult = { dialogues: 0, passed: 0, cut: 0, dropped: 0, rejected: [], invalid: [] };
  const rejectedLines: string[] = [];
  await atomicWrite(out, undefined, o.signal, async (fh) => {
    const w = BatchedWriter.toFile(fh);
    for await (const l of typeof source === 'string' ? readFileRecords(source) : source) {
      if (l.text.trim() === '') continue;
      const p = parseRecord(l.text, undefined, { mapping: o.mapping });
      let line: string | undefined = isFileRecord(l) ? jsonlText(l) : l.text;
      if (!p.ok) r.invalid.push({ line: l.line, column: p.error.column, message: p.error.message });
      else if (p.sample.kind === 'dialogue') {
        r.dialogues++;
        let rej = dialogueRejections(p.sample, f);
        if (o.moderate) {
          const qs = p.sample.turns.filter((t) => t.role === 'user').map((t) => contentText(t.content));
          const verdicts = qs.length ? await o.moderate(qs) : [];
          const seen = new Set(rej.map((x) => x.question));
          verdicts.forEach((cats, i) => {
            if (cats.length && !seen.has(i + 1))
              rej.push({ question: i + 1, reason: `sensitive (moderation: ${cats.join(', ')})` });
          });
          rej = rej.sort((a, b) => a.question - b.question);
        }
        const first = rej[0];
        if (!first) r.passed++;
        else {
          const keep = o.drop ? 0 : first.question - 1;
          line = keep > 0 ? recordToLine(cutBeforeQuestion(p.sample, first.question), p.layout) : undefined;
          if (line === undefined) r.dropped++;
          else r.cut++;
          rejectedLines.push(l.text);
          const fate =
            line === undefined
              ? 'dialogue left out'
              : `dialogue cut to ${keep} question${keep === 1 ? '' : 's'}`;
          rej.forEach((x, i) => r.rejected.push({ line: l.line, ...x, ...(i === 0 ? { fate } : {}) }));
        }
      }
      const wrote = line !== undefined ? w.write(line + '\n') : undefined;
      if (wrote) await wrote;
    }
    await w.flush();
  });
  if (o.rejectedOut !== undefined)
    await atomicWrite(o.rejectedOut, undefined, o.signal, async (fh) => {
      await fh.write(rejectedLines.map((l) => `${l}\n`).join(''));
    });
  return r;
}

/** `FILE:LINE: rejected: question K: reason (fate)` — the form the CLI prints and the log shows. */
export function formatRejection(file: string, x: FilterReport): string {
  return `${file}:${x.line}: rejected: question ${x.question}: ${x.reason}${x.fate ? ` (${x.fate})` : ''}`;
}
