import { CrossState, type PendingDiagnostic } from './cross';
import { RecordChecker, resolveCrossSpan } from './record';
import { FORMAT_IDS } from './schemas';
import type { FormatId } from '../model';
import type { Diagnostic, ValidateOptions } from './types';

export function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (
    a.line - b.line ||
    a.startCol - b.startCol ||
    a.endCol - b.endCol ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}

/** Strips the bookkeeping fields of a pending cross-record diagnostic. */
export function publicDiagnostic(p: PendingDiagnostic, span?: { start: number; end: number }): Diagnostic {
  return {
    line: p.line,
    startCol: span ? span.start : p.startCol,
    endCol: span ? span.end : p.endCol,
    severity: p.severity,
    code: p.code,
    message: p.message,
  };
}

/**
 * Validates a file record by record: `validateLine` for each line in order (per-record checks),
 * then `finish` once (cross-record rules). Schemas are compiled once per process.
 */
export class RecordValidator {
  private readonly checker: RecordChecker;
  private readonly cross: CrossState;
  private readonly formatCounts = FORMAT_IDS.map(() => 0);

  constructor(opts: ValidateOptions) {
    this.checker = new RecordChecker(opts);
    this.cross = new CrossState(
      this.checker.sev,
      opts.maxDiagnostics ?? Number.POSITIVE_INFINITY,
      opts.format === undefined,
      false,
      opts.positionUnit,
    );
  }

  /** Per-record diagnostics of one line (0-based line number, text without its line ending). */
  validateLine(text: string, line: number): Diagnostic[] {
    const r = this.checker.check(text, line);
    if (r.facts) {
      if (r.facts.format >= 0) this.formatCounts[r.facts.format]++;
      const before = this.cross.out.length;
      this.cross.add(line, r.facts, line);
      // Exact spans of new cross-record diagnostics, while the line's text is at hand.
      for (let i = before; i < this.cross.out.length; i++) {
        const p = this.cross.out[i];
        const span = resolveCrossSpan(text, p.line, p.target, p.format, this.checker.opts.mapping);
        if (span) {
          p.startCol = span.start;
          p.endCol = span.end;
        }
      }
    }
    return r.diagnostics;
  }

  /** Cross-record diagnostics (duplicates, content type drift, mixed formats), in line order. */
  finish(): Diagnostic[] {
    this.cross.finish();
    return this.cross.out.map((p) => publicDiagnostic(p)).sort(byPosition);
  }

  /** How many cross-record diagnostics were produced, including those past maxDiagnostics. */
  get crossTotal(): number {
    return this.cross.total;
  }

  /** How many of the cross-record diagnostics were errors, including those past maxDiagnostics. */
  get crossErrors(): number {
    return this.cross.errors;
  }

  /** The format of most records validated so far. */
  majorFormat(): FormatId | undefined {
    return majorFormatOf(this.formatCounts);
  }
}

/** The format with the most records, from counts indexed as FORMAT_IDS. */
export function majorFormatOf(counts: readonly number[]): FormatId | undefined {
  let best = -1;
  counts.forEach((n, i) => {
    if (n > 0 && (best < 0 || n > counts[best])) best = i;
  });
  return best < 0 ? undefined : FORMAT_IDS[best];
}

/** Validates a whole text (small files, editor buffers). */
export function validateText(text: string, opts: ValidateOptions = {}): Diagnostic[] {
  const v = new RecordValidator({ ...opts, maxDiagnostics: undefined });
  const out: Diagnostic[] = [];
  let line = 0;
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) for (const d of v.validateLine(text.slice(start), line)) out.push(d);
      break;
    }
    for (const d of v.validateLine(text.slice(start, nl), line)) out.push(d);
    line++;
    start = nl + 1;
  }
  for (const d of v.finish()) out.push(d);
  out.sort(byPosition);
  return opts.maxDiagnostics !== undefined ? out.slice(0, opts.maxDiagnostics) : out;
}
