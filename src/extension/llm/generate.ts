import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord, recordToLine, serializeLike } from '../../core/formats';
import { snippet, type ChatRequest } from '../../core/llm';
import { contentText, type CapoStrategy, type Dialogue, type Turn } from '../../core/model';
import {
  ask,
  answer,
  CAPO_STRATEGIES,
  estimate,
  extend,
  extendMtBench,
  lastRole,
  loadTemplate,
  previewRequest,
  markGenerated,
  seedFromSample,
  withoutProvenance,
  type Estimate,
  type ExtendResult,
  type ExtendSettings,
  type RejectReason,
} from '../../core/parrot';
import {
  isCancel,
  withProgress,
  type CommandResult,
  type LlmContext,
  type LocatedRecord,
  type RecordArgs,
} from './controller';
import { capoSettings, extendSettings } from './settings';
import { records, targetFor, type LineChange } from './targets';
import { entryMappings } from '../entryMappings';

export interface AskArgs extends RecordArgs {
  /** Index of the kept candidate to insert (skips the Quick Pick). */
  pick?: number;
  /** The text to insert instead of a candidate as is (the "edit before inserting" path). */
  text?: string;
  /**
   * 0-based index of the turn after which the new question goes (default: the last turn). The asker
   * sees the history up to and including that turn; later turns are kept, after the new question.
   */
  afterTurn?: number;
}

/** Checks an optional 0-based turn index against a dialogue; returns it or `fallback`. */
function turnIndex(d: Dialogue, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value >= d.turns.length)
    throw new Error(
      vscode.l10n.t(
        '"{0}" must be a 0-based turn index below {1} (got {2}).',
        name,
        d.turns.length,
        String(value),
      ),
    );
  return value;
}

/**
 * The record's line with its generated turns marked; a format that cannot hold the marks (no place
 * for extra message fields) gets the line without them.
 */
function lineKeepingProvenance(d: Dialogue, layout: LocatedRecord['layout']): string {
  try {
    return recordToLine(d, layout);
  } catch (err) {
    const bare = withoutProvenance(d);
    if (bare.turns.every((t, i) => t === d.turns[i])) throw err;
    return recordToLine(bare, layout);
  }
}

/** A generated turn, marked with its provenance when the setting asks for it. */
function generatedTurn(
  ctx: LlmContext,
  d: Dialogue,
  role: 'user' | 'assistant',
  text: string,
  model: string,
): Turn {
  const t = newTurn(d, role, text);
  return ctx.settings().recordProvenance
    ? markGenerated(t, role === 'user' ? 'follow-up' : 'answer', model)
    : t;
}

/** `d` with `turn` inserted at index `at` (nothing else changes). */
function insertTurn(d: Dialogue, at: number, turn: Turn): Dialogue {
  return { ...d, turns: [...d.turns.slice(0, at), turn, ...d.turns.slice(at)] };
}

export interface AskResult extends CommandResult {
  inserted?: string;
  candidates?: string[];
  rejected?: { text: string; reason: RejectReason }[];
}

/** A new turn shaped like the record's other turns (plain string or content parts). */
export function newTurn(d: Dialogue, role: 'user' | 'assistant', text: string): Turn {
  const parts = d.turns.some((t) => Array.isArray(t.content));
  return { role, content: parts ? [{ type: 'text', text }] : text };
}

function lineWith(r: LocatedRecord, d: Dialogue): string {
  try {
    return lineKeepingProvenance(d, r.layout);
  } catch (err) {
    throw new Error(
      vscode.l10n.t(
        'The {0} format cannot hold this change: {1}',
        r.format,
        err instanceof Error ? err.message : String(err),
      ),
    );
  }
}

async function applyOne(ctx: LlmContext, r: LocatedRecord, label: string, after: string): Promise<void> {
  const res = await r.target.replaceLines(label, [{ index: r.index, before: r.text, after }]);
  if (res.stale.length)
    throw new Error(
      vscode.l10n.t(
        'Record {0} changed while the text was generated; nothing was inserted. Run the command again.',
        r.index + 1,
      ),
    );
  ctx.logger.info(`${label}: record ${r.index + 1} of ${path.basename(r.target.uri.fsPath)} updated`);
}

/** Characters of a candidate that a Quick Pick line shows in full, about. */
const CANDIDATE_LINE = 80;

interface CandidateItem extends vscode.QuickPickItem {
  text: string;
}

/**
 * Quick Pick of the candidates; the pencil button edits one before it is inserted. A Quick Pick
 * shows one line per item, so a long candidate also has a button that opens it in full in a
 * read-only editor beside (the pick stays open meanwhile; those editors close once it is done).
 */
async function pickCandidate(kept: string[], docs?: PreviewDocuments): Promise<string | undefined> {
  const editButton: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('edit'),
    tooltip: vscode.l10n.t('Edit before inserting'),
  };
  const readButton: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('open-preview'),
    tooltip: vscode.l10n.t('Read in full'),
  };
  const shown: vscode.Uri[] = [];
  const qp = vscode.window.createQuickPick<CandidateItem>();
  qp.ignoreFocusOut = docs !== undefined;
  qp.title = vscode.l10n.t('Follow-up questions');
  qp.placeholder = vscode.l10n.t(
    'Pick the question to insert as the next user turn (pencil: edit it first; preview: read a long one in full)',
  );
  qp.items = kept.map((text) => ({
    label: snippet(text, 200),
    detail: text.length > 200 ? text : undefined,
    text,
    buttons: docs && text.length > CANDIDATE_LINE ? [readButton, editButton] : [editButton],
  }));
  const chosen = await new Promise<{ text: string; edit: boolean } | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0];
      resolve(item ? { text: item.text, edit: false } : undefined);
      qp.hide();
    });
    qp.onDidTriggerItemButton((e) => {
      if (e.button === readButton && docs) {
        const n = kept.indexOf(e.item.text) + 1;
        const uri = docs.add(vscode.l10n.t('Follow-up question {0}.md', n), e.item.text + '\n');
        shown.push(uri);
        void vscode.workspace.openTextDocument(uri).then((doc) =>
          vscode.window.showTextDocument(doc, {
            viewColumn: vscode.ViewColumn.Beside,
            preserveFocus: true,
            preview: true,
          }),
        );
        return;
      }
      resolve({ text: e.item.text, edit: true });
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (shown.length) {
    const keys = new Set(shown.map((u) => u.toString()));
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputText && keys.has(t.input.uri.toString()));
    await vscode.window.tabGroups.close(tabs);
  }
  if (!chosen?.edit) return chosen?.text;
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Edit the follow-up question'),
    value: chosen.text,
    validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('The question is empty.') : undefined),
  });
}

export async function askFollowUp(
  ctx: LlmContext,
  args: AskArgs = {},
  docs?: PreviewDocuments,
): Promise<AskResult> {
  const r = await ctx.record(args);
  const d = ctx.dialogueOf(r);
  const after = turnIndex(d, 'afterTurn', args.afterTurn, d.turns.length - 1);
  const history: Dialogue = { ...d, turns: d.turns.slice(0, after + 1) };
  const s = ctx.settings();
  const es = extendSettings(s);
  const client = await ctx.client(s);
  const res = await withProgress(
    vscode.l10n.t('Asking {0} for follow-up questions…', s.models.asker),
    args.token,
    (_p, signal) =>
      ask(client, history, es.ask, { signal }).catch((e: unknown) => {
        if (isCancel(e)) return undefined;
        throw e;
      }),
  );
  if (!res) return { status: 'cancelled' };
  const base = { candidates: res.kept, rejected: res.rejected };
  for (const x of res.rejected) ctx.logger.debug(`candidate rejected (${x.reason}): ${snippet(x.text)}`);
  if (res.kept.length === 0) {
    const reasons = [...new Set(res.rejected.map((x) => x.reason))].join(', ');
    const message = vscode.l10n.t(
      'Every follow-up candidate was rejected ({0}) — try again, or another asker model, mode or template.',
      reasons,
    );
    void vscode.window.showWarningMessage(message);
    return { status: 'empty', message, ...base };
  }
  let text: string | undefined;
  if (args.text !== undefined) text = args.text;
  else if (args.pick !== undefined) {
    text = res.kept[args.pick];
    if (text === undefined)
      throw new Error(vscode.l10n.t('There is no candidate {0} (kept: {1}).', args.pick, res.kept.length));
  } else text = await pickCandidate(res.kept, docs);
  if (text === undefined || text.trim() === '') return { status: 'cancelled', ...base };
  const next = insertTurn(d, after + 1, generatedTurn(ctx, d, 'user', text.trim(), s.models.asker));
  await applyOne(ctx, r, vscode.l10n.t('Ask follow-up'), lineWith(r, next));
  return { status: 'ok', inserted: text.trim(), ...base };
}

export interface AnswerResult extends CommandResult {
  inserted?: string;
}

export interface AnswerArgs extends RecordArgs {
  /**
   * 0-based index of the user turn to answer (default: the last turn). It must not already be
   * answered; the answer is inserted right after it, from the history up to and including it.
   */
  turn?: number;
  /** Called while the answer streams in, with the text so far (at most every 100 ms). */
  onText?: (text: string) => void;
}

export async function answerTurn(ctx: LlmContext, args: AnswerArgs = {}): Promise<AnswerResult> {
  const r = await ctx.record(args);
  const full = ctx.dialogueOf(r);
  const at = turnIndex(full, 'turn', args.turn, full.turns.length - 1);
  const d: Dialogue = { ...full, turns: full.turns.slice(0, at + 1) };
  if (args.turn === undefined && lastRole(d) !== 'user')
    throw new Error(
      vscode.l10n.t('Record {0} does not end with a user turn — there is nothing to answer.', r.index + 1),
    );
  if (full.turns[at]?.role !== 'user' || full.turns[at + 1]?.role === 'assistant')
    throw new Error(
      vscode.l10n.t('Turn {0} of record {1} is not an unanswered user turn.', at + 1, r.index + 1),
    );
  const s = ctx.settings();
  const es = extendSettings(s);
  const client = await ctx.client(s);
  const out = await withProgress(
    vscode.l10n.t('Answering with {0}', s.models.answerer),
    args.token,
    async (progress, signal) => {
      let text = '';
      let last = 0;
      try {
        await answer(client, d, es.answer, {
          signal,
          onDelta: (delta) => {
            text += delta;
            const now = Date.now();
            if (now - last > 100) {
              last = now;
              progress.report({ message: snippet(text.slice(-200), 120) });
              args.onText?.(text);
            }
          },
        });
        return { text, cancelled: false };
      } catch (e) {
        if (isCancel(e)) return { text, cancelled: true };
        throw e;
      }
    },
  );
  if (out.cancelled) return { status: 'cancelled' };
  if (out.text.trim() === '') throw new Error(vscode.l10n.t('{0} returned an empty answer.', ctx.host(s)));
  const next = insertTurn(full, at + 1, generatedTurn(ctx, full, 'assistant', out.text, s.models.answerer));
  await applyOne(ctx, r, vscode.l10n.t('Answer turn'), lineWith(r, next));
  return { status: 'ok', inserted: out.text };
}

export interface ExtendArgs extends RecordArgs {
  /** Target number of user questions (exchanges). Asked with an input box when missing. */
  turns?: number;
}

export interface ExtendOneResult extends CommandResult {
  added?: number;
  requests?: number;
}

async function askTurns(args: ExtendArgs): Promise<number | undefined> {
  if (args.turns !== undefined) {
    if (!Number.isInteger(args.turns) || args.turns < 1)
      throw new Error(vscode.l10n.t('"turns" must be a whole number >= 1 (got {0}).', String(args.turns)));
    return args.turns;
  }
  const v = await vscode.window.showInputBox({
    title: vscode.l10n.t('Extend to how many user turns?'),
    prompt: vscode.l10n.t(
      'Each user question is answered; Parrot-40K averages 8.7 turns, MT-Bench++ uses 8.',
    ),
    value: '8',
    validateInput: (x) => (/^\s*[1-9]\d*\s*$/.test(x) ? undefined : vscode.l10n.t('A whole number >= 1')),
  });
  return v === undefined ? undefined : Number(v);
}

function mtQuestions(d: Dialogue): string[] {
  return d.turns.filter((t) => t.role === 'user').map((t) => contentText(t.content));
}

/** Extends one parsed record; MT-Bench question records keep questions only (MT-Bench++). */
async function extendRecord(
  client: Awaited<ReturnType<LlmContext['client']>>,
  r: { format: string; sample: Dialogue; value: unknown; text: string; layout: LocatedRecord['layout'] },
  turns: number,
  es: ExtendSettings,
  signal: AbortSignal,
  onTurn?: (t: Turn) => void,
): Promise<{ line?: string; result: Pick<ExtendResult, 'status' | 'error' | 'added' | 'requests'> }> {
  if (r.format === 'mt-bench') {
    // Long enough already: MT-Bench++ would answer every question only to store none of it.
    if (mtQuestions(r.sample).length >= turns) return { result: { status: 'done', added: 0, requests: 0 } };
    const value = r.value as Record<string, unknown>;
    const q = {
      ...value,
      question_id: value.question_id as string | number,
      category: typeof value.category === 'string' ? value.category : '',
      turns: mtQuestions(r.sample),
    };
    const m = await extendMtBench(client, q, es, turns, { signal, onTurn });
    const added = m.record.turns.length - q.turns.length;
    return {
      line: added > 0 ? serializeLike({ ...value, turns: m.record.turns }, r.layout.style) : undefined,
      result: { status: m.status, error: m.error, added, requests: 0 },
    };
  }
  const res = await extend(client, r.sample, turns, es, { signal, onTurn });
  return { line: res.added > 0 ? lineKeepingProvenance(res.dialogue, r.layout) : undefined, result: res };
}

export async function extendDialogue(ctx: LlmContext, args: ExtendArgs = {}): Promise<ExtendOneResult> {
  const r = await ctx.record(args);
  const d = ctx.dialogueOf(r);
  // A new, empty dialogue has nothing to grow from (the dialogue editor offers no Extend on it).
  if (!d.turns.some((t) => t.role === 'user' && contentText(t.content).trim() !== ''))
    throw new Error(
      vscode.l10n.t('Record {0} has no question yet: write its first user turn, then generate.', r.index + 1),
    );
  const turns = await askTurns(args);
  if (turns === undefined) return { status: 'cancelled' };
  const s = ctx.settings();
  const es = extendSettings(s);
  const client = await ctx.client(s);
  const out = await withProgress(
    vscode.l10n.t('Extending record {0} to {1} user turns', r.index + 1, turns),
    args.token,
    (progress, signal) => {
      let n = 0;
      return extendRecord(client, { ...r, sample: d }, turns, es, signal, (t) => {
        n++;
        progress.report({
          message: vscode.l10n.t('{0} turn(s) added — {1}: {2}', n, t.role, snippet(contentText(t.content))),
        });
      });
    },
  );
  if (out.line !== undefined) await applyOne(ctx, r, vscode.l10n.t('Extend dialogue'), out.line);
  const { status, error, added } = out.result;
  if (status === 'failed') {
    ctx.report('parrot.extendDialogue', new Error(error ?? 'failed'));
    return { status: 'error', message: error, added };
  }
  return { status: status === 'done' ? 'ok' : 'cancelled', added };
}

export interface ExtendFileArgs extends ExtendArgs {
  /** 0-based line indexes of the records to extend (default: the selection, else the whole file). */
  records?: number[];
  /**
   * Start each dialogue over from its seed: its first user question (with its system prompt and
   * id); the rest of the record is replaced by what is generated (one undo step, as always).
   */
  seeds?: boolean;
  /** Skip the confirmation (the estimate is still computed and returned). */
  confirm?: false;
}

export interface ExtendFileResult extends CommandResult {
  records?: number;
  done?: number;
  failed?: { record: number; error: string }[];
  cancelled?: number;
  changed?: number;
  stale?: number[];
  undoSteps?: number;
  estimate?: ReturnType<typeof estimate>;
}

/** Runs `fn` over `items` with at most `n` at once; stops taking new items once `signal` aborts. */
export async function pool<T>(
  items: readonly T[],
  n: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
}

/**
 * Requests and tokens for extending `items`. An MT-Bench question record stores no answers, and
 * MT-Bench++ answers each stored question before it asks the next one: those answers are counted
 * too (a record that already has enough questions costs nothing, see `extendRecord`).
 */
export function estimateItems(
  items: readonly { format: string; sample: Dialogue }[],
  turns: number,
  es: ExtendSettings,
): Estimate {
  const user = (content: string): Turn => ({ role: 'user', content });
  const est = estimate(
    items.map((i) =>
      i.format === 'mt-bench'
        ? {
            ...i.sample,
            turns: mtQuestions(i.sample).flatMap((q): Turn[] => [
              user(q),
              { role: 'assistant', content: '' },
            ]),
          }
        : i.sample,
    ),
    turns,
    es,
  );
  for (const i of items) {
    if (i.format !== 'mt-bench') continue;
    const questions = mtQuestions(i.sample);
    if (questions.length >= turns) continue;
    // Each stored question is answered with the questions before it in context.
    for (let k = 1; k <= questions.length; k++) {
      const e = estimate([{ ...i.sample, turns: questions.slice(0, k).map(user) }], k, es);
      est.answerRequests += e.answerRequests;
      est.promptTokens += e.promptTokens;
      est.completionTokens += e.completionTokens;
    }
  }
  est.requests = est.askRequests + est.answerRequests;
  return est;
}

export async function extendFile(ctx: LlmContext, args: ExtendFileArgs = {}): Promise<ExtendFileResult> {
  const { uri } = ctx.locate(args, false);
  const target = await targetFor(uri, ctx.editor);
  let only = args.records;
  if (!only && args.uri === undefined) {
    const ed = vscode.window.activeTextEditor;
    if (ed && ed.document.uri.toString() === uri.toString() && ed.selections.some((x) => !x.isEmpty)) {
      const set = new Set<number>();
      for (const sel of ed.selections) for (let l = sel.start.line; l <= sel.end.line; l++) set.add(l);
      only = [...set].sort((a, b) => a - b);
    }
  }
  const turns = await askTurns(args);
  if (turns === undefined) return { status: 'cancelled' };
  const name = path.basename(uri.fsPath);
  const items: {
    index: number;
    text: string;
    format: string;
    sample: Dialogue;
    value: unknown;
    layout: LocatedRecord['layout'];
  }[] = [];
  let skipped = 0;
  const mapping = await entryMappings().load(uri.fsPath);
  for await (const [index, text] of records(target, only)) {
    if (text.trim() === '') continue;
    const p = parseRecord(text, undefined, { mapping });
    if (!p.ok) throw new Error(`${name}:${index + 1}:${p.error.column}: ${p.error.message}`);
    if (p.sample.kind !== 'dialogue') {
      skipped++;
      continue;
    }
    const sample = args.seeds ? seedFromSample(p.sample) : p.sample;
    if (!sample) {
      skipped++;
      continue;
    }
    items.push({ index, text, format: p.layout.format, sample, value: p.value, layout: p.layout });
  }
  if (items.length === 0) throw new Error(vscode.l10n.t('{0} has no dialogue to extend.', name));
  const s = ctx.settings();
  const es = extendSettings(s);
  const est = estimateItems(items, turns, es);
  if (args.confirm !== false) {
    const go = vscode.l10n.t('Extend');
    const pick = await vscode.window.showInformationMessage(
      args.seeds
        ? vscode.l10n.t(
            'Grow {0} record(s) of {1} from their first question to {2} user turns? What follows each first question is replaced (one undo step).',
            items.length,
            name,
            turns,
          )
        : vscode.l10n.t('Extend {0} record(s) of {1} to {2} user turns?', items.length, name, turns),
      {
        modal: true,
        detail: vscode.l10n.t(
          'About {0} requests ({1} ask, {2} answer) to {3}, ~{4} prompt and ~{5} completion tokens (o200k estimate). {6} record(s) already long enough.{7}',
          est.requests,
          est.askRequests,
          est.answerRequests,
          ctx.host(s),
          est.promptTokens.toLocaleString(),
          est.completionTokens.toLocaleString(),
          est.unchanged,
          skipped ? ` ${vscode.l10n.t('{0} preference pair(s) skipped.', skipped)}` : '',
        ),
      },
      go,
    );
    if (pick !== go) return { status: 'cancelled', estimate: est };
  }
  const client = await ctx.client(s);
  const changes: LineChange[] = [];
  const result: ExtendFileResult = {
    status: 'ok',
    records: items.length,
    done: 0,
    failed: [],
    cancelled: 0,
    estimate: est,
  };
  await withProgress(vscode.l10n.t('Extending {0}', name), args.token, async (progress, signal) => {
    let finished = 0;
    progress.report({ message: vscode.l10n.t('0/{0} record(s)', items.length) });
    await pool(items, s.concurrency, signal, async (it) => {
      let out: Awaited<ReturnType<typeof extendRecord>>;
      try {
        out = await extendRecord(client, it, turns, es, signal);
      } catch (e) {
        out = {
          result: {
            status: isCancel(e) ? 'cancelled' : 'failed',
            error: e instanceof Error ? e.message : String(e),
            added: 0,
            requests: 0,
          },
        };
      }
      if (out.line !== undefined) changes.push({ index: it.index, before: it.text, after: out.line });
      const st = out.result.status;
      if (st === 'done') result.done = (result.done ?? 0) + 1;
      else if (st === 'failed')
        result.failed?.push({ record: it.index + 1, error: out.result.error ?? 'failed' });
      else result.cancelled = (result.cancelled ?? 0) + 1;
      finished++;
      ctx.finished({ uri: uri.toString(), index: it.index, status: st });
      progress.report({
        increment: 100 / items.length,
        message: vscode.l10n.t('{0}/{1} record(s)', finished, items.length),
      });
    });
    if (signal.aborted) result.status = 'cancelled';
  });
  result.cancelled =
    (result.cancelled ?? 0) +
    (items.length - (result.done ?? 0) - (result.failed?.length ?? 0) - (result.cancelled ?? 0));
  if (changes.length) {
    const applied = await target.replaceLines(vscode.l10n.t('Extend {0} record(s)', changes.length), changes);
    result.changed = applied.applied.length;
    result.stale = applied.stale;
    result.undoSteps = applied.undoSteps;
  } else result.changed = 0;
  for (const f of result.failed ?? []) ctx.logger.warn(`${name}:${f.record}: ${f.error}`);
  const summary = vscode.l10n.t(
    '{0}: {1} record(s) extended, {2} failed, {3} stopped.',
    name,
    result.done ?? 0,
    result.failed?.length ?? 0,
    result.cancelled ?? 0,
  );
  result.message = result.stale?.length
    ? `${summary} ${vscode.l10n.t('{0} record(s) were edited meanwhile and left as they are.', result.stale.length)}`
    : summary;
  if (result.failed?.length) {
    const first = result.failed[0];
    ctx.report(
      'parrot.extendFile',
      new Error(`${result.message} ${first ? `${name}:${first.record}: ${first.error}` : ''}`),
    );
  } else void vscode.window.showInformationMessage(result.message);
  return result;
}

export type PreviewTaskName = 'ask' | 'answer' | 'capo' | 'judge';

export interface PreviewArgs extends RecordArgs {
  /** Omitted: a Quick Pick of the requests this record allows (with `open: false`: ask or answer). */
  task?: PreviewTaskName;
  strategy?: CapoStrategy;
  /** 0-based index of the assistant turn (CaPO and judge; default the last answer). */
  turn?: number;
  /** Return the body without opening a document. */
  open?: false;
}

export interface PreviewResult extends CommandResult {
  body?: ChatRequest;
  /** The read-only document the body was shown in. */
  document?: string;
  task?: PreviewTaskName;
  strategy?: CapoStrategy;
}

/** Where previews are shown: read-only documents that never ask to be saved. */
export interface PreviewDocuments {
  add(name: string, text: string): vscode.Uri;
}

interface PreviewChoice {
  task: PreviewTaskName;
  strategy?: CapoStrategy;
  label: string;
  detail: string;
}

function previewChoices(d: Dialogue): PreviewChoice[] {
  const out: PreviewChoice[] = [
    { task: 'ask', label: vscode.l10n.t('Ask'), detail: vscode.l10n.t('The next user question (asker)') },
  ];
  if (lastRole(d) === 'user')
    out.unshift({
      task: 'answer',
      label: vscode.l10n.t('Answer'),
      detail: vscode.l10n.t('The answer to the last user turn (answerer)'),
    });
  let answered = true;
  try {
    lastAnswerIndex(d);
  } catch {
    answered = false;
  }
  if (answered) {
    for (const strategy of CAPO_STRATEGIES)
      out.push({
        task: 'capo',
        strategy,
        label: vscode.l10n.t('CaPO {0}', strategy),
        detail: vscode.l10n.t('The rejected answer for the last answer, context broken by {0}', strategy),
      });
    out.push({
      task: 'judge',
      label: vscode.l10n.t('Context judge'),
      detail: vscode.l10n.t('Asks whether the last answered user turn depends on the earlier turns'),
    });
  }
  return out;
}

export async function previewRequestCommand(
  ctx: LlmContext,
  docs: PreviewDocuments,
  args: PreviewArgs = {},
): Promise<PreviewResult> {
  const r = await ctx.record(args);
  const d = ctx.dialogueOf(r);
  const s = ctx.settings();
  let task = args.task;
  let strategy = args.strategy;
  if (task === undefined) {
    if (args.open === false) task = lastRole(d) === 'user' ? 'answer' : 'ask';
    else {
      const picked = await vscode.window.showQuickPick(previewChoices(d), {
        title: vscode.l10n.t('Preview which request of record {0}?', r.index + 1),
      });
      if (!picked) return { status: 'cancelled' };
      task = picked.task;
      strategy = picked.strategy;
    }
  }
  let body: ChatRequest;
  let name: string;
  switch (task) {
    case 'capo':
    case 'judge': {
      const turn = args.turn === undefined ? lastAnswerIndex(d) : turnIndex(d, 'turn', args.turn, 0);
      if (task === 'capo') {
        strategy ??= 'neglect';
        if (!CAPO_STRATEGIES.includes(strategy))
          throw new Error(vscode.l10n.t('Unknown strategy "{0}".', String(strategy)));
        body = previewRequest({
          task,
          dialogue: d,
          strategy,
          assistantIndex: turn,
          settings: capoSettings(s),
        });
        name = `capo-${strategy}`;
      } else {
        body = previewRequest({
          task,
          dialogue: d,
          assistantIndex: turn,
          model: s.models.answerer,
          template: loadTemplate('capo-judge', s.templates['capo-judge']),
        });
        name = 'judge';
      }
      name += ` (record ${r.index + 1}, turn ${turn + 1})`;
      break;
    }
    case 'ask':
      body = previewRequest({ task, dialogue: d, settings: extendSettings(s).ask });
      name = `ask (record ${r.index + 1})`;
      break;
    case 'answer':
      body = previewRequest({ task, dialogue: d, settings: extendSettings(s).answer });
      name = `answer (record ${r.index + 1})`;
      break;
    default:
      throw new Error(
        vscode.l10n.t('"task" must be one of ask, answer, capo, judge (got {0}).', String(task)),
      );
  }
  const result: PreviewResult = { status: 'ok', body, task };
  if (task === 'capo') result.strategy = strategy;
  if (args.open !== false) {
    const uri = docs.add(`${name}.json`, JSON.stringify(body, null, 2) + '\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'json');
    await vscode.window.showTextDocument(doc, { preview: true });
    result.document = uri.toString();
  }
  return result;
}

/** Index of the last assistant turn that answers a user turn. */
export function lastAnswerIndex(d: Dialogue): number {
  for (let i = d.turns.length - 1; i > 0; i--)
    if (d.turns[i]?.role === 'assistant' && d.turns[i - 1]?.role === 'user') return i;
  throw new Error(vscode.l10n.t('The dialogue has no assistant turn that answers a user turn.'));
}
