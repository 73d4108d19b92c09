/**
 * The record's own validation problems for the dialogue editor's list: the per-record rules of
 * `parrot validate` (schema, roles, empty content, last turn, preference checks), with the
 * severities the settings give them. Cross-record rules (duplicates, content type drift, mixed
 * formats) need the whole file and are reported in the Problems panel only. No `vscode` import.
 */
import type { ValidateOptions } from '../../core/validate';
import { RecordChecker } from '../../core/validate/record';

export interface ProblemCounts {
  errors: number;
  warnings: number;
}

/** Counts the errors and warnings of one line (0-based number, text without its line ending). */
export type ProblemCheck = (text: string, line: number) => ProblemCounts;

/** A check with `opts` (undefined when its custom schema cannot be read: the list then has no counts). */
export function problemCheck(opts: ValidateOptions): ProblemCheck | undefined {
  let checker: RecordChecker;
  try {
    checker = new RecordChecker(opts);
  } catch {
    return undefined;
  }
  return (text, line) => {
    const counts = { errors: 0, warnings: 0 };
    for (const d of checker.check(text, line).diagnostics) {
      if (d.severity === 'error') counts.errors++;
      else if (d.severity === 'warning') counts.warnings++;
    }
    return counts;
  };
}
