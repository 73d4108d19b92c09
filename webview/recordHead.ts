/** The head of the pane: the record's number, id, format and size, and its toolbar. */
import type { EditIntent, RecordView } from '../src/protocol';
import { textButton } from './controls';
import type { DetailContext } from './detailContext';
import { el } from './dom';
import type { GenerationActions } from './generationActions';
import { t } from './strings';

export function renderHead(
  ctx: DetailContext,
  gen: GenerationActions,
  head: HTMLElement,
  r: RecordView,
): void {
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
      ctx.jsonMode ? t('showDialogue') : t('showJson'),
      () => {
        ctx.jsonMode = !ctx.jsonMode;
        ctx.render();
        ctx.focusFirst();
      },
      ctx.jsonMode ? 'comment-discussion' : 'json',
    );
    json.setAttribute('aria-pressed', String(ctx.jsonMode));
    actions.appendChild(json);
    const extend = r.kind === 'dialogue' && !ctx.jsonMode ? gen.extendButton(r) : undefined;
    if (extend) actions.appendChild(extend);
    if (r.kind === 'preference' && !ctx.jsonMode) {
      actions.appendChild(
        textButton(
          ctx.showDiff ? t('hideDiff') : t('showDiff'),
          () => {
            ctx.showDiff = !ctx.showDiff;
            ctx.render();
          },
          'diff',
        ),
      );
    }
  }
  const send = (intent: EditIntent): void => ctx.opts.send(intent);
  actions.append(
    textButton(
      t('addDialogue'),
      () => {
        send({ type: 'addDialogue', after: r.line });
        // The new dialogue comes back as the next record: its first turn opens for typing.
        const key = r.ok && r.kind === 'preference' ? 'prompt:0' : 'turns:0';
        ctx.afterRender = { line: r.line + 1, key, edit: true };
      },
      'add',
    ),
    textButton(t('duplicateDialogue'), () => send({ type: 'duplicateDialogue', line: r.line }), 'copy'),
    textButton(t('deleteDialogue'), () => send({ type: 'deleteDialogue', line: r.line }), 'trash'),
  );
  head.append(title, meta, actions);
}
