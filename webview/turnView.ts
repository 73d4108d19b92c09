/** The turns of a record as role-labelled blocks: system prompt, tools, turns and their buttons. */
import type { Role } from '../src/core/model';
import type { EditIntent, RecordOk, Section, TurnView } from '../src/protocol';
import { iconButton, textButton } from './controls';
import type { DetailContext } from './detailContext';
import { el } from './dom';
import { isActive, type GenerationActions } from './generationActions';
import { recordLabel, stepLabel } from './labelToggle';
import { renderPreference, type TurnDiff } from './preferenceView';
import { t } from './strings';
import { editText } from './turnEditor';
import { fillDiff, fillText } from './turnText';
import { mediaStrip } from './media';

export class TurnRenderer {
  /** The edit action of each turn block shown, by key. */
  private readonly edits = new Map<string, () => void>();

  constructor(
    private readonly ctx: DetailContext,
    private readonly gen: GenerationActions,
  ) {}

  /** A record's text: system prompt, tools, then its turns (or its preference pair). */
  renderDialogue(r: RecordOk): void {
    this.edits.clear();
    const body = this.ctx.body;
    // Formats that keep the system prompt as a turn show it as that turn.
    const systemTurn = [...r.turns, ...r.prompt].some((x) => x.role === 'system');
    if (r.system !== undefined || !systemTurn) body.appendChild(this.systemBlock(r));
    const label = recordLabel(this.ctx, r);
    if (label) body.appendChild(label);
    if (r.tools !== undefined) {
      const details = el('details', 'tools');
      details.appendChild(el('summary', undefined, t('tools')));
      details.appendChild(el('pre', 'raw', r.tools));
      body.appendChild(details);
    }
    if (r.kind === 'dialogue') {
      body.append(...this.gen.actionPanels(r, undefined));
      body.appendChild(this.turnList(r, 'turns', r.turns));
      return;
    }
    renderPreference(this.ctx, this, r);
  }

  private systemBlock(r: RecordOk): HTMLElement {
    const block = el('div', 'turn role-system system-block');
    block.tabIndex = 0;
    block.dataset.key = 'system';
    block.setAttribute('aria-label', t('systemPrompt'));
    const head = el('div', 'turn-head');
    head.appendChild(el('span', 'role-label', t('systemPrompt')));
    const actions = el('div', 'turn-actions');
    const edit = (): void =>
      editText(this.ctx, block, r.system ?? '', (text) => ({ type: 'editSystem', line: r.line, text }));
    actions.appendChild(iconButton('edit', t('edit'), edit));
    head.appendChild(actions);
    const body = el('div', 'turn-body');
    if (r.system === undefined) body.appendChild(el('p', 'empty', t('noSystemPrompt')));
    else fillText(body, r.system, this.ctx.mode);
    block.append(head, body);
    block.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === block) {
        e.preventDefault();
        edit();
      }
    });
    return block;
  }

  turnList(
    r: RecordOk,
    section: Section,
    turns: TurnView[],
    diffFor?: (i: number) => TurnDiff | undefined,
  ): HTMLElement {
    const list = el('div', 'turns');
    list.setAttribute('role', 'list');
    turns.forEach((turn, i) => list.appendChild(this.turnBlock(r, section, turns, i, turn, diffFor?.(i))));
    const unplaced = mediaStrip(r, section, -1);
    if (unplaced) list.appendChild(unplaced);
    const add = textButton(
      t('addTurn'),
      () => {
        const last = turns[turns.length - 1];
        this.ctx.opts.send({
          type: 'addTurn',
          line: r.line,
          section,
          after: turns.length - 1,
          role: nextRole(last?.role),
        });
        this.ctx.afterRender = { line: r.line, key: `${section}:${turns.length}`, edit: true };
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
    diff: TurnDiff | undefined,
  ): HTMLElement {
    const { ctx } = this;
    const send = (intent: EditIntent): void => ctx.opts.send(intent);
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
    for (const role of ctx.opts.roles) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', role);
      o.textContent = role;
      if (role === turn.role) o.setAttribute('selected', '');
      select.appendChild(o);
    }
    select.addEventListener('change', () => {
      const role = (select as unknown as { value: string }).value;
      const found = ctx.opts.roles.find((x) => x === role);
      if (found && found !== turn.role)
        send({ type: 'setRole', line: r.line, section, turn: i, role: found });
    });
    head.appendChild(select);
    const info: string[] = [];
    if (turn.name) info.push(t('nameIs', turn.name));
    if (turn.weight !== undefined) info.push(t('weightIs', String(turn.weight)));
    if (turn.nonTextParts) info.push(t('nonTextParts', String(turn.nonTextParts)));
    if (info.length) head.appendChild(el('span', 'turn-info', info.join(' · ')));
    const step = section === 'turns' ? stepLabel(ctx, r, i) : undefined;
    if (step) head.appendChild(step);
    if (section === 'turns' && r.kind === 'dialogue') {
      const busy = this.gen.actionsOn(r.line, i).some((a) => isActive(a.state));
      if (busy) {
        block.classList.add('busy');
        block.setAttribute('aria-busy', 'true');
      }
      const buttons = this.gen.turnActions(r, turns, i, busy);
      if (buttons) head.appendChild(buttons);
    }
    const actions = el('div', 'turn-actions');
    const edit = (): void =>
      editText(ctx, block, turn.text, (text) => ({ type: 'editTurn', line: r.line, section, turn: i, text }));
    this.edits.set(`${section}:${i}`, edit);
    const addAfter = (): void => {
      send({ type: 'addTurn', line: r.line, section, after: i, role: nextRole(turn.role) });
      ctx.afterRender = { line: r.line, key: `${section}:${i + 1}`, edit: true };
    };
    actions.append(
      iconButton('edit', t('edit'), edit),
      iconButton('add', t('addTurnAfter'), addAfter),
      iconButton('copy', t('duplicateTurn'), () =>
        send({ type: 'duplicateTurn', line: r.line, section, turn: i }),
      ),
      iconButton('arrow-up', t('moveUp'), () =>
        send({ type: 'moveTurn', line: r.line, section, turn: i, delta: -1 }),
      ),
      iconButton('arrow-down', t('moveDown'), () =>
        send({ type: 'moveTurn', line: r.line, section, turn: i, delta: 1 }),
      ),
      iconButton('trash', t('deleteTurn'), () =>
        send({ type: 'deleteTurn', line: r.line, section, turn: i }),
      ),
    );
    head.appendChild(actions);
    const body = el('div', 'turn-body');
    if (diff) fillDiff(body, diff.result.ops, diff.side);
    else fillText(body, turn.text, this.ctx.mode);
    block.append(head, body);
    const media = mediaStrip(r, section, i);
    if (media) block.appendChild(media);
    if (section === 'turns' && r.kind === 'dialogue') block.append(...this.gen.actionPanels(r, i));
    if (turn.toolCalls) {
      const calls = el('details', 'tool-calls');
      calls.appendChild(el('summary', undefined, t('toolCalls')));
      calls.appendChild(el('pre', 'raw', turn.toolCalls));
      block.appendChild(calls);
    }
    block.addEventListener('keydown', (e) => {
      if (e.target !== block || ctx.editing) return;
      const move = (delta: -1 | 1): void => {
        if (i + delta < 0 || i + delta >= turns.length) return;
        send({ type: 'moveTurn', line: r.line, section, turn: i, delta });
        ctx.afterRender = { line: r.line, key: `${section}:${i + delta}` };
      };
      if (e.key === 'Enter') edit();
      else if (e.altKey && e.key === 'ArrowUp') move(-1);
      else if (e.altKey && e.key === 'ArrowDown') move(1);
      else if (e.key === 'Delete') send({ type: 'deleteTurn', line: r.line, section, turn: i });
      else if (e.key === 'a') addAfter();
      else if (e.key === 'd') send({ type: 'duplicateTurn', line: r.line, section, turn: i });
      else if (e.key === 'r') select.focus();
      else return;
      e.preventDefault();
      e.stopPropagation();
    });
    return block;
  }

  /** Opens the text box of the turn `key` of the shown record, if it is there. */
  startEdit(key: string): void {
    this.edits.get(key)?.();
  }
}

/** The role a turn added after one of `role` gets. */
export function nextRole(role: Role | undefined): Role {
  if (role === 'user') return 'assistant';
  if (role === 'function_call') return 'observation';
  if (role === 'observation' || role === 'tool') return 'assistant';
  return 'user';
}
