import * as assert from 'node:assert/strict';
import { EXACT, hashNorm, hashNormExact, hashStart, hashValue } from '../../../src/core/validate/hash';
import { mulberry32 } from '../../support/random';

describe('validate: the full text hash', () => {
  it('gives hashNorm(EXACT) of the whole text from its own loop', () => {
    const rnd = mulberry32(11);
    const pieces = [
      'a',
      'Z',
      ' ',
      '  ',
      '\t',
      '\n',
      '\u00a0',
      '\u0000',
      '\u001f',
      '!',
      'é',
      '中',
      '🦜',
      '\u3000',
      'word',
    ];
    let differ = 0;
    let last = NaN;
    for (let k = 0; k < 3000; k++) {
      let s = '';
      const n = Math.floor(rnd() * 40);
      for (let i = 0; i < n; i++) s += pieces[Math.floor(rnd() * pieces.length)];
      hashStart();
      hashNorm(s, EXACT, 0, 1, Infinity);
      const want = hashValue();
      hashStart();
      hashNormExact(s);
      const got = hashValue();
      assert.equal(got, want, JSON.stringify(s));
      if (got !== last) differ++;
      last = got;
    }
    // Leading, trailing and repeated whitespace do not count; other characters do.
    const h = (s: string): number => (hashStart(), hashNormExact(s), hashValue());
    assert.equal(h('  a \t\n b  '), h('a b'));
    assert.notEqual(h('a b'), h('ab'));
    assert.ok(differ > 2000);
  });
});
