import * as assert from 'node:assert/strict';
import { exactClusters } from '../../../src/core/overview/figures';
import type { FactsChunk } from '../../../src/core/overview/facts';
import { mulberry32 } from '../../support/random';

/** What exactClusters computed before its radix sorts: indices sorted by hash, then by index. */
function byComparator(h: Float64Array): number[][] {
  const idx: number[] = [];
  for (let i = 0; i < h.length; i++) if (!Number.isNaN(h[i])) idx.push(i);
  idx.sort((a, b) => h[a] - h[b] || a - b);
  const out: number[][] = [];
  for (let s = 0; s < idx.length;) {
    let e = s + 1;
    while (e < idx.length && h[idx[e]] === h[idx[s]]) e++;
    if (e - s > 1) out.push(idx.slice(s, e));
    s = e;
  }
  return out.sort((a, b) => b.length - a.length || a[0] - b[0]);
}

describe('exact duplicate clusters', () => {
  it('equal those of a comparator sort on hashes that share only their low or only their high 32 bits, 0 and -0, NaN', () => {
    const rnd = mulberry32(9);
    const bits = new Uint32Array(2);
    const one = new Float64Array(bits.buffer);
    // A few values of each word, so that many hashes agree on one word and differ on the other.
    const lows = [0, 1, 0xffffffff, 0x80000000, 12345];
    const highs = [0, 1, 0x000fffff, 0x43300000, 0x7fefffff, 0xc3300000];
    const pool: number[] = [0, -0, NaN, 2 ** 53 - 1, -(2 ** 53 - 1), 0.5];
    for (const lo of lows)
      for (const hi of highs) {
        bits[0] = lo;
        bits[1] = hi;
        if (!Number.isNaN(one[0])) pool.push(one[0]);
      }
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rnd() * 400);
      const h = new Float64Array(n);
      for (let i = 0; i < n; i++) h[i] = pool[Math.floor(rnd() * pool.length)];
      const facts = { n, exact: h } as unknown as FactsChunk;
      assert.deepEqual(exactClusters(facts), byComparator(h), `trial ${trial}`);
    }
  });
});
