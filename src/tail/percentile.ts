/**
 * Percentiles of a sample.
 *
 * @module
 */

/**
 * The nearest-rank percentile `p` (0–100) of the values, or `undefined` for
 * an empty sample. Sorts `values` in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./percentile.ts";
 * assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
 * assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
 * ```
 */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * values.length));
  return values[Math.min(rank, values.length) - 1];
}
