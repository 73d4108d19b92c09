import { extname } from 'node:path';
import { jsonArrayContainer } from './jsonArray';
import { jsonlContainer } from './jsonl';
import type { Container, ContainerKind } from './types';

export type { Container, ContainerKind } from './types';
export { JsonArrayError } from './scanJsonArray';

/** The container of `kind`. */
export function containerOf(kind: ContainerKind): Container {
  return kind === 'json-array' ? jsonArrayContainer : jsonlContainer;
}

/**
 * Whether the first characters of a file are those of a JSON array of records: `[` and then `{`
 * (whitespace and a BOM allowed). Cheap: only the start is looked at, so a config object or an
 * array of numbers is told apart from a dataset without reading the file.
 */
export function looksLikeRecordArray(head: string): boolean {
  return /^\uFEFF?[ \t\r\n]*\[[ \t\r\n]*\{/.test(head);
}

/** The container a file is read with, by its name: `.json` is a JSON array, anything else JSON Lines. */
export function containerKindFor(path: string): ContainerKind {
  return extname(path).toLowerCase() === '.json' ? 'json-array' : 'jsonl';
}
