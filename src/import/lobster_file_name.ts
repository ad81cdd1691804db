/**
 * LOBSTER's file names: `TICKER_DATE_START_END_message_N.csv` and its
 * `_orderbook_N.csv` twin carry the ticker, the trading date, the time
 * window in ms after midnight and the number of levels.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { newYorkMidnightNs } from "./new_york_time.ts";

/** What a LOBSTER file name says. */
export interface LobsterFileName {
  /** The ticker, such as `GOOG`. */
  ticker: string;
  /** The trading date, `YYYY-MM-DD`. */
  date: string;
  /** Start of the time window, ms after midnight New York time. */
  startMs: number;
  /** End of the time window, ms after midnight New York time. */
  endMs: number;
  /** Which file of the pair it is. */
  kind: "message" | "orderbook";
  /** Levels per side in the orderbook file. */
  levels: number;
}

// The ticker is everything before the date, so one with an underscore still parses.
const NAME = /^(.+)_(\d{4}-\d{2}-\d{2})_(\d+)_(\d+)_(message|orderbook)_([1-9]\d*)\.csv$/;

/**
 * Parses the name (the last part of `path`) of a LOBSTER message or
 * orderbook file; undefined when it is not in the vendor's pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLobsterFileName } from "./lobster_file_name.ts";
 * assert.deepEqual(parseLobsterFileName("data/GOOG_2012-06-21_34200000_57600000_message_1.csv"), {
 *   ticker: "GOOG", date: "2012-06-21", startMs: 34200000, endMs: 57600000,
 *   kind: "message", levels: 1,
 * });
 * assert.equal(parseLobsterFileName("quotes.csv"), undefined);
 * ```
 */
export function parseLobsterFileName(path: string): LobsterFileName | undefined {
  const m = NAME.exec(basename(path));
  if (m === null) return undefined;
  const [, ticker = "", date = "", start = "", end = "", kind = "", levels = ""] = m;
  return {
    ticker,
    date,
    startMs: Number(start),
    endMs: Number(end),
    kind: kind === "message" ? "message" : "orderbook",
    levels: Number(levels),
  };
}

/** What a user may say instead of the file name. */
export interface LobsterFileOptions {
  /** The symbol to use instead of the file name's ticker. */
  symbol?: string;
  /** The trading date, `YYYY-MM-DD`, instead of the file name's. */
  date?: string;
  /** The orderbook file, instead of the one beside the message file. */
  orderbook?: string;
}

/** The two files of a LOBSTER import and what they are about. */
export interface LobsterFiles {
  /** The message file. */
  messagePath: string;
  /** The orderbook file. */
  orderbookPath: string;
  /** The symbol of the instrument. */
  symbol: string;
  /** The trading date, `YYYY-MM-DD`. */
  date: string;
  /** Levels per side, when a file name says; otherwise the orderbook's first row tells. */
  levels: number | undefined;
}

/**
 * Resolves the files and facts of an import of the message file at
 * `messagePath`: the orderbook file beside it (same name with `orderbook`
 * for `message`) unless `options.orderbook` names one, and the symbol, date
 * and levels from the names unless the options give them.
 *
 * @throws {RangeError} when the message file's name is not in the vendor's
 * pattern and the options do not make up for it, or a date is not a date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lobsterFiles } from "./lobster_file_name.ts";
 * const files = lobsterFiles("d/AAPL_2012-06-21_34200000_57600000_message_10.csv", { symbol: "AAPL.O" });
 * assert.equal(files.orderbookPath, "d/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv");
 * assert.equal(files.symbol, "AAPL.O");
 * assert.equal(files.levels, 10);
 * assert.throws(() => lobsterFiles("d/day.csv", {}), RangeError);
 * ```
 */
export function lobsterFiles(messagePath: string, options: LobsterFileOptions = {}): LobsterFiles {
  const name = parseLobsterFileName(messagePath);
  const own = name?.kind === "message" ? name : undefined;
  const missing: string[] = [];
  const symbol = options.symbol ?? own?.ticker;
  if (symbol === undefined) missing.push("the symbol ('--symbol')");
  const date = options.date ?? own?.date;
  if (date === undefined) missing.push("the date ('--date')");
  let orderbookPath = options.orderbook;
  if (orderbookPath === undefined && own !== undefined) {
    const twin = basename(messagePath).replace(/_message_(\d+)\.csv$/, "_orderbook_$1.csv");
    orderbookPath = join(dirname(messagePath), twin);
  }
  if (orderbookPath === undefined) missing.push("the orderbook file ('--orderbook')");
  if (symbol === undefined || date === undefined || orderbookPath === undefined) {
    throw new RangeError(
      `'${messagePath}' is not named TICKER_DATE_START_END_message_N.csv: give ${
        missing.join(", ")
      }`,
    );
  }
  if (symbol === "") throw new RangeError("Symbol '' is empty: give one");
  // Checked here, so a bad date is refused before any file is read.
  newYorkMidnightNs(date);
  const levels = own?.levels ?? parseLobsterFileName(orderbookPath)?.levels;
  return { messagePath, orderbookPath, symbol, date, levels };
}
