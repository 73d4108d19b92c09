/**
 * The dialogue pane: system prompt, tools and turns of one record as role-labelled blocks, edited in
 * place; preference pairs side by side with a word diff; a raw JSON view; malformed lines as raw text.
 * Dataset text only ever reaches the DOM through `textContent` (see markdown.ts).
 */
import type { Role } from '../src/core/model';
import type {
  ActionKind,
  ActionPhase,
  CapoStrategy,
  EditIntent,
  HostMessage,
  RecordBad,
  RecordOk,
  RecordView,
  RunAction,
  Section,
  TurnView,
} from '../src/protocol';
import { wordDiff } from './diff';
import { el } from './dom';
import { renderMarkdown } from './markdown';
import { t } from './strings';

/** A generation action as the webview asks for it (the app adds the id). */
export type ActionRequest = Omit<RunAction, 'type' | 'id'>;

type ActionStateMessage = Extract<HostMessage, { type: 'actionState' }>;
type ReviewMessage = Extract<HostMessage, { type: 'review' }>;

interface ActionEntry {
  id: number;
  line: number;
  turn?: number;
  action: ActionKind;
  strategy?: CapoStrategy;
  state: ActionPhase;
  message?: string;
  /** An answer streaming in: the text so far. */
  partial?: string;
}

const STRATEGIES: readonly { strategy: CapoStrategy; icon: string }[] = [
  { strategy: 'neglect', icon: 'circle-slash' },
  { strategy: 'hallucinate', icon: 'question' },
  { strategy: 'misread', icon: 'references' },
];

export interface DetailOptions {
  roles: readonly Role[];
  send(intent: EditIntent): void;
  /** Starts a generation action; returns its id. */
  run(action: ActionRequest): number;
  /** Keep or discard a reviewed pair. */
  decide(id: number, decision: 'keep' | 'discard'): void;
  /** Keyboard focus goes back to the list. */
  onLeave(): void;
  onStateChange(): void;
}

type TextMode = 'rendered' | 'plain';

interface Editing {
  key: string;
  commit(): void;
  cancel(): void;
}

function iconButton(icon: string, label: string, onClick: () => void, focusable = false): HTMLButtonElement {
  const b = el('button', 'icon-btn');
  b.type = 'button';
  b.title = label;
  b.setAttribute('aria-label', label);
  if (!focusable) b.tabIndex = -1;
  const span = el('span', `codicon codicon-${icon}`);
  span.setAttribute('aria-hidden', 'true');
  b.appendChild(span);
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}

/**
 * A generation action button: codicon plus short visible text, the full name as accessible name and
 * tooltip. Unavailable actions stay focusable (`aria-disabled`) so their tooltip explains why.
 */
function actionButton(
  icon: string,
  text: string,
  label: string,
  focusId: string,
  unavailable: string | undefined,
  onClick: () => void,
): HTMLButtonElement {
  const b = el('button', 'gen-btn');
  b.type = 'button';
  b.dataset.focusId = focusId;
  b.setAttribute('aria-label', label);
  b.title = unavailable ?? label;
  if (unavailable) {
    b.setAttribute('aria-disabled', 'true');
    b.setAttribute('aria-description', unavailable);
  }
  const span = el('span', `codicon codicon-${icon}`);
  span.setAttribute('aria-hidden', 'true');
  b.append(span, el('span', 'gen-text', text));
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    if (b.getAttribute('aria-disabled') !== 'true') onClick();
  });
  return b;
}

function textButton(label: string, onClick: () => void, icon?: string): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('secondary', '');
  if (icon) b.setAttribute('icon', icon);
  b.textContent = label;
  b.addEventListener('click', () => onClick());
  return b;
}

/** Line and column (1-based) of a JSON.parse error in `text`, when the engine reports a position. */
function jsonErrorAt(text: string, message: string): string {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return t('jsonErrorAt', message, lc[1] ?? '', lc[2] ?? '');
  const pos = /position (\d+)/.exec(message);
  if (pos) {
    const p = Number(pos[1]);
    const before = text.slice(0, p).split('\n');
    return t(
      'jsonErrorAt',
      message,
      String(before.length),
      String((before[before.length - 1] ?? '').length + 1),
    );
  }
  return message;
}

function autosize(area: HTMLTextAreaElement): void {
  area.style.height = 'auto';
  area.style.height = `${Math.min(area.scrollHeight + 2, window.innerHeight * 0.7)}px`;
}

export class DetailView {
  readonly element: HTMLElement;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private record: RecordView | undefined;
  private pending: RecordView | undefined;
  private editing: Editing | undefined;
  private jsonMode = false;
  private showDiff = true;
  mode: TextMode = 'rendered';
  /** Settings each generation action still needs (undefined until the host says). */
  private generation: Record<ActionKind, string[]> | undefined;
  private readonly actions = new Map<number, ActionEntry>();
  private readonly reviews = new Map<number, ReviewMessage>();
  private readonly actionTimers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(private readonly opts: DetailOptions) {
    this.element = el('section', 'detail');
    this.element.setAttribute('role', 'region');
    this.element.setAttribute('aria-label', t('dialogueRegion'));
    this.head = el('div', 'detail-head');
    this.body = el('div', 'detail-body');
    this.element.append(this.head, this.body);
    this.element.addEventListener('keydown', (e) => this.onKey(e));
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
    if (focusId && this.focusById(focusId)) return;
    if (keep) this.focusKey(keep);
  }

  private focusById(id: string): boolean {
    const target = [...this.element.querySelectorAll<HTMLElement>('[data-focus-id]')].find(
      (x) => x.dataset.focusId === id,
    );
    target?.focus();
    return Boolean(target);
  }

  /** Re-renders the shown record (not while a turn is being edited). */
  private refresh(): void {
    if (this.record && !this.editing) this.show(this.record);
  }

  // ---- generation actions ------------------------------------------------------------------

  setGeneration(missing: Record<ActionKind, string[]>): void {
    this.generation = missing;
    this.refresh();
  }

  /** Why `action` cannot run, or undefined when it can. */
  private unavailable(action: ActionKind): string | undefined {
    const missing = this.generation?.[action];
    if (missing && missing.length === 0) return undefined;
    return t('actionsNotReady', (missing ?? ['parrot.endpoint.baseUrl']).join(', '));
  }

  private start(request: ActionRequest): void {
    // A new action on a turn replaces what that turn showed before (an old error, a note).
    for (const [id, a] of this.actions)
      if (a.line === request.line && a.turn === request.turn && !isActive(a.state)) this.dropAction(id);
    const id = this.opts.run(request);
    this.actions.set(id, { id, ...request, state: 'running' });
    this.refresh();
  }

  private dropAction(id: number): void {
    this.actions.delete(id);
    this.reviews.delete(id);
    clearTimeout(this.actionTimers.get(id));
    this.actionTimers.delete(id);
  }

  onActionState(m: ActionStateMessage): void {
    const entry = this.actions.get(m.id) ?? { id: m.id, line: m.line, turn: m.turn, action: m.action };
    const next: ActionEntry = { ...entry, state: m.state, message: m.message, partial: m.partial };
    this.actions.set(m.id, next);
    if (m.state !== 'review') this.reviews.delete(m.id);
    if (m.state === 'done' || m.state === 'discarded' || m.state === 'cancelled') {
      // Notes go away by themselves; errors stay until dismissed or replaced.
      clearTimeout(this.actionTimers.get(m.id));
      this.actionTimers.set(
        m.id,
        setTimeout(() => {
          this.dropAction(m.id);
          this.refresh();
        }, 6000),
      );
    }
    if (m.line === this.record?.line) this.refresh();
  }

  onReview(m: ReviewMessage): void {
    this.reviews.set(m.id, m);
    const entry = this.actions.get(m.id);
    if (entry) {
      entry.state = 'review';
      entry.strategy = m.strategy;
    } else
      this.actions.set(m.id, {
        id: m.id,
        line: m.line,
        turn: m.turn,
        action: 'capoNegative',
        strategy: m.strategy,
        state: 'review',
      });
    if (m.line !== this.record?.line) return;
    const hadFocus = this.focusedKey === `turns:${m.turn}`;
    this.refresh();
    if (hadFocus) this.focusById(`review:${m.id}:keep`);
  }

  private actionName(a: { action: ActionKind; strategy?: CapoStrategy }): string {
    switch (a.action) {
      case 'capoNegative':
        return t('actionNegative', a.strategy ?? '');
      case 'askFollowUp':
        return t('actionAskFollowUp');
      case 'answerTurn':
        return t('actionAnswer');
      case 'extendDialogue':
        return t('actionExtend').replace(/…$/, '');
    }
  }

  /** Actions of this record on `turn` (undefined = the whole dialogue). */
  private actionsOn(line: number, turn: number | undefined): ActionEntry[] {
    return [...this.actions.values()].filter((a) => a.line === line && a.turn === turn);
  }

  /** The generation buttons of a dialogue turn. */
  private turnActions(r: RecordOk, turns: TurnView[], i: number, busy: boolean): HTMLElement | undefined {
    const turn = turns[i];
    // MT-Bench records hold questions only: they grow with Extend, not turn by turn.
    if (!turn || r.format === 'mt-bench') return undefined;
    const group = el('div', 'gen-actions');
    group.setAttribute('role', 'group');
    const why = (action: ActionKind): string | undefined =>
      this.unavailable(action) ?? (busy ? t('actionRunning', this.actionName({ action })) : undefined);
    if (turn.role === 'assistant' && turns[i - 1]?.role === 'user') {
      group.setAttribute('aria-label', t('actionNegativeGroup'));
      for (const { strategy, icon } of STRATEGIES) {
        const name = t('actionNegative', strategy);
        group.appendChild(
          actionButton(icon, strategy, name, `gen:${r.line}:${i}:${strategy}`, why('capoNegative'), () =>
            this.start({ action: 'capoNegative', line: r.line, turn: i, strategy }),
          ),
        );
      }
      return group;
    }
    if (turn.role !== 'user') return undefined;
    if (turns[i + 1]?.role === 'assistant') {
      group.setAttribute('aria-label', t('actionAskFollowUp'));
      group.appendChild(
        actionButton(
          'sparkle',
          t('actionAskFollowUp'),
          t('actionAskFollowUp'),
          `gen:${r.line}:${i}:ask`,
          why('askFollowUp'),
          () => this.start({ action: 'askFollowUp', line: r.line, turn: i }),
        ),
      );
    } else {
      group.setAttribute('aria-label', t('actionAnswer'));
      group.appendChild(
        actionButton(
          'sparkle',
          t('actionAnswer'),
          t('actionAnswer'),
          `gen:${r.line}:${i}:answer`,
          why('answerTurn'),
          () => this.start({ action: 'answerTurn', line: r.line, turn: i }),
        ),
      );
    }
    return group;
  }

  /** Status lines (running, errors, notes) and reviews of the actions on one turn or the dialogue. */
  private actionPanels(r: RecordOk, turn: number | undefined): HTMLElement[] {
    const out: HTMLElement[] = [];
    for (const a of this.actionsOn(r.line, turn)) {
      const review = this.reviews.get(a.id);
      if (a.state === 'review' && review) {
        out.push(this.reviewPanel(review));
        continue;
      }
      const line = el('div', `action-status action-${a.state}`);
      line.setAttribute('role', 'status');
      const name = this.actionName(a);
      let icon = 'loading codicon-modifier-spin';
      let text = t('actionRunning', name);
      if (a.state === 'failed') {
        icon = 'error';
        text = t('actionFailed', name, a.message ?? '');
      } else if (a.state === 'cancelled') {
        icon = 'circle-slash';
        text = t('actionCancelled', name);
      } else if (a.state === 'done') {
        icon = 'check';
        text = a.action === 'capoNegative' ? t('reviewKept', a.strategy ?? '') : name;
      } else if (a.state === 'discarded') {
        icon = 'close';
        text = `${name}: ${t('reviewDiscard')}`;
      } else if (a.state === 'review') {
        text = t('actionRunning', name);
      }
      const span = el('span', `codicon codicon-${icon}`);
      span.setAttribute('aria-hidden', 'true');
      line.append(span, el('span', 'action-text', text));
      if (!isActive(a.state)) {
        const dismiss = iconButton(
          'close',
          t('actionDismiss'),
          () => {
            this.dropAction(a.id);
            this.refresh();
          },
          true,
        );
        dismiss.dataset.focusId = `dismiss:${a.id}`;
        line.appendChild(dismiss);
      }
      out.push(line);
      // An answer streaming in is shown as it arrives (as plain text: it becomes a turn when done).
      if (a.state === 'running' && a.partial) out.push(el('div', 'action-partial', a.partial));
    }
    return out;
  }

  /** A generated pair: the record's answer and the rejected one side by side, Keep or Discard. */
  private reviewPanel(m: ReviewMessage): HTMLElement {
    const panel = el('section', 'review');
    panel.setAttribute('role', 'region');
    panel.setAttribute('aria-label', t('reviewRegion', m.strategy, String(m.turn + 1)));
    panel.appendChild(el('h3', 'section-title', t('reviewTitle', m.strategy)));
    const diff = this.showDiff ? wordDiff(m.chosen, m.rejected) : undefined;
    const body = (text: string, side: 'added' | 'removed'): HTMLElement => {
      const block = el('div', 'review-answer');
      const b = el('div', 'review-body');
      if (diff) this.fillDiff(b, diff.ops, side);
      else this.fillText(b, text);
      block.appendChild(b);
      return block;
    };
    panel.appendChild(
      this.sideBySide(body(m.chosen, 'removed'), body(m.rejected, 'added'), diff?.truncated ?? false),
    );
    const decide = (decision: 'keep' | 'discard'): void => {
      this.opts.decide(m.id, decision);
      this.reviews.delete(m.id);
      const entry = this.actions.get(m.id);
      if (entry) entry.state = 'running';
      this.refresh();
      this.focusKey(`turns:${m.turn}`);
    };
    const buttons = el('div', 'review-actions');
    const keep = textButton(t('reviewKeep'), () => decide('keep'), 'check');
    keep.removeAttribute('secondary');
    keep.dataset.focusId = `review:${m.id}:keep`;
    const discard = textButton(t('reviewDiscard'), () => decide('discard'), 'close');
    discard.dataset.focusId = `review:${m.id}:discard`;
    buttons.append(keep, discard);
    panel.appendChild(buttons);
    return panel;
  }

  /** Chosen and rejected side by side (preference records and generated pairs). */
  private sideBySide(
    chosenContent: HTMLElement,
    rejectedContent: HTMLElement,
    truncated: boolean,
  ): HTMLElement {
    const grid = el('div', 'pref-grid');
    const chosen = el('div', 'pref-col pref-chosen');
    const rejected = el('div', 'pref-col pref-rejected');
    chosen.setAttribute('role', 'region');
    chosen.setAttribute('aria-label', t('chosen'));
    rejected.setAttribute('role', 'region');
    rejected.setAttribute('aria-label', t('rejected'));
    chosen.append(el('h3', 'section-title', t('chosen')), chosenContent);
    rejected.append(el('h3', 'section-title', t('rejected')), rejectedContent);
    if (truncated) grid.appendChild(el('p', 'note', t('diffTruncated')));
    grid.append(chosen, rejected);
    return grid;
  }

  /** Moves keyboard focus into the dialogue (first turn). */
  focusFirst(): void {
    const first =
      this.body.querySelector<HTMLElement>('[data-key]') ??
      this.body.querySelector<HTMLElement>('textarea, button');
    first?.focus();
  }

  focusKey(key: string): boolean {
    const target = [...this.body.querySelectorAll<HTMLElement>('[data-key]')].find(
      (x) => x.dataset.key === key,
    );
    target?.focus();
    return Boolean(target);
  }

  setMode(mode: TextMode): void {
    this.mode = mode;
    if (this.record && !this.editing) this.show(this.record);
  }

  private render(): void {
    const r = this.record;
    if (!r) return;
    this.head.replaceChildren();
    this.body.replaceChildren();
    const title = el('h2', 'detail-title', t('recordN', String(r.line + 1)));
    const meta = el('div', 'detail-meta');
    if (r.ok) {
      if (r.id !== undefined) meta.appendChild(el('span', 'chip', t('idIs', r.id)));
      meta.appendChild(el('span', 'chip', r.format));
      const n = r.kind === 'dialogue' ? r.turns.length : r.prompt.length + r.chosen.length;
      meta.appendChild(el('span', 'chip', n === 1 ? t('oneTurn') : t('nTurns', String(n))));
      if (r.strategy) meta.appendChild(el('span', 'chip', t('strategyIs', r.strategy)));
    } else {
      meta.appendChild(el('span', 'chip chip-error', t('malformed')));
    }
    const actions = el('div', 'detail-actions');
    if (r.ok) {
      const json = textButton(
        this.jsonMode ? t('showDialogue') : t('showJson'),
        () => {
          this.jsonMode = !this.jsonMode;
          this.render();
          this.focusFirst();
        },
        this.jsonMode ? 'comment-discussion' : 'json',
      );
      json.setAttribute('aria-pressed', String(this.jsonMode));
      actions.appendChild(json);
      if (r.kind === 'dialogue' && !this.jsonMode) {
        const busy = this.actionsOn(r.line, undefined).some((a) => isActive(a.state));
        actions.appendChild(
          actionButton(
            'sparkle',
            t('actionExtend'),
            t('actionExtend'),
            `gen:${r.line}:extend`,
            this.unavailable('extendDialogue') ??
              (busy ? t('actionRunning', this.actionName({ action: 'extendDialogue' })) : undefined),
            () => this.start({ action: 'extendDialogue', line: r.line }),
          ),
        );
      }
      if (r.kind === 'preference' && !this.jsonMode) {
        actions.appendChild(
          textButton(
            this.showDiff ? t('hideDiff') : t('showDiff'),
            () => {
              this.showDiff = !this.showDiff;
              this.render();
            },
            'diff',
          ),
        );
      }
    }
    actions.append(
      textButton(t('addDialogue'), () => this.opts.send({ type: 'addDialogue', after: r.line }), 'add'),
      textButton(
        t('duplicateDialogue'),
        () => this.opts.send({ type: 'duplicateDialogue', line: r.line }),
        'copy',
      ),
      textButton(
        t('deleteDialogue'),
        () => this.opts.send({ type: 'deleteDialogue', line: r.line }),
        'trash',
      ),
    );
    this.head.append(title, meta, actions);
    if (!r.ok) this.renderMalformed(r);
    else if (this.jsonMode) this.renderJson(r);
    else this.renderDialogue(r);
  }

  // ---- dialogue ----------------------------------------------------------------------------

  private renderDialogue(r: RecordOk): void {
    // Formats that keep the system prompt as a turn show it as that turn.
    const systemTurn = [...r.turns, ...r.prompt].some((x) => x.role === 'system');
    if (r.system !== undefined || !systemTurn) this.body.appendChild(this.systemBlock(r));
    if (r.tools !== undefined) {
      const details = el('details', 'tools');
      details.appendChild(el('summary', undefined, t('tools')));
      details.appendChild(el('pre', 'raw', r.tools));
      this.body.appendChild(details);
    }
    if (r.kind === 'dialogue') {
      this.body.append(...this.actionPanels(r, undefined));
      this.body.appendChild(this.turnList(r, 'turns', r.turns));
      return;
    }
    if (r.prompt.length) {
      this.body.appendChild(el('h3', 'section-title', t('prompt')));
      this.body.appendChild(this.turnList(r, 'prompt', r.prompt));
    }
    const diffs = this.showDiff
      ? r.chosen.map((c, i) => (r.rejected[i] ? wordDiff(c.text, r.rejected[i].text) : undefined))
      : [];
    this.body.appendChild(
      this.sideBySide(
        this.turnList(r, 'chosen', r.chosen, (i) => diffs[i] && { side: 'removed', result: diffs[i] }),
        this.turnList(r, 'rejected', r.rejected, (i) => diffs[i] && { side: 'added', result: diffs[i] }),
        diffs.some((d) => d?.truncated),
      ),
    );
  }

  private systemBlock(r: RecordOk): HTMLElement {
    const block = el('div', 'turn role-system system-block');
    block.tabIndex = 0;
    block.dataset.key = 'system';
    block.setAttribute('aria-label', t('systemPrompt'));
    const head = el('div', 'turn-head');
    head.appendChild(el('span', 'role-label', t('systemPrompt')));
    const actions = el('div', 'turn-actions');
    actions.appendChild(
      iconButton('edit', t('edit'), () =>
        this.editText(block, r.system ?? '', (text) => ({ type: 'editSystem', line: r.line, text })),
      ),
    );
    head.appendChild(actions);
    const body = el('div', 'turn-body');
    if (r.system === undefined) body.appendChild(el('p', 'empty', t('noSystemPrompt')));
    else this.fillText(body, r.system);
    block.append(head, body);
    block.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === block) {
        e.preventDefault();
        this.editText(block, r.system ?? '', (text) => ({ type: 'editSystem', line: r.line, text }));
      }
    });
    return block;
  }

  private turnList(
    r: RecordOk,
    section: Section,
    turns: TurnView[],
    diffFor?: (i: number) => { side: 'added' | 'removed'; result: ReturnType<typeof wordDiff> } | undefined,
  ): HTMLElement {
    const list = el('div', 'turns');
    list.setAttribute('role', 'list');
    turns.forEach((turn, i) => list.appendChild(this.turnBlock(r, section, turns, i, turn, diffFor?.(i))));
    const add = textButton(
      t('addTurn'),
      () => {
        const last = turns[turns.length - 1];
        this.opts.send({
          type: 'addTurn',
          line: r.line,
          section,
          after: turns.length - 1,
          role: nextRole(last?.role),
        });
      },
      'add',
    );
    add.classList.add('add-turn');
    list.appendChild(add);
    return list;
  }

  private turnBlock(
    r: RecordOk,
    section: Section,
    turns: TurnView[],
    i: number,
    turn: TurnView,
    diff: { side: 'added' | 'removed'; result: ReturnType<typeof wordDiff> } | undefined,
  ): HTMLElement {
    const block = el('article', `turn role-${turn.role}`);
    block.tabIndex = 0;
    block.dataset.key = `${section}:${i}`;
    block.setAttribute('role', 'listitem');
    block.setAttribute('aria-label', t('turnLabel', String(i + 1), turn.role));
    const head = el('div', 'turn-head');
    const select = document.createElement('vscode-single-select');
    select.className = 'role-select';
    select.setAttribute('aria-label', t('role'));
    select.tabIndex = -1;
    for (const role of this.opts.roles) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', role);
      o.textContent = role;
      if (role === turn.role) o.setAttribute('selected', '');
      select.appendChild(o);
    }
    select.addEventListener('change', () => {
      const role = (select as unknown as { value: string }).value;
      const found = this.opts.roles.find((x) => x === role);
      if (found && found !== turn.role)
        this.opts.send({ type: 'setRole', line: r.line, section, turn: i, role: found });
    });
    head.appendChild(select);
    const info: string[] = [];
    if (turn.name) info.push(t('nameIs', turn.name));
    if (turn.weight !== undefined) info.push(t('weightIs', String(turn.weight)));
    if (turn.nonTextParts) info.push(t('nonTextParts', String(turn.nonTextParts)));
    if (info.length) head.appendChild(el('span', 'turn-info', info.join(' · ')));
    if (section === 'turns' && r.kind === 'dialogue') {
      const busy = this.actionsOn(r.line, i).some((a) => isActive(a.state));
      if (busy) {
        block.classList.add('busy');
        block.setAttribute('aria-busy', 'true');
      }
      const gen = this.turnActions(r, turns, i, busy);
      if (gen) head.appendChild(gen);
    }
    const actions = el('div', 'turn-actions');
    const edit = (): void =>
      this.editText(block, turn.text, (text) => ({ type: 'editTurn', line: r.line, section, turn: i, text }));
    actions.append(
      iconButton('edit', t('edit'), edit),
      iconButton('add', t('addTurnAfter'), () =>
        this.opts.send({ type: 'addTurn', line: r.line, section, after: i, role: nextRole(turn.role) }),
      ),
      iconButton('copy', t('duplicateTurn'), () =>
        this.opts.send({ type: 'duplicateTurn', line: r.line, section, turn: i }),
      ),
      iconButton('arrow-up', t('moveUp'), () =>
        this.opts.send({ type: 'moveTurn', line: r.line, section, turn: i, delta: -1 }),
      ),
      iconButton('arrow-down', t('moveDown'), () =>
        this.opts.send({ type: 'moveTurn', line: r.line, section, turn: i, delta: 1 }),
      ),
      iconButton('trash', t('deleteTurn'), () =>
        this.opts.send({ type: 'deleteTurn', line: r.line, section, turn: i }),
      ),
    );
    head.appendChild(actions);
    const body = el('div', 'turn-body');
    if (diff) this.fillDiff(body, diff.result.ops, diff.side);
    else this.fillText(body, turn.text);
    block.append(head, body);
    if (section === 'turns' && r.kind === 'dialogue') block.append(...this.actionPanels(r, i));
    if (turn.toolCalls) {
      const calls = el('details', 'tool-calls');
      calls.appendChild(el('summary', undefined, t('toolCalls')));
      calls.appendChild(el('pre', 'raw', turn.toolCalls));
      block.appendChild(calls);
    }
    block.addEventListener('keydown', (e) => {
      if (e.target !== block || this.editing) return;
      const move = (delta: -1 | 1): void => {
        if (i + delta < 0 || i + delta >= turns.length) return;
        this.opts.send({ type: 'moveTurn', line: r.line, section, turn: i, delta });
        this.afterRender = `${section}:${i + delta}`;
      };
      if (e.key === 'Enter') edit();
      else if (e.altKey && e.key === 'ArrowUp') move(-1);
      else if (e.altKey && e.key === 'ArrowDown') move(1);
      else if (e.key === 'Delete') this.opts.send({ type: 'deleteTurn', line: r.line, section, turn: i });
      else if (e.key === 'a')
        this.opts.send({ type: 'addTurn', line: r.line, section, after: i, role: nextRole(turn.role) });
      else if (e.key === 'd') this.opts.send({ type: 'duplicateTurn', line: r.line, section, turn: i });
      else if (e.key === 'r') select.focus();
      else return;
      e.preventDefault();
      e.stopPropagation();
    });
    return block;
  }

  /** Turn to focus once the record comes back after a move. */
  private afterRender: string | undefined;

  /** Called by the app after `show` for the same line. */
  restoreAfterEdit(): void {
    if (this.afterRender) this.focusKey(this.afterRender);
    this.afterRender = undefined;
  }

  private fillText(body: HTMLElement, text: string): void {
    body.classList.toggle('plain', this.mode === 'plain');
    if (text === '') body.appendChild(el('p', 'empty', t('emptyTurn')));
    else if (this.mode === 'plain') body.appendChild(el('pre', 'raw-text', text));
    else body.appendChild(renderMarkdown(text));
  }

  private fillDiff(
    body: HTMLElement,
    ops: { kind: string; text: string }[],
    side: 'added' | 'removed',
  ): void {
    const pre = el('div', 'diff-text');
    for (const op of ops) {
      if (op.kind === 'same') pre.appendChild(document.createTextNode(op.text));
      else if (op.kind === side)
        pre.appendChild(el(side === 'added' ? 'ins' : 'del', `diff-${side}`, op.text));
    }
    body.appendChild(pre);
  }

  /** Replaces a block's text with an editor; Ctrl/Cmd+Enter commits, Escape cancels. */
  private editText(block: HTMLElement, initial: string, intent: (text: string) => EditIntent): void {
    if (this.editing) this.editing.cancel();
    const body = block.querySelector<HTMLElement>('.turn-body');
    if (!body) return;
    const key = block.dataset.key ?? '';
    const saved = [...body.childNodes];
    const area = el('textarea', 'editor');
    area.value = initial;
    area.setAttribute('aria-label', t('editText'));
    const hint = el('div', 'hint', t('editHint'));
    body.replaceChildren(area, hint);
    const done = (commit: boolean): void => {
      if (this.editing?.key !== key) return;
      this.editing = undefined;
      const text = area.value;
      body.replaceChildren(...saved);
      if (commit && text !== initial) this.opts.send(intent(text));
      if (this.pending) this.show(this.pending, key);
      else this.focusKey(key);
      this.opts.onStateChange();
    };
    this.editing = { key, commit: () => done(true), cancel: () => done(false) };
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        done(true);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        done(false);
      }
      e.stopPropagation();
    });
    area.addEventListener('input', () => autosize(area));
    area.focus();
    autosize(area);
    this.opts.onStateChange();
  }

  // ---- raw JSON ----------------------------------------------------------------------------

  private renderJson(r: RecordOk): void {
    let pretty = r.raw;
    try {
      pretty = JSON.stringify(JSON.parse(r.raw), null, 2);
    } catch {
      // shown as stored
    }
    this.rawEditor(r.line, pretty, r.raw, undefined);
  }

  private renderMalformed(r: RecordBad): void {
    const banner = el('div', 'banner banner-error');
    banner.setAttribute('role', 'alert');
    banner.textContent = t('malformedAt', String(r.line + 1), r.error.message, String(r.error.column));
    this.body.appendChild(banner);
    const block = el('div', 'raw-line');
    block.dataset.key = 'raw';
    block.tabIndex = 0;
    block.setAttribute('aria-label', t('rawLine'));
    const col = Math.max(0, Math.min(r.raw.length, r.error.column - 1));
    block.append(document.createTextNode(r.raw.slice(0, col)));
    const mark = el('mark', 'error-mark', r.raw.slice(col, col + 1) || ' ');
    mark.title = r.error.message;
    block.append(mark, document.createTextNode(r.raw.slice(col + 1)));
    this.body.appendChild(block);
    const fix = textButton(t('fixLine'), () => this.rawEditor(r.line, r.raw, r.raw, col), 'edit');
    this.body.appendChild(fix);
    block.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.rawEditor(r.line, r.raw, r.raw, col);
      }
    });
  }

  private rawEditor(line: number, text: string, original: string, caret: number | undefined): void {
    const container = el('div', 'json-editor');
    container.dataset.key = 'json';
    const area = el('textarea', 'editor editor-json');
    area.value = text;
    area.spellcheck = false;
    area.setAttribute('aria-label', t('editJson'));
    const status = el('div', 'json-status');
    status.setAttribute('aria-live', 'polite');
    const validate = (): boolean => {
      try {
        JSON.parse(area.value);
        status.textContent = t('jsonValid');
        status.classList.remove('invalid');
        area.removeAttribute('aria-invalid');
        return true;
      } catch (err) {
        status.textContent = jsonErrorAt(area.value, err instanceof Error ? err.message : String(err));
        status.classList.add('invalid');
        area.setAttribute('aria-invalid', 'true');
        return false;
      }
    };
    const commit = (): void => {
      if (!validate()) {
        area.focus();
        return;
      }
      this.editing = undefined;
      if (area.value !== text && area.value !== original)
        this.opts.send({ type: 'replaceRecord', line, text: area.value });
      else if (this.record) this.show(this.record);
    };
    const cancel = (): void => {
      this.editing = undefined;
      this.jsonMode = false;
      if (this.pending) this.show(this.pending);
      else if (this.record) this.show(this.record);
      this.focusFirst();
    };
    this.editing = { key: 'json', commit, cancel };
    area.addEventListener('input', () => {
      validate();
    });
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        commit();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        cancel();
      }
      e.stopPropagation();
    });
    const buttons = el('div', 'json-actions');
    buttons.append(textButton(t('apply'), commit, 'check'), textButton(t('cancel'), cancel, 'close'));
    container.append(area, status, el('div', 'hint', t('editHint')), buttons);
    const existing = this.body.querySelector('.json-editor');
    if (existing) existing.replaceWith(container);
    else this.body.appendChild(container);
    validate();
    area.focus();
    if (caret !== undefined) area.setSelectionRange(caret, caret);
    area.style.height = `${Math.max(160, Math.min(window.innerHeight * 0.7, area.scrollHeight + 2))}px`;
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

function isActive(state: ActionPhase): boolean {
  return state === 'running' || state === 'review';
}

function nextRole(role: Role | undefined): Role {
  if (role === 'user') return 'assistant';
  if (role === 'function_call') return 'observation';
  if (role === 'observation' || role === 'tool') return 'assistant';
  return 'user';
}
