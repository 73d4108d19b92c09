/**
 * The dialogue editor webview: a virtual list of records paged from the host, filters and search
 * run by the host, and the dialogue pane. Talks to the host only through src/protocol.ts.
 *
 * The App owns the list's state and the host messages; its parts live beside it: filterBar.ts (the
 * toolbar: search, filters, Go to #), recordRow.ts (one row of the list) and dialogueView.ts (the pane).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { FormatId, Role } from '../src/core/model';
import { MAX_ROWS_PER_REQUEST, type HostMessage, type Query, type RowSummary } from '../src/protocol';
import { DetailView } from './dialogueView';
import { ReviewPanel } from './review';
import { MaskPreview } from './maskPreview';
import { el } from './dom';
import { custom, FilterBar } from './filterBar';
import { matcherFor } from './highlight';
import { renderRecordRow } from './recordRow';
import css from './styles.css';
import { setStrings, t } from './strings';
import { VirtualList } from './virtualList';
import { loadState, post, saveState, type ViewState } from './vscodeApi';

const ROW_HEIGHT = 48;
const OVERSCAN = 20;
const MAX_CACHED_ROWS = 20_000;

const sheet = new CSSStyleSheet();
sheet.replaceSync(css);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName.toLowerCase();
  return (
    tag === 'input' ||
    tag === 'textarea' ||
    tag === 'select' ||
    tag.startsWith('vscode-textfield') ||
    tag.startsWith('vscode-single-select') ||
    target.isContentEditable
  );
}

class App {
  private lineCount = 0;
  private indexing = true;
  private dirty = false;
  private version = -1;
  private readonly rows = new Map<number, RowSummary>();
  /** Records with a generation action running or waiting for review (marked in the list). */
  private busy: ReadonlySet<number> = new Set();
  private readonly requested = new Set<number>();
  private selectedLine = -1;
  private restoring: Partial<ViewState>;
  private queryId = 0;
  /** Ids of generation actions: start from the clock so a reloaded webview never reuses one. */
  private actionId = Date.now();
  private query: Query | undefined;
  private matches: number[] | undefined;
  private readonly snippets = new Map<number, string>();
  private querying = false;
  /** What the list shows when it shows the records of an overview bar (see showLines). */
  private overviewLabel: string | undefined;
  private queryScanned = 0;
  private queryTotal = 0;
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private errorTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly list: VirtualList;
  private readonly detail: DetailView;
  private readonly review: ReviewPanel;
  private readonly masks: MaskPreview;
  private readonly statusText = el('span', 'status-text');
  private readonly cancelButton: HTMLElement;
  private readonly errorBox = el('div', 'error-box');
  private readonly filters: FilterBar;

  constructor(
    root: HTMLElement,
    private readonly fileName: string,
    roles: readonly Role[],
    formats: readonly FormatId[],
  ) {
    this.restoring = loadState();
    this.list = new VirtualList({
      rowHeight: ROW_HEIGHT,
      label: t('listLabel', fileName),
      renderRow: (row, pos) => this.renderRow(row, pos),
      onRange: (first, last) => this.loadRange(first, last),
      onSelect: (pos) => this.selectPos(pos),
      onActivate: () => this.detail.focusFirst(),
      onScroll: () => this.persist(),
    });
    this.detail = new DetailView({
      roles,
      send: (intent) => post(intent),
      run: (action) => {
        const id = ++this.actionId;
        post({ type: 'runAction', id, ...action });
        return id;
      },
      decide: (id, decision) => post({ type: 'reviewDecision', id, decision }),
      cancel: (id) => post({ type: 'cancelAction', id }),
      onBusyChange: (lines) => {
        this.busy = new Set(lines);
        this.list.refresh();
      },
      onLeave: () => this.list.element.focus(),
      onStateChange: () => this.persist(),
    });
    this.detail.mode = this.restoring.view ?? 'rendered';
    this.review = new ReviewPanel({
      post: (m) => post(m),
      selectedLine: () => this.selectedLine,
      onFilterChange: () => this.runQuery(),
      onMarksChange: () => this.list.refresh(),
    });
    this.masks = new MaskPreview({
      post: (m) => post(m),
      selectedLine: () => this.selectedLine,
      body: () => this.detail.body,
    });

    // Toolbar: search and filters (run by the host over the whole file).
    this.filters = new FilterBar(
      {
        roles,
        formats,
        onQuery: () => this.runQuery(),
        onSearchEscape: () => this.list.element.focus(),
        onGoTo: (value) => {
          const n = /^\d+$/.test(value) ? Number(value) : NaN;
          if (Number.isSafeInteger(n) && n >= 1) this.jumpTo(n - 1);
          else this.showError(t('goToInvalid', this.lineCount.toLocaleString()));
        },
        onPlainChange: (plain) => {
          this.detail.setMode(plain ? 'plain' : 'rendered');
          this.persist();
        },
        extraFilters: this.review.filters,
      },
      this.detail.mode === 'plain',
    );

    const status = el('div', 'status-line');
    status.setAttribute('aria-live', 'polite');
    this.cancelButton = custom<HTMLElement>('vscode-button', { secondary: '', icon: 'stop-circle' });
    this.cancelButton.textContent = t('cancelSearch');
    this.cancelButton.hidden = true;
    this.cancelButton.addEventListener('click', () => post({ type: 'cancelQuery', id: this.queryId }));
    status.append(this.statusText, this.cancelButton);
    this.errorBox.setAttribute('role', 'alert');
    this.errorBox.hidden = true;

    const panes = el('main', 'panes');
    const listPane = el('nav', 'list-pane');
    listPane.setAttribute('aria-label', t('listLabel', fileName));
    listPane.appendChild(this.list.element);
    panes.append(listPane, this.detail.element);
    root.replaceChildren(
      this.filters.element,
      status,
      this.review.element,
      this.masks.element,
      this.errorBox,
      panes,
    );

    document.addEventListener('keydown', (e) => this.onGlobalKey(e));
    this.detail.element.addEventListener('click', (e) => {
      const a = (e.target as HTMLElement).closest('a');
      if (a instanceof HTMLAnchorElement) {
        e.preventDefault();
        post({ type: 'openLink', href: a.href });
      }
    });

    const q = this.restoring.query;
    if (q) {
      this.filters.restore(q);
      this.review.restore(q);
    }
    this.updateStatus();
  }

  // ---- list --------------------------------------------------------------------------------

  private get length(): number {
    return this.matches ? this.matches.length : this.lineCount;
  }

  private lineAt(pos: number): number {
    return this.matches ? (this.matches[pos] ?? -1) : pos;
  }

  private posOf(line: number): number {
    if (!this.matches) return line;
    // matches are in file order: binary search
    let lo = 0;
    let hi = this.matches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.matches[mid] ?? 0;
      if (v === line) return mid;
      if (v < line) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private renderRow(row: HTMLElement, pos: number): void {
    const line = this.lineAt(pos);
    renderRecordRow(row, line, {
      data: this.rows.get(line),
      busy: this.busy.has(line),
      snippet: this.snippets.get(line),
      query: this.query,
      decorate: (top) => this.review.decorateRow(top, line),
    });
  }

  private loadRange(first: number, last: number): void {
    const from = Math.max(0, first - OVERSCAN);
    const to = Math.min(this.length - 1, last + OVERSCAN);
    const want: number[] = [];
    for (let p = from; p <= to; p++) {
      const line = this.lineAt(p);
      if (line >= 0 && line < this.lineCount && !this.rows.has(line) && !this.requested.has(line))
        want.push(line);
    }
    if (this.rows.size > MAX_CACHED_ROWS) {
      this.rows.clear();
    }
    for (let i = 0; i < want.length; i += MAX_ROWS_PER_REQUEST) {
      const lines = want.slice(i, i + MAX_ROWS_PER_REQUEST);
      lines.forEach((l) => this.requested.add(l));
      post({ type: 'requestRows', lines });
    }
  }

  private selectPos(pos: number): void {
    const line = this.lineAt(pos);
    if (line < 0) return;
    this.selectedLine = line;
    this.persist();
    clearTimeout(this.openTimer);
    // Holding j/k: open the record once the selection rests.
    this.openTimer = setTimeout(() => post({ type: 'openRecord', line }), 40);
  }

  private jumpTo(line: number): void {
    if (line >= this.lineCount) {
      this.showError(t('noSuchRecord', String(line + 1), this.lineCount.toLocaleString()));
      return;
    }
    this.hideError();
    if (this.matches && this.posOf(line) < 0) this.clearQuery();
    this.list.select(this.posOf(line));
    this.list.element.focus();
  }

  // ---- query -------------------------------------------------------------------------------

  private clearQuery(): void {
    this.overviewLabel = undefined;
    if (this.querying) post({ type: 'cancelQuery', id: this.queryId });
    this.query = undefined;
    this.detail.setHighlight(undefined);
    this.matches = undefined;
    this.snippets.clear();
    this.querying = false;
    this.filters.clear();
    this.review.clearFilters();
    this.list.setLength(this.length);
    this.list.refresh();
    this.updateStatus();
  }

  private runQuery(): void {
    const part = this.review.queryPart();
    const base = this.filters.readQuery();
    const q = base || Object.keys(part).length ? { ...(base ?? {}), ...part } : undefined;
    // A message about the previous search (an invalid regular expression) no longer holds.
    this.hideError();
    if (this.querying) post({ type: 'cancelQuery', id: this.queryId });
    this.queryId++;
    this.query = q;
    this.overviewLabel = undefined;
    this.detail.setHighlight(matcherFor(q));
    this.snippets.clear();
    this.querying = false;
    if (!q) {
      this.matches = undefined;
      this.list.setLength(this.length);
      const pos = this.posOf(this.selectedLine);
      if (pos >= 0) this.list.select(pos);
    } else {
      this.matches = [];
      this.querying = true;
      this.queryScanned = 0;
      this.queryTotal = this.lineCount;
      this.list.setLength(0);
      post({ type: 'query', id: this.queryId, query: q });
    }
    this.list.refresh();
    this.updateStatus();
    this.persist();
  }

  /** Shows only `lines` (a bar or cluster of the Dataset Overview): the list as a search result. */
  private showLines(label: string, lines: readonly number[]): void {
    this.clearQuery();
    this.queryId++;
    this.matches = lines.filter((l) => l < this.lineCount);
    this.overviewLabel = label;
    this.list.setLength(this.matches.length);
    if (this.matches.length) {
      this.list.select(0);
      // The first position may have been selected already (another record was there).
      this.selectPos(0);
    } else {
      this.selectedLine = -1;
      this.detail.showEmpty(t('noMatches'));
    }
    this.list.refresh();
    this.updateStatus();
  }

  // ---- host messages -----------------------------------------------------------------------

  handle(m: HostMessage): void {
    switch (m.type) {
      case 'init':
        return;
      case 'status': {
        const changed = m.version !== this.version && this.version !== -1;
        this.lineCount = m.lineCount;
        this.indexing = m.indexing;
        this.dirty = m.dirty;
        if (changed || m.reloaded) {
          this.rows.clear();
          this.requested.clear();
          if (m.structural || m.reloaded) this.review.clearMarks();
        }
        this.version = m.version;
        if (this.query && (m.structural || m.reloaded)) this.runQuery();
        if (!this.matches) this.list.setLength(this.lineCount);
        if (this.selectedLine >= this.lineCount) this.selectedLine = this.lineCount - 1;
        this.applyRestore();
        if (this.selectedLine < 0 && this.lineCount > 0 && !this.matches) this.list.select(0, false);
        else if (this.selectedLine >= 0 && (changed || m.reloaded || m.structural))
          post({ type: 'openRecord', line: this.selectedLine });
        if (this.lineCount === 0 && !this.indexing) this.detail.showEmpty(m.problem ?? t('emptyFile'));
        this.list.refresh();
        this.updateStatus();
        return;
      }
      case 'rows':
        for (const r of m.rows) {
          this.rows.set(r.line, r);
          this.requested.delete(r.line);
        }
        this.list.refresh();
        return;
      case 'record':
        if (m.record.line === this.selectedLine) {
          const focusKey = this.restoring.focusTurn;
          this.restoring.focusTurn = undefined;
          this.detail.show(m.record, focusKey);
          this.detail.restoreAfterEdit();
          this.review.decorateTurns(this.detail.body);
          this.masks.onRecord(m.record.line);
        }
        return;
      case 'queryProgress':
        if (m.id !== this.queryId || !this.matches) return;
        for (const h of m.hits) {
          this.matches.push(h.line);
          if (h.snippet !== undefined) this.snippets.set(h.line, h.snippet);
        }
        this.queryScanned = m.scanned;
        this.queryTotal = m.total;
        this.list.setLength(this.matches.length);
        if (this.list.selectedPos < 0 && this.matches.length) {
          const pos = this.posOf(this.selectedLine);
          this.list.select(pos >= 0 ? pos : 0);
        }
        this.list.refresh();
        this.updateStatus();
        return;
      case 'queryDone':
        if (m.id !== this.queryId) return;
        this.querying = false;
        this.queryScanned = m.scanned;
        if (m.error) this.showError(m.error);
        if (this.matches && this.list.selectedPos < 0 && this.matches.length) this.list.select(0);
        // Nothing matched: say so, and do not leave a record that does not match in the pane.
        if (this.matches?.length === 0 && !m.cancelled) {
          this.selectedLine = -1;
          this.detail.showEmpty(m.error ?? t('noMatches'));
        }
        this.updateStatus(m.cancelled);
        return;
      case 'reveal':
        this.selectedLine = m.line;
        if (this.matches && this.posOf(m.line) < 0) this.clearQuery();
        if (m.line < this.lineCount) {
          this.list.select(this.posOf(m.line));
          post({ type: 'openRecord', line: m.line });
        }
        return;
      case 'showLines':
        this.showLines(m.label, m.lines);
        return;
      case 'error':
        this.showError(m.message);
        return;
      case 'generation':
        this.detail.setGeneration(m.missing);
        return;
      case 'actionState':
        this.detail.onActionState(m);
        return;
      case 'review':
        this.detail.onReview(m);
        return;
      case 'reviewInit':
      case 'reviewProgress':
      case 'reviewMarks':
      case 'reviewRecord':
        this.review.handle(m);
        if (m.type === 'reviewRecord') this.review.decorateTurns(this.detail.body);
        return;
      case 'maskInit':
      case 'maskPreview':
        this.masks.handle(m);
        return;
    }
  }

  private applyRestore(): void {
    const sel = this.restoring.selected;
    if (sel === undefined || sel < 0) return;
    if (sel >= this.lineCount && this.indexing) return; // not indexed that far yet
    this.restoring.selected = undefined;
    if (this.restoring.query) {
      this.selectedLine = Math.min(sel, this.lineCount - 1);
      this.runQuery();
      return;
    }
    this.list.select(Math.min(sel, this.lineCount - 1), false);
    this.list.scrollTo(this.restoring.scrollTop ?? 0);
  }

  private updateStatus(cancelled = false): void {
    const parts: string[] = [];
    const count = this.lineCount.toLocaleString();
    parts.push(
      this.indexing ? t('indexing', count) : this.lineCount === 1 ? t('oneRecord') : t('nRecords', count),
    );
    if (this.matches) {
      const n = this.matches.length.toLocaleString();
      if (this.querying)
        parts.push(t('searching', this.queryScanned.toLocaleString(), this.queryTotal.toLocaleString(), n));
      else if (cancelled) parts.push(t('searchCancelled', n));
      else parts.push(this.matches.length === 1 ? t('oneMatch') : t('matches', n));
      if (this.overviewLabel) parts.push(this.overviewLabel);
    }
    if (this.dirty) parts.push(t('unsaved'));
    this.statusText.textContent = parts.join(' · ');
    this.cancelButton.hidden = !this.querying;
    document.title = this.fileName;
  }

  private hideError(): void {
    clearTimeout(this.errorTimer);
    this.errorBox.hidden = true;
  }

  private showError(message: string): void {
    this.errorBox.textContent = message;
    this.errorBox.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => (this.errorBox.hidden = true), 8000);
  }

  private persist(): void {
    const state: ViewState = {
      selected: this.selectedLine,
      scrollTop: this.list.scrollTop,
      view: this.detail.mode,
    };
    if (this.query) state.query = this.query;
    const focus = this.detail.focusedKey;
    if (focus) state.focusTurn = focus;
    saveState(state);
  }

  private onGlobalKey(e: KeyboardEvent): void {
    if (
      e.defaultPrevented ||
      this.detail.isEditing ||
      isTyping(e.target) ||
      e.ctrlKey ||
      e.metaKey ||
      e.altKey
    )
      return;
    if (this.review.onKey(e, this.detail.focusedKey) || this.masks.onKey(e)) {
      e.preventDefault();
      return;
    }
    switch (e.key) {
      case 'j':
        this.list.select(this.list.selectedPos + 1);
        break;
      case 'k':
        this.list.select(Math.max(0, this.list.selectedPos - 1));
        break;
      case '/':
        this.filters.search.focus();
        break;
      case 'g':
        this.filters.goTo.focus();
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}

// ---- start: ready handshake ---------------------------------------------------------------

const root = document.getElementById('root');
let app: App | undefined;
const early: HostMessage[] = [];

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  if (m.type === 'init') {
    setStrings(m.strings);
    if (root) app = new App(root, m.fileName, m.roles, m.formats);
    for (const x of early.splice(0)) app?.handle(x);
    return;
  }
  if (app) app.handle(m);
  else early.push(m);
});

if (root) root.textContent = '…';
post({ type: 'ready' });
