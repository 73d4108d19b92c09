/**
 * Parrot: Register in dataset_info.json — adds an entry for a dataset to LLaMA-Factory's registry
 * beside it (see core/formats/datasetInfo.ts), keeping the rest of that file byte for byte.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DATA_CONFIG, parseDatasetInfo } from '../core/formats/datasetInfo';
import {
  checkDatasetInfo,
  findEntry,
  registerDataset,
  type RegisterResult,
} from '../core/formats/datasetInfoFiles';

export const REGISTER_COMMAND = 'parrot.registerDatasetInfo';

/** How long the files must be quiet before an open dataset_info.json is checked again. */
const QUIET_MS = 300;

function isDataset(uri: vscode.Uri): boolean {
  return (
    uri.scheme === 'file' && /\.(jsonl|json)$/i.test(uri.fsPath) && path.basename(uri.fsPath) !== DATA_CONFIG
  );
}

function activeDataset(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri =
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && isDataset(uri) ? uri : undefined;
}

/**
 * The command: `(uri?, name?)`. Without a name it asks for one (default: the file name without its
 * extension). Returns what was written, or undefined when nothing was.
 */
async function register(arg?: unknown, givenName?: unknown): Promise<RegisterResult | undefined> {
  const uri = arg instanceof vscode.Uri ? arg : activeDataset();
  if (!uri || !isDataset(uri)) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Parrot: open a .jsonl or .json dataset (or pick one in the Explorer) to register it.'),
    );
    return undefined;
  }
  const infoPath = path.join(path.dirname(uri.fsPath), DATA_CONFIG);
  const dirty = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === infoPath && d.isDirty);
  if (dirty) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Parrot: {0} has unsaved changes; save or revert them first.', DATA_CONFIG),
    );
    return undefined;
  }
  const existing = await findEntry(uri.fsPath);
  if (existing && typeof givenName !== 'string') {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Parrot: {0} is already registered as "{1}".',
        path.basename(uri.fsPath),
        existing.attr.name,
      ),
    );
    return undefined;
  }
  const name =
    typeof givenName === 'string'
      ? givenName
      : await vscode.window.showInputBox({
          title: vscode.l10n.t('Register in {0}', DATA_CONFIG),
          prompt: vscode.l10n.t('Entry name (LLaMA-Factory: dataset: NAME)'),
          value: path.basename(uri.fsPath).replace(/\.(jsonl|json)$/i, ''),
          validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('The name cannot be empty.') : undefined),
        });
  if (name === undefined) return undefined;
  try {
    const r = await registerDataset(uri.fsPath, name.trim());
    const open = vscode.l10n.t('Open {0}', DATA_CONFIG);
    void vscode.window
      .showInformationMessage(
        r.created
          ? vscode.l10n.t('Parrot: created {0} with the entry "{1}" ({2}).', DATA_CONFIG, r.name, r.format)
          : vscode.l10n.t('Parrot: added the entry "{0}" ({1}) to {2}.', r.name, r.format, DATA_CONFIG),
        open,
      )
      .then((choice) => {
        if (choice === open) void vscode.window.showTextDocument(vscode.Uri.file(r.infoPath));
      });
    return r;
  } catch (e) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t(
        'Parrot: could not register {0}: {1}',
        path.basename(uri.fsPath),
        e instanceof Error ? e.message : String(e),
      ),
    );
    return undefined;
  }
}

function isInfo(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && path.basename(doc.uri.fsPath) === DATA_CONFIG;
}

/**
 * Problems of an open dataset_info.json (its entries checked against their files), as of the file
 * on disk: refreshed when it is opened and saved, after a registration, when it changes on disk,
 * and when a file one of its entries names changes (after a quiet moment, once).
 */
class InfoDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('parrot-dataset-info');
  /** Per open dataset_info.json: watchers on it and on the local files its entries name. */
  private readonly watchers = new Map<string, { files: Set<string>; watcher: vscode.Disposable }>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** Refreshes `uri` once things have been quiet for a moment. */
  later(uri: vscode.Uri): void {
    const key = uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.refresh(uri);
      }, QUIET_MS),
    );
  }

  /**
   * Watches an open dataset_info.json and the local files its entries name (read again at each
   * refresh, as the entries may have changed).
   */
  async watch(uri: vscode.Uri): Promise<void> {
    const key = uri.toString();
    const text = await readFile(uri.fsPath, 'utf8').catch(() => '');
    // Closed meanwhile: nothing to watch.
    if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === key)) return;
    const dir = path.dirname(uri.fsPath);
    const files = new Set([uri.fsPath]);
    for (const a of text ? parseDatasetInfo(text).attrs : [])
      if (a.loadFrom === 'file' && a.fileName !== undefined) files.add(path.resolve(dir, a.fileName));
    const had = this.watchers.get(key);
    if (had && had.files.size === files.size && [...files].every((f) => had.files.has(f))) return;
    had?.watcher.dispose();
    const watchers = [...files].map((f) => {
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(path.dirname(f)), path.basename(f)),
      );
      w.onDidChange(() => this.later(uri));
      w.onDidCreate(() => this.later(uri));
      w.onDidDelete(() => this.later(uri));
      return w;
    });
    this.watchers.set(key, { files, watcher: vscode.Disposable.from(...watchers) });
  }

  unwatch(uri: vscode.Uri): void {
    const key = uri.toString();
    this.watchers.get(key)?.watcher.dispose();
    this.watchers.delete(key);
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
    this.collection.delete(uri);
  }

  async refresh(uri: vscode.Uri): Promise<void> {
    if (this.watchers.has(uri.toString())) await this.watch(uri);
    const problems = await checkDatasetInfo(uri.fsPath).catch(() => []);
    this.collection.set(
      uri,
      problems.map((p) => {
        const d = new vscode.Diagnostic(
          new vscode.Range(p.line, p.startCol, p.endLine, p.endCol),
          p.message,
          p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
        );
        d.source = 'parrot';
        d.code = p.code;
        return d;
      }),
    );
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.watcher.dispose();
    for (const t of this.timers.values()) clearTimeout(t);
    this.collection.dispose();
  }
}

export function registerDatasetInfo(context: vscode.ExtensionContext): void {
  const diagnostics = new InfoDiagnostics();
  const refresh = (doc: vscode.TextDocument): void => {
    if (!isInfo(doc)) return;
    void diagnostics.watch(doc.uri).then(() => diagnostics.refresh(doc.uri));
  };
  context.subscriptions.push(
    diagnostics,
    vscode.commands.registerCommand(REGISTER_COMMAND, async (arg?: unknown, name?: unknown) => {
      const r = await register(arg, name);
      if (r) await diagnostics.refresh(vscode.Uri.file(r.infoPath));
      return r;
    }),
    vscode.workspace.onDidOpenTextDocument(refresh),
    vscode.workspace.onDidSaveTextDocument(refresh),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (isInfo(doc)) diagnostics.unwatch(doc.uri);
    }),
  );
  for (const doc of vscode.workspace.textDocuments) refresh(doc);
}
