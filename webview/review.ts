/**
 * Review in the dialogue editor: a progress bar (records by status), status filters, a badge per
 * row and per decided turn, and the keys — 1 accept, 2 reject, 3 needs work, 0 clear, n note,
 * u next unreviewed — on the selected record, or on the focused turn of the dialogue pane.
 * Talks to the host through the review messages of src/reviewProtocol.ts.
 */
import type {
  ReviewDecisionView,
  ReviewHostMessage,
  ReviewMark,
  ReviewStatus,
  ReviewStringKey,
  ReviewStrings,
  ReviewWebviewMessage,
} from '../src/reviewProtocol';
import { REVIEW_STATUS_IDS } from '../src/reviewProtocol';
import { el } from './dom';

interface ValueElement extends HTMLElement {
  value: string;
}
interface CheckElement extends HTMLElement {
  checked: boolean;
}

export interface ReviewOptions {
  post(m: ReviewWebviewMessage): void;
  /** The record selected in the list (-1: none). */
  selectedLine(): number;
  /** The review filters changed: run the query again. */
  onFilterChange(): void;
  /** Marks changed: draw the rows again. */
  onMarksChange(): void;
}

const KEY_STATUS: Record<string, ReviewStatus> = {
  '1': 'accepted',
  '2': 'rejected',
  '3': 'needs-work',
  '0': 'unreviewed',
};

const ICON: Record<ReviewStatus, string> = {
  unreviewed: '',
  accepted: 'codicon-pass',
  rejected: 'codicon-error',
  'needs-work': 'codicon-edit',
};

export class ReviewPanel {
  readonly element: HTMLElement;
  /** Status filter and "generated only", placed in the toolbar by the app. */
  readonly filters: HTMLElement[];
  private strings: Partial<ReviewStrings> = {};
  private readonly marks = new Map<number, ReviewMark>();
  private record: Extract<ReviewHostMessage, { type: 'reviewRecord' }> | undefined;
  private readonly bar = el('div', 'review-progress');
  private readonly progressText = el('span', 'review-progress-text');
  private readonly current = el('span', 'review-current');
  /** Generated records by strategy and model: "misread: 62% accepted (31/50)". */
  private readonly sources = el('span', 'review-sources');
  private readonly noteBox: ValueElement;
  private readonly status: ValueElement;
  private readonly generated: CheckElement;
  private noteTarget: { line: number; turn?: number; back: HTMLElement | null } | undefined;

  constructor(private readonly opts: ReviewOptions) {
    this.element = el('div', 'review-bar');
    this.element.setAttribute('role', 'region');
    this.bar.setAttribute('role', 'progressbar');
    this.bar.setAttribute('aria-valuemin', '0');
    this.progressText.setAttribute('aria-live', 'polite');
    this.current.setAttribute('aria-live', 'polite');
    this.noteBox = document.createElement('vscode-textfield');
    this.noteBox.className = 'review-note';
    this.noteBox.hidden = true;
    this.noteBox.addEventListener('keydown', (e) => this.onNoteKey(e));
    this.element.append(this.bar, this.progressText, this.sources, this.current, this.noteBox);

    this.status = document.createElement('vscode-single-select');
    this.status.className = 'review-filter';
    this.generated = document.createElement('vscode-checkbox');
    this.generated.className = 'review-generated';
    this.status.addEventListener('change', () => this.opts.onFilterChange());
    this.generated.addEventListener('change', () => this.opts.onFilterChange());
    this.filters = [this.status, this.generated];
  }

  private t(key: ReviewStringKey, ...args: string[]): string {
    const s = this.strings[key] ?? key;
    return s.replace(/\{(\d+)\}/g, (m, i: string) => args[Number(i)] ?? m);
  }

  private statusName(s: ReviewStatus): string {
    return this.t(s);
  }

  // ---- host messages -------------------------------------------------------------------------

  handle(m: ReviewHostMessage): void {
    switch (m.type) {
      case 'reviewInit':
        this.strings = m.strings;
        this.initStrings();
        return;
      case 'reviewProgress':
        this.showProgress(m.total, m.byStatus, m.scanning);
        this.showSources(m.byStrategy, m.byModel);
        return;
      case 'reviewMarks':
        for (const mark of m.marks) this.marks.set(mark.line, mark);
        this.opts.onMarksChange();
        return;
      case 'reviewRecord':
        this.record = m;
        this.showCurrent();
        return;
    }
  }

  private initStrings(): void {
    this.element.setAttribute('aria-label', this.t('reviewBar'));
    this.element.title = this.t('keysHint');
    this.bar.setAttribute('aria-label', this.t('progressLabel'));
    this.status.setAttribute('aria-label', this.t('statusFilter'));
    const keep = this.status.value;
    this.status.replaceChildren();
    for (const [value, label] of [
      ['', this.t('anyStatus')],
      ...REVIEW_STATUS_IDS.map((s) => [s, this.t(s)]),
    ]) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', value ?? '');
      o.textContent = label ?? '';
      this.status.appendChild(o);
    }
    this.status.value = keep;
    this.generated.setAttribute('label', this.t('generatedOnly'));
    this.generated.setAttribute('aria-label', this.t('generatedOnly'));
  }

  private showProgress(total: number, by: Record<ReviewStatus, number>, scanning: boolean): void {
    const reviewed = total - by.unreviewed;
    const text = this.t(
      'progressText',
      reviewed.toLocaleString(),
      total.toLocaleString(),
      by.accepted.toLocaleString(),
      by.rejected.toLocaleString(),
      by['needs-work'].toLocaleString(),
    );
    this.progressText.textContent = scanning ? this.t('scanning') : text;
    this.bar.setAttribute('aria-valuemax', String(total));
    this.bar.setAttribute('aria-valuenow', String(scanning ? 0 : reviewed));
    this.bar.setAttribute('aria-valuetext', scanning ? this.t('scanning') : text);
    this.bar.replaceChildren(
      ...(['accepted', 'rejected', 'needs-work'] as const).map((s) => {
        const seg = el('span', `review-seg review-${s}`);
        seg.style.width = `${total && !scanning ? (by[s] / total) * 100 : 0}%`;
        return seg;
      }),
    );
  }

  private showSources(...tables: Record<string, Record<ReviewStatus, number>>[]): void {
    const parts: string[] = [];
    for (const table of tables)
      for (const [name, c] of Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const total = c.accepted + c.rejected + c['needs-work'] + c.unreviewed;
        const pct = total ? Math.round((c.accepted / total) * 100) : 0;
        parts.push(this.t('bySource', name, String(pct), String(c.accepted), String(total)));
      }
    this.sources.textContent = parts.join(' · ');
    this.sources.hidden = parts.length === 0;
  }

  private describe(v: ReviewDecisionView): string {
    if (v.status === 'unreviewed') return this.statusName('unreviewed');
    const when = v.time ? new Date(v.time).toLocaleString() : '';
    let s = this.t('byReviewer', this.statusName(v.status), v.reviewer ?? '?', when);
    if (v.note) s += ` — “${v.note}”`;
    if (v.changed) s += ` · ${this.t('changedSinceReview')}`;
    for (const c of v.conflicts) s += ` · ${this.t('conflictWith', c.reviewer, this.statusName(c.status))}`;
    return s;
  }

  private showCurrent(): void {
    const r = this.record;
    if (!r || r.line !== this.opts.selectedLine()) {
      this.current.textContent = '';
      return;
    }
    this.current.textContent = `#${r.line + 1}: ${this.describe(r.record)}`;
    this.current.className = `review-current review-text-${r.record.status}`;
  }

  /** Puts the decision badges on the turns of the dialogue pane (after each rendering). */
  decorateTurns(body: HTMLElement): void {
    this.showCurrent();
    const r = this.record;
    if (!r || r.line !== this.opts.selectedLine()) return;
    for (const block of body.querySelectorAll<HTMLElement>('[data-key^="turns:"]')) {
      block.querySelector('.review-turn-badge')?.remove();
      const turn = Number(block.dataset.key?.slice(6));
      const d = r.turns.find((x) => x.turn === turn);
      const gen = r.generated.includes(turn);
      if (!d && !gen) continue;
      const parts: string[] = [];
      if (gen) parts.push(this.t('generated'));
      if (d && d.status !== 'unreviewed') parts.push(this.describe(d));
      const badge = el(
        'span',
        `review-turn-badge review-text-${d?.status ?? 'unreviewed'}`,
        parts.join(' · '),
      );
      block.querySelector('.turn-head')?.appendChild(badge);
    }
  }

  // ---- rows ------------------------------------------------------------------------------------

  /** Draws the review badge of a row into its top line; returns words for its aria-label. */
  decorateRow(top: HTMLElement, line: number): string {
    let badge = top.querySelector<HTMLElement>('.review-badge');
    const mark = this.marks.get(line);
    if (!mark || (mark.status === 'unreviewed' && !mark.conflict)) {
      badge?.remove();
      return '';
    }
    if (!badge) {
      badge = el('span', 'review-badge');
      badge.setAttribute('aria-hidden', 'true');
      top.appendChild(badge);
    }
    const words = [this.statusName(mark.status)];
    if (mark.changed) words.push(this.t('changedSinceReview'));
    if (mark.conflict) words.push(this.t('conflictWith', '…', '…').replace(/:.*$/, ''));
    badge.className = `review-badge review-${mark.status}${mark.conflict ? ' review-conflict' : ''}`;
    const icon = el('span', `codicon ${ICON[mark.status] || 'codicon-warning'}`);
    badge.replaceChildren(icon, document.createTextNode(' ' + words.join(', ')));
    return words.join(', ');
  }

  /** Row marks are stale once lines shift. */
  clearMarks(): void {
    this.marks.clear();
  }

  // ---- query part ------------------------------------------------------------------------------

  queryPart(): { review?: ReviewStatus; generated?: boolean } {
    const q: { review?: ReviewStatus; generated?: boolean } = {};
    const s = this.status.value;
    if ((REVIEW_STATUS_IDS as readonly string[]).includes(s)) q.review = s as ReviewStatus;
    if (this.generated.checked) q.generated = true;
    return q;
  }

  restore(q: { review?: ReviewStatus; generated?: boolean }): void {
    if (q.review) this.status.value = q.review;
    if (q.generated) this.generated.setAttribute('checked', '');
  }

  clearFilters(): void {
    this.status.value = '';
    this.generated.checked = false;
  }

  // ---- keys ------------------------------------------------------------------------------------

  /**
   * Handles a review key; `focusedKey` is the focused block of the dialogue pane (`turns:3`), if
   * any. Returns true when the key was a review key.
   */
  onKey(e: KeyboardEvent, focusedKey: string | undefined): boolean {
    const line = this.opts.selectedLine();
    const turn = focusedKey?.startsWith('turns:') ? Number(focusedKey.slice(6)) : undefined;
    const status = KEY_STATUS[e.key];
    if (status !== undefined) {
      if (line < 0) return false;
      if (turn !== undefined && this.generated.checked && !this.isGenerated(line, turn)) {
        // "Generated only": the keys act on generated turns; this one is not.
        this.current.textContent = this.t('notGenerated', String(turn + 1));
        this.current.className = 'review-current review-text-needs-work';
        return true;
      }
      const m: ReviewWebviewMessage = { type: 'reviewSet', line, status };
      if (turn !== undefined) m.turn = turn;
      if (turn !== undefined && this.generated.checked) m.generated = true;
      this.opts.post(m);
      return true;
    }
    if (e.key === 'u') {
      const m: ReviewWebviewMessage = { type: 'reviewNext', after: line };
      if (this.generated.checked) m.generated = true;
      this.opts.post(m);
      return true;
    }
    if (e.key === 'n') {
      if (line < 0) return false;
      this.openNote(line, turn);
      return true;
    }
    return false;
  }

  /** Whether turn `turn` of record `line` is generated (as far as the shown record says; unknown: yes). */
  private isGenerated(line: number, turn: number): boolean {
    const r = this.record;
    return !r || r.line !== line || r.generated.includes(turn);
  }

  private currentOf(line: number, turn: number | undefined): ReviewDecisionView | undefined {
    const r = this.record;
    if (!r || r.line !== line) return undefined;
    return turn === undefined ? r.record : r.turns.find((x) => x.turn === turn);
  }

  private openNote(line: number, turn: number | undefined): void {
    this.noteTarget = { line, turn, back: document.activeElement as HTMLElement | null };
    const what =
      turn === undefined ? `#${line + 1}` : `#${line + 1}, ${this.t('turnReview', String(turn + 1))}`;
    this.noteBox.setAttribute('placeholder', this.t('notePlaceholder', what));
    this.noteBox.setAttribute('aria-label', this.t('notePlaceholder', what));
    this.noteBox.value = this.currentOf(line, turn)?.note ?? '';
    this.noteBox.hidden = false;
    // The field exists once it is shown (a web component): focus it on the next frame.
    requestAnimationFrame(() => this.noteBox.focus());
  }

  private onNoteKey(e: KeyboardEvent): void {
    const target = this.noteTarget;
    if (!target) return;
    if (e.key === 'Enter') {
      e.preventDefault();
      e.stopPropagation();
      const current = this.currentOf(target.line, target.turn)?.status ?? 'unreviewed';
      // A note on an unreviewed record says something needs doing.
      const status: ReviewStatus = current === 'unreviewed' ? 'needs-work' : current;
      const m: ReviewWebviewMessage = {
        type: 'reviewSet',
        line: target.line,
        status,
        note: this.noteBox.value,
      };
      if (target.turn !== undefined) m.turn = target.turn;
      this.opts.post(m);
      this.closeNote();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.closeNote();
    }
  }

  private closeNote(): void {
    const back = this.noteTarget?.back;
    this.noteTarget = undefined;
    this.noteBox.hidden = true;
    back?.focus();
  }
}
