/**
 * Token counts with the o200k_base BPE (the GPT-4o family's tokenizer). Its ranks are ~2 MB of
 * JavaScript, so they are loaded on first use rather than when the extension or the CLI starts.
 */
type Count = (text: string) => number;

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

export function countTokens(text: string): number {
  // A require() rather than an import keeps the load lazy in the bundles (esbuild, CommonJS).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  count ??= (require('gpt-tokenizer/encoding/o200k_base') as { countTokens: Count }).countTokens;
  const c = count;
  if (text.length <= LONG || !HAS_LONG_RUN.test(text)) return c(text);
  let n = 0;
  let at = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > at) n += c(text.slice(at, m.index));
    const end = m.index + m[0].length;
    for (let i = m.index; i < end; i += PIECE) n += c(text.slice(i, Math.min(i + PIECE, end)));
    at = end;
  }
  if (at < text.length) n += c(text.slice(at));
  return n;
}
