/** Editing a turn or the system prompt in place: Ctrl/Cmd+Enter commits, Escape cancels. */
import type { EditIntent } from '../src/protocol';
import type { DetailContext } from './detailContext';
import { el } from './dom';
import { t } from './strings';

export function autosize(area: HTMLTextAreaElement): void {
  area.style.height = 'auto';
  area.style.height = `${Math.min(area.scrollHeight + 2, window.innerHeight * 0.7)}px`;
}

/** Replaces a block's text with an editor; Ctrl/Cmd+Enter commits, Escape cancels. */
export function editText(
  ctx: DetailContext,
  block: HTMLElement,
  initial: string,
  intent: (text: string) => EditIntent,
): void {
  if (ctx.editing) ctx.editing.cancel();
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
    if (ctx.editing?.key !== key) return;
    ctx.editing = undefined;
    const text = area.value;
    body.replaceChildren(...saved);
    if (commit && text !== initial) ctx.opts.send(intent(text));
    if (ctx.pending) ctx.show(ctx.pending, key);
    else ctx.focusKey(key);
    ctx.opts.onStateChange();
  };
  ctx.editing = { key, commit: () => done(true), cancel: () => done(false) };
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
  ctx.opts.onStateChange();
}
