/**
 * Ratios of integers as decimal text, rounded once and exactly: features
 * such as the microprice and the VWAP are quotients of scaled integers, and
 * computing them in bigints keeps every printed digit right, whatever the
 * magnitudes (a float would round the products first).
 *
 * @module
 */

import { formatScaled } from "./scaled_decimal.ts";

const POWERS: bigint[] = [1n];

/**
 * 10^`n` as a bigint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pow10 } from "./decimal_ratio.ts";
 * assert.equal(pow10(3), 1000n);
 * ```
 */
export function pow10(n: number): bigint {
  while (POWERS.length <= n) POWERS.push(POWERS[POWERS.length - 1]! * 10n);
  return POWERS[n]!;
}

/**
 * `numerator / denominator` with exactly `decimals` digits after the
 * point, rounded to the nearest, halves away from zero.
 *
 * @throws {RangeError} when `denominator` is not above 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ratioText } from "./decimal_ratio.ts";
 * assert.equal(ratioText(1n, 3n, 6), "0.333333");
 * assert.equal(ratioText(-1n, 8n, 2), "-0.13");
 * assert.equal(ratioText(5n, 2n, 0), "3");
 * ```
 */
export function ratioText(numerator: bigint, denominator: bigint, decimals: number): string {
  if (denominator <= 0n) throw new RangeError(`Denominator '${denominator}' must be above 0`);
  const scaled = numerator * pow10(decimals);
  const magnitude = scaled < 0n ? -scaled : scaled;
  let q = magnitude / denominator;
  if ((magnitude % denominator) * 2n >= denominator) q++;
  return formatScaled(scaled < 0n ? -q : q, decimals);
}
