/**
 * Parrot: Convert Dataset… and Parrot: Export for Training… — `parrot convert` in the editor: the
 * same engine (core/formats/convertFile.ts), so the bytes written are the CLI's, with a progress
 * notification that cancels, an atomic write that never replaces a file without asking, and the
 * loss report (FILE:LINE: lost: …, clickable) in the "Parrot Convert" output channel.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { detectRecordFormat, FORMAT_IDS, FORMATS, isFormatId, isUnpairedFormat } from '../core/formats';
import {
  ConvertCancelled,
  convertFile,
  convertSummary,
  outputContainer,
  skipsInvalid,
  type ConvertReportEntry,
  type ConvertStats,
  type OutputContainer,
} from '../core/formats/convertFile';
import { findEntry, type RegisterResult } from '../core/formats/datasetInfoFiles';
import { mapRecordText } from '../core/formats/recordMapping';
import { readFileRecords } from '../core/store/records';
import { entryMappings } from './entryMappings';
import type { FormatId } from '../core/model';
import { REGISTER_COMMAND } from './datasetInfo';
import type { DialogueEditorApi } from './editor';

export const CONVERT_COMMAND = 'parrot.convertDataset';
export const EXPORT_TRAINING_COMMAND = 'parrot.exportForTraining';

/** What the commands take instead of asking (a test, a script): each missing one is asked for. */
export interface ConvertArgs {
  /** The dataset (URI, or a path). Default: the active editor's file. */
  uri?: vscode.Uri | string;
  /** Convert Dataset…: the target format. */
  format?: string;
  /** Where to write (URI or path); its extension decides the container (.jsonl, .json, .parquet). */
  output?: vscode.Uri | string;
  /** When `output` exists: true replaces it, false leaves it (the command stops); asked when unset. */
  overwrite?: boolean;
  keepUnknown?: boolean;
  /** Cancels like the notification's Cancel button. */
  token?: vscode.CancellationToken;
}

export interface ExportTrainingArgs extends ConvertArgs {
  /** Which trainer: LLaMA-Factory (with its dataset_info.json entry), TRL or OpenAI fine-tuning. */
  target?: TrainingTarget;
  /** LLaMA-Factory: the dataset_info.json entry name. */
  name?: string;
}

export interface ConvertResult {
  status: 'ok' | 'cancelled' | 'error';
  message?: string;
  output?: string;
  format?: FormatId;
  stats?: ConvertStats;
  /** Every line of the loss report, in file order. */
  report?: ConvertReportEntry[];
  /** Export for Training… to LLaMA-Factory: the entry written (undefined when one already named the file). */
  registered?: RegisterResult;
}

export type TrainingTarget = 'llamafactory' | 'trl' | 'openai';
const TRAINING_TARGETS: readonly TrainingTarget[] = ['llamafactory', 'trl', 'openai'];

/** The format each trainer reads a dialogue / preference pair / unpaired (KTO) dataset in. */
const TRAINING_FORMATS: Record<TrainingTarget, Record<'dialogue' | 'preference' | 'unpaired', FormatId>> = {
  llamafactory: { dialogue: 'sharegpt', preference: 'sharegpt-preference', unpaired: 'llamafactory-kto' },
  trl: { dialogue: 'openai', preference: 'trl-preference', unpaired: 'trl-kto' },
  openai: { dialogue: 'openai', preference: 'openai-preference', unpaired: 'openai' },
};

const EXTENSIONS: Record<OutputContainer, string> = { jsonl: 'jsonl', json: 'json', parquet: 'parquet' };

function toUri(u: vscode.Uri | string): vscode.Uri {
  if (typeof u !== 'string') return u;
  return /^[a-z][a-z0-9+.-]+:/i.test(u) && !/^[a-z]:[\\/]/i.test(u)
    ? vscode.Uri.parse(u)
    : vscode.Uri.file(u);
}

function isDatasetPath(p: string): boolean {
  return /\.(jsonl|json|parquet)$/i.test(p) && path.basename(p) !== 'dataset_info.json';
}

function datasetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri || typeof arg === 'string') return toUri(arg);
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri =
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && isDatasetPath(uri.fsPath) ? uri : undefined;
}

/** The format most of the first 200 records are in (read through the file's dataset_info.json entry). */
async function sourceFormat(file: string): Promise<FormatId | undefined> {
  const counts = new Map<FormatId, number>();
  const mapping = await entryMappings().load(file);
  let n = 0;
  for await (const r of readFileRecords(file)) {
    if (r.encoding || r.text.trim() === '') continue;
    let f: FormatId | undefined;
    try {
      f = detectRecordFormat(JSON.parse(mapping ? mapRecordText(r.text, mapping) : r.text));
    } catch {
      /* an invalid record is the report's business */
    }
    if (f) counts.set(f, (counts.get(f) ?? 0) + 1);
    if (++n >= 200) break;
  }
  let best: FormatId | undefined;
  for (const f of FORMAT_IDS) if ((counts.get(f) ?? 0) > (best ? (counts.get(best) ?? 0) : 0)) best = f;
  return best;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

class ConvertCommands {
  private readonly channel = vscode.window.createOutputChannel('Parrot Convert');

  constructor(private readonly editor: DialogueEditorApi) {}

  dispose(): void {
    this.channel.dispose();
  }

  private source(arg: ConvertArgs): vscode.Uri | undefined {
    const uri = datasetUri(arg.uri);
    if (!uri || uri.scheme !== 'file' || !isDatasetPath(uri.fsPath)) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Parrot: open a .jsonl, .json or .parquet dataset (or pick one in the Explorer).'),
      );
      return undefined;
    }
    return uri;
  }

  /** Unsaved edits are not in the file the engine reads: say so, and go on only when the user agrees. */
  private async savedOnly(uri: vscode.Uri, given: boolean): Promise<boolean> {
    const dirty =
      this.editor.documentState(uri)?.dirty === true ||
      vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString() && d.isDirty);
    if (!dirty || given) return true;
    const go = vscode.l10n.t('Convert the Saved File');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('{0} has unsaved changes; they are not included.', path.basename(uri.fsPath)),
      { modal: true },
      go,
    );
    return choice === go;
  }

  private async outputFor(
    uri: vscode.Uri,
    arg: ConvertArgs,
    suffix: string,
    containers: readonly OutputContainer[],
  ): Promise<vscode.Uri | undefined> {
    let container: OutputContainer | undefined = containers.length === 1 ? containers[0] : undefined;
    if (arg.output === undefined && container === undefined) {
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'JSONL', value: 'jsonl' as const, detail: vscode.l10n.t('One record per line (.jsonl)') },
          {
            label: vscode.l10n.t('JSON array'),
            value: 'json' as const,
            detail: vscode.l10n.t('One array of records, indented (.json)'),
          },
          {
            label: 'Parquet',
            value: 'parquet' as const,
            detail: vscode.l10n.t('Columns inferred from the records (.parquet)'),
          },
        ].filter((c) => containers.includes(c.value)),
        { title: vscode.l10n.t('Write as') },
      );
      if (!picked) return undefined;
      container = picked.value;
    }
    const out =
      arg.output !== undefined
        ? toUri(arg.output)
        : await vscode.window.showSaveDialog({
            defaultUri: uri.with({
              path: `${uri.path.replace(/\.(jsonl|json|parquet)$/i, '')}.${suffix}.${EXTENSIONS[container ?? 'jsonl']}`,
            }),
            filters: { [container ?? 'jsonl']: [EXTENSIONS[container ?? 'jsonl']] },
            title: vscode.l10n.t('Save the converted dataset'),
          });
    if (!out) return undefined;
    if (out.scheme !== 'file')
      throw new Error(vscode.l10n.t('The converted dataset is written to a file on disk.'));
    if (path.resolve(out.fsPath) === path.resolve(uri.fsPath))
      throw new Error(vscode.l10n.t('Choose another file: a dataset is not converted onto itself.'));
    if (!containers.includes(outputContainer(out.fsPath)))
      throw new Error(
        vscode.l10n.t(
          'This output is written as {0}.',
          containers.map((c) => `.${EXTENSIONS[c]}`).join(', '),
        ),
      );
    if (await exists(out.fsPath)) {
      let replace = arg.overwrite;
      if (replace === undefined) {
        const yes = vscode.l10n.t('Replace');
        replace =
          (await vscode.window.showWarningMessage(
            vscode.l10n.t('{0} already exists. Replace it?', path.basename(out.fsPath)),
            { modal: true },
            yes,
          )) === yes;
      }
      if (!replace) return undefined;
    }
    return out;
  }

  /** Runs the engine with progress and cancel; writes the report to the output channel. */
  private async run(
    uri: vscode.Uri,
    out: vscode.Uri,
    to: FormatId,
    arg: ConvertArgs,
  ): Promise<ConvertResult> {
    const file = uri.fsPath;
    const size = (await stat(file)).size;
    const report: ConvertReportEntry[] = [];
    const abort = new AbortController();
    const sub = arg.token?.onCancellationRequested(() => abort.abort());
    this.channel.clear();
    this.channel.appendLine(vscode.l10n.t('{0} → {1} ({2})', file, out.fsPath, FORMATS[to].title));
    try {
      const stats = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('Converting {0}', path.basename(file)),
          cancellable: true,
        },
        async (progress, token) => {
          const sub2 = token.onCancellationRequested(() => abort.abort());
          let shown = 0;
          try {
            return await convertFile(file, out.fsPath, {
              to,
              mapping: await entryMappings().load(file),
              keepUnknown: arg.keepUnknown === true,
              signal: abort.signal,
              progress: (r) => {
                const pct = size > 0 ? Math.floor((100 * r.bytes) / size) : 0;
                if (pct > shown) {
                  progress.report({ increment: pct - shown, message: `${pct}%` });
                  shown = pct;
                }
              },
              report: (e) => {
                report.push(e);
                this.channel.appendLine(e.text);
              },
            });
          } finally {
            sub2.dispose();
          }
        },
      );
      const summary = convertSummary(file, to, stats, skipsInvalid(out.fsPath, false), out.fsPath);
      this.channel.appendLine(summary);
      return { status: 'ok', message: summary, output: out.fsPath, format: to, stats, report };
    } catch (e) {
      if (e instanceof ConvertCancelled) {
        this.channel.appendLine(vscode.l10n.t('Cancelled: {0} was not written.', out.fsPath));
        return { status: 'cancelled', report };
      }
      const message = e instanceof Error ? e.message : String(e);
      this.channel.appendLine(message);
      void vscode.window.showErrorMessage(
        vscode.l10n.t('Parrot: could not convert {0}: {1}', path.basename(file), message),
      );
      return { status: 'error', message, report };
    } finally {
      sub?.dispose();
    }
  }

  private announce(r: ConvertResult): void {
    if (r.status !== 'ok' || !r.stats || !r.output) return;
    const s = r.stats;
    const show = vscode.l10n.t('Show Report');
    const open = vscode.l10n.t('Open');
    const message = vscode.l10n.t(
      'Parrot: {0} record(s) written to {1}: {2} with losses, {3} invalid.',
      s.records,
      path.basename(r.output),
      s.lossy,
      s.invalid,
    );
    const output = r.output;
    void vscode.window.showInformationMessage(message, show, open).then((choice) => {
      if (choice === show) this.channel.show(true);
      if (choice === open) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(output));
    });
    if (s.lossy > 0 || s.invalid > 0) this.channel.show(true);
  }

  async convert(arg: ConvertArgs = {}): Promise<ConvertResult> {
    const uri = this.source(arg);
    if (!uri) return { status: 'cancelled' };
    try {
      if (!(await this.savedOnly(uri, arg.uri !== undefined && arg.format !== undefined)))
        return { status: 'cancelled' };
      let to = arg.format;
      if (to === undefined) {
        const own = await sourceFormat(uri.fsPath).catch(() => undefined);
        const picked = await vscode.window.showQuickPick(
          FORMAT_IDS.map((f) => ({
            label: FORMATS[f].title,
            description: f === own ? vscode.l10n.t('{0} (the file’s format)', f) : f,
            detail: FORMATS[f].description,
            value: f,
          })),
          { title: vscode.l10n.t('Convert {0} to', path.basename(uri.fsPath)), matchOnDescription: true },
        );
        if (!picked) return { status: 'cancelled' };
        to = picked.value;
      }
      if (!isFormatId(to))
        throw new Error(vscode.l10n.t('Unknown format {0} (known: {1})', to, FORMAT_IDS.join(', ')));
      const out = await this.outputFor(uri, arg, to, ['jsonl', 'json', 'parquet']);
      if (!out) return { status: 'cancelled' };
      const r = await this.run(uri, out, to, arg);
      this.announce(r);
      return r;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(`Parrot: ${message}`);
      return { status: 'error', message };
    }
  }

  async exportForTraining(arg: ExportTrainingArgs = {}): Promise<ConvertResult> {
    const uri = this.source(arg);
    if (!uri) return { status: 'cancelled' };
    try {
      if (!(await this.savedOnly(uri, arg.uri !== undefined && arg.target !== undefined)))
        return { status: 'cancelled' };
      let target = arg.target;
      if (target === undefined) {
        const picked = await vscode.window.showQuickPick(
          [
            {
              label: 'LLaMA-Factory',
              value: 'llamafactory' as const,
              detail: vscode.l10n.t('ShareGPT / preference / KTO data, with its dataset_info.json entry'),
            },
            {
              label: 'TRL',
              value: 'trl' as const,
              detail: vscode.l10n.t(
                'Conversational messages, prompt/chosen/rejected, or KTO prompt/completion/label',
              ),
            },
            {
              label: vscode.l10n.t('OpenAI fine-tuning'),
              value: 'openai' as const,
              detail: vscode.l10n.t('Chat (messages) or preference (DPO) fine-tuning JSONL'),
            },
          ],
          { title: vscode.l10n.t('Export {0} for', path.basename(uri.fsPath)) },
        );
        if (!picked) return { status: 'cancelled' };
        target = picked.value;
      }
      if (!TRAINING_TARGETS.includes(target))
        throw new Error(
          vscode.l10n.t('Unknown trainer {0} (known: {1})', String(target), TRAINING_TARGETS.join(', ')),
        );
      const own = await sourceFormat(uri.fsPath);
      if (!own)
        throw new Error(vscode.l10n.t('No record of {0} is in a known format.', path.basename(uri.fsPath)));
      const kind = FORMATS[own].preference ? 'preference' : isUnpairedFormat(own) ? 'unpaired' : 'dialogue';
      const to = own === 'trl-stepwise' && target === 'trl' ? own : TRAINING_FORMATS[target][kind];
      // OpenAI fine-tuning reads JSONL only; TRL (datasets) reads JSONL and Parquet.
      const containers: OutputContainer[] =
        target === 'openai' ? ['jsonl'] : target === 'trl' ? ['jsonl', 'parquet'] : ['jsonl', 'json'];
      const out = await this.outputFor(uri, arg, `${target}`, containers);
      if (!out) return { status: 'cancelled' };
      const r = await this.run(uri, out, to, arg);
      if (r.status === 'ok' && target === 'llamafactory') {
        const entry = await findEntry(out.fsPath);
        if (!entry) {
          const name = arg.name ?? path.basename(out.fsPath).replace(/\.(jsonl|json)$/i, '');
          r.registered = await vscode.commands.executeCommand<RegisterResult | undefined>(
            REGISTER_COMMAND,
            out,
            name,
          );
        }
      }
      this.announce(r);
      return r;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(`Parrot: ${message}`);
      return { status: 'error', message };
    }
  }
}

export function registerConvertCommands(context: vscode.ExtensionContext, editor: DialogueEditorApi): void {
  const commands = new ConvertCommands(editor);
  // From the Explorer / editor title a Uri; from a script or test the arguments object.
  const args = (a: vscode.Uri | ExportTrainingArgs | undefined): ExportTrainingArgs =>
    a instanceof vscode.Uri ? { uri: a } : (a ?? {});
  context.subscriptions.push(
    commands,
    vscode.commands.registerCommand(CONVERT_COMMAND, (a?: vscode.Uri | ConvertArgs) =>
      commands.convert(args(a)),
    ),
    vscode.commands.registerCommand(EXPORT_TRAINING_COMMAND, (a?: vscode.Uri | ExportTrainingArgs) =>
      commands.exportForTraining(args(a)),
    ),
  );
}
