/**
 * Reading a record through its dataset_info.json entry: the entry's column names, message keys
 * (`role_tag`, `content_tag`) and role tags renamed to the names of the format family the entry
 * describes, so that the record is checked and counted as LLaMA-Factory reads it; and pointers into
 * the renamed record mapped back to the file's own keys, so that positions stay the file's.
 */
import * as path from 'node:path';
import { COLUMN_NAMES, type ColumnName, type DatasetAttr } from './datasetInfo';
import { findEntry } from './datasetInfoFiles';
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

/** The canonical name of each column, per formatting. */
function columnTarget(attr: DatasetAttr, c: ColumnName, openaiFamily: boolean): string | undefined {
  const given = attr.columns[c];
  switch (c) {
    case 'prompt':
      return attr.formatting === 'alpaca' ? 'instruction' : undefined;
    case 'query':
      return attr.formatting === 'alpaca' ? 'input' : undefined;
    case 'response':
      return attr.formatting === 'alpaca' ? 'output' : undefined;
    case 'history':
      return attr.formatting === 'alpaca' ? 'history' : undefined;
    case 'messages':
      return attr.formatting === 'alpaca' ? undefined : openaiFamily ? 'messages' : 'conversations';
    case 'chosen':
    case 'rejected':
      return attr.ranking ? c : undefined;
    case 'kto_tag':
      // Both names are read as the KTO label.
      return given === 'label' ? 'label' : 'kto_tag';
    default:
      return c;
  }
}

/**
 * The renames of an entry, or undefined when there are none (every name already the canonical
 * one): then records are read as they are, on the fast paths.
 */
export function mappingFor(attr: DatasetAttr, infoPath: string): RecordMapping | undefined {
  // An alpaca entry without a response (nor ranking answers) is a pre-training corpus (`prompt:
  // "text"`, as LLaMA-Factory's c4_demo): no dialogue format describes it; read as it is.
  if (attr.formatting === 'alpaca' && attr.columns.response === null && !attr.ranking) return undefined;
  const t = attr.tags;
  // role/content messages are read as OpenAI-style messages, others as ShareGPT ones.
  const openaiFamily = attr.formatting !== 'alpaca' && (t.role_tag === 'role' || t.content_tag === 'content');
  const top: [string, string][] = [];
  for (const c of COLUMN_NAMES) {
    const given = attr.columns[c];
    const to = columnTarget(attr, c, openaiFamily);
    if (given !== null && to !== undefined) top.push([given, to]);
  }
  const msg: [string, string][] = [];
  const roles: [string, string][] = [];
  let lists: string[] = [];
  let singles: string[] = [];
  const roleKey = openaiFamily ? 'role' : 'from';
  if (attr.formatting !== 'alpaca') {
    lists = [openaiFamily ? 'messages' : 'conversations'];
    if (attr.ranking) singles = ['chosen', 'rejected'];
    if (t.role_tag !== null) msg.push([t.role_tag, roleKey]);
    if (t.content_tag !== null) msg.push([t.content_tag, openaiFamily ? 'content' : 'value']);
    const targets: [string | null, string][] = openaiFamily
      ? [
          [t.user_tag, 'user'],
          [t.assistant_tag, 'assistant'],
          [t.system_tag, 'system'],
          [t.observation_tag, 'tool'],
          [t.function_tag, 'function_call'],
        ]
      : [
          [t.user_tag, 'human'],
          [t.assistant_tag, 'gpt'],
          [t.system_tag, 'system'],
          [t.observation_tag, 'observation'],
          [t.function_tag, 'function_call'],
        ];
    for (const [from, to] of targets) if (from !== null) roles.push([from, to]);
  }
  const renames = (pairs: [string, string][]): boolean => pairs.some(([a, b]) => a !== b);
  if (!renames(top) && !renames(msg) && !renames(roles)) return undefined;
  return { entry: attr.name, infoPath, top, lists, singles, msg, roleKey, roles };
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

/**
 * The mapping of the dataset_info.json entry that names `file` (beside it or in a folder above,
 * as LLaMA-Factory's `dataset_dir`), or undefined when there is no entry or it renames nothing.
 */
export async function entryMappingFor(file: string): Promise<RecordMapping | undefined> {
  if (path.basename(file) === 'dataset_info.json') return undefined;
  const found = await findEntry(file);
  return found ? mappingFor(found.attr, found.infoPath) : undefined;
}

/** The line the CLI prints when an entry was used. */
export function entryNote(entry: string, infoPath: string): string {
  return `read through entry "${entry}" of ${infoPath}`;
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
