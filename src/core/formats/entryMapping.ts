/**
 * Reading a record through its dataset_info.json entry: the entry's column names, message keys
 * (`role_tag`, `content_tag`) and role tags renamed to the names of the format family the entry
 * describes, so that the record is checked and counted as LLaMA-Factory reads it; and pointers into
 * the renamed record mapped back to the file's own keys, so that positions stay the file's.
 */
import * as path from 'node:path';
import { COLUMN_NAMES, type ColumnName, type DatasetAttr } from './datasetInfo';
import { findEntry } from './datasetInfoFiles';
import { mapRecord, mapRecordText, unmapPointer, type RecordMapping } from './recordMapping';

export { mapRecord, mapRecordText, unmapPointer, type RecordMapping };

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
