/**
 * Labels of unpaired preference (KTO) records and of stepwise-supervision steps: shown as a toggle
 * button that sends `setLabel` with the other value.
 */
import type { RecordOk } from '../src/protocol';
import type { DetailContext } from './detailContext';
import { el } from './dom';
import { t } from './strings';

function toggle(label: boolean, text: string, send: (label: boolean) => void): HTMLElement {
  const b = el('button', `label-toggle ${label ? 'label-good' : 'label-bad'}`, text);
  b.setAttribute('type', 'button');
  b.setAttribute('role', 'switch');
  b.setAttribute('aria-checked', String(label));
  b.title = t('toggleLabel');
  b.addEventListener('click', () => send(!label));
  return b;
}

/** The record's KTO label (desirable / undesirable), or undefined when it has none. */
export function recordLabel(ctx: DetailContext, r: RecordOk): HTMLElement | undefined {
  if (r.label === undefined) return undefined;
  const row = el('div', 'record-label');
  row.appendChild(
    toggle(r.label, t(r.label ? 'labelDesirable' : 'labelUndesirable'), (label) =>
      ctx.opts.send({ type: 'setLabel', line: r.line, label }),
    ),
  );
  return row;
}

/** A stepwise step's label (correct / incorrect), or undefined when the turn has none. */
export function stepLabel(ctx: DetailContext, r: RecordOk, turn: number): HTMLElement | undefined {
  const label = r.turns[turn]?.label;
  if (label === undefined) return undefined;
  return toggle(label, t(label ? 'stepCorrect' : 'stepIncorrect'), (next) =>
    ctx.opts.send({ type: 'setLabel', line: r.line, turn, label: next }),
  );
}
