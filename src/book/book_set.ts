/**
 * Every market's book from one stream: a stream may mix venues and
 * markets, and each (venue, market) gets its own book on its first event.
 *
 * @module
 */

import type { BookEvent } from "./book_event.ts";
import { EVENT } from "./book_protocol.ts";
import { BookStats } from "./book_stats.ts";
import { OrderBook } from "./order_book.ts";

/** Markets below this id are found by array index; importers number them from 1. */
const DENSE_MARKETS = 1 << 16;

/** One venue's books: all of them by market id, and the small ids' also by array index. */
interface VenueBooks {
  all: Map<number, OrderBook>;
  dense: (OrderBook | undefined)[];
}

/**
 * Books by (venue, market), made on each market's first event, all
 * counting into one {@linkcode BookStats}. A book is checked for a crossed
 * or locked state at each event of its own market flagged BatchEnd, so
 * batches of different markets may interleave (as in a merge).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SIDE } from "./book_protocol.ts";
 * import { BookEvent } from "./book_event.ts";
 * import { BookEventEncoder } from "./book_event_encoder.ts";
 * import { BookSet } from "./book_set.ts";
 * const enc = new BookEventEncoder();
 * const e = new BookEvent();
 * const books = new BookSet();
 * enc.header.venue = 1;
 * enc.header.market = 2;
 * e.wrapBytes(enc.instrument("ABC", 2, 0));
 * books.apply(e);
 * e.wrapBytes(enc.level(SIDE.Bid, 10_050, 300));
 * const book = books.apply(e);
 * assert.equal(book?.symbol, "ABC");
 * assert.equal(books.book(1, 2)?.bestBid(), 10_050);
 * assert.equal(books.stats.events, 2);
 * ```
 */
export class BookSet {
  /** Counts of every book of the set. */
  readonly stats: BookStats = new BookStats();
  readonly #byVenue = new Map<number, VenueBooks>();
  // The last venue used: streams seldom change venue, and a market's book is then one array load.
  #lastVenue = -1;
  #lastBooks: VenueBooks | undefined;

  /**
   * Applies `e` to its market's book, making the book on the market's
   * first event, and returns that book. Every event has a market, so the
   * result is always a book; it is typed as possibly undefined so callers
   * stay correct should a future kind belong to no market.
   */
  apply(e: BookEvent): OrderBook | undefined {
    // Read from the bytes, as OrderBook.apply does: cheaper than the getters.
    const d = e.data;
    const at = e.offset;
    const venue = d.getUint32(at + EVENT.venue, true);
    const market = d.getUint32(at + EVENT.market, true);
    let books = this.#lastBooks;
    if (books === undefined || venue !== this.#lastVenue) {
      books = this.#venue(venue);
      this.#lastBooks = books;
      this.#lastVenue = venue;
    }
    const book = (market < DENSE_MARKETS ? books.dense[market] : books.all.get(market)) ??
      this.#newBook(books, venue, market);
    book.apply(e);
    return book;
  }

  /** The book of (`venue`, `market`), undefined before its first event. */
  book(venue: number, market: number): OrderBook | undefined {
    return this.#byVenue.get(venue)?.all.get(market);
  }

  /** Every book, in (venue, market) order. */
  books(): OrderBook[] {
    const all: OrderBook[] = [];
    for (const books of this.#byVenue.values()) all.push(...books.all.values());
    return all.sort((a, b) => a.venue - b.venue || a.market - b.market);
  }

  #venue(venue: number): VenueBooks {
    let books = this.#byVenue.get(venue);
    if (books === undefined) {
      books = { all: new Map(), dense: [] };
      this.#byVenue.set(venue, books);
    }
    return books;
  }

  #newBook(books: VenueBooks, venue: number, market: number): OrderBook {
    const book = new OrderBook(venue, market, this.stats);
    books.all.set(market, book);
    if (market < DENSE_MARKETS) books.dense[market] = book;
    return book;
  }
}
