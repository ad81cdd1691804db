/**
 * Scaled integers as decimal text: prices and sizes travel as integers
 * scaled by 10^decimals, and are shown exactly, never through a float.
 *
 * @module
 */

/**
 * The decimal text of `value / 10^decimals`, with exactly `decimals`
 * digits after the point (none when `decimals` is 0). `value` is an
 * integer: a safe number, or a bigint where it may pass 2^53.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatScaled } from "./scaled_decimal.ts";
 * assert.equal(formatScaled(5_794_000, 4), "579.4000");
 * assert.equal(formatScaled(-5, 2), "-0.05");
 * assert.equal(formatScaled(300, 0), "300");
 * assert.equal(formatScaled(123_456_789_012_345_678n, 8), "1234567890.12345678");
 * ```
 */
export function formatScaled(value: number | bigint, decimals: number): string {
  if (decimals === 0) return String(value);
  const negative = value < 0;
  const digits = String(negative ? -value : value).padStart(decimals + 1, "0");
  const point = digits.length - decimals;
  return `${negative ? "-" : ""}${digits.slice(0, point)}.${digits.slice(point)}`;
}
