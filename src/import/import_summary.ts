/**
 * What an import did, and the one line a program prints about it.
 *
 * @module
 */

/** What an import did; returned by every import function. */
export interface ImportSummary {
  /** The queue directory. */
  queue: string;
  /** Records appended to the queue. */
  records: number;
  /** Input records left out because the queue already had their seq (`skipExisting`). */
  skipped: number;
  /** Seqs of the first and last record appended, when any were. */
  seqs: { first: number; last: number } | undefined;
  /** Records appended with a timestamp earlier than the input record before them. */
  backwardTimestamps: number;
  /** Wall time the import took, in milliseconds. */
  elapsedMs: number;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The summary as one line (without the program name): how many records
 * went into which queue, with which seqs, how long it took, and what is
 * worth knowing besides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importSummaryLine } from "./import_summary.ts";
 * assert.equal(
 *   importSummaryLine({
 *     queue: "q", records: 3, skipped: 0, seqs: { first: 1, last: 3 },
 *     backwardTimestamps: 1, elapsedMs: 120,
 *   }),
 *   "3 records into 'q' (seq 1..3) in 0.12 s; 1 record with a timestamp earlier than the one before",
 * );
 * ```
 */
export function importSummaryLine(summary: ImportSummary): string {
  const seqs = summary.seqs === undefined
    ? ""
    : ` (seq ${summary.seqs.first}..${summary.seqs.last})`;
  let line = `${plural(summary.records, "record", "records")} into '${summary.queue}'${seqs} in ${
    (summary.elapsedMs / 1000).toFixed(2)
  } s`;
  if (summary.skipped > 0) {
    line += `; ${plural(summary.skipped, "record", "records")} skipped, already in the queue`;
  }
  if (summary.backwardTimestamps > 0) {
    line += summary.backwardTimestamps === 1
      ? "; 1 record with a timestamp earlier than the one before"
      : `; ${summary.backwardTimestamps} records with timestamps earlier than the one before`;
  }
  return line;
}
