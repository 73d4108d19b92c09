/**
 * Validation of a JSON array file (`.json`): the elements are the records. Each is checked as its
 * text (the same checks as a JSONL line), and every position is mapped back to the file's own line
 * and column, records spanning many lines included.
 */
import { open, stat } from 'node:fs/promises';
import { JsonArrayError } from '../store/containers';
import { positionIn, readFileRecords, type FileRecord } from '../store/records';
import { Column } from './column';
import { CrossState } from './cross';
import { RecordChecker, resolveCrossSpan } from './record';
import { FORMAT_IDS } from './schemas';
import type { Diagnostic, ValidateOptions } from './types';
import { byPosition, publicDiagnostic } from './validator';

export interface ArrayValidateResult {
  diagnostics: Diagnostic[];
  total: number;
  errors: number;
  /** Records (elements) checked. */
  lines: number;
  format?: (typeof FORMAT_IDS)[number];
}

/** A diagnostic at offsets of a record's text, moved to the file's lines and columns (0-based). */
function mapped(r: Pick<FileRecord, 'line' | 'column' | 'text'>, d: Diagnostic): Diagnostic {
  const a = positionIn(r, d.startCol);
  const b = positionIn(r, d.endCol);
  const out: Diagnostic = { ...d, line: a.line - 1, startCol: a.column - 1, endCol: b.column - 1 };
  if (b.line !== a.line) out.endLine = b.line - 1;
  else delete out.endLine;
  return out;
}

export async function validateArrayFile(
  path: string,
  opts: ValidateOptions & { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  maxDiagnostics: number,
): Promise<ArrayValidateResult> {
  const checker = new RecordChecker(opts, 'full');
  const cross = new CrossState(checker.sev, maxDiagnostics, opts.format === undefined, false);
  const size = (await stat(path)).size;
  const kept: Diagnostic[] = [];
  let total = 0;
  let errors = 0;
  let records = 0;
  const counts = FORMAT_IDS.map(() => 0);
  // Where each record is, for the cross-record diagnostics (found once all records are read).
  const starts = new Column((n) => new Float64Array(n));
  const ends = new Column((n) => new Float64Array(n));
  const columns = new Column((n) => new Float64Array(n));
  const byLine = new Map<number, number>();
  const report = (d: Diagnostic): void => {
    total++;
    if (d.severity === 'error') errors++;
    if (kept.length < maxDiagnostics) kept.push(d);
  };
  try {
    for await (const r of readFileRecords(path)) {
      if (opts.signal?.aborted) throw new Error('validation was cancelled');
      records++;
      const res = checker.check(r.text, r.index + 1);
      for (const d of res.diagnostics) report(mapped(r, d));
      if (r.encoding && checker.sev.get('json/encoding') !== 'off') {
        const p = positionIn(r, r.encoding.column);
        report({
          line: p.line - 1,
          startCol: p.column - 1,
          endCol: p.column,
          severity: checker.sev.get('json/encoding') as Diagnostic['severity'],
          code: 'json/encoding',
          message: r.encoding.message,
        });
      }
      if (res.facts) {
        if (res.facts.format >= 0) counts[res.facts.format]++;
        byLine.set(r.line - 1, starts.length);
        starts.push(r.offset);
        ends.push(r.offset + r.raw.length);
        columns.push(r.column);
        cross.add(r.line - 1, res.facts, r.offset);
      }
      opts.onProgress?.(r.bytes, size);
    }
  } catch (err) {
    if (err instanceof JsonArrayError) {
      // The file is not a JSON array (of records): one error where it goes wrong, nothing else.
      const d: Diagnostic = {
        line: err.line,
        startCol: err.column,
        endCol: err.column + 1,
        severity: 'error',
        code: 'json/syntax',
        message: err.reason,
      };
      return { diagnostics: [d], total: 1, errors: 1, lines: records };
    }
    throw err;
  }
  cross.finish();
  const startCol = columns.done();
  const startOff = starts.done();
  const endOff = ends.done();
  const fh = await open(path, 'r');
  const crossDiags: Diagnostic[] = [];
  try {
    for (const p of cross.out) {
      const k = byLine.get(p.line);
      if (k === undefined) {
        crossDiags.push(publicDiagnostic(p));
        continue;
      }
      const len = endOff[k] - startOff[k];
      const b = Buffer.allocUnsafe(len);
      await fh.read(b, 0, len, startOff[k]);
      const text = b.toString('utf8');
      const span = resolveCrossSpan(text, 1, p.target, p.format, checker.opts.mapping);
      crossDiags.push(mapped({ line: p.line + 1, column: startCol[k], text }, publicDiagnostic(p, span)));
    }
  } finally {
    await fh.close();
  }
  total += cross.total;
  errors += cross.errors;
  let best = -1;
  counts.forEach((n, i) => {
    if (n > 0 && (best < 0 || n > counts[best])) best = i;
  });
  opts.onProgress?.(size, size);
  return {
    diagnostics: kept.concat(crossDiags).sort(byPosition).slice(0, maxDiagnostics),
    total,
    errors,
    lines: records,
    format: opts.format ?? (best < 0 ? undefined : FORMAT_IDS[best]),
  };
}
