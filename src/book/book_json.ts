/**
 * A book as one JSON line: what `replay --book --json` and `tail --book`
 * print, and what scripts read.
 *
 * @module
 */

import { SIDE, type Side } from "./book_protocol.ts";
import type { BookView } from "./book_view.ts";
import { formatScaled } from "./scaled_decimal.ts";

/**
 * The top `depth` levels of `book` after the message at `seq`, as one JSON
 * object: `seq`, `timestamp_ns` (an exact integer), `venue`, `market`,
 * `symbol`, then `bids` and `asks` as `[price, size]` pairs, best first,
 * written as exact decimal numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bookJsonLine } from "./book_json.ts";
 * const book = {
 *   venue: 1, market: 1, symbol: "GOOG", priceDecimals: 4, sizeDecimals: 0, status: 3,
 *   depth: (side: number) => side === 0 ? 1 : 0,
 *   price: (side: number, i: number) => side === 0 && i === 0 ? 5_794_000 : undefined,
 *   size: (side: number, i: number) => side === 0 && i === 0 ? 496 : 0,
 *   sizeAt: () => 0, forEachOrder: () => {}, forEachUnattributed: () => {},
 * };
 * assert.equal(
 *   bookJsonLine(book, 7, 1_340_285_400_015_105_074n, 5),
 *   '{"seq":7,"timestamp_ns":1340285400015105074,"venue":1,"market":1,"symbol":"GOOG",' +
 *     '"bids":[[579.4000,496]],"asks":[]}',
 * );
 * ```
 */
export function bookJsonLine(
  book: BookView,
  seq: number,
  timestampNs: bigint,
  depth: number,
): string {
  return `{"seq":${seq},"timestamp_ns":${timestampNs},"venue":${book.venue},"market":${book.market},` +
    `"symbol":${JSON.stringify(book.symbol)},"bids":${levels(book, SIDE.Bid, depth)},` +
    `"asks":${levels(book, SIDE.Ask, depth)}}`;
}

function levels(book: BookView, side: Side, depth: number): string {
  const n = Math.min(depth, book.depth(side));
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(
      `[${formatScaled(book.price(side, i)!, book.priceDecimals)},${
        formatScaled(book.size(side, i), book.sizeDecimals)
      }]`,
    );
  }
  return `[${parts.join(",")}]`;
}
