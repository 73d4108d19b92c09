/**
 * One row of the record list: number, id, turn count, badge, busy mark and the title (or the
 * search snippet, with its matches marked). Dataset text reaches the DOM only through `textContent`.
 */
import type { Query, RowSummary } from '../src/protocol';
import { el } from './dom';
import { markMatches, matcherFor } from './highlight';
import { t } from './strings';

export interface RowContext {
  /** The row's summary, once the host has sent it. */
  data: RowSummary | undefined;
  /** An action is running on the record or waits for review. */
  busy: boolean;
  /** The search's text around its first match in the record. */
  snippet: string | undefined;
  query: Query | undefined;
  /** Adds marks of other concerns (review) to the row's top line; returns words for its label. */
  decorate?: (top: HTMLElement) => string;
}

/** Fills `row` (a list row, reused while scrolling) for record `line`. */
export function renderRecordRow(row: HTMLElement, line: number, ctx: RowContext): void {
  const { data, busy, snippet } = ctx;
  if (row.childElementCount === 0) {
    const top = el('div', 'vrow-top');
    top.append(
      el('span', 'num'),
      el('span', 'rid'),
      el('span', 'turns'),
      el('span', 'kind'),
      el('span', 'badge'),
    );
    row.append(top, el('div', 'vrow-title'));
  }
  const top = row.firstElementChild as HTMLElement;
  const [num, rid, turns, kind, badge] = [...top.children] as HTMLElement[];
  const title = row.lastElementChild as HTMLElement;
  if (num) num.textContent = `#${(line + 1).toLocaleString()}`;
  row.classList.toggle('busy', busy);
  let mark = top.querySelector<HTMLElement>('.busy-mark');
  if (busy && !mark) {
    mark = el('span', 'busy-mark codicon codicon-loading codicon-modifier-spin');
    mark.title = t('rowBusy');
    mark.setAttribute('aria-hidden', 'true');
    top.appendChild(mark);
  } else if (!busy) mark?.remove();
  if (!data) {
    if (rid) rid.textContent = '';
    if (turns) turns.textContent = '';
    if (kind) kind.textContent = '';
    if (badge) {
      badge.textContent = '';
      badge.className = 'badge';
    }
    title.textContent = t('loading');
    row.setAttribute('aria-label', t('recordN', String(line + 1)));
    return;
  }
  if (rid) rid.textContent = data.id ?? '';
  if (turns)
    turns.textContent = data.ok ? (data.turns === 1 ? t('oneTurn') : t('nTurns', String(data.turns))) : '';
  if (kind) kind.textContent = data.ok && data.kind === 'preference' ? t('badgePreference') : '';
  const validity = validityOf(data);
  if (badge) {
    badge.textContent = validity.text;
    badge.className = `badge ${validity.className}`;
  }
  title.textContent = snippet ?? (data.ok ? data.title || t('emptyTurn') : (data.error ?? ''));
  title.classList.toggle('error', !data.ok);
  const re = snippet !== undefined ? matcherFor(ctx.query) : undefined;
  if (re) markMatches(title, re, 20);
  const more = ctx.decorate?.(top) ?? '';
  row.setAttribute(
    'aria-label',
    `${t('recordN', String(line + 1))}${data.id ? ', ' + data.id : ''}, ${data.ok ? t('nTurns', String(data.turns)) + ', ' : ''}${data.ok && data.kind === 'preference' ? t('badgePreference') + ', ' : ''}${validity.text}${busy ? ', ' + t('rowBusy') : ''}${more ? ', ' + more : ''}: ${title.textContent}`,
  );
}

/** The row's validity badge: invalid (does not parse, or an error), its warnings, or valid. */
function validityOf(data: RowSummary): { text: string; className: string } {
  if (!data.ok || data.errors) return { text: t('badgeInvalid'), className: 'badge-bad' };
  if (data.warnings)
    return {
      text: data.warnings === 1 ? t('badgeWarning') : t('badgeWarnings', data.warnings.toLocaleString()),
      className: 'badge-warn',
    };
  return { text: t('badgeValid'), className: 'badge-ok' };
}
