import { newLayout, recordToLine } from '../formats';
import type { PreferencePair } from '../model';

export type PairFormat = 'trl' | 'openai-preference' | 'sharegpt-preference';

export const PAIR_FORMATS: readonly PairFormat[] = ['trl', 'openai-preference', 'sharegpt-preference'];

/** Formats whose consumers reject unknown keys: provenance goes to `<out>.provenance.jsonl`. */
export function needsSidecar(f: PairFormat): boolean {
  return f === 'openai-preference';
}

export function sidecarPath(out: string): string {
  return `${out}.provenance.jsonl`;
}

/**
 * One output line for a pair, and (for formats that reject extra keys) the provenance line for
 * the sidecar file, written in the same order.
 */
export function pairLines(pair: PreferencePair, f: PairFormat): { line: string; sidecar?: string } {
  const format = f === 'trl' ? 'trl-preference' : f;
  if (needsSidecar(f)) {
    const bare: PreferencePair = { ...pair, meta: {} };
    return { line: recordToLine(bare, newLayout(format)), sidecar: JSON.stringify(pair.meta) };
  }
  return { line: recordToLine(pair, newLayout(format)) };
}
