import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseRecord } from '../../core/formats';
import { detectStyle, serializeLike } from '../../core/formats/json';
import {
  FORMAT_IDS,
  isEditIntent,
  type ActionKind,
  type ActionPhase,
  type CapoStrategy,
  type RunAction,
  parseWebviewMessage,
  ROLE_IDS,
  type EditIntent,
  type HostMessage,
  type Query,
  type RowSummary,
  type WebviewMessage,
} from '../../protocol';
import { validationEnabled, validationOptions } from '../diagnostics';
import { entryMappings } from '../entryMappings';
import { getLog } from '../log';
import { setActiveDataset } from '../statusBar';
import { Disposable } from '../util/disposable';
import { actionCommand } from './actions';
import { SaveGuard } from './autoSave';
import { DialogueDocument, type DocumentChange } from './dialogueDocument';
import { webviewHtml } from './html';
import { mediaResolver, withMedia, type MediaResolver } from './media';
import {
  editedLine,
  errorText,
  IntentError,
  newRecordLine,
  summarizeStored,
  withFreshId,
  toRecordView,
} from './records';
import { problemCheck, type ProblemCheck } from './problems';
import { runQuery } from './search';
import { webviewStrings } from './strings';
import { SessionReview } from '../review/session';
import { maskPreviewMessage, maskStrings } from './maskPreview';

export const VIEW_TYPE = 'parrot.dialogueEditor';
/**
 * The same editor for Parquet files, registered under a second view type because VS Code sets the
 * priority per contribution: `.parquet` opens in it by default (a text editor cannot show the file),
 * while `.jsonl` and `.json` keep opening as text unless asked.
 */
export const PARQUET_VIEW_TYPE = 'parrot.parquetEditor';

/** Whether `viewType` is one of the dialogue editor's. */
export function isDialogueViewType(viewType: string): boolean {
  return viewType === VIEW_TYPE || viewType === PARQUET_VIEW_TYPE;
}

/** A tab input that shows a file in the dialogue editor. */
export function isDialogueTab(input: unknown): input is vscode.TabInputCustom {
  return input instanceof vscode.TabInputCustom && isDialogueViewType(input.viewType);
}

/** The view type the dialogue editor opens `uri` under. */
export function viewTypeFor(uri: vscode.Uri): string {
  return /\.parquet$/i.test(uri.path) ? PARQUET_VIEW_TYPE : VIEW_TYPE;
}

/** A message that went to, or came from, a webview (for tests and diagnostics). */
export interface MessageEvent<T> {
  uri: vscode.Uri;
  message: T;
}

/**
 * The dialogue editor: one `DialogueDocument` per file, any number of webviews (editor groups) on it.
 */
export class DialogueEditorProvider implements vscode.CustomEditorProvider<DialogueDocument> {
  static register(context: vscode.ExtensionContext): DialogueEditorProvider {
    const provider = new DialogueEditorProvider(context);
    const options = {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    };
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(VIEW_TYPE, provider, options),
      vscode.window.registerCustomEditorProvider(PARQUET_VIEW_TYPE, provider, options),
      provider._onDidChangeCustomDocument,
      provider._onDidPostMessage,
      provider._onDidReceiveMessage,
    );
    return provider;
  }

  private readonly sessions = new Map<DialogueDocument, Set<EditorSession>>();
  private readonly _onDidChangeCustomDocument = new vscode.EventEmitter<
    vscode.CustomDocumentEditEvent<DialogueDocument>
  >();
  readonly onDidChangeCustomDocument = this._onDidChangeCustomDocument.event;

  readonly _onDidPostMessage = new vscode.EventEmitter<MessageEvent<HostMessage>>();
  /** Every message sent to a webview. */
  readonly onDidPostMessage = this._onDidPostMessage.event;
  readonly _onDidReceiveMessage = new vscode.EventEmitter<MessageEvent<WebviewMessage>>();
  /** Every valid message received from a webview, after it was handled. */
  readonly onDidReceiveMessage = this._onDidReceiveMessage.event;

  /** Settings each generation action still needs (set by the generation commands). */
  private generation: Record<ActionKind, string[]> | undefined;

  private constructor(private readonly context: vscode.ExtensionContext) {}

  get generationState(): Record<ActionKind, string[]> | undefined {
    return this.generation;
  }

  /** Tells every webview which generation actions can run. */
  setGenerationState(missing: Record<ActionKind, string[]>): void {
    this.generation = missing;
    for (const set of this.sessions.values()) for (const s of set) s.postGeneration();
  }

  async openCustomDocument(
    uri: vscode.Uri,
    openContext: vscode.CustomDocumentOpenContext,
    _token: vscode.CancellationToken,
  ): Promise<DialogueDocument> {
    const doc = await DialogueDocument.open(uri, openContext.backupId);
    doc.onDidChange((e) => this._onDidChangeCustomDocument.fire(e));
    doc.onDidDispose(() => this.sessions.delete(doc));
    return doc;
  }

  resolveCustomEditor(
    document: DialogueDocument,
    panel: vscode.WebviewPanel,
    _token: vscode.CancellationToken,
  ): void {
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    // Media are read from the dataset's folder (and LLaMA-Factory's media dir) only: see ./media.ts.
    const media = mediaResolver(panel.webview, document.uri);
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist, ...media.rootUris()] };
    panel.webview.html = webviewHtml(panel.webview, dist, document.fileName, undefined, media.remote);
    let set = this.sessions.get(document);
    if (!set) this.sessions.set(document, (set = new Set()));
    const session = new EditorSession(document, panel, this, media);
    set.add(session);
    panel.onDidDispose(() => {
      set.delete(session);
      session.dispose();
    });
  }

  /** Decides which saves of large datasets wait for the user (auto-save). */
  readonly saveGuard = new SaveGuard();

  saveCustomDocument(document: DialogueDocument, cancellation: vscode.CancellationToken): Promise<void> {
    if (this.saveGuard.hold(document.uri, document.store.fileSize, () => vscode.workspace.save(document.uri)))
      return Promise.reject(new vscode.CancellationError());
    return document.save(cancellation);
  }
  saveCustomDocumentAs(
    document: DialogueDocument,
    destination: vscode.Uri,
    cancellation: vscode.CancellationToken,
  ): Promise<void> {
    return document.saveAs(destination, cancellation);
  }
  revertCustomDocument(document: DialogueDocument, _cancellation: vscode.CancellationToken): Promise<void> {
    return document.revert();
  }
  backupCustomDocument(
    document: DialogueDocument,
    context: vscode.CustomDocumentBackupContext,
    _cancellation: vscode.CancellationToken,
  ): Promise<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  /** Open documents (one per file). */
  documents(): DialogueDocument[] {
    return [...this.sessions.keys()];
  }

  /** Sessions showing `uri`. */
  sessionsFor(uri: vscode.Uri): EditorSession[] {
    for (const [doc, set] of this.sessions) if (doc.uri.toString() === uri.toString()) return [...set];
    return [];
  }

  /** Sends `message` to every webview of `document`. */
  broadcast(document: DialogueDocument, message: HostMessage): void {
    for (const s of this.sessions.get(document) ?? []) s.post(message);
  }
}

/** One webview showing a document. */
export class EditorSession extends Disposable {
  private ready = false;
  private query: { id: number; ctl: AbortController } | undefined;
  /** Generation actions started from this webview, by the webview's id. */
  private readonly actions = new Map<number, vscode.CancellationTokenSource>();
  /** Pairs waiting for the webview's Keep or Discard, by action id. */
  private readonly reviews = new Map<number, (decision: 'keep' | 'discard') => void>();
  /** Last messages of the running actions, sent again to a reloaded webview. */
  private readonly replay = new Map<number, HostMessage[]>();
  /** Review decisions on this document's records (src/extension/review). */
  readonly review: SessionReview;
  /** The records' own validation problems for the list (built on first use, again after a settings change). */
  private problemCheck: { check: ProblemCheck | undefined } | undefined;
  /** A record to show once the webview is ready (revealed before it had loaded). */
  private pendingReveal: number | undefined;

  constructor(
    readonly document: DialogueDocument,
    private readonly panel: vscode.WebviewPanel,
    private readonly provider: DialogueEditorProvider,
    private readonly media?: MediaResolver,
  ) {
    super();
    this.review = this._register(new SessionReview(document, (m) => this.post(m)));
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)));
    this._register(document.onDidChangeContent((c) => this.onContentChange(c)));
    this._register(
      panel.onDidChangeViewState(() => {
        if (panel.active) setActiveDataset(this.document);
        else setActiveDataset(undefined, this.document);
        // A hidden webview loses its page (no retainContextWhenHidden): it says ready again when shown.
        if (!panel.visible) this.ready = false;
        // A change on disk may have been missed by the file watcher (network drives, some containers).
        if (panel.visible) this.document.checkForExternalChange();
      }),
    );
    if (panel.active) setActiveDataset(document);
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('parrot.validation')) return;
        this.problemCheck = undefined;
        // Badges and problem filters follow the new rules: the webview drops its rows.
        if (this.ready) this.post(this.statusMessage({ lines: [], structural: false, reloaded: true }));
      }),
    );
    this._register(
      entryMappings().onDidChange((files) => {
        if (!files.includes(path.resolve(this.document.uri.fsPath))) return;
        // The records read differently now (dataset_info.json changed): the webview reads them again.
        this.problemCheck = undefined;
        if (this.ready) this.post(this.statusMessage({ lines: [], structural: false, reloaded: true }));
      }),
    );
  }

  private get problems(): ProblemCheck | undefined {
    this.problemCheck ??= {
      check: validationEnabled() ? problemCheck(validationOptions(this.document.uri)) : undefined,
    };
    return this.problemCheck.check;
  }

  /** The editor group the webview is in. */
  get viewColumn(): vscode.ViewColumn | undefined {
    return this.panel.viewColumn;
  }

  /** Selects and shows the record of `line` (now, or once the webview has loaded). */
  reveal(line: number): void {
    if (this.ready && this.panel.visible) this.post({ type: 'reveal', line });
    else this.pendingReveal = line;
  }

  /** Whether the webview has loaded and been sent its first data (messages posted now are seen). */
  get isReady(): boolean {
    return this.ready && !this.isDisposed;
  }

  postGeneration(): void {
    const missing = this.provider.generationState;
    if (this.ready && missing) this.post({ type: 'generation', missing });
  }

  post(message: HostMessage): void {
    if (this.isDisposed) return;
    this.provider._onDidPostMessage.fire({ uri: this.document.uri, message });
    void this.panel.webview.postMessage(message);
  }

  /** Handles one message from the webview (or from a test, through the same check). */
  async receive(raw: unknown): Promise<boolean> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      getLog().warn(`Ignored an invalid message from the dialogue editor webview.`);
      return false;
    }
    try {
      await this.handle(message);
    } catch (err) {
      const text = err instanceof IntentError || err instanceof Error ? err.message : String(err);
      if (!(err instanceof IntentError)) getLog().error(`Dialogue editor: ${message.type} failed: ${text}`);
      this.post({ type: 'error', message: text });
    }
    this.provider._onDidReceiveMessage.fire({ uri: this.document.uri, message });
    return true;
  }

  private statusMessage(change?: DocumentChange): HostMessage {
    const d = this.document;
    return {
      type: 'status',
      lineCount: d.lineCount,
      indexing: d.isIndexing,
      dirty: d.isDirty,
      version: d.version,
      structural: change?.structural ?? false,
      reloaded: change?.reloaded ?? false,
      ...(d.openProblem !== undefined ? { problem: d.openProblem } : {}),
    };
  }

  private onContentChange(change: DocumentChange): void {
    // The status bar follows indexing even before the webview has loaded (it may finish first).
    if (this.panel.active) setActiveDataset(this.document);
    if (!this.ready) return;
    this.post(this.statusMessage(change));
    for (const line of change.lines) void this.sendRecord(line);
  }

  private async sendRecord(line: number): Promise<void> {
    if (line >= this.document.lineCount) return;
    const text = await this.document.store.readLine(line);
    const parsed = parseRecord(text, undefined, { mapping: this.document.mapping });
    this.post({ type: 'record', record: withMedia(toRecordView(line, text, parsed), parsed, this.media) });
  }

  private async handle(m: WebviewMessage): Promise<void> {
    if (isEditIntent(m)) {
      await this.document.enqueue(() => this.applyIntent(m));
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({
          type: 'init',
          strings: webviewStrings(),
          fileName: this.document.fileName,
          roles: ROLE_IDS,
          formats: FORMAT_IDS,
        });
        this.post(this.statusMessage());
        this.postGeneration();
        this.review.onReady();
        this.post({ type: 'maskInit', strings: maskStrings() });
        for (const messages of this.replay.values()) for (const x of messages) this.post(x);
        if (this.pendingReveal !== undefined) this.post({ type: 'reveal', line: this.pendingReveal });
        this.pendingReveal = undefined;
        return;
      case 'runAction':
        await this.startAction(m);
        return;
      case 'cancelAction': {
        const cts = this.actions.get(m.id);
        if (!cts) throw new IntentError(vscode.l10n.t('This action is no longer running.'));
        cts.cancel();
        // A pair waiting for review is discarded: the command then ends as cancelled.
        this.reviews.get(m.id)?.('discard');
        this.reviews.delete(m.id);
        return;
      }
      case 'reviewDecision': {
        const resolve = this.reviews.get(m.id);
        if (!resolve) throw new IntentError(vscode.l10n.t('This pair is no longer waiting for a decision.'));
        this.reviews.delete(m.id);
        resolve(m.decision);
        return;
      }
      case 'requestRows': {
        const rows: RowSummary[] = [];
        const store = this.document.store;
        const lines = m.lines.filter((l) => l < store.lineCount).sort((a, b) => a - b);
        // Read runs of neighbouring lines together.
        let i = 0;
        while (i < lines.length) {
          let j = i;
          while (j + 1 < lines.length && (lines[j + 1] ?? 0) - (lines[j] ?? 0) === 1) j++;
          const start = lines[i] ?? 0;
          const texts = await store.readLines(start, j - i + 1);
          for (const [k, t] of texts.entries())
            rows.push(await summarizeStored(store, start + k, t, this.problems, this.document.mapping));
          i = j + 1;
        }
        this.post({ type: 'rows', rows });
        await this.review.postMarks(lines);
        return;
      }
      case 'openRecord':
        await this.sendRecord(m.line);
        await this.review.postRecord(m.line);
        return;
      case 'reviewSet':
      case 'reviewNext':
        await this.review.handle(m);
        return;
      case 'maskRequest':
        this.post(await maskPreviewMessage(this.document, m));
        return;
      case 'query':
        this.startQuery(m.id, m.query);
        return;
      case 'cancelQuery':
        if (this.query?.id === m.id) this.query.ctl.abort();
        return;
      case 'openLink': {
        let uri: vscode.Uri | undefined;
        try {
          uri = vscode.Uri.parse(m.href, true);
        } catch {
          uri = undefined;
        }
        if (uri && (uri.scheme === 'http' || uri.scheme === 'https')) await vscode.env.openExternal(uri);
        return;
      }
    }
  }

  /**
   * Checks a generation action against the record as it is now, then runs its command in the
   * background (the webview hears `actionState`: running, review, then how it ended). A CaPO pair
   * is reviewed in the webview: the command waits for `reviewDecision` and keeps the pair through
   * its own Keep path.
   */
  private async startAction(m: RunAction): Promise<void> {
    const state = (phase: ActionPhase, message?: string, partial?: string): void => {
      const msg: HostMessage = {
        type: 'actionState',
        id: m.id,
        line: m.line,
        action: m.action,
        state: phase,
      };
      if (m.turn !== undefined) msg.turn = m.turn;
      if (message !== undefined) msg.message = message;
      if (partial !== undefined) msg.partial = partial;
      if (phase === 'running') this.replay.set(m.id, [msg]);
      else if (phase === 'review') this.replay.get(m.id)?.push(msg);
      else {
        // Ended: from now on the action cannot be cancelled or decided any more.
        this.replay.delete(m.id);
        this.actions.delete(m.id);
        this.reviews.delete(m.id);
      }
      this.post(msg);
    };
    if (this.actions.has(m.id)) throw new IntentError(vscode.l10n.t('Action {0} is already running.', m.id));
    let run: ReturnType<typeof actionCommand>;
    try {
      this.checkLine(m.line);
      const text = await this.document.enqueue(() => this.document.store.readLine(m.line));
      run = actionCommand(m, text, this.document.mapping);
    } catch (err) {
      state('failed', err instanceof Error ? err.message : String(err));
      return;
    }
    const cts = new vscode.CancellationTokenSource();
    this.actions.set(m.id, cts);
    state('running');
    const args: Record<string, unknown> = { ...run.args, uri: this.document.uri, token: cts.token };
    // An answer streams into the editor: the webview shows the text as it arrives.
    if (m.action === 'answerTurn') args.onText = (text: string) => state('running', undefined, text);
    if (m.action === 'capoNegative')
      args.review = (pair: { turn: number; strategy: CapoStrategy; chosen: string; rejected: string }) =>
        new Promise<'keep' | 'discard'>((resolve) => {
          if (cts.token.isCancellationRequested) return resolve('discard');
          this.reviews.set(m.id, resolve);
          const review: HostMessage = { type: 'review', id: m.id, line: m.line, ...pair };
          this.replay.get(m.id)?.push(review);
          this.post(review);
          state('review');
        });
    void vscode.commands
      .executeCommand<{ status?: string; message?: string } | undefined>(run.command, args)
      .then(
        (result) => {
          switch (result?.status) {
            case 'ok':
              return state('done', result.message);
            case 'discarded':
              return state('discarded');
            case 'cancelled':
              return state('cancelled', result.message);
            default:
              return state('failed', result?.message ?? vscode.l10n.t('The command returned nothing.'));
          }
        },
        (err: unknown) => state('failed', err instanceof Error ? err.message : String(err)),
      )
      .then(() => {
        this.actions.delete(m.id);
        this.reviews.delete(m.id);
        cts.dispose();
      });
  }

  private startQuery(id: number, query: Query): void {
    this.query?.ctl.abort();
    const ctl = new AbortController();
    this.query = { id, ctl };
    const store = this.document.store;
    const source = {
      get lineCount() {
        return store.lineCount;
      },
      get isIndexing() {
        return store.isIndexing;
      },
      readLines: (start: number, count: number) => store.readLines(start, count),
      problems: this.problems,
      mapping: this.document.mapping,
    };
    runQuery(
      source,
      query,
      ctl.signal,
      (p) => this.post({ type: 'queryProgress', id, ...p }),
      undefined,
      this.review.keepFor(query),
    ).then(
      (r) => this.post({ type: 'queryDone', id, ...r }),
      (err: unknown) =>
        this.post({
          type: 'queryDone',
          id,
          matched: 0,
          scanned: 0,
          cancelled: false,
          error: err instanceof Error ? err.message : String(err),
        }),
    );
  }

  private checkLine(line: number): void {
    if (line >= this.document.lineCount) {
      throw new IntentError(
        vscode.l10n.t(
          'Record {0} no longer exists (the file has {1} records).',
          line + 1,
          this.document.lineCount,
        ),
      );
    }
  }

  /** Turns an intent into one store edit (only the lines it changes), reported as one undoable edit. */
  private async applyIntent(m: EditIntent): Promise<void> {
    const doc = this.document;
    const store = doc.store;
    switch (m.type) {
      case 'editTurn':
      case 'setRole':
      case 'addTurn':
      case 'deleteTurn':
      case 'duplicateTurn':
      case 'moveTurn':
      case 'editSystem':
      case 'setLabel': {
        this.checkLine(m.line);
        const before = await store.readLine(m.line);
        const after = editedLine(before, m, doc.mapping);
        if (after === before) {
          await this.sendRecord(m.line);
          return;
        }
        doc.applyEdit(
          intentLabel(m),
          { kind: 'replace', index: m.line, texts: [after] },
          { lines: [m.line], structural: false },
        );
        return;
      }
      case 'replaceRecord': {
        this.checkLine(m.line);
        const before = await store.readLine(m.line);
        const after = normaliseRawLine(m.text, before);
        if (after === before) {
          await this.sendRecord(m.line);
          return;
        }
        doc.applyEdit(
          vscode.l10n.t('Edit record JSON'),
          { kind: 'replace', index: m.line, texts: [after] },
          { lines: [m.line], structural: false },
        );
        return;
      }
      case 'addDialogue': {
        await store.indexed;
        const at = Math.min(m.after + 1, store.lineCount);
        const template = await this.findTemplate(Math.max(0, Math.min(m.after, store.lineCount - 1)));
        doc.applyEdit(
          vscode.l10n.t('Add dialogue'),
          { kind: 'insert', index: at, texts: [newRecordLine(template, doc.mapping)] },
          { lines: [at], structural: true },
        );
        this.post({ type: 'reveal', line: at });
        return;
      }
      case 'duplicateDialogue': {
        this.checkLine(m.line);
        const text = await store.readLine(m.line);
        doc.applyEdit(
          vscode.l10n.t('Duplicate dialogue'),
          { kind: 'insert', index: m.line + 1, texts: [withFreshId(text, doc.mapping)] },
          { lines: [m.line + 1], structural: true },
        );
        this.post({ type: 'reveal', line: m.line + 1 });
        return;
      }
      case 'deleteDialogue': {
        this.checkLine(m.line);
        doc.applyEdit(
          vscode.l10n.t('Delete dialogue'),
          { kind: 'delete', index: m.line, count: 1 },
          { lines: [], structural: true },
        );
        return;
      }
    }
  }

  /** The nearest valid record around `line`, whose format a new dialogue copies. */
  private async findTemplate(line: number): Promise<string | undefined> {
    const store = this.document.store;
    if (store.lineCount === 0) return undefined;
    const start = Math.max(0, line - 50);
    const texts = await store.readLines(start, 101);
    const order = texts
      .map((_, i) => i)
      .sort((a, b) => Math.abs(start + a - line) - Math.abs(start + b - line));
    for (const i of order) {
      const t = texts[i];
      if (t !== undefined && parseRecord(t, undefined, { mapping: this.document.mapping }).ok) return t;
    }
    return undefined;
  }

  override dispose(): void {
    this.query?.ctl.abort();
    // A closed editor stops its generations and discards the pairs it was showing.
    for (const cts of this.actions.values()) cts.cancel();
    for (const resolve of this.reviews.values()) resolve('discard');
    this.reviews.clear();
    setActiveDataset(undefined, this.document);
    super.dispose();
  }
}

function intentLabel(m: EditIntent): string {
  switch (m.type) {
    case 'editTurn':
      return vscode.l10n.t('Edit turn');
    case 'setRole':
      return vscode.l10n.t('Change role');
    case 'addTurn':
      return vscode.l10n.t('Add turn');
    case 'deleteTurn':
      return vscode.l10n.t('Delete turn');
    case 'duplicateTurn':
      return vscode.l10n.t('Duplicate turn');
    case 'moveTurn':
      return vscode.l10n.t('Move turn');
    case 'editSystem':
      return vscode.l10n.t('Edit system prompt');
    case 'setLabel':
      return vscode.l10n.t('Set label');
    default:
      return vscode.l10n.t('Edit');
  }
}

/**
 * The line to store for raw JSON typed by the user. A single line is kept exactly as typed; a
 * multi-line (pretty-printed) text is written back on one line in the style of the record it replaces.
 * Throws a readable error, with its position, when the text is not valid JSON.
 */
export function normaliseRawLine(text: string, before: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const parsed = parseRecord(text);
    const where = parsed.ok ? '' : errorText(parsed.error);
    throw new IntentError(vscode.l10n.t('The record is not valid JSON: {0}', where));
  }
  if (!/[\r\n]/.test(text)) return text;
  return serializeLike(value, detectStyle(before));
}
