/**
 * Tests of the books: every rule of "Applying events" in
 * docs/book-protocol.md, a seeded comparison against a plain model of those
 * rules, and books read from a real chronicle queue.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BookEvent, BookEventError } from "../src/book/book_event.ts";
import { BookEventEncoder } from "../src/book/book_event_encoder.ts";
import {
  BODY,
  BOOK_FLAG,
  BOOK_KIND,
  BOOK_TYPE_BASE,
  type BookKind,
  INSTRUMENT,
  SIDE,
  type Side,
  TRADING_STATUS,
} from "../src/book/book_protocol.ts";
import { BookSet } from "../src/book/book_set.ts";
import { BookStats } from "../src/book/book_stats.ts";
import { OrderBook } from "../src/book/order_book.ts";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { openStream } from "../src/stream/mod.ts";

/** One encoded event, kept. */
interface Encoded {
  typeId: number;
  bytes: Uint8Array;
}

/** Builds event lists: each call encodes one event for (venue, market) and keeps a copy. */
class Events {
  readonly list: Encoded[] = [];
  readonly #enc = new BookEventEncoder();

  constructor(venue = 1, market = 1) {
    this.at(venue, market);
    this.#enc.header.flags = BOOK_FLAG.BatchEnd;
  }

  /** Switches the venue and market of the following events. */
  at(venue: number, market: number): this {
    this.#enc.header.venue = venue;
    this.#enc.header.market = market;
    return this;
  }

  #keep(bytes: Uint8Array): this {
    this.list.push({ typeId: this.#enc.typeId, bytes: bytes.slice() });
    this.#enc.header.flags = BOOK_FLAG.BatchEnd;
    return this;
  }

  /** Sets the flags of the next event only (the default is BatchEnd: a batch of one). */
  flags(flags: number): this {
    this.#enc.header.flags = flags;
    return this;
  }

  instrument(symbol: string, priceDecimals: number, sizeDecimals: number): this {
    return this.#keep(this.#enc.instrument(symbol, priceDecimals, sizeDecimals));
  }
  level(side: Side, price: number, size: number): this {
    return this.#keep(this.#enc.level(side, price, size));
  }
  order(kind: BookKind, side: Side, id: number, price: number, size: number): this {
    return this.#keep(this.#enc.order(kind, side, id, price, size));
  }
  add(side: Side, id: number, price: number, size: number): this {
    return this.order(BOOK_KIND.OrderAdd, side, id, price, size);
  }
  cancel(side: Side, id: number, price: number, size: number): this {
    return this.order(BOOK_KIND.OrderCancel, side, id, price, size);
  }
  execute(side: Side, id: number, price: number, size: number): this {
    return this.order(BOOK_KIND.OrderExecute, side, id, price, size);
  }
  delete(side: Side, id: number, price: number, size: number): this {
    return this.order(BOOK_KIND.OrderDelete, side, id, price, size);
  }
  trade(kind: BookKind, side: Side, id: number, price: number, size: number): this {
    return this.#keep(this.#enc.trade(kind, side, id, price, size));
  }
  status(status: 0 | 1 | 2 | 3): this {
    return this.#keep(this.#enc.status(status));
  }
  clear(): this {
    return this.#keep(this.#enc.clear());
  }
}

const event = new BookEvent();

/** Applies every event to `target` (a book or a set). */
function feed(target: OrderBook | BookSet, events: Events | Encoded[]): void {
  for (const { bytes } of Array.isArray(events) ? events : events.list) {
    event.wrapBytes(bytes);
    target.apply(event);
  }
}

/** One market's book from `events`. */
function bookOf(events: Events): OrderBook {
  const book = new OrderBook(1, 1);
  feed(book, events);
  return book;
}

/** Everything a book holds, as plain data, through the BookView API only. */
function dump(book: OrderBook) {
  const side = (s: Side) => {
    const levels: [number, number][] = [];
    for (let i = 0; i < book.depth(s); i++) levels.push([book.price(s, i)!, book.size(s, i)]);
    const orders: [number, number, number][] = [];
    book.forEachOrder(s, (id, price, size) => orders.push([id, price, size]));
    const unattributed: [number, number][] = [];
    book.forEachUnattributed(s, (price, size) => unattributed.push([price, size]));
    return { levels, orders, unattributed };
  };
  return {
    venue: book.venue,
    market: book.market,
    symbol: book.symbol,
    priceDecimals: book.priceDecimals,
    sizeDecimals: book.sizeDecimals,
    status: book.status,
    orderCount: book.orderCount,
    bid: side(SIDE.Bid),
    ask: side(SIDE.Ask),
  };
}

const { Bid, Ask } = SIDE;

Deno.test("level events set, replace and remove levels, best first on each side", () => {
  const book = bookOf(
    new Events()
      .level(Bid, 100, 5).level(Bid, 102, 7).level(Bid, 101, 3)
      .level(Ask, 105, 4).level(Ask, 103, 9).level(Ask, 104, 1)
      .level(Bid, 101, 8) // replaces, not adds
      .level(Ask, 104, 0) // removes
      .level(Ask, 110, 0), // removing a missing level changes nothing
  );
  assert.deepEqual(dump(book).bid.levels, [[102, 7], [101, 8], [100, 5]]);
  assert.deepEqual(dump(book).ask.levels, [[103, 9], [105, 4]]);
  assert.deepEqual(dump(book).bid.unattributed, [[102, 7], [101, 8], [100, 5]]);
  assert.equal(book.bestBid(), 102);
  assert.equal(book.bestAsk(), 103);
  assert.equal(book.sizeAt(Bid, 101), 8);
  assert.equal(book.sizeAt(Ask, 104), 0);
  assert.equal(book.sizeAt(SIDE.None, 103), 0);
  assert.equal(book.price(Bid, 3), undefined);
  assert.equal(book.price(Bid, -1), undefined);
  assert.equal(book.size(Ask, 2), 0);
  assert.equal(book.depth(SIDE.None), 0);
  assert.equal(book.orderCount, 0);
  assert.equal(book.stats.toJSON().kinds.level, 9);
});

Deno.test("an empty side has no best price and the book is neither crossed nor locked", () => {
  const book = bookOf(new Events().level(Bid, 100, 5));
  assert.equal(book.bestAsk(), undefined);
  assert.equal(book.crossed(), false);
  assert.equal(book.locked(), false);
  assert.equal(new OrderBook(1, 1).bestBid(), undefined);
});

Deno.test("levels far from the top and in bulk sort like a plain sort", () => {
  // Hundreds of levels exercise the binary search and the bulk shifts, not only the top scan.
  const events = new Events();
  const want = new Map<number, number>();
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 3000; i++) {
    const price = 1_000 + (next() % 600);
    const size = next() % 4 === 0 ? 0 : 1 + (next() % 50);
    events.level(Ask, price, size);
    if (size === 0) want.delete(price);
    else want.set(price, size);
  }
  const sorted = [...want].sort((a, b) => a[0] - b[0]);
  assert.ok(sorted.length > 100);
  assert.deepEqual(dump(bookOf(events)).ask.levels, sorted);
});

Deno.test("orders at one price keep first-in-first-out order; the level is their sum", () => {
  const book = bookOf(
    new Events().add(Bid, 1, 100, 5).add(Bid, 2, 101, 1).add(Bid, 3, 100, 7).add(Ask, 4, 102, 2)
      .add(Bid, 5, 100, 2),
  );
  assert.deepEqual(dump(book).bid.orders, [[2, 101, 1], [1, 100, 5], [3, 100, 7], [5, 100, 2]]);
  assert.deepEqual(dump(book).bid.levels, [[101, 1], [100, 14]]);
  assert.deepEqual(dump(book).bid.unattributed, []);
  assert.deepEqual(dump(book).ask.orders, [[4, 102, 2]]);
  assert.equal(book.orderCount, 5);
  assert.equal(book.orderSize(3), 7);
  assert.equal(book.orderSize(99), undefined);
});

Deno.test("a partial cancel and an execution reduce an order and keep its place; at zero it goes", () => {
  const events = new Events().add(Bid, 1, 100, 10).add(Bid, 2, 100, 10).cancel(Bid, 1, 100, 3)
    .execute(Bid, 2, 100, 4);
  let book = bookOf(events);
  assert.deepEqual(dump(book).bid.orders, [[1, 100, 7], [2, 100, 6]]);
  assert.equal(book.sizeAt(Bid, 100), 13);
  book = bookOf(events.execute(Bid, 1, 100, 7).cancel(Bid, 2, 100, 50));
  assert.deepEqual(dump(book).bid, { levels: [], orders: [], unattributed: [] });
  assert.equal(book.orderCount, 0);
  assert.equal(book.stats.unknownIds, 0);
});

Deno.test("a known order is reduced at its own level, whatever price and side the event names", () => {
  const book = bookOf(new Events().add(Ask, 1, 105, 10).cancel(Bid, 1, 999, 4));
  assert.deepEqual(dump(book).ask.orders, [[1, 105, 6]]);
  assert.equal(book.depth(Bid), 0);
});

Deno.test("a delete removes the order whatever is left, and an empty level with it", () => {
  const book = bookOf(
    new Events().add(Ask, 1, 105, 10).add(Ask, 2, 106, 3).level(Ask, 106, 8).delete(Ask, 1, 105, 1)
      .delete(Ask, 2, 106, 3),
  );
  assert.deepEqual(dump(book).ask.levels, [[106, 5]]);
  assert.deepEqual(dump(book).ask.orders, []);
  assert.deepEqual(dump(book).ask.unattributed, [[106, 5]]);
  assert.equal(book.stats.unknownIds, 0);
});

Deno.test("an unknown id takes from the unattributed size at its price, at most all of it, and is counted", () => {
  const book = bookOf(
    new Events()
      .level(Bid, 100, 10).add(Bid, 1, 100, 4) // 10 unattributed + 4 known
      .cancel(Bid, 77, 100, 3) // unknown: 7 unattributed left
      .execute(Bid, 78, 100, 2) // unknown: 5 left
      .delete(Bid, 79, 100, 50) // unknown: takes the 5 left, never the known order
      .cancel(Bid, 80, 101, 5) // unknown, no level there: nothing changes
      .cancel(Ask, 81, 100, 5), // unknown, wrong side: nothing changes
  );
  assert.deepEqual(dump(book).bid.levels, [[100, 4]]);
  assert.deepEqual(dump(book).bid.orders, [[1, 100, 4]]);
  assert.deepEqual(dump(book).bid.unattributed, []);
  assert.equal(book.stats.unknownIds, 5);
  // With no known order left, the level goes once its unattributed size is used up.
  const gone = bookOf(new Events().level(Ask, 200, 6).execute(Ask, 9, 200, 6));
  assert.equal(gone.depth(Ask), 0);
  assert.equal(gone.stats.unknownIds, 1);
});

Deno.test("a duplicate add replaces the old order, wherever it was, and is counted", () => {
  const book = bookOf(
    new Events().add(Bid, 1, 100, 5).add(Bid, 2, 100, 6).add(Ask, 1, 110, 9).add(Bid, 2, 100, 8),
  );
  assert.deepEqual(dump(book).bid.orders, [[2, 100, 8]]);
  assert.deepEqual(dump(book).ask.orders, [[1, 110, 9]]);
  assert.equal(book.orderCount, 2);
  assert.equal(book.stats.duplicateIds, 2);
  // A duplicate add of size 0 removes the old order and adds nothing.
  const zero = bookOf(new Events().add(Bid, 1, 100, 5).add(Bid, 1, 100, 0));
  assert.equal(zero.depth(Bid), 0);
  assert.equal(zero.orderCount, 0);
  assert.equal(zero.stats.duplicateIds, 1);
});

Deno.test("a level below its known orders' sum removes orders newest first, counted", () => {
  const events = new Events().add(Bid, 1, 100, 5).add(Bid, 2, 100, 3).add(Bid, 3, 100, 4)
    .level(Bid, 100, 9); // 12 known: order 3 goes (8 left), 1 unattributed
  let book = bookOf(events);
  assert.deepEqual(dump(book).bid.orders, [[1, 100, 5], [2, 100, 3]]);
  assert.deepEqual(dump(book).bid.unattributed, [[100, 1]]);
  assert.equal(book.sizeAt(Bid, 100), 9);
  assert.equal(book.stats.trimmedOrders, 1);
  book = bookOf(events.level(Bid, 100, 20)); // above the sum: the orders stay
  assert.deepEqual(dump(book).bid.orders, [[1, 100, 5], [2, 100, 3]]);
  assert.deepEqual(dump(book).bid.unattributed, [[100, 12]]);
  book = bookOf(events.level(Bid, 100, 0).cancel(Bid, 1, 100, 1)); // size 0: all go
  assert.equal(book.depth(Bid), 0);
  assert.equal(book.orderCount, 0);
  assert.equal(book.stats.trimmedOrders, 3);
  assert.equal(book.stats.unknownIds, 1);
});

Deno.test("clear removes every level and order; symbol, decimals and status stay", () => {
  const events = new Events().instrument("XYZ", 4, 2).status(TRADING_STATUS.Trading)
    .add(Bid, 1, 100, 5).level(Ask, 101, 7).clear();
  let book = bookOf(events);
  assert.deepEqual(dump(book), {
    venue: 1,
    market: 1,
    symbol: "XYZ",
    priceDecimals: 4,
    sizeDecimals: 2,
    status: TRADING_STATUS.Trading,
    orderCount: 0,
    bid: { levels: [], orders: [], unattributed: [] },
    ask: { levels: [], orders: [], unattributed: [] },
  });
  book = bookOf(events.add(Bid, 1, 99, 2)); // the id is free again: no duplicate
  assert.equal(book.stats.duplicateIds, 0);
  assert.deepEqual(dump(book).bid.orders, [[1, 99, 2]]);
});

Deno.test("status and instrument events set the book's fields; trades and hidden executions change no level", () => {
  const book = bookOf(
    new Events().instrument("ABC-USD", 2, 8).status(TRADING_STATUS.Halted)
      .status(TRADING_STATUS.Quoting).add(Bid, 1, 100, 5)
      .order(BOOK_KIND.HiddenExecute, Bid, 1, 100, 5)
      .trade(BOOK_KIND.Trade, SIDE.None, 1, 100, 5)
      .trade(BOOK_KIND.CrossTrade, Ask, 2, 100, 5),
  );
  assert.equal(book.symbol, "ABC-USD");
  assert.equal(book.priceDecimals, 2);
  assert.equal(book.sizeDecimals, 8);
  assert.equal(book.status, TRADING_STATUS.Quoting);
  assert.deepEqual(dump(book).bid.orders, [[1, 100, 5]]);
  const kinds = book.stats.toJSON().kinds;
  assert.deepEqual(
    [kinds.instrument, kinds.status, kinds.hidden_execute, kinds.trade, kinds.cross_trade],
    [1, 2, 1, 1, 1],
  );
  assert.equal(new OrderBook(3, 4).status, TRADING_STATUS.Unknown);
});

Deno.test("events on no side change nothing and are counted", () => {
  const book = bookOf(new Events().level(SIDE.None, 100, 5).add(SIDE.None, 1, 100, 5));
  assert.equal(book.depth(Bid) + book.depth(Ask), 0);
  assert.equal(book.stats.badSides, 2);
});

Deno.test("crossed and locked books are counted at BatchEnd events only, never thrown", () => {
  const mid = 0; // flags of an event inside a batch
  const book = bookOf(
    new Events()
      .flags(mid).level(Bid, 100, 5).flags(mid).level(Ask, 99, 5) // crossed inside the batch
      .level(Ask, 99, 0) // batch end: bid 100, no ask
      .flags(mid).level(Ask, 100, 5).level(Bid, 101, 1) // batch end: crossed
      .level(Bid, 101, 0) // batch end: locked at 100
      .flags(mid).level(Ask, 101, 1), // locked, but the batch has not ended
  );
  assert.equal(book.stats.crossedBatches, 1);
  assert.equal(book.stats.lockedBatches, 1);
  assert.equal(book.crossed(), true); // locked counts as crossed here: bid >= ask
  assert.equal(book.locked(), true);
});

Deno.test("corrections are counted and applied like any event", () => {
  const book = bookOf(
    new Events().flags(BOOK_FLAG.Correction | BOOK_FLAG.BatchEnd).level(Bid, 100, 5),
  );
  assert.equal(book.stats.corrections, 1);
  assert.equal(book.sizeAt(Bid, 100), 5);
});

Deno.test("a book set keeps one book per venue and market, with per-market batches", () => {
  const events = new Events(1, 2).instrument("B", 2, 0)
    .at(1, 1).instrument("A", 2, 0)
    .at(2, 1).flags(0).level(Bid, 100, 5).flags(0).level(Ask, 90, 5) // batch of (2, 1), crossed
    .at(1, 1).add(Bid, 7, 100, 5) // another market's batch end in between
    .at(1, 2).add(Bid, 7, 50, 1) // the same order id in another market is another order
    .at(2, 1).level(Ask, 90, 0) // batch end of (2, 1): no longer crossed
    .at(1, 0xffff_ffff).level(Ask, 3, 3) // the largest market id
    .at(0xffff_ffff, 1).level(Ask, 4, 4);
  const set = new BookSet();
  feed(set, events);
  assert.deepEqual(set.books().map((b) => [b.venue, b.market, b.symbol]), [
    [1, 1, "A"],
    [1, 2, "B"],
    [1, 0xffff_ffff, ""],
    [2, 1, ""],
    [0xffff_ffff, 1, ""],
  ]);
  assert.equal(set.book(1, 0xffff_ffff)!.sizeAt(Ask, 3), 3);
  assert.equal(set.book(0xffff_ffff, 1)!.sizeAt(Ask, 4), 4);
  assert.deepEqual(dump(set.book(1, 1)!).bid.orders, [[7, 100, 5]]);
  assert.deepEqual(dump(set.book(1, 2)!).bid.orders, [[7, 50, 1]]);
  assert.deepEqual(dump(set.book(2, 1)!).bid.levels, [[100, 5]]);
  assert.equal(set.book(3, 1), undefined);
  assert.equal(set.stats.events, 9);
  assert.equal(set.stats.duplicateIds, 0);
  assert.equal(set.stats.crossedBatches, 0);
  assert.equal(set.book(1, 1)!.stats, set.stats);
});

Deno.test("a book set returns the book each event went to", () => {
  const set = new BookSet();
  const events = new Events(4, 9).level(Bid, 1, 1).at(4, 8).status(TRADING_STATUS.Trading);
  event.wrapBytes(events.list[0]!.bytes);
  const first = set.apply(event);
  event.wrapBytes(events.list[1]!.bytes);
  const second = set.apply(event);
  assert.deepEqual([first?.venue, first?.market, second?.market], [4, 9, 8]);
  assert.equal(second?.status, TRADING_STATUS.Trading);
});

/** A seeded random stream of L2 and L3 events, with unknown ids, duplicates, clears and ids above 2^32. */
function randomEvents(count: number, seed: number): Events {
  let s = seed;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  const events = new Events();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const side = next(2) as Side;
    const price = side === Bid ? 1000 - next(40) : 1001 + next(40);
    const r = next(100);
    const id = next(10) === 0 ? 2 ** 40 + next(50) : ids[next(ids.length + 1)] ?? 5_000 + i;
    if (r < 40) {
      const fresh = next(4) === 0 ? id : 10_000 + i; // some duplicates
      ids.push(fresh);
      events.add(side, fresh, price, 1 + next(20));
    } else if (r < 55) events.cancel(side, id, price, 1 + next(10));
    else if (r < 65) events.execute(side, id, price, 1 + next(10));
    else if (r < 80) events.delete(side, id, price, 1 + next(10));
    else if (r < 99) events.level(side, price, next(3) === 0 ? 0 : next(60));
    else events.clear();
  }
  return events;
}

/** The rules of "Applying events" written the plain way, to check the fast book against. */
interface ModelLevel {
  orders: { id: number; size: number }[];
  un: number;
}

class ModelBook {
  readonly sides: Map<number, ModelLevel>[] = [new Map(), new Map()];
  readonly where = new Map<number, { side: number; price: number }>();
  unknown = 0;
  duplicates = 0;
  trimmed = 0;

  #dropIfEmpty(side: number, price: number): void {
    const level = this.sides[side]!.get(price);
    if (level && level.orders.length === 0 && level.un === 0) this.sides[side]!.delete(price);
  }

  #level(side: number, price: number): ModelLevel {
    const levels = this.sides[side]!;
    let level = levels.get(price);
    if (!level) levels.set(price, level = { orders: [], un: 0 });
    return level;
  }

  #remove(id: number): void {
    const at = this.where.get(id)!;
    const level = this.sides[at.side]!.get(at.price)!;
    level.orders = level.orders.filter((o) => o.id !== id);
    this.where.delete(id);
    this.#dropIfEmpty(at.side, at.price);
  }

  apply(e: BookEvent): void {
    if (e.kind === BOOK_KIND.Clear) {
      this.sides.forEach((s) => s.clear());
      this.where.clear();
      return;
    }
    const { side, id, price, size } = e;
    switch (e.kind) {
      case BOOK_KIND.Level: {
        const level = this.#level(side, price);
        let known = level.orders.reduce((sum, o) => sum + o.size, 0);
        while (known > size) {
          const last = level.orders.pop()!;
          known -= last.size;
          this.where.delete(last.id);
          this.trimmed++;
        }
        level.un = size - known;
        if (size === 0) this.sides[side]!.delete(price);
        break;
      }
      case BOOK_KIND.OrderAdd:
        if (this.where.has(id)) {
          this.duplicates++;
          this.#remove(id);
        }
        this.#level(side, price).orders.push({ id, size });
        this.where.set(id, { side, price });
        break;
      case BOOK_KIND.OrderCancel:
      case BOOK_KIND.OrderExecute:
      case BOOK_KIND.OrderDelete: {
        const at = this.where.get(id);
        if (at === undefined) {
          this.unknown++;
          const level = this.sides[side]!.get(price);
          if (level) {
            level.un -= Math.min(size, level.un);
            this.#dropIfEmpty(side, price);
          }
        } else {
          const order = this.sides[at.side]!.get(at.price)!.orders.find((o) => o.id === id)!;
          if (e.kind === BOOK_KIND.OrderDelete || order.size <= size) this.#remove(id);
          else order.size -= size;
        }
        break;
      }
    }
  }

  dump() {
    const side = (s: number) => {
      const prices = [...this.sides[s]!.keys()].sort((a, b) => s === Bid ? b - a : a - b);
      const at = (p: number) => this.sides[s]!.get(p)!;
      return {
        levels: prices.map((p) => [p, at(p).orders.reduce((n, o) => n + o.size, at(p).un)]),
        orders: prices.flatMap((p) => at(p).orders.map((o) => [o.id, p, o.size])),
        unattributed: prices.filter((p) => at(p).un > 0).map((p) => [p, at(p).un]),
      };
    };
    return { bid: side(Bid), ask: side(Ask), orderCount: this.where.size };
  }
}

Deno.test("a seeded random stream gives the same book as a plain model of the rules, event by event", () => {
  const events = randomEvents(20_000, 12345);
  const book = new OrderBook(1, 1);
  const model = new ModelBook();
  for (const { bytes } of events.list) {
    event.wrapBytes(bytes);
    book.apply(event);
    model.apply(event);
    const { bid, ask, orderCount } = dump(book);
    assert.deepEqual({ bid, ask, orderCount }, model.dump());
  }
  assert.deepEqual(
    [book.stats.unknownIds, book.stats.duplicateIds, book.stats.trimmedOrders],
    [model.unknown, model.duplicates, model.trimmed],
  );
  assert.ok(model.unknown > 0 && model.duplicates > 0 && model.trimmed > 0);
});

Deno.test("many resting orders: the id index grows and deletes stay exact", () => {
  const events = new Events();
  for (let id = 1; id <= 5_000; id++) {
    events.add(id % 2 as Side, id * 7919, 1000 + (id % 2) * 10, id);
  }
  for (let id = 1; id <= 5_000; id += 2) events.delete(id % 2 as Side, id * 7919, 0, 0);
  const book = bookOf(events);
  assert.equal(book.orderCount, 2_500);
  for (let id = 1; id <= 5_000; id++) {
    assert.equal(book.orderSize(id * 7919), id % 2 === 0 ? id : undefined);
  }
  assert.equal(book.stats.unknownIds, 0);
});

Deno.test("the id index stays exact under churn near its fullest, where probe runs wrap around", () => {
  // About 500 orders keep the first table (1024 entries) just under half full, so runs of
  // probes often cross its end; every add and delete is checked against a plain map.
  const book = new OrderBook(1, 1);
  const want = new Map<number, number>();
  let s = 1;
  const next = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n;
  for (let i = 0; i < 100_000; i++) {
    const id = 1 + next(1_000) * 9_973;
    if (want.has(id)) {
      book.deleteOrder(Bid, id, 0, 0);
      want.delete(id);
    } else if (want.size < 500) {
      book.addOrder(Bid, id, 100 + next(5), 1 + next(9));
      want.set(id, book.orderSize(id)!);
    }
    if (i % 1_000 === 0) {
      for (let k = 0; k < 1_000; k++) {
        const probe = 1 + k * 9_973;
        assert.equal(book.orderSize(probe), want.get(probe));
      }
    }
  }
  assert.equal(book.orderCount, want.size);
  assert.equal(book.stats.unknownIds + book.stats.duplicateIds, 0);
});

Deno.test("the id index stays exact under churn near a quarter full, as order slots are reused", () => {
  // Up to 255 orders fill the first table (1024 entries) to just under its limit of a quarter,
  // so probe runs cross its end and deletes shift entries back across it; freed order slots are
  // reused while the index compares ids in the order records.
  const book = new OrderBook(1, 1);
  const want = new Map<number, number>();
  let s = 7;
  const next = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n;
  for (let i = 0; i < 100_000; i++) {
    const id = 1 + next(600) * 7_919;
    if (want.has(id)) {
      if (next(2) === 0) book.deleteOrder(Bid, id, 0, 0);
      else book.reduceOrder(Bid, id, 0, want.get(id)!);
      want.delete(id);
    } else if (want.size < 255) {
      book.addOrder(Bid, id, 100 + next(5), 1 + next(9));
      want.set(id, book.orderSize(id)!);
    }
    if (i % 1_000 === 0) {
      for (let k = 0; k < 600; k++) {
        const probe = 1 + k * 7_919;
        assert.equal(book.orderSize(probe), want.get(probe));
      }
    }
  }
  assert.equal(book.orderCount, want.size);
  assert.equal(book.stats.unknownIds + book.stats.duplicateIds, 0);
});

Deno.test("wrapping a zero-copy message reads it in place, and still refuses a bad version, size or kind", () => {
  const enc = new BookEventEncoder();
  enc.header.venue = 3;
  enc.header.market = 4;
  enc.header.flags = BOOK_FLAG.BatchEnd;
  const bytes = enc.order(BOOK_KIND.OrderExecute, Ask, 2 ** 40 + 5, 1_234, 300);
  const region = new Uint8Array(16 + bytes.length);
  region.set(bytes, 16);
  const message = (typeId: number, length = bytes.length) => ({
    seq: 9,
    timestampNs: 0n,
    typeId,
    payload: region.subarray(16, 16 + length),
    data: new DataView(region.buffer),
    payloadOffset: 16,
    payloadLength: length,
  });
  const e = new BookEvent();
  assert.equal(e.wrap(message(enc.typeId)), true);
  assert.deepEqual(
    [e.kind, e.flags, e.venue, e.market, e.side, e.id, e.price, e.size, e.seq, e.offset],
    [BOOK_KIND.OrderExecute, BOOK_FLAG.BatchEnd, 3, 4, Ask, 2 ** 40 + 5, 1_234, 300, 9, 16],
  );
  assert.equal(e.data.buffer, region.buffer);
  // A book fed the event straight from the region reduces the order it names.
  const book = new OrderBook(3, 4);
  book.addOrder(Ask, 2 ** 40 + 5, 1_234, 500);
  book.apply(e);
  assert.equal(book.orderSize(2 ** 40 + 5), 200);

  const refuse = (m: ReturnType<typeof message>, why: RegExp) =>
    assert.throws(() => e.wrap(m), (err) => err instanceof BookEventError && why.test(err.message));
  refuse(message(BOOK_TYPE_BASE + BOOK_KIND.OrderAdd), /type id 16899 holds kind 6 at seq 9/);
  refuse(message(enc.typeId, bytes.length - 8), /is 64 bytes, not 72 at seq 9/);
  region[17] = 2; // the version byte
  refuse(message(enc.typeId), /has version 2, not 1 at seq 9/);
  region[17] = 1;
  region[16] = 12; // a kind past the last
  refuse(message(enc.typeId), /unknown kind 12/);
  assert.equal(e.wrap(message(7)), false);
});

Deno.test("the same events always give the same books", () => {
  const events = randomEvents(5_000, 99).at(2, 3).level(Ask, 5, 5).add(Bid, 1, 4, 4);
  const once = new BookSet();
  const twice = new BookSet();
  feed(once, events);
  feed(twice, events);
  assert.deepEqual(once.books().map(dump), twice.books().map(dump));
  assert.deepEqual(once.stats.toJSON(), twice.stats.toJSON());
  // Applying to a book that was cleared gives the same book as a fresh one.
  const reused = new OrderBook(1, 1);
  feed(reused, randomEvents(3_000, 5));
  reused.clear();
  feed(reused, randomEvents(5_000, 99));
  assert.deepEqual(dump(reused), dump(once.book(1, 1)!));
});

Deno.test("book stats list every count by name", () => {
  const stats = new BookStats();
  const book = new OrderBook(1, 1, stats);
  feed(book, new Events().level(Bid, 1, 1).cancel(Bid, 5, 1, 1).add(Bid, 1, 1, 1));
  assert.deepEqual(stats.toJSON(), {
    events: 3,
    kinds: {
      instrument: 0,
      level: 1,
      order_add: 1,
      order_cancel: 1,
      order_delete: 0,
      order_execute: 0,
      hidden_execute: 0,
      trade: 0,
      cross_trade: 0,
      status: 0,
      clear: 0,
    },
    unknownIds: 1,
    duplicateIds: 0,
    trimmedOrders: 0,
    badSides: 0,
    corrections: 0,
    crossedBatches: 0,
    lockedBatches: 0,
  });
  const lines = stats.lines();
  assert.equal(lines[0], "events               3");
  assert.ok(lines.includes("  order_cancel       1"));
  assert.ok(!lines.some((l) => l.includes("order_delete")));
  assert.ok(lines.includes("locked batches       0"));
});

Deno.test("books read from a chronicle queue equal books built from the same bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool-book-" });
  try {
    const events = randomEvents(20_000, 4242).at(1, 2).instrument("SECOND", 3, 1)
      .level(Ask, 7, 70);
    const writer = await QueueWriter.open(dir, { segmentBytes: 256 * 1024 });
    const other = new TextEncoder().encode("not a book event");
    events.list.forEach(({ typeId, bytes }, i) => {
      if (i % 1000 === 0) writer.append(7, other, BigInt(i)); // other traffic shares the queue
      writer.append(typeId, bytes, BigInt(i));
    });
    writer.close();

    const direct = new BookSet();
    feed(direct, events);

    const fromReader = new BookSet();
    const e = new BookEvent();
    const reader = await QueueReader.open(dir);
    let skipped = 0;
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      if (e.wrap(m)) fromReader.apply(e);
      else skipped++;
    }
    reader.close();

    const fromStream = new BookSet();
    const stream = await openStream(dir);
    for await (const m of stream) if (e.wrap(m)) fromStream.apply(e);
    stream.close();

    assert.equal(skipped, Math.ceil(events.list.length / 1000));
    assert.ok(direct.book(1, 1)!.depth(Bid) > 0 && direct.book(1, 1)!.orderCount > 0);
    assert.deepEqual(fromReader.books().map(dump), direct.books().map(dump));
    assert.deepEqual(fromStream.books().map(dump), direct.books().map(dump));
    assert.deepEqual(fromReader.stats.toJSON(), direct.stats.toJSON());
    assert.deepEqual(fromStream.stats.toJSON(), direct.stats.toJSON());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the exchange time in µs is exact for today's timestamps, past 2^53 ns", () => {
  const enc = new BookEventEncoder();
  for (const ns of [1_700_000_000_123_999_999n, 1_700_000_000_124_000_000n, -1n, 0n]) {
    enc.header.exchangeNs = ns;
    event.wrapBytes(enc.clear());
    assert.equal(event.exchangeUs, Number(ns / 1000n) - (ns < 0n && ns % 1000n !== 0n ? 1 : 0));
  }
});

Deno.test("wrapping refuses values no writer of the protocol stores: a side above 2, a negative size, 64-bit values past 2^53, a symbol past 255 bytes", () => {
  const enc = new BookEventEncoder();
  const e = new BookEvent();
  const priced = () => enc.order(BOOK_KIND.OrderAdd, SIDE.Bid, 7, 1000, 5).slice();
  const cases: [string, (b: Uint8Array, v: DataView) => void, RegExp][] = [
    ["side 3", (b) => (b[BODY.side] = 3), /side 3, not 0, 1 or 2/],
    ["negative size", (_, v) => v.setBigInt64(BODY.size, -1n, true), /negative size/],
    ["id 2^53", (_, v) => v.setBigUint64(BODY.id, 2n ** 53n, true), /of 2\^53 or more/],
    ["price 2^53", (_, v) => v.setBigInt64(BODY.price, 2n ** 53n, true), /of 2\^53 or more/],
    [
      "price -2^53-1",
      (_, v) => v.setBigInt64(BODY.price, -(2n ** 53n) - 1n, true),
      /of 2\^53 or more/,
    ],
    ["size 2^60", (_, v) => v.setBigInt64(BODY.size, 2n ** 60n, true), /of 2\^53 or more/],
  ];
  for (const [what, spoil, message] of cases) {
    const bytes = priced();
    spoil(bytes, new DataView(bytes.buffer));
    assert.throws(() => e.wrapBytes(bytes), (error: unknown) => {
      assert.ok(error instanceof BookEventError, what);
      assert.match(error.message, message, what);
      return true;
    });
  }
  // The largest exact values still pass, and read back exactly.
  const edge = enc.order(BOOK_KIND.OrderAdd, SIDE.Ask, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 - 1);
  e.wrapBytes(edge);
  assert.deepEqual([e.id, e.price, e.size], [2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 - 1]);
  // An instrument whose symbol length says 256: longer than any writer stores.
  const long = new Uint8Array(INSTRUMENT.symbol + 256);
  long.set(enc.instrument("X", 2, 0).subarray(0, INSTRUMENT.symbol));
  new DataView(long.buffer).setUint16(INSTRUMENT.symbolLength, 256, true);
  assert.throws(() => e.wrapBytes(long), /symbol is 256 bytes, more than 255/);
});
