import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../core/formats';
import { LlmClient, LlmError, hostOf, isCancel, keyScopeFor, redact, type Logger } from '../../core/llm';
import type { Dialogue, FormatId, Sample } from '../../core/model';
import type { DialogueEditorApi } from '../editor';
import { isDialogueTab } from '../editor';
import { getLog } from '../log';
import { ApiKeys } from './keys';
import { llmConfig, missingSettings, readSettings, type GenerationSettings, type Role } from './settings';
import { targetFor, type RecordTarget } from './targets';
import { entryMappings } from '../entryMappings';

/** Arguments every record command takes (from the webview, a CodeLens, a test or nothing). */
export interface RecordArgs {
  /** The dataset (a `Uri` or a string: URI or file path). Default: the active editor's file. */
  uri?: vscode.Uri | string;
  /** 0-based line index of the record. Default: the selected record / the cursor line. */
  record?: number;
  /** Cancels the work like the notification's Cancel button. */
  token?: vscode.CancellationToken;
}

export type Status = 'ok' | 'cancelled' | 'error' | 'disabled' | 'discarded' | 'empty';

export interface CommandResult {
  status: Status;
  message?: string;
}

/** An error shown to the user (for tests: what the notification said). */
export interface ReportedError {
  command: string;
  message: string;
  kind?: string;
}

export interface RecordEvent {
  uri: string;
  index: number;
  status: string;
}

/** A record at a place in a dataset, parsed. */
export interface LocatedRecord {
  target: RecordTarget;
  index: number;
  text: string;
  sample: Sample;
  format: FormatId;
  layout: Extract<ReturnType<typeof parseRecord>, { ok: true }>['layout'];
  value: unknown;
}

export function asUri(u: vscode.Uri | string): vscode.Uri {
  if (typeof u !== 'string') return u;
  return /^[a-z][a-z0-9+.-]+:/i.test(u) && !/^[a-z]:[\\/]/i.test(u)
    ? vscode.Uri.parse(u)
    : vscode.Uri.file(u);
}

/** The state LLM commands share: settings, keys, the log, errors, the record last opened in each editor. */
export class LlmContext {
  readonly keys: ApiKeys;
  /** Record last opened in the dialogue editor, by file URI. */
  private readonly openRecords = new Map<string, number>();
  private _lastError: ReportedError | undefined;
  readonly _onDidReportError = new vscode.EventEmitter<ReportedError>();
  readonly _onDidFinishRecord = new vscode.EventEmitter<RecordEvent>();
  /** Origins whose missing key the user chose to ignore in this session. */
  readonly noKeyOk = new Set<string>();
  readonly logger: Logger;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly editor: DialogueEditorApi,
  ) {
    this.keys = new ApiKeys(context.secrets);
    const log = getLog();
    this.logger = {
      debug: (m) => log.debug(redact(m)),
      info: (m) => log.info(redact(m)),
      warn: (m) => log.warn(redact(m)),
      error: (m) => log.error(redact(m)),
    };
    context.subscriptions.push(
      this._onDidReportError,
      this._onDidFinishRecord,
      editor.onDidReceiveMessage((e) => {
        if (e.message.type === 'openRecord') this.openRecords.set(e.uri.toString(), e.message.line);
      }),
    );
  }

  get lastError(): ReportedError | undefined {
    return this._lastError;
  }

  settings(): GenerationSettings {
    return readSettings();
  }

  /** A client for the current settings with the key of the endpoint's origin. */
  async client(s: GenerationSettings): Promise<LlmClient> {
    const { key } = await this.keys.resolve(s.baseUrl);
    return new LlmClient(llmConfig(s, key), { logger: this.logger, keyHint: 'run Parrot: Set API Key' });
  }

  /**
   * Checks that a key is there for an endpoint that needs one. Without a key the user may still go
   * on (some servers need none); that choice lasts for the session.
   */
  async checkKey(s: GenerationSettings): Promise<boolean> {
    if (ApiKeys.optional(s.baseUrl)) return true;
    const origin = keyScopeFor(s.baseUrl);
    if (this.noKeyOk.has(origin) || (await this.keys.resolve(s.baseUrl)).key) return true;
    const set = vscode.l10n.t('Set API Key');
    const go = vscode.l10n.t('Continue without a key');
    const pick = await vscode.window.showWarningMessage(
      vscode.l10n.t('No API key is stored for {0}.', origin),
      { modal: true },
      set,
      go,
    );
    if (pick === go) {
      this.noKeyOk.add(origin);
      return true;
    }
    if (pick === set) await vscode.commands.executeCommand('parrot.setApiKey');
    return (await this.keys.resolve(s.baseUrl)).key !== undefined;
  }

  missing(roles: readonly Role[]): string[] {
    return missingSettings(this.settings(), roles);
  }

  /** Shows an error with the action that fixes it, logs it (redacted) and keeps it for tests. */
  report(command: string, err: unknown): CommandResult {
    const message = redact(err instanceof Error ? err.message : String(err));
    const kind = err instanceof LlmError ? err.kind : undefined;
    this._lastError = { command, message, kind };
    this._onDidReportError.fire(this._lastError);
    this.logger.error(`${command}: ${message}`);
    const actions: [string, () => Thenable<unknown>][] = [];
    if (kind === 'auth')
      actions.push([vscode.l10n.t('Set API Key'), () => vscode.commands.executeCommand('parrot.setApiKey')]);
    if (kind === 'model-not-found')
      actions.push([
        vscode.l10n.t('Select Model'),
        () => vscode.commands.executeCommand('parrot.selectModel'),
      ]);
    if (kind === 'unreachable' || kind === 'not-found' || kind === 'timeout')
      actions.push([vscode.l10n.t('Open Settings'), () => openSettings('parrot.endpoint')]);
    void vscode.window.showErrorMessage(message, ...actions.map((a) => a[0])).then((pick) => {
      const action = actions.find((a) => a[0] === pick);
      if (action) void action[1]();
    });
    return { status: 'error', message };
  }

  /** The explanation a command gives when settings are missing (instead of failing). */
  explainMissing(missing: string[]): CommandResult {
    const message = vscode.l10n.t(
      'Parrot generation needs these settings: {0}.',
      missing.map((m) => `"${m}"`).join(', '),
    );
    const open = vscode.l10n.t('Open Settings');
    void vscode.window.showInformationMessage(message, open).then((pick) => {
      if (pick === open) void openSettings(missing[0] ?? 'parrot.endpoint');
    });
    return { status: 'disabled', message };
  }

  finished(e: RecordEvent): void {
    this._onDidFinishRecord.fire(e);
  }

  /** The dataset and record a command acts on: from args, else the active editor. */
  locate(args: RecordArgs | undefined, needRecord: boolean): { uri: vscode.Uri; index?: number } {
    let uri = args?.uri !== undefined ? asUri(args.uri) : undefined;
    let index = args?.record;
    if (!uri) {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      if (isDialogueTab(tab)) {
        uri = tab.uri;
        index ??= this.openRecords.get(uri.toString());
      } else if (vscode.window.activeTextEditor) {
        const ed = vscode.window.activeTextEditor;
        uri = ed.document.uri;
        index ??= ed.selection.active.line;
      }
    } else if (index === undefined && needRecord) {
      index = this.openRecords.get(uri.toString());
      const ed = vscode.window.activeTextEditor;
      if (index === undefined && ed?.document.uri.toString() === uri.toString())
        index = ed.selection.active.line;
    }
    if (!uri)
      throw new Error(vscode.l10n.t('Open a .jsonl dataset first (in the text or the dialogue editor).'));
    if (needRecord && index === undefined)
      throw new Error(vscode.l10n.t('Select a dialogue first (open a record in the dialogue editor).'));
    if (index !== undefined && (!Number.isInteger(index) || index < 0))
      throw new Error(vscode.l10n.t('"record" must be a 0-based line index (got {0}).', String(index)));
    return { uri, index };
  }

  async record(args: RecordArgs | undefined): Promise<LocatedRecord> {
    const { uri, index } = this.locate(args, true);
    const target = await targetFor(uri, this.editor);
    const i = index ?? 0;
    if (i >= (await target.lineCount()))
      throw new Error(vscode.l10n.t('{0} has no record {1}.', path.basename(uri.fsPath), i + 1));
    const text = await target.readLine(i);
    // Read through the file's dataset_info.json entry: the layout writes the grown record back
    // under the file's own names.
    const parsed = parseRecord(text, undefined, { mapping: await entryMappings().load(uri.fsPath) });
    if (!parsed.ok)
      throw new Error(
        `${path.basename(uri.fsPath)}:${i + 1}:${parsed.error.column}: ${parsed.error.message}`,
      );
    return {
      target,
      index: i,
      text,
      sample: parsed.sample,
      format: parsed.layout.format,
      layout: parsed.layout,
      value: parsed.value,
    };
  }

  dialogueOf(r: LocatedRecord): Dialogue {
    if (r.sample.kind !== 'dialogue')
      throw new Error(
        vscode.l10n.t(
          '{0}:{1}: this record is a preference pair; generation works on dialogues.',
          path.basename(r.target.uri.fsPath),
          r.index + 1,
        ),
      );
    return r.sample;
  }

  /** Name of a file for provenance: relative to the workspace folder (never a machine path). */
  sourceName(uri: vscode.Uri): string {
    return vscode.workspace.asRelativePath(uri, false);
  }

  host(s: GenerationSettings): string {
    return hostOf(s.baseUrl);
  }
}

export function openSettings(query: string): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', query);
}

/**
 * Runs `work` in a cancellable progress notification. Cancelling the notification or `token`
 * aborts the signal. Cancellation is returned as `{status: 'cancelled'}` by the callers.
 */
export function withProgress<T>(
  title: string,
  token: vscode.CancellationToken | undefined,
  work: (
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    signal: AbortSignal,
  ) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, uiToken) => {
      const ctl = new AbortController();
      const subs = [uiToken, token]
        .filter((t): t is vscode.CancellationToken => !!t)
        .map((t) => {
          if (t.isCancellationRequested) ctl.abort();
          return t.onCancellationRequested(() => ctl.abort());
        });
      try {
        return await work(progress, ctl.signal);
      } finally {
        for (const s of subs) s.dispose();
      }
    },
  );
}

export { isCancel };
