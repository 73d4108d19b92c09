import * as assert from 'node:assert/strict';
import { GptEncoding } from 'gpt-tokenizer/GptEncoding';
import o200kRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import * as path from 'node:path';
import { countTokensCached } from '../../../src/core/tokens';
import { fixtureStrings } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';

const ROOT = path.resolve(__dirname, '../../../..');

/** Texts of `n` words each, every word new: a vocabulary far wider than any cache. */
function freshWords(rnd: () => number, texts: number, n: number): string[] {
  const out: string[] = [];
  for (let t = 0; t < texts; t++) {
    const words: string[] = [];
    for (let w = 0; w < n; w++) {
      let s = '';
      for (let k = 3 + Math.floor(rnd() * 8); k > 0; k--)
        s += String.fromCharCode(97 + Math.floor(rnd() * 26));
      words.push(s);
    }
    out.push(words.join(' '));
  }
  return out;
}

describe('token counts over a wide vocabulary', function () {
  this.timeout(300_000);

  it('stay as fast as the library without its merge cache once that cache would be full (it used to slow down several times)', () => {
    // The library with no merge cache: what counting new pre-tokens costs at least.
    const bare = GptEncoding.getEncodingApi('o200k_base', () => o200kRanks);
    bare.setMergeCacheSize(0);
    const rnd = mulberry32(21);
    // More distinct words than the library's merge cache holds (100,000), so that it is full.
    for (const t of freshWords(rnd, 1500, 100)) countTokensCached(t);
    const texts = freshWords(rnd, 600, 100);
    let ours = Infinity;
    let theirs = Infinity;
    for (let round = 0; round < 3; round++) {
      const half = texts.slice(round * 200, round * 200 + 200);
      let t0 = performance.now();
      let a = 0;
      for (const t of half) a += countTokensCached(t);
      ours = Math.min(ours, performance.now() - t0);
      t0 = performance.now();
      let b = 0;
      for (const t of half) b += bare.countTokens(t);
      theirs = Math.min(theirs, performance.now() - t0);
      assert.equal(a, b);
    }
    const ratio = ours / theirs;
    console.log(`      cached counts over new words: ${ratio.toFixed(2)}x the library without a merge cache`);
    assert.ok(ratio < 2, `${ratio.toFixed(2)}x`);
  });

  it('runs of one letter longer than a pre-token count about as fast as as much prose (they used to take 15x as long)', () => {
    // Runs beyond 16 K letters are counted in 256-letter pieces; with the library's merge cache
    // off, each equal piece used to be merged again (a 32 MiB line of such runs took over 30 s).
    const runs = (' ' + 'a'.repeat((1 << 17) - 1)).repeat(8);
    let prose = '';
    for (const s of fixtureStrings(ROOT)) {
      if (prose.length >= runs.length) break;
      prose += s + ' ';
    }
    prose = prose.slice(0, runs.length);
    assert.equal(prose.length, runs.length);
    countTokensCached(prose); // both warm: the ranks loaded, the prose's pieces cached
    countTokensCached(runs.slice(0, 1 << 17));
    // The count of each 256-letter piece, by the library itself.
    const lib = GptEncoding.getEncodingApi('o200k_base', () => o200kRanks);
    const want =
      8 * (lib.countTokens(' ') + 511 * lib.countTokens('a'.repeat(256)) + lib.countTokens('a'.repeat(255)));
    let tRuns = Infinity;
    let tProse = Infinity;
    for (let round = 0; round < 3; round++) {
      let t0 = performance.now();
      const a = countTokensCached(runs);
      tRuns = Math.min(tRuns, performance.now() - t0);
      t0 = performance.now();
      countTokensCached(prose);
      tProse = Math.min(tProse, performance.now() - t0);
      assert.equal(a, want);
    }
    const ratio = tRuns / tProse;
    console.log(`      long letter runs: ${ratio.toFixed(2)}x the time of as much prose`);
    assert.ok(ratio < 2, `${ratio.toFixed(2)}x`);
  });
});
