import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  openRecordStore,
  restoreRecordStore,
  SaveRefusedError,
  type RecordStore,
  type SaveRefusal,
  type StoreBackup,
  type StoreEdit,
} from '../../core/store';
import type { RecordMapping } from '../../core/formats';
import { entryMappings } from '../entryMappings';
import { getLog } from '../log';
import { Disposable } from '../util/disposable';
import { viewTypeFor } from './dialogueEditorProvider';
import { refuseTextAsParquet, reportCodecFallbacks } from './parquetSave';

/** What changed in a document, for the webviews showing it. */
export interface DocumentChange {
  /** Lines whose text changed (by index after the change). */
  lines: number[];
  /** Lines were inserted, deleted or moved: indexes after `lines` shifted. */
  structural: boolean;
  /** Everything was re-read from disk. */
  reloaded: boolean;
}

/** What the user can do about a refused save. */
export type RefusedSaveChoice = 'reload' | 'saveAs' | 'compare' | 'breakLink';

/** A save that the store refused (nothing was written), with the choices offered. */
export interface RefusedSave {
  reason: SaveRefusal;
  message: string;
  choices: RefusedSaveChoice[];
}

/** The choices offered for each reason a save is refused. */
function choicesFor(reason: SaveRefusal): RefusedSaveChoice[] {
  switch (reason) {
    case 'replaced':
    case 'appended':
    case 'truncated':
    case 'rewritten':
      return ['reload', 'saveAs', 'compare'];
    case 'deleted':
      return ['saveAs'];
    case 'hardlink':
      return ['breakLink', 'saveAs'];
    case 'readonly':
      return ['saveAs'];
    case 'unrecoverable':
      return [];
  }
}

/** How often (at most) the growing index is reported while a big file is being indexed. */
const PROGRESS_INTERVAL_MS = 150;

/**
 * One open dataset: a `CustomDocument` over a `RecordStore` (JSONL, JSON array or Parquet). Each user action is one store edit,
 * reported to VS Code as one `CustomDocumentEditEvent` whose undo/redo apply the inverse edits.
 */
export class DialogueDocument extends Disposable implements vscode.CustomDocument {
  static async open(uri: vscode.Uri, backupId: string | undefined): Promise<DialogueDocument> {
    if (uri.scheme !== 'file') {
      throw new Error(
        vscode.l10n.t('The dialogue editor opens files on disk only (this is a "{0}" resource).', uri.scheme),
      );
    }
    const doc = new DialogueDocument(uri);
    const onProgress = (): void => doc.reportProgress();
    if (backupId !== undefined) {
      const backupUri = vscode.Uri.parse(backupId);
      let backup: StoreBackup | undefined;
      try {
        const bytes = await vscode.workspace.fs.readFile(backupUri);
        backup = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoreBackup;
      } catch (err) {
        getLog().warn(`Could not read the backup of ${uri.fsPath}: ${String(err)}`);
      }
      if (backup) {
        try {
          doc._store = await restoreRecordStore(uri.fsPath, backup, { onProgress });
          doc.editPosition = 1; // unsaved edits came back
        } catch (err) {
          void vscode.window.showWarningMessage(err instanceof Error ? err.message : String(err));
        }
      }
    }
    doc._store ??= await openRecordStore(uri.fsPath, { onProgress });
    // Records are read through the file's dataset_info.json entry, when it renames anything.
    await entryMappings().load(uri.fsPath);
    doc.watchIndexing();
    doc.watchFile();
    return doc;
  }

  private _store: RecordStore | undefined;
  private _uri: vscode.Uri;
  /** Bumped when the document is re-read after an external change: older undo entries no longer apply. */
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private lastProgress = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private saving = false;
  private warnedExternal = false;
  /** Position in VS Code's undo stack for this document (edits applied minus edits undone). */
  private editPosition = 0;
  private savedPosition = 0;
  problemCount: number | undefined;

  private readonly _onDidChange = this._register(
    new vscode.EventEmitter<vscode.CustomDocumentEditEvent<DialogueDocument>>(),
  );
  /** Edits for VS Code's undo stack and dirty state. */
  readonly onDidChange = this._onDidChange.event;

  private readonly _onDidChangeContent = this._register(new vscode.EventEmitter<DocumentChange>());
  /** Any change of content or line count (edits, undo, redo, revert, reload, index growth). */
  readonly onDidChangeContent = this._onDidChangeContent.event;

  private readonly _onDidRefuseSave = this._register(new vscode.EventEmitter<RefusedSave>());
  /** A save was refused (the file changed on disk, is read-only or hard-linked); fired before the prompt. */
  readonly onDidRefuseSave = this._onDidRefuseSave.event;
  /** The next save may break a hard link (the user chose "Save anyway"). */
  private breakLinkOnce = false;
  /** Folders of "Compare" copies, removed when the document closes. */
  private readonly compareDirs: string[] = [];

  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this._onDidDispose.event;

  private constructor(uri: vscode.Uri) {
    super();
    this._uri = uri;
  }

  get uri(): vscode.Uri {
    return this._uri;
  }

  /**
   * The renames of the dataset_info.json entry the records are read and written through (kept
   * current when dataset_info.json changes), or undefined.
   */
  get mapping(): RecordMapping | undefined {
    return entryMappings().get(this._uri.fsPath);
  }

  get store(): RecordStore {
    if (!this._store) throw new Error('The dataset is not open.');
    return this._store;
  }

  get fileName(): string {
    return path.basename(this._uri.fsPath);
  }

  get lineCount(): number {
    return this.store.lineCount;
  }
  get isIndexing(): boolean {
    return this.store.isIndexing;
  }
  /** Why the file could not be read as a dataset (e.g. a `.json` file that is not an array of records). */
  get openProblem(): string | undefined {
    return this._openProblem;
  }
  private _openProblem: string | undefined;
  /** Unsaved changes: the position in the undo stack differs from the one last saved. */
  get isDirty(): boolean {
    return this.editPosition !== this.savedPosition;
  }
  get version(): number {
    return this.store.version;
  }

  private reportProgress(): void {
    if (this.isDisposed || !this._store) return;
    const now = Date.now();
    if (now - this.lastProgress >= PROGRESS_INTERVAL_MS) {
      this.lastProgress = now;
      this._onDidChangeContent.fire({ lines: [], structural: false, reloaded: false });
    } else if (!this.progressTimer) {
      this.progressTimer = setTimeout(() => {
        this.progressTimer = undefined;
        this.reportProgress();
      }, PROGRESS_INTERVAL_MS);
    }
  }

  private watchIndexing(): void {
    const store = this.store;
    this._openProblem = undefined; // a reload reads the file afresh
    store.indexed.then(
      () => {
        if (!this.isDisposed && this._store === store)
          this._onDidChangeContent.fire({ lines: [], structural: false, reloaded: false });
      },
      (err: unknown) => {
        if (this.isDisposed) return;
        getLog().error(`Indexing ${this._uri.fsPath} failed: ${String(err)}`);
        const reason = (err as { reason?: unknown }).reason;
        if (typeof reason === 'string' && this._store === store) {
          // Not a dataset (a config, an array of numbers): said in the editor, with where.
          const { line, column } = err as { line: number; column: number };
          this._openProblem = vscode.l10n.t(
            'This file is not a dataset: {0} (line {1}, column {2}). It holds no records to show; open it as text to edit it.',
            reason,
            line + 1,
            column + 1,
          );
          this._onDidChangeContent.fire({ lines: [], structural: false, reloaded: false });
          return;
        }
        void vscode.window.showErrorMessage(err instanceof Error ? err.message : String(err));
      },
    );
  }

  private watchFile(): void {
    const dir = vscode.Uri.file(path.dirname(this._uri.fsPath));
    const watcher = this._register(
      vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(dir, path.basename(this._uri.fsPath)),
      ),
    );
    const onChange = (): void => void this.enqueue(() => this.checkExternalChange());
    this._register(watcher.onDidChange(onChange));
    this._register(watcher.onDidCreate(onChange));
  }

  /** Runs document work one piece at a time (edits read a line, then replace it). */
  enqueue<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Looks for a change on disk (the file watcher calls this too). */
  checkForExternalChange(): void {
    void this.enqueue(() => this.checkExternalChange());
  }

  private async checkExternalChange(): Promise<void> {
    if (this.isDisposed || this.saving || !(await this.store.hasChangedOnDisk())) return;
    if (!this.isDirty) {
      getLog().info(`${this._uri.fsPath} changed on disk; reloading.`);
      await this.reloadFromDisk();
      return;
    }
    if (this.warnedExternal) return;
    this.warnedExternal = true;
    const reload = vscode.l10n.t('Reload (discard my edits)');
    const keep = vscode.l10n.t('Keep my edits');
    // Not awaited here: the document's queue (edits, saves) must not wait for the user.
    void vscode.window
      .showWarningMessage(
        vscode.l10n.t(
          '"{0}" was changed on disk by another program, and you have unsaved edits in the dialogue editor.',
          this.fileName,
        ),
        { modal: false },
        reload,
        keep,
      )
      .then(async (choice) => {
        this.warnedExternal = false;
        if (choice === reload) await this.resolveRefusedSave('reload');
        else if (choice === keep) {
          void vscode.window.showInformationMessage(
            vscode.l10n.t(
              'Your edits are kept. Saving will be refused until you reload, because the file on disk no longer matches; use "Save As" to keep them in another file.',
            ),
          );
        }
      })
      .then(undefined, (e: unknown) => getLog().error(`Reloading ${this._uri.fsPath}: ${String(e)}`));
  }

  private async reloadFromDisk(): Promise<void> {
    if (this.isDisposed) return;
    this.generation++;
    this.editPosition = this.savedPosition = 0;
    await this.store.reload({ onProgress: () => this.reportProgress() });
    this.watchIndexing();
    this._onDidChangeContent.fire({ lines: [], structural: true, reloaded: true });
  }

  /**
   * Applies one user action as one store edit and reports it to VS Code (undo/redo apply the inverse).
   * `lines` are the lines whose text the edit changes, for the webviews.
   */
  applyEdit(label: string, edit: StoreEdit, change: Omit<DocumentChange, 'reloaded'>): void {
    const store = this.store;
    let undoEdit = store.apply(edit);
    // A new edit drops the redo branch: a save point inside it can no longer be reached.
    if (this.savedPosition > this.editPosition) this.savedPosition = -1;
    this.editPosition++;
    let redoEdit: StoreEdit = edit;
    const generation = this.generation;
    const run = (which: 'undo' | 'redo'): Promise<void> =>
      this.enqueue(() => {
        if (generation !== this.generation || this._store !== store) {
          getLog().warn(`Ignored ${which} of "${label}": the file was re-read from disk since.`);
          return;
        }
        if (which === 'undo') {
          redoEdit = store.apply(undoEdit);
          this.editPosition--;
        } else {
          undoEdit = store.apply(redoEdit);
          this.editPosition++;
        }
        this._onDidChangeContent.fire({ ...change, reloaded: false });
      });
    this._onDidChangeContent.fire({ ...change, reloaded: false });
    this._onDidChange.fire({ document: this, label, undo: () => run('undo'), redo: () => run('redo') });
  }

  async save(token: vscode.CancellationToken): Promise<void> {
    await this.saveTo(undefined, token);
  }

  async saveAs(target: vscode.Uri, token: vscode.CancellationToken): Promise<void> {
    if (target.scheme !== 'file') {
      throw new Error(vscode.l10n.t('The dialogue editor saves to files on disk only.'));
    }
    await this.saveTo(target, token);
  }

  private saveTo(target: vscode.Uri | undefined, token: vscode.CancellationToken): Promise<void> {
    return this.enqueue(async () => {
      const ctl = new AbortController();
      const sub = token.onCancellationRequested(() => ctl.abort());
      this.saving = true;
      try {
        if (target === undefined) {
          const breakHardLinks = this.breakLinkOnce;
          this.breakLinkOnce = false;
          try {
            await this.store.save({ signal: ctl.signal, breakHardLinks });
            reportCodecFallbacks(this.store, this.fileName);
          } catch (err) {
            if (err instanceof SaveRefusedError) this.offerRefusedSaveChoices(err);
            throw err;
          }
          this.savedPosition = this.editPosition;
        } else {
          // Save As writes a copy from this document's edits and the version of the file it holds
          // open (which survives the file being replaced or deleted on disk); this document stays on
          // its own file (VS Code opens the copy).
          refuseTextAsParquet(this.store, target.fsPath);
          await this.store.saveAs(target.fsPath, { signal: ctl.signal, rebase: false });
          reportCodecFallbacks(this.store, path.basename(target.fsPath));
        }
      } finally {
        this.saving = false;
        sub.dispose();
      }
      this._onDidChangeContent.fire({ lines: [], structural: false, reloaded: false });
    });
  }

  /**
   * Tells the user why the save was refused and offers what can be done: Reload (discard my edits),
   * Save As… (my edits, into another file), Compare (the file on disk with my version), or for a
   * hard-linked file, Save anyway.
   */
  private offerRefusedSaveChoices(err: SaveRefusedError): void {
    const choices = choicesFor(err.reason);
    this._onDidRefuseSave.fire({ reason: err.reason, message: err.message, choices });
    if (choices.length === 0) return;
    const labels: Record<RefusedSaveChoice, string> = {
      reload: vscode.l10n.t('Reload (discard my edits)'),
      saveAs: vscode.l10n.t('Save As…'),
      compare: vscode.l10n.t('Compare'),
      breakLink: vscode.l10n.t('Save anyway (break the link)'),
    };
    void vscode.window
      .showWarningMessage(err.message, ...choices.map((c) => labels[c]))
      .then(async (picked) => {
        const choice = choices.find((c) => labels[c] === picked);
        if (choice) await this.resolveRefusedSave(choice);
      })
      .then(undefined, (e: unknown) => {
        getLog().error(`After a refused save of ${this._uri.fsPath}: ${String(e)}`);
        void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
      });
  }

  /** Brings this document's dialogue editor to the front, so that workbench commands act on it. */
  private async focusEditor(): Promise<void> {
    await vscode.commands.executeCommand('vscode.openWith', this._uri, viewTypeFor(this._uri), {
      preview: false,
    });
  }

  /**
   * Acts on a choice offered after a refused save. `saveAsTarget` skips the file dialog of "Save
   * As…" (VS Code's own Save As runs otherwise). Resolves with the file "Compare" wrote my version
   * to, or the Save As target.
   */
  async resolveRefusedSave(
    choice: RefusedSaveChoice,
    saveAsTarget?: vscode.Uri,
  ): Promise<vscode.Uri | undefined> {
    switch (choice) {
      case 'reload':
        // Through VS Code, so that its undo stack and dirty state are reset too.
        await this.focusEditor();
        await vscode.commands.executeCommand('workbench.action.files.revert');
        return undefined;
      case 'saveAs':
        if (saveAsTarget) {
          await this.saveAs(saveAsTarget, new vscode.CancellationTokenSource().token);
          return saveAsTarget;
        }
        await this.focusEditor();
        await vscode.commands.executeCommand('workbench.action.files.saveAs');
        return undefined;
      case 'breakLink':
        this.breakLinkOnce = true;
        await this.focusEditor();
        await vscode.commands.executeCommand('workbench.action.files.save');
        return undefined;
      case 'compare': {
        // My version is written to a temporary copy (from the held-open file and my edits).
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parrot-compare-'));
        this.compareDirs.push(dir);
        const mine = vscode.Uri.file(path.join(dir, this.fileName));
        await this.enqueue(() => this.store.saveAs(mine.fsPath, { rebase: false }));
        await vscode.commands.executeCommand(
          'vscode.diff',
          this._uri.with({ scheme: 'file' }),
          mine,
          vscode.l10n.t('{0} (on disk) ↔ your unsaved version', this.fileName),
          { preview: false },
        );
        return mine;
      }
    }
  }

  revert(): Promise<void> {
    return this.enqueue(async () => {
      if (this.isDisposed) return;
      await this.store.reload({ onProgress: () => this.reportProgress() });
      // VS Code moves its undo stack back to the last save point.
      this.editPosition = this.savedPosition;
      this.watchIndexing();
      this._onDidChangeContent.fire({ lines: [], structural: true, reloaded: true });
    });
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    const json = JSON.stringify(await this.store.backup());
    await vscode.workspace.fs.writeFile(destination, Buffer.from(json, 'utf8'));
    return {
      id: destination.toString(),
      delete: () => {
        vscode.workspace.fs.delete(destination).then(undefined, () => undefined);
      },
    };
  }

  override dispose(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    for (const dir of this.compareDirs.splice(0)) {
      fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    this._onDidDispose.fire();
    const store = this._store;
    super.dispose();
    if (store) {
      store.close().catch((err: unknown) => getLog().warn(`Closing ${this._uri.fsPath}: ${String(err)}`));
    }
  }
}
