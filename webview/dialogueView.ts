/**
 * The dialogue pane: system prompt, tools and turns of one record as role-labelled blocks, edited in
 * place; preference pairs side by side with a word diff; a raw JSON view; malformed lines as raw text.
 * Dataset text only ever reaches the DOM through `textContent` (see markdown.ts).
 *
 * This class owns the pane's state and its keyboard; its parts live beside it: turnView.ts (turns),
 * turnEditor.ts (editing in place), jsonView.ts (raw JSON, malformed lines), preferenceView.ts
 * (chosen/rejected and the diff), generationActions.ts (generation buttons, status, review) and
 * recordHead.ts (the record's head and toolbar).
 */
import type { ActionKind, RecordView } from '../src/protocol';
import type { DetailContext, DetailOptions, Editing, TextMode } from './detailContext';
import { el } from './dom';
import { markMatches } from './highlight';
import { GenerationActions, type ActionStateMessage, type ReviewMessage } from './generationActions';
import { renderJson, renderMalformed } from './jsonView';
import { renderHead } from './recordHead';
import { t } from './strings';
import { TurnRenderer } from './turnView';

export type { ActionRequest, DetailOptions } from './detailContext';

export class DetailView implements DetailContext {
  readonly element: HTMLElement;
  private readonly head: HTMLElement;
  readonly body: HTMLElement;
  record: RecordView | undefined;
  pending: RecordView | undefined;
  editing: Editing | undefined;
  jsonMode = false;
  showDiff = true;
  mode: TextMode = 'rendered';
  afterRender: DetailContext['afterRender'];
  /** The search's matches are marked in the turns' text. */
  private highlight: RegExp | undefined;
  /** Line of the record the body shows now (its scroll position is kept on a re-render). */
  private renderedLine: number | undefined;
  private readonly gen: GenerationActions;
  private readonly turns: TurnRenderer;

  constructor(readonly opts: DetailOptions) {
    this.element = el('section', 'detail');
    this.element.setAttribute('role', 'region');
    this.element.setAttribute('aria-label', t('dialogueRegion'));
    this.head = el('div', 'detail-head');
    this.body = el('div', 'detail-body');
    this.element.append(this.head, this.body);
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    this.gen = new GenerationActions(this);
    this.turns = new TurnRenderer(this, this.gen);
    this.showEmpty(t('noRecord'));
  }

  get line(): number | undefined {
    return this.record?.line;
  }

  get isEditing(): boolean {
    return this.editing !== undefined;
  }

  /** Key of the focused turn (`section:index`), for the saved view state. */
  get focusedKey(): string | undefined {
    const a = document.activeElement;
    return a instanceof HTMLElement && this.element.contains(a)
      ? (a.closest<HTMLElement>('[data-key]')?.dataset.key ?? undefined)
      : undefined;
  }

  showEmpty(message: string): void {
    this.record = undefined;
    this.editing = undefined;
    this.renderedLine = undefined;
    this.head.replaceChildren();
    this.body.replaceChildren(el('p', 'empty', message));
  }

  /** Shows a record; while a turn is being edited, a new version of the same record waits. */
  show(record: RecordView, focusKey?: string): void {
    if (this.editing && this.record?.line === record.line) {
      this.pending = record;
      return;
    }
    const sameLine = this.record?.line === record.line;
    const keep = focusKey ?? (sameLine ? this.focusedKey : undefined);
    const active = document.activeElement;
    const focusId =
      sameLine && active instanceof HTMLElement && this.element.contains(active)
        ? active.dataset.focusId
        : undefined;
    if (!sameLine) this.jsonMode = false;
    this.record = record;
    this.pending = undefined;
    this.editing = undefined;
    this.render();
    // The same record keeps its scroll position (render): focus must not move it.
    if (focusId && this.focusById(focusId, sameLine)) return;
    if (keep) this.focusKey(keep, sameLine && focusKey === undefined);
  }

  focusById(id: string, preventScroll = false): boolean {
    const target = [...this.element.querySelectorAll<HTMLElement>('[data-focus-id]')].find(
      (x) => x.dataset.focusId === id,
    );
    this.focusWithout(target, preventScroll);
    return Boolean(target);
  }

  /**
   * Focuses `target`; with `preventScroll` the pane stays where it is (web components that delegate
   * focus to an inner element ignore the option, so the position is put back too).
   */
  private focusWithout(target: HTMLElement | undefined, preventScroll: boolean): void {
    const top = this.body.scrollTop;
    target?.focus({ preventScroll });
    if (preventScroll) this.body.scrollTop = top;
  }

  refresh(): void {
    if (this.record && !this.editing) this.show(this.record);
  }

  // ---- generation actions (generationActions.ts) ---------------------------------------------

  setGeneration(missing: Record<ActionKind, string[]>): void {
    this.gen.setGeneration(missing);
  }

  onActionState(m: ActionStateMessage): void {
    this.gen.onActionState(m);
  }

  onReview(m: ReviewMessage): void {
    this.gen.onReview(m, m.line === this.record?.line && this.focusedKey === `turns:${m.turn}`);
  }

  /** Moves keyboard focus into the dialogue (first turn). */
  focusFirst(): void {
    const first =
      this.body.querySelector<HTMLElement>('[data-key]') ??
      this.body.querySelector<HTMLElement>('textarea, button');
    first?.focus();
  }

  focusKey(key: string, preventScroll = false): boolean {
    const target = [...this.body.querySelectorAll<HTMLElement>('[data-key]')].find(
      (x) => x.dataset.key === key,
    );
    this.focusWithout(target, preventScroll);
    return Boolean(target);
  }

  setMode(mode: TextMode): void {
    this.mode = mode;
    if (this.record && !this.editing) this.show(this.record);
  }

  /**
   * Builds the pane from the shown record. Any text being edited is dropped with the DOM it lived
   * in (the toggles call this directly): leaving the flag set would hide every later version of the
   * record, so a version that waited for the edit is shown now.
   */
  render(): void {
    this.editing = undefined;
    if (this.pending) this.record = this.pending;
    this.pending = undefined;
    const r = this.record;
    if (!r) return;
    // A new rendering of the same record keeps the pane where it was (Keep, a status change, an edit).
    const scrollTop = this.renderedLine === r.line ? this.body.scrollTop : 0;
    this.head.replaceChildren();
    this.body.replaceChildren();
    renderHead(this, this.gen, this.head, r);
    if (!r.ok) renderMalformed(this, r);
    else if (this.jsonMode) renderJson(this, r);
    else {
      this.turns.renderDialogue(r);
      if (this.highlight)
        for (const body of this.body.querySelectorAll('.turn-body')) markMatches(body, this.highlight);
    }
    this.body.scrollTop = scrollTop;
    this.renderedLine = r.line;
  }

  /** Marks the matches of `re` (the search) in the shown record; undefined removes the marks. */
  setHighlight(re: RegExp | undefined): void {
    if (String(re) === String(this.highlight)) return;
    this.highlight = re;
    this.refresh();
  }

  /** Called by the app after `show` for the same line. */
  restoreAfterEdit(): void {
    const after = this.afterRender;
    if (!after || after.line !== this.record?.line) return;
    this.afterRender = undefined;
    if (this.focusKey(after.key) && after.edit) this.turns.startEdit(after.key);
  }

  // ---- keyboard ----------------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    if (this.editing) return;
    const target = e.target as HTMLElement;
    const blocks = [...this.body.querySelectorAll<HTMLElement>('[data-key]')];
    const at = blocks.indexOf(target);
    if (at < 0) {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.opts.onLeave();
      }
      return;
    }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const next = blocks[at + (e.key === 'ArrowDown' ? 1 : -1)];
      if (next) next.focus();
      e.preventDefault();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.opts.onLeave();
    }
  }
}
