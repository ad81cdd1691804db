/**
 * What a consumer reads from a book, whichever kind built it: printers,
 * features and the snapshot writer depend on this and nothing more.
 *
 * @module
 */

import type { Side } from "./book_protocol.ts";

/**
 * A read-only view of one market's book. Levels are numbered from the top
 * of each side: 0 is the best bid (highest price) or best ask (lowest).
 * Prices and sizes are scaled integers, as in the protocol.
 */
export interface BookView {
  /** Venue id. */
  readonly venue: number;
  /** Market id within the venue. */
  readonly market: number;
  /** Symbol from the instrument definition, "" until one arrives. */
  readonly symbol: string;
  /** Decimals of prices, 0 until an instrument definition arrives. */
  readonly priceDecimals: number;
  /** Decimals of sizes, 0 until an instrument definition arrives. */
  readonly sizeDecimals: number;
  /** Trading status ({@linkcode TRADING_STATUS}). */
  readonly status: number;
  /** How many levels `side` has. */
  depth(side: Side): number;
  /** Price of level `i` of `side`; undefined past the last level. */
  price(side: Side, i: number): number | undefined;
  /** Size of level `i` of `side`; 0 past the last level. */
  size(side: Side, i: number): number;
  /** Size at `price` on `side`; 0 where there is no level. */
  sizeAt(side: Side, price: number): number;
  /**
   * Calls `fn` for each resting order of `side` in priority order (best
   * price first, then first in, first out), for L3 books; an L2 book has
   * none. Used by snapshots.
   */
  forEachOrder(side: Side, fn: (orderId: number, price: number, size: number) => void): void;
  /**
   * Liquidity at each level that no known order accounts for (from L2
   * level events and importers' corrections), best price first. Used by
   * snapshots, which must restore it exactly.
   */
  forEachUnattributed(side: Side, fn: (price: number, size: number) => void): void;
}
