/**
 * A batch job keeps no dataset text in its state: each record is named by its position (the
 * 1-based line it starts on) and a hash of its text. Every step that needs the records (writing a
 * round's requests, importing its results, writing the finished output) streams the source once,
 * in order, and picks the records it needs by position; memory stays flat in the size of the input.
 */
import { createHash } from 'node:crypto';
import { parseRecord, type ParseResult } from '../formats';
import { entryMappingFor } from '../formats/entryMapping';
import { jsonlText, readFileRecords, where } from '../store/records';

/** How a job names one source record. */
export interface SourceRef {
  /** 1-based line the record starts on (a JSONL line number). */
  record: number;
  /** `recordHash` of the record's text when the job was created. */
  hash: string;
}

/** A short, collision-resistant fingerprint of a record's text (a changed record is detected). */
export function recordHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 22);
}

export type SourceItem<T> =
  { entry: T; ok: true; parsed: Extract<ParseResult, { ok: true }> } | { entry: T; ok: false; error: string };

/**
 * Streams `source` and yields, in record order, each of `entries` (sorted by record) that `want`
 * selects, parsed; a record that changed since the job was made, or is no longer there, is yielded
 * as an error with its position. One record is held at a time.
 */
export async function* sourceRecords<T extends SourceRef>(
  source: string,
  entries: readonly T[],
  want: (e: T) => boolean = () => true,
): AsyncGenerator<SourceItem<T>> {
  let i = 0;
  const skip = (): void => {
    while (i < entries.length && !want(entries[i])) i++;
  };
  skip();
  if (i >= entries.length) return;
  // Read through the source's dataset_info.json entry (as the job was exported).
  const mapping = await entryMappingFor(source);
  for await (const rec of readFileRecords(source)) {
    while (i < entries.length && entries[i].record < rec.line) {
      yield { entry: entries[i], ok: false, error: `${source}:${entries[i].record}: not found` };
      i++;
      skip();
    }
    if (i >= entries.length) return;
    const e = entries[i];
    if (e.record !== rec.line) continue;
    i++;
    skip();
    if (recordHash(rec.text) !== e.hash) {
      yield {
        entry: e,
        ok: false,
        error: `${where(source, rec)}: the record changed since the job was exported`,
      };
    } else {
      const parsed = parseRecord(jsonlText(rec), undefined, { mapping });
      if (parsed.ok) yield { entry: e, ok: true, parsed };
      else
        yield {
          entry: e,
          ok: false,
          error: `${where(source, rec, parsed.error.column - 1)}: ${parsed.error.message}`,
        };
    }
    if (i >= entries.length) return;
  }
  for (; i < entries.length; i++)
    if (want(entries[i]))
      yield {
        entry: entries[i],
        ok: false,
        error: `${source}:${entries[i].record}: not found (the file is shorter)`,
      };
}
