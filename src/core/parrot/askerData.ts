/**
 * The Parrot-Ask training set: dialogues with the roles reversed, so that a model fine-tuned on
 * them writes the next *user* question. Every sample is built from the request `buildAskRequest`
 * sends in `parrot-ask` mode, so the history a trained asker sees at inference is, message for
 * message, the prefix it was trained on.
 */
import { BatchedWriter } from '../batchedWriter';
import { parseRecord, type RecordMapping } from '../formats';
import type { ChatMessage } from '../llm/client';
import type { Dialogue } from '../model';
import { buildAskRequest, type AskSettings } from './ask';
import { turnText } from './messages';
import { readFileRecords } from '../store/records';
import { atomicWrite } from '../store/save';
import type { Template } from './templates';

export type AskerFormat = 'openai' | 'llamafactory-v1' | 'sharegpt' | 'trl';

export const ASKER_FORMATS: readonly AskerFormat[] = ['openai', 'llamafactory-v1', 'sharegpt', 'trl'];

/** Which user questions (1-based, in dialogue order) carry the loss. */
export type QuestionSelection =
  { kind: 'all' } | { kind: 'last' } | { kind: 'range'; from: number; to?: number };

export interface AskerDataOptions {
  /** The asker system prompt: the same template `parrot-ask` mode sends. */
  template: Template;
  /** Train on the first question too (at inference the first question is never asked for). */
  includeSeed: boolean;
  questions: QuestionSelection;
  /** Dialogues with fewer user questions are skipped. */
  minQuestions: number;
}

/** A dialogue written the reversed way: `targets` are the indices of the messages that carry the loss. */
export interface AskerSample {
  messages: ChatMessage[];
  targets: number[];
  /** Per target message, the question number (1-based) it is. */
  questions: number[];
  /** Per target message, the exact history the asker is sent before writing it. */
  prefixes: ChatMessage[][];
}

export type AskerResult = { ok: true; sample: AskerSample } | { ok: false; reason: string };

/** Parses `all`, `last`, `N`, `N-M` or `N-` (question numbers, 1-based). */
export function parseQuestionSelection(spec: string): QuestionSelection {
  const s = spec.trim();
  if (s === 'all') return { kind: 'all' };
  if (s === 'last') return { kind: 'last' };
  const m = /^(\d+)(?:(-)(\d+)?)?$/.exec(s);
  const from = m ? Number(m[1]) : NaN;
  const to = m?.[3] !== undefined ? Number(m[3]) : m?.[2] ? undefined : from;
  if (!m || from < 1 || (to !== undefined && to < from))
    throw new Error(`questions must be all, last, N, N-M or N- with 1 <= N <= M (got '${spec}')`);
  return to === undefined ? { kind: 'range', from } : { kind: 'range', from, to };
}

function selected(sel: QuestionSelection, k: number, count: number): boolean {
  if (sel.kind === 'all') return true;
  if (sel.kind === 'last') return k === count;
  return k >= sel.from && (sel.to === undefined || k <= sel.to);
}

function sameMessages(a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean {
  return a.length === b.length && a.every((m, i) => m.role === b[i]?.role && m.content === b[i]?.content);
}

/**
 * The training sample for one dialogue, or why it has none. The dialogue is cut after its last
 * selected question (later turns teach the asker nothing); a question whose history cannot be
 * asked in `parrot-ask` mode (two user turns in a row, a question before any answer but the first)
 * makes the dialogue unusable, and the reason says so.
 */
export function askerSample(d: Dialogue, o: AskerDataOptions): AskerResult {
  const userAt: number[] = [];
  d.turns.forEach((t, i) => t.role === 'user' && userAt.push(i));
  const count = userAt.length;
  if (count < o.minQuestions)
    return { ok: false, reason: `${count} user question(s), fewer than the minimum ${o.minQuestions}` };
  const want: number[] = [];
  for (let k = 1; k <= count; k++)
    if ((k > 1 || o.includeSeed) && selected(o.questions, k, count)) want.push(k);
  if (want.length === 0)
    return { ok: false, reason: 'no question of this dialogue is selected for training' };
  const last = want[want.length - 1] ?? count;
  const settings: AskSettings = {
    mode: 'parrot-ask',
    model: '',
    temperature: 0,
    maxTokens: 1,
    n: 1,
    template: o.template,
  };
  const prefixOf = (k: number): ChatMessage[] => {
    const cut = userAt[k - 1] ?? 0;
    if (k === 1) {
      // Nothing to ask from yet: the asker starts from its system prompt alone (the seed case).
      const sys = buildAskRequest({ ...d, turns: d.turns.slice(0, cut + 2) }, settings).messages[0];
      if (d.turns.slice(0, cut).some((t) => t.role !== 'system'))
        throw new Error('the first user question follows other turns');
      return sys?.role === 'system' ? [sys] : [];
    }
    return buildAskRequest({ ...d, turns: d.turns.slice(0, cut) }, settings).messages;
  };
  const prefixes: ChatMessage[][] = [];
  let messages: ChatMessage[];
  try {
    const lastTurn = d.turns[userAt[last - 1] ?? 0];
    if (!lastTurn) return { ok: false, reason: 'no user question' };
    const lastPrefix = prefixOf(last);
    messages = [...lastPrefix, { role: 'assistant', content: turnText(lastTurn) }];
    for (const k of want) prefixes.push(k === last ? lastPrefix : prefixOf(k));
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  const targets: number[] = [];
  for (let i = 0; i < want.length; i++) {
    const k = want[i] ?? 0;
    const p = prefixes[i] ?? [];
    const at = p.length;
    const m = messages[at];
    const q = d.turns[userAt[k - 1] ?? 0];
    // Merged turns (tool output folded into a question) would make the prefix differ: refuse, never guess.
    if (
      !sameMessages(p, messages.slice(0, at)) ||
      !m ||
      m.role !== 'assistant' ||
      !q ||
      m.content !== turnText(q)
    )
      return { ok: false, reason: `question ${k} is not a message of its own in the reversed history` };
    targets.push(at);
  }
  return { ok: true, sample: { messages, targets, questions: want, prefixes } };
}

/** One message of a sample, with its loss flag. */
interface Msg {
  role: ChatMessage['role'];
  content: string;
  loss: boolean;
}

function withLoss(s: AskerSample): Msg[] {
  const t = new Set(s.targets);
  return s.messages.map((m, i) => ({ role: m.role, content: m.content, loss: t.has(i) }));
}

/**
 * The output lines for one sample. `openai`, `llamafactory-v1` and `sharegpt` write one line per
 * dialogue; `trl` (prompt–completion) one line per trained question.
 */
export function askerLines(s: AskerSample, f: AskerFormat): string[] {
  switch (f) {
    case 'openai':
      return [
        JSON.stringify({
          messages: withLoss(s).map((m) =>
            m.role === 'assistant'
              ? { role: m.role, content: m.content, weight: m.loss ? 1 : 0 }
              : { role: m.role, content: m.content },
          ),
        }),
      ];
    case 'llamafactory-v1':
      return [
        JSON.stringify({
          messages: withLoss(s).map((m) => ({
            role: m.role,
            content: [{ type: 'text', value: m.content }],
            loss_weight: m.loss ? 1.0 : 0.0,
          })),
        }),
      ];
    case 'sharegpt': {
      const msgs = withLoss(s);
      const system = msgs[0]?.role === 'system' ? msgs[0].content : undefined;
      const conversations = msgs
        .filter((m) => m.role !== 'system')
        .map((m) => ({ from: m.role === 'assistant' ? 'gpt' : 'human', value: m.content }));
      return [JSON.stringify(system === undefined ? { conversations } : { system, conversations })];
    }
    case 'trl':
      return s.targets.map((at, i) =>
        JSON.stringify({
          prompt: s.prefixes[i] ?? [],
          completion: [{ role: 'assistant', content: s.messages[at]?.content ?? '' }],
        }),
      );
  }
}

/** Whether every trained question is marked in the format (ShareGPT has no per-turn loss mask). */
export function formatMasks(f: AskerFormat): boolean {
  return f !== 'sharegpt';
}

/**
 * The LLaMA-Factory dataset declaration for `fileName`: v1 reads a `dataset_info.yaml`
 * (`{name: {path, source: local}}`, per-message `loss_weight` honoured by its renderer).
 */
export function llamaFactoryV1Entry(name: string, fileName: string): string {
  return `${JSON.stringify(name)}:\n  path: ${JSON.stringify(fileName)}\n  source: local\n`;
}

/** A record of the input that gave no sample, and why (never dropped silently). */
export interface AskerSkip {
  line: number;
  reason: string;
}

export interface AskerExportResult {
  dialogues: number;
  samples: number;
  lines: number;
  skipped: AskerSkip[];
}

/**
 * Reads every record of `source` (a file, or the lines of an open document with their 1-based
 * numbers) and writes the training set to `out` atomically (temporary file,
 * fsync, rename): a failure leaves `out` as it was. Records that are not dialogues, or give no
 * sample, are returned in `skipped` with their line and reason.
 */
export async function exportAskerData(
  source: string | AsyncIterable<{ line: number; text: string }>,
  out: string,
  format: AskerFormat,
  o: AskerDataOptions,
  signal?: AbortSignal,
  /** The renames of the source's dataset_info.json entry, through which its records are read. */
  mapping?: RecordMapping,
): Promise<AskerExportResult> {
  const r: AskerExportResult = { dialogues: 0, samples: 0, lines: 0, skipped: [] };
  await atomicWrite(out, undefined, signal, async (fh) => {
    const w = BatchedWriter.toFile(fh);
    for await (const l of typeof source === 'string' ? readFileRecords(source) : source) {
      if (l.text.trim() === '') continue;
      if (signal?.aborted) throw new Error('cancelled');
      const p = parseRecord(l.text, undefined, { mapping });
      if (!p.ok) {
        r.skipped.push({
          line: l.line,
          reason: `not a record (${p.error.message}, column ${p.error.column})`,
        });
        continue;
      }
      if (p.sample.kind !== 'dialogue') {
        r.skipped.push({ line: l.line, reason: 'a preference pair, not a dialogue' });
        continue;
      }
      r.dialogues++;
      const s = askerSample(p.sample, o);
      if (!s.ok) {
        r.skipped.push({ line: l.line, reason: s.reason });
        continue;
      }
      r.samples++;
      for (const line of askerLines(s.sample, format)) {
        const wrote = w.write(line + '\n');
        if (wrote) await wrote;
        r.lines++;
      }
    }
    await w.flush();
  });
  return r;
}
