/**
 * A book for people: one line when only the top matters, a ladder of
 * bids beside asks when more levels are asked for.
 *
 * @module
 */

import { isoTimeNs } from "../stream/mod.ts";
import { SIDE } from "./book_protocol.ts";
import type { BookView } from "./book_view.ts";
import { formatScaled } from "./scaled_decimal.ts";

/**
 * The book after the message stamped `timestampNs` at `seq`, as text
 * without a final newline. Depth 1 is one line,
 * `<UTC time> #<seq> <symbol> <bid size> @ <bid> | <ask> @ <ask size>`,
 * with `-` for an empty side; a greater depth adds that many ladder rows
 * below a heading line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bookLadder } from "./book_ladder.ts";
 * const book = {
 *   venue: 1, market: 1, symbol: "GOOG", priceDecimals: 2, sizeDecimals: 0, status: 3,
 *   depth: (side: number) => side === 1 ? 1 : 0,
 *   price: (side: number, i: number) => side === 1 && i === 0 ? 58_023 : undefined,
 *   size: (side: number, i: number) => side === 1 && i === 0 ? 100 : 0,
 *   sizeAt: () => 0, forEachOrder: () => {}, forEachUnattributed: () => {},
 * };
 * assert.equal(bookLadder(book, 3, 0n, 1), "1970-01-01T00:00:00.000000000Z #3 GOOG - | 580.23 @ 100");
 * ```
 */
export function bookLadder(
  book: BookView,
  seq: number,
  timestampNs: bigint,
  depth: number,
): string {
  const name = book.symbol === "" ? `${book.venue}:${book.market}` : book.symbol;
  const head = `${isoTimeNs(timestampNs)} #${seq} ${name}`;
  if (depth === 1) return `${head} ${side(book, SIDE.Bid, 0)} | ${side(book, SIDE.Ask, 0)}`;
  const rows = [head];
  const bids: string[] = [];
  for (let i = 0; i < depth; i++) bids.push(side(book, SIDE.Bid, i));
  const width = Math.max(...bids.map((b) => b.length));
  for (let i = 0; i < depth; i++) {
    rows.push(`  ${bids[i]!.padStart(width)} | ${side(book, SIDE.Ask, i)}`);
  }
  return rows.join("\n");
}

function side(book: BookView, s: 0 | 1, i: number): string {
  const price = book.price(s, i);
  if (price === undefined) return "-";
  const p = formatScaled(price, book.priceDecimals);
  const q = formatScaled(book.size(s, i), book.sizeDecimals);
  return s === SIDE.Bid ? `${q} @ ${p}` : `${p} @ ${q}`;
}
