/**
 * Export of reviewed records (the extension's Export Reviewed Records…; the CLI's `parrot export`
 * runs the same selection through `parrot convert`): the records a selection keeps, in file order,
 * copied as they are or converted to another format with a report of what that format cannot hold.
 */
import { BatchedWriter } from '../batchedWriter';
import { convertSample, FormatError, parseRecord, serializeLike } from '../formats';
import type { FormatId } from '../model';
import { atomicWrite } from '../store/save';
import { recordIdentity } from './key';
import type { ReviewState } from './state';
import { selects, type ExportSelection } from './stats';

export interface ExportReport {
  /** Records looked at (non-blank lines). */
  records: number;
  kept: number;
  converted: number;
  /** `line` (1-based): what was lost converting it. */
  losses: { line: number; message: string }[];
  /** Kept lines that are not valid records or cannot be converted: left out. */
  invalid: { line: number; message: string }[];
  /** Kept records whose text changed since their decision (1-based lines). */
  changed: number[];
  /** Kept records with conflicting decisions (1-based lines). */
  conflicts: number[];
}

export interface ExportOptions {
  selection: ExportSelection;
  /** Target format; undefined keeps each record in its own format, byte for byte. */
  to?: FormatId;
  keepUnknown?: boolean;
}

/** `lines` are 1-based `{line, text}`; `write` gets each output line (without its line ending). */
export async function exportReviewed(
  lines: AsyncIterable<{ line: number; text: string }>,
  state: ReviewState,
  opts: ExportOptions,
  write: (text: string) => Promise<void> | void,
): Promise<ExportReport> {
  const r: ExportReport = {
    records: 0,
    kept: 0,
    converted: 0,
    losses: [],
    invalid: [],
    changed: [],
    conflicts: [],
  };
  for await (const { line, text } of lines) {
    if (text.trim() === '') continue;
    r.records++;
    const parsed = parseRecord(text);
    const e = state.effective(recordIdentity(text, parsed));
    if (!selects(opts.selection, e.status)) continue;
    if (!parsed.ok) {
      r.invalid.push({ line, message: parsed.error.message });
      continue;
    }
    let out = text;
    if (opts.to !== undefined && parsed.layout.format !== opts.to) {
      try {
        const c = convertSample(parsed.sample, opts.to, {
          keepUnknown: opts.keepUnknown === true,
          index: r.kept + 1,
        });
        out = serializeLike(c.value);
        r.converted++;
        for (const message of c.losses) r.losses.push({ line, message });
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
        r.invalid.push({ line, message: err.message });
        continue;
      }
    }
    r.kept++;
    if (e.changed) r.changed.push(line);
    if (e.conflicts.length) r.conflicts.push(line);
    await write(out);
  }
  return r;
}

/** `exportReviewed` into the file `out`, written atomically (temporary file, fsync, rename). */
export async function exportReviewedToFile(
  lines: AsyncIterable<{ line: number; text: string }>,
  state: ReviewState,
  opts: ExportOptions,
  out: string,
  signal?: AbortSignal,
): Promise<ExportReport> {
  return atomicWrite(out, undefined, signal, async (fh) => {
    const w = BatchedWriter.toFile(fh);
    const report = await exportReviewed(lines, state, opts, async (text) => {
      if (signal?.aborted) throw new Error('cancelled');
      const wrote = w.write(text + '\n');
      if (wrote) await wrote;
    });
    await w.flush();
    return report;
  });
}
