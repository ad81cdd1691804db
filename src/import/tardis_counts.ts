/**
 * What a Tardis import saw besides the records it wrote: events by kind,
 * rows it left out and why, and times that went back. The summary line of
 * `import` ends with these.
 *
 * @module
 */

import type { ImportSummary } from "./import_summary.ts";

/** Counts of a Tardis import, from its first row written on (see `fromLine`). */
export interface TardisCounts {
  /** Data rows read (the header and blank lines not counted). */
  rows: number;
  /** Events written, by kind name (`instrument`, `clear`, `level`, `trade`). */
  events: Record<string, number>;
  /** Book rows before their market's first snapshot, left out. */
  skippedBeforeSnapshot: number;
  /** Rows whose `timestamp` is earlier than the row before of the same symbol. */
  backwardTimes: number;
  /** Rows of symbols not asked for (`symbols`), left out. */
  otherSymbolRows: number;
  /** Trades whose `id` is not a whole number up to 2^53-1, written with trade id 0. */
  tradeIdsNotNumeric: number;
}

/** What a Tardis import did: the queue's summary and the import's counts. */
export interface TardisImportSummary extends ImportSummary {
  /** What the import saw besides the records it wrote. */
  counts: TardisCounts;
}

/**
 * Counts at zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tardisCounts } from "./tardis_counts.ts";
 * assert.equal(tardisCounts().rows, 0);
 * ```
 */
export function tardisCounts(): TardisCounts {
  return {
    rows: 0,
    events: {},
    skippedBeforeSnapshot: 0,
    backwardTimes: 0,
    otherSymbolRows: 0,
    tradeIdsNotNumeric: 0,
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The counts as the end of a summary line: each part starts with `; `, and
 * parts that are zero are left out, so an import with nothing to say adds
 * only its events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tardisCounts, tardisCountsLine } from "./tardis_counts.ts";
 * const c = tardisCounts();
 * c.events = { instrument: 1, clear: 1, level: 40 };
 * c.skippedBeforeSnapshot = 3;
 * assert.equal(
 *   tardisCountsLine(c),
 *   "; events: 1 instrument, 1 clear, 40 level; 3 rows before the first snapshot skipped",
 * );
 * ```
 */
export function tardisCountsLine(counts: TardisCounts): string {
  const events = Object.entries(counts.events).map(([kind, n]) => `${n} ${kind}`);
  let line = events.length === 0 ? "" : `; events: ${events.join(", ")}`;
  if (counts.skippedBeforeSnapshot > 0) {
    line += `; ${
      plural(counts.skippedBeforeSnapshot, "row", "rows")
    } before the first snapshot skipped`;
  }
  if (counts.backwardTimes > 0) {
    line += counts.backwardTimes === 1
      ? "; 1 row with a timestamp earlier than the one before for its symbol"
      : `; ${counts.backwardTimes} rows with timestamps earlier than the one before for their symbol`;
  }
  if (counts.otherSymbolRows > 0) {
    line += `; ${plural(counts.otherSymbolRows, "row", "rows")} of other symbols skipped`;
  }
  if (counts.tradeIdsNotNumeric > 0) {
    line += `; ${
      plural(counts.tradeIdsNotNumeric, "trade id", "trade ids")
    } not a number up to 2^53-1, written as 0`;
  }
  return line;
}
