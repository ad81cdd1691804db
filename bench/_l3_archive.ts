/**
 * A synthetic L3 feed written to a queue, for the benches that need an
 * archive of book events (warm start, archive tap with snapshots).
 *
 * Each market starts with its Instrument event; then, per event, about 45%
 * order adds (mostly within 10 ticks of the market's mid, some up to 300
 * away), 35% deletes, 7% partial cancels, 8% visible executions (often
 * the whole order) and 5% trades. A market holds at most `restingCap`
 * orders: at the cap an add becomes a delete, so the book, and what a
 * snapshot holds, stays bounded however long the archive. Every event is a
 * batch of one (flagged BatchEnd) and is stamped 1 µs after the one before.
 *
 * Which resting order a delete, cancel or execution hits is `picks`:
 * `uniform` (the default) draws any of them alike, the worst case for a
 * book's caches; `recent` draws as real feeds do. In the committed LOBSTER
 * excerpt (GOOG, 2,000 messages) 97% of the cancels, deletes and
 * executions of a known order hit one of the 4 orders added most recently
 * among those still resting, and half hit the very last one; so `recent`
 * takes the k-th most recent order with probability 0.6 × 0.4^k (97% land
 * in the last 4) and, 3% of the time, any resting order alike, which keeps
 * old orders ageing out.
 *
 * @module
 */

import { QueueWriter } from "../src/chronicle/mod.ts";
import { BookEventEncoder } from "../src/book/book_event_encoder.ts";
import { BOOK_FLAG, BOOK_KIND, SIDE, type Side } from "../src/book/book_protocol.ts";

/** How the feed is made. */
export interface L3ArchiveOptions {
  /** Book events to write, Instrument events included. */
  events: number;
  /** Markets (ids 1..markets, venue 1); the first takes half the events. */
  markets: number;
  /** Most resting orders per market. */
  restingCap: number;
  /** Seed of the random choices. */
  seed?: number;
  /** Timestamp of the first event, ns since the epoch. */
  firstNs?: bigint;
  /** Which resting order a delete, cancel or execution hits (see the module doc); default `uniform`. */
  picks?: "uniform" | "recent";
}

/** What was written. */
export interface L3Archive {
  /** Records in the queue. */
  events: number;
  /** Timestamp of the first record. */
  firstNs: bigint;
  /** Timestamp of the last record. */
  lastNs: bigint;
}

/** A seeded generator of numbers in [0, 1), so every run writes the same events. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

/**
 * One market's resting orders, in parallel arrays: swap-removed when they
 * go, or, when `ordered`, spliced out so that they stay in the order they
 * were added.
 */
class Resting {
  ids: number[] = [];
  sizes: number[] = [];
  sides: Side[] = [];
  prices: number[] = [];

  constructor(readonly ordered: boolean) {}

  remove(k: number): void {
    if (this.ordered) {
      this.ids.splice(k, 1);
      this.sizes.splice(k, 1);
      this.sides.splice(k, 1);
      this.prices.splice(k, 1);
      return;
    }
    const last = this.ids.length - 1;
    this.ids[k] = this.ids[last]!;
    this.sizes[k] = this.sizes[last]!;
    this.sides[k] = this.sides[last]!;
    this.prices[k] = this.prices[last]!;
    this.ids.pop();
    this.sizes.pop();
    this.sides.pop();
    this.prices.pop();
  }
}

/** Appends the feed to a new queue at `dir` (created here). */
export async function writeL3Archive(dir: string, options: L3ArchiveOptions): Promise<L3Archive> {
  const rnd = seeded(options.seed ?? 13);
  const enc = new BookEventEncoder();
  enc.header.venue = 1;
  enc.header.flags = BOOK_FLAG.BatchEnd;
  const writer = await QueueWriter.open(dir, { prefault: false });
  const recent = options.picks === "recent";
  const markets = Array.from({ length: options.markets }, () => new Resting(recent));
  // The index of the order a removal hits among `n` resting, oldest first.
  const pick = (n: number) => {
    if (!recent || rnd() < 0.03) return Math.floor(rnd() * n);
    let k = 0;
    while (rnd() >= 0.6 && k < n - 1) k++;
    return n - 1 - k;
  };
  // A fixed mid per market, so the book is never crossed.
  const mids = markets.map((_, i) => 1_000_000 + i * 10_000);
  const defined = markets.map(() => false);
  const firstNs = options.firstNs ?? 1_700_000_000_000_000_000n;
  const away = () => (rnd() < 0.9 ? Math.floor(rnd() * 10) : 10 + Math.floor(rnd() * 290));
  let nextId = 1;
  let tradeId = 1;
  let ts = firstNs;
  try {
    for (let i = 0; i < options.events; i++) {
      const market = rnd() < 0.5 ? 0 : Math.floor(rnd() * options.markets);
      const m = markets[market]!;
      enc.header.market = market + 1;
      ts = firstNs + BigInt(i) * 1000n;
      enc.header.exchangeNs = ts;
      enc.header.receiveNs = ts;
      enc.header.vendorSeq = i + 1;
      let bytes: Uint8Array;
      const n = m.ids.length;
      const r = rnd();
      if (!defined[market]) {
        defined[market] = true;
        bytes = enc.instrument(`SYN${market + 1}`, 4, 0);
      } else if (n < 50 || (r < 0.45 && n < options.restingCap)) {
        const mid = mids[market]!;
        const side: Side = rnd() < 0.5 ? SIDE.Bid : SIDE.Ask;
        const price = side === SIDE.Bid ? mid - away() : mid + 1 + away();
        const size = 100 * (1 + Math.floor(rnd() * 10));
        m.ids.push(nextId);
        m.sizes.push(size);
        m.sides.push(side);
        m.prices.push(price);
        bytes = enc.order(BOOK_KIND.OrderAdd, side, nextId++, price, size);
      } else if (r < 0.95) {
        const k = pick(n);
        const left = m.sizes[k]!;
        const kind = r < 0.8
          ? BOOK_KIND.OrderDelete
          : r < 0.87
          ? BOOK_KIND.OrderCancel
          : BOOK_KIND.OrderExecute;
        const size = kind === BOOK_KIND.OrderDelete || rnd() < 0.5 ? left : Math.min(left, 100);
        bytes = enc.order(kind, m.sides[k]!, m.ids[k]!, m.prices[k]!, size);
        if (size === left) m.remove(k);
        else m.sizes[k] = left - size;
      } else {
        bytes = enc.trade(BOOK_KIND.Trade, SIDE.None, tradeId++, mids[market]!, 100);
      }
      writer.append(enc.typeId, bytes, ts);
    }
  } finally {
    writer.close();
  }
  return { events: options.events, firstNs, lastNs: ts };
}
