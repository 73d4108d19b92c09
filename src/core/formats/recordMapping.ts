/** How a dataset_info.json entry renames a record's keys and roles (see entryMapping.ts)): the renames as data and the
 * functions that apply them, light enough for the validation workers. */
import { isObject, setOwn } from './messages';

/** The renames an entry implies (plain data: it goes to worker threads as it is). */
export interface RecordMapping {
  /** The entry's name and its dataset_info.json, for the messages that say it was used. */
  entry: string;
  infoPath: string;
  /** Top-level keys: [key in the file, canonical key]. */
  top: [string, string][];
  /** Canonical keys whose value is a list of messages. */
  lists: string[];
  /** Canonical keys whose value is one message (`chosen` / `rejected` of a ShareGPT ranking entry). */
  singles: string[];
  /** Message keys: [key in the file, canonical key]. */
  msg: [string, string][];
  /** The canonical role key (after `msg`), whose values `roles` renames. */
  roleKey: string;
  /** Role values: [tag in the file, canonical tag]. */
  roles: [string, string][];
}

function renameKeys(o: Record<string, unknown>, pairs: [string, string][]): Record<string, unknown> {
  const to = new Map(pairs);
  const targets = new Set(pairs.map((p) => p[1]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const name = to.get(k);
    if (name !== undefined) setOwn(out, name, v);
    // A key the entry does not read, under a name a renamed one takes, is not read (LLaMA-Factory
    // reads only the entry's columns): left out.
    else if (!targets.has(k) && !Object.hasOwn(out, k)) setOwn(out, k, v);
  }
  return out;
}

function mapMessage(m: unknown, map: RecordMapping, roles: Map<string, string>): unknown {
  if (!isObject(m)) return m;
  const out = renameKeys(m, map.msg);
  const role = out[map.roleKey];
  if (typeof role === 'string') {
    const to = roles.get(role);
    if (to !== undefined) out[map.roleKey] = to;
  }
  return out;
}

/** The record with the entry's names replaced by the canonical ones (a new object; the input is kept). */
export function mapRecord(value: Record<string, unknown>, map: RecordMapping): Record<string, unknown> {
  const out = renameKeys(value, map.top);
  const roles = new Map(map.roles);
  for (const k of map.lists) {
    const list = out[k];
    if (Array.isArray(list)) out[k] = list.map((m) => mapMessage(m, map, roles));
  }
  for (const k of map.singles) if (isObject(out[k])) out[k] = mapMessage(out[k], map, roles);
  return out;
}

const unescape = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');
const escape = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** A JSON Pointer into the mapped record, as a pointer into the record in the file. */
export function unmapPointer(pointer: string, map: RecordMapping): string {
  if (pointer === '') return pointer;
  const segs = pointer.slice(1).split('/').map(unescape);
  const back = (pairs: [string, string][], key: string): string =>
    pairs.find((p) => p[1] === key)?.[0] ?? key;
  const top = segs[0];
  segs[0] = back(map.top, top);
  if (map.lists.includes(top) && segs.length > 2) segs[2] = back(map.msg, segs[2]);
  else if (map.singles.includes(top) && segs.length > 1) segs[1] = back(map.msg, segs[1]);
  return '/' + segs.map(escape).join('/');
}

/** A record's JSON text read through `map` (the text as it is when it is not a JSON object). */
export function mapRecordText(text: string, map: RecordMapping): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return text;
  }
  return isObject(v) ? JSON.stringify(mapRecord(v, map)) : text;
}

/** What writing a record back through its entry needs besides the mapping (kept in its layout). */
export interface EntryLayout {
  readonly map: RecordMapping;
  /** Top-level keys the reading left out (see `renameKeys`), restored on writing, at their place. */
  readonly hidden?: Record<string, unknown>;
  /** The file's top-level key order, when there are hidden keys. */
  readonly keys?: string[];
}

const reversed = (pairs: [string, string][]): [string, string][] => pairs.map(([a, b]) => [b, a]);

function unmapMessage(m: unknown, map: RecordMapping, roles: Map<string, string>): unknown {
  if (!isObject(m)) return m;
  const role = m[map.roleKey];
  const out = renameKeys(m, reversed(map.msg));
  const back = map.msg.find((p) => p[1] === map.roleKey)?.[0] ?? map.roleKey;
  if (typeof role === 'string' && roles.has(role)) out[back] = roles.get(role);
  return out;
}

/**
 * The key of a message that `mapRecord` would leave out (it has the canonical name of a key the
 * entry renames, beside that key), as `list[i].key`; undefined when the reading keeps every key.
 * Writing such a record back through the entry would lose that key.
 */
export function messageKeyLost(value: Record<string, unknown>, map: RecordMapping): string | undefined {
  const sources = new Set(map.msg.map((p) => p[0]));
  const targets = map.msg.filter(([a, b]) => a !== b).map((p) => p[1]);
  if (targets.length === 0) return undefined;
  const top = new Map(map.top.map(([a, b]) => [b, a]));
  const check = (m: unknown, where: string): string | undefined => {
    if (!isObject(m)) return undefined;
    for (const t of targets) if (!sources.has(t) && Object.hasOwn(m, t)) return `${where}.${t}`;
    return undefined;
  };
  for (const k of map.lists) {
    const name = top.get(k) ?? k;
    const list = value[name];
    if (Array.isArray(list))
      for (let i = 0; i < list.length; i++) {
        const lost = check(list[i], `${name}[${i}]`);
        if (lost) return lost;
      }
  }
  for (const k of map.singles) {
    const lost = check(value[top.get(k) ?? k], top.get(k) ?? k);
    if (lost) return lost;
  }
  return undefined;
}

/** How `value` (a record in the file) is written back after `mapRecord`: its left-out keys. */
export function entryLayout(value: Record<string, unknown>, map: RecordMapping): EntryLayout {
  const sources = new Set(map.top.map((p) => p[0]));
  const targets = new Set(map.top.map((p) => p[1]));
  let hidden: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value))
    if (!sources.has(k) && targets.has(k)) setOwn((hidden ??= {}), k, v);
  return hidden ? { map, hidden, keys: Object.keys(value) } : { map };
}

/**
 * The inverse of `mapRecord`: a record in canonical names (as an adapter writes it) in the file's
 * names — columns, message keys and role tags as the entry names them, the keys the reading left
 * out restored at their place.
 */
export function unmapRecord(value: Record<string, unknown>, entry: EntryLayout): Record<string, unknown> {
  const map = entry.map;
  const out = renameKeys(value, reversed(map.top));
  const roles = new Map(reversed(map.roles));
  const fileName = (k: string): string => map.top.find((p) => p[1] === k)?.[0] ?? k;
  for (const k of map.lists) {
    const name = fileName(k);
    const list = out[name];
    if (Array.isArray(list)) out[name] = list.map((m) => unmapMessage(m, map, roles));
  }
  for (const k of map.singles) {
    const name = fileName(k);
    if (isObject(out[name])) out[name] = unmapMessage(out[name], map, roles);
  }
  if (!entry.hidden || !entry.keys) return out;
  const ordered: Record<string, unknown> = {};
  for (const k of entry.keys) {
    if (Object.hasOwn(out, k)) setOwn(ordered, k, out[k]);
    else if (Object.hasOwn(entry.hidden, k)) setOwn(ordered, k, entry.hidden[k]);
  }
  for (const [k, v] of Object.entries(out)) if (!Object.hasOwn(ordered, k)) setOwn(ordered, k, v);
  return ordered;
}
