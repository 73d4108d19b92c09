/** How a dataset_info.json entry renames a record's keys and roles (see entryMapping.ts)): the renames as data and the
 * functions that apply them, light enough for the validation workers. */
import { isObject } from './messages';

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
    if (name !== undefined) out[name] = v;
    // A key the entry does not read, under a name a renamed one takes, is not read (LLaMA-Factory
    // reads only the entry's columns): left out.
    else if (!targets.has(k) && !(k in out)) out[k] = v;
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
