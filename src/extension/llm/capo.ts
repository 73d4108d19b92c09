import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../core/formats';
import { contentText, type CapoStrategy, type Dialogue, type PreferencePair } from '../../core/model';
import {
  buildCapoRequest,
  CAPO_STRATEGIES,
  capo,
  makePair,
  needsSidecar,
  PAIR_FORMATS,
  pairLines,
  readRunProgress,
  RunOutput,
  sidecarPath,
  type SlotResult,
  userIndexFor,
  type PairFormat,
} from '../../core/parrot';
import { isCancel, withProgress, type CommandResult, type LlmContext, type RecordArgs } from './controller';
import { lastAnswerIndex, pool } from './generate';
import { capoSettings } from './settings';
import { records, targetFor } from './targets';

export const CAPO_SCHEME = 'parrot-capo';
const OUTPUT_STATE = 'parrot.capo.output';

/** Read-only documents showing a chosen and a rejected answer side by side. */
export class CapoContentProvider implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  private seq = 0;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path) ?? '';
  }
  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(CAPO_SCHEME, this);
  }
  add(name: string, text: string): vscode.Uri {
    const p = `/${++this.seq}/${name}`;
    this.docs.set(p, text);
    // Keep the last few pairs only.
    if (this.docs.size > 40) this.docs.delete(this.docs.keys().next().value ?? '');
    return vscode.Uri.from({ scheme: CAPO_SCHEME, path: p });
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

export interface CapoNegativeResult extends CommandResult {
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
  userIndexFor(d, turn);
  let strategy = args.strategy !== undefined ? checkStrategy(args.strategy) : undefined;
  if (!strategy) {
    const items = [
      {
        label: 'neglect',
        strategy: 'neglect' as const,
        detail: vscode.l10n.t('Answer with the history deleted'),
      },
      {
        label: 'hallucinate',
        strategy: 'hallucinate' as const,
        detail: vscode.l10n.t('History deleted; the model assumes what the references mean'),
      },
      {
        label: 'misread',
        strategy: 'misread' as const,
        detail: vscode.l10n.t('The reference resolved to a wrong, unrelated earlier turn'),
      },
    ];
    strategy = (
      await vscode.window.showQuickPick(items, { title: vscode.l10n.t('How should the context be broken?') })
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
  if (decision === 'discard') return { status: 'discarded', strategy, rejected: text, pair, diff };
  const out = await outputFile(ctx, args.output, r.target.uri);
  if (!out) return { status: 'cancelled', strategy, rejected: text, pair, diff };
  await appendPairs(out, [pair], format);
  ctx.logger.info(
    `CaPO ${strategy}: pair for record ${r.index + 1}, turn ${turn + 1} appended to ${path.basename(out)}`,
  );
  return { status: 'ok', strategy, rejected: text, pair, output: out, diff };
}

export interface CapoSetArgs extends RecordArgs {
  output?: string;
  strategies?: CapoStrategy[];
  format?: PairFormat;
  /** Context-dependence score needed (0..1, default 0.5). */
  threshold?: number;
  /** Continue an interrupted run (true), start over (false), or ask (undefined). */
  resume?: boolean;
}

export interface CapoSetResult extends CommandResult {
  output?: string;
  pairs?: number;
  records?: number;
  /** Records finished (including those of an earlier, resumed run). */
  finished?: number;
  skipped?: string[];
}

/** Builds CaPO pairs for every context-dependent user turn of a file; resumable (`<out>.progress.json`). */
export async function buildCapoSet(ctx: LlmContext, args: CapoSetArgs = {}): Promise<CapoSetResult> {
  const { uri } = ctx.locate(args, false);
  const target = await targetFor(uri, ctx.editor);
  const s = ctx.settings();
  const format = checkFormat(args.format, s.capoFormat);
  const strategies = (args.strategies ?? s.capoStrategies).map(checkStrategy);
  const name = path.basename(uri.fsPath);
  const items: { index: number; dialogue: Dialogue }[] = [];
  for await (const [index, text] of records(target)) {
    const p = parseRecord(text);
    if (!p.ok) throw new Error(`${name}:${index + 1}:${p.error.column}: ${p.error.message}`);
    if (p.sample.kind === 'dialogue') items.push({ index, dialogue: p.sample });
  }
  let out = args.output;
  let confirmed = false;
  if (!out) {
    const picked = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Write the CaPO preference pairs to'),
      defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.jsonl$/i, '') + '.capo.jsonl'),
      filters: { JSONL: ['jsonl'] },
    });
    if (!picked) return { status: 'cancelled' };
    out = picked.fsPath;
    confirmed = true; // the save dialog asked before replacing a file
  }
  const source = ctx.sourceName(uri);
  // An unreadable progress file is an error, never "start over".
  const previous = await readRunProgress(out);
  let resume = args.resume;
  if (previous && previous.input === source && existsSync(out) && resume === undefined) {
    const cont = vscode.l10n.t('Continue');
    const over = vscode.l10n.t('Start over');
    const pick = await vscode.window.showWarningMessage(
      vscode.l10n.t(
        '{0} holds an interrupted run ({1} of {2} records done).',
        path.basename(out),
        previous.records,
        items.length,
      ),
      { modal: true },
      cont,
      over,
    );
    if (!pick) return { status: 'cancelled' };
    resume = pick === cont;
  }
  // Progress, ordering and the provenance side file: the same mechanism as the CLI (core RunOutput).
  const output = await RunOutput.open({
    out,
    sidecar: needsSidecar(format) ? sidecarPath(out) : undefined,
    input: source,
    keep: { format },
    resume: resume === true && previous?.input === source,
    overwrite: confirmed || resume === false,
  });
  const skip = output.records;
  const client = await ctx.client(s);
  const settings = capoSettings(s);
  const result: CapoSetResult = {
    status: 'ok',
    output: out,
    pairs: 0,
    records: items.length,
    finished: skip,
    skipped: [],
  };
  const retry = [...output.failed];
  const todo = items.map((it, slot) => ({ ...it, slot })).slice(skip);
  try {
    await withProgress(
      vscode.l10n.t('Building CaPO pairs from {0}', name),
      args.token,
      async (progress, signal) => {
        const work = async (it: { index: number; dialogue: Dialogue }): Promise<SlotResult | undefined> => {
          const res = await capo(client, it.dialogue, settings, {
            strategies,
            threshold: args.threshold,
            source: { file: source, record: it.index + 1 },
            signal,
          });
          for (const x of res.skipped)
            result.skipped?.push(`${name}:${it.index + 1}: turn ${x.turn} ${x.strategy}: ${x.reason}`);
          ctx.finished({
            uri: uri.toString(),
            index: it.index,
            status: res.cancelled ? 'cancelled' : 'done',
          });
          if (res.cancelled) return undefined; // not written: a resume redoes it
          const lines = res.pairs.map((p) => pairLines(p, format));
          result.pairs = (result.pairs ?? 0) + lines.length;
          const failed = res.skipped.filter((x) => x.failed);
          return {
            lines: lines.map((l) => l.line),
            side: lines.map((l) => l.sidecar ?? '{}'),
            error: failed.length
              ? failed.map((x) => `turn ${x.turn} ${x.strategy}: ${x.reason}`).join('; ')
              : undefined,
          };
        };
        if (retry.length) {
          const redone = new Map<number, SlotResult>();
          await pool(retry, s.concurrency, signal, async (f) => {
            const it = items[f.slot];
            const r = it && (await work(it));
            if (r) redone.set(f.slot, r);
          });
          await output.repair(redone);
        }
        await pool(todo, s.concurrency, signal, async (it) => {
          const r = await work(it);
          if (!r) return;
          await output.put(it.slot, r);
          result.finished = output.records;
          progress.report({
            increment: 100 / Math.max(1, todo.length),
            message: vscode.l10n.t(
              '{0}/{1} record(s), {2} pair(s)',
              output.records,
              items.length,
              result.pairs ?? 0,
            ),
          });
        });
        if (signal.aborted) result.status = 'cancelled';
      },
    );
  } finally {
    await output.close(output.records === items.length && result.status !== 'cancelled');
  }
  result.finished = output.records;
  for (const m of result.skipped ?? []) ctx.logger.warn(m);
  result.message = vscode.l10n.t(
    '{0} pair(s) from {1}/{2} record(s) in {3}{4}',
    result.pairs ?? 0,
    result.finished ?? 0,
    items.length,
    path.basename(out),
    result.status === 'cancelled' ? vscode.l10n.t(' — stopped; run the command again to continue') : '',
  );
  if (result.skipped?.length)
    ctx.report(
      'parrot.buildCapoSet',
      new Error(`${result.message}; ${result.skipped.length} request(s) failed: ${result.skipped[0] ?? ''}`),
    );
  else void vscode.window.showInformationMessage(result.message);
  return result;
}
