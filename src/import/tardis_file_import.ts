/**
 * Importing a Tardis CSV file, plain or gzip, into a queue: the part the
 * book and trades imports share; each brings its own reader of rows.
 *
 * @module
 */

import { reportWarning } from "../tape/mod.ts";
import { InputBytes } from "./input_bytes.ts";
import { InputLines } from "./input_lines.ts";
import { type ImportOptions, type ImportRecord, importRecords } from "./queue_import.ts";
import { checkContinuation } from "./queue_continuation.ts";
import type { TardisCounts, TardisImportSummary } from "./tardis_counts.ts";
import type { TardisImportOptions } from "./tardis_events.ts";

/** A reader of a Tardis dataset's lines: its records, and its counts once read. */
export interface TardisRecords extends AsyncIterable<ImportRecord> {
  /** What was read, written and left out so far. */
  readonly counts: TardisCounts;
}

/** Makes a {@linkcode TardisRecords} for lines, options and a count of bytes read. */
export type TardisReader = (
  lines: AsyncIterable<string>,
  options: TardisImportOptions,
  bytesRead: () => number,
) => TardisRecords;

/**
 * Imports the file at `path` (stdin for `-`), gunzipped when it is gzip,
 * through `read` into the queue `options.to`; see {@linkcode importRecords}.
 * `format` names the import, whose events a resume (`fromLine`) must find
 * at the queue's end (see {@linkcode checkContinuation}).
 *
 * @throws {InputFileError} when the file cannot be read.
 * @throws {QueueContinuityError} when the import would not continue the queue.
 * @throws {ImportError} for a bad row or a fault once the queue is open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTardisFile } from "./tardis_file_import.ts";
 * import { TardisTradeRecords } from "./tardis_trades_import.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/t.csv`, "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nx,A,1,1,1,buy,10,1\n");
 * const read = (l: AsyncIterable<string>, o: object, b: () => number) => new TardisTradeRecords(l, o, b);
 * const summary = await importTardisFile(`${dir}/t.csv`, { to: `${dir}/q` }, "tardis-trades", read);
 * assert.equal(summary.records, 2); // the instrument and the trade
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function importTardisFile(
  path: string,
  options: ImportOptions & TardisImportOptions,
  format: "tardis-book" | "tardis-trades",
  read: TardisReader,
): Promise<TardisImportSummary> {
  const beforeFirst = await checkContinuation(options.to, format, options.fromLine);
  const source = options.source ?? (path === "-" ? "stdin" : path);
  const warn = options.onWarning ?? reportWarning;
  const named = source === "stdin" ? "stdin" : `'${source}'`;
  const bytes = await InputBytes.open(path);
  const records = read(
    new InputLines(bytes),
    { ...options, onWarning: (message) => warn(`${named} ${message}`) },
    () => bytes.bytesRead,
  );
  const summary = await importRecords(records, {
    ...options,
    beforeFirst,
    source,
    // The whole file is read again on a resume, to rebuild the books.
    resumeOption: options.resumeOption ?? "--from-line",
  });
  return { ...summary, counts: records.counts };
}
