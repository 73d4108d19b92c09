import * as assert from 'node:assert/strict';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PieceCounts } from '../../../src/core/tokenPieces';
import { mulberry32 } from '../../support/random';

describe('PieceCounts', () => {
  it('gives the count of each piece by its place in a text, counting a piece seen before only once', () => {
    // A count that tells pieces apart (by their length and first code unit), and how often each was asked.
    const want = (p: string): number => p.length * 70000 + p.charCodeAt(0);
    const asked = new Map<string, number>();
    const cache = new PieceCounts(1 << 16, (p) => {
      asked.set(p, (asked.get(p) ?? 0) + 1);
      return want(p);
    });
    const rnd = mulberry32(5);
    const alphabet = 'ab cdé中🦜\t';
    const texts: string[] = [];
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const n = 1 + Math.floor(rnd() * 30);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      texts.push(s);
    }
    let lookups = 0;
    for (let round = 0; round < 3; round++)
      for (const t of texts)
        for (let from = 0; from < t.length; from += 3) {
          const to = Math.min(t.length, from + 1 + ((from * 7) % 5));
          assert.equal(cache.get(t, from, to), want(t.slice(from, to)));
          lookups++;
        }
    assert.ok(asked.size > 1000 && asked.size < lookups / 3, `${asked.size} of ${lookups}`);
    for (const [piece, n] of asked) assert.equal(n, 1, piece);
  });

  it('is emptied when it holds its maximum, and still counts right', () => {
    let counted = 0;
    const cache = new PieceCounts(100, (p) => {
      counted++;
      return p.length;
    });
    const text = Array.from({ length: 1000 }, (_, i) => `w${i}`).join('');
    for (let round = 0; round < 2; round++)
      for (let i = 0; i + 4 <= text.length; i += 4) assert.equal(cache.get(text, i, i + 4), 4);
    // More distinct pieces than it holds: the second round counts them again.
    assert.ok(counted > 1.5 * Math.floor(text.length / 4), String(counted));
  });

  it('keeps no text it took a piece from alive (a kept piece of 13+ characters used to hold its whole text)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const counts: number[] = [];
    const cache = new PieceCounts(1 << 16, (p) => p.length);
    gc();
    const before = getHeapStatistics().used_heap_size;
    // 200 texts of 100,000 characters, each new (not a literal) and told apart by its first piece.
    for (let i = 0; i < 200; i++) {
      const text = `${String(i).padStart(12, '0')}:${Buffer.alloc(100_000, 97 + (i % 26)).toString('latin1')}`;
      counts.push(cache.get(text, 0, 20));
    }
    gc();
    const grown = getHeapStatistics().used_heap_size - before;
    assert.deepEqual(counts, Array(200).fill(20));
    // The texts are 20 MB in all; the pieces kept are 200 x 20 characters.
    assert.ok(grown < 2_000_000, `the heap grew by ${grown} bytes`);
  });
});
