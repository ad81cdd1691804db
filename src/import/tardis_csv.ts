/**
 * Rows of a Tardis.dev CSV dataset (`incremental_book_L2`, `trades`, …):
 * comma-separated, no quoting (no Tardis field holds a comma), a header
 * row naming the columns, timestamps in microseconds since the epoch.
 *
 * @module
 */

import { InputLineError } from "./import_error.ts";
import { InputLines } from "./input_lines.ts";

/** One data row, its fields in the order the reader asked for; reused from row to row. */
export interface TardisRow {
  /** 1-based line of the row in the input (the header is line 1). */
  line: number;
  /** The fields, in the order of the reader's `columns`. */
  readonly fields: string[];
  /**
   * Whether the row is the input's last line and has no newline, as the
   * last line of a file cut short has (known of {@linkcode InputLines} only).
   */
  unterminated: boolean;
}

/**
 * The data rows of a Tardis CSV `dataset`, with the fields of `columns`
 * picked out by the header's names (other columns are ignored). Blank lines
 * are skipped and a `\r` before a newline is dropped. The row object is
 * reused: read its fields before pulling the next. A resume from line
 * `fromLine` (above 1) needs the input to reach that line.
 *
 * @throws {InputLineError} when the input is empty, the header lacks a
 *   column, a row has a different number of fields than the header, or
 *   `fromLine` is past the last line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tardisRows } from "./tardis_csv.ts";
 * async function* lines() {
 *   yield "exchange,symbol,timestamp,price";
 *   yield "deribit,BTC-PERPETUAL,1585699200245000,6443.5";
 * }
 * const seen: unknown[] = [];
 * for await (const row of tardisRows(lines(), "trades", ["price", "symbol"])) {
 *   seen.push([row.line, ...row.fields]);
 * }
 * assert.deepEqual(seen, [[2, "6443.5", "BTC-PERPETUAL"]]);
 * ```
 */
export async function* tardisRows(
  lines: AsyncIterable<string>,
  dataset: string,
  columns: readonly string[],
  fromLine = 1,
): AsyncIterableIterator<TardisRow> {
  let line = 0;
  let picks: number[] | undefined;
  let width = 0;
  const row: TardisRow = { line: 0, fields: columns.map(() => ""), unterminated: false };
  const input = lines instanceof InputLines ? lines : undefined;
  for await (const raw of lines) {
    line++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text === "") continue;
    const fields = text.split(",");
    if (picks === undefined) {
      picks = headerPicks(fields, dataset, columns, line);
      width = fields.length;
      continue;
    }
    if (fields.length !== width) {
      throw new InputLineError(
        `Row has ${fields.length} fields but the header has ${width}: a ${dataset} row is '${
          columns.join(",")
        }'`,
        line,
      );
    }
    row.line = line;
    row.unterminated = input?.unterminated ?? false;
    for (let i = 0; i < picks.length; i++) row.fields[i] = fields[picks[i]!]!;
    yield row;
  }
  if (picks === undefined) {
    throw new InputLineError(
      `Input is empty: a Tardis ${dataset} file starts with its header '${columns.join(",")}'`,
      1,
    );
  }
  if (fromLine > 1 && fromLine > line) {
    throw new InputLineError(
      `From line '${fromLine}' is past the end of the file, which has ${line} ${
        line === 1 ? "line" : "lines"
      }`,
      line,
    );
  }
}

function headerPicks(
  names: string[],
  dataset: string,
  columns: readonly string[],
  line: number,
): number[] {
  // A byte order mark is not part of the first name.
  if (names[0]?.startsWith("\uFEFF")) names[0] = names[0].slice(1);
  const missing = columns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    const lacks = missing.map((c) => `'${c}'`).join(", ");
    throw new InputLineError(
      `Header has no ${lacks}: a Tardis ${dataset} file starts with '${columns.join(",")}'`,
      line,
    );
  }
  return columns.map((c) => names.indexOf(c));
}

/**
 * A timestamp field: microseconds since the epoch, a whole number.
 *
 * @throws {InputLineError} naming the column and the line when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMicros } from "./tardis_csv.ts";
 * assert.equal(parseMicros("1585699200245000", "timestamp", 2), 1585699200245000);
 * assert.throws(() => parseMicros("2020-04-01", "timestamp", 2), /line|'timestamp'/);
 * ```
 */
export function parseMicros(text: string, column: string, line: number): number {
  const us = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(us)) {
    throw new InputLineError(
      `'${column}' is '${text}', not microseconds since the epoch (a whole number)`,
      line,
    );
  }
  return us;
}
