/**
 * Record-level work of the dialogue editor that needs no `vscode`: summaries for the list, views
 * for the dialogue pane, and the edit intents applied to the canonical model.
 */
import { randomUUID } from 'node:crypto';
import { encodingProblem, MISPLACED_BOM } from '../../core/encoding';
import {
  newLayout,
  parseRecord,
  readRecord,
  recordToLine,
  type ParseResult,
  type RecordMapping,
} from '../../core/formats';
import { contentText, type FormatId, type Part, type Role, type Sample, type Turn } from '../../core/model';
import type { DatasetStore } from '../../core/store';
import type { EditIntent, RecordView, RowSummary, Section, TurnView } from '../../protocol';
import type { ProblemCheck } from './problems';

const TITLE_LENGTH = 160;

export type Parsed = Extract<ParseResult, { ok: true }>;

/** An edit the user asked for that cannot be made; its message is shown as is. */
export class IntentError extends Error {}

/**
 * Messages of refused edits and searches. English here (this module has no `vscode`); the
 * extension replaces them with translated ones through `setEditorMessages`.
 */
export const editorMessages = {
  noSuchPart: (part: string) => `A dialogue has no "${part}" part.`,
  pairHasNoTurns: () => 'A preference pair has no plain turns; edit its prompt, chosen or rejected part.',
  noSuchTurn: (turn: number, total: number) => `There is no turn ${turn} (the record has ${total}).`,
  cannotMove: () => 'The turn cannot move further.',
  notTurnEdit: (type: string) => `"${type}" is not a turn edit.`,
  noLabel: () => 'This record has no label to set (only KTO records and stepwise steps have one).',
  invalidLine: (error: string) => `This line is not a valid record: ${error}. Fix it in the raw view.`,
  formatCannotHold: (format: string, error: string) =>
    `The ${format} format cannot hold this change: ${error}`,
  invalidRegex: (error: string) => `Invalid regular expression: ${error}`,
};

export function setEditorMessages(messages: typeof editorMessages): void {
  Object.assign(editorMessages, messages);
}

export function formatOf(parsed: Parsed): FormatId {
  return parsed.layout.format;
}

function oneLine(text: string, max = TITLE_LENGTH): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function allTurns(sample: Sample): Turn[] {
  return sample.kind === 'dialogue' ? sample.turns : [...sample.prompt, ...sample.chosen];
}

/**
 * Reads a line into the model like `parseRecord`, but without detecting the line's serialisation
 * style (only needed to write the record back): for the list and for search over whole files.
 * `mapping`: the renames of the file's dataset_info.json entry, through which every function here
 * reads (and writes) a record.
 */
export function quickParse(text: string, mapping?: RecordMapping): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return parseRecord(text); // for its error position
  }
  const r = readRecord(value, undefined, mapping);
  if ('error' in r) return { ok: false, error: { message: r.error, column: 1 }, value };
  return { ok: true, sample: r.sample, layout: r.layout, value };
}

export function turnCount(sample: Sample): number {
  return allTurns(sample).length;
}

export function rolesOf(sample: Sample): Set<Role> {
  const roles = new Set<Role>();
  const lists = sample.kind === 'dialogue' ? [sample.turns] : [sample.prompt, sample.chosen, sample.rejected];
  for (const list of lists) for (const t of list) roles.add(t.role);
  if (sample.system !== undefined) roles.add('system');
  return roles;
}

export function errorText(error: { message: string; column: number }): string {
  return `${error.message} (column ${error.column})`;
}

export function summarize(
  line: number,
  text: string,
  parsed: ParseResult = quickParse(text),
  check?: ProblemCheck,
): RowSummary {
  if (!parsed.ok) {
    return { line, ok: false, title: oneLine(text), turns: 0, error: errorText(parsed.error) };
  }
  const sample = parsed.sample;
  const turns = allTurns(sample);
  const first = turns.find((t) => t.role === 'user') ?? turns[0];
  const row: RowSummary = {
    line,
    ok: true,
    title: first ? oneLine(contentText(first.content)) : '',
    turns: turns.length,
    kind: sample.kind,
  };
  row.format = formatOf(parsed);
  if (sample.id !== undefined) row.id = String(sample.id);
  const problems = check?.(text, line);
  if (problems?.errors) row.errors = problems.errors;
  if (problems?.warnings) row.warnings = problems.warnings;
  return row;
}

/**
 * The summary of line `line` of `store` (its text `text`): a line whose bytes are not UTF-8, or
 * that starts with a BOM after the first line, is not a valid record whatever its decoded text
 * reads as (loaders refuse it); the error gives the column of the first bad byte. Only lines the
 * store flags as invalid UTF-8 are read again as bytes.
 */
export async function summarizeStored(
  store: Pick<DatasetStore, 'lineInfo' | 'readLineBytes'>,
  line: number,
  text: string,
  check?: ProblemCheck,
  mapping?: RecordMapping,
): Promise<RowSummary> {
  let problem: { column: number; message: string } | undefined;
  if (line > 0 && text.charCodeAt(0) === 0xfeff) problem = { column: 0, message: MISPLACED_BOM };
  else if (store.lineInfo(line).invalidUtf8) {
    const bytes = await store.readLineBytes(line);
    problem = encodingProblem(bytes, 0, bytes.length, line === 0);
  }
  if (!problem) return summarize(line, text, quickParse(text, mapping), check);
  return {
    line,
    ok: false,
    title: oneLine(text),
    turns: 0,
    error: errorText({ message: problem.message, column: problem.column + 1 }),
  };
}

function pretty(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
}

function turnView(t: Turn): TurnView {
  const view: TurnView = {
    role: t.role,
    text: contentText(t.content),
    parts: Array.isArray(t.content),
    nonTextParts: Array.isArray(t.content) ? t.content.filter((p) => typeof p.text !== 'string').length : 0,
  };
  if (t.weight !== undefined) view.weight = t.weight;
  if (t.name !== undefined) view.name = t.name;
  if (t.toolCalls !== undefined) view.toolCalls = pretty(t.toolCalls);
  if (t.label !== undefined) view.label = t.label;
  return view;
}

export function toRecordView(
  line: number,
  text: string,
  parsed: ParseResult = parseRecord(text),
): RecordView {
  if (!parsed.ok) return { line, ok: false, raw: text, error: parsed.error };
  const s = parsed.sample;
  const view: RecordView = {
    line,
    ok: true,
    format: formatOf(parsed),
    kind: s.kind,
    turns: s.kind === 'dialogue' ? s.turns.map(turnView) : [],
    prompt: s.kind === 'preference' ? s.prompt.map(turnView) : [],
    chosen: s.kind === 'preference' ? s.chosen.map(turnView) : [],
    rejected: s.kind === 'preference' ? s.rejected.map(turnView) : [],
    raw: text,
  };
  if (s.id !== undefined) view.id = String(s.id);
  if (s.system !== undefined) view.system = s.system;
  if (s.tools !== undefined) view.tools = pretty(s.tools);
  if (s.kind === 'preference' && s.meta.strategy !== undefined) view.strategy = String(s.meta.strategy);
  if (s.kind === 'dialogue' && s.label !== undefined) view.label = s.label;
  return view;
}

// ---------------------------------------------------------------------------------------------
// Intents on the canonical model

function turnsOf(sample: Sample, section: Section): Turn[] {
  if (sample.kind === 'dialogue') {
    if (section !== 'turns') throw new IntentError(editorMessages.noSuchPart(section));
    return sample.turns;
  }
  if (section === 'turns') throw new IntentError(editorMessages.pairHasNoTurns());
  return sample[section];
}

function turnAt(turns: Turn[], index: number): Turn {
  const t = turns[index];
  if (!t) throw new IntentError(editorMessages.noSuchTurn(index + 1, turns.length));
  return t;
}

/** New content with the given text, in the shape the old content had (string or parts). */
export function withText(content: Turn['content'], text: string): Turn['content'] {
  if (typeof content === 'string') return text;
  const out: Part[] = [];
  let placed = false;
  for (const part of content) {
    if (typeof part.text === 'string') {
      if (!placed) {
        out.push({ ...part, text });
        placed = true;
      }
    } else {
      out.push(part);
    }
  }
  if (!placed) out.unshift({ type: 'text', text });
  return out;
}

function emptyLike(turns: readonly Turn[], role: Role): Turn {
  const usesParts = turns.some((t) => Array.isArray(t.content));
  return { role, content: usesParts ? [{ type: 'text', text: '' }] : '' };
}

/** Applies a turn-level intent to `sample` (mutating it). */
export function applyTurnIntent(sample: Sample, intent: EditIntent): void {
  switch (intent.type) {
    case 'editTurn': {
      const t = turnAt(turnsOf(sample, intent.section), intent.turn);
      t.content = withText(t.content, intent.text);
      return;
    }
    case 'setRole':
      turnAt(turnsOf(sample, intent.section), intent.turn).role = intent.role;
      return;
    case 'addTurn': {
      const turns = turnsOf(sample, intent.section);
      if (intent.after >= turns.length)
        throw new IntentError(editorMessages.noSuchTurn(intent.after + 1, turns.length));
      turns.splice(intent.after + 1, 0, emptyLike(turns, intent.role));
      return;
    }
    case 'deleteTurn': {
      const turns = turnsOf(sample, intent.section);
      turnAt(turns, intent.turn);
      turns.splice(intent.turn, 1);
      return;
    }
    case 'duplicateTurn': {
      const turns = turnsOf(sample, intent.section);
      const t = turnAt(turns, intent.turn);
      turns.splice(intent.turn + 1, 0, structuredClone(t));
      return;
    }
    case 'moveTurn': {
      const turns = turnsOf(sample, intent.section);
      const t = turnAt(turns, intent.turn);
      const to = intent.turn + intent.delta;
      if (to < 0 || to >= turns.length) throw new IntentError(editorMessages.cannotMove());
      turns.splice(intent.turn, 1);
      turns.splice(to, 0, t);
      return;
    }
    case 'editSystem':
      if (intent.text === '') delete sample.system;
      else sample.system = intent.text;
      return;
    case 'setLabel': {
      if (sample.kind !== 'dialogue') throw new IntentError(editorMessages.noLabel());
      if (intent.turn === undefined) {
        if (sample.label === undefined) throw new IntentError(editorMessages.noLabel());
        sample.label = intent.label;
        return;
      }
      const t = turnAt(sample.turns, intent.turn);
      if (t.label === undefined) throw new IntentError(editorMessages.noLabel());
      t.label = intent.label;
      return;
    }
    default:
      throw new IntentError(editorMessages.notTurnEdit(intent.type));
  }
}

/** The line after applying a turn-level intent to `text`, written in the record's own style. */
export function editedLine(text: string, intent: EditIntent, mapping?: RecordMapping): string {
  const parsed = parseRecord(text, undefined, { mapping });
  if (!parsed.ok) throw new IntentError(editorMessages.invalidLine(errorText(parsed.error)));
  applyTurnIntent(parsed.sample, intent);
  try {
    return recordToLine(parsed.sample, parsed.layout);
  } catch (err) {
    const format = formatOf(parsed);
    throw new IntentError(
      editorMessages.formatCannotHold(format, err instanceof Error ? err.message : String(err)),
    );
  }
}

function emptied(turns: readonly Turn[]): Turn[] {
  return turns.map((t) => ({ role: t.role, content: withText(t.content, '') }));
}

/** True when `line` reads back as a record of `format`. */
function readsAs(line: string, format: FormatId, mapping: RecordMapping | undefined): boolean {
  const p = parseRecord(line, undefined, { mapping });
  return p.ok && p.layout.format === format;
}

/**
 * A new, empty record in the format (and style) of `template`; OpenAI chat when there is none.
 * First a bare record (the template's first two roles, empty texts, no other fields); when the
 * format needs more (MT-Bench needs a `question_id`), a copy of the template with every text
 * emptied and its id removed.
 */
export function newRecordLine(template: string | undefined, mapping?: RecordMapping): string {
  const parsed = template === undefined ? undefined : parseRecord(template, undefined, { mapping });
  if (parsed?.ok) {
    const s = parsed.sample;
    const format = parsed.layout.format;
    const layout = newLayout(format, parsed.layout.style, parsed.layout.entry?.map);
    const bare: Sample =
      s.kind === 'dialogue'
        ? { kind: 'dialogue', turns: emptied(s.turns.slice(0, 2)), meta: {} }
        : {
            kind: 'preference',
            prompt: emptied(s.prompt.slice(0, 1)),
            chosen: emptied(s.chosen.slice(0, 1)),
            rejected: emptied(s.rejected.slice(0, 1)),
            meta: {},
          };
    const copy = structuredClone(s);
    delete copy.id;
    // Records with ids get a new one, so that ids do not repeat.
    if (typeof s.id === 'string') bare.id = copy.id = randomUUID();
    if (copy.system !== undefined) copy.system = '';
    if (copy.kind === 'dialogue') copy.turns = emptied(copy.turns);
    else {
      copy.prompt = emptied(copy.prompt);
      copy.chosen = emptied(copy.chosen);
      copy.rejected = emptied(copy.rejected);
    }
    for (const [sample, lay] of [
      [bare, layout],
      [copy, parsed.layout],
    ] as const) {
      try {
        const line = recordToLine(sample, lay);
        if (readsAs(line, format, mapping)) return line;
      } catch {
        // try the next shape
      }
    }
  }
  return JSON.stringify({
    messages: [
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ],
  });
}

/**
 * `line` with a fresh string id (the old id plus a random suffix) when it has one, for a duplicated
 * record; otherwise `line` unchanged. Only the id changes: the record is written back in its layout.
 */
export function withFreshId(line: string, mapping?: RecordMapping): string {
  const parsed = parseRecord(line, undefined, { mapping });
  if (!parsed.ok || typeof parsed.sample.id !== 'string') return line;
  const sample = { ...parsed.sample, id: `${parsed.sample.id}-${randomUUID().slice(0, 8)}` };
  try {
    return recordToLine(sample, parsed.layout);
  } catch {
    return line;
  }
}
