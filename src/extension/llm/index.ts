import { exportAskerTrainingSet } from './askerData';
import { filterQuestionsInFile } from './filter';
import * as vscode from 'vscode';
import { keyScopeFor } from '../../core/llm';
import type { ActionKind } from '../../protocol';
import type { DialogueEditorApi } from '../editor';
import { batchExport, batchImport, batchSubmit } from './batch';
import { CAPO_SCHEME, CapoContentProvider, PREVIEW_SCHEME, buildCapoSet, capoNegative } from './capo';
import { GenerationCodeLensProvider } from './codeLens';
import { isCancel, LlmContext, type CommandResult, type RecordEvent, type ReportedError } from './controller';
import { evaluateFile } from './evaluate';
import { answerTurn, askFollowUp, extendDialogue, extendFile, previewRequestCommand } from './generate';
import { growFromSeeds } from './seeds';
import { ENDPOINT_SETTINGS, readSettings, SETTING, type Role } from './settings';

export type { RecordArgs, CommandResult, ReportedError, RecordEvent } from './controller';
export type { AnswerArgs, AskArgs, ExtendArgs, ExtendFileArgs, PreviewArgs } from './generate';
export type { CapoNegativeArgs, CapoReview, CapoSetArgs } from './capo';
export type { BatchExportArgs, BatchImportArgs, BatchJobArgs } from './batch';
export { trustedValue } from './trust';

/** What the generation commands expose through the extension's exports (for tests and tools). */
export interface LlmApi {
  /** The last error a command showed (message as the user saw it). */
  readonly lastError: ReportedError | undefined;
  readonly onDidReportError: vscode.Event<ReportedError>;
  /** A record of a file-wide run (extend, CaPO set) finished, was cancelled or failed. */
  readonly onDidFinishRecord: vscode.Event<RecordEvent>;
  /** The endpoint base URL the commands use right now (workspace trust applied). */
  baseUrl(): string;
}

/**
 * One command of the table. `needs` are the settings it cannot run without: while they are
 * missing, the command explains what to set (with a button to the settings) instead of failing.
 */
interface CommandSpec {
  id: string;
  /** Models needed; `[]` = only the endpoint; `undefined` = nothing (works offline). */
  needs?: Role[];
  /** Sends requests (the key check applies). */
  network?: boolean;
  run: (args: never) => Promise<CommandResult>;
}

interface KeyArgs {
  /** The key (skips the input box). */
  key?: string;
}

interface SelectModelArgs {
  role?: Role;
  /** The model id (skips the Quick Pick; still checked against the list). */
  model?: string;
  target?: 'global' | 'workspace';
}

export function registerLlm(context: vscode.ExtensionContext, editor: DialogueEditorApi): LlmApi {
  const ctx = new LlmContext(context, editor);
  const capoDocs = new CapoContentProvider();
  const previewDocs = new CapoContentProvider(PREVIEW_SCHEME);
  const lenses = new GenerationCodeLensProvider();

  const setApiKey = async (args: KeyArgs = {}): Promise<CommandResult> => {
    const s = ctx.settings();
    const origin = keyScopeFor(s.baseUrl);
    const key =
      args.key ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('API key for {0}', origin),
        prompt: vscode.l10n.t("Stored in VS Code's secret storage and sent only to {0}.", origin),
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('The key is empty.') : undefined),
      }));
    if (key === undefined || key.trim() === '') return { status: 'cancelled' };
    await ctx.keys.store(s.baseUrl, key.trim());
    ctx.noKeyOk.delete(origin);
    ctx.logger.info(`API key stored for ${origin}`);
    const message = vscode.l10n.t('The API key for {0} is stored.', origin);
    void vscode.window.showInformationMessage(message);
    return { status: 'ok', message };
  };

  const clearApiKey = async (): Promise<CommandResult> => {
    const s = ctx.settings();
    const origin = keyScopeFor(s.baseUrl);
    const had = await ctx.keys.clear(s.baseUrl);
    ctx.logger.info(`API key ${had ? 'removed' : 'not stored'} for ${origin}`);
    const message = had
      ? vscode.l10n.t('The API key for {0} is removed.', origin)
      : vscode.l10n.t('No API key was stored for {0}.', origin);
    void vscode.window.showInformationMessage(message);
    return { status: 'ok', message };
  };

  const selectModel = async (
    args: SelectModelArgs = {},
  ): Promise<CommandResult & { model?: string; models?: string[] }> => {
    const role =
      args.role ??
      (
        await vscode.window.showQuickPick(
          [
            {
              label: vscode.l10n.t('Asker'),
              role: 'asker' as const,
              detail: vscode.l10n.t('Writes the next user question (Parrot-Ask)'),
            },
            {
              label: vscode.l10n.t('Answerer'),
              role: 'answerer' as const,
              detail: vscode.l10n.t('Writes assistant answers and CaPO rejected answers'),
            },
          ],
          { title: vscode.l10n.t('Which model?') },
        )
      )?.role;
    if (!role) return { status: 'cancelled' };
    const s = ctx.settings();
    const client = await ctx.client(s);
    const models = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Listing models…') },
      () => client.listModels(),
    );
    let model = args.model;
    if (model !== undefined && !models.includes(model))
      throw new Error(
        vscode.l10n.t(
          "Model '{0}' is not listed by {1} — available: {2}",
          model,
          ctx.host(s),
          models.join(', '),
        ),
      );
    model ??= await vscode.window.showQuickPick(models, {
      title: vscode.l10n.t('Models on {0}', ctx.host(s)),
    });
    if (!model) return { status: 'cancelled', models };
    const key = role === 'asker' ? SETTING.asker : SETTING.answerer;
    const inspected = vscode.workspace.getConfiguration().inspect(key);
    const target =
      args.target === 'workspace' || (args.target === undefined && inspected?.workspaceValue !== undefined)
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration().update(key, model, target);
    // Say what was written where: a silent settings change is easy to miss (and to undo by accident).
    const message =
      target === vscode.ConfigurationTarget.Workspace
        ? vscode.l10n.t('{0} is now "{1}" (workspace settings).', key, model)
        : vscode.l10n.t('{0} is now "{1}" (user settings).', key, model);
    const open = vscode.l10n.t('Open Setting');
    void vscode.window.showInformationMessage(message, open).then((c) => {
      if (c === open) void vscode.commands.executeCommand('workbench.action.openSettings', key);
    });
    return { status: 'ok', model, models, message };
  };

  const table: CommandSpec[] = [
    {
      id: 'parrot.askFollowUp',
      needs: ['asker'],
      network: true,
      run: (a) => askFollowUp(ctx, a, previewDocs),
    },
    { id: 'parrot.answerTurn', needs: ['answerer'], network: true, run: (a) => answerTurn(ctx, a) },
    {
      id: 'parrot.extendDialogue',
      needs: ['asker', 'answerer'],
      network: true,
      run: (a) => extendDialogue(ctx, a),
    },
    { id: 'parrot.extendFile', needs: ['asker', 'answerer'], network: true, run: (a) => extendFile(ctx, a) },
    {
      id: 'parrot.growFromSeeds',
      needs: ['asker', 'answerer'],
      network: true,
      run: (a) => growFromSeeds(ctx, a),
    },
    {
      id: 'parrot.capoNegative',
      needs: ['answerer'],
      network: true,
      run: (a) => capoNegative(ctx, capoDocs, a),
    },
    { id: 'parrot.evaluateMtBench', needs: [], network: true, run: (a) => evaluateFile(ctx, a) },
    { id: 'parrot.buildCapoSet', needs: ['answerer'], network: true, run: (a) => buildCapoSet(ctx, a) },
    {
      id: 'parrot.previewRequest',
      needs: ['asker', 'answerer'],
      run: (a) => previewRequestCommand(ctx, previewDocs, a),
    },
    { id: 'parrot.batchExport', needs: ['asker', 'answerer'], run: (a) => batchExport(ctx, a) },
    { id: 'parrot.exportAskerTrainingSet', needs: [], run: (a) => exportAskerTrainingSet(ctx, a) },
    { id: 'parrot.filterFile', needs: [], run: (a) => filterQuestionsInFile(ctx, a) },
    { id: 'parrot.batchSubmit', needs: [], network: true, run: (a) => batchSubmit(ctx, a) },
    { id: 'parrot.batchImport', needs: [], network: true, run: (a) => batchImport(ctx, a) },
    { id: 'parrot.setApiKey', needs: [], run: (a) => setApiKey(a) },
    { id: 'parrot.clearApiKey', needs: [], run: () => clearApiKey() },
    { id: 'parrot.selectModel', needs: [], network: true, run: (a) => selectModel(a) },
  ];

  const enabled =
    (spec: CommandSpec) =>
    async (raw: unknown): Promise<CommandResult> => {
      // Explorer menus pass the file's Uri; the webview, CodeLens and tests pass an args object.
      const args = (raw instanceof vscode.Uri ? { uri: raw } : (raw ?? {})) as never;
      try {
        if (spec.network && !(await ctx.checkKey(ctx.settings()))) return { status: 'cancelled' };
        return await spec.run(args);
      } catch (err) {
        if (isCancel(err)) return { status: 'cancelled' };
        return ctx.report(spec.id, err);
      }
    };
  const disabled = (missing: string[]) => (): Promise<CommandResult> =>
    Promise.resolve(ctx.explainMissing(missing));

  for (const spec of table) {
    context.subscriptions.push(
      vscode.commands.registerCommand(spec.id, (raw: unknown) => {
        const missing = spec.needs === undefined ? [] : ctx.missing(spec.needs);
        return missing.length ? disabled(missing)() : enabled(spec)(raw);
      }),
    );
  }

  const updateContext = (): void => {
    const s = readSettings();
    void vscode.commands.executeCommand(
      'setContext',
      'parrot.generationReady',
      ctx.missing(['asker', 'answerer']).length === 0,
    );
    // The dialogue editor's inline actions: each one needs what its command needs.
    const needs = (kind: ActionKind): string[] =>
      ctx.missing(table.find((c) => c.id === `parrot.${kind}`)?.needs ?? ['asker', 'answerer']);
    editor.setGenerationState({
      capoNegative: needs('capoNegative'),
      askFollowUp: needs('askFollowUp'),
      answerTurn: needs('answerTurn'),
      extendDialogue: needs('extendDialogue'),
    });
    if (s.baseUrlIgnored)
      ctx.logger.warn(
        `${SETTING.baseUrl}: the workspace value is ignored because the workspace is not trusted`,
      );
  };
  updateContext();

  context.subscriptions.push(
    lenses,
    capoDocs.register(),
    previewDocs.register(),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.jsonl' }, lenses),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (ENDPOINT_SETTINGS.some((k) => e.affectsConfiguration(k))) updateContext();
      if (e.affectsConfiguration(SETTING.codeLens)) lenses.refresh();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => updateContext()),
  );

  return {
    get lastError() {
      return ctx.lastError;
    },
    onDidReportError: ctx._onDidReportError.event,
    onDidFinishRecord: ctx._onDidFinishRecord.event,
    baseUrl: () => readSettings().baseUrl,
  };
}

export { CAPO_SCHEME };
