import { promises as fsp } from 'node:fs';
import { needsSidecar, pairLines, sidecarPath, type PairFormat } from '../parrot/writers';
import type { JobState } from './job';

/**
 * Writes the preference pairs of a finished CaPO job, one line each, to `writeTo` (by default
 * `outFile` itself; a temporary file the caller renames later works too). Formats whose consumers
 * reject extra keys get their provenance in the sidecar of `outFile`, in the same order.
 * Returns the number of pairs written.
 */
export async function writeJobPairs(
  s: JobState,
  format: PairFormat,
  outFile: string,
  writeTo = outFile,
): Promise<number> {
  const lines: string[] = [];
  const side: string[] = [];
  for (const r of s.capo ?? [])
    for (const t of r.targets)
      if (t.pair) {
        const l = pairLines(t.pair, format);
        lines.push(l.line);
        if (l.sidecar) side.push(l.sidecar);
      }
  await fsp.writeFile(writeTo, lines.map((l) => `${l}\n`).join(''));
  if (needsSidecar(format)) await fsp.writeFile(sidecarPath(outFile), side.map((l) => `${l}\n`).join(''));
  return lines.length;
}
