/**
 * Trades counted between feature rows: how many, how much, and at what
 * volume-weighted average price.
 *
 * @module
 */

import { BOOK_KIND } from "./book_protocol.ts";
import { pow10, ratioText } from "./decimal_ratio.ts";
import { EXTRA_PRICE_DECIMALS } from "./quote_features.ts";

/**
 * Whether an event of `kind` is a trade for the `vwap` and `trades`
 * features: a visible execution of a resting order, an execution against
 * hidden liquidity, a trade print or a cross (auction) trade. Each reports
 * a match that no other kind repeats in the feeds spool imports (L3 feeds
 * send executions, L2 feeds trade prints), so none is counted twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOOK_KIND } from "./book_protocol.ts";
 * import { isTradeKind } from "./trade_tally.ts";
 * assert.equal(isTradeKind(BOOK_KIND.OrderExecute), true);
 * assert.equal(isTradeKind(BOOK_KIND.OrderCancel), false);
 * ```
 */
export function isTradeKind(kind: number): boolean {
  return kind === BOOK_KIND.OrderExecute || kind === BOOK_KIND.HiddenExecute ||
    kind === BOOK_KIND.Trade || kind === BOOK_KIND.CrossTrade;
}

/**
 * A running count of trades, their size and their value (price × size),
 * all exact: the value is summed in a number while it stays below 2^53,
 * and only what would pass that goes to a bigint, so the usual trade
 * allocates nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TradeTally } from "./trade_tally.ts";
 * const t = new TradeTally();
 * t.add(10_050, 100);
 * t.add(10_060, 300);
 * assert.equal(t.count, 2);
 * assert.equal(t.vwapText(2), "100.575000");
 * ```
 */
export class TradeTally {
  /** Trades counted. */
  count = 0;
  /** Their summed size, scaled. */
  size = 0;
  #value = 0;
  #valueBig = 0n;

  /** Counts one trade of `size` at `price` (scaled integers). */
  add(price: number, size: number): void {
    this.count++;
    this.size += size;
    this.#addValue(price * size, price, size);
  }

  /** Adds everything `other` counted, and empties it. */
  absorb(other: TradeTally): void {
    this.count += other.count;
    this.size += other.size;
    // Its number part is a safe integer: a product of itself and 1.
    this.#addValue(other.#value, other.#value, 1);
    this.#valueBig += other.#valueBig;
    other.clear();
  }

  /**
   * Value over size: the volume-weighted average price, rounded to
   * {@linkcode EXTRA_PRICE_DECIMALS} digits past the price's decimals.
   * Undefined when no size traded.
   */
  vwapText(priceDecimals: number): string | undefined {
    if (this.size <= 0) return undefined;
    return ratioText(
      BigInt(this.#value) + this.#valueBig,
      BigInt(this.size) * pow10(priceDecimals),
      priceDecimals + EXTRA_PRICE_DECIMALS,
    );
  }

  /** Forgets every trade. */
  clear(): void {
    this.count = 0;
    this.size = 0;
    this.#value = 0;
    this.#valueBig = 0n;
  }

  // `product` is a × b computed as a number; exact only when it is a safe integer.
  #addValue(product: number, a: number, b: number): void {
    const sum = this.#value + product;
    if (Number.isSafeInteger(product) && Number.isSafeInteger(sum)) this.#value = sum;
    else this.#valueBig += BigInt(a) * BigInt(b);
  }
}
