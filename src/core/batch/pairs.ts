import { BatchedWriter } from '../batchedWriter';
import type { PreferencePair } from '../model';
import { buildCapoRequest, makePair } from '../parrot/capo';
import { needsSidecar, pairLines, sidecarPath, type PairFormat } from '../parrot/writers';
import { atomicWrite } from '../store/save';
import { evalSessionResult, questionOf } from './evalJob';
import { capoSettings, jobReferences, type JobState } from './job';
import { sourceRecords } from './source';

/**
 * The preference pairs of a CaPO job's imported targets, in source order: built from the source,
 * read again (streamed), and the rejected answers the job kept.
 */
export async function* jobPairs(s: JobState): AsyncGenerator<PreferencePair> {
  const cs = capoSettings(s.settings);
  const recs = s.capo ?? [];
  for await (const it of sourceRecords(s.source, recs, (r) =>
    r.targets.some((t) => t.rejected !== undefined),
  )) {
    if (!it.ok) throw new Error(it.error);
    const d = it.parsed.sample;
    if (d.kind !== 'dialogue')
      throw new Error(`${s.source}:${it.entry.record}: the record is not a dialogue`);
    for (const t of it.entry.targets) {
      if (t.rejected === undefined) continue;
      const req = buildCapoRequest(t.strategy, d, t.turn, cs);
      yield makePair(
        d,
        t.turn,
        req,
        t.rejected,
        { file: s.sourceName ?? s.source, record: it.entry.record },
        t.created ? new Date(t.created) : undefined,
      );
    }
  }
}

/**
 * Writes the preference pairs of a finished CaPO job (`jobPairs`), one line each, to `writeTo` (by
 * default `outFile` itself; a temporary file the caller renames later works too), atomically.
 * Formats whose consumers reject extra keys get their provenance in the sidecar of `outFile`, in
 * the same order, written together with the pairs. Returns the number of pairs written.
 */
export async function writeJobPairs(
  s: JobState,
  format: PairFormat,
  outFile: string,
  writeTo = outFile,
): Promise<number> {
  let n = 0;
  const write = async (side: BatchedWriter | undefined): Promise<void> => {
    await atomicWrite(writeTo, undefined, undefined, async (fh) => {
      const w = BatchedWriter.toFile(fh);
      for await (const pair of jobPairs(s)) {
        const l = pairLines(pair, format);
        const a = w.write(`${l.line}\n`);
        if (a) await a;
        if (side && l.sidecar) {
          const b = side.write(`${l.sidecar}\n`);
          if (b) await b;
        }
        n++;
      }
      await w.flush();
      await side?.flush();
    });
  };
  if (!needsSidecar(format)) await write(undefined);
  else
    await atomicWrite(sidecarPath(outFile), undefined, undefined, async (sfh) => {
      await write(BatchedWriter.toFile(sfh));
    });
  return n;
}

/**
 * Writes a finished eval job's results, one line per session in input order, exactly as a live
 * `parrot eval` run writes them (questions read again from the source, streamed), atomically.
 */
export async function writeEvalResults(s: JobState, outFile: string): Promise<number> {
  const es = s.settings.eval;
  if (!es) throw new Error('the job has no eval settings');
  const refs = await jobReferences(s);
  let n = 0;
  await atomicWrite(outFile, undefined, undefined, async (fh) => {
    const w = BatchedWriter.toFile(fh);
    for await (const it of sourceRecords(s.source, s.eval ?? [])) {
      const q = it.ok ? questionOf(it.parsed.value) : it.error;
      if (typeof q === 'string') throw new Error(q);
      const a = w.write(`${JSON.stringify(evalSessionResult(it.entry, q, es, refs))}\n`);
      if (a) await a;
      n++;
    }
    await w.flush();
  });
  return n;
}
