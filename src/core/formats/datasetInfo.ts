/**
 * LLaMA-Factory's `dataset_info.json`: the registry beside its datasets that says how each file is
 * read (`file_name`, `formatting`, `ranking`, `columns`, `tags`). Parsed with LLaMA-Factory's own
 * defaults (src/llamafactory/data/parser.py `DatasetAttr`), records read the way its converters
 * read them (data/converter.py), entries checked against the records, and new entries written.
 */
import type { Dialogue, FormatId, PreferencePair, Sample, Turn } from '../model';
import { locate } from '../validate/locate';
import { isObject } from './messages';

export const DATA_CONFIG = 'dataset_info.json';

export const COLUMN_NAMES = [
  'prompt',
  'query',
  'response',
  'history',
  'messages',
  'system',
  'tools',
  'images',
  'videos',
  'audios',
  'chosen',
  'rejected',
  'kto_tag',
] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

export const TAG_NAMES = [
  'role_tag',
  'content_tag',
  'user_tag',
  'assistant_tag',
  'observation_tag',
  'function_tag',
  'system_tag',
] as const;
export type TagName = (typeof TAG_NAMES)[number];

/** LLaMA-Factory's defaults when an entry has no `columns` / no `tags` at all. */
const DEFAULT_COLUMNS: Record<ColumnName, string | null> = {
  prompt: 'instruction',
  query: 'input',
  response: 'output',
  history: null,
  messages: 'conversations',
  system: null,
  tools: null,
  images: null,
  videos: null,
  audios: null,
  chosen: null,
  rejected: null,
  kto_tag: null,
};
const DEFAULT_TAGS: Record<TagName, string | null> = {
  role_tag: 'from',
  content_tag: 'value',
  user_tag: 'human',
  assistant_tag: 'gpt',
  observation_tag: 'observation',
  function_tag: 'function_call',
  system_tag: 'system',
};

/** One entry, with LLaMA-Factory's reading of it. */
export interface DatasetAttr {
  name: string;
  loadFrom: 'file' | 'hub' | 'script' | 'cloud';
  fileName?: string;
  formatting: string;
  ranking: boolean;
  /**
   * Each column's name in the records, or null when the entry leaves it unset. As in
   * LLaMA-Factory, an entry with a `columns` object unsets every column it does not list (the
   * defaults apply only when `columns` is absent); the same holds for `tags`.
   */
  columns: Record<ColumnName, string | null>;
  tags: Record<TagName, string | null>;
  /** The entry as written. */
  raw: Record<string, unknown>;
}

/** A problem in dataset_info.json or between an entry and its file: `pointer` is in dataset_info.json. */
export interface InfoProblem {
  code: string;
  severity: 'error' | 'warning';
  pointer: string;
  target?: 'value' | 'key';
  message: string;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Reads one entry the way LLaMA-Factory's `get_dataset_list` + `DatasetAttr.join` do. */
export function datasetAttr(name: string, raw: Record<string, unknown>): DatasetAttr {
  let loadFrom: DatasetAttr['loadFrom'] = 'file';
  if ('hf_hub_url' in raw || 'ms_hub_url' in raw || 'om_hub_url' in raw) loadFrom = 'hub';
  else if ('script_url' in raw) loadFrom = 'script';
  else if ('cloud_file_name' in raw) loadFrom = 'cloud';
  const columns = { ...DEFAULT_COLUMNS };
  if (isObject(raw.columns)) {
    const given = raw.columns;
    for (const c of COLUMN_NAMES) columns[c] = str(given[c]);
  }
  const tags = { ...DEFAULT_TAGS };
  if (isObject(raw.tags)) {
    const given = raw.tags;
    for (const t of TAG_NAMES) tags[t] = str(given[t]);
  }
  const attr: DatasetAttr = {
    name,
    loadFrom,
    formatting: typeof raw.formatting === 'string' ? raw.formatting : 'alpaca',
    ranking: raw.ranking === true,
    columns,
    tags,
    raw,
  };
  if (loadFrom === 'file' && typeof raw.file_name === 'string') attr.fileName = raw.file_name;
  return attr;
}

const ptr = (...segs: string[]): string =>
  '/' + segs.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Parses dataset_info.json; problems of its own shape (not of the files) are positioned in it. */
export function parseDatasetInfo(text: string): { attrs: DatasetAttr[]; problems: InfoProblem[] } {
  const problems: InfoProblem[] = [];
  let v: unknown;
  try {
    v = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    problems.push({
      code: 'dataset-info/syntax',
      severity: 'error',
      pointer: '',
      message: `${DATA_CONFIG} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
    });
    return { attrs: [], problems };
  }
  if (!isObject(v)) {
    problems.push({
      code: 'dataset-info/shape',
      severity: 'error',
      pointer: '',
      message: `${DATA_CONFIG} must be an object of named entries`,
    });
    return { attrs: [], problems };
  }
  const attrs: DatasetAttr[] = [];
  for (const [name, raw] of Object.entries(v)) {
    if (!isObject(raw)) {
      problems.push({
        code: 'dataset-info/shape',
        severity: 'error',
        pointer: ptr(name),
        message: `entry "${name}" must be an object`,
      });
      continue;
    }
    const a = datasetAttr(name, raw);
    if (a.loadFrom === 'file' && a.fileName === undefined)
      problems.push({
        code: 'dataset-info/shape',
        severity: 'error',
        pointer: ptr(name),
        message: `entry "${name}" has no "file_name" (nor a hub, script or cloud source)`,
      });
    if (!['alpaca', 'sharegpt', 'openai'].includes(a.formatting))
      problems.push({
        code: 'dataset-info/shape',
        severity: 'error',
        pointer: ptr(name, 'formatting'),
        message: `entry "${name}": formatting "${a.formatting}" is not one of alpaca, sharegpt, openai`,
      });
    attrs.push(a);
  }
  return { attrs, problems };
}

/* ------------------------------------------------------------------ reading records like LLaMA-Factory */

export type AlignResult = { sample: Sample } | { skipped: string };

function roleOf(attr: DatasetAttr, tag: unknown): Turn['role'] | undefined {
  const t = attr.tags;
  if (typeof tag !== 'string') return undefined;
  if (tag === t.user_tag) return 'user';
  if (tag === t.assistant_tag) return 'assistant';
  if (tag === t.observation_tag) return 'observation';
  if (tag === t.function_tag) return 'function_call';
  if (tag === t.system_tag) return 'system';
  return undefined;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}

/** The fields every formatting carries over (system, tools, media) into `meta`. */
function common(attr: DatasetAttr, r: Record<string, unknown>, d: Dialogue | PreferencePair): void {
  const c = attr.columns;
  if (c.tools && r[c.tools] !== undefined && r[c.tools] !== '') d.tools = r[c.tools];
  for (const m of ['images', 'videos', 'audios'] as const) {
    const col = c[m];
    if (col && r[col] !== undefined && r[col] !== null) d.meta[m] = r[col];
  }
}

/**
 * Reads one record as LLaMA-Factory's converter for `attr.formatting` does: the named columns, the
 * role tags, the KTO tag and ranking. A record the converter skips ("abnormal example": a role tag
 * out of place, an odd number of messages) is `{skipped: reason}`.
 */
export function alignRecord(attr: DatasetAttr, r: Record<string, unknown>): AlignResult {
  const c = attr.columns;
  const label = c.kto_tag && typeof r[c.kto_tag] === 'boolean' ? (r[c.kto_tag] as boolean) : undefined;
  if (attr.formatting === 'alpaca') {
    const turns: Turn[] = [];
    if (c.history && Array.isArray(r[c.history])) {
      for (const pair of r[c.history] as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2)
          return { skipped: `"${c.history}" is not a list of pairs` };
        turns.push({ role: 'user', content: text(pair[0]) }, { role: 'assistant', content: text(pair[1]) });
      }
    }
    const query: string[] = [];
    if (c.prompt && r[c.prompt]) query.push(text(r[c.prompt]));
    if (c.query && r[c.query]) query.push(text(r[c.query]));
    turns.push({ role: 'user', content: query.join('\n') });
    const system = c.system ? text(r[c.system]) : '';
    if (
      attr.ranking &&
      c.chosen &&
      c.rejected &&
      typeof r[c.chosen] === 'string' &&
      typeof r[c.rejected] === 'string'
    ) {
      const p: PreferencePair = {
        kind: 'preference',
        prompt: turns,
        chosen: [{ role: 'assistant', content: r[c.chosen] as string }],
        rejected: [{ role: 'assistant', content: r[c.rejected] as string }],
        meta: {},
      };
      if (system) p.system = system;
      common(attr, r, p);
      return { sample: p };
    }
    if (c.response && typeof r[c.response] === 'string')
      turns.push({ role: 'assistant', content: r[c.response] as string });
    const d: Dialogue = { kind: 'dialogue', turns, meta: {} };
    if (label !== undefined) d.label = label;
    if (system) d.system = system;
    common(attr, r, d);
    return { sample: d };
  }
  // sharegpt and openai formatting
  const t = attr.tags;
  const list = c.messages ? r[c.messages] : undefined;
  if (!Array.isArray(list)) return { skipped: `"${c.messages ?? 'messages'}" is not a list` };
  let messages = list as unknown[];
  let system = c.system ? text(r[c.system]) : '';
  const first = messages[0];
  if (t.system_tag && isObject(first) && t.role_tag && first[t.role_tag] === t.system_tag) {
    system = text(first[t.content_tag ?? '']);
    messages = messages.slice(1);
  }
  const turns: Turn[] = [];
  const odd = [t.user_tag, t.observation_tag];
  const even = [t.assistant_tag, t.function_tag];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m)) return { skipped: `message ${i + 1} is not an object` };
    let tag = m[t.role_tag ?? ''];
    let content = text(m[t.content_tag ?? '']);
    if (
      attr.formatting === 'openai' &&
      (tag === t.assistant_tag || tag === t.function_tag) &&
      Array.isArray(m.tool_calls) &&
      m.tool_calls.length
    ) {
      content = JSON.stringify((m.tool_calls as unknown[]).map((x) => (isObject(x) ? x.function : x)));
      tag = t.function_tag;
    }
    const allowed = i % 2 === 0 ? odd : even;
    if (attr.formatting === 'sharegpt' && !allowed.includes(tag as string)) {
      const names = allowed.filter((x): x is string => typeof x === 'string').map((x) => `"${x}"`);
      return {
        skipped: `message ${i + 1 + (messages === list ? 0 : 1)} has role tag ${JSON.stringify(tag)} (${t.role_tag ?? 'no role_tag'}) where ${names.join(' or ') || 'no tag'} is expected`,
      };
    }
    const role = roleOf(attr, tag);
    if (role === undefined)
      return { skipped: `message ${i + 1}: role tag ${JSON.stringify(tag)} is none of the entry's tags` };
    turns.push({ role, content });
  }
  const odd2 = turns.length % 2 !== 0;
  if ((!attr.ranking && odd2) || (attr.ranking && !odd2))
    return {
      skipped: `${turns.length} message(s): LLaMA-Factory needs ${attr.ranking ? 'an odd' : 'an even'} number`,
    };
  if (attr.ranking && c.chosen && c.rejected && isObject(r[c.chosen]) && isObject(r[c.rejected])) {
    const one = (x: Record<string, unknown>): Turn => ({
      role: roleOf(attr, x[t.role_tag ?? '']) ?? 'assistant',
      content: text(x[t.content_tag ?? '']),
    });
    const p: PreferencePair = {
      kind: 'preference',
      prompt: turns,
      chosen: [one(r[c.chosen] as Record<string, unknown>)],
      rejected: [one(r[c.rejected] as Record<string, unknown>)],
      meta: {},
    };
    if (system) p.system = system;
    common(attr, r, p);
    return { sample: p };
  }
  const d: Dialogue = { kind: 'dialogue', turns, meta: {} };
  if (label !== undefined) d.label = label;
  if (system) d.system = system;
  common(attr, r, d);
  return { sample: d };
}

/** The columns LLaMA-Factory's converter reads for this entry, by column key. */
function columnsRead(attr: DatasetAttr): ColumnName[] {
  const keys: ColumnName[] =
    attr.formatting === 'alpaca' ? ['prompt', 'query', 'response', 'history'] : ['messages'];
  keys.push('system', 'tools', 'images', 'videos', 'audios', 'kto_tag');
  if (attr.ranking) keys.push('chosen', 'rejected');
  return keys.filter((k) => attr.columns[k] !== null);
}

/** Accumulates what an entry's file shows about the entry, record by record. */
export class EntryChecker {
  private records = 0;
  private readonly missing = new Map<ColumnName, { n: number; firstLine: number }>();
  private skipped = 0;
  private firstSkip?: { line: number; reason: string };
  private readonly read: ColumnName[];

  constructor(readonly attr: DatasetAttr) {
    this.read = columnsRead(attr);
  }

  /** One record of the file (1-based line or element number for messages). */
  add(value: unknown, line: number): void {
    if (!isObject(value)) return;
    this.records++;
    for (const k of this.read) {
      const col = this.attr.columns[k] as string;
      if (!(col in value)) {
        const m = this.missing.get(k);
        if (m) m.n++;
        else this.missing.set(k, { n: 1, firstLine: line });
      }
    }
    const a = alignRecord(this.attr, value);
    if ('skipped' in a) {
      this.skipped++;
      this.firstSkip ??= { line, reason: a.skipped };
    }
  }

  /** The problems, positioned at the entry (its `columns` / `tags` member when there is one). */
  problems(where: string): InfoProblem[] {
    const out: InfoProblem[] = [];
    const name = this.attr.name;
    const explicit = isObject(this.attr.raw.columns);
    for (const [k, m] of this.missing) {
      const col = this.attr.columns[k] as string;
      const given = explicit && isObject(this.attr.raw.columns) && k in this.attr.raw.columns;
      const pointer = given ? ptr(name, 'columns', k) : ptr(name);
      const all = m.n === this.records;
      out.push({
        code: 'dataset-info/missing-column',
        severity: all ? 'error' : 'warning',
        pointer,
        target: given ? 'value' : 'key',
        message: all
          ? `entry "${name}": column ${k} = "${col}"${given ? '' : ' (LLaMA-Factory default)'} is in none of the ${this.records} record(s) of ${where}`
          : `entry "${name}": column ${k} = "${col}" is missing in ${m.n} of ${this.records} record(s) of ${where} (first: ${m.firstLine})`,
      });
    }
    if (this.skipped > 0 && this.firstSkip) {
      const pointer = isObject(this.attr.raw.tags)
        ? ptr(name, 'tags')
        : isObject(this.attr.raw.columns)
          ? ptr(name, 'columns')
          : ptr(name);
      out.push({
        code: 'dataset-info/skipped-records',
        severity: 'error',
        pointer,
        target: pointer === ptr(name) ? 'key' : 'value',
        message: `entry "${name}": LLaMA-Factory would skip ${this.skipped} of ${this.records} record(s) of ${where} (first, ${this.firstSkip.line}: ${this.firstSkip.reason})`,
      });
    }
    return out;
  }
}

/** 0-based line and columns (UTF-16) of a problem in dataset_info.json's text. */
export function positionIn(
  text: string,
  p: InfoProblem,
): { line: number; startCol: number; endLine: number; endCol: number } {
  const span = p.pointer === '' ? { start: 0, end: 0 } : locate(text, p.pointer, p.target ?? 'value');
  const at = (off: number): { line: number; col: number } => {
    let line = 0;
    let last = -1;
    for (let i = text.indexOf('\n'); i >= 0 && i < off; i = text.indexOf('\n', i + 1)) {
      line++;
      last = i;
    }
    return { line, col: off - last - 1 };
  };
  const a = at(span.start);
  const b = at(span.end);
  return { line: a.line, startCol: a.col, endLine: b.line, endCol: b.col };
}

/* ------------------------------------------------------------------ writing entries */

/** Why a format cannot be registered, or undefined when it can. */
export function unregistrable(format: FormatId): string | undefined {
  switch (format) {
    case 'alpaca':
    case 'sharegpt':
    case 'sharegpt-preference':
    case 'openai':
    case 'llamafactory-kto':
      return undefined;
    case 'llamafactory-v1':
    case 'llamafactory-v1-preference':
      return 'LLaMA-Factory v1 datasets are registered in a YAML file (e.g. data/v1_sft_demo.yaml), not in dataset_info.json';
    default:
      return `dataset_info.json cannot describe the ${format} format; convert it first (to sharegpt, sharegpt-preference, openai, alpaca or llamafactory-kto)`;
  }
}

/**
 * The dataset_info.json entry for a file of `format`, given some of its records (to see which
 * optional columns and roles it has). Mirrors LLaMA-Factory's own demo entries.
 */
export function entryFor(
  format: FormatId,
  fileName: string,
  records: readonly unknown[],
): Record<string, unknown> {
  const why = unregistrable(format);
  if (why) throw new Error(why);
  const has = (k: string): boolean => records.some((r) => isObject(r) && k in r);
  const entry: Record<string, unknown> = { file_name: fileName };
  const columns: Record<string, string> = {};
  const media = (): void => {
    for (const m of ['images', 'videos', 'audios']) if (has(m)) columns[m] = m;
  };
  if (format === 'alpaca') {
    // Without `columns` LLaMA-Factory reads instruction/input/output only.
    if (has('system') || has('history') || ['images', 'videos', 'audios'].some(has)) {
      columns.prompt = 'instruction';
      columns.query = 'input';
      columns.response = 'output';
      if (has('system')) columns.system = 'system';
      if (has('history')) columns.history = 'history';
      media();
      entry.columns = columns;
    }
    return entry;
  }
  entry.formatting = 'sharegpt';
  if (format === 'sharegpt-preference') entry.ranking = true;
  const list =
    format === 'llamafactory-kto' && !has('conversations')
      ? 'messages'
      : format === 'openai'
        ? 'messages'
        : 'conversations';
  columns.messages = list;
  if (format === 'sharegpt-preference') {
    columns.chosen = 'chosen';
    columns.rejected = 'rejected';
  }
  if (format === 'llamafactory-kto') columns.kto_tag = has('kto_tag') ? 'kto_tag' : 'label';
  if (has('system')) columns.system = 'system';
  if (has('tools')) columns.tools = 'tools';
  media();
  entry.columns = columns;
  if (list === 'messages') {
    // role/content messages: the tags LLaMA-Factory's own demos (mllm_demo, kto_en_demo) set.
    const roles = new Set<string>();
    for (const r of records)
      if (isObject(r) && Array.isArray(r[list]))
        for (const m of r[list] as unknown[])
          if (isObject(m) && typeof m.role === 'string') roles.add(m.role);
    const tags: Record<string, string> = {
      role_tag: 'role',
      content_tag: 'content',
      user_tag: 'user',
      assistant_tag: 'assistant',
    };
    if (roles.has('system')) tags.system_tag = 'system';
    if (roles.has('tool')) tags.observation_tag = 'tool';
    if (
      format === 'openai' &&
      records.some(
        (r) =>
          isObject(r) &&
          Array.isArray(r.messages) &&
          (r.messages as unknown[]).some((m) => isObject(m) && Array.isArray(m.tool_calls)),
      )
    ) {
      entry.formatting = 'openai';
      tags.function_tag = 'function_call';
    }
    entry.tags = tags;
  }
  return entry;
}

/**
 * dataset_info.json with `entry` added as `name`, every other byte as it was: the entry goes
 * before the closing brace, indented like the file's first entry. Throws when the name is taken
 * or the text is not a JSON object.
 */
export function insertEntry(text: string, name: string, entry: Record<string, unknown>): string {
  const parsed = parseDatasetInfo(text);
  if (
    parsed.problems.some(
      (p) => p.code === 'dataset-info/syntax' || (p.code === 'dataset-info/shape' && p.pointer === ''),
    )
  )
    throw new Error(`${DATA_CONFIG} is not a JSON object: ${parsed.problems[0].message}`);
  const obj = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, name))
    throw new Error(`${DATA_CONFIG} already has an entry "${name}"`);
  const close = text.lastIndexOf('}');
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const m = /\{\s*?(\r?\n)([ \t]*)"/.exec(text);
  const indent = m ? m[2] : '  ';
  const body = JSON.stringify(entry, null, indent.includes('\t') ? '\t' : indent.length || 2)
    .split('\n')
    .map((l, i) => (i === 0 ? l : indent + l))
    .join(nl);
  const item = `${indent}${JSON.stringify(name)}: ${body}`;
  let before = text.slice(0, close);
  const after = text.slice(close);
  const trimmed = before.replace(/\s+$/, '');
  const empty = trimmed.endsWith('{');
  const ws = before.slice(trimmed.length);
  before = trimmed + (empty ? '' : ',');
  return before + nl + item + (ws.includes('\n') ? ws : nl) + after;
}

/** A new dataset_info.json holding one entry. */
export function newDatasetInfo(name: string, entry: Record<string, unknown>): string {
  return insertEntry('{}\n', name, entry);
}
