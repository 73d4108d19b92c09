/**
 * The Dataset Overview webview: draws the figures the host computed (the charts of
 * src/core/overview/charts.ts) and sends a click on a bar, a cluster or a table row back as the
 * Selection it stands for. A separate bundle from the dialogue editor's, loaded when an overview
 * is opened.
 */
import { escapeHtml, OVERVIEW_CSS, renderOverview } from '../../src/core/overview/charts';
import type { OverviewHostMessage, OverviewWebviewMessage } from '../../src/overviewProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const api = acquireVsCodeApi();
const post = (m: OverviewWebviewMessage): void => api.postMessage(m);

const sheet = new CSSStyleSheet();
sheet.replaceSync(
  OVERVIEW_CSS +
    `body { background: var(--vscode-editor-background); }
     .overview .progress, .overview .note { color: var(--vscode-descriptionForeground); }
     .overview .error { color: var(--vscode-errorForeground); }
     .overview .toolbar button { font: inherit; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: 1px solid var(--vscode-button-border, transparent); padding: 2px 10px; cursor: pointer; }
     .overview .toolbar button:focus { outline: 1px solid var(--vscode-focusBorder); }`,
);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const root = document.getElementById('root') as HTMLElement;
root.classList.add('overview');
const status = document.createElement('p');
status.className = 'progress';
status.setAttribute('role', 'status');
const content = document.createElement('div');
root.append(status, content);

function selectFrom(target: EventTarget | null): void {
  const el = target instanceof Element ? target.closest('[data-sel]') : null;
  const raw = el?.getAttribute('data-sel');
  if (!raw) return;
  try {
    post({ type: 'select', sel: JSON.parse(raw) as never });
  } catch {
    // not ours
  }
}

content.addEventListener('click', (e) => selectFrom(e.target));
content.addEventListener('keydown', (e) => {
  if (
    (e.key === 'Enter' || e.key === ' ') &&
    e.target instanceof Element &&
    e.target.matches('g[data-sel]')
  ) {
    e.preventDefault();
    selectFrom(e.target);
  }
});

window.addEventListener('message', (event: MessageEvent<OverviewHostMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'progress':
      status.className = 'progress';
      status.textContent = `${m.fileName}: ${m.total ? Math.floor((m.done / m.total) * 100) : 100}%`;
      return;
    case 'error':
      status.className = 'error';
      status.textContent = m.message;
      return;
    case 'figures': {
      status.textContent = '';
      const s = m.strings;
      const h1 = `<h1>${escapeHtml(s.title)}: ${escapeHtml(m.fileName)}</h1>`;
      const note = m.dirty ? `<p class="note">${escapeHtml(s.unsaved)}</p>` : '';
      // Every text in this markup is escaped by renderOverview (dataset text is untrusted).
      content.innerHTML = h1 + note + renderOverview(m.figures, s);
      post({ type: 'rendered', bars: content.querySelectorAll('g[data-sel]').length });
      return;
    }
  }
});

post({ type: 'ready' });
