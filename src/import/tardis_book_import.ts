/**
 * Importing Tardis.dev `incremental_book_L2` CSV (plain or gzip) as L2 book
 * events. Each row sets one price level to its new absolute size:
 *
 * - rows of one symbol with the same `local_timestamp`, one after another,
 *   are one batch (the exchange sent them in one message): only the last
 *   event of a batch carries BatchEnd;
 * - a switch into `is_snapshot=true` (from `false`, or at a symbol's first
 *   snapshot) writes a clear flagged SnapshotBegin, then the snapshot's
 *   levels, which are one batch whatever their `local_timestamp`s, the last
 *   flagged SnapshotEnd (a row of another symbol ends the batch, so a
 *   snapshot interrupted by one is split, each part ending so flagged);
 * - rows of a symbol before its first snapshot are left out and counted:
 *   they update a book that is not known yet.
 *
 * A batch is written whole or not at all when a row is bad, so a queue an
 * import stopped part way ends at a batch's end.
 *
 * @module
 */

import { BOOK_FLAG, SIDE, type Side } from "../book/mod.ts";
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

const DATASET = "incremental_book_L2";
const COLUMNS = [
  "exchange",
  "symbol",
  "timestamp",
  "local_timestamp",
  "is_snapshot",
  "side",
  "price",
  "amount",
] as const;
const SYMBOL = 1;
const TIMESTAMP = 2;
const LOCAL_TIMESTAMP = 3;
const IS_SNAPSHOT = 4;
const SIDE_FIELD = 5;
const PRICE = 6;
const AMOUNT = 7;

/** A row held in the batch being gathered. */
interface BookRow extends TardisStamp {
  side: Side;
  price: string;
  amount: string;
}

function parseSnapshot(text: string, line: number): boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  throw new InputLineError(`'is_snapshot' is '${text}', not 'true' or 'false'`, line);
}

function parseSide(text: string, line: number): Side {
  switch (text) {
    case "bid":
    case "buy":
      return SIDE.Bid;
    case "ask":
    case "sell":
      return SIDE.Ask;
  }
  throw new InputLineError(`'side' is '${text}', not 'bid' or 'ask'`, line);
}

/**
 * The book events of an `incremental_book_L2` CSV's lines, as import
 * records for `importRecords`; {@linkcode TardisBookRecords.counts}
 * says what was left out on the way. Iterate it once.
 *
 * @example Two updates in one message, after a snapshot
 * ```ts
 * import assert from "node:assert/strict";
 * import { TardisBookRecords } from "./tardis_book_import.ts";
 * import { BOOK_FLAG, BOOK_KIND, BookEvent } from "../book/mod.ts";
 * async function* lines() {
 *   yield "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";
 *   yield "deribit,BTC-PERPETUAL,100,90,false,bid,6443,10";
 *   yield "deribit,BTC-PERPETUAL,200,210,true,ask,6444.5,5000.5";
 *   yield "deribit,BTC-PERPETUAL,300,310,false,bid,6443.5,2000";
 *   yield "deribit,BTC-PERPETUAL,300,310,false,ask,6444.5,0";
 * }
 * const book = new TardisBookRecords(lines());
 * const e = new BookEvent();
 * const seen: string[] = [];
 * for await (const r of book) {
 *   e.wrapBytes(r.payload);
 *   seen.push(e.kind === BOOK_KIND.Level ? `level ${e.flags} ${e.price} ${e.size}` : `kind ${e.kind}`);
 * }
 * assert.deepEqual(seen, [
 *   "kind 1", // the instrument: 1 decimal for prices and sizes, from the snapshot
 *   "kind 11", // the snapshot's clear
 *   `level ${BOOK_FLAG.SnapshotEnd | BOOK_FLAG.BatchEnd} 64445 50005`,
 *   "level 0 64435 20000", // one batch of two: one local_timestamp
 *   `level ${BOOK_FLAG.BatchEnd} 64445 0`,
 * ]);
 * assert.equal(book.counts.skippedBeforeSnapshot, 1);
 * ```
 */
export class TardisBookRecords implements TardisRecords {
  readonly #lines: AsyncIterable<string>;
  readonly #events: TardisEvents;
  // The batch being gathered: its rows (objects reused across batches) and what it is.
  readonly #rows: BookRow[] = [];
  #size = 0;
  #market: TardisMarket | undefined;
  #snapshot = false;
  #clearFirst = false;
  readonly #prices: number[] = [];
  readonly #sizes: number[] = [];

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
  }

  /** What was read, written and left out so far. */
  get counts(): TardisCounts {
    return this.#events.counts;
  }

  /**
   * Yields the events, batch by batch.
   *
   * @throws {InputLineError} at the first bad row, naming its line and what is wrong.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ImportRecord> {
    const events = this.#events;
    const inSnapshot = new Set<TardisMarket>();
    const synced = new Set<TardisMarket>();
    const rows = tardisRows(this.#lines, DATASET, COLUMNS, events.fromLine);
    for await (const { line, fields: f, unterminated } of rows) {
      // With strict, the batch the last line is in is not written, as for a bad row.
      if (unterminated) events.unterminated(line);
      if (events.counting(line)) events.counts.rows++;
      const m = events.market(f[SYMBOL]!, line);
      if (m === undefined) continue;
      const isSnapshot = parseSnapshot(f[IS_SNAPSHOT]!, line);
      if (!isSnapshot && !synced.has(m)) {
        if (events.counting(line)) events.counts.skippedBeforeSnapshot++;
        continue;
      }
      const side = parseSide(f[SIDE_FIELD]!, line);
      const exchangeUs = parseMicros(f[TIMESTAMP]!, "timestamp", line);
      const receiveUs = parseMicros(f[LOCAL_TIMESTAMP]!, "local_timestamp", line);
      const price = f[PRICE]!;
      const amount = f[AMOUNT]!;
      const at = this.#next(line, exchangeUs, receiveUs, side, price, amount);
      events.time(m, at);
      const switchIn = isSnapshot && !inSnapshot.has(m);
      const size = this.#size;
      // A snapshot is one batch; other rows batch by their local_timestamp.
      const continues = size > 0 && this.#market === m && !switchIn &&
        (this.#snapshot ? isSnapshot : receiveUs === this.#rows[0]!.receiveUs);
      if (!continues) {
        if (size > 0) {
          yield* this.#flush();
          // The row read goes first in the new batch.
          this.#rows[size] = this.#rows[0]!;
          this.#rows[0] = at;
        }
        this.#market = m;
        this.#snapshot = isSnapshot;
        this.#clearFirst = switchIn;
      }
      // After the flush: a market's first batch alone infers its decimals.
      events.note(m, price, amount, line);
      this.#size++;
      if (isSnapshot) {
        inSnapshot.add(m);
        synced.add(m);
      } else {
        inSnapshot.delete(m);
      }
    }
    if (this.#size > 0) yield* this.#flush();
  }

  /** Fills the row after the batch's last, without counting it in yet. */
  #next(
    line: number,
    exchangeUs: number,
    receiveUs: number,
    side: Side,
    price: string,
    amount: string,
  ): BookRow {
    let row = this.#rows[this.#size];
    if (row === undefined) {
      row = { line, exchangeUs, receiveUs, side, price, amount };
      this.#rows.push(row);
      return row;
    }
    row.line = line;
    row.exchangeUs = exchangeUs;
    row.receiveUs = receiveUs;
    row.side = side;
    row.price = price;
    row.amount = amount;
    return row;
  }

  /** Writes the gathered batch: its market's definition and a clear first where due. */
  *#flush(): Generator<ImportRecord> {
    const events = this.#events;
    const m = this.#market!;
    const n = this.#size;
    const rows = this.#rows;
    this.#size = 0;
    // Every value is scaled before anything is written: a batch goes whole or not at all.
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      this.#prices[i] = events.scale(m, "price", r.price, r.line);
      this.#sizes[i] = events.scale(m, "amount", r.amount, r.line);
    }
    const first = rows[0]!;
    if (!m.defined) {
      const record = events.instrument(m, first);
      if (record !== undefined) yield record;
    }
    if (this.#clearFirst) {
      const record = events.clear(m, first);
      if (record !== undefined) yield record;
    }
    const lastFlags = BOOK_FLAG.BatchEnd | (this.#snapshot ? BOOK_FLAG.SnapshotEnd : 0);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const flags = i === n - 1 ? lastFlags : 0;
      const record = events.level(m, r, flags, r.side, this.#prices[i]!, this.#sizes[i]!);
      if (record !== undefined) yield record;
    }
  }
}

/**
 * Imports a Tardis `incremental_book_L2` CSV file, plain or gzip (or stdin
 * for `-`), into a queue: see {@linkcode TardisBookRecords} for the events
 * and `importRecords` for the queue's checks and what happens on
 * a fault. A stopped import resumes with `fromLine` set to the line its
 * message names, into the same queue.
 *
 * @throws {InputFileError} when the file cannot be read.
 * @throws {ImportError} for a bad row or a fault once the queue is open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTardisBook } from "./tardis_book_import.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/book.csv`, [
 *   "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount",
 *   "binance,BTCUSDT,1000,1001,true,bid,100.5,2",
 *   "binance,BTCUSDT,1000,1001,true,ask,101,3",
 *   "",
 * ].join("\n"));
 * const summary = await importTardisBook(`${dir}/book.csv`, { to: `${dir}/q` });
 * assert.equal(summary.records, 4); // instrument, clear, two levels
 * assert.deepEqual(summary.counts.events, { instrument: 1, clear: 1, level: 2 });
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function importTardisBook(
  path: string,
  options: ImportOptions & TardisImportOptions,
): Promise<TardisImportSummary> {
  return importTardisFile(
    path,
    options,
    "tardis-book",
    (l, o, b) => new TardisBookRecords(l, o, b),
  );
}
