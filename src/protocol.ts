/**
 * The typed messages between the extension host and the dialogue editor webview.
 *
 * One union type per direction. The webview is untrusted input (it renders dataset text), so every
 * message it sends goes through `parseWebviewMessage`, and the host acts only on what that returns.
 * This file is shared by the host bundle and the webview bundle: it imports types only.
 */
import type { CapoStrategy, FormatId, Role } from './core/model';
import {
  parseReviewMessage,
  parseReviewQuery,
  type ReviewHostMessage,
  type ReviewStatus,
  type ReviewWebviewMessage,
} from './reviewProtocol';
import { parseMaskMessage, type MaskHostMessage, type MaskWebviewMessage } from './maskProtocol';

export const ROLE_IDS: readonly Role[] = [
  'system',
  'user',
  'assistant',
  'tool',
  'function_call',
  'observation',
];

export const FORMAT_IDS: readonly FormatId[] = [
  'sharegpt',
  'openai',
  'llamafactory-v1',
  'trl-preference',
  'openai-preference',
  'sharegpt-preference',
  'llamafactory-v1-preference',
  'alpaca',
  'mt-bench',
  'trl-kto',
  'llamafactory-kto',
  'trl-prompt-completion',
  'trl-stepwise',
];

/** Which list of turns of a record an intent addresses. Dialogues have `turns`; preference pairs the other three. */
export type Section = 'turns' | 'prompt' | 'chosen' | 'rejected';
export const SECTIONS: readonly Section[] = ['turns', 'prompt', 'chosen', 'rejected'];

/** Most rows one `requestRows` may ask for. */
export const MAX_ROWS_PER_REQUEST = 500;

// ---------------------------------------------------------------------------------------------
// Data shapes

/** One line of the dataset list. */
export interface RowSummary {
  line: number;
  ok: boolean;
  id?: string;
  /** First user message (shortened), or the start of the raw line when it does not parse. */
  title: string;
  turns: number;
  format?: FormatId;
  kind?: 'dialogue' | 'preference';
  /** Parse error, with its column, for malformed lines. */
  error?: string;
  /** Errors and warnings of the record's own validation rules (absent: none, or validation off). */
  errors?: number;
  warnings?: number;
}

export interface TurnView {
  role: Role;
  /** Plain text of the content (text parts joined). */
  text: string;
  /** True when the content is a list of parts on disk. */
  parts: boolean;
  /** Parts that are not text (images, …): kept as they are, shown as a count. */
  nonTextParts: number;
  weight?: number;
  name?: string;
  /** `tool_calls`, pretty-printed JSON. */
  toolCalls?: string;
  /** TRL stepwise supervision: whether this step is correct. */
  label?: boolean;
}

export interface RecordOk {
  line: number;
  ok: true;
  format: FormatId;
  kind: 'dialogue' | 'preference';
  id?: string;
  system?: string;
  /** Tools, pretty-printed JSON (or the string as written when the format keeps tools as a string). */
  tools?: string;
  /** Dialogue turns (empty for preference pairs). */
  turns: TurnView[];
  prompt: TurnView[];
  chosen: TurnView[];
  rejected: TurnView[];
  /** CaPO strategy of a preference pair, when recorded. */
  strategy?: string;
  /** Unpaired preference (KTO): whether the completion is desirable. */
  label?: boolean;
  /** The line as stored. */
  raw: string;
  /** Media the record points to (images, videos, audio), as the webview may show them. */
  media?: MediaView[];
}

/**
 * One media reference of a record. `src` is set only for what the webview may load: a local file
 * inside the dataset's folder (or LLaMA-Factory's media dir) as a webview URI, a `data:` image, or a
 * remote URL when the user allowed remote media; otherwise `state` says why it is a placeholder.
 */
export interface MediaView {
  section: Section;
  /** 0-based turn; -1: an entry no placeholder points to. */
  turn: number;
  kind: 'image' | 'video' | 'audio';
  /** The path or URL as written in the record. */
  ref: string;
  state: 'shown' | 'remote' | 'missing' | 'outside';
  src?: string;
}

export interface RecordBad {
  line: number;
  ok: false;
  raw: string;
  error: { message: string; column: number };
}

export type RecordView = RecordOk | RecordBad;

/** Filters and search over the whole file, run by the host. Empty query = every line. */
export interface Query {
  text?: string;
  regex?: boolean;
  caseSensitive?: boolean;
  invalidOnly?: boolean;
  /** Records with an error or a warning (the record's own validation rules). */
  problems?: boolean;
  minTurns?: number;
  maxTurns?: number;
  role?: Role;
  format?: FormatId;
  /** Records whose review status is this one (reviewProtocol.ts). */
  review?: ReviewStatus;
  /** Records with provenance (generated) only. */
  generated?: boolean;
}

export interface QueryHit {
  line: number;
  /** Text around the first match (search only). */
  snippet?: string;
}

export const WEBVIEW_STRING_KEYS = [
  'addDialogue',
  'addTurn',
  'addTurnAfter',
  'actionAnswer',
  'actionAskFollowUp',
  'actionCancel',
  'actionCancelled',
  'actionDismiss',
  'actionExtend',
  'actionFailed',
  'actionNegative',
  'actionNegativeGroup',
  'actionRunning',
  'actionsNotReady',
  'reviewDiscard',
  'reviewDiscarded',
  'reviewKeep',
  'reviewKept',
  'reviewRegion',
  'reviewTitle',
  'rowBusy',
  'anyFormat',
  'anyRole',
  'apply',
  'badgeInvalid',
  'badgePreference',
  'badgeValid',
  'badgeWarning',
  'badgeWarnings',
  'hasProblems',
  'cancel',
  'cancelSearch',
  'chosen',
  'deleteDialogue',
  'deleteTurn',
  'dialogueRegion',
  'diffTruncated',
  'duplicateDialogue',
  'duplicateTurn',
  'edit',
  'editHint',
  'editJson',
  'editText',
  'emptyFile',
  'emptyTurn',
  'fixLine',
  'formatFilter',
  'goTo',
  'goToInvalid',
  'hideDiff',
  'idIs',
  'indexing',
  'invalidOnly',
  'jsonErrorAt',
  'jsonValid',
  'listLabel',
  'loading',
  'malformed',
  'malformedAt',
  'matchCase',
  'matches',
  'maxTurns',
  'mediaMissing',
  'mediaOutside',
  'mediaRemote',
  'mediaUnplaced',
  'minTurns',
  'moveDown',
  'moveUp',
  'nRecords',
  'nTurns',
  'nameIs',
  'noMatches',
  'noRecord',
  'noSuchRecord',
  'noSystemPrompt',
  'nonTextParts',
  'oneMatch',
  'oneRecord',
  'oneTurn',
  'plainText',
  'prompt',
  'rawLine',
  'recordN',
  'regex',
  'rejected',
  'role',
  'roleFilter',
  'search',
  'searchAndFilter',
  'searchCancelled',
  'searchPlaceholder',
  'searching',
  'showDialogue',
  'showDiff',
  'showJson',
  'strategyIs',
  'systemPrompt',
  'toolCalls',
  'tools',
  'turnLabel',
  'unsaved',
  'weightIs',
  'labelDesirable',
  'labelUndesirable',
  'stepCorrect',
  'stepIncorrect',
  'toggleLabel',
] as const;

export type WebviewStringKey = (typeof WEBVIEW_STRING_KEYS)[number];

/** Strings the webview shows, translated by the host. */
export type WebviewStrings = Record<WebviewStringKey, string>;

// ---------------------------------------------------------------------------------------------
// Host -> webview

export type HostMessage =
  | {
      type: 'init';
      strings: WebviewStrings;
      fileName: string;
      roles: readonly Role[];
      formats: readonly FormatId[];
    }
  | {
      /** Document state: sent while the index grows, after every edit, undo, redo, revert or reload. */
      type: 'status';
      lineCount: number;
      indexing: boolean;
      dirty: boolean;
      version: number;
      /** Lines were inserted, deleted or moved since the last status (line numbers shifted). */
      structural: boolean;
      /** Why the file holds no records to show (it could not be read as a dataset). */
      problem?: string;
      /** The whole document was reloaded (drop every cache). */
      reloaded: boolean;
    }
  | { type: 'rows'; rows: RowSummary[] }
  | { type: 'record'; record: RecordView }
  | { type: 'queryProgress'; id: number; hits: QueryHit[]; scanned: number; total: number }
  | { type: 'queryDone'; id: number; matched: number; scanned: number; cancelled: boolean; error?: string }
  /** Select and show this line (after adding or duplicating a dialogue). */
  | { type: 'reveal'; line: number }
  | { type: 'error'; message: string }
  /**
   * Show only these lines in the list (a bar or cluster of the Dataset Overview), in file order;
   * `label` says what they are. Any search or filter is cleared first.
   */
  | { type: 'showLines'; label: string; lines: number[] }
  /**
   * Which generation actions can run: for each, the settings still missing (empty = ready).
   * Sent after `init` and whenever the endpoint settings change.
   */
  | { type: 'generation'; missing: Record<ActionKind, string[]> }
  /** Progress of a generation action started by `runAction` (same `id`). */
  | {
      type: 'actionState';
      id: number;
      line: number;
      turn?: number;
      action: ActionKind;
      state: ActionPhase;
      /** Why it failed or was cancelled (already shown as a notification by the command). */
      message?: string;
      /** While an answer streams in: the text received so far. */
      partial?: string;
    }
  /** A generated CaPO pair waiting for Keep or Discard (`reviewDecision` with the same `id`). */
  | {
      type: 'review';
      id: number;
      line: number;
      turn: number;
      strategy: CapoStrategy;
      chosen: string;
      rejected: string;
    }
  | ReviewHostMessage
  | MaskHostMessage;

// ---------------------------------------------------------------------------------------------
// Webview -> host

export type EditIntent =
  | { type: 'editTurn'; line: number; section: Section; turn: number; text: string }
  | { type: 'setRole'; line: number; section: Section; turn: number; role: Role }
  /** Insert a new turn after `after` (-1 = first). */
  | { type: 'addTurn'; line: number; section: Section; after: number; role: Role }
  | { type: 'deleteTurn'; line: number; section: Section; turn: number }
  | { type: 'duplicateTurn'; line: number; section: Section; turn: number }
  | { type: 'moveTurn'; line: number; section: Section; turn: number; delta: -1 | 1 }
  /** Set the system prompt (empty text removes it). */
  | { type: 'editSystem'; line: number; text: string }
  /** Replace the whole line (raw JSON editing, fixing a malformed line). Must be valid JSON. */
  | { type: 'replaceRecord'; line: number; text: string }
  /** Insert a new dialogue after `after` (-1 = first), in the file's format. */
  | { type: 'addDialogue'; after: number }
  | { type: 'duplicateDialogue'; line: number }
  | { type: 'deleteDialogue'; line: number }
  /** Set a KTO record's label (no `turn`) or a stepwise step's label (`turn`: index in the turns). */
  | { type: 'setLabel'; line: number; turn?: number; label: boolean };

/** Generation actions of the dialogue editor, each run by the command of the same name. */
export type ActionKind = 'capoNegative' | 'askFollowUp' | 'answerTurn' | 'extendDialogue';
export const ACTION_KINDS: readonly ActionKind[] = [
  'capoNegative',
  'askFollowUp',
  'answerTurn',
  'extendDialogue',
];

export type { CapoStrategy };
/** CaPO strategies, in the order the editor offers them. */
export const CAPO_STRATEGY_IDS: readonly CapoStrategy[] = ['neglect', 'hallucinate', 'misread'];

/**
 * `running`: the command works; `review`: a pair waits for Keep or Discard; `done`: finished (a kept
 * pair, or the edit applied); `discarded`; `cancelled`; `failed` (refused or an error).
 */
export type ActionPhase = 'running' | 'review' | 'done' | 'discarded' | 'cancelled' | 'failed';

/**
 * Starts a generation action on record `line`. `turn` (0-based index into the dialogue's turns):
 * - `capoNegative`: the assistant turn to build a rejected answer for (needs `strategy`);
 * - `askFollowUp`: the user turn after whose answer the new question goes (omitted: at the end);
 * - `answerTurn`: the user turn to answer (omitted: the last turn);
 * - `extendDialogue`: not used.
 * `id` is chosen by the webview; the host's `actionState` and `review` messages carry it back.
 */
export interface RunAction {
  type: 'runAction';
  id: number;
  action: ActionKind;
  line: number;
  turn?: number;
  strategy?: CapoStrategy;
}

export type WebviewMessage =
  | { type: 'ready' }
  | RunAction
  /** Keep (append to the preference file) or discard the pair of a `review`. */
  | { type: 'reviewDecision'; id: number; decision: 'keep' | 'discard' }
  /** Stops a running generation action (its pair, if one waits, is discarded). */
  | { type: 'cancelAction'; id: number }
  | { type: 'requestRows'; lines: number[] }
  | { type: 'openRecord'; line: number }
  | { type: 'query'; id: number; query: Query }
  | { type: 'cancelQuery'; id: number }
  | { type: 'openLink'; href: string }
  | ReviewWebviewMessage
  | MaskWebviewMessage
  | EditIntent;

export const EDIT_INTENT_TYPES = [
  'editTurn',
  'setRole',
  'addTurn',
  'deleteTurn',
  'duplicateTurn',
  'moveTurn',
  'editSystem',
  'replaceRecord',
  'addDialogue',
  'duplicateDialogue',
  'deleteDialogue',
  'setLabel',
] as const satisfies readonly EditIntent['type'][];

export function isEditIntent(m: WebviewMessage): m is EditIntent {
  return (EDIT_INTENT_TYPES as readonly string[]).includes(m.type);
}

// ---------------------------------------------------------------------------------------------
// Runtime checks of webview messages

/** Longest text one message may carry (a whole record edited as raw JSON). */
const MAX_TEXT = 64 * 1024 * 1024;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isIndex(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}
function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_TEXT;
}
function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLE_IDS as readonly string[]).includes(v);
}
function isFormat(v: unknown): v is FormatId {
  return typeof v === 'string' && (FORMAT_IDS as readonly string[]).includes(v);
}
function isSection(v: unknown): v is Section {
  return typeof v === 'string' && (SECTIONS as readonly string[]).includes(v);
}
function isAction(v: unknown): v is ActionKind {
  return typeof v === 'string' && (ACTION_KINDS as readonly string[]).includes(v);
}
function isStrategy(v: unknown): v is CapoStrategy {
  return typeof v === 'string' && (CAPO_STRATEGY_IDS as readonly string[]).includes(v);
}
function optional<T>(v: unknown, check: (x: unknown) => x is T): boolean {
  return v === undefined || check(v);
}
function isBool(v: unknown): v is boolean {
  return typeof v === 'boolean';
}

function parseQuery(v: unknown): Query | undefined {
  if (!isObj(v)) return undefined;
  if (
    !optional(v.text, (x): x is string => typeof x === 'string' && x.length <= 10_000) ||
    !optional(v.regex, isBool) ||
    !optional(v.caseSensitive, isBool) ||
    !optional(v.invalidOnly, isBool) ||
    !optional(v.problems, isBool) ||
    !optional(v.minTurns, isIndex) ||
    !optional(v.maxTurns, isIndex) ||
    !optional(v.role, isRole) ||
    !optional(v.format, isFormat)
  ) {
    return undefined;
  }
  const q: Query = {};
  if (v.text !== undefined) q.text = v.text as string;
  if (v.regex !== undefined) q.regex = v.regex as boolean;
  if (v.caseSensitive !== undefined) q.caseSensitive = v.caseSensitive as boolean;
  if (v.invalidOnly !== undefined) q.invalidOnly = v.invalidOnly as boolean;
  if (v.problems !== undefined) q.problems = v.problems as boolean;
  if (v.minTurns !== undefined) q.minTurns = v.minTurns as number;
  if (v.maxTurns !== undefined) q.maxTurns = v.maxTurns as number;
  if (v.role !== undefined) q.role = v.role as Role;
  if (v.format !== undefined) q.format = v.format as FormatId;
  const review = parseReviewQuery(v);
  if (!review) return undefined;
  Object.assign(q, review);
  return q;
}

/**
 * Checks a message received from the webview. Returns a fresh, well-typed copy holding only the
 * known fields, or undefined when the message is not one the host understands.
 */
export function parseWebviewMessage(v: unknown): WebviewMessage | undefined {
  if (!isObj(v) || typeof v.type !== 'string') return undefined;
  const m = v;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'requestRows': {
      const lines = m.lines;
      if (!Array.isArray(lines) || lines.length > MAX_ROWS_PER_REQUEST || !lines.every((x) => isIndex(x))) {
        return undefined;
      }
      return { type: 'requestRows', lines: lines };
    }
    case 'openRecord':
      return isIndex(m.line) ? { type: 'openRecord', line: m.line } : undefined;
    case 'query': {
      const query = parseQuery(m.query);
      return isIndex(m.id) && query ? { type: 'query', id: m.id, query } : undefined;
    }
    case 'cancelQuery':
      return isIndex(m.id) ? { type: 'cancelQuery', id: m.id } : undefined;
    case 'openLink':
      return typeof m.href === 'string' && m.href.length <= 8192
        ? { type: 'openLink', href: m.href }
        : undefined;
    case 'editTurn':
      return isIndex(m.line) && isSection(m.section) && isIndex(m.turn) && isText(m.text)
        ? { type: 'editTurn', line: m.line, section: m.section, turn: m.turn, text: m.text }
        : undefined;
    case 'setRole':
      return isIndex(m.line) && isSection(m.section) && isIndex(m.turn) && isRole(m.role)
        ? { type: 'setRole', line: m.line, section: m.section, turn: m.turn, role: m.role }
        : undefined;
    case 'addTurn':
      return isIndex(m.line) && isSection(m.section) && isIndex(m.after, -1) && isRole(m.role)
        ? { type: 'addTurn', line: m.line, section: m.section, after: m.after, role: m.role }
        : undefined;
    case 'deleteTurn':
    case 'duplicateTurn':
      return isIndex(m.line) && isSection(m.section) && isIndex(m.turn)
        ? { type: m.type, line: m.line, section: m.section, turn: m.turn }
        : undefined;
    case 'moveTurn':
      return isIndex(m.line) && isSection(m.section) && isIndex(m.turn) && (m.delta === 1 || m.delta === -1)
        ? { type: 'moveTurn', line: m.line, section: m.section, turn: m.turn, delta: m.delta }
        : undefined;
    case 'editSystem':
      return isIndex(m.line) && isText(m.text)
        ? { type: 'editSystem', line: m.line, text: m.text }
        : undefined;
    case 'replaceRecord':
      return isIndex(m.line) && isText(m.text)
        ? { type: 'replaceRecord', line: m.line, text: m.text }
        : undefined;
    case 'setLabel': {
      const turn = m.turn;
      if (!isIndex(m.line) || typeof m.label !== 'boolean') return undefined;
      if (turn === undefined) return { type: 'setLabel', line: m.line, label: m.label };
      return isIndex(turn) ? { type: 'setLabel', line: m.line, turn, label: m.label } : undefined;
    }
    case 'runAction': {
      if (!isIndex(m.id) || !isAction(m.action) || !isIndex(m.line) || !optional(m.turn, isIndex))
        return undefined;
      if (
        m.action === 'capoNegative'
          ? !isStrategy(m.strategy) || m.turn === undefined
          : m.strategy !== undefined
      )
        return undefined;
      const run: RunAction = { type: 'runAction', id: m.id, action: m.action, line: m.line };
      if (m.turn !== undefined) run.turn = m.turn as number;
      if (m.strategy !== undefined) run.strategy = m.strategy as CapoStrategy;
      return run;
    }
    case 'reviewDecision':
      return isIndex(m.id) && (m.decision === 'keep' || m.decision === 'discard')
        ? { type: 'reviewDecision', id: m.id, decision: m.decision }
        : undefined;
    case 'cancelAction':
      return isIndex(m.id) ? { type: 'cancelAction', id: m.id } : undefined;
    case 'addDialogue':
      return isIndex(m.after, -1) ? { type: 'addDialogue', after: m.after } : undefined;
    case 'duplicateDialogue':
    case 'deleteDialogue':
      return isIndex(m.line) ? { type: m.type, line: m.line } : undefined;
    default:
      return parseReviewMessage(m) ?? parseMaskMessage(m);
  }
}
