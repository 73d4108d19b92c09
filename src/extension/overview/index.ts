/**
 * Parrot: Show Dataset Overview — one webview panel per dataset with the overview's charts,
 * computed by one streaming pass in worker threads (progress, cancel), cached by the file's
 * fingerprint and computed again when the file changes on disk (a save included). A click on a
 * bar or a cluster shows those records in the dialogue editor's list.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { overviewFile, selectLines, summarize, type Overview, type Selection } from '../../core/overview';
import { fingerprintFile, sameFingerprint } from '../../core/store/fingerprint';
import type { Fingerprint } from '../../core/store/types';
import {
  parseOverviewMessage,
  type OverviewHostMessage,
  type OverviewWebviewMessage,
} from '../../overviewProtocol';
import type { DialogueEditorApi } from '../editor';
import { webviewHtml } from '../editor/html';
import { getLog } from '../log';
import { overviewStrings } from './strings';

export const OVERVIEW_VIEW_TYPE = 'parrot.overview';
export const SHOW_OVERVIEW_COMMAND = 'parrot.showOverview';
/** Heap of each overview worker (MB): records are measured a part at a time. */
const WORKER_HEAP_MB = 96;

export interface OverviewEvent<T> {
  uri: vscode.Uri;
  message: T;
}

/** What tests in a real VS Code need to drive the overview through its message path. */
export interface OverviewApi {
  readonly onDidPostMessage: vscode.Event<OverviewEvent<OverviewHostMessage>>;
  readonly onDidReceiveMessage: vscode.Event<OverviewEvent<OverviewWebviewMessage>>;
  /** Handles `message` as if the overview webview of `uri` had sent it (same runtime check). */
  sendFromWebview(uri: vscode.Uri, message: unknown): Promise<boolean>;
}

function threshold(): number {
  const v = vscode.workspace.getConfiguration('parrot.overview').get<number>('threshold', 0.8);
  return typeof v === 'number' && v >= 0.5 && v <= 1 ? v : 0.8;
}

interface Cached {
  fingerprint: Fingerprint;
  threshold: number;
  overview: Overview;
}

class OverviewPanel {
  private ready = false;
  private run: vscode.CancellationTokenSource | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly uri: vscode.Uri,
    readonly panel: vscode.WebviewPanel,
    private readonly owner: OverviewController,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath)),
    );
    const changed = (): void => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.refresh(), 300);
    };
    this.subs.push(
      watcher,
      watcher.onDidChange(changed),
      watcher.onDidCreate(changed),
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidChangeViewState(() => {
        if (panel.visible) changed();
      }),
    );
  }

  post(message: OverviewHostMessage): void {
    this.owner.fire(this.uri, message);
    void this.panel.webview.postMessage(message);
  }

  async receive(raw: unknown): Promise<boolean> {
    const m = parseOverviewMessage(raw);
    if (!m) {
      getLog().warn('Ignored an invalid message from the overview webview.');
      return false;
    }
    try {
      if (m.type === 'ready') {
        this.ready = true;
        await this.refresh();
      } else if (m.type === 'refresh') await this.refresh(true);
      else if (m.type === 'select') await this.owner.select(this.uri, m.sel);
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
    this.owner.received(this.uri, m);
    return true;
  }

  /** Computes the overview unless the cache holds it for the file as it is now. */
  async refresh(force = false): Promise<void> {
    if (!this.ready) return;
    const name = path.basename(this.uri.fsPath);
    const t = threshold();
    let fp: Fingerprint;
    try {
      fp = await fingerprintFile(this.uri.fsPath);
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    const cached = this.owner.cache.get(this.uri.toString());
    if (!force && cached && sameFingerprint(cached.fingerprint, fp)) {
      if (cached.threshold !== t) {
        // A new threshold: cluster the same facts again, no new pass over the file.
        cached.overview = summarize(cached.overview.facts, cached.overview.figures.tokenizer, t);
        cached.threshold = t;
      }
      this.show(cached.overview);
      return;
    }
    this.run?.cancel();
    const run = (this.run = new vscode.CancellationTokenSource());
    const ctl = new AbortController();
    run.token.onCancellationRequested(() => ctl.abort());
    try {
      const overview = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('Dataset overview of {0}', name),
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => run.cancel());
          let reported = 0;
          return overviewFile(this.uri.fsPath, {
            signal: ctl.signal,
            threshold: t,
            workerHeapMb: WORKER_HEAP_MB,
            onProgress: (done, total) => {
              const pct = total ? Math.floor((done / total) * 100) : 100;
              if (pct > reported) {
                progress.report({ increment: pct - reported, message: `${pct}%` });
                reported = pct;
              }
              this.post({ type: 'progress', fileName: name, done, total });
            },
          });
        },
      );
      this.owner.cache.set(this.uri.toString(), { fingerprint: fp, threshold: t, overview });
      this.show(overview);
    } catch (e) {
      if (ctl.signal.aborted) {
        this.post({ type: 'error', message: vscode.l10n.t('The overview was cancelled.') });
        return;
      }
      const message = e instanceof Error ? e.message : String(e);
      getLog().error(`Dataset overview of ${name} failed: ${message}`);
      this.post({ type: 'error', message });
    } finally {
      if (this.run === run) this.run = undefined;
      run.dispose();
    }
  }

  private show(o: Overview): void {
    this.post({
      type: 'figures',
      fileName: path.basename(this.uri.fsPath),
      figures: o.figures,
      strings: overviewStrings(),
      dirty: this.owner.editor.documentState(this.uri)?.dirty ?? false,
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.run?.cancel();
    for (const s of this.subs) s.dispose();
  }
}

class OverviewController {
  readonly panels = new Map<string, OverviewPanel>();
  /** The overviews of open panels, by file. */
  readonly cache = new Map<string, Cached>();
  readonly postEmitter = new vscode.EventEmitter<OverviewEvent<OverviewHostMessage>>();
  readonly receiveEmitter = new vscode.EventEmitter<OverviewEvent<OverviewWebviewMessage>>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly editor: DialogueEditorApi,
  ) {}

  fire(uri: vscode.Uri, message: OverviewHostMessage): void {
    this.postEmitter.fire({ uri, message });
  }

  received(uri: vscode.Uri, message: OverviewWebviewMessage): void {
    this.receiveEmitter.fire({ uri, message });
  }

  show(uri: vscode.Uri): void {
    const key = uri.toString();
    const open = this.panels.get(key);
    if (open) {
      open.panel.reveal();
      return;
    }
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
    const title = vscode.l10n.t('Overview: {0}', path.basename(uri.fsPath));
    const panel = vscode.window.createWebviewPanel(OVERVIEW_VIEW_TYPE, title, vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [dist],
    });
    panel.webview.html = webviewHtml(panel.webview, dist, title, 'overview.js');
    const p = new OverviewPanel(uri, panel, this);
    this.panels.set(key, p);
    panel.onDidDispose(() => {
      p.dispose();
      this.panels.delete(key);
      // The facts of a large file are tens of megabytes: kept only while its overview is open.
      this.cache.delete(key);
    });
  }

  /** Shows the records of a bar or cluster in the dialogue editor of `uri` (opened if needed). */
  async select(uri: vscode.Uri, sel: Selection): Promise<void> {
    const cached = this.cache.get(uri.toString());
    if (!cached) return;
    const lines = selectLines(cached.overview, sel);
    const label = describe(cached.overview, sel, lines.length);
    const ready = this.editor.provider.sessionsFor(uri).some((x) => x.isReady)
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            sub.dispose();
            resolve();
          }, 30_000);
          const sub = this.editor.onDidReceiveMessage((e) => {
            if (e.uri.toString() !== uri.toString() || e.message.type !== 'ready') return;
            clearTimeout(timer);
            sub.dispose();
            resolve();
          });
        });
    // The editor's own group if it is open; else a group other than the overview's.
    const own = vscode.window.tabGroups.all.find((g) =>
      g.tabs.some(
        (t) =>
          t.input instanceof vscode.TabInputCustom &&
          t.input.viewType === this.editor.viewType &&
          t.input.uri.toString() === uri.toString(),
      ),
    );
    const overviewColumn = this.panels.get(uri.toString())?.panel.viewColumn;
    const viewColumn =
      own?.viewColumn ??
      (overviewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    await vscode.commands.executeCommand('vscode.openWith', uri, this.editor.viewType, { viewColumn });
    await ready;
    for (const s of this.editor.provider.sessionsFor(uri)) s.post({ type: 'showLines', label, lines });
  }
}

function describe(o: Overview, sel: Selection, n: number): string {
  const f = o.figures;
  const bin = (h: { bins: { lo: number; hi: number }[] } | null | undefined, i: number): string => {
    const b = h?.bins[i];
    return b ? (b.hi - b.lo === 1 ? String(b.lo) : `${b.lo}–${b.hi - 1}`) : '?';
  };
  switch (sel.chart) {
    case 'format':
      return vscode.l10n.t('format {0} ({1} records)', sel.format, n);
    case 'turns':
      return vscode.l10n.t('{0} turns ({1} records)', bin(f.turns, sel.bin), n);
    case 'tokens':
      return vscode.l10n.t('{0} tokens ({1} records)', bin(f.tokens, sel.bin), n);
    case 'role':
      return vscode.l10n.t(
        '{0} tokens in {1} turns ({2} records)',
        bin(f.roles.find((r) => r.role === sel.role)?.histogram, sel.bin),
        sel.role,
        n,
      );
    case 'problem':
      return vscode.l10n.t('problem {0} ({1} records)', sel.code, n);
    case 'exact':
      return vscode.l10n.t('exact duplicates, cluster {0} ({1} records)', sel.cluster + 1, n);
    case 'userQuestions':
      return vscode.l10n.t('near-duplicate user questions, cluster {0} ({1} records)', sel.cluster + 1, n);
    case 'dialogues':
      return vscode.l10n.t('near-duplicate dialogues, cluster {0} ({1} records)', sel.cluster + 1, n);
  }
}

/** The dataset a command was run on: its argument, the active dialogue editor, or the active text editor. */
function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) return input.uri;
  return vscode.window.activeTextEditor?.document.uri;
}

export function registerOverview(context: vscode.ExtensionContext, editor: DialogueEditorApi): OverviewApi {
  const c = new OverviewController(context, editor);
  context.subscriptions.push(
    c.postEmitter,
    c.receiveEmitter,
    vscode.commands.registerCommand(SHOW_OVERVIEW_COMMAND, (arg: unknown) => {
      const uri = targetUri(arg);
      if (!uri || uri.scheme !== 'file') {
        void vscode.window.showInformationMessage(
          vscode.l10n.t('Open a dataset file (.jsonl, .json or .parquet) to see its overview.'),
        );
        return;
      }
      c.show(uri);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('parrot.overview.threshold')) return;
      for (const p of c.panels.values()) void p.refresh();
    }),
    {
      dispose: () => {
        for (const p of [...c.panels.values()]) p.panel.dispose();
      },
    },
  );
  return {
    onDidPostMessage: c.postEmitter.event,
    onDidReceiveMessage: c.receiveEmitter.event,
    sendFromWebview: async (uri, message) => {
      const p = c.panels.get(uri.toString());
      return p ? p.receive(message) : false;
    },
  };
}
