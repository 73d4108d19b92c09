/**
 * Filters and text/regex search over a whole dataset, streamed through the store in chunks so that
 * memory stays small whatever the file size. No `vscode` import.
 */
import { contentText, type Sample } from '../../core/model';
import type { Query, QueryHit } from '../../protocol';
import type { RecordMapping } from '../../core/formats';
import type { ProblemCheck } from './problems';
import { editorMessages, formatOf, quickParse, rolesOf, turnCount } from './records';

const CHUNK_LINES = 2000;
const SNIPPET_RADIUS = 50;
/** Matches beyond this many get no snippet (the list still shows them). */
const MAX_SNIPPETS = 10_000;

export interface LineSource {
  readonly lineCount: number;
  readonly isIndexing: boolean;
  readLines(start: number, count: number): Promise<string[]>;
  /** The records' own validation problems, for Invalid only and Has problems. */
  readonly problems?: ProblemCheck;
  /** The renames of the file's dataset_info.json entry, through which records are read. */
  readonly mapping?: RecordMapping;
}

export interface QueryProgress {
  hits: QueryHit[];
  scanned: number;
  total: number;
}

export interface QueryOutcome {
  matched: number;
  scanned: number;
  cancelled: boolean;
}

type TextTest = (text: string) => number | undefined;

/** Builds the text test of a query; throws a readable error for an invalid regular expression. */
export function compileText(q: Query): TextTest | undefined {
  const text = q.text ?? '';
  if (text === '') return undefined;
  if (q.regex) {
    let re: RegExp;
    try {
      re = new RegExp(text, q.caseSensitive ? 'u' : 'iu');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // V8 starts its message with the same words as ours: say them once.
      throw new Error(editorMessages.invalidRegex(message.replace(/^Invalid regular expression:\s*/i, '')));
    }
    return (s) => {
      const m = re.exec(s);
      return m ? m.index : undefined;
    };
  }
  if (q.caseSensitive) return (s) => (s.includes(text) ? s.indexOf(text) : undefined);
  const needle = text.toLowerCase();
  return (s) => {
    const i = s.toLowerCase().indexOf(needle);
    return i >= 0 ? i : undefined;
  };
}

/** Texts of a record that search looks at, in display order. */
function searchableTexts(sample: Sample): string[] {
  const out: string[] = [];
  if (sample.id !== undefined) out.push(String(sample.id));
  if (sample.system !== undefined) out.push(sample.system);
  const lists = sample.kind === 'dialogue' ? [sample.turns] : [sample.prompt, sample.chosen, sample.rejected];
  for (const list of lists) for (const t of list) out.push(contentText(t.content));
  return out;
}

function snippet(text: string, at: number): string {
  const start = Math.max(0, at - SNIPPET_RADIUS);
  const end = Math.min(text.length, at + SNIPPET_RADIUS * 2);
  return (
    (start > 0 ? '…' : '') + text.slice(start, end).replace(/\s+/g, ' ') + (end < text.length ? '…' : '')
  );
}

/**
 * A raw-line prefilter for plain, case-insensitive-safe needles: a record can only contain the
 * needle in a string if the raw line does, unless the needle has characters JSON may escape.
 */
function rawPrefilter(q: Query): ((line: string) => boolean) | undefined {
  const text = q.text ?? '';
  if (text === '' || q.regex || !/^[\x20-\x7e]+$/.test(text) || /["\\/]/.test(text)) return undefined;
  if (q.caseSensitive) return (line) => line.includes(text);
  const re = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
  return (line) => re.test(line);
}

function needsParse(q: Query): boolean {
  return Boolean(
    q.text ||
    q.invalidOnly ||
    q.problems ||
    q.minTurns !== undefined ||
    q.maxTurns !== undefined ||
    q.role ||
    q.format,
  );
}

/** Whether one line matches; returns its hit or undefined. */
export function matchLine(
  line: number,
  text: string,
  q: Query,
  test: TextTest | undefined,
  pre?: (l: string) => boolean,
  check?: ProblemCheck,
  mapping?: RecordMapping,
): QueryHit | undefined {
  if (!needsParse(q)) return { line };
  if (pre && !pre(text)) return undefined;
  const parsed = quickParse(text, mapping);
  if (!parsed.ok) {
    if (q.minTurns !== undefined && q.minTurns > 0) return undefined;
    if (q.role || q.format) return undefined;
    if (test) {
      const at = test(text);
      return at === undefined ? undefined : { line, snippet: snippet(text, at) };
    }
    return { line };
  }
  if (q.invalidOnly || q.problems) {
    // A record that parses is invalid when its own rules find an error; Has problems takes warnings too.
    const p = check?.(text, line);
    if (!p || (q.invalidOnly && p.errors === 0) || p.errors + p.warnings === 0) return undefined;
  }
  const sample = parsed.sample;
  const n = turnCount(sample);
  if (q.minTurns !== undefined && n < q.minTurns) return undefined;
  if (q.maxTurns !== undefined && n > q.maxTurns) return undefined;
  if (q.role && !rolesOf(sample).has(q.role)) return undefined;
  if (q.format && formatOf(parsed) !== q.format) return undefined;
  if (!test) return { line };
  for (const t of searchableTexts(sample)) {
    const at = test(t);
    if (at !== undefined) return { line, snippet: snippet(t, at) };
  }
  return undefined;
}

/**
 * Runs a query over every line (including lines indexed while it runs), reporting hits in batches.
 * Stops early when `signal` is aborted.
 */
export async function runQuery(
  source: LineSource,
  q: Query,
  signal: AbortSignal,
  onProgress: (p: QueryProgress) => void,
  batchMs = 120,
  /** A further test of each line (the review filters), before the query's own. */
  keep?: (line: number, text: string) => boolean,
): Promise<QueryOutcome> {
  const test = compileText(q);
  const pre = rawPrefilter(q);
  let scanned = 0;
  let matched = 0;
  let pending: QueryHit[] = [];
  let last = Date.now();
  const flush = (): void => {
    onProgress({ hits: pending, scanned, total: source.lineCount });
    pending = [];
    last = Date.now();
  };
  for (;;) {
    if (signal.aborted) break;
    const total = source.lineCount;
    if (scanned >= total) {
      if (!source.isIndexing) break;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const count = Math.min(CHUNK_LINES, total - scanned);
    const lines = await source.readLines(scanned, count);
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i] ?? '';
      const hit =
        keep && !keep(scanned + i, text)
          ? undefined
          : matchLine(scanned + i, text, q, test, pre, source.problems, source.mapping);
      if (hit) {
        if (matched >= MAX_SNIPPETS) delete hit.snippet;
        pending.push(hit);
        matched++;
      }
    }
    scanned += lines.length;
    if (lines.length === 0) break;
    if (Date.now() - last >= batchMs) flush();
    // Let other messages (cancel, paging) through between chunks.
    await new Promise((r) => setImmediate(r));
  }
  flush();
  return { matched, scanned, cancelled: signal.aborted };
}
