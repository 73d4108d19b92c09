/**
 * Token counts with the o200k_base BPE (the GPT-4o family's tokenizer). Its ranks are ~2 MB of
 * JavaScript, so they are loaded on first use rather than when the extension or the CLI starts.
 */
import { PieceCounts } from './tokenPieces';

type Count = (text: string, opts?: { disallowedSpecial: Set<string> }) => number;

let count: Count | undefined;

/**
 * BPE merges within a pre-token cost time quadratic in its length (16 K letters without a space: 0.2 s, 64 K:
 * seconds; a 200 MB text of them: hours). Runs of non-space characters longer than LONG are
 * counted in pieces of PIECE characters, which can differ from the exact count by about one token
 * per piece; texts without such runs (natural language, code, tool calls) are counted exactly.
 */
const LONG = 16384;
const PIECE = 256;
const HAS_LONG_RUN = new RegExp(`\\S{${LONG + 1}}`);
const LONG_RUN = new RegExp(`\\S{${LONG + 1},}`, 'g');

/**
 * Special-token text (`<|endoftext|>`) in a dataset is text like any other: the fine-tuning APIs
 * encode it as ordinary characters, and so does the count (the library refuses it by default).
 */
const ORDINARY = { disallowedSpecial: new Set<string>() };

interface Api {
  countTokens: Count;
  setMergeCacheSize(size: number): void;
}

let api: Api | undefined;

function load(): (text: string) => number {
  // A require() rather than an import keeps the load lazy in the bundles (esbuild, CommonJS).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  api = require('gpt-tokenizer/encoding/o200k_base') as Api;
  const lib = api.countTokens;
  return (text) => (text.includes('<|') ? lib(text, ORDINARY) : lib(text));
}

let piecesOnly = false;

/**
 * Once texts are counted through cached pieces (countTokensCached), the library's own cache of
 * merged pre-tokens is turned off: the piece cache already holds what it would, and once full
 * (100,000 pre-tokens, which a large dataset with a wide vocabulary reaches) the library evicts by
 * deleting a Map's first key, which V8 finds by skipping every key deleted before it. Over a
 * 40 MB file of such text the overview took 29 s and added 227 MB with it, 6.1 s and 130 MB
 * without it (bench/overview.bench.ts --child). Plain countTokens then runs without it too, about
 * 13% slower on text that repeats.
 */
function countPiecesOnly(): void {
  piecesOnly = true;
  count ??= load();
  api?.setMergeCacheSize(0);
}

export function countTokens(text: string): number {
  count ??= load();
  const c = count;
  if (text.length <= LONG || !HAS_LONG_RUN.test(text)) return c(text);
  let n = 0;
  let at = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > at) n += c(text.slice(at, m.index));
    const end = m.index + m[0].length;
    // Through the piece cache: such runs often repeat their pieces (a character run, padding), and
    // the library's own cache of merged pre-tokens is off once countTokensCached has been used.
    for (let i = m.index; i < end; i += PIECE) n += pieces.get(text, i, Math.min(i + PIECE, end));
    at = end;
  }
  if (at < text.length) n += c(text.slice(at));
  return n;
}

/** Counts of text pieces seen before (see countTokensCached); emptied when it reaches MAX_CACHED. */
const MAX_CACHED = 1 << 18;
const pieces = new PieceCounts(MAX_CACHED, (piece) => countTokens(piece));

/** Longer pieces are counted without the cache (which would hold their text). */
const MAX_CACHED_LENGTH = 256;

/** The count of text[from, to), from the cache when it is short. */
function cachedPiece(text: string, from: number, to: number): number {
  if (to - from > MAX_CACHED_LENGTH)
    return countTokens(from === 0 && to === text.length ? text : text.slice(from, to));
  return pieces.get(text, from, to);
}

/** Whether a UTF-16 unit is whitespace as the pre-tokenizer's `\s` (JavaScript's) has it. */
function isSpace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * The same count as countTokens, faster on natural language: the text is cut before each space
 * that follows a character other than whitespace, and the pieces' counts are cached (words
 * and their punctuation repeat, as do whole texts without such a space, e.g. Chinese sentences).
 * Exact: o200k's pre-tokenizer never puts such a character and the space after it in one
 * pre-token (a space only ever starts a pre-token or belongs to a run of whitespace), so the pieces
 * split exactly where pre-tokens do, and BPE works within a pre-token. Texts with a run that
 * countTokens cuts into pieces of its own go to it whole.
 */
export function countTokensCached(text: string): number {
  if (!piecesOnly) countPiecesOnly();
  if (text.length > LONG && HAS_LONG_RUN.test(text)) return countTokens(text);
  let n = 0;
  let from = 0;
  for (let i = text.indexOf(' ', 1); i >= 0; i = text.indexOf(' ', i + 1)) {
    if (isSpace(text.charCodeAt(i - 1))) continue;
    n += cachedPiece(text, from, i);
    from = i;
  }
  return n + cachedPiece(text, from, text.length);
}
