import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../core/formats';
import type { LlmClient } from '../../core/llm';
import { contentText, type CapoStrategy, type Dialogue, type PreferencePair } from '../../core/model';
import {
  buildCapoRequest,
  CAPO_STRATEGIES,
  capo,
  dependentTurns,
  makePair,
  needsSidecar,
  PAIR_FORMATS,
  pairLines,
  readRunProgress,
  RunOutput,
  sidecarPath,
  userIndexFor,
  type CapoRequest,
  type CapoResult,
  type CapoJudge,
  type CapoSettings,
  type PairFormat,
  type RunProgress,
  type SlotResult,
} from '../../core/parrot';
import { countTokens } from '../../core/tokens';
import {
  isCancel,
  withProgress,
  type CommandResult,
  type LlmContext,
  type LocatedRecord,
  type RecordArgs,
} from './controller';
import { lastAnswerIndex, pool } from './generate';
import { capoJudge, capoSettings } from './settings';
import { records, targetFor } from './targets';
import { entryMappings } from '../entryMappings';

export const CAPO_SCHEME = 'parrot-capo';
/** Scheme of the read-only request previews (**Preview Generation Request**). */
export const PREVIEW_SCHEME = 'parrot-request';
const OUTPUT_STATE = 'parrot.capo.output';

/**
 * Read-only documents under one scheme: the chosen and rejected answers shown side by side, and
 * request previews. VS Code never asks to save them.
 */
export class CapoContentProvider implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  private seq = 0;
  constructor(readonly scheme: string = CAPO_SCHEME) {}
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path) ?? '';
  }
  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(this.scheme, this);
  }
  add(name: string, text: string): vscode.Uri {
    const p = `/${++this.seq}/${name}`;
    this.docs.set(p, text);
    // Keep the last few documents only.
    if (this.docs.size > 40) this.docs.delete(this.docs.keys().next().value ?? '');
    return vscode.Uri.from({ scheme: this.scheme, path: p });
  }
}

function checkFormat(f: string | undefined, fallback: PairFormat): PairFormat {
  if (f === undefined) return fallback;
  if (!(PAIR_FORMATS as readonly string[]).includes(f))
    throw new Error(vscode.l10n.t('"format" must be one of {0}.', PAIR_FORMATS.join(', ')));
  return f as PairFormat;
}

function checkStrategy(s: string): CapoStrategy {
  if (!(CAPO_STRATEGIES as readonly string[]).includes(s))
    throw new Error(vscode.l10n.t('Unknown strategy "{0}" (use {1}).', s, CAPO_STRATEGIES.join(', ')));
  return s as CapoStrategy;
}

/** The strategies as Quick Pick items, with what each does. */
function strategyItems(): (vscode.QuickPickItem & { strategy: CapoStrategy })[] {
  return [
    { label: 'neglect', strategy: 'neglect', detail: vscode.l10n.t('Answer with the history deleted') },
    {
      label: 'hallucinate',
      strategy: 'hallucinate',
      detail: vscode.l10n.t('History deleted; the model assumes what the references mean'),
    },
    {
      label: 'misread',
      strategy: 'misread',
      detail: vscode.l10n.t('The reference resolved to a wrong, unrelated earlier turn'),
    },
  ];
}

/**
 * The preference file: the command's argument, else `parrot.capo.outputFile`, else the file chosen
 * earlier in this workspace, else a save dialog (remembered in workspaceState).
 */
async function outputFile(
  ctx: LlmContext,
  explicit: string | undefined,
  source: vscode.Uri,
): Promise<string | undefined> {
  if (explicit) return explicit;
  const fromSetting = ctx.settings().capoOutput;
  if (fromSetting) return fromSetting;
  const remembered = ctx.context.workspaceState.get<string>(OUTPUT_STATE);
  if (remembered) return remembered;
  const picked = await vscode.window.showSaveDialog({
    title: vscode.l10n.t('Preference pairs file (CaPO)'),
    defaultUri: vscode.Uri.file(source.fsPath.replace(/\.jsonl$/i, '') + '.capo.jsonl'),
    filters: { JSONL: ['jsonl'] },
  });
  if (!picked) return undefined;
  await ctx.context.workspaceState.update(OUTPUT_STATE, picked.fsPath);
  return picked.fsPath;
}

async function appendPairs(out: string, pairs: readonly PreferencePair[], format: PairFormat): Promise<void> {
  const lines = pairs.map((p) => pairLines(p, format));
  await fsp.mkdir(path.dirname(out), { recursive: true });
  await fsp.appendFile(out, lines.map((l) => l.line + '\n').join(''));
  if (needsSidecar(format))
    await fsp.appendFile(sidecarPath(out), lines.map((l) => (l.sidecar ?? '{}') + '\n').join(''));
}

export interface CapoNegativeArgs extends RecordArgs {
  /** 0-based index of the assistant turn (a user turn's index means the answer after it). Default: the last answer. */
  turn?: number;
  strategy?: CapoStrategy;
  /** Decide without asking. */
  decision?: 'keep' | 'discard';
  /** Preference file (else setting / remembered / save dialog). */
  output?: string;
  format?: PairFormat;
  /** Show the chosen and rejected answers in a diff editor (default true; false with `review`). */
  show?: boolean;
  /**
   * Someone else shows the pair and decides (the dialogue editor's side-by-side review): called
   * once the rejected answer exists, instead of the Keep/Discard question. The kept pair then
   * goes through the same path as every other kept pair.
   */
  review?: (pair: CapoReview) => Promise<'keep' | 'discard'>;
}

/** What a reviewer is shown: the record's answer and the generated rejected one. */
export interface CapoReview {
  record: number;
  turn: number;
  strategy: CapoStrategy;
  chosen: string;
  rejected: string;
}

/** True when the record the pair was built from is on disk as it was read (saved, and unchanged since). */
async function onDisk(r: LocatedRecord): Promise<boolean> {
  if (r.index >= (await r.target.lineCount())) return false;
  if ((await r.target.readLine(r.index)) !== r.text) return false;
  return !(await r.target.unsaved(r.index));
}

/** Provenance of a pair built from unsaved text: `source.unsaved` and the record text's sha256. */
function markUnsaved(pair: PreferencePair, recordText: string): void {
  const src = (pair.meta as { source?: Record<string, unknown> }).source;
  if (!src) return;
  src.unsaved = true;
  src.record_sha256 = sha256(recordText);
}

export interface CapoNegativeResult extends CommandResult {
  /** The record had unsaved changes when the pair was kept (the pair is marked, see `markUnsaved`). */
  unsaved?: boolean;
  strategy?: CapoStrategy;
  rejected?: string;
  output?: string;
  pair?: PreferencePair;
  diff?: { chosen: string; rejected: string };
}

export async function capoNegative(
  ctx: LlmContext,
  provider: CapoContentProvider,
  args: CapoNegativeArgs = {},
): Promise<CapoNegativeResult> {
  const r = await ctx.record(args);
  const d = ctx.dialogueOf(r);
  let turn = args.turn ?? lastAnswerIndex(d);
  if (d.turns[turn]?.role === 'user' && d.turns[turn + 1]?.role === 'assistant') turn++;
  const ui = userIndexFor(d, turn);
  for (const i of [ui, turn])
    if (contentText(d.turns[i]?.content ?? '').trim() === '')
      throw new Error(
        vscode.l10n.t(
          'Turn {0} of record {1} has no text to pair (an empty turn or a tool call only).',
          i + 1,
          r.index + 1,
        ),
      );
  let strategy = args.strategy !== undefined ? checkStrategy(args.strategy) : undefined;
  if (!strategy) {
    strategy = (
      await vscode.window.showQuickPick(strategyItems(), {
        title: vscode.l10n.t('How should the context be broken?'),
      })
    )?.strategy;
    if (!strategy) return { status: 'cancelled' };
  }
  const s = ctx.settings();
  const format = checkFormat(args.format, s.capoFormat);
  const req = buildCapoRequest(strategy, d, turn, capoSettings(s));
  const client = await ctx.client(s);
  const text = await withProgress(
    vscode.l10n.t('CaPO {0}: generating the rejected answer', strategy),
    args.token,
    (_p, signal) =>
      client.chat(req.request, { signal }).then(
        (x) => x.texts[0] ?? '',
        (e: unknown) => {
          if (isCancel(e)) return undefined;
          throw e;
        },
      ),
  );
  if (text === undefined) return { status: 'cancelled', strategy };
  if (text.trim() === '') throw new Error(vscode.l10n.t('{0} returned an empty answer.', ctx.host(s)));
  const pair = makePair(d, turn, req, text, { file: ctx.sourceName(r.target.uri), record: r.index + 1 });
  let diff: CapoNegativeResult['diff'];
  if (args.show ?? !args.review) {
    const chosenUri = provider.add(
      `chosen (record ${r.index + 1}, turn ${turn + 1}).md`,
      contentText(d.turns[turn]?.content ?? ''),
    );
    const rejectedUri = provider.add(`rejected (${strategy}).md`, text);
    diff = { chosen: chosenUri.toString(), rejected: rejectedUri.toString() };
    await vscode.commands.executeCommand(
      'vscode.diff',
      chosenUri,
      rejectedUri,
      vscode.l10n.t('Chosen ↔ Rejected ({0}) — record {1}, turn {2}', strategy, r.index + 1, turn + 1),
      { preview: true, preserveFocus: args.decision !== undefined },
    );
  }
  let decision = args.decision;
  if (!decision && args.review) {
    decision = await args.review({
      record: r.index,
      turn,
      strategy,
      chosen: contentText(d.turns[turn]?.content ?? ''),
      rejected: text,
    });
  }
  if (!decision) {
    const keep = vscode.l10n.t('Keep');
    const discard = vscode.l10n.t('Discard');
    const pick = await vscode.window.showInformationMessage(
      vscode.l10n.t('Keep this {0} pair (record {1}, turn {2})?', strategy, r.index + 1, turn + 1),
      keep,
      discard,
    );
    decision = pick === keep ? 'keep' : 'discard';
  }
  if (decision === 'discard') {
    // The diff showed a pair that is gone: close it rather than leave a tab of something discarded.
    if (diff) await closeDiff(diff.rejected);
    return { status: 'discarded', strategy, rejected: text, pair, diff };
  }
  const out = await outputFile(ctx, args.output, r.target.uri);
  if (!out) return { status: 'cancelled', strategy, rejected: text, pair, diff };
  // A pair must describe a dialogue that exists: built from a record that is not on disk as it was
  // used (unsaved generated or edited turns), it says so and carries the hash of that record text.
  const unsaved = !(await onDisk(r));
  if (unsaved) markUnsaved(pair, r.text);
  await appendPairs(out, [pair], format);
  ctx.logger.info(
    `CaPO ${strategy}: pair for record ${r.index + 1}, turn ${turn + 1} appended to ${path.basename(out)}${unsaved ? ' (from unsaved changes)' : ''}`,
  );
  const message = unsaved
    ? vscode.l10n.t(
        'The {0} pair was kept. Record {1} has unsaved changes: the pair is marked "unsaved" with the hash of the record it was built from; it matches the file once you save.',
        strategy,
        r.index + 1,
      )
    : undefined;
  return { status: 'ok', strategy, rejected: text, pair, output: out, diff, unsaved, message };
}

/** Closes the diff tabs whose right side is `rejected` (a virtual document of this command). */
async function closeDiff(rejected: string): Promise<void> {
  const tabs = vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === rejected);
  if (tabs.length) await vscode.window.tabGroups.close(tabs);
}

export interface CapoSetArgs extends RecordArgs {
  output?: string;
  /** Strategies to use; omitted: a Quick Pick (preset from `parrot.capo.strategies`), or the setting with `confirm: false`. */
  strategies?: CapoStrategy[];
  format?: PairFormat;
  /** Context-dependence score needed (0..1, default 0.5). */
  threshold?: number;
  /** Continue an unfinished run (true), start over (false), or ask (undefined). */
  resume?: boolean;
  /** `false`: no strategy picker and no confirmation with the estimate. */
  confirm?: false;
  /** Called (about once a second and on each record) with the run's figures, as the notification shows them. */
  onProgress?: (p: CapoSetProgress) => void;
}

/** Requests and approximate tokens (o200k) a CaPO set will take. */
export interface CapoSetEstimate {
  /** Dialogue records read. */
  dialogues: number;
  /** Dialogues with at least one context-dependent user turn. */
  dependentDialogues: number;
  /** Context-dependent turns (each gets one request per strategy). */
  turns: number;
  requests: number;
  promptTokens: number;
  /** Assumed: each rejected answer as long as the record's own answer (at most maxTokens). */
  completionTokens: number;
  /** Turn × strategy combinations that cannot be built (e.g. misread without an earlier turn to point at). */
  unbuildable: number;
  /** Preference records (not dialogues) skipped. */
  preferenceRecords: number;
  /** Of `requests`: those to the context judge (one per dependent turn, when a judge is set). */
  judgeRequests: number;
}

/** What a running set shows besides its record count. */
export interface CapoSetProgress {
  finished: number;
  records: number;
  pairs: number;
  failed: number;
  /** Requests on the wire right now. */
  inFlight: number;
  /** Requests answered so far (successful or not). */
  requestsDone: number;
  requests: number;
  /** Tokens the server reported (prompt + completion) so far. */
  tokens: number;
  elapsedMs: number;
}

export interface CapoSetResult extends CommandResult {
  output?: string;
  pairs?: number;
  records?: number;
  /** Records finished (including those of an earlier, resumed run). */
  finished?: number;
  /** Requests that failed, as `file:record: turn T strategy: reason`. */
  skipped?: string[];
  strategies?: CapoStrategy[];
  estimate?: CapoSetEstimate;
  /** Failed requests of an earlier run that this run sent again. */
  retried?: number;
}

/** A request that failed, kept in the progress file so that a later run can send it again. */
interface FailedJob {
  /** 0-based line of the record. */
  record: number;
  /** 0-based index of the assistant turn. */
  turn: number;
  /** Undefined: the context judge could not judge the turn (judged again, then every strategy). */
  strategy?: CapoStrategy;
  reason: string;
}

/**
 * What the run output keeps with a record left short (`FailedSlot.detail`): the failed requests, and
 * the sha256 of the record's text so that a retry never pairs a record that changed since.
 */
interface FailedDetail {
  sha256: string;
  requests: FailedJob[];
}

function failedDetail(x: unknown): FailedDetail | undefined {
  const d = x as FailedDetail;
  if (!d || typeof d !== 'object' || typeof d.sha256 !== 'string' || !Array.isArray(d.requests))
    return undefined;
  const ok = d.requests.every(
    (j) =>
      !!j &&
      Number.isInteger(j.record) &&
      Number.isInteger(j.turn) &&
      (j.strategy === undefined || (CAPO_STRATEGIES as readonly string[]).includes(j.strategy)) &&
      typeof j.reason === 'string',
  );
  return ok ? d : undefined;
}

/** Failed requests recorded in a run's progress. */
function failedRequests(p: RunProgress | undefined): number {
  return (p?.failed ?? []).reduce((n, f) => n + (failedDetail(f.detail)?.requests.length ?? 1), 0);
}

interface SetItem {
  index: number;
  text: string;
  dialogue: Dialogue;
}

const SET_STATE = 'parrot.capo.setOutputs';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function capoEstimate(
  items: readonly SetItem[],
  strategies: readonly CapoStrategy[],
  settings: CapoSettings,
  threshold: number | undefined,
  preferenceRecords: number,
  judge?: CapoJudge,
  regenerateChosen = false,
): CapoSetEstimate {
  const e: CapoSetEstimate = {
    judgeRequests: 0,
    dialogues: items.length,
    dependentDialogues: 0,
    turns: 0,
    requests: 0,
    promptTokens: 0,
    completionTokens: 0,
    unbuildable: 0,
    preferenceRecords,
  };
  for (const it of items) {
    const turns = dependentTurns(it.dialogue, threshold);
    if (turns.length) e.dependentDialogues++;
    for (const t of turns) {
      e.turns++;
      if (judge) {
        e.judgeRequests++;
        e.requests++;
      }
      if (regenerateChosen) e.requests++;
      const answer = countTokens(contentText(it.dialogue.turns[t.index]?.content ?? ''));
      for (const strategy of strategies) {
        let req: CapoRequest;
        try {
          req = buildCapoRequest(strategy, it.dialogue, t.index, settings);
        } catch {
          e.unbuildable++;
          continue;
        }
        e.requests++;
        e.promptTokens += req.request.messages.reduce((a, m) => a + countTokens(m.content) + 4, 0);
        e.completionTokens += Math.min(settings.maxTokens, Math.max(1, answer));
      }
    }
  }
  return e;
}

/** Why a file yields no pair, in words (the detector found nothing to break). */
function nothingToPair(name: string, e: CapoSetEstimate, threshold: number | undefined): string {
  if (e.dialogues === 0)
    return e.preferenceRecords
      ? vscode.l10n.t(
          '{0} holds only preference records ({1}); CaPO pairs are built from dialogues.',
          name,
          e.preferenceRecords,
        )
      : vscode.l10n.t('{0} holds no dialogue.', name);
  if (e.turns === 0)
    return vscode.l10n.t(
      'Nothing to pair in {0}: none of its {1} dialogue(s) has a user turn that depends on the earlier turns (context-dependence score {2} or more; first exchanges never count). No file was written.',
      name,
      e.dialogues,
      String(threshold ?? 0.5),
    );
  return vscode.l10n.t(
    'Nothing to pair in {0}: its {1} context-dependent turn(s) cannot be broken with the chosen strategies (misread needs an earlier turn to point at). No file was written.',
    name,
    e.turns,
  );
}

async function pickStrategies(preset: readonly CapoStrategy[]): Promise<CapoStrategy[] | undefined> {
  const items = strategyItems().map((i) => ({ ...i, picked: preset.includes(i.strategy) }));
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Which ways of breaking the context?'),
    placeHolder: vscode.l10n.t('Each picked strategy makes one rejected answer per context-dependent turn'),
    canPickMany: true,
  });
  if (!picked?.length) return undefined;
  return picked.map((p) => p.strategy);
}

/** Counts requests in flight (the client's limiter) and the tokens the server reports. */
function meter(client: LlmClient): { tokens: () => number; done: () => number; inFlight: () => number } {
  let tokens = 0;
  let done = 0;
  const chat = client.chat.bind(client);
  client.chat = async (...a: Parameters<LlmClient['chat']>) => {
    try {
      const r = await chat(...a);
      tokens += r.usage.promptTokens + r.usage.completionTokens;
      return r;
    } finally {
      done++;
    }
  };
  return { tokens: () => tokens, done: () => done, inFlight: () => client.limiter.inFlight };
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The notification's line: records, pairs, requests (in flight / done / all), tokens, elapsed. */
export function progressLine(p: CapoSetProgress): string {
  return vscode.l10n.t(
    '{0}/{1} record(s), {2} pair(s) · {3} request(s) in flight, {4}/{5} done{6} · {7} tokens · {8}',
    p.finished,
    p.records,
    p.pairs,
    p.inFlight,
    p.requestsDone,
    p.requests,
    p.failed ? vscode.l10n.t(', {0} failed', p.failed) : '',
    p.tokens.toLocaleString(),
    elapsed(p.elapsedMs),
  );
}

/**
 * Builds CaPO pairs for every context-dependent user turn of a file. Shows the estimate and asks
 * first; a file with nothing to pair gets a reason and no output file. Resumable: `<out>.progress.json`
 * holds the records finished and the requests that failed, and a later run continues there and
 * sends the failed ones again.
 */
export async function buildCapoSet(ctx: LlmContext, args: CapoSetArgs = {}): Promise<CapoSetResult> {
  const { uri } = ctx.locate(args, false);
  const target = await targetFor(uri, ctx.editor);
  const s = ctx.settings();
  const format = checkFormat(args.format, s.capoFormat);
  const name = path.basename(uri.fsPath);
  const source = ctx.sourceName(uri);
  let strategies: CapoStrategy[];
  if (args.strategies !== undefined) strategies = args.strategies.map(checkStrategy);
  else if (args.confirm === false) strategies = s.capoStrategies;
  else {
    const picked = await pickStrategies(s.capoStrategies);
    if (!picked) return { status: 'cancelled' };
    strategies = picked;
  }
  if (!strategies.length) throw new Error(vscode.l10n.t('Choose at least one strategy.'));
  const settings = capoSettings(s);
  const judge = capoJudge(s);
  const regenerateChosen = s.capoRegenerateChosen;
  const items: SetItem[] = [];
  let preferenceRecords = 0;
  const mapping = await entryMappings().load(uri.fsPath);
  for await (const [index, text] of records(target)) {
    const p = parseRecord(text, undefined, { mapping });
    if (!p.ok) throw new Error(`${name}:${index + 1}:${p.error.column}: ${p.error.message}`);
    if (p.sample.kind === 'dialogue') items.push({ index, text, dialogue: p.sample });
    else preferenceRecords++;
  }
  const whole = capoEstimate(
    items,
    strategies,
    settings,
    args.threshold,
    preferenceRecords,
    judge,
    regenerateChosen,
  );

  // The output: the argument, else the file an unfinished run of this source writes to, else asked.
  // An unreadable progress file is an error, never "start over" (core `readRunProgress`).
  const remembered = ctx.context.workspaceState.get<Record<string, string>>(SET_STATE) ?? {};
  let out = args.output;
  let previous: RunProgress | undefined;
  let confirmed = false;
  if (!out) {
    const last = remembered[source];
    const p = last && existsSync(last) ? await readRunProgress(last) : undefined;
    if (last && p?.input === source) {
      out = last;
      previous = p;
    }
  } else previous = await readRunProgress(out);
  if (previous && (previous.input !== source || !existsSync(out ?? ''))) previous = undefined;

  if (whole.requests === 0 && !previous?.failed.length) {
    const message = nothingToPair(name, whole, args.threshold);
    void vscode.window.showInformationMessage(message);
    return { status: 'empty', message, pairs: 0, records: items.length, estimate: whole, strategies };
  }

  let resume = args.resume;
  if (previous && resume === undefined) {
    const cont = vscode.l10n.t('Continue');
    const over = vscode.l10n.t('Start over');
    const pick = await vscode.window.showWarningMessage(
      vscode.l10n.t(
        '{0} holds an unfinished run of {1}: {2} of {3} records done, {4} request(s) failed.',
        path.basename(out ?? ''),
        name,
        previous.records,
        items.length,
        failedRequests(previous),
      ),
      {
        modal: true,
        detail: vscode.l10n.t(
          'Continue sends the failed requests again and goes on after the finished records; the pairs already written stay. Start over empties the file.',
        ),
      },
      cont,
      over,
    );
    if (!pick) return { status: 'cancelled' };
    resume = pick === cont;
    confirmed = !resume; // "Start over" empties the file: the user chose it
  }
  if (!resume) previous = undefined;
  if (previous && (previous.keep.format ?? format) !== format)
    throw new Error(
      vscode.l10n.t(
        'The unfinished run wrote {0}; continue it with that format.',
        previous.keep.format ?? '',
      ),
    );
  // An existing output is never emptied unless the user said so (checked before anything is asked).
  if (out && !previous && resume !== false && !confirmed && ((await fileSize(out)) ?? 0) > 0)
    throw new Error(vscode.l10n.t('{0} exists — continue its run, or choose another output.', out));

  const skip = previous?.records ?? 0;
  const retrying = failedRequests(previous);
  const todo = items.map((it, slot) => ({ it, slot })).slice(skip);
  const est = capoEstimate(
    todo.map((t) => t.it),
    strategies,
    settings,
    args.threshold,
    preferenceRecords,
    judge,
    regenerateChosen,
  );
  est.requests += retrying;

  if (args.confirm !== false) {
    const go = previous ? vscode.l10n.t('Continue') : vscode.l10n.t('Build');
    const pick = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Build CaPO pairs ({0}) for {1} context-dependent turn(s) in {2} of {3} dialogue(s) of {4}?',
        strategies.join(', '),
        whole.turns,
        whole.dependentDialogues,
        whole.dialogues,
        name,
      ),
      {
        modal: true,
        detail: vscode.l10n.t(
          'About {0} request(s) to {1}, ~{2} prompt and ~{3} completion tokens (o200k estimate).{4}',
          est.requests,
          ctx.host(s),
          est.promptTokens.toLocaleString(),
          est.completionTokens.toLocaleString(),
          (judge
            ? ' ' +
              vscode.l10n.t(
                '{0} of them to the context judge {1}; turns it does not confirm get no pairs (fewer requests).',
                est.judgeRequests,
                judge.model,
              )
            : '') +
            (previous
              ? ' ' +
                vscode.l10n.t('{0} record(s) are done; {1} failed request(s) are sent again.', skip, retrying)
              : ''),
        ),
      },
      go,
    );
    if (pick !== go) return { status: 'cancelled', estimate: est, strategies };
  }

  if (!out) {
    const picked = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Write the CaPO preference pairs to'),
      defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.jsonl$/i, '') + '.capo.jsonl'),
      filters: { JSONL: ['jsonl'] },
    });
    if (!picked) return { status: 'cancelled', estimate: est, strategies };
    out = picked.fsPath;
    confirmed = true; // the save dialog asked before replacing a file
  }
  // Progress, ordering and the provenance side file: the same mechanism as the CLI (core RunOutput).
  const output = await RunOutput.open({
    out,
    sidecar: needsSidecar(format) ? sidecarPath(out) : undefined,
    input: source,
    keep: { format },
    resume: previous !== undefined,
    overwrite: confirmed || resume === false,
  });
  const outFile = out;
  await ctx.context.workspaceState.update(SET_STATE, { ...remembered, [source]: outFile });

  let complete = false;
  let failedNow = 0;
  const result: CapoSetResult = {
    status: 'ok',
    output: outFile,
    pairs: 0,
    records: items.length,
    finished: skip,
    skipped: [],
    strategies,
    estimate: est,
    retried: 0,
  };
  try {
    const client = await ctx.client(s);
    const metered = meter(client);
    const started = Date.now();
    const figures = (): CapoSetProgress => ({
      finished: output.records,
      records: items.length,
      pairs: result.pairs ?? 0,
      failed: failedNow,
      inFlight: metered.inFlight(),
      requestsDone: metered.done(),
      requests: est.requests,
      tokens: metered.tokens(),
      elapsedMs: Date.now() - started,
    });
    /**
     * The slot of a record whose requests ran: its pair lines (after `kept`, the lines a failed
     * earlier attempt wrote) and, when some failed, those requests (a later run sends them again).
     */
    const slotOf = (it: SetItem, res: CapoResult, kept?: { lines: string[]; side: string[] }): SlotResult => {
      const lines = res.pairs.map((p) => pairLines(p, format));
      result.pairs = (result.pairs ?? 0) + lines.length;
      const failed: FailedJob[] = [];
      for (const x of res.skipped) {
        result.skipped?.push(
          `${name}:${it.index + 1}: turn ${x.turn}${x.strategy ? ` ${x.strategy}` : ''}: ${x.reason}`,
        );
        if (x.failed)
          failed.push({ record: it.index, turn: x.turn - 1, strategy: x.strategy, reason: x.reason });
      }
      failedNow += failed.length;
      const detail: FailedDetail = { sha256: sha256(it.text), requests: failed };
      return {
        lines: [...(kept?.lines ?? []), ...lines.map((l) => l.line)],
        side: [...(kept?.side ?? []), ...lines.map((l) => l.sidecar ?? '{}')],
        error: failed.length
          ? failed
              .map((x) => `turn ${x.turn + 1}${x.strategy ? ` ${x.strategy}` : ''}: ${x.reason}`)
              .join('; ')
          : undefined,
        detail: failed.length ? detail : undefined,
      };
    };

    await withProgress(
      vscode.l10n.t('Building CaPO pairs from {0}', name),
      args.token,
      async (progress, signal) => {
        const show = (): void => {
          const f = figures();
          progress.report({ message: progressLine(f) });
          args.onProgress?.(f);
        };
        show();
        const ticker = setInterval(show, 1000);
        try {
          // First the requests that failed last time (their records must be unchanged); the new
          // pairs replace the record's lines in place (core `RunOutput.repair`).
          if (output.failed.length) {
            const keptLines = await output.failedLines();
            const keptSide = await output.failedLines(true);
            const redone = new Map<number, SlotResult>();
            for (const f of output.failed) {
              if (signal.aborted) break;
              const it = items[f.slot];
              const detail = failedDetail(f.detail);
              const kept = { lines: keptLines.get(f.slot) ?? [], side: keptSide.get(f.slot) ?? [] };
              if (!it || (detail && sha256(it.text) !== detail.sha256)) {
                result.skipped?.push(
                  `${name}:${(it?.index ?? f.slot) + 1}: ${vscode.l10n.t('the record changed since the failed request; not sent again')}`,
                );
                redone.set(f.slot, kept); // what it wrote stays; nothing is retried
                continue;
              }
              // Each failed request alone (never other turn × strategy combinations); without the
              // list (an older progress file), the whole record is made again.
              const jobs = detail
                ? detail.requests.map((j) =>
                    j.strategy
                      ? { strategies: [j.strategy], turns: [j.turn] }
                      : { strategies, turns: [j.turn], judge, regenerateChosen },
                  )
                : [{ strategies, turns: undefined, threshold: args.threshold, judge, regenerateChosen }];
              const res: CapoResult = { pairs: [], skipped: [], cancelled: false, judgeRequests: 0 };
              for (const job of jobs) {
                const r = await capo(client, it.dialogue, settings, {
                  ...job,
                  source: { file: source, record: it.index + 1 },
                  signal,
                });
                if (r.cancelled) {
                  res.cancelled = true;
                  break;
                }
                res.pairs.push(...r.pairs);
                res.skipped.push(...r.skipped);
              }
              if (res.cancelled) break; // this record stays as it was, to be retried
              result.retried = (result.retried ?? 0) + jobs.length;
              redone.set(f.slot, slotOf(it, res, detail ? kept : undefined));
              show();
            }
            await output.repair(redone);
          }

          // Then the records not finished yet: results arrive in completion order and are
          // written in input order.
          await pool(todo, s.concurrency, signal, async ({ it, slot }) => {
            const res = await capo(client, it.dialogue, settings, {
              strategies,
              threshold: args.threshold,
              judge,
              regenerateChosen,
              source: { file: source, record: it.index + 1 },
              signal,
            });
            ctx.finished({
              uri: uri.toString(),
              index: it.index,
              status: res.cancelled ? 'cancelled' : 'done',
            });
            if (res.cancelled) return; // not written: a resume redoes it
            await output.put(slot, slotOf(it, res));
            result.finished = output.records;
            show();
          });
        } finally {
          clearInterval(ticker);
          show();
        }
        if (signal.aborted) result.status = 'cancelled';
      },
    );
    complete = output.records === items.length && result.status !== 'cancelled';
  } finally {
    await output.close(complete);
  }
  result.finished = output.records;
  const left = output.failed.length;
  for (const m of result.skipped ?? []) ctx.logger.warn(m);
  const tail =
    result.status === 'cancelled'
      ? vscode.l10n.t(' — stopped; run the command again to continue')
      : left
        ? vscode.l10n.t(
            ' — {0} request(s) failed; run the command again to send them again',
            output.failed.reduce((n, f) => n + (failedDetail(f.detail)?.requests.length ?? 1), 0),
          )
        : '';
  result.message = vscode.l10n.t(
    '{0} pair(s) from {1}/{2} record(s) in {3}{4}',
    result.pairs ?? 0,
    result.finished ?? 0,
    items.length,
    path.basename(outFile),
    tail,
  );
  if (result.skipped?.length)
    ctx.report(
      'parrot.buildCapoSet',
      new Error(`${result.message}; ${result.skipped.length} request(s) failed: ${result.skipped[0] ?? ''}`),
    );
  else void vscode.window.showInformationMessage(result.message);
  if (complete && left === 0) {
    const rest = { ...(ctx.context.workspaceState.get<Record<string, string>>(SET_STATE) ?? {}) };
    delete rest[source];
    await ctx.context.workspaceState.update(SET_STATE, rest);
  }
  return result;
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
