/**
 * Provenance kept beside a dataset: `openai-preference` lines cannot hold extra keys, so CaPO writes
 * each pair's meta to `<file>.provenance.jsonl`, one line per pair in the same order
 * (core/parrot/writers.ts). The review matches those lines to records by position, which holds only
 * while the file has as many records as the side file has lines (the stats check it).
 */
import { readFileLines, isBlankLine } from '../stats/lines';
import { provenanceOf } from './key';
import type { Provenance } from './types';

export function sideProvenancePath(file: string): string {
  return `${file}.provenance.jsonl`;
}

export interface SideProvenance {
  path: string;
  /** One entry per line of the side file (undefined: the line holds no strategy or model). */
  entries: (Provenance | undefined)[];
}

/** The side file of `file`, or undefined when there is none. Unparsable lines count as lines without provenance. */
export async function readSideProvenance(file: string): Promise<SideProvenance | undefined> {
  const path = sideProvenancePath(file);
  const entries: (Provenance | undefined)[] = [];
  try {
    for await (const l of readFileLines(path)) {
      if (!l.encoding && isBlankLine(l.text)) continue;
      if (l.encoding) {
        entries.push(undefined);
        continue;
      }
      let v: unknown;
      try {
        v = JSON.parse(l.text);
      } catch {
        v = undefined;
      }
      entries.push(provenanceOf(v));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return { path, entries };
}
