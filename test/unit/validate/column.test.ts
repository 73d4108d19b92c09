import * as assert from 'node:assert/strict';
import { NumberMap } from '../../../src/core/validate/column';
import { mulberry32 } from '../../support/random';

describe('validate/NumberMap', () => {
  it('behaves as a Map of 53-bit keys through growth and clear (set, get, has, addIfAbsent)', () => {
    const rnd = mulberry32(3);
    const m = new NumberMap(4);
    const ref = new Map<number, number>();
    // Keys from a small range collide often; large ones use all 53 bits.
    const key = () =>
      rnd() < 0.5
        ? Math.floor(rnd() * 5000)
        : Math.floor(rnd() * 2 ** 32) * 2 ** 21 + Math.floor(rnd() * 2 ** 21);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20000; i++) {
        const k = key();
        const r = rnd();
        if (r < 0.6) {
          m.set(k, i);
          ref.set(k, i);
        } else if (r < 0.8) {
          // addIfAbsent: the value there, or -1 after setting it.
          assert.equal(m.addIfAbsent(k, i), ref.get(k) ?? -1);
          if (!ref.has(k)) ref.set(k, i);
        }
        assert.equal(m.get(k), ref.get(k));
        assert.equal(m.has(k), ref.has(k));
      }
      assert.equal(m.size, ref.size);
      for (const [k, v] of ref) assert.equal(m.get(k), v);
      m.clear();
      ref.clear();
      assert.equal(m.size, 0);
    }
  });
});
