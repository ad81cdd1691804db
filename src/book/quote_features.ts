/**
 * Features of the quote at one moment: mid, spread, microprice and depth
 * imbalance, from scaled prices and sizes, as exact decimal text.
 * `docs/features.md` is the normative form of these definitions.
 *
 * @module
 */

import { pow10, ratioText } from "./decimal_ratio.ts";
import { formatScaled } from "./scaled_decimal.ts";

/** Digits past the price's own decimals in a computed price (microprice, VWAP): 1/10000 of a tick. */
export const EXTRA_PRICE_DECIMALS = 4;

/** Digits after the point in an imbalance, which lies in [-1, 1]. */
export const IMBALANCE_DECIMALS = 6;

/**
 * The mid price, `(bid + ask) / 2`, exactly: with one decimal more than
 * the prices, which a half always fits in. Undefined when a side is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { midText } from "./quote_features.ts";
 * assert.equal(midText(10_050, 10_055, 2), "100.525");
 * assert.equal(midText(undefined, 10_055, 2), undefined);
 * ```
 */
export function midText(
  bid: number | undefined,
  ask: number | undefined,
  priceDecimals: number,
): string | undefined {
  if (bid === undefined || ask === undefined) return undefined;
  return formatScaled((BigInt(bid) + BigInt(ask)) * 5n, priceDecimals + 1);
}

/**
 * The spread, `ask - bid`, exactly; negative when the book is crossed.
 * Undefined when a side is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spreadText } from "./quote_features.ts";
 * assert.equal(spreadText(10_050, 10_055, 2), "0.05");
 * ```
 */
export function spreadText(
  bid: number | undefined,
  ask: number | undefined,
  priceDecimals: number,
): string | undefined {
  if (bid === undefined || ask === undefined) return undefined;
  return formatScaled(BigInt(ask) - BigInt(bid), priceDecimals);
}

/**
 * The microprice, `(bid × askSize + ask × bidSize) / (bidSize + askSize)`:
 * the mid weighted toward the side with less size, where the next trade is
 * likelier to move the price. Rounded to {@linkcode EXTRA_PRICE_DECIMALS}
 * digits past the price's decimals. Undefined when a side is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { micropriceText } from "./quote_features.ts";
 * assert.equal(micropriceText(10_050, 300, 10_055, 100, 2), "100.537500");
 * ```
 */
export function micropriceText(
  bid: number | undefined,
  bidSize: number,
  ask: number | undefined,
  askSize: number,
  priceDecimals: number,
): string | undefined {
  if (bid === undefined || ask === undefined || bidSize + askSize <= 0) return undefined;
  const b = BigInt(bidSize);
  const a = BigInt(askSize);
  return ratioText(
    BigInt(bid) * a + BigInt(ask) * b,
    (a + b) * pow10(priceDecimals),
    priceDecimals + EXTRA_PRICE_DECIMALS,
  );
}

/**
 * The depth imbalance, `(bidSize - askSize) / (bidSize + askSize)`, of
 * sizes summed over the top levels of each side: +1 when only bids rest,
 * -1 when only asks do. Rounded to {@linkcode IMBALANCE_DECIMALS} digits.
 * Undefined when both sides are empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imbalanceText } from "./quote_features.ts";
 * assert.equal(imbalanceText(300, 100), "0.500000");
 * assert.equal(imbalanceText(0, 0), undefined);
 * ```
 */
export function imbalanceText(bidSize: number, askSize: number): string | undefined {
  if (bidSize + askSize <= 0) return undefined;
  const b = BigInt(bidSize);
  const a = BigInt(askSize);
  return ratioText(b - a, b + a, IMBALANCE_DECIMALS);
}
