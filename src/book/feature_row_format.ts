/**
 * Feature rows as text: CSV with a header line, or JSON lines. Both carry
 * the values exactly as computed, so a script reading either gets the same
 * digits.
 *
 * @module
 */

import type { FeatureRow } from "./feature_computer.ts";
import type { FeatureSpec } from "./feature_spec.ts";

/**
 * Writes rows of one features run. Columns are `seq`, `timestamp_ns`,
 * `venue`, `market`, `symbol`, then one per feature, named by its
 * {@linkcode FeatureSpec.column}. A missing value is an empty field in CSV
 * and `null` in JSON; values are decimal numbers, unquoted in both, and
 * `timestamp_ns` is an exact integer (past 2^53: read it as a big integer
 * or as text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FeatureRowFormat } from "./feature_row_format.ts";
 * import { parseFeatures } from "./feature_spec.ts";
 * const format = new FeatureRowFormat(parseFeatures("mid,vwap"));
 * const row = { seq: 3, timestampNs: 5n, venue: 1, market: 2, symbol: "ABC", values: ["100.525", undefined] };
 * assert.equal(format.csvHeader, "seq,timestamp_ns,venue,market,symbol,mid,vwap");
 * assert.equal(format.csv(row), "3,5,1,2,ABC,100.525,");
 * assert.equal(
 *   format.json(row),
 *   '{"seq":3,"timestamp_ns":5,"venue":1,"market":2,"symbol":"ABC","mid":100.525,"vwap":null}',
 * );
 * ```
 */
export class FeatureRowFormat {
  /** The CSV header line, with no newline. */
  readonly csvHeader: string;
  readonly #keys: readonly string[];

  /** Makes the format of rows of `features`. */
  constructor(features: readonly FeatureSpec[]) {
    const columns = features.map((f) => f.column);
    this.csvHeader = ["seq", "timestamp_ns", "venue", "market", "symbol", ...columns].join(",");
    this.#keys = columns.map((c) => `,${JSON.stringify(c)}:`);
  }

  /** A row as one CSV line, with no newline. */
  csv(row: FeatureRow): string {
    let line = `${row.seq},${row.timestampNs},${row.venue},${row.market},${csvField(row.symbol)}`;
    for (const value of row.values) line += `,${value ?? ""}`;
    return line;
  }

  /** A row as one JSON line, with no newline. */
  json(row: FeatureRow): string {
    let line = `{"seq":${row.seq},"timestamp_ns":${row.timestampNs},"venue":${row.venue},` +
      `"market":${row.market},"symbol":${JSON.stringify(row.symbol)}`;
    const keys = this.#keys;
    const values = row.values;
    for (let i = 0; i < keys.length; i++) line += `${keys[i]}${values[i] ?? "null"}`;
    return `${line}}`;
  }
}

// RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled.
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
