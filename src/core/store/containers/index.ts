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

/** The container a file is read with, by its name: `.json` is a JSON array, anything else JSON Lines. */
export function containerKindFor(path: string): ContainerKind {
  return extname(path).toLowerCase() === '.json' ? 'json-array' : 'jsonl';
}
