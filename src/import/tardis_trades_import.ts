/**
 * Importing Tardis.dev `trades` CSV (plain or gzip) as trade events, each
 * a batch of its own: the aggressor's side (`buy` is a bid, `sell` an ask,
 * `unknown` none) and the exchange's trade id where it is a number.
 *
 * Without decimals given, each symbol's are inferred from its rows among
 * the file's first {@linkcode TRADE_INFERENCE_ROWS} (one trade says little
 * about the tick size); a symbol first seen after them infers from its
 * first row alone.
 *
 * @module
 */

import { SIDE, type Side } from "../book/mod.ts";
import { InputLineError } from "./import_error.ts";
import type { ImportOptions, ImportRecord } from "./queue_import.ts";
import { importTardisFile, type TardisRecords } from "./tardis_file_import.ts";
import type { TardisCounts, TardisImportSummary } from "./tardis_counts.ts";
import { parseMicros, tardisRows } from "./tardis_csv.ts";
import {
  TardisEvents,
  type TardisImportOptions,
  type TardisMarket,
  type TardisStamp,
} from "./tardis_events.ts";

const DATASET = "trades";
const COLUMNS = [
  "exchange",
  "symbol",
  "timestamp",
  "local_timestamp",
  "id",
  "side",
  "price",
  "amount",
] as const;
const SYMBOL = 1;
const TIMESTAMP = 2;
const LOCAL_TIMESTAMP = 3;
const ID = 4;
const SIDE_FIELD = 5;
const PRICE = 6;
const AMOUNT = 7;

/** Rows held back, when decimals are inferred, before the first trade is written. */
export const TRADE_INFERENCE_ROWS = 1000;

interface TradeRow extends TardisStamp {
  market: TardisMarket;
  side: Side;
  id: number;
  price: string;
  amount: string;
}

function parseSide(text: string, line: number): Side {
  switch (text) {
    case "buy":
      return SIDE.Bid;
    case "sell":
      return SIDE.Ask;
    case "unknown":
      return SIDE.None;
  }
  throw new InputLineError(`'side' is '${text}', not 'buy', 'sell' or 'unknown'`, line);
}

/**
 * The trade events of a Tardis `trades` CSV's lines, as import records for
 * `importRecords`; {@linkcode TardisTradeRecords.counts} says
 * what was left out on the way. Iterate it once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TardisTradeRecords } from "./tardis_trades_import.ts";
 * import { BOOK_KIND, BookEvent, SIDE } from "../book/mod.ts";
 * async function* lines() {
 *   yield "exchange,symbol,timestamp,local_timestamp,id,side,price,amount";
 *   yield "bitmex,XBTUSD,1000,1010,a1b2,sell,6443.5,200";
 *   yield "bitmex,XBTUSD,2000,2010,12345,unknown,6443.25,100";
 * }
 * const trades = new TardisTradeRecords(lines());
 * const e = new BookEvent();
 * const seen: unknown[] = [];
 * for await (const r of trades) {
 *   e.wrapBytes(r.payload);
 *   if (e.kind === BOOK_KIND.Trade) seen.push([e.side, e.id, e.price, e.size]);
 * }
 * // Prices in 2 decimals, from both rows; a trade id that is not a number is 0
 * assert.deepEqual(seen, [[SIDE.Ask, 0, 644350, 200], [SIDE.None, 12345, 644325, 100]]);
 * assert.equal(trades.counts.tradeIdsNotNumeric, 1);
 * ```
 */
export class TardisTradeRecords implements TardisRecords {
  readonly #lines: AsyncIterable<string>;
  readonly #events: TardisEvents;
  readonly #inferring: boolean;

  /**
   * Reads `lines`; `bytesRead` tells how much input has been read, for progress.
   *
   * @throws {RangeError} when an option is out of range.
   */
  constructor(
    lines: AsyncIterable<string>,
    options: TardisImportOptions = {},
    bytesRead: () => number = () => 0,
  ) {
    this.#lines = lines;
    this.#events = new TardisEvents(options, bytesRead);
    this.#inferring = options.priceDecimals === undefined || options.sizeDecimals === undefined;
  }

  /** What was read, written and left out so far. */
  get counts(): TardisCounts {
    return this.#events.counts;
  }

  /**
   * Yields the events, one trade at a time.
   *
   * @throws {InputLineError} at the first bad row, naming its line and what is wrong.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ImportRecord> {
    const events = this.#events;
    // Rows held back while decimals are inferred; written in order after.
    let held: TradeRow[] | undefined = this.#inferring ? [] : undefined;
    const rows = tardisRows(this.#lines, DATASET, COLUMNS, events.fromLine);
    for await (const { line, fields: f, unterminated } of rows) {
      if (unterminated) events.unterminated(line);
      if (events.counting(line)) events.counts.rows++;
      const market = events.market(f[SYMBOL]!, line);
      if (market === undefined) continue;
      const row: TradeRow = {
        line,
        market,
        exchangeUs: parseMicros(f[TIMESTAMP]!, "timestamp", line),
        receiveUs: parseMicros(f[LOCAL_TIMESTAMP]!, "local_timestamp", line),
        side: parseSide(f[SIDE_FIELD]!, line),
        id: this.#tradeId(f[ID]!, line),
        price: f[PRICE]!,
        amount: f[AMOUNT]!,
      };
      events.time(market, row);
      events.note(market, row.price, row.amount, line);
      if (held === undefined) {
        yield* this.#write(row);
        continue;
      }
      held.push(row);
      if (held.length >= TRADE_INFERENCE_ROWS) {
        for (const r of held) yield* this.#write(r);
        held = undefined;
      }
    }
    for (const r of held ?? []) yield* this.#write(r);
  }

  #tradeId(text: string, line: number): number {
    const id = Number(text);
    if (/^\d{1,16}$/.test(text) && Number.isSafeInteger(id)) return id;
    if (this.#events.counting(line)) this.#events.counts.tradeIdsNotNumeric++;
    return 0;
  }

  /** The trade of `row`, after its market's definition where due. */
  *#write(row: TradeRow): Generator<ImportRecord> {
    const events = this.#events;
    const m = row.market;
    const price = events.scale(m, "price", row.price, row.line);
    const size = events.scale(m, "amount", row.amount, row.line);
    if (!m.defined) {
      const record = events.instrument(m, row);
      if (record !== undefined) yield record;
    }
    const record = events.trade(m, row, row.side, row.id, price, size);
    if (record !== undefined) yield record;
  }
}

/**
 * Imports a Tardis `trades` CSV file, plain or gzip (or stdin for `-`),
 * into a queue: see {@linkcode TardisTradeRecords} for the events and
 * `importRecords` for the queue's checks and what happens on a
 * fault. A stopped import resumes with `fromLine` set to the line its
 * message names, into the same queue.
 *
 * @throws {InputFileError} when the file cannot be read.
 * @throws {ImportError} for a bad row or a fault once the queue is open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTardisTrades } from "./tardis_trades_import.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/trades.csv`, [
 *   "exchange,symbol,timestamp,local_timestamp,id,side,price,amount",
 *   "binance,BTCUSDT,1000,1001,7,buy,100.5,0.25",
 *   "binance,ETHUSDT,1000,1002,8,sell,10.25,1",
 *   "",
 * ].join("\n"));
 * const summary = await importTardisTrades(`${dir}/trades.csv`, { to: `${dir}/q` });
 * assert.deepEqual(summary.counts.events, { instrument: 2, trade: 2 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function importTardisTrades(
  path: string,
  options: ImportOptions & TardisImportOptions,
): Promise<TardisImportSummary> {
  return importTardisFile(
    path,
    options,
    "tardis-trades",
    (l, o, b) => new TardisTradeRecords(l, o, b),
  );
}
