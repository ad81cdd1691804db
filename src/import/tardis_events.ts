/**
 * The book events a Tardis import writes: one market per symbol, numbered
 * 1, 2, … in order of its first event, each defined by an instrument event
 * before its first event; prices and amounts scaled exactly by decimals
 * that are given or inferred; and the import records that carry them.
 *
 * @module
 */

import {
  BOOK_FLAG,
  BOOK_KIND,
  BOOK_KIND_NAMES,
  BookEventEncoder,
  MAX_DECIMALS,
  MAX_SYMBOL_BYTES,
  type Side,
} from "../book/mod.ts";
import { reportWarning } from "../tape/mod.ts";
import { decimalsOf, scaleDecimal } from "./decimal_scale.ts";
import { InputLineError } from "./import_error.ts";
import type { ImportRecord } from "./queue_import.ts";
import { type TardisCounts, tardisCounts } from "./tardis_counts.ts";

/** Options of a Tardis import. */
export interface TardisImportOptions {
  /** Venue id of every event; default 1. */
  venue?: number;
  /** Decimals of prices, 0 to 18; inferred per symbol when not given. */
  priceDecimals?: number;
  /** Decimals of amounts (sizes), 0 to 18; inferred per symbol when not given. */
  sizeDecimals?: number;
  /**
   * Only these symbols are imported, as markets 1, 2, … in this order;
   * rows of others are left out and counted. Default: every symbol, numbered
   * in order of its first event.
   */
  symbols?: readonly string[];
  /**
   * A `timestamp` earlier than the one before of its symbol, or a last line
   * without a newline, is an error instead of being counted or warned of.
   */
  strict?: boolean;
  /**
   * Resume: rows before this line are read (so markets, decimals and the
   * book's snapshot state are what they were) but write nothing and count
   * nothing. Default 1.
   */
  fromLine?: number;
  /** Told of what may be damage but does not stop the import; default `reportWarning`. */
  onWarning?: (message: string) => void;
}

/** One symbol of a Tardis import. */
export interface TardisMarket {
  /** The symbol, as the file writes it. */
  readonly symbol: string;
  /** Market id; 0 until numbered (asked-for symbols are numbered up front). */
  id: number;
  /** Whether its instrument event is written, which fixes its decimals. */
  defined: boolean;
  /** Decimals of its prices: given, or the most seen so far until it is defined. */
  priceDecimals: number;
  /** Decimals of its amounts, likewise. */
  sizeDecimals: number;
  /** `timestamp` of its last row used, µs; -1 before the first. */
  lastExchangeUs: number;
}

/** Where an event comes from: its row's line and timestamps. */
export interface TardisStamp {
  /** 1-based line of the row. */
  line: number;
  /** The row's `timestamp`, µs since the epoch. */
  exchangeUs: number;
  /** The row's `local_timestamp`, µs since the epoch. */
  receiveUs: number;
}

/** The columns that hold decimal values. */
export type TardisValueColumn = "price" | "amount";

const UTF8 = new TextEncoder();
const OPTION: Record<TardisValueColumn, string> = {
  price: "--price-decimals",
  amount: "--size-decimals",
};
const LABEL: Record<TardisValueColumn, string> = { price: "Price", amount: "Amount" };

function checkDecimals(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > MAX_DECIMALS)) {
    throw new RangeError(`${name} '${value}' must be an integer from 0 to ${MAX_DECIMALS}`);
  }
}

/**
 * Markets, scaling, and the records of one Tardis import. The importers
 * read rows; this turns them into events.
 *
 * @example Define a market from its first trade and write the trade
 * ```ts
 * import assert from "node:assert/strict";
 * import { TardisEvents } from "./tardis_events.ts";
 * import { BookEvent, SIDE } from "../book/mod.ts";
 * const events = new TardisEvents({ venue: 3 });
 * const m = events.market("BTCUSDT")!;
 * events.note(m, "6443.25", "0.5", 2);
 * const at = { line: 2, exchangeUs: 1585699200245000, receiveUs: 1585699200355897 };
 * const e = new BookEvent();
 * // A record's payload is the encoder's buffer: read it before the next event.
 * e.wrapBytes(events.instrument(m, at)!.payload);
 * assert.deepEqual([e.symbol, e.priceDecimals, e.sizeDecimals, e.market], ["BTCUSDT", 2, 1, 1]);
 * const price = events.scale(m, "price", "6443.25", 2);
 * const trade = events.trade(m, at, SIDE.Bid, 77, price, events.scale(m, "amount", "0.5", 2))!;
 * e.wrapBytes(trade.payload);
 * assert.deepEqual([e.venue, e.price, e.size, e.id], [3, 644325, 5, 77]);
 * assert.equal(trade.timestampNs, 1585699200245000000n);
 * ```
 */
export class TardisEvents {
  /** What the import saw; see {@linkcode TardisCounts}. */
  readonly counts: TardisCounts = tardisCounts();
  /** First line written and counted; see {@linkcode TardisImportOptions.fromLine}. */
  readonly fromLine: number;
  readonly #encoder = new BookEventEncoder();
  readonly #markets = new Map<string, TardisMarket>();
  readonly #filtered: boolean;
  readonly #strict: boolean;
  readonly #warn: (message: string) => void;
  readonly #given: Record<TardisValueColumn, number | undefined>;
  readonly #bytesRead: () => number;
  #nextId = 1;

  /**
   * Checks `options`; `bytesRead` tells how much input has been read, for
   * the records' progress.
   *
   * @throws {RangeError} when an option is out of range or a symbol is empty or too long.
   */
  constructor(options: TardisImportOptions = {}, bytesRead: () => number = () => 0) {
    checkDecimals("Price decimals", options.priceDecimals);
    checkDecimals("Size decimals", options.sizeDecimals);
    const fromLine = options.fromLine ?? 1;
    if (!Number.isSafeInteger(fromLine) || fromLine < 1) {
      throw new RangeError(`From line '${fromLine}' must be a whole number from 1`);
    }
    const venue = options.venue ?? 1;
    if (!Number.isInteger(venue) || venue < 0 || venue > 0xffff_ffff) {
      throw new RangeError(`Venue '${venue}' must be an integer from 0 to 2^32-1`);
    }
    this.#encoder.header.venue = venue;
    this.#given = { price: options.priceDecimals, amount: options.sizeDecimals };
    this.#strict = options.strict ?? false;
    this.#warn = options.onWarning ?? reportWarning;
    this.fromLine = fromLine;
    this.#bytesRead = bytesRead;
    this.#filtered = options.symbols !== undefined;
    // Asked-for symbols are numbered up front, in the order asked.
    for (const symbol of options.symbols ?? []) {
      if (this.#markets.has(symbol)) continue;
      const m = this.#newMarket(symbol);
      m.id = this.#nextId++;
      this.#markets.set(symbol, m);
    }
  }

  /** Whether a row at `line` is written and counted (it is at or after `fromLine`). */
  counting(line: number): boolean {
    return line >= this.fromLine;
  }

  /**
   * The row at `line` is the input's last and has no newline: the end of
   * a file cut short, perhaps in the middle of a field, looks so. A
   * warning (`line N is the last…`, for the caller to put the file's name
   * before), or an error with `strict`; nothing before `fromLine`, which
   * was imported already.
   *
   * @throws {InputLineError} with `strict`.
   */
  unterminated(line: number): void {
    if (!this.counting(line)) return;
    const reason = `is the last and has no newline: the file may be cut short`;
    if (this.#strict) throw new InputLineError(`Line ${line} ${reason} ('--strict')`, line);
    this.#warn(`line ${line} ${reason}; it was imported ('--strict' refuses it)`);
  }

  /**
   * The market of `symbol`, made on its first row; undefined for a symbol
   * not asked for (counted for a row at `line`).
   *
   * @throws {InputLineError} when the symbol is empty or longer than 255 bytes.
   */
  market(symbol: string, line = 0): TardisMarket | undefined {
    let m = this.#markets.get(symbol);
    if (m === undefined) {
      if (this.#filtered) {
        if (this.counting(line)) this.counts.otherSymbolRows++;
        return undefined;
      }
      try {
        m = this.#newMarket(symbol);
      } catch (error) {
        throw new InputLineError((error as Error).message, line, { cause: error });
      }
      this.#markets.set(symbol, m);
    }
    return m;
  }

  #newMarket(symbol: string): TardisMarket {
    const bytes = UTF8.encode(symbol).byteLength;
    if (bytes === 0 || bytes > MAX_SYMBOL_BYTES) {
      throw new RangeError(`Symbol '${symbol}' must be 1 to ${MAX_SYMBOL_BYTES} bytes of UTF-8`);
    }
    return {
      symbol,
      id: 0,
      defined: false,
      priceDecimals: this.#given.price ?? 0,
      sizeDecimals: this.#given.amount ?? 0,
      lastExchangeUs: -1,
    };
  }

  /**
   * Checks that the row at `at` does not go back in time for its market:
   * counted, or an error with `strict`.
   *
   * @throws {InputLineError} with `strict` when it does.
   */
  time(m: TardisMarket, at: TardisStamp): void {
    if (at.exchangeUs < m.lastExchangeUs) {
      if (this.#strict) {
        throw new InputLineError(
          `'timestamp' ${at.exchangeUs} is earlier than ${m.lastExchangeUs} of the row before for '${m.symbol}' ('--strict')`,
          at.line,
        );
      }
      if (this.counting(at.line)) this.counts.backwardTimes++;
    }
    m.lastExchangeUs = at.exchangeUs;
  }

  /**
   * Checks a row's price and amount: decimal numbers, the amount not
   * negative, and each held exactly by its market's decimals. Until the
   * market is defined, inferred decimals grow to hold them.
   *
   * @throws {InputLineError} naming the value, and the option to pass when it has too many decimals.
   */
  note(m: TardisMarket, price: string, amount: string, line: number): void {
    this.#note(m, "price", price, line);
    this.#note(m, "amount", amount, line);
    if (amount.charCodeAt(0) === 45) {
      throw new InputLineError(`Amount '${amount}' is negative`, line);
    }
  }

  #note(m: TardisMarket, column: TardisValueColumn, text: string, line: number): void {
    let decimals: number;
    try {
      decimals = decimalsOf(text);
    } catch {
      throw new InputLineError(`${LABEL[column]} '${text}' is not a decimal number`, line);
    }
    const field = column === "price" ? "priceDecimals" : "sizeDecimals";
    if (decimals <= m[field]) return;
    const given = this.#given[column];
    const more = `import into a new queue with '${OPTION[column]} ${decimals}' or more`;
    if (given !== undefined) {
      throw new InputLineError(
        `${LABEL[column]} '${text}' has ${decimals} decimals, more than '${
          OPTION[column]
        } ${given}': ${more}`,
        line,
      );
    }
    if (m.defined) {
      throw new InputLineError(
        `${LABEL[column]} '${text}' has ${decimals} decimals, more than the ${
          m[field]
        } inferred for '${m.symbol}' from its first rows: ${more}`,
        line,
      );
    }
    if (decimals > MAX_DECIMALS) {
      throw new InputLineError(
        `${
          LABEL[column]
        } '${text}' has ${decimals} decimals; a book event holds at most ${MAX_DECIMALS}`,
        line,
      );
    }
    m[field] = decimals;
  }

  /**
   * `text`, a value already passed to {@linkcode TardisEvents.note}, scaled
   * by its market's decimals.
   *
   * @throws {InputLineError} when the scaled value is past 2^53-1.
   */
  scale(m: TardisMarket, column: TardisValueColumn, text: string, line: number): number {
    const decimals = column === "price" ? m.priceDecimals : m.sizeDecimals;
    try {
      return scaleDecimal(text, decimals);
    } catch {
      throw new InputLineError(
        `${
          LABEL[column]
        } '${text}' at ${decimals} decimals is past 2^53-1, the most a book event holds exactly`,
        line,
      );
    }
  }

  /**
   * Defines `m`: numbers it (unless its symbol was asked for) and fixes its
   * decimals. The instrument event is flagged as a batch of its own and
   * stamped with its market's first row, `at`.
   */
  instrument(m: TardisMarket, at: TardisStamp): ImportRecord | undefined {
    if (m.id === 0) m.id = this.#nextId++;
    m.defined = true;
    this.#stamp(BOOK_FLAG.BatchEnd, m, at, at.line - 1);
    return this.#record(at, this.#encoder.instrument(m.symbol, m.priceDecimals, m.sizeDecimals));
  }

  /** A clear of `m` flagged as a snapshot's beginning; `at` is the snapshot's first row. */
  clear(m: TardisMarket, at: TardisStamp): ImportRecord | undefined {
    this.#stamp(BOOK_FLAG.SnapshotBegin, m, at, at.line - 1);
    return this.#record(at, this.#encoder.clear());
  }

  /** A level set from the row `at`, with `flags`. */
  level(
    m: TardisMarket,
    at: TardisStamp,
    flags: number,
    side: Side,
    price: number,
    size: number,
  ): ImportRecord | undefined {
    this.#stamp(flags, m, at, at.line);
    return this.#record(at, this.#encoder.level(side, price, size));
  }

  /** A trade from the row `at`, a batch of its own. */
  trade(
    m: TardisMarket,
    at: TardisStamp,
    side: Side,
    tradeId: number,
    price: number,
    size: number,
  ): ImportRecord | undefined {
    this.#stamp(BOOK_FLAG.BatchEnd, m, at, at.line);
    return this.#record(at, this.#encoder.trade(BOOK_KIND.Trade, side, tradeId, price, size));
  }

  /**
   * Sets the header of the next event. Its vendor seq, and its record's
   * line, is `line`: the row's own for the row's event, the line before
   * for an event the row causes before its own (instrument, clear). When
   * one of those is written and the row's own is not, an import resumed
   * from the line after the last written repeats both, and a repeated
   * definition or clear changes nothing; and the queue's last vendor seq
   * is always the line before the one to resume from.
   */
  #stamp(flags: number, m: TardisMarket, at: TardisStamp, line: number): void {
    const h = this.#encoder.header;
    h.flags = flags;
    h.market = m.id;
    h.exchangeNs = BigInt(at.exchangeUs) * 1000n;
    h.receiveNs = BigInt(at.receiveUs) * 1000n;
    h.vendorSeq = line;
  }

  /** The record of the event just encoded, or undefined before `fromLine`. */
  #record(at: TardisStamp, payload: Uint8Array): ImportRecord | undefined {
    if (!this.counting(at.line)) return undefined;
    const kind = BOOK_KIND_NAMES[payload[0]!]!;
    this.counts.events[kind] = (this.counts.events[kind] ?? 0) + 1;
    return {
      line: this.#encoder.header.vendorSeq,
      bytesRead: this.#bytesRead(),
      seq: undefined,
      timestampNs: this.#encoder.header.exchangeNs,
      typeId: this.#encoder.typeId,
      payload,
    };
  }
}
