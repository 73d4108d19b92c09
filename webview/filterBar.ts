/**
 * The toolbar of the dialogue editor: search text and its options, the filters (run by the host
 * over the whole file), Go to # and the Plain text switch. It reads and restores the query; the
 * App runs it.
 */
import type { FormatId, Role } from '../src/core/model';
import type { Query } from '../src/protocol';
import { el } from './dom';
import { t } from './strings';

export interface ValueElement extends HTMLElement {
  value: string;
}
export interface CheckElement extends HTMLElement {
  checked: boolean;
}

export function custom<T extends HTMLElement>(tag: string, attrs: Record<string, string> = {}): T {
  const e = document.createElement(tag) as T;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export interface FilterBarOptions {
  roles: readonly Role[];
  formats: readonly FormatId[];
  /** The query changed: run it. */
  onQuery: () => void;
  /** Escape in the search box (after clearing it). */
  onSearchEscape: () => void;
  /** Enter in Go to #, with the text typed. */
  onGoTo: (value: string) => void;
  onPlainChange: (plain: boolean) => void;
  /** More filters (e.g. review status), appended to the filter row; they read their own part. */
  extraFilters?: readonly HTMLElement[];
}

export class FilterBar {
  readonly element: HTMLElement;
  readonly search: ValueElement;
  readonly goTo: ValueElement;
  private readonly regex: CheckElement;
  private readonly caseSensitive: CheckElement;
  private readonly invalidOnly: CheckElement;
  private readonly problems: CheckElement;
  private readonly minTurns: ValueElement;
  private readonly maxTurns: ValueElement;
  private readonly role: ValueElement;
  private readonly format: ValueElement;
  private readonly plain: CheckElement;

  constructor(opts: FilterBarOptions, plain: boolean) {
    const toolbar = el('div', 'toolbar');
    toolbar.setAttribute('role', 'search');
    toolbar.setAttribute('aria-label', t('searchAndFilter'));
    this.element = toolbar;
    this.search = custom<ValueElement>('vscode-textfield', {
      placeholder: t('searchPlaceholder'),
      'aria-label': t('search'),
      class: 'search',
    });
    this.regex = custom<CheckElement>('vscode-checkbox', { label: t('regex') });
    this.caseSensitive = custom<CheckElement>('vscode-checkbox', { label: t('matchCase') });
    this.invalidOnly = custom<CheckElement>('vscode-checkbox', { label: t('invalidOnly') });
    this.problems = custom<CheckElement>('vscode-checkbox', { label: t('hasProblems') });
    this.minTurns = custom<ValueElement>('vscode-textfield', {
      type: 'number',
      min: '0',
      placeholder: t('minTurns'),
      'aria-label': t('minTurns'),
      class: 'num',
    });
    this.maxTurns = custom<ValueElement>('vscode-textfield', {
      type: 'number',
      min: '0',
      placeholder: t('maxTurns'),
      'aria-label': t('maxTurns'),
      class: 'num',
    });
    this.role = select(t('anyRole'), opts.roles, t('roleFilter'));
    this.format = select(t('anyFormat'), opts.formats, t('formatFilter'));
    this.goTo = custom<ValueElement>('vscode-textfield', {
      type: 'number',
      min: '1',
      placeholder: t('goTo'),
      'aria-label': t('goTo'),
      class: 'num goto',
    });
    this.plain = custom<CheckElement>('vscode-checkbox', { label: t('plainText') });
    if (plain) this.plain.setAttribute('checked', '');
    const row1 = el('div', 'toolbar-row');
    row1.append(this.search, this.regex, this.caseSensitive, this.goTo, this.plain);
    const row2 = el('div', 'toolbar-row');
    row2.append(
      this.invalidOnly,
      this.problems,
      this.minTurns,
      this.maxTurns,
      this.role,
      this.format,
      ...(opts.extraFilters ?? []),
    );
    toolbar.append(row1, row2);

    let debounce: ReturnType<typeof setTimeout> | undefined;
    const requery = (delay: number): void => {
      clearTimeout(debounce);
      debounce = setTimeout(() => opts.onQuery(), delay);
    };
    this.search.addEventListener('input', () => requery(350));
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') requery(0);
      else if (e.key === 'Escape') {
        this.search.value = '';
        requery(0);
        opts.onSearchEscape();
      }
      e.stopPropagation();
    });
    for (const c of [
      this.regex,
      this.caseSensitive,
      this.invalidOnly,
      this.problems,
      this.role,
      this.format,
    ]) {
      c.addEventListener('change', () => requery(0));
    }
    for (const f of [this.minTurns, this.maxTurns]) {
      f.addEventListener('input', () => requery(400));
      f.addEventListener('keydown', (e) => e.stopPropagation());
    }
    this.goTo.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') opts.onGoTo(this.goTo.value.trim());
    });
    this.plain.addEventListener('change', () => opts.onPlainChange(this.plain.checked));
  }

  /** The query the toolbar describes (undefined: every record). */
  readQuery(): Query | undefined {
    const q: Query = {};
    const text = this.search.value;
    if (text) q.text = text;
    if (text && this.regex.checked) q.regex = true;
    if (text && this.caseSensitive.checked) q.caseSensitive = true;
    if (this.invalidOnly.checked) q.invalidOnly = true;
    if (this.problems.checked) q.problems = true;
    const min = parseInt(this.minTurns.value, 10);
    const max = parseInt(this.maxTurns.value, 10);
    if (Number.isFinite(min) && min >= 0) q.minTurns = min;
    if (Number.isFinite(max) && max >= 0) q.maxTurns = max;
    const role = this.role.value;
    if (role) q.role = role;
    const format = this.format.value;
    if (format) q.format = format as FormatId;
    return Object.keys(q).length ? q : undefined;
  }

  /** Empties the search and the filters. */
  clear(): void {
    this.search.value = '';
    this.invalidOnly.checked = false;
    this.problems.checked = false;
    this.minTurns.value = '';
    this.maxTurns.value = '';
    this.role.value = '';
    this.format.value = '';
  }

  /** Shows a saved query. */
  restore(q: Query): void {
    this.search.value = q.text ?? '';
    if (q.regex) this.regex.setAttribute('checked', '');
    if (q.caseSensitive) this.caseSensitive.setAttribute('checked', '');
    if (q.invalidOnly) this.invalidOnly.setAttribute('checked', '');
    if (q.problems) this.problems.setAttribute('checked', '');
    if (q.minTurns !== undefined) this.minTurns.value = String(q.minTurns);
    if (q.maxTurns !== undefined) this.maxTurns.value = String(q.maxTurns);
    if (q.role) this.role.value = q.role;
    if (q.format) this.format.value = q.format;
  }
}

function select(anyLabel: string, values: readonly string[], label: string): ValueElement {
  const s = custom<ValueElement>('vscode-single-select', { 'aria-label': label });
  const any = custom<HTMLElement>('vscode-option', { value: '' });
  any.textContent = anyLabel;
  s.appendChild(any);
  for (const v of values) {
    const o = custom<HTMLElement>('vscode-option', { value: v });
    o.textContent = v;
    s.appendChild(o);
  }
  return s;
}
