/** The raw JSON of a record, edited as text and checked as it is typed; malformed lines as raw text. */
import type { RecordBad, RecordOk } from '../src/protocol';
import { textButton } from './controls';
import type { DetailContext } from './detailContext';
import { el } from './dom';
import { t } from './strings';

/** Line and column (1-based) of a JSON.parse error in `text`, when the engine reports a position. */
export function jsonErrorAt(text: string, message: string): string {
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

export function renderJson(ctx: DetailContext, r: RecordOk): void {
  let pretty = r.raw;
  try {
    pretty = JSON.stringify(JSON.parse(r.raw), null, 2);
  } catch {
    // shown as stored
  }
  rawEditor(ctx, r.line, pretty, r.raw, undefined);
}

export function renderMalformed(ctx: DetailContext, r: RecordBad): void {
  const banner = el('div', 'banner banner-error');
  banner.setAttribute('role', 'alert');
  banner.textContent = t('malformedAt', String(r.line + 1), r.error.message, String(r.error.column));
  ctx.body.appendChild(banner);
  const block = el('div', 'raw-line');
  block.dataset.key = 'raw';
  block.tabIndex = 0;
  block.setAttribute('aria-label', t('rawLine'));
  const col = Math.max(0, Math.min(r.raw.length, r.error.column - 1));
  block.append(document.createTextNode(r.raw.slice(0, col)));
  const mark = el('mark', 'error-mark', r.raw.slice(col, col + 1) || ' ');
  mark.title = r.error.message;
  block.append(mark, document.createTextNode(r.raw.slice(col + 1)));
  ctx.body.appendChild(block);
  const fix = textButton(t('fixLine'), () => rawEditor(ctx, r.line, r.raw, r.raw, col), 'edit');
  ctx.body.appendChild(fix);
  block.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      rawEditor(ctx, r.line, r.raw, r.raw, col);
    }
  });
}

function rawEditor(
  ctx: DetailContext,
  line: number,
  text: string,
  original: string,
  caret: number | undefined,
): void {
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
    ctx.editing = undefined;
    if (area.value !== text && area.value !== original)
      ctx.opts.send({ type: 'replaceRecord', line, text: area.value });
    else if (ctx.record) ctx.show(ctx.record);
  };
  const cancel = (): void => {
    ctx.editing = undefined;
    ctx.jsonMode = false;
    if (ctx.pending) ctx.show(ctx.pending);
    else if (ctx.record) ctx.show(ctx.record);
    ctx.focusFirst();
  };
  ctx.editing = { key: 'json', commit, cancel };
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
  const existing = ctx.body.querySelector('.json-editor');
  if (existing) existing.replaceWith(container);
  else ctx.body.appendChild(container);
  validate();
  area.focus();
  if (caret !== undefined) area.setSelectionRange(caret, caret);
  area.style.height = `${Math.max(160, Math.min(window.innerHeight * 0.7, area.scrollHeight + 2))}px`;
}
