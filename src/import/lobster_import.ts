/**
 * Importing a LOBSTER day: the message file becomes book events, and the
 * orderbook file beside it is both the continuity check and the source of
 * corrections, so that replaying the queue reproduces the vendor's
 * orderbook file row for row.
 *
 * @module
 */

import { BookEvent } from "../book/book_event.ts";
import { BookEventEncoder } from "../book/book_event_encoder.ts";
import {
  BOOK_FLAG,
  BOOK_KIND,
  EVENT,
  SIDE,
  type Side,
  TRADING_STATUS,
} from "../book/book_protocol.ts";
import type { BookStatsJson } from "../book/book_stats.ts";
import { LOBSTER_EMPTY_ASK, LOBSTER_EMPTY_BID } from "../book/lobster_row.ts";
import { OrderBook } from "../book/order_book.ts";
import { reportWarning } from "../tape/mod.ts";
import { InputLineError } from "./import_error.ts";
import type { ImportSummary } from "./import_summary.ts";
import { LobsterCsv } from "./lobster_csv.ts";
import { type LobsterFileOptions, type LobsterFiles, lobsterFiles } from "./lobster_file_name.ts";
import { newYorkMidnightNs } from "./new_york_time.ts";
import { type ImportOptions, type ImportRecord, importRecords } from "./queue_import.ts";
import { checkContinuation, partialLineRecords } from "./queue_continuation.ts";

/** Options of a LOBSTER import, beside the file overrides. */
export interface LobsterImportOptions extends LobsterFileOptions {
  /** Venue id of every event; default 1. */
  venue?: number;
  /** Market id of every event; default 1. */
  market?: number;
  /**
   * An order id the book does not hold, a time earlier than the line
   * before, or a last line without a newline is an error instead of being
   * counted or warned of. Real files reference orders placed before their
   * window, so this suits generated files.
   */
  strict?: boolean;
  /**
   * First line of the files to import, to resume an import that stopped:
   * the lines before it are read and applied to the import's book, as an
   * uninterrupted import would, but write nothing, so the records from
   * here on are the ones the uninterrupted import writes. Default 1.
   */
  fromLine?: number;
  /** Told of what may be damage but does not stop the import; default `reportWarning`. */
  onWarning?: (message: string) => void;
}

/** What a LOBSTER import counted, for its summary. */
export interface LobsterImportCounts {
  /** Vendor events (message lines) imported. */
  messages: number;
  /** Levels per side of the orderbook file. */
  levels: number;
  /** Orderbook rows the messages alone did not explain, each fixed by one or more corrections. */
  correctedRows: number;
  /** Messages whose time is earlier than the one before. */
  backwardTimes: number;
  /**
   * The counts of the book the import kept, which saw every event written:
   * events per kind, corrections, unknown order ids, crossed and locked
   * batch ends.
   */
  book: BookStatsJson;
}

/** What {@linkcode importLobster} did: the import's summary and the LOBSTER counts. */
export interface LobsterImportSummary extends ImportSummary {
  /** The LOBSTER counts. */
  lobster: LobsterImportCounts;
}

const MESSAGE_FIELDS = 6;
/** Most levels an orderbook file may have when no file name says how many. */
const MAX_LEVELS = 1000;
const POW10 = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1];
const MESSAGE_FIELD_NAMES = ["time", "type", "order id", "size", "price", "direction"];
const DONE: IteratorResult<ImportRecord> = { value: undefined, done: true };

/**
 * The records of a LOBSTER import, for {@linkcode importRecords}. Each
 * message line becomes one event:
 *
 * | type | LOBSTER            | event                                  |
 * | ---- | ------------------ | -------------------------------------- |
 * | 1    | submission         | OrderAdd                               |
 * | 2    | partial cancel     | OrderCancel (size cancelled)           |
 * | 3    | deletion           | OrderDelete                            |
 * | 4    | visible execution  | OrderExecute (size executed)           |
 * | 5    | hidden execution   | HiddenExecute                          |
 * | 6    | cross trade        | CrossTrade (side none)                 |
 * | 7    | trading halt       | Status: price -1 halted, 0 quoting, 1 trading |
 *
 * Direction 1 is the bid side, -1 the ask; prices are the file's integers
 * (4 decimals), sizes whole shares. The first batch starts with an
 * Instrument event and a Clear, so the queue says the book starts from
 * nothing here. The vendor seq of every event is its message's line.
 *
 * The import keeps a book fed with exactly the events it writes. After
 * each message it compares the book's top levels with that message's
 * orderbook row; for each level that differs it writes a Level event
 * flagged Correction setting the level's total (0 for a level the vendor
 * does not show), so the book's top levels equal the row. A message and
 * its corrections are one batch: only the last event carries BatchEnd, so
 * printing the book after each batch gives one row per vendor event.
 *
 * A resume (`fromLine`) makes and applies the events of every line before
 * it as well, but hands none of them out: from `fromLine` on, the records
 * are byte for byte those of an uninterrupted import.
 *
 * Records are made a message at a time, in objects reused from message to
 * message: a record and its payload are valid until the records of the
 * next message are made (as {@linkcode importRecords} uses them, appending
 * each before pulling the next). An iterator written
 * by hand rather than an async generator: most records are ready at once,
 * and a generator's per-record cost would be most of the import's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LobsterImport } from "./lobster_import.ts";
 * const dir = Deno.makeTempDirSync();
 * const name = `${dir}/XYZ_2012-06-21_34200000_57600000_`;
 * Deno.writeTextFileSync(`${name}message_1.csv`, "34200.5,1,7,100,1000000,1\n34201,3,7,100,1000000,1\n");
 * Deno.writeTextFileSync(`${name}orderbook_1.csv`,
 *   "1000500,20,1000000,100\n1000500,20,-9999999999,0\n");
 * const lobster = await LobsterImport.open(`${name}message_1.csv`);
 * const kinds: number[] = [];
 * for await (const r of lobster) kinds.push(r.typeId - 0x4200);
 * // instrument, clear, add, a correction for the ask; delete
 * assert.deepEqual(kinds, [1, 11, 3, 2, 5]);
 * assert.equal(lobster.counts().correctedRows, 1);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class LobsterImport implements AsyncIterableIterator<ImportRecord> {
  /** The files and what they are about. */
  readonly files: LobsterFiles;
  /** The book the import keeps, as the events made so far leave it. */
  readonly book: OrderBook;

  readonly #messages: LobsterCsv;
  readonly #orderbook: LobsterCsv;
  readonly #midnightNs: bigint;
  readonly #strict: boolean;
  readonly #fromLine: number;
  readonly #warn: (message: string) => void;
  // The book's counts when the first line handed out was read, for a resume's own counts.
  #statsBefore: BookStatsJson | undefined;
  readonly #encoder = new BookEventEncoder();
  readonly #event = new BookEvent();
  #encoded: DataView | undefined;
  #levels: number;
  #messageCount = 0;
  #correctedRows = 0;
  #backwardTimes = 0;
  #previousNs = -1;
  #started = false;
  #ended = false;
  // The records of the message last read, handed out one by one. The objects are reused from
  // batch to batch, and their payloads are views of #pool.
  readonly #batch: ImportRecord[] = [];
  #batchSize = 0;
  readonly #result: IteratorYieldResult<ImportRecord> = { value: undefined!, done: false };
  #handedOut = 0;
  #pool = new Uint8Array(4096);
  #poolUsed = 0;
  // Corrections of one row, gathered before any is applied: side, price and size of each.
  readonly #fixes: number[] = [];
  #fixCount = 0;

  private constructor(
    files: LobsterFiles,
    messages: LobsterCsv,
    orderbook: LobsterCsv,
    options: LobsterImportOptions,
  ) {
    this.files = files;
    this.#messages = messages;
    this.#orderbook = orderbook;
    this.#midnightNs = newYorkMidnightNs(files.date);
    this.#strict = options.strict ?? false;
    this.#fromLine = options.fromLine ?? 1;
    this.#warn = options.onWarning ?? reportWarning;
    this.#levels = files.levels ?? 0;
    const venue = options.venue ?? 1;
    const market = options.market ?? 1;
    this.book = new OrderBook(venue, market);
    this.#encoder.header.venue = venue;
    this.#encoder.header.market = market;
  }

  /**
   * Resolves the files of the message file at `messagePath` (see
   * {@linkcode lobsterFiles}) and opens both.
   *
   * @throws {RangeError} when the name does not say what the options do not, or an option is out of range.
   * @throws {InputFileError} when either file cannot be read.
   */
  static async open(
    messagePath: string,
    options: LobsterImportOptions = {},
  ): Promise<LobsterImport> {
    const files = lobsterFiles(messagePath, options);
    const fromLine = options.fromLine ?? 1;
    if (!Number.isSafeInteger(fromLine) || fromLine < 1) {
      throw new RangeError(`From line '${fromLine}' must be a whole number from 1`);
    }
    for (const [name, id] of [["Venue", options.venue], ["Market", options.market]] as const) {
      if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff)) {
        throw new RangeError(`${name} '${id}' must be a whole number from 0 to 4294967295`);
      }
    }
    const messages = await LobsterCsv.open(files.messagePath, MESSAGE_FIELDS);
    let orderbook: LobsterCsv;
    try {
      orderbook = await LobsterCsv.open(files.orderbookPath, 4 * (files.levels ?? MAX_LEVELS));
    } catch (error) {
      messages.close();
      throw error;
    }
    return new LobsterImport(files, messages, orderbook, options);
  }

  /** What the import counted so far, from `fromLine` on. */
  counts(): LobsterImportCounts {
    const book = this.book.stats.toJSON();
    return {
      messages: this.#messageCount,
      levels: this.#levels,
      correctedRows: this.#correctedRows,
      backwardTimes: this.#backwardTimes,
      book: this.#statsBefore === undefined ? book : statsSince(book, this.#statsBefore),
    };
  }

  /** Closes both files; the iteration closes them too when it ends or fails. */
  close(): void {
    this.#messages.close();
    this.#orderbook.close();
  }

  /** The import is its own iterator, so it is iterated once. */
  [Symbol.asyncIterator](): AsyncIterableIterator<ImportRecord> {
    return this;
  }

  /**
   * The next record: the next of the message last read, or the first of
   * the next message's.
   *
   * Rejects with an {@linkcode InputLineError} for a bad line of either
   * file (naming the file and line), before any record of that message is
   * handed out, or with an {@linkcode InputFileError} when a file cannot
   * be read.
   */
  next(): Promise<IteratorResult<ImportRecord>> {
    try {
      if (this.#handedOut === this.#batchSize) {
        if (this.#ended) return Promise.resolve(DONE);
        const read = this.#readBatch();
        if (read !== undefined) {
          return read.then(() => this.#handOut(), (e: unknown) => this.#fail(e));
        }
      }
      return Promise.resolve(this.#handOut());
    } catch (error) {
      return this.#fail(error);
    }
  }

  /** Ends the iteration early, closing the files. */
  return(): Promise<IteratorResult<ImportRecord>> {
    this.#end();
    return Promise.resolve(DONE);
  }

  #handOut(): IteratorResult<ImportRecord> {
    if (this.#handedOut === this.#batchSize) return DONE;
    // One result object serves every record: a consumer reads it before asking for the next.
    this.#result.value = this.#batch[this.#handedOut++]!;
    return this.#result;
  }

  #fail(error: unknown): Promise<never> {
    this.#end();
    return Promise.reject(error);
  }

  #end(): void {
    this.#ended = true;
    this.#batchSize = 0;
    this.#handedOut = 0;
    this.close();
  }

  /**
   * Reads lines until one makes a batch, leaving it in #batch (empty at
   * the end of the files); a promise when a file must be read first.
   */
  #readBatch(): void | Promise<void> {
    for (;;) {
      const more = this.#messages.next();
      const rowMore = this.#orderbook.next();
      if (typeof more !== "boolean" || typeof rowMore !== "boolean") {
        return this.#readBatchLater(more, rowMore);
      }
      if (this.#take(more, rowMore)) return;
    }
  }

  async #readBatchLater(
    more: boolean | Promise<boolean>,
    rowMore: boolean | Promise<boolean>,
  ): Promise<void> {
    // Both awaited together, so a failure of either is never left unhandled.
    const [message, row] = await Promise.all([more, rowMore]);
    if (this.#take(message, row)) return;
    await this.#readBatch();
  }

  /**
   * Turns the lines just read into the batch of their message: true when
   * done or at the end of the files, false for a line before `fromLine`
   * (whose events are applied to the book but not handed out).
   */
  #take(more: boolean, rowMore: boolean): boolean {
    const messages = this.#messages;
    const orderbook = this.#orderbook;
    this.#batchSize = 0;
    this.#handedOut = 0;
    this.#poolUsed = 0;
    this.#fixCount = 0;
    if (!more) {
      if (rowMore) {
        throw new InputLineError(
          `Orderbook file '${orderbook.path}' has more lines than the message file: line ${orderbook.line} has no message`,
          orderbook.line,
        );
      }
      const lines = messages.line;
      if (this.#fromLine > 1 && this.#fromLine > lines) {
        throw new InputLineError(
          `From line '${this.#fromLine}' is past the end of the file, which has ${lines} ${
            lines === 1 ? "line" : "lines"
          }`,
          Math.max(lines, 1),
        );
      }
      this.#end();
      return true;
    }
    const line = messages.line;
    if (!rowMore) {
      throw new InputLineError(
        `Orderbook file '${orderbook.path}' has no line ${line}: it ends before the message file`,
        line,
      );
    }
    const counting = line >= this.#fromLine;
    if (line === this.#fromLine && line > 1) this.#statsBefore = this.book.stats.toJSON();
    const problem = this.#messageProblem() ?? this.#rowProblem();
    if (problem !== undefined) throw new InputLineError(problem, line);
    if (messages.unterminated || orderbook.unterminated) this.#unterminated(line);
    const values = messages.values;
    const ns = values[0]! * POW10[messages.decimals[0]!]!;
    if (ns < this.#previousNs) {
      if (this.#strict) {
        throw new InputLineError(
          `Time ${seconds(ns)} is earlier than ${
            seconds(this.#previousNs)
          } on the line before ('strict')`,
          line,
        );
      }
      if (counting) this.#backwardTimes++;
    }
    this.#previousNs = ns;
    const book = this.book;
    const type = values[1]!;
    if (this.#strict && type >= 2 && type <= 4 && book.orderSize(values[2]!) === undefined) {
      throw new InputLineError(
        `Order id '${
          values[2]
        }' is not in the book: it was placed before the window or never ('strict')`,
        line,
      );
    }
    const timestampNs = this.#midnightNs + BigInt(ns);
    const encoder = this.#encoder;
    const header = encoder.header;
    header.exchangeNs = timestampNs;
    header.receiveNs = timestampNs;
    header.vendorSeq = line;
    header.flags = 0;
    if (!this.#started) {
      this.#started = true;
      this.#put(encoder.instrument(this.files.symbol, 4, 0), line, timestampNs);
      this.#put(encoder.clear(), line, timestampNs);
    }
    const event = this.#put(this.#encodeMessage(), line, timestampNs);
    if (counting) this.#messageCount++;
    this.#gatherFixes(SIDE.Ask);
    this.#gatherFixes(SIDE.Bid);
    const fixes = this.#fixCount;
    if (fixes === 0) {
      // The batch is this one event: it ends here, and the book's batch check is done by hand.
      event[EVENT.flags]! |= BOOK_FLAG.BatchEnd;
      const stats = book.stats;
      if (book.locked()) stats.lockedBatches++;
      else if (book.crossed()) stats.crossedBatches++;
      return this.#handing(counting);
    }
    if (counting) this.#correctedRows++;
    const f = this.#fixes;
    for (let i = 0; i < fixes; i++) {
      header.flags = BOOK_FLAG.Correction | (i === fixes - 1 ? BOOK_FLAG.BatchEnd : 0);
      this.#put(encoder.level(f[3 * i]! as Side, f[3 * i + 1]!, f[3 * i + 2]!), line, timestampNs);
    }
    if (!this.#sideMatches(SIDE.Ask) || !this.#sideMatches(SIDE.Bid)) {
      // Each correction sets one level's total, so this is a fault of the book, not the input.
      throw new Error(
        `The book does not match line ${line} of '${orderbook.path}' after its corrections`,
      );
    }
    return this.#handing(counting);
  }

  /** Whether the batch just made is handed out: a line before `fromLine` only rebuilds the book. */
  #handing(counting: boolean): boolean {
    if (!counting) this.#batchSize = 0;
    // A stop inside the batch resumes at this line (see `ImportRecord.lineEnds`).
    for (let i = 0; i < this.#batchSize; i++) this.#batch[i]!.lineEnds = i === this.#batchSize - 1;
    return counting;
  }

  /**
   * A last line without a newline may be the end of a file cut short, in
   * the middle of a field: an error with `strict`, else a warning.
   */
  #unterminated(line: number): void {
    const file = this.#messages.unterminated
      ? `Message file '${this.#messages.path}'`
      : `Orderbook file '${this.#orderbook.path}'`;
    const reason = `${file} line ${line} is its last and has no newline: the file may be cut short`;
    // Before `fromLine` it was imported already; a resume past it stops at the end.
    if (line < this.#fromLine) return;
    if (this.#strict) throw new InputLineError(`${reason} ('strict')`, line);
    this.#warn(`${reason}; it was imported ('--strict' refuses it)`);
  }

  /**
   * Applies the event just encoded to the book and adds it to the batch,
   * copied out of the encoder's buffer (the batch's events are all made
   * before the first is handed out); returns the copy.
   */
  #put(bytes: Uint8Array, line: number, timestampNs: bigint): Uint8Array {
    this.#encoded ??= new DataView(bytes.buffer);
    this.#event.wrapAt(this.#encoded, bytes.byteOffset, bytes.byteLength);
    this.book.apply(this.#event);
    const at = this.#poolUsed;
    const end = at + bytes.byteLength;
    let pool = this.#pool;
    if (end > pool.length) {
      pool = new Uint8Array(Math.max(2 * pool.length, end));
      pool.set(this.#pool.subarray(0, at));
      this.#pool = pool;
      for (let i = 0; i < this.#batchSize; i++) {
        const r = this.#batch[i]!;
        r.payload = pool.subarray(r.payload.byteOffset, r.payload.byteOffset + r.payload.length);
      }
    }
    pool.set(bytes, at);
    this.#poolUsed = end;
    let r = this.#batch[this.#batchSize];
    if (r === undefined) {
      r = { line, bytesRead: 0, seq: undefined, timestampNs, typeId: 0, payload: pool };
      this.#batch.push(r);
    }
    this.#batchSize++;
    r.line = line;
    r.bytesRead = this.#messages.bytesRead;
    r.timestampNs = timestampNs;
    r.typeId = this.#encoder.typeId;
    const p = r.payload;
    // The view from the batch before fits again, most of the time.
    if (p.buffer !== pool.buffer || p.byteOffset !== at || p.length !== end - at) {
      r.payload = pool.subarray(at, end);
    }
    return r.payload;
  }

  /** Encodes the message row last read (checked by {@linkcode LobsterImport.#messageProblem}). */
  #encodeMessage(): Uint8Array {
    const v = this.#messages.values;
    const type = v[1]!;
    const id = v[2]!;
    const size = v[3]!;
    const price = v[4]!;
    const side = v[5] === 1 ? SIDE.Bid : SIDE.Ask;
    const encoder = this.#encoder;
    switch (type) {
      case 1:
        return encoder.order(BOOK_KIND.OrderAdd, side, id, price, size);
      case 2:
        return encoder.order(BOOK_KIND.OrderCancel, side, id, price, size);
      case 3:
        return encoder.order(BOOK_KIND.OrderDelete, side, id, price, size);
      case 4:
        return encoder.order(BOOK_KIND.OrderExecute, side, id, price, size);
      case 5:
        return encoder.order(BOOK_KIND.HiddenExecute, side, id, price, size);
      case 6:
        // An auction cross has no aggressor.
        return encoder.trade(BOOK_KIND.CrossTrade, SIDE.None, id, price, size);
      default:
        return encoder.status(
          price === -1
            ? TRADING_STATUS.Halted
            : price === 0
            ? TRADING_STATUS.Quoting
            : TRADING_STATUS.Trading,
        );
    }
  }

  /** Why the message row last read cannot be imported, or undefined. */
  #messageProblem(): string | undefined {
    const csv = this.#messages;
    if (csv.fieldCount !== MESSAGE_FIELDS) {
      return `Message line has ${csv.fieldCount} fields, expected ${MESSAGE_FIELDS} (${
        MESSAGE_FIELD_NAMES.join(", ")
      })`;
    }
    if (csv.problem !== undefined) return capitalized(csv.problem);
    const v = csv.values;
    const d = csv.decimals;
    if (d[0]! > 9) return `Time '${numberText(v[0]!, d[0]!)}' has more than 9 decimals`;
    if (v[0]! < 0) return `Time '${numberText(v[0]!, d[0]!)}' is before midnight`;
    for (let i = 1; i < MESSAGE_FIELDS; i++) {
      if (d[i] !== 0) {
        return `Field ${i + 1} (${MESSAGE_FIELD_NAMES[i]}) '${
          numberText(v[i]!, d[i]!)
        }' is not a whole number`;
      }
    }
    const type = v[1]!;
    if (!(type >= 1 && type <= 7)) return `Event type '${type}' is not one of 1 to 7`;
    if (v[2]! < 0) return `Order id '${v[2]}' is negative`;
    if (v[3]! < 0) return `Size '${v[3]}' is negative`;
    const price = v[4]!;
    if (type === 7) {
      if (price !== -1 && price !== 0 && price !== 1) {
        return `Trading halt price '${price}' is not -1 (halted), 0 (quoting) or 1 (trading)`;
      }
      return undefined;
    }
    if (price <= 0) return `Price '${price}' of an event of type ${type} is not above 0`;
    if (v[5] !== 1 && v[5] !== -1) return `Direction '${v[5]}' is not 1 (buy) or -1 (sell)`;
    return undefined;
  }

  /** Why the orderbook row last read cannot be a book, or undefined. */
  #rowProblem(): string | undefined {
    const reason = this.#rowFault();
    if (reason === undefined) return undefined;
    const csv = this.#orderbook;
    return `Orderbook file '${csv.path}' line ${csv.line}: ${reason}`;
  }

  #rowFault(): string | undefined {
    const csv = this.#orderbook;
    const fields = csv.fieldCount;
    if (this.#levels === 0) {
      if (fields === 0 || fields % 4 !== 0 || fields > 4 * MAX_LEVELS) {
        return `it has ${fields} fields, not 4 for each of 1 to ${MAX_LEVELS} levels`;
      }
      this.#levels = fields / 4;
    }
    const levels = this.#levels;
    if (fields !== 4 * levels) {
      return `it has ${fields} fields, expected ${4 * levels} (${levels} ${
        levels === 1 ? "level" : "levels"
      } of ask price, ask size, bid price, bid size)`;
    }
    if (csv.problem !== undefined) return csv.problem;
    const v = csv.values;
    const d = csv.decimals;
    for (let i = 0; i < fields; i++) {
      if (d[i] !== 0) return `field ${i + 1} '${numberText(v[i]!, d[i]!)}' is not a whole number`;
    }
    return sideFault(v, levels, SIDE.Ask) ?? sideFault(v, levels, SIDE.Bid);
  }

  /** Whether the book's top levels of `side` equal the orderbook row's. */
  #sideMatches(side: Side): boolean {
    const v = this.#orderbook.values;
    const book = this.book;
    const at = side === SIDE.Ask ? 0 : 2;
    const empty = side === SIDE.Ask ? LOBSTER_EMPTY_ASK : LOBSTER_EMPTY_BID;
    for (let i = 0; i < this.#levels; i++) {
      const price = v[4 * i + at]!;
      // The row's empty levels are all at its end: the book must end there too.
      if (price === empty) return book.price(side, i) === undefined;
      if (book.price(side, i) !== price || book.size(side, i) !== v[4 * i + at + 1]) return false;
    }
    return true;
  }

  /**
   * Gathers the Level events that make the top levels of `side` equal the
   * row's: each of the row's levels at its size, and every level of the
   * book the row does not have removed where it would show (better than
   * the row's last level, or anywhere when the row's side ends within its
   * depth). Levels of the book deeper than the row shows stay as they are.
   */
  #gatherFixes(side: Side): void {
    if (this.#sideMatches(side)) return;
    const v = this.#orderbook.values;
    const book = this.book;
    const levels = this.#levels;
    const at = side === SIDE.Ask ? 0 : 2;
    const empty = side === SIDE.Ask ? LOBSTER_EMPTY_ASK : LOBSTER_EMPTY_BID;
    let shown = 0;
    for (; shown < levels; shown++) {
      const price = v[4 * shown + at]!;
      if (price === empty) break;
      const size = v[4 * shown + at + 1]!;
      if (book.sizeAt(side, price) !== size) this.#fix(side, price, size);
    }
    const last = shown === levels ? v[4 * (levels - 1) + at]! : undefined;
    const depth = book.depth(side);
    for (let j = 0; j < depth; j++) {
      const price = book.price(side, j)!;
      if (last !== undefined && (side === SIDE.Ask ? price >= last : price <= last)) break;
      if (!rowHas(v, shown, at, price)) this.#fix(side, price, 0);
    }
  }

  #fix(side: Side, price: number, size: number): void {
    const at = 3 * this.#fixCount++;
    this.#fixes[at] = side;
    this.#fixes[at + 1] = price;
    this.#fixes[at + 2] = size;
  }
}

function rowHas(v: Float64Array, shown: number, at: number, price: number): boolean {
  for (let i = 0; i < shown; i++) if (v[4 * i + at] === price) return true;
  return false;
}

/** Why one side of an orderbook row is not a book side, or undefined. */
function sideFault(v: Float64Array, levels: number, side: Side): string | undefined {
  const ask = side === SIDE.Ask;
  const at = ask ? 0 : 2;
  const empty = ask ? LOBSTER_EMPTY_ASK : LOBSTER_EMPTY_BID;
  const level = (i: number) => `${ask ? "ask" : "bid"} level ${i + 1}`;
  let ended = false;
  for (let i = 0; i < levels; i++) {
    const price = v[4 * i + at]!;
    const size = v[4 * i + at + 1]!;
    if (price === empty) {
      if (size !== 0) return `${level(i)} is empty (price ${empty}) but has size ${size}`;
      ended = true;
      continue;
    }
    if (ended) return `${level(i)} has price ${price} below an empty level`;
    if (size <= 0) return `${level(i)} has price ${price} and size ${size}, not above 0`;
    const previous = v[4 * (i - 1) + at];
    if (i > 0 && (ask ? price <= previous! : price >= previous!)) {
      return `${level(i)} price ${price} is not ${
        ask ? "above" : "below"
      } level ${i}'s ${previous}`;
    }
  }
  return undefined;
}

/** The counts made since `before`: a resume's own. */
function statsSince(now: BookStatsJson, before: BookStatsJson): BookStatsJson {
  const kinds: Record<string, number> = {};
  for (const [kind, n] of Object.entries(now.kinds)) kinds[kind] = n - (before.kinds[kind] ?? 0);
  return {
    events: now.events - before.events,
    kinds,
    unknownIds: now.unknownIds - before.unknownIds,
    duplicateIds: now.duplicateIds - before.duplicateIds,
    trimmedOrders: now.trimmedOrders - before.trimmedOrders,
    badSides: now.badSides - before.badSides,
    corrections: now.corrections - before.corrections,
    crossedBatches: now.crossedBatches - before.crossedBatches,
    lockedBatches: now.lockedBatches - before.lockedBatches,
  };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A parsed value as the file wrote it: `mantissa` with `decimals` digits after the point. */
function numberText(mantissa: number, decimals: number): string {
  if (decimals === 0) return String(mantissa);
  const digits = String(Math.abs(mantissa)).padStart(decimals + 1, "0");
  const sign = mantissa < 0 ? "-" : "";
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

function seconds(ns: number): string {
  return `${numberText(ns, 9)} s`;
}

/**
 * Imports a LOBSTER day (the message file at `messagePath` and its
 * orderbook file) into the queue `options.to`; see
 * {@linkcode LobsterImport} for the mapping and {@linkcode importRecords}
 * for the queue's checks. Errors name the file and line, and say how many
 * records the queue holds and from which line to resume: with `fromLine`,
 * which the message names as `--from-line` (`options.resumeOption` to name
 * it otherwise). A resume must follow the queue's last line, and a whole
 * import into a queue that holds records must start after its last (see
 * {@linkcode checkContinuation}).
 *
 * @throws {RangeError} when the file name does not say what the options do not.
 * @throws {InputFileError} when either file cannot be read.
 * @throws {QueueContinuityError} when the import would not continue the queue.
 * @throws {ImportError} for a bad line, or any fault once the queue is open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importLobster } from "./lobster_import.ts";
 * const dir = Deno.makeTempDirSync();
 * const name = `${dir}/XYZ_2012-06-21_34200000_57600000_`;
 * Deno.writeTextFileSync(`${name}message_1.csv`, "34200.5,1,7,100,1000000,1\n");
 * Deno.writeTextFileSync(`${name}orderbook_1.csv`, "9999999999,0,1000000,100\n");
 * const summary = await importLobster(`${name}message_1.csv`, { to: `${dir}/q` });
 * assert.equal(summary.records, 3); // instrument, clear, add
 * assert.equal(summary.lobster.messages, 1);
 * assert.equal(summary.lobster.correctedRows, 0);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importLobster(
  messagePath: string,
  options: ImportOptions & LobsterImportOptions,
): Promise<LobsterImportSummary> {
  const lobster = await LobsterImport.open(messagePath, options);
  try {
    const beforeFirst = await checkContinuation(options.to, "lobster", options.fromLine);
    const already = options.fromLine === undefined
      ? 0
      : await partialLineRecords(options.to, options.fromLine);
    const summary = await importRecords(lobster, {
      ...options,
      beforeFirst,
      ...(already === 0 ? {} : { skipFirst: already }),
      source: options.source ?? messagePath,
      strictOrder: options.strictOrder ?? options.strict ?? false,
      resumeOption: options.resumeOption ?? "--from-line",
    });
    return { ...summary, lobster: lobster.counts() };
  } finally {
    lobster.close();
  }
}

/**
 * The LOBSTER counts as one line for the import's summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lobsterCountsLine } from "./lobster_import.ts";
 * import { BookStats } from "../book/book_stats.ts";
 * const book = new BookStats().toJSON();
 * const line = lobsterCountsLine({
 *   messages: 49482, levels: 1, correctedRows: 5, backwardTimes: 0,
 *   book: { ...book, corrections: 7, unknownIds: 3 },
 * });
 * assert.equal(line, "49482 vendor events at 1 level; 7 corrections on 5 rows; 3 unknown order ids");
 * ```
 */
export function lobsterCountsLine(counts: LobsterImportCounts): string {
  const b = counts.book;
  const parts = [
    `${counts.messages} vendor ${counts.messages === 1 ? "event" : "events"} at ${counts.levels} ${
      counts.levels === 1 ? "level" : "levels"
    }`,
    `${b.corrections} ${
      b.corrections === 1 ? "correction" : "corrections"
    } on ${counts.correctedRows} ${counts.correctedRows === 1 ? "row" : "rows"}`,
    `${b.unknownIds} unknown order ${b.unknownIds === 1 ? "id" : "ids"}`,
  ];
  if (counts.backwardTimes > 0) {
    parts.push(
      `${counts.backwardTimes} ${
        counts.backwardTimes === 1 ? "time" : "times"
      } earlier than the line before`,
    );
  }
  if (b.crossedBatches > 0) parts.push(`${b.crossedBatches} crossed`);
  if (b.lockedBatches > 0) parts.push(`${b.lockedBatches} locked`);
  return parts.join("; ");
}
