/**
 * Generation actions in the pane: the buttons of a turn (ask a follow-up, answer, CaPO negatives) and
 * of the dialogue (extend), their status lines, streaming answers, and the review of generated pairs.
 */
import type { ActionKind, ActionPhase, CapoStrategy, HostMessage, RecordOk, TurnView } from '../src/protocol';
import { actionButton, iconButton, textButton } from './controls';
import type { ActionRequest, DetailContext } from './detailContext';
import { wordDiff } from './diff';
import { el } from './dom';
import { sideBySide } from './preferenceView';
import { t } from './strings';
import { fillDiff, fillText } from './turnText';

export type ActionStateMessage = Extract<HostMessage, { type: 'actionState' }>;
export type ReviewMessage = Extract<HostMessage, { type: 'review' }>;

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

export function isActive(state: ActionPhase): boolean {
  return state === 'running' || state === 'review';
}

export class GenerationActions {
  /** Settings each generation action still needs (undefined until the host says). */
  private generation: Record<ActionKind, string[]> | undefined;
  private readonly actions = new Map<number, ActionEntry>();
  private readonly reviews = new Map<number, ReviewMessage>();
  private readonly actionTimers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Actions whose Cancel was pressed (until the host says how they ended). */
  private readonly cancelling = new Set<number>();

  constructor(private readonly ctx: DetailContext) {}

  /** Records with an action running or waiting for review. */
  busyLines(): Set<number> {
    const out = new Set<number>();
    for (const a of this.actions.values()) if (isActive(a.state)) out.add(a.line);
    return out;
  }

  private busyChanged(): void {
    this.ctx.opts.onBusyChange(this.busyLines());
  }

  setGeneration(missing: Record<ActionKind, string[]>): void {
    this.generation = missing;
    this.ctx.refresh();
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
    const id = this.ctx.opts.run(request);
    this.actions.set(id, { id, ...request, state: 'running' });
    this.busyChanged();
    this.ctx.refresh();
  }

  private dropAction(id: number): void {
    this.actions.delete(id);
    this.cancelling.delete(id);
    this.reviews.delete(id);
    clearTimeout(this.actionTimers.get(id));
    this.actionTimers.delete(id);
  }

  onActionState(m: ActionStateMessage): void {
    const wasActive = isActive(this.actions.get(m.id)?.state ?? 'done');
    const entry = this.actions.get(m.id) ?? { id: m.id, line: m.line, turn: m.turn, action: m.action };
    const next: ActionEntry = { ...entry, state: m.state, message: m.message, partial: m.partial };
    this.actions.set(m.id, next);
    if (m.state !== 'review') this.reviews.delete(m.id);
    if (wasActive !== isActive(m.state)) this.busyChanged();
    if (m.state === 'done' || m.state === 'discarded' || m.state === 'cancelled') {
      // Notes go away by themselves; errors stay until dismissed or replaced.
      clearTimeout(this.actionTimers.get(m.id));
      this.actionTimers.set(
        m.id,
        setTimeout(() => {
          this.dropAction(m.id);
          this.ctx.refresh();
        }, 6000),
      );
    }
    if (m.line === this.ctx.record?.line) this.ctx.refresh();
  }

  /** `hadFocus`: the reviewed turn had keyboard focus (then Keep gets it). */
  onReview(m: ReviewMessage, hadFocus: boolean): void {
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
    this.busyChanged();
    if (m.line !== this.ctx.record?.line) return;
    this.ctx.refresh();
    // The review of a lower turn would open below the visible area: bring it into view (its top
    // first when it is taller than the pane).
    const reveal = (): void => {
      const panel = this.ctx.body.querySelector<HTMLElement>(`section.review[data-review-id="${m.id}"]`);
      if (!panel) return;
      const view = this.ctx.body.getBoundingClientRect();
      const box = panel.getBoundingClientRect();
      if (box.top < view.top || box.height > view.height - 16)
        this.ctx.body.scrollTop += box.top - view.top - 8;
      else if (box.bottom > view.bottom) this.ctx.body.scrollTop += box.bottom - view.bottom + 8;
    };
    // Keep gets the focus without scrolling the review's top (its answers) out of view again.
    if (hadFocus) this.ctx.focusById(`review:${m.id}:keep`, true);
    // After layout and focus (a focused web component may scroll itself into view).
    reveal();
    requestAnimationFrame(reveal);
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
  actionsOn(line: number, turn: number | undefined): ActionEntry[] {
    return [...this.actions.values()].filter((a) => a.line === line && a.turn === turn);
  }

  /**
   * The Extend button of a dialogue (in the record's head); none on a dialogue with no question
   * yet (a new, empty dialogue has nothing to grow from).
   */
  extendButton(r: RecordOk): HTMLElement | undefined {
    if (!r.turns.some((x) => x.role === 'user' && x.text.trim() !== '')) return undefined;
    const busy = this.actionsOn(r.line, undefined).some((a) => isActive(a.state));
    return actionButton(
      'sparkle',
      t('actionExtend'),
      t('actionExtend'),
      `gen:${r.line}:extend`,
      this.unavailable('extendDialogue') ??
        (busy ? t('actionRunning', this.actionName({ action: 'extendDialogue' })) : undefined),
      () => this.start({ action: 'extendDialogue', line: r.line }),
    );
  }

  /** The generation buttons of a dialogue turn. */
  turnActions(r: RecordOk, turns: TurnView[], i: number, busy: boolean): HTMLElement | undefined {
    const turn = turns[i];
    // MT-Bench records hold questions only: they grow with Extend, not turn by turn.
    if (!turn || r.format === 'mt-bench') return undefined;
    const group = el('div', 'gen-actions');
    group.setAttribute('role', 'group');
    const why = (action: ActionKind): string | undefined =>
      this.unavailable(action) ?? (busy ? t('actionRunning', this.actionName({ action })) : undefined);
    // Nothing to generate from an empty turn (a new dialogue) or an answer that is only a tool call.
    const hasText = (x: TurnView | undefined): boolean => x !== undefined && x.text.trim() !== '';
    if (turn.role === 'assistant' && turns[i - 1]?.role === 'user') {
      if (!hasText(turn) || !hasText(turns[i - 1])) return undefined;
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
    if (turn.role !== 'user' || !hasText(turn)) return undefined;
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
  actionPanels(r: RecordOk, turn: number | undefined): HTMLElement[] {
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
        text = a.action === 'capoNegative' ? (a.message ?? t('reviewKept', a.strategy ?? '')) : name;
      } else if (a.state === 'discarded') {
        icon = 'close';
        text = t('reviewDiscarded', a.strategy ?? '');
      } else if (a.state === 'review') {
        text = t('actionRunning', name);
      }
      const span = el('span', `codicon codicon-${icon}`);
      span.setAttribute('aria-hidden', 'true');
      line.append(span, el('span', 'action-text', text));
      if (a.state === 'running' && !this.cancelling.has(a.id)) {
        // Each running action has its own Cancel (the notification's Cancel stops it too).
        const cancel = textButton(
          t('actionCancel', name),
          () => {
            this.cancelling.add(a.id);
            this.ctx.opts.cancel(a.id);
            this.ctx.refresh();
          },
          'debug-stop',
        );
        cancel.dataset.focusId = `cancel:${a.id}`;
        line.appendChild(cancel);
      }
      if (!isActive(a.state)) {
        const dismiss = iconButton(
          'close',
          t('actionDismiss'),
          () => {
            this.dropAction(a.id);
            this.ctx.refresh();
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
    panel.dataset.reviewId = String(m.id);
    panel.setAttribute('role', 'region');
    panel.setAttribute('aria-label', t('reviewRegion', m.strategy, String(m.turn + 1)));
    panel.appendChild(el('h3', 'section-title', t('reviewTitle', m.strategy)));
    const diff = this.ctx.showDiff ? wordDiff(m.chosen, m.rejected) : undefined;
    const body = (text: string, side: 'added' | 'removed'): HTMLElement => {
      const block = el('div', 'review-answer');
      const b = el('div', 'review-body');
      if (diff) fillDiff(b, diff.ops, side);
      else fillText(b, text, this.ctx.mode);
      block.appendChild(b);
      return block;
    };
    panel.appendChild(
      sideBySide(body(m.chosen, 'removed'), body(m.rejected, 'added'), diff?.truncated ?? false),
    );
    const decide = (decision: 'keep' | 'discard'): void => {
      this.ctx.opts.decide(m.id, decision);
      this.reviews.delete(m.id);
      const entry = this.actions.get(m.id);
      if (entry) entry.state = 'running';
      this.ctx.refresh();
      // Focus goes back to the turn without moving the pane.
      this.ctx.focusKey(`turns:${m.turn}`, true);
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
}
