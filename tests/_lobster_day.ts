/**
 * A synthetic LOBSTER day for tests: seeded random messages of every event
 * type and the orderbook file that goes with them, computed here by a
 * plain reference book (maps and arrays, nothing of `src/book/`), so the
 * import is checked against an independent account of the book.
 *
 * Orders placed before the window are in the reference book from the
 * start but in no message, as in real files: their cancels, deletes and
 * executions reference ids the importer has never seen, and their levels
 * show in the orderbook file without a message explaining them.
 *
 * @module
 */

import { seededRandom } from "./_seeded_random.ts";

/** How the day is made. */
export interface LobsterDayOptions {
  /** Seed of the random choices; the same seed gives the same files. */
  seed: number;
  /** Message lines to write. */
  messages: number;
  /** Levels per side in the orderbook file. */
  levels: number;
  /** Resting orders placed before the window (in the book, in no message). */
  ordersBeforeWindow: number;
  /**
   * Chance that an order also vanishes from the book with a message, with
   * no message of its own: the vendor's book and messages disagree, as
   * they now and then do in real files.
   */
  silentRemovals?: number;
}

/** The two files' text, and what went into them. */
export interface LobsterDay {
  /** The message file's text. */
  messages: string;
  /** The orderbook file's text. */
  orderbook: string;
  /** Message lines per event type, index 1 to 7. */
  types: number[];
}

const TICK = 100; // $0.01 in dollars × 10000
const EMPTY_ASK = 9999999999;
const EMPTY_BID = -9999999999;
const BID = 1;
const ASK = -1;

interface Order {
  id: number;
  side: number;
  price: number;
  size: number;
}

/** The reference book: orders by id, and each level's ids in time priority. */
class ReferenceBook {
  readonly orders = new Map<number, Order>();
  readonly levels = [new Map<number, number[]>(), new Map<number, number[]>()];

  #side(side: number): Map<number, number[]> {
    return this.levels[side === BID ? 0 : 1]!;
  }

  add(o: Order): void {
    this.orders.set(o.id, o);
    const side = this.#side(o.side);
    const queue = side.get(o.price);
    if (queue === undefined) side.set(o.price, [o.id]);
    else queue.push(o.id);
  }

  reduce(id: number, size: number): void {
    const o = this.orders.get(id)!;
    o.size -= size;
    if (o.size > 0) return;
    this.orders.delete(id);
    const side = this.#side(o.side);
    const queue = side.get(o.price)!;
    queue.splice(queue.indexOf(id), 1);
    if (queue.length === 0) side.delete(o.price);
  }

  /** Prices of `side`, best first. */
  prices(side: number): number[] {
    const prices = [...this.#side(side).keys()];
    return prices.sort((a, b) => side === BID ? b - a : a - b);
  }

  best(side: number): number | undefined {
    return this.prices(side)[0];
  }

  /** The first order in time priority at the best price of `side`. */
  front(side: number): Order | undefined {
    const best = this.best(side);
    if (best === undefined) return undefined;
    return this.orders.get(this.#side(side).get(best)![0]!);
  }

  sizeAt(side: number, price: number): number {
    let size = 0;
    for (const id of this.#side(side).get(price) ?? []) size += this.orders.get(id)!.size;
    return size;
  }

  /** One orderbook row at `levels` levels. */
  row(levels: number): string {
    const asks = this.prices(ASK);
    const bids = this.prices(BID);
    const fields: number[] = [];
    for (let i = 0; i < levels; i++) {
      const ask = asks[i];
      const bid = bids[i];
      fields.push(ask ?? EMPTY_ASK, ask === undefined ? 0 : this.sizeAt(ASK, ask));
      fields.push(bid ?? EMPTY_BID, bid === undefined ? 0 : this.sizeAt(BID, bid));
    }
    return fields.join(",");
  }
}

function timeText(ns: number): string {
  const seconds = Math.floor(ns / 1e9);
  return `${seconds}.${String(ns - seconds * 1e9).padStart(9, "0")}`;
}

/** Makes a day: the message file and the orderbook file, row for row. */
export function lobsterDay(options: LobsterDayOptions): LobsterDay {
  const r = seededRandom(options.seed);
  const int = (from: number, to: number) => from + Math.floor(r() * (to - from + 1));
  const book = new ReferenceBook();
  const start = 1_000_000;
  let nextId = 1000;
  // Resting orders before the window: bids below the center, asks above, many deep.
  for (let i = 0; i < options.ordersBeforeWindow; i++) {
    const side = r() < 0.5 ? BID : ASK;
    const price = start - side * TICK * int(1, 60);
    book.add({ id: nextId++, side, price, size: int(1, 5) * 100 });
  }
  const messages: string[] = [];
  const rows: string[] = [];
  const types = [0, 0, 0, 0, 0, 0, 0, 0];
  let ns = 34_200_000_000_000;
  let halted = false;
  const write = (type: number, id: number, size: number, price: number, direction: number) => {
    messages.push(`${timeText(ns)},${type},${id},${size},${price},${direction}`);
    if (r() < (options.silentRemovals ?? 0) && book.orders.size > 0) {
      const gone = [...book.orders.values()][int(0, book.orders.size - 1)]!;
      book.reduce(gone.id, gone.size);
    }
    rows.push(book.row(options.levels));
    types[type]!++;
  };
  while (messages.length < options.messages) {
    // Several messages often share a time, as in real files.
    if (r() < 0.7) ns += int(1, 2_000_000);
    const live = [...book.orders.values()];
    const pick = live[int(0, live.length - 1)];
    const roll = r();
    if (halted) {
      halted = false;
      write(7, 0, 0, 1, -1);
    } else if (roll < 0.42 || pick === undefined) {
      // Near the other side's best, never crossing it: the price follows the book.
      const side = r() < 0.5 ? BID : ASK;
      const price = (book.best(-side) ?? start) - side * TICK * int(1, 8);
      const o = { id: nextId++, side, price, size: int(1, 10) * 10 };
      book.add(o);
      write(1, o.id, o.size, o.price, side);
    } else if (roll < 0.55) {
      if (pick.size < 2) continue;
      const size = int(1, pick.size - 1);
      book.reduce(pick.id, size);
      write(2, pick.id, size, pick.price, pick.side);
    } else if (roll < 0.8) {
      const size = pick.size;
      book.reduce(pick.id, size);
      write(3, pick.id, size, pick.price, pick.side);
    } else if (roll < 0.93) {
      const side = r() < 0.5 ? BID : ASK;
      const front = book.front(side);
      if (front === undefined) continue;
      // Often the whole order, so executions sweep levels and the book moves.
      const size = r() < 0.6 ? front.size : int(1, front.size);
      book.reduce(front.id, size);
      write(4, front.id, size, front.price, side);
    } else if (roll < 0.98) {
      const side = r() < 0.5 ? BID : ASK;
      write(5, 0, int(1, 300), book.best(side) ?? start, side);
    } else if (roll < 0.995) {
      write(6, nextId++, int(100, 5000), book.best(BID) ?? start, -1);
    } else {
      halted = true;
      write(7, 0, 0, -1, -1);
    }
  }
  return { messages: messages.join("\n") + "\n", orderbook: rows.join("\n") + "\n", types };
}

/**
 * Writes a day into `dir` under LOBSTER's names for `ticker` and `date`,
 * returning the message file's path.
 */
export function writeLobsterDay(
  dir: string,
  day: LobsterDay,
  levels: number,
  ticker = "SYN",
  date = "2013-01-15",
): string {
  const name = `${dir}/${ticker}_${date}_34200000_57600000_`;
  Deno.writeTextFileSync(`${name}message_${levels}.csv`, day.messages);
  Deno.writeTextFileSync(`${name}orderbook_${levels}.csv`, day.orderbook);
  return `${name}message_${levels}.csv`;
}
