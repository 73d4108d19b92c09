import type { Query, WebviewMessage } from '../src/protocol';

/** What the webview keeps across being hidden and shown again (no retainContextWhenHidden). */
export interface ViewState {
  selected: number;
  scrollTop: number;
  query?: Query;
  view: 'rendered' | 'plain';
  focusTurn?: string;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(message: WebviewMessage): void {
  api.postMessage(message);
}

export function loadState(): Partial<ViewState> {
  const s = api.getState();
  return typeof s === 'object' && s !== null ? s : {};
}

export function saveState(state: ViewState): void {
  api.setState(state);
}
