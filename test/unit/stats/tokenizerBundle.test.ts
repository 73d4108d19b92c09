import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as library from 'gpt-tokenizer/encoding/o200k_base';
import libraryRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { fixtureStrings } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const BUNDLE = path.join(ROOT, 'dist', 'tokenizer.js');
const RANKS = path.join(ROOT, 'dist', 'o200k_base.json');

type Api = { countTokens: typeof library.countTokens; encode: typeof library.encode };

// dist/tokenizer.js is what the extension, the CLI and every worker count with: gpt-tokenizer's
// encoding API over the library's o200k_base ranks, shipped as JSON by the build.
describe('the shipped o200k tokenizer (dist/tokenizer.js)', function () {
  this.timeout(120_000);
  let shipped: Api;
  before(function () {
    if (!existsSync(BUNDLE)) throw new Error('dist/tokenizer.js is missing: run npm run build first');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    shipped = require(BUNDLE) as Api;
  });

  it("ships the library's ranks exactly, every one in its place", () => {
    const ranks = JSON.parse(readFileSync(RANKS, 'utf8')) as unknown[];
    assert.equal(ranks.length, libraryRanks.length);
    assert.deepEqual(ranks, libraryRanks);
  });

  it("gives the library's tokens for every text of the fixtures and for random texts", () => {
    const ordinary = { disallowedSpecial: new Set<string>() };
    const texts = fixtureStrings(ROOT);
    const rnd = mulberry32(11);
    const alphabet = [
      'a',
      'Z',
      ' ',
      '\n',
      '\t',
      '7',
      '.',
      '中',
      'é',
      'ж',
      '🦜',
      '\ud800',
      '<|endoftext|>',
      "'s",
      'ْ',
    ];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      for (let j = 1 + Math.floor(rnd() * 60); j > 0; j--) s += alphabet[Math.floor(rnd() * alphabet.length)];
      texts.push(s);
    }
    assert.ok(texts.length > 4000, String(texts.length));
    let tokens = 0;
    for (const t of texts) {
      const want = library.encode(t, ordinary);
      assert.deepEqual(shipped.encode(t, ordinary), want, JSON.stringify(t.slice(0, 80)));
      assert.equal(shipped.countTokens(t, ordinary), want.length);
      tokens += want.length;
    }
    assert.ok(tokens > 100_000, String(tokens));
  });
});
