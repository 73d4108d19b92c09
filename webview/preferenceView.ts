/** Preference records and generated pairs: chosen and rejected side by side, with a word diff. */
import type { RecordOk } from '../src/protocol';
import type { DetailContext } from './detailContext';
import { wordDiff } from './diff';
import { el } from './dom';
import { t } from './strings';
import type { DiffSide } from './turnText';
import type { TurnRenderer } from './turnView';

export interface TurnDiff {
  side: DiffSide;
  result: ReturnType<typeof wordDiff>;
}

/** Chosen and rejected side by side (preference records and generated pairs). */
export function sideBySide(
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

/** A preference record: its prompt turns, then chosen and rejected side by side. */
export function renderPreference(ctx: DetailContext, turns: TurnRenderer, r: RecordOk): void {
  if (r.prompt.length) {
    ctx.body.appendChild(el('h3', 'section-title', t('prompt')));
    ctx.body.appendChild(turns.turnList(r, 'prompt', r.prompt));
  }
  const diffs = ctx.showDiff
    ? r.chosen.map((c, i) => (r.rejected[i] ? wordDiff(c.text, r.rejected[i].text) : undefined))
    : [];
  ctx.body.appendChild(
    sideBySide(
      turns.turnList(r, 'chosen', r.chosen, (i) => diffs[i] && { side: 'removed', result: diffs[i] }),
      turns.turnList(r, 'rejected', r.rejected, (i) => diffs[i] && { side: 'added', result: diffs[i] }),
      diffs.some((d) => d?.truncated),
    ),
  );
}
