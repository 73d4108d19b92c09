/**
 * Token counts with the o200k_base BPE (the GPT-4o family's tokenizer). Its ranks are ~2 MB of
 * JavaScript, so they are loaded on first use rather than when the extension or the CLI starts.
 */
type Count = (text: string) => number;

let count: Count | undefined;

export function countTokens(text: string): number {
  // A require() rather than an import keeps the load lazy in the bundles (esbuild, CommonJS).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  count ??= (require('gpt-tokenizer/encoding/o200k_base') as { countTokens: Count }).countTokens;
  return count(text);
}
