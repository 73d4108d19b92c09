/**
 * Validation of records streamed in order from any source (a Parquet file's rows, as JSON lines):
 * in this thread, per-record checks then the cross-record rules. Diagnostic `line`s are the
 * 0-based record (row) numbers; columns point into each record's JSON text.
 */
import type { FileLine } from '../stats/lines';
import type { ValidateOptions } from './types';
import { DEFAULT_MAX_DIAGNOSTICS, type ValidateFileResult } from './file';
import { byPosition, RecordValidator } from './validator';

export async function validateRecords(
  records: AsyncIterable<FileLine>,
  opts: ValidateOptions & { signal?: AbortSignal; onProgress?: (bytesDone: number) => void } = {},
): Promise<ValidateFileResult> {
  const { signal, onProgress, ...vopts } = opts;
  const max = vopts.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS;
  const v = new RecordValidator({ ...vopts, maxDiagnostics: max });
  const kept: ValidateFileResult['diagnostics'] = [];
  let total = 0;
  let errors = 0;
  let n = 0;
  for await (const r of records) {
    if (signal?.aborted) throw new Error('validation was cancelled');
    for (const d of v.validateLine(r.text, r.line - 1)) {
      total++;
      if (d.severity === 'error') errors++;
      if (kept.length < max) kept.push(d);
    }
    n++;
    onProgress?.(r.bytes);
  }
  const cross = v.finish();
  return {
    diagnostics: kept.concat(cross).sort(byPosition).slice(0, max),
    total: total + v.crossTotal,
    errors: errors + v.crossErrors,
    lines: n,
    format: vopts.format ?? v.majorFormat(),
  };
}
