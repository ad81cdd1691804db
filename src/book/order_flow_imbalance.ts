/**
 * Order-flow imbalance at the best level (Cont, Kukanov and Stoikov, "The
 * price impact of order book events", 2014): the net size that arrived on
 * the bid minus that on the ask, read from successive quotes.
 *
 * @module
 */

/**
 * Sums order-flow imbalance over successive observations of the best bid
 * and ask. Between observations n-1 and n, with best bid price P and size
 * q, and best ask price A and size r, the step is
 *
 * ```text
 * e(n) = [P(n) >= P(n-1)] q(n) - [P(n) <= P(n-1)] q(n-1)
 *      - [A(n) <= A(n-1)] r(n) + [A(n) >= A(n-1)] r(n-1)
 * ```
 *
 * where [x] is 1 when x holds, else 0. An empty bid counts as price -∞ and
 * size 0, an empty ask as +∞ and 0, so a side appearing or vanishing is
 * flow like any other. The first observation has nothing before it and
 * adds 0: a replay that starts mid-stream (or from a snapshot) does not
 * count the whole standing book as flow. Sizes are scaled integers, so the
 * sum is exact.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderFlowImbalance } from "./order_flow_imbalance.ts";
 * const ofi = new OrderFlowImbalance();
 * ofi.observe(100, 5, 101, 5);
 * ofi.observe(100, 8, 101, 5); // 3 more bid at the same price
 * ofi.observe(100, 8, 101, 2); // 3 less ask at the same price
 * assert.equal(ofi.take(), 6);
 * assert.equal(ofi.take(), 0);
 * ```
 */
export class OrderFlowImbalance {
  #seen = false;
  #bid = -Infinity;
  #bidSize = 0;
  #ask = Infinity;
  #askSize = 0;
  #total = 0;

  /** Adds the step from the previous observation to this quote; `undefined` prices are empty sides. */
  observe(
    bid: number | undefined,
    bidSize: number,
    ask: number | undefined,
    askSize: number,
  ): void {
    const p = bid ?? -Infinity;
    const q = bid === undefined ? 0 : bidSize;
    const a = ask ?? Infinity;
    const r = ask === undefined ? 0 : askSize;
    if (this.#seen) {
      const pp = this.#bid;
      const pa = this.#ask;
      this.#total += (p >= pp ? q : 0) - (p <= pp ? this.#bidSize : 0) -
        (a <= pa ? r : 0) + (a >= pa ? this.#askSize : 0);
    }
    this.#seen = true;
    this.#bid = p;
    this.#bidSize = q;
    this.#ask = a;
    this.#askSize = r;
  }

  /** The sum since the last call (scaled size units), and starts a new sum. */
  take(): number {
    const total = this.#total;
    this.#total = 0;
    return total;
  }
}
