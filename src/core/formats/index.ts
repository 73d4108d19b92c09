/**
 * Dataset formats: read a JSONL record into the canonical model and remember how it was written,
 * write it back (only what changed differs), detect formats, convert between them.
 */
import type { FormatId, Sample } from '../model';
import { ADAPTERS, FormatError, type RecordLayout } from './adapters';
import { FORMATS, FORMAT_IDS } from './catalog';
import { detectRecordFormat } from './detect';
import {
  COMPACT_STYLE,
  detectStyle,
  JsonTooDeepError,
  locateJsonError,
  MAX_JSON_DEPTH,
  serializeLike,
  type LineStyle,
} from './json';
import { isObject } from './messages';
import { entryLayout, mapRecord, messageKeyLost, unmapRecord, type RecordMapping } from './recordMapping';

export type { RecordLayout } from './adapters';
export type { RecordMapping } from './recordMapping';
export type { LineStyle, JsonErrorLocation } from './json';
export type { ConvertOptions } from './convert';
export { FormatError } from './adapters';
export { convertSample, foreignRoles, isUnpairedFormat } from './convert';
export { UnpairedPairer } from './unpaired';
export { detectRecordFormat } from './detect';
export { FORMATS, FORMAT_IDS } from './catalog';
export { COMPACT_STYLE, detectStyle, JsonTooDeepError, locateJsonError, MAX_JSON_DEPTH, serializeLike };

export type ParseResult =
  | { ok: true; sample: Sample; layout: RecordLayout; value: unknown }
  | { ok: false; error: { message: string; line?: number; column: number }; value?: unknown };

export function isFormatId(s: string): s is FormatId {
  return Object.prototype.hasOwnProperty.call(FORMATS, s);
}

/**
 * Reads a parsed record. `format` forces a format; otherwise it is detected from the keys. With
 * `mapping` (a dataset_info.json entry's renames) the record is read through the entry, and its
 * layout writes it back in the file's own names.
 */
export function readRecord(
  value: unknown,
  format?: FormatId,
  mapping?: RecordMapping,
): { sample: Sample; layout: RecordLayout } | { error: string } {
  if (!isObject(value)) return { error: 'a record must be a JSON object' };
  if (mapping) {
    const lost = messageKeyLost(value, mapping);
    if (lost)
      return {
        error: `"${lost}" has the name the entry "${mapping.entry}" gives to another key of the message; rename it to read the record through the entry`,
      };
    const r = readRecord(mapRecord(value, mapping), format);
    return 'error' in r
      ? r
      : { sample: r.sample, layout: { ...r.layout, entry: entryLayout(value, mapping) } };
  }
  const f = format ?? detectRecordFormat(value);
  if (!f)
    return {
      error: `no known dataset format has this record's keys (${Object.keys(value).join(', ') || 'none'})`,
    };
  return ADAPTERS[f].read(value);
}

export interface ParseOptions {
  /**
   * false: the caller writes records compactly and does not need `layout.style`, whose pass over
   * the text is then skipped (the nesting is still checked). Default true.
   */
  style?: boolean;
  /** The renames of the record's dataset_info.json entry (see `readRecord`). */
  mapping?: RecordMapping;
}

/** Whether `text` has brackets enough ('{' and '[', in strings or not) to nest deeper than MAX_JSON_DEPTH. */
/** Whether `text` has brackets enough to be nested deeper than MAX_JSON_DEPTH (cheap: counts only). */
export function mayBeTooDeep(text: string): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0 && n <= MAX_JSON_DEPTH; i = text.indexOf('{', i + 1)) n++;
  for (let i = text.indexOf('['); i >= 0 && n <= MAX_JSON_DEPTH; i = text.indexOf('[', i + 1)) n++;
  return n > MAX_JSON_DEPTH;
}

/**
 * Parses one JSONL line. On a syntax error, `column` is the 1-based position (UTF-16 code units)
 * of the offending character within the line. A structurally wrong record (valid JSON) reports
 * column 1 and carries the parsed `value`.
 */
export function parseRecord(line: string, format?: FormatId, opts?: ParseOptions): ParseResult {
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  const shift = text.length === line.length ? 0 : 1;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const loc = locateJsonError(text);
    return {
      ok: false,
      error: loc
        ? { message: `invalid JSON: ${loc.message}`, column: loc.column + shift }
        : { message: `invalid JSON: ${e instanceof Error ? e.message : String(e)}`, column: 1 },
    };
  }
  // The style pass also checks the nesting, before anything else walks the value (readers and
  // writers recurse). Without the style, it runs only on a line with brackets enough to be too deep.
  let style: LineStyle | undefined;
  if (opts?.style !== false || mayBeTooDeep(text)) {
    try {
      style = detectStyle(text);
    } catch (e) {
      if (!(e instanceof JsonTooDeepError)) throw e;
      return { ok: false, error: { message: e.message, column: e.column + shift }, value };
    }
  }
  const r = readRecord(value, format, opts?.mapping);
  if ('error' in r) return { ok: false, error: { message: r.error, column: 1 }, value };
  // The line itself: what an edit does not change is written back with its original bytes.
  return {
    ok: true,
    sample: r.sample,
    layout:
      opts?.style === false || style === undefined
        ? r.layout
        : { ...r.layout, style: { ...style, source: text } },
    value,
  };
}

/** The record's JSON value in its layout's format. Throws FormatError when the sample does not fit the format. */
export function writeRecord(sample: Sample, layout: RecordLayout): unknown {
  const v = ADAPTERS[layout.format].write(sample, layout);
  return layout.entry ? unmapRecord(v, layout.entry) : v;
}

/** One JSONL line (without line ending) for the sample, serialised like the line it was read from. */
export function recordToLine(sample: Sample, layout: RecordLayout): string {
  return serializeLike(writeRecord(sample, layout), layout.style ?? COMPACT_STYLE);
}

/**
 * A layout for a record created from scratch: the format's usual key order and role names (under
 * the names of the dataset_info.json entry `mapping`, when given).
 */
export function newLayout(
  format: FormatId,
  style: LineStyle = COMPACT_STYLE,
  mapping?: RecordMapping,
): RecordLayout {
  return mapping ? { format, style, entry: { map: mapping } } : { format, style };
}

/**
 * The format of a file, from its first `sample` non-blank lines (default 200). `mixed` is true
 * when records of more than one format were seen; `format` is the most frequent one.
 */
export function detectFileFormat(
  lines: Iterable<string>,
  sample = 200,
): { format?: FormatId; counts: Partial<Record<FormatId, number>>; mixed: boolean } {
  const counts: Partial<Record<FormatId, number>> = {};
  let seen = 0;
  for (const raw of lines) {
    if (seen >= sample) break;
    const line = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    seen++;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    const f = detectRecordFormat(v);
    if (f) counts[f] = (counts[f] ?? 0) + 1;
  }
  let format: FormatId | undefined;
  for (const f of FORMAT_IDS) if ((counts[f] ?? 0) > (format ? (counts[format] ?? 0) : 0)) format = f;
  const result: { format?: FormatId; counts: Partial<Record<FormatId, number>>; mixed: boolean } = {
    counts,
    mixed: Object.keys(counts).length > 1,
  };
  if (format) result.format = format;
  return result;
}

/** Message for an error thrown by writeRecord/convertSample, or rethrows anything else. */
export function formatErrorMessage(e: unknown): string {
  if (e instanceof FormatError) return e.message;
  throw e;
}
