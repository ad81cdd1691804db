/**
 * Feature rows from a stream of book events: per batch, per N events or
 * per bucket of stream time, for every market of the stream, as the events
 * arrive (so it follows live streams). `docs/features.md` defines the
 * features and when rows are written.
 *
 * @module
 */

import type { BookEvent } from "./book_event.ts";
import { BOOK_FLAG, SIDE, type Side } from "./book_protocol.ts";
import type { BookView } from "./book_view.ts";
import { EVERY_BATCH, type FeatureSpec, type RowEvery } from "./feature_spec.ts";
import { OrderFlowImbalance } from "./order_flow_imbalance.ts";
import { imbalanceText, micropriceText, midText, spreadText } from "./quote_features.ts";
import { formatScaled } from "./scaled_decimal.ts";
import { isTradeKind, TradeTally } from "./trade_tally.ts";

/** One row of features for one market. */
export interface FeatureRow {
  /** Seq of the event that ended the last batch the row shows. */
  readonly seq: number;
  /**
   * That event's exchange timestamp; with time buckets, the end of the
   * bucket (the row shows every batch stamped before it).
   */
  readonly timestampNs: bigint;
  /** Venue id. */
  readonly venue: number;
  /** Market id within the venue. */
  readonly market: number;
  /** The market's symbol, "" until its instrument definition arrives. */
  readonly symbol: string;
  /**
   * One value per feature, in the order of the specs: exact decimal text
   * (`Number()` of it is the nearest double), undefined where the feature
   * has no value (an empty side, no trades).
   */
  readonly values: readonly (string | undefined)[];
}

/** Options of {@linkcode FeatureComputer}. */
export interface FeatureComputerOptions {
  /** The features of each row, in column order ({@linkcode parseFeatures}). */
  readonly features: readonly FeatureSpec[];
  /** How often a market gets a row. Default: after every batch. */
  readonly every?: RowEvery;
  /** Receives each row as soon as it is complete. */
  readonly onRow: (row: FeatureRow) => void;
}

/**
 * Computes feature rows from book events. Apply each event to its book
 * (a {@linkcode BookSet}), then hand both to
 * {@linkcode FeatureComputer.push}; call {@linkcode FeatureComputer.finish}
 * at the end of a finite stream.
 *
 * A batch counts as one change: at the event flagged BatchEnd the market's
 * quote is sampled from its book, order-flow imbalance takes a step, and the
 * batch's trades join the row's. Events after the last BatchEnd of a stream
 * (an unfinished batch) are never shown.
 *
 * Rows: with `every` of N events (default 1), a market gets a row at the
 * first BatchEnd of its own where N or more of its events have arrived since
 * its last row. With a time interval, stream time (exchange timestamps, in
 * whole µs) is cut into buckets aligned to multiples of the interval since
 * the epoch; a bucket closes when the first event stamped at or past its
 * end arrives, and each market with a batch ending in it gets one row,
 * in (venue, market) order. An event stamped before the open bucket (time
 * going backwards, as in a merge) joins the open bucket. At
 * {@linkcode FeatureComputer.finish} the open bucket closes, and with an
 * event count each market with batches since its last row gets one.
 *
 * @example A row per batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOOK_FLAG, SIDE } from "./book_protocol.ts";
 * import { BookEvent } from "./book_event.ts";
 * import { BookEventEncoder } from "./book_event_encoder.ts";
 * import { BookSet } from "./book_set.ts";
 * import { FeatureComputer, type FeatureRow } from "./feature_computer.ts";
 * import { parseFeatures } from "./feature_spec.ts";
 * const enc = new BookEventEncoder();
 * const e = new BookEvent();
 * const books = new BookSet();
 * const rows: FeatureRow[] = [];
 * const features = new FeatureComputer({ features: parseFeatures("mid,spread"), onRow: (r) => rows.push(r) });
 * const feed = (bytes: Uint8Array) => {
 *   e.wrapBytes(bytes);
 *   features.push(e, books.apply(e));
 * };
 * enc.header.flags = BOOK_FLAG.BatchEnd;
 * feed(enc.instrument("ABC", 2, 0));
 * feed(enc.level(SIDE.Bid, 10_050, 3));
 * feed(enc.level(SIDE.Ask, 10_055, 1));
 * assert.deepEqual(rows.map((r) => r.values), [
 *   [undefined, undefined],
 *   [undefined, undefined],
 *   ["100.525", "0.05"],
 * ]);
 * ```
 */
export class FeatureComputer {
  readonly #features: readonly FeatureSpec[];
  readonly #every: RowEvery;
  readonly #onRow: (row: FeatureRow) => void;
  readonly #byVenue = new Map<number, Map<number, MarketState>>();
  // The last market used: streams run long on one market, and this spares the two lookups.
  #last: MarketState | undefined;
  // Time buckets: the open bucket's end in µs (NaN before the first event), and its markets.
  #bucketEndUs = NaN;
  readonly #touched: MarketState[] = [];

  /** Makes a computer that hands rows to `options.onRow`. */
  constructor(options: FeatureComputerOptions) {
    this.#features = options.features;
    this.#every = options.every ?? EVERY_BATCH;
    this.#onRow = options.onRow;
  }

  /**
   * Takes the next event of the stream, with `book`: its market's book
   * after the event was applied. The computer keeps the last book it was
   * given for each market, so `book` may be undefined where the event
   * changed none. Rows it completes are handed out before it returns.
   */
  push(e: BookEvent, book: BookView | undefined): void {
    const s = this.#state(e.venue, e.market);
    if (book !== undefined) s.book = book;
    const every = this.#every;
    if (every.kind === "time") this.#advance(e.exchangeUs, every.intervalUs);
    s.events++;
    if (isTradeKind(e.kind)) s.batchTrades.add(e.price, e.size);
    if ((e.flags & BOOK_FLAG.BatchEnd) === 0) return;
    s.endBatch(e.seq, this.#features);
    if (every.kind === "time") {
      if (!s.inBucket) {
        s.inBucket = true;
        this.#touched.push(s);
      }
    } else if (s.events >= every.count) {
      this.#emit(s, e.exchangeNs);
    } else {
      s.timestampNs = e.exchangeNs;
    }
  }

  /** Writes what is left at the end of a finite stream: the open bucket, or the last rows short of N events. */
  finish(): void {
    if (this.#every.kind === "time") {
      this.#closeBucket();
      return;
    }
    const waiting: MarketState[] = [];
    for (const markets of this.#byVenue.values()) {
      for (const s of markets.values()) if (s.unshown) waiting.push(s);
    }
    for (const s of waiting.sort(byMarket)) this.#emit(s, s.timestampNs);
  }

  #advance(us: number, intervalUs: number): void {
    // Written so that NaN (no bucket yet) also starts one.
    if (us < this.#bucketEndUs) return;
    this.#closeBucket();
    this.#bucketEndUs = (Math.floor(us / intervalUs) + 1) * intervalUs;
  }

  #closeBucket(): void {
    const touched = this.#touched;
    if (touched.length === 0) return;
    const end = BigInt(this.#bucketEndUs) * 1000n;
    for (const s of touched.sort(byMarket)) {
      s.inBucket = false;
      this.#emit(s, end);
    }
    touched.length = 0;
  }

  #emit(s: MarketState, timestampNs: bigint): void {
    const ofi = s.ofi.take();
    const values = this.#features.map((f, i): string | undefined => {
      switch (f.name) {
        case "mid":
          return midText(s.bid, s.ask, s.priceDecimals);
        case "spread":
          return spreadText(s.bid, s.ask, s.priceDecimals);
        case "microprice":
          return micropriceText(s.bid, s.bidSize, s.ask, s.askSize, s.priceDecimals);
        case "imbalance":
          return imbalanceText(s.depthSums[2 * i]!, s.depthSums[2 * i + 1]!);
        case "ofi":
          return formatScaled(ofi, s.sizeDecimals);
        case "vwap":
          return s.trades.vwapText(s.priceDecimals);
        case "trades":
          return String(s.trades.count);
      }
    });
    const row: FeatureRow = {
      seq: s.seq,
      timestampNs,
      venue: s.venue,
      market: s.market,
      symbol: s.symbol,
      values,
    };
    s.events = 0;
    s.unshown = false;
    s.trades.clear();
    this.#onRow(row);
  }

  #state(venue: number, market: number): MarketState {
    const last = this.#last;
    if (last !== undefined && last.market === market && last.venue === venue) return last;
    let markets = this.#byVenue.get(venue);
    if (markets === undefined) {
      markets = new Map();
      this.#byVenue.set(venue, markets);
    }
    let s = markets.get(market);
    if (s === undefined) {
      s = new MarketState(venue, market, this.#features.length);
      markets.set(market, s);
    }
    this.#last = s;
    return s;
  }
}

function byMarket(a: MarketState, b: MarketState): number {
  return a.venue - b.venue || a.market - b.market;
}

/** One market's state: its quote at its last batch end, and what happened since its last row. */
class MarketState {
  book: BookView | undefined;
  bid: number | undefined;
  bidSize = 0;
  ask: number | undefined;
  askSize = 0;
  /** Per feature i, summed bid size at [2i] and ask size at [2i+1] over the feature's depth (imbalance only). */
  readonly depthSums: Float64Array;
  priceDecimals = 0;
  sizeDecimals = 0;
  symbol = "";
  readonly ofi = new OrderFlowImbalance();
  /** Trades of the batch not yet ended. */
  readonly batchTrades = new TradeTally();
  /** Trades of ended batches since the last row. */
  readonly trades = new TradeTally();
  /** Events since the last row. */
  events = 0;
  /** Whether a batch ended since the last row. */
  unshown = false;
  /** Seq of the last batch end. */
  seq = 0;
  /** Exchange timestamp of the last batch end not yet shown (events mode). */
  timestampNs = 0n;
  /** Whether the market has a batch end in the open time bucket. */
  inBucket = false;

  constructor(readonly venue: number, readonly market: number, features: number) {
    this.depthSums = new Float64Array(2 * features);
  }

  /** Takes in a batch ended by the event at `seq`. */
  endBatch(seq: number, features: readonly FeatureSpec[]): void {
    this.seq = seq;
    this.unshown = true;
    this.trades.absorb(this.batchTrades);
    const book = this.book;
    if (book === undefined) return;
    this.bid = book.price(SIDE.Bid, 0);
    this.bidSize = book.size(SIDE.Bid, 0);
    this.ask = book.price(SIDE.Ask, 0);
    this.askSize = book.size(SIDE.Ask, 0);
    this.priceDecimals = book.priceDecimals;
    this.sizeDecimals = book.sizeDecimals;
    this.symbol = book.symbol;
    this.ofi.observe(this.bid, this.bidSize, this.ask, this.askSize);
    for (let i = 0; i < features.length; i++) {
      const f = features[i]!;
      if (f.name !== "imbalance") continue;
      this.depthSums[2 * i] = topSize(book, SIDE.Bid, f.depth);
      this.depthSums[2 * i + 1] = topSize(book, SIDE.Ask, f.depth);
    }
  }
}

function topSize(book: BookView, side: Side, depth: number): number {
  const n = Math.min(depth, book.depth(side));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += book.size(side, i);
  return sum;
}
