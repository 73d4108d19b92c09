import type { WebviewStringKey, WebviewStrings } from '../src/protocol';

let strings: Partial<WebviewStrings> = {};

/** Takes the translated strings sent by the host with `init`. */
export function setStrings(s: WebviewStrings): void {
  strings = s;
}

/** The string for `key`, with `{0}`, `{1}`, … replaced by `args`. */
export function t(key: WebviewStringKey, ...args: string[]): string {
  const s = strings[key] ?? key;
  return s.replace(/\{(\d+)\}/g, (m, i: string) => args[Number(i)] ?? m);
}
