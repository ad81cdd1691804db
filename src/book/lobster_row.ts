/**
 * A book as one row of LOBSTER's orderbook file, the layout
 * `replay --book --lobster` prints so its output compares byte for byte
 * with the vendor's.
 *
 * @module
 */

import { SIDE } from "./book_protocol.ts";
import type { BookView } from "./book_view.ts";

/** The price LOBSTER writes for an empty ask level. */
export const LOBSTER_EMPTY_ASK: number = 9999999999;
/** The price LOBSTER writes for an empty bid level. */
export const LOBSTER_EMPTY_BID: number = -9999999999;

/**
 * The top `depth` levels of `book` as LOBSTER writes them: `askPrice1,
 * askSize1,bidPrice1,bidSize1,askPrice2,...`, integers as the book holds
 * them (a LOBSTER import has 4 price decimals, which is the vendor's
 * dollars × 10000), an empty level as price {@linkcode LOBSTER_EMPTY_ASK}
 * or {@linkcode LOBSTER_EMPTY_BID} with size 0. No newline.
 *
 * @throws {RangeError} when `depth` is not a whole number from 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookEvent, BookEventEncoder, SIDE } from "./mod.ts";
 * import { OrderBook } from "./order_book.ts";
 * import { lobsterRow } from "./lobster_row.ts";
 * const enc = new BookEventEncoder();
 * const e = new BookEvent();
 * const book = new OrderBook(1, 1);
 * e.wrapBytes(enc.level(SIDE.Ask, 5802300, 100));
 * book.apply(e);
 * e.wrapBytes(enc.level(SIDE.Bid, 5794000, 496));
 * book.apply(e);
 * assert.equal(lobsterRow(book, 1), "5802300,100,5794000,496");
 * assert.equal(lobsterRow(book, 2), "5802300,100,5794000,496,9999999999,0,-9999999999,0");
 * ```
 */
export function lobsterRow(book: BookView, depth: number): string {
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`Depth '${depth}' must be a whole number from 1`);
  }
  let row = "";
  for (let i = 0; i < depth; i++) {
    const ask = book.price(SIDE.Ask, i);
    const bid = book.price(SIDE.Bid, i);
    if (i > 0) row += ",";
    row += ask === undefined ? `${LOBSTER_EMPTY_ASK},0,` : `${ask},${book.size(SIDE.Ask, i)},`;
    row += bid === undefined ? `${LOBSTER_EMPTY_BID},0` : `${bid},${book.size(SIDE.Bid, i)}`;
  }
  return row;
}
