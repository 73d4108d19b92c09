/** The text of a turn in the pane: Markdown, plain text, or one side of a word diff. */
import type { TextMode } from './detailContext';
import { el } from './dom';
import { renderMarkdown } from './markdown';
import { t } from './strings';

export type DiffSide = 'added' | 'removed';

/** A turn's text, rendered as Markdown or shown as plain text. */
export function fillText(body: HTMLElement, text: string, mode: TextMode): void {
  body.classList.toggle('plain', mode === 'plain');
  if (text === '') body.appendChild(el('p', 'empty', t('emptyTurn')));
  else if (mode === 'plain') body.appendChild(el('pre', 'raw-text', text));
  else body.appendChild(renderMarkdown(text));
}

/** The words of one side of a diff: same words as text, this side's changes marked. */
export function fillDiff(body: HTMLElement, ops: { kind: string; text: string }[], side: DiffSide): void {
  const pre = el('div', 'diff-text');
  for (const op of ops) {
    if (op.kind === 'same') pre.appendChild(document.createTextNode(op.text));
    else if (op.kind === side) pre.appendChild(el(side === 'added' ? 'ins' : 'del', `diff-${side}`, op.text));
  }
  body.appendChild(pre);
}
