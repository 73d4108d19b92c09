import { closeSync, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { foreignBom } from '../../core/encoding';
import { matchesGlob } from '../../core/glob';
import { containerKindFor, looksLikeRecordArray } from '../../core/store';
import { isParquetPath } from '../../core/store/containers/parquet';
import {
  DEFAULT_MAX_DIAGNOSTICS,
  isRuleCode,
  validateFile,
  validateText,
  type Diagnostic,
  type RuleCode,
  type RuleSetting,
  type ValidateOptions,
} from '../../core/validate';
import type { ValidateFileOptions } from '../../core/validate/file';
import { validateOffThread } from '../../core/validate/offThread';
import { entryMappings } from '../entryMappings';
import { getLog } from '../log';
import { setProblemCount } from '../statusBar';
import { TOKENS_SECTION, tokenRuleOptions } from '../tokens';

const SECTION = 'parrot.validation';
const DEBOUNCE_MS = 300;
/**
 * Validation that runs by itself (a dataset opened in the dialogue editor, saved, or changed on disk)
 * shares the extension host with everything else: its workers get a small heap. The Validate Dataset
 * command uses V8's defaults.
 */
const BACKGROUND_WORKER_HEAP_MB = 32;

/** What `validate` found for one file. */
export interface ValidationSummary {
  uri: vscode.Uri;
  total: number;
  errors: number;
  shown: number;
  lines: number;
}

export interface DiagnosticsApi {
  /** Validates a dataset file on disk (streaming, all cores) and publishes the diagnostics. */
  validateUri(uri: vscode.Uri, token?: vscode.CancellationToken): Promise<ValidationSummary | undefined>;
  /** Resolves once no validation of `uri` is scheduled or running. */
  settled(uri: vscode.Uri): Promise<void>;
}

interface SchemaAssociation {
  files: string;
  schema: string;
}

function isDatasetUri(uri: vscode.Uri): boolean {
  if (uri.scheme !== 'file') return false;
  const name = uri.path.toLowerCase();
  if (isParquetPath(name)) return true;
  return name.endsWith('.jsonl') || (name.endsWith('.json') && isRecordArrayFile(uri.fsPath));
}

/** A `.json` file is a dataset when it starts as a JSON array of records (configs are not). */
function isRecordArrayFile(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(4096);
      return looksLikeRecordArray(head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function toSeverity(s: Diagnostic['severity']): vscode.DiagnosticSeverity {
  switch (s) {
    case 'error':
      return vscode.DiagnosticSeverity.Error;
    case 'warning':
      return vscode.DiagnosticSeverity.Warning;
    default:
      return vscode.DiagnosticSeverity.Information;
  }
}

function toVscode(d: Diagnostic, rows = false): vscode.Diagnostic {
  // A Parquet file has no lines or columns: its problems say their row, as `parrot validate` does.
  const range = rows
    ? new vscode.Range(d.line, 0, d.line, 0)
    : new vscode.Range(d.line, d.startCol, d.endLine ?? d.line, d.endCol);
  const message = rows ? vscode.l10n.t('row {0}: {1}', d.line + 1, d.message) : d.message;
  const out = new vscode.Diagnostic(range, message, toSeverity(d.severity));
  out.source = 'parrot';
  out.code = d.code;
  return out;
}

/** The summary entry that stands for the problems beyond the limit. */
function summaryEntry(hidden: number, max: number): vscode.Diagnostic {
  const d = new vscode.Diagnostic(
    new vscode.Range(0, 0, 0, 0),
    vscode.l10n.t(
      '{0} more problems are not shown (limit: {1}, setting parrot.validation.maxProblems). Run `parrot validate` on the file for the full list.',
      hidden.toLocaleString(),
      max.toLocaleString(),
    ),
    vscode.DiagnosticSeverity.Information,
  );
  d.source = 'parrot';
  d.code = 'summary/truncated';
  return d;
}

/** Whether the file starts with a UTF-16/32 byte order mark. */
function startsForeign(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(4);
      return foreignBom(head, 0, readSync(fd, head, 0, 4, 0)) !== undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Validation options for a file: rule settings and the custom schema whose glob matches it. */
export function validationOptions(uri: vscode.Uri): ValidateOptions {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const rules: Partial<Record<RuleCode, RuleSetting>> = {};
  for (const [code, setting] of Object.entries(cfg.get<Record<string, string>>('rules', {}))) {
    if (isRuleCode(code) && ['off', 'info', 'warning', 'error'].includes(setting)) {
      rules[code] = setting as RuleSetting;
    }
  }
  const opts: ValidateOptions = { rules };
  // Records are read through the file's dataset_info.json entry (as last read: see entryMappings).
  const mapping = entryMappings().get(uri.fsPath);
  if (mapping) opts.mapping = mapping;
  const tokens = tokenRuleOptions(uri);
  if (tokens) opts.tokens = tokens;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const relative = folder ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath;
  for (const assoc of cfg.get<SchemaAssociation[]>('schemas', [])) {
    if (typeof assoc?.files !== 'string' || typeof assoc.schema !== 'string') continue;
    if (matchesGlob(relative, assoc.files)) {
      opts.schemaPath = path.isAbsolute(assoc.schema)
        ? assoc.schema
        : path.join(folder?.uri.fsPath ?? path.dirname(uri.fsPath), assoc.schema);
      break;
    }
  }
  return opts;
}

/** Whether validation of dataset files is on (`parrot.validation.enabled`). */
export function validationEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('enabled', true);
}

/** Diagnostics of the dataset files: text editor saves, the dialogue editor, large files on disk. */
class DatasetDiagnostics implements vscode.Disposable, DiagnosticsApi {
  private readonly collection = vscode.languages.createDiagnosticCollection('parrot');
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  /** File watchers; `pinned` ones (files validated by the command) outlive their tabs. */
  private readonly watchers = new Map<string, { watcher: vscode.Disposable; pinned: boolean }>();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly workerScript: string) {
    this.disposables.push(
      vscode.workspace.onDidSaveTextDocument((doc) => this.onTextDocument(doc)),
      vscode.workspace.onDidOpenTextDocument((doc) => this.onTextDocument(doc)),
      // A clean document whose text changes was reloaded from disk (another program wrote the file).
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.document.isDirty && e.contentChanges.length > 0) this.onTextDocument(e.document);
      }),
      vscode.window.tabGroups.onDidChangeTabs(() => this.syncWatchers()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION) || e.affectsConfiguration(TOKENS_SECTION)) this.revalidateAll();
      }),
      // dataset_info.json changed how some files read: those of them that are open are checked again.
      entryMappings().onDidChange((files) => this.revalidateFiles(files)),
    );
    for (const doc of vscode.workspace.textDocuments) this.onTextDocument(doc);
    this.syncWatchers();
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const r of this.running.values()) r.controller.abort();
    for (const w of this.watchers.values()) w.watcher.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  private enabled(): boolean {
    return this.config().get<boolean>('enabled', true);
  }

  private maxProblems(): number {
    return Math.max(1, this.config().get<number>('maxProblems', DEFAULT_MAX_DIAGNOSTICS));
  }

  private optionsFor(uri: vscode.Uri): ValidateOptions {
    return validationOptions(uri);
  }

  private publish(uri: vscode.Uri, diagnostics: Diagnostic[], total: number): void {
    const max = this.maxProblems();
    const rows = isParquetPath(uri.fsPath);
    const shown = diagnostics.slice(0, max).map((d) => toVscode(d, rows));
    if (total > shown.length) shown.push(summaryEntry(total - shown.length, max));
    this.collection.set(uri, shown);
    setProblemCount(uri, total);
  }

  private clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
    setProblemCount(uri, undefined);
  }

  /** Text documents (VS Code hands over those under 50 MB): validated from the editor's text. */
  private onTextDocument(doc: vscode.TextDocument): void {
    if (!isDatasetUri(doc.uri)) return;
    if (!this.enabled()) return this.clear(doc.uri);
    if (doc.uri.scheme === 'file' && !entryMappings().isLoaded(doc.uri.fsPath)) {
      // The dataset_info.json entry is looked up once, then kept current.
      void entryMappings()
        .load(doc.uri.fsPath)
        .then(() => {
          if (!doc.isClosed) this.onTextDocument(doc);
        });
      return;
    }
    if (isParquetPath(doc.uri.fsPath)) return this.schedule(doc.uri); // rows, read from the file
    if (containerKindFor(doc.uri.fsPath) === 'json-array') {
      // A JSON array's records span lines: validated from the file when it is saved or opened.
      if (!doc.isDirty) this.schedule(doc.uri);
      return;
    }
    const text = doc.getText();
    // VS Code's text has replaced bad bytes by U+FFFD (or decoded a UTF-16 file): the file's own
    // bytes tell whether it is UTF-8, so a clean document is validated from the file.
    if (
      !doc.isDirty &&
      doc.uri.scheme === 'file' &&
      (text.includes('\uFFFD') || startsForeign(doc.uri.fsPath))
    ) {
      this.schedule(doc.uri);
      return;
    }
    try {
      const diagnostics = validateText(text, this.optionsFor(doc.uri));
      this.publish(doc.uri, diagnostics, diagnostics.length);
    } catch (e) {
      this.reportFailure(doc.uri, e);
    }
  }

  private reportFailure(uri: vscode.Uri, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    getLog().error(`Validation of ${path.basename(uri.fsPath)} failed: ${message}`);
    void vscode.window.showErrorMessage(
      vscode.l10n.t('Parrot: could not validate {0}: {1}', path.basename(uri.fsPath), message),
    );
  }

  validateUri(
    uri: vscode.Uri,
    token?: vscode.CancellationToken,
    onProgress?: (done: number, total: number) => void,
    background = false,
  ): Promise<ValidationSummary | undefined> {
    const key = uri.toString();
    this.running.get(key)?.controller.abort();
    const controller = new AbortController();
    const done = this.runValidation(uri, controller, token, onProgress, background);
    this.running.set(key, { controller, done: done.catch(() => undefined) });
    return done;
  }

  private async runValidation(
    uri: vscode.Uri,
    controller: AbortController,
    token: vscode.CancellationToken | undefined,
    onProgress: ((done: number, total: number) => void) | undefined,
    background: boolean,
  ): Promise<ValidationSummary | undefined> {
    const key = uri.toString();
    const sub = token?.onCancellationRequested(() => controller.abort());
    try {
      // The file's dataset_info.json entry is watched from now on; this run reads it from disk
      // itself (the one kept may be older by the watcher's quiet moment).
      await entryMappings().load(uri.fsPath);
      const opts = this.optionsFor(uri);
      delete opts.mapping;
      // JSON arrays and Parquet files are checked by one thread in order: a worker's, not the host's.
      const whole = isParquetPath(uri.fsPath) || containerKindFor(uri.fsPath) === 'json-array';
      const validate = whole
        ? (file: string, o: ValidateFileOptions) =>
            validateOffThread(path.join(path.dirname(this.workerScript), 'validateWhole.worker.js'), file, o)
        : validateFile;
      const result = await validate(uri.fsPath, {
        ...opts,
        maxDiagnostics: this.maxProblems(),
        signal: controller.signal,
        workerScript: this.workerScript,
        workerHeapMb: background ? BACKGROUND_WORKER_HEAP_MB : undefined,
        onProgress,
      });
      this.publish(uri, result.diagnostics, result.total);
      this.watch(uri, true);
      return {
        uri,
        total: result.total,
        errors: result.errors,
        shown: result.diagnostics.length,
        lines: result.lines,
      };
    } catch (e) {
      if (controller.signal.aborted) return undefined;
      throw e;
    } finally {
      sub?.dispose();
      if (this.running.get(key)?.controller === controller) this.running.delete(key);
    }
  }

  async settled(uri: vscode.Uri): Promise<void> {
    const key = uri.toString();
    for (;;) {
      const r = this.running.get(key);
      if (r) await r.done;
      else if (this.pending.has(key)) await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS));
      else return;
    }
  }

  /** URIs of dataset files shown in a tab that VS Code does not give us as a text document. */
  private openDatasetTabs(): vscode.Uri[] {
    const uris = new Map<string, vscode.Uri>();
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        const uri =
          input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText
            ? input.uri
            : undefined;
        if (uri && isDatasetUri(uri)) uris.set(uri.toString(), uri);
      }
    }
    return [...uris.values()];
  }

  private hasTextDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  }

  /**
   * Watches the dataset files open in tabs: a file changed on disk (a dialogue-editor save, another
   * program, a file too large for a text document) is validated again by streaming it.
   */
  private syncWatchers(): void {
    const open = new Map(this.openDatasetTabs().map((u) => [u.toString(), u]));
    for (const [key, { watcher, pinned }] of this.watchers) {
      if (!pinned && !open.has(key) && !this.running.has(key)) {
        watcher.dispose();
        this.watchers.delete(key);
        if (!this.hasTextDocument(vscode.Uri.parse(key))) this.clear(vscode.Uri.parse(key));
      }
    }
    for (const uri of open.values()) {
      if (this.watchers.has(uri.toString())) continue;
      this.watch(uri, false);
      // Opened in the dialogue editor, or too large for a text document: validate the file itself.
      if (!this.hasTextDocument(uri) && this.enabled()) this.schedule(uri);
    }
  }

  private watch(uri: vscode.Uri, pinned: boolean): void {
    const key = uri.toString();
    const existing = this.watchers.get(key);
    if (existing) {
      existing.pinned ||= pinned;
      return;
    }
    const pattern = new vscode.RelativePattern(
      vscode.Uri.file(path.dirname(uri.fsPath)),
      path.basename(uri.fsPath),
    );
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const onChange = (): void => {
      // A text document is validated from its own text (on save, or when VS Code reloads it).
      if (this.hasTextDocument(uri)) return;
      this.schedule(uri);
    };
    watcher.onDidChange(onChange);
    watcher.onDidCreate(onChange);
    watcher.onDidDelete(() => this.clear(uri));
    this.watchers.set(key, { watcher, pinned });
  }

  private schedule(uri: vscode.Uri): void {
    if (!this.enabled()) return;
    const key = uri.toString();
    const t = this.pending.get(key);
    if (t) clearTimeout(t);
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        this.validateUri(uri, undefined, undefined, true).catch((e: unknown) => this.reportFailure(uri, e));
      }, DEBOUNCE_MS),
    );
  }

  private revalidateFiles(files: readonly string[]): void {
    if (!this.enabled()) return;
    const open = new Map(this.openDatasetTabs().map((u) => [path.resolve(u.fsPath), u]));
    for (const doc of vscode.workspace.textDocuments)
      if (doc.uri.scheme === 'file') open.set(path.resolve(doc.uri.fsPath), doc.uri);
    for (const [key, { pinned }] of this.watchers) {
      const uri = vscode.Uri.parse(key);
      if (pinned && uri.scheme === 'file') open.set(path.resolve(uri.fsPath), uri);
    }
    for (const f of files) {
      const uri = open.get(f);
      if (!uri) continue;
      const doc = this.hasTextDocument(uri);
      if (doc && containerKindFor(uri.fsPath) !== 'json-array' && !isParquetPath(uri.fsPath))
        this.onTextDocument(doc);
      else this.schedule(uri);
    }
  }

  private revalidateAll(): void {
    if (!this.enabled()) {
      this.collection.clear();
      return;
    }
    for (const doc of vscode.workspace.textDocuments) this.onTextDocument(doc);
    for (const uri of this.openDatasetTabs()) if (!this.hasTextDocument(uri)) this.schedule(uri);
  }
}

/** The dataset shown in the active tab (text or dialogue editor), if any. */
function activeDatasetUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri =
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && isDatasetUri(uri) ? uri : undefined;
}

export function registerDiagnostics(context: vscode.ExtensionContext): DiagnosticsApi {
  const diagnostics = new DatasetDiagnostics(context.asAbsolutePath(path.join('dist', 'validate.worker.js')));
  context.subscriptions.push(
    diagnostics,
    vscode.commands.registerCommand('parrot.validateDataset', async (arg?: vscode.Uri) => {
      const uri = arg instanceof vscode.Uri ? arg : activeDatasetUri();
      if (!uri || !isDatasetUri(uri)) {
        void vscode.window.showInformationMessage(
          vscode.l10n.t(
            'Parrot: open a dataset (.jsonl, a .json array of records or .parquet), or pick one in the Explorer, to validate it.',
          ),
        );
        return undefined;
      }
      const name = path.basename(uri.fsPath);
      try {
        const summary = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: vscode.l10n.t('Validating {0}', name),
            cancellable: true,
          },
          (progress, token) => {
            let reported = 0;
            return diagnostics.validateUri(uri, token, (done, total) => {
              const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
              if (pct > reported) {
                progress.report({ increment: pct - reported, message: `${pct}%` });
                reported = pct;
              }
            });
          },
        );
        if (!summary) return undefined;
        const text =
          summary.total === 0
            ? vscode.l10n.t('{0}: no problems in {1} lines.', name, summary.lines.toLocaleString())
            : vscode.l10n.t(
                '{0}: {1} errors, {2} warnings in {3} lines.',
                name,
                summary.errors.toLocaleString(),
                (summary.total - summary.errors).toLocaleString(),
                summary.lines.toLocaleString(),
              );
        const show = vscode.l10n.t('Show Problems');
        void vscode.window
          .showInformationMessage(text, ...(summary.total > 0 ? [show] : []))
          .then((pick) =>
            pick === show ? vscode.commands.executeCommand('workbench.actions.view.problems') : undefined,
          );
        return summary;
      } catch (e) {
        void vscode.window.showErrorMessage(
          vscode.l10n.t(
            'Parrot: could not validate {0}: {1}',
            name,
            e instanceof Error ? e.message : String(e),
          ),
        );
        return undefined;
      }
    }),
  );
  return diagnostics;
}
