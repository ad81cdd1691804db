/**
 * One market's order book, L2 and L3 in one structure: each price level
 * holds a first-in-first-out queue of known orders plus an "unattributed"
 * size that no known order accounts for. Level events set a level's total;
 * order events move known orders. The rules are normative:
 * `docs/book-protocol.md`, "Applying events".
 *
 * Built for replay speed: every table is a typed array, orders and levels
 * live in pooled slots linked by index, and nothing is allocated per event
 * once the pools have grown to the book's size.
 *
 * @module
 */

import type { BookEvent } from "./book_event.ts";
import {
  BODY,
  BOOK_FLAG,
  BOOK_KIND,
  EVENT,
  SIDE,
  type Side,
  TRADING_STATUS,
} from "./book_protocol.ts";
import { BookStats } from "./book_stats.ts";
import type { BookView } from "./book_view.ts";

const NONE = -1;
/** Levels compared one by one from the top before a binary search: most events land there. */
const TOP_SCAN = 8;
/** Below this many elements a loop shifts an array faster than a `copyWithin` call. */
const SHIFT_LOOP = 32;
/** 2^-32: multiplying by it is exact and cheaper than dividing by 2^32. */
const INV_TWO_32 = 1 / 0x1_0000_0000;
const TWO_32 = 0x1_0000_0000;
// Order slot `o` is 32 bytes of one buffer seen two ways: its id and remaining size are the
// float64s at 4o + O_ID and 4o + O_SIZE; its level and FIFO links are the int32s at
// 8o + O_LEVEL, O_PREV and O_NEXT. An order is then one cache line, not one per field.
const O_ID = 0;
const O_SIZE = 1;
const O_LEVEL = 4;
const O_PREV = 5;
const O_NEXT = 6;

/**
 * One side's levels sorted by key, ascending, so the best level is the last
 * and changes at the top of the book shift few elements. The key is the
 * price for bids and minus the price for asks, so both sides sort the same
 * way.
 */
class Ladder {
  keys = new Float64Array(64);
  slots = new Int32Array(64);
  n = 0;

  /** The index holding `key`, or `~i` where `i` is the index it would be inserted at. */
  find(key: number): number {
    const keys = this.keys;
    let i = this.n - 1;
    const stop = i - TOP_SCAN;
    for (; i > stop && i >= 0; i--) {
      const k = keys[i]!;
      if (k === key) return i;
      if (k < key) return ~(i + 1);
    }
    let lo = 0;
    let hi = i;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return ~lo;
  }

  insert(at: number, key: number, slot: number): void {
    if (this.n === this.keys.length) {
      const keys = new Float64Array(this.n * 2);
      keys.set(this.keys);
      this.keys = keys;
      const slots = new Int32Array(this.n * 2);
      slots.set(this.slots);
      this.slots = slots;
    }
    const keys = this.keys;
    const slots = this.slots;
    const n = this.n;
    if (n - at < SHIFT_LOOP) {
      for (let i = n; i > at; i--) {
        keys[i] = keys[i - 1]!;
        slots[i] = slots[i - 1]!;
      }
    } else {
      keys.copyWithin(at + 1, at, n);
      slots.copyWithin(at + 1, at, n);
    }
    keys[at] = key;
    slots[at] = slot;
    this.n = n + 1;
  }

  removeAt(at: number): void {
    const keys = this.keys;
    const slots = this.slots;
    const n = this.n - 1;
    if (n - at < SHIFT_LOOP) {
      for (let i = at; i < n; i++) {
        keys[i] = keys[i + 1]!;
        slots[i] = slots[i + 1]!;
      }
    } else {
      keys.copyWithin(at, at + 1, n + 1);
      slots.copyWithin(at, at + 1, n + 1);
    }
    this.n = n;
  }
}

/** Mixes an id (an integer up to 2^53) into 32 bits: venues' ids are often sequential. */
function hashId(id: number): number {
  const h = Math.imul((id >>> 0) ^ Math.imul((id * INV_TWO_32) >>> 0, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 16);
}

/**
 * The order index holds at most one id per this many entries: short probe
 * runs and short backward shifts are worth the memory (a quarter full
 * replays about 8% faster than half full, at 4 bytes an entry).
 */
const LOAD_FACTOR_INVERSE = 4;

/**
 * Order id to order slot: open addressing with linear probing and
 * backward-shift deletion, so ids above 2^31 never become heap numbers in
 * a `Map` and deletes leave no tombstones. Entries hold only the slot: a
 * probe compares the id in the order's own record, which the caller is
 * about to touch anyway, so a lookup reads one line of the index, not two.
 * Every slot the index holds must carry its id in `orders`.
 */
class OrderIndex {
  /** The book's order records (see O_ID); the book sets it again when they grow. */
  orders: Float64Array;
  #slots = new Int32Array(1024).fill(NONE);
  #mask = 1023;
  #size = 0;

  constructor(orders: Float64Array) {
    this.orders = orders;
  }

  get(id: number): number {
    const orders = this.orders;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hashId(id) & mask;; i = (i + 1) & mask) {
      const slot = slots[i]!;
      if (slot === NONE || orders[4 * slot + O_ID] === id) return slot;
    }
  }

  /** Maps `id` to `slot`; returns the slot it replaces, or NONE when `id` is new. */
  put(id: number, slot: number): number {
    if ((this.#size + 1) * LOAD_FACTOR_INVERSE > this.#slots.length) this.#grow();
    const orders = this.orders;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hashId(id) & mask;; i = (i + 1) & mask) {
      const old = slots[i]!;
      if (old === NONE) {
        slots[i] = slot;
        this.#size++;
        return NONE;
      }
      if (orders[4 * old + O_ID] === id) {
        slots[i] = slot;
        return old;
      }
    }
  }

  /** Removes `id`; returns its slot, or NONE when the index does not hold it. */
  delete(id: number): number {
    const orders = this.orders;
    const slots = this.#slots;
    const mask = this.#mask;
    let hole = hashId(id) & mask;
    let found: number;
    for (;; hole = (hole + 1) & mask) {
      found = slots[hole]!;
      if (found === NONE) return NONE;
      if (orders[4 * found + O_ID] === id) break;
    }
    // Moves back each later entry of the run whose home is not between the hole and it.
    for (let j = (hole + 1) & mask;; j = (j + 1) & mask) {
      const slot = slots[j]!;
      if (slot === NONE) break;
      const home = hashId(orders[4 * slot + O_ID]!) & mask;
      const stays = hole < j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        slots[hole] = slot;
        hole = j;
      }
    }
    slots[hole] = NONE;
    this.#size--;
    return found;
  }

  clear(): void {
    if (this.#size === 0) return;
    this.#slots.fill(NONE);
    this.#size = 0;
  }

  #grow(): void {
    const slots = this.#slots;
    this.#slots = new Int32Array(slots.length * 2).fill(NONE);
    this.#mask = slots.length * 2 - 1;
    this.#size = 0;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] !== NONE) this.put(this.orders[4 * slots[i]! + O_ID]!, slots[i]!);
    }
  }
}

/** The signed 64-bit little-endian integer at `at` of `d`, as a number (exact up to 2^53). */
function i64(d: DataView, at: number): number {
  return d.getInt32(at + 4, true) * TWO_32 + d.getUint32(at, true);
}

/** The unsigned 64-bit little-endian integer at `at` of `d`, as a number (exact up to 2^53). */
function u64(d: DataView, at: number): number {
  return d.getUint32(at + 4, true) * TWO_32 + d.getUint32(at, true);
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T {
  const b = make(a.length * 2);
  b.set(a);
  return b;
}
const f64 = (n: number) => new Float64Array(n);
const i32 = (n: number) => new Int32Array(n);

/**
 * One (venue, market)'s book. {@linkcode OrderBook.apply} applies an event;
 * the {@linkcode BookView} methods read it. Level 0 is the best level.
 *
 * A level's size is its known orders' sizes plus its unattributed size.
 * Level events (L2) set the total; order events (L3) add and take known
 * orders; a stream may mix both. Counts of the rules that bent the book
 * to fit the events go to {@linkcode OrderBook.stats}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOOK_KIND, SIDE } from "./book_protocol.ts";
 * import { BookEvent } from "./book_event.ts";
 * import { BookEventEncoder } from "./book_event_encoder.ts";
 * import { OrderBook } from "./order_book.ts";
 * const enc = new BookEventEncoder();
 * const e = new BookEvent();
 * const book = new OrderBook(0, 0);
 * e.wrapBytes(enc.order(BOOK_KIND.OrderAdd, SIDE.Bid, 1, 995, 10));
 * book.apply(e);
 * e.wrapBytes(enc.order(BOOK_KIND.OrderAdd, SIDE.Bid, 2, 995, 5));
 * book.apply(e);
 * e.wrapBytes(enc.level(SIDE.Ask, 1005, 7));
 * book.apply(e);
 * e.wrapBytes(enc.order(BOOK_KIND.OrderExecute, SIDE.Bid, 1, 995, 4));
 * book.apply(e);
 * assert.equal(book.bestBid(), 995);
 * assert.equal(book.size(SIDE.Bid, 0), 11);
 * assert.equal(book.bestAsk(), 1005);
 * assert.equal(book.orderCount, 2);
 * ```
 */
export class OrderBook implements BookView {
  /** Venue id. */
  readonly venue: number;
  /** Market id within the venue. */
  readonly market: number;
  /** Where the rules' counts go: the book set's, when a set made the book. */
  readonly stats: BookStats;
  #symbol = "";
  #priceDecimals = 0;
  #sizeDecimals = 0;
  #status: number = TRADING_STATUS.Unknown;

  readonly #bids = new Ladder();
  readonly #asks = new Ladder();

  // Level slots: price, side, unattributed size, known orders' sum, FIFO head and tail.
  #lPrice = new Float64Array(256);
  #lSide = new Uint8Array(256);
  #lUnattributed = new Float64Array(256);
  #lKnown = new Float64Array(256);
  #lHead = new Int32Array(256);
  #lTail = new Int32Array(256);
  #lTop = 0;
  #lFree = NONE;

  // Order slots (see O_ID): id, remaining size, level slot and FIFO links; free slots chain
  // through `next`.
  #oF = new Float64Array(4 * 1024);
  #oI = new Int32Array(this.#oF.buffer);
  #oCapacity = 1024;
  #oTop = 0;
  #oFree = NONE;
  #orders = 0;
  readonly #index = new OrderIndex(this.#oF);

  /** An empty book of `venue` and `market`, counting into `stats` (its own by default). */
  constructor(venue: number, market: number, stats: BookStats = new BookStats()) {
    this.venue = venue;
    this.market = market;
    this.stats = stats;
  }

  /** Symbol from the instrument definition, "" until one arrives. */
  get symbol(): string {
    return this.#symbol;
  }

  /** Decimals of prices, 0 until an instrument definition arrives. */
  get priceDecimals(): number {
    return this.#priceDecimals;
  }

  /** Decimals of sizes, 0 until an instrument definition arrives. */
  get sizeDecimals(): number {
    return this.#sizeDecimals;
  }

  /** Trading status ({@linkcode TRADING_STATUS}), Unknown until a status event arrives. */
  get status(): number {
    return this.#status;
  }

  /** Known (L3) orders resting in the book. */
  get orderCount(): number {
    return this.#orders;
  }

  /**
   * Applies one event of this book's market (the caller routes: see
   * {@linkcode BookSet}), counts it, and at an event flagged BatchEnd
   * counts a crossed or locked book.
   */
  apply(e: BookEvent): void {
    // The hot kinds read their fields straight from the event's bytes: a
    // local DataView and offset cost less than a getter per field.
    const kind = e.kind;
    const d = e.data;
    const at = e.offset;
    const flags = d.getUint16(at + EVENT.flags, true);
    const stats = this.stats;
    stats.count(kind);
    if ((flags & BOOK_FLAG.Correction) !== 0) stats.corrections++;
    switch (kind) {
      case BOOK_KIND.Level:
        this.setLevel(
          d.getUint8(at + BODY.side) as Side,
          i64(d, at + BODY.price),
          i64(d, at + BODY.size),
        );
        break;
      case BOOK_KIND.OrderAdd:
        this.addOrder(
          d.getUint8(at + BODY.side) as Side,
          u64(d, at + BODY.id),
          i64(d, at + BODY.price),
          i64(d, at + BODY.size),
        );
        break;
      // A known order needs only the id (and size); side and price are read for unknown ids alone.
      case BOOK_KIND.OrderCancel:
      case BOOK_KIND.OrderExecute: {
        const o = this.#index.get(u64(d, at + BODY.id));
        if (o === NONE) this.#reduceUnattributedAt(d, at);
        else this.#reduceKnown(o, i64(d, at + BODY.size));
        break;
      }
      case BOOK_KIND.OrderDelete: {
        const o = this.#index.delete(u64(d, at + BODY.id));
        if (o === NONE) this.#reduceUnattributedAt(d, at);
        else this.#removeOrder(o);
        break;
      }
      case BOOK_KIND.Status:
        this.#status = e.status;
        break;
      case BOOK_KIND.Clear:
        this.clear();
        break;
      case BOOK_KIND.Instrument:
        this.#symbol = e.symbol;
        this.#priceDecimals = e.priceDecimals;
        this.#sizeDecimals = e.sizeDecimals;
        break;
      default:
        // Hidden executions and trades change no visible liquidity.
        break;
    }
    if ((flags & BOOK_FLAG.BatchEnd) !== 0) this.#checkBatch();
  }

  /**
   * Sets the level at `price` to `size` in all (an L2 level event): the
   * unattributed size becomes what the known orders do not account for;
   * where they account for more, orders go from the back of the queue,
   * newest first, until they do not. Size 0 removes the level.
   */
  setLevel(side: Side, price: number, size: number): void {
    if (side !== SIDE.Bid && side !== SIDE.Ask) {
      this.stats.badSides++;
      return;
    }
    if (!(size > 0)) size = 0;
    const ladder = side === SIDE.Bid ? this.#bids : this.#asks;
    const key = side === SIDE.Bid ? price : -price;
    const at = ladder.find(key);
    if (at < 0) {
      if (size === 0) return;
      const level = this.#newLevel(side, price);
      ladder.insert(~at, key, level);
      this.#lUnattributed[level] = size;
      return;
    }
    const level = ladder.slots[at]!;
    if (size === 0) {
      this.#dropLevel(ladder, at, level, true);
      return;
    }
    let known = this.#lKnown[level]!;
    if (known > size) {
      const oF = this.#oF;
      const tail = this.#lTail;
      while (known > size) {
        const o = tail[level]!;
        known -= oF[4 * o + O_SIZE]!;
        this.#index.delete(this.#oF[4 * o + O_ID]!);
        this.#release(o);
        this.stats.trimmedOrders++;
      }
      this.#lKnown[level] = known;
    }
    this.#lUnattributed[level] = size - known;
  }

  /**
   * Adds an order at the back of its level's queue (an L3 add). An id the
   * book already holds is a duplicate: the old order goes first (counted).
   * A size of 0 adds nothing.
   */
  addOrder(side: Side, orderId: number, price: number, size: number): void {
    if (side !== SIDE.Bid && side !== SIDE.Ask) {
      this.stats.badSides++;
      return;
    }
    if (!(size > 0)) {
      const old = this.#index.delete(orderId);
      if (old !== NONE) {
        this.stats.duplicateIds++;
        this.#removeOrder(old);
      }
      return;
    }
    // One probe of the index both finds a duplicate and maps the id to its new slot.
    const o = this.#newOrder();
    const old = this.#index.put(orderId, o);
    if (old !== NONE) {
      this.stats.duplicateIds++;
      this.#removeOrder(old);
    }
    const ladder = side === SIDE.Bid ? this.#bids : this.#asks;
    const key = side === SIDE.Bid ? price : -price;
    const at = ladder.find(key);
    let level: number;
    if (at < 0) {
      level = this.#newLevel(side, price);
      ladder.insert(~at, key, level);
    } else {
      level = ladder.slots[at]!;
    }
    this.#oF[4 * o + O_ID] = orderId;
    this.#oF[4 * o + O_SIZE] = size;
    this.#oI[8 * o + O_LEVEL] = level;
    const tail = this.#lTail[level]!;
    this.#oI[8 * o + O_PREV] = tail;
    this.#oI[8 * o + O_NEXT] = NONE;
    if (tail === NONE) this.#lHead[level] = o;
    else this.#oI[8 * tail + O_NEXT] = o;
    this.#lTail[level] = o;
    this.#lKnown[level]! += size;
    this.#orders++;
  }

  /**
   * Takes `size` from an order (a partial cancel or a visible execution);
   * at 0 or below the order goes. An unknown id takes from the
   * unattributed size at (`side`, `price`) instead (counted).
   */
  reduceOrder(side: Side, orderId: number, price: number, size: number): void {
    const o = this.#index.get(orderId);
    if (o === NONE) this.#reduceUnattributed(side, price, size);
    else this.#reduceKnown(o, size);
  }

  /**
   * Removes an order, whatever is left of it. An unknown id takes `size`
   * from the unattributed size at (`side`, `price`) instead (counted).
   */
  deleteOrder(side: Side, orderId: number, price: number, size: number): void {
    const o = this.#index.delete(orderId);
    if (o === NONE) this.#reduceUnattributed(side, price, size);
    else this.#removeOrder(o);
  }

  /** Removes every level and order; symbol, decimals and status stay. */
  clear(): void {
    this.#bids.n = 0;
    this.#asks.n = 0;
    this.#lTop = 0;
    this.#lFree = NONE;
    this.#oTop = 0;
    this.#oFree = NONE;
    this.#orders = 0;
    this.#index.clear();
  }

  /** How many levels `side` has. */
  depth(side: Side): number {
    return this.#ladder(side)?.n ?? 0;
  }

  /** Price of level `i` of `side` (0 is the best); undefined past the last level. */
  price(side: Side, i: number): number | undefined {
    const ladder = this.#ladder(side);
    if (ladder === undefined || !(i >= 0 && i < ladder.n)) return undefined;
    return this.#lPrice[ladder.slots[ladder.n - 1 - i]!]!;
  }

  /** Size of level `i` of `side` (0 is the best); 0 past the last level. */
  size(side: Side, i: number): number {
    const ladder = this.#ladder(side);
    if (ladder === undefined || !(i >= 0 && i < ladder.n)) return 0;
    return this.#levelSize(ladder.slots[ladder.n - 1 - i]!);
  }

  /** Size at `price` on `side`; 0 where there is no level. */
  sizeAt(side: Side, price: number): number {
    const ladder = this.#ladder(side);
    if (ladder === undefined) return 0;
    const at = ladder.find(side === SIDE.Bid ? price : -price);
    return at < 0 ? 0 : this.#levelSize(ladder.slots[at]!);
  }

  /** The best bid's price, undefined when there are no bids. */
  bestBid(): number | undefined {
    return this.price(SIDE.Bid, 0);
  }

  /** The best ask's price, undefined when there are no asks. */
  bestAsk(): number | undefined {
    return this.price(SIDE.Ask, 0);
  }

  /** Whether both sides have levels and the best bid is at or above the best ask (crossed or locked). */
  crossed(): boolean {
    const b = this.#bids;
    const a = this.#asks;
    return b.n > 0 && a.n > 0 && b.keys[b.n - 1]! >= -a.keys[a.n - 1]!;
  }

  /** Whether both sides have levels and the best bid equals the best ask. */
  locked(): boolean {
    const b = this.#bids;
    const a = this.#asks;
    return b.n > 0 && a.n > 0 && b.keys[b.n - 1]! === -a.keys[a.n - 1]!;
  }

  /** The remaining size of order `orderId`, undefined when the book does not hold it. */
  orderSize(orderId: number): number | undefined {
    const o = this.#index.get(orderId);
    return o === NONE ? undefined : this.#oF[4 * o + O_SIZE]!;
  }

  /** Calls `fn` for each known order of `side`, best price first, then first in, first out. */
  forEachOrder(side: Side, fn: (orderId: number, price: number, size: number) => void): void {
    const ladder = this.#ladder(side);
    if (ladder === undefined) return;
    for (let i = ladder.n - 1; i >= 0; i--) {
      const level = ladder.slots[i]!;
      const price = this.#lPrice[level]!;
      for (let o = this.#lHead[level]!; o !== NONE; o = this.#oI[8 * o + O_NEXT]!) {
        fn(this.#oF[4 * o + O_ID]!, price, this.#oF[4 * o + O_SIZE]!);
      }
    }
  }

  /** Calls `fn` for each level of `side` with unattributed size, best price first. */
  forEachUnattributed(side: Side, fn: (price: number, size: number) => void): void {
    const ladder = this.#ladder(side);
    if (ladder === undefined) return;
    for (let i = ladder.n - 1; i >= 0; i--) {
      const level = ladder.slots[i]!;
      const size = this.#lUnattributed[level]!;
      if (size > 0) fn(this.#lPrice[level]!, size);
    }
  }

  #ladder(side: Side): Ladder | undefined {
    return side === SIDE.Bid ? this.#bids : side === SIDE.Ask ? this.#asks : undefined;
  }

  #levelSize(level: number): number {
    return this.#lUnattributed[level]! + this.#lKnown[level]!;
  }

  #checkBatch(): void {
    const b = this.#bids;
    const a = this.#asks;
    if (b.n === 0 || a.n === 0) return;
    const bid = b.keys[b.n - 1]!;
    const ask = -a.keys[a.n - 1]!;
    if (bid > ask) this.stats.crossedBatches++;
    else if (bid === ask) this.stats.lockedBatches++;
  }

  #reduceKnown(o: number, size: number): void {
    if (!(size > 0)) return;
    const left = this.#oF[4 * o + O_SIZE]! - size;
    if (left <= 0) {
      this.#index.delete(this.#oF[4 * o + O_ID]!);
      this.#removeOrder(o);
    } else {
      this.#oF[4 * o + O_SIZE] = left;
      this.#lKnown[this.#oI[8 * o + O_LEVEL]!]! -= size;
    }
  }

  /** {@linkcode OrderBook.#reduceUnattributed} with the side, price and size of the event at `at` of `d`. */
  #reduceUnattributedAt(d: DataView, at: number): void {
    this.#reduceUnattributed(
      d.getUint8(at + BODY.side) as Side,
      i64(d, at + BODY.price),
      i64(d, at + BODY.size),
    );
  }

  #reduceUnattributed(side: Side, price: number, size: number): void {
    this.stats.unknownIds++;
    const ladder = this.#ladder(side);
    if (ladder === undefined || !(size > 0)) return;
    const at = ladder.find(side === SIDE.Bid ? price : -price);
    if (at < 0) return;
    const level = ladder.slots[at]!;
    const left = Math.max(0, this.#lUnattributed[level]! - size);
    this.#lUnattributed[level] = left;
    if (left === 0 && this.#lHead[level] === NONE) {
      ladder.removeAt(at);
      this.#freeLevel(level);
    }
  }

  /** Removes order slot `o`, whose id is already out of the index, and its level when nothing is left there. */
  #removeOrder(o: number): void {
    const level = this.#oI[8 * o + O_LEVEL]!;
    this.#lKnown[level]! -= this.#oF[4 * o + O_SIZE]!;
    this.#release(o);
    if (this.#lHead[level] === NONE && this.#lUnattributed[level] === 0) {
      const side = this.#lSide[level]!;
      const ladder = side === SIDE.Bid ? this.#bids : this.#asks;
      const price = this.#lPrice[level]!;
      ladder.removeAt(ladder.find(side === SIDE.Bid ? price : -price));
      this.#freeLevel(level);
    }
  }

  /** Unlinks order slot `o` from its level's queue and frees the slot; the index and the level's sums are the caller's. */
  #release(o: number): void {
    const prev = this.#oI[8 * o + O_PREV]!;
    const next = this.#oI[8 * o + O_NEXT]!;
    const level = this.#oI[8 * o + O_LEVEL]!;
    if (prev === NONE) this.#lHead[level] = next;
    else this.#oI[8 * prev + O_NEXT] = next;
    if (next === NONE) this.#lTail[level] = prev;
    else this.#oI[8 * next + O_PREV] = prev;
    this.#oI[8 * o + O_NEXT] = this.#oFree;
    this.#oFree = o;
    this.#orders--;
  }

  /** Removes the level at `at` of `ladder` with all its orders, counting them as trimmed when `trim`. */
  #dropLevel(ladder: Ladder, at: number, level: number, trim: boolean): void {
    const index = this.#index;
    const oF = this.#oF;
    const oI = this.#oI;
    let dropped = 0;
    for (let o = this.#lHead[level]!; o !== NONE;) {
      const next = oI[8 * o + O_NEXT]!;
      index.delete(oF[4 * o + O_ID]!);
      oI[8 * o + O_NEXT] = this.#oFree;
      this.#oFree = o;
      dropped++;
      o = next;
    }
    this.#orders -= dropped;
    if (trim) this.stats.trimmedOrders += dropped;
    ladder.removeAt(at);
    this.#freeLevel(level);
  }

  #newLevel(side: Side, price: number): number {
    let level = this.#lFree;
    if (level !== NONE) {
      this.#lFree = this.#lHead[level]!;
    } else {
      if (this.#lTop === this.#lPrice.length) this.#growLevels();
      level = this.#lTop++;
    }
    this.#lPrice[level] = price;
    this.#lSide[level] = side;
    this.#lUnattributed[level] = 0;
    this.#lKnown[level] = 0;
    this.#lHead[level] = NONE;
    this.#lTail[level] = NONE;
    return level;
  }

  #freeLevel(level: number): void {
    this.#lHead[level] = this.#lFree;
    this.#lFree = level;
  }

  #newOrder(): number {
    const o = this.#oFree;
    if (o !== NONE) {
      this.#oFree = this.#oI[8 * o + O_NEXT]!;
      return o;
    }
    if (this.#oTop === this.#oCapacity) this.#growOrders();
    return this.#oTop++;
  }

  #growLevels(): void {
    this.#lPrice = grown(this.#lPrice, f64);
    this.#lSide = grown(this.#lSide, (n) => new Uint8Array(n));
    this.#lUnattributed = grown(this.#lUnattributed, f64);
    this.#lKnown = grown(this.#lKnown, f64);
    this.#lHead = grown(this.#lHead, i32);
    this.#lTail = grown(this.#lTail, i32);
  }

  #growOrders(): void {
    this.#oF = grown(this.#oF, f64);
    this.#oI = new Int32Array(this.#oF.buffer);
    this.#oCapacity *= 2;
    this.#index.orders = this.#oF;
  }
}
