/**
 * Search in ascending arrays of numbers, shared by the layers that keep sorted offsets: a Parquet
 * file's row-group starts, the kept lines of a validation, Table 1's sessions.
 */

/** The index of the last value of the ascending `values` at or below `x` (0 when none is). */
export function lastAtOrBefore(values: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (values[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
