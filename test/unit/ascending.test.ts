import * as assert from 'node:assert/strict';
import { lastAtOrBefore } from '../../src/core/ascending';

/** The same answer by a walk from the start. */
function walked(values: ArrayLike<number>, x: number): number {
  let at = 0;
  for (let i = 0; i < values.length; i++) if (values[i] <= x) at = i;
  return at;
}

describe('lastAtOrBefore', () => {
  it('finds the last value at or below x in ascending arrays with repeats, as a walk does', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(next() * 40);
      const values = new Float64Array(n);
      for (let i = 1; i < n; i++) values[i] = values[i - 1] + Math.floor(next() * 3); // steps of 0, 1, 2
      for (let x = -2; x <= (n > 0 ? values[n - 1] + 2 : 2); x += 0.5) {
        assert.equal(lastAtOrBefore(values, x), walked(values, x), `n=${n} x=${x} [${values.join(',')}]`);
      }
    }
  });

  it('answers 0 below the first value and for an empty array, the last index above the last', () => {
    assert.equal(lastAtOrBefore([10, 20, 30], 5), 0);
    assert.equal(lastAtOrBefore([], 5), 0);
    assert.equal(lastAtOrBefore([10, 20, 30], 30), 2);
    assert.equal(lastAtOrBefore([10, 20, 30], 1e9), 2);
    assert.equal(lastAtOrBefore([10, 20, 20, 30], 20), 2);
  });
});
