/** Small buttons shared by the dialogue pane's parts. */
import { el } from './dom';

/** A codicon button; out of the tab order unless `focusable` (turn blocks are reached by arrows). */
export function iconButton(
  icon: string,
  label: string,
  onClick: () => void,
  focusable = false,
): HTMLButtonElement {
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
export function actionButton(
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

/** A secondary `vscode-button` with a label and an optional codicon. */
export function textButton(label: string, onClick: () => void, icon?: string): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('secondary', '');
  if (icon) b.setAttribute('icon', icon);
  b.textContent = label;
  b.addEventListener('click', () => onClick());
  return b;
}
