/**
 * Counts kept while books are built: events per kind and every rule that
 * bent the book to fit the events (unknown ids, duplicates, crossed
 * batches), for `--stats` and for tests.
 *
 * @module
 */

import { BOOK_KIND_NAMES, MAX_BOOK_KIND } from "./book_protocol.ts";

/** What {@linkcode BookStats.toJSON} returns: every count by name. */
export interface BookStatsJson {
  /** Events applied. */
  events: number;
  /** Events per kind name (`level`, `order_add`, ...), kinds never seen included as 0. */
  kinds: Record<string, number>;
  /** Cancels, deletes and executions of an order id the book does not hold. */
  unknownIds: number;
  /** Order adds whose id the book already held: the old order is replaced. */
  duplicateIds: number;
  /** Known orders removed because a level event set the level below their sum. */
  trimmedOrders: number;
  /** Book-changing events ignored because their side is neither bid nor ask. */
  badSides: number;
  /** Events flagged as an importer's correction. */
  corrections: number;
  /** Batch ends after which the best bid was above the best ask. */
  crossedBatches: number;
  /** Batch ends after which the best bid equalled the best ask. */
  lockedBatches: number;
}

/**
 * The counts. Books increment the public fields directly (a counter per
 * event must cost nothing); readers use {@linkcode BookStats.toJSON} or
 * {@linkcode BookStats.lines}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookStats } from "./book_stats.ts";
 * import { BOOK_KIND } from "./book_protocol.ts";
 * const stats = new BookStats();
 * stats.count(BOOK_KIND.Level);
 * stats.unknownIds++;
 * assert.equal(stats.toJSON().kinds.level, 1);
 * assert.equal(stats.toJSON().unknownIds, 1);
 * assert.ok(stats.lines().some((line) => /^unknown order ids +1$/.test(line)));
 * ```
 */
export class BookStats {
  /** Events applied. */
  events = 0;
  /** Events per kind; index is the kind. */
  readonly byKind: Float64Array = new Float64Array(MAX_BOOK_KIND + 1);
  /** Cancels, deletes and executions of an order id the book does not hold. */
  unknownIds = 0;
  /** Order adds whose id the book already held. */
  duplicateIds = 0;
  /** Known orders removed because a level event set the level below their sum. */
  trimmedOrders = 0;
  /** Book-changing events ignored because their side is neither bid nor ask. */
  badSides = 0;
  /** Events flagged as an importer's correction. */
  corrections = 0;
  /** Batch ends after which the book was crossed (best bid above best ask). */
  crossedBatches = 0;
  /** Batch ends after which the book was locked (best bid equal to best ask). */
  lockedBatches = 0;

  /** Counts one event of `kind` (1 to {@linkcode MAX_BOOK_KIND}). */
  count(kind: number): void {
    this.events++;
    this.byKind[kind]!++;
  }

  /** Every count by name, for `--stats --json` and tests. */
  toJSON(): BookStatsJson {
    const kinds: Record<string, number> = {};
    for (let k = 1; k <= MAX_BOOK_KIND; k++) kinds[BOOK_KIND_NAMES[k]!] = this.byKind[k]!;
    return {
      events: this.events,
      kinds,
      unknownIds: this.unknownIds,
      duplicateIds: this.duplicateIds,
      trimmedOrders: this.trimmedOrders,
      badSides: this.badSides,
      corrections: this.corrections,
      crossedBatches: this.crossedBatches,
      lockedBatches: this.lockedBatches,
    };
  }

  /**
   * The counts as aligned `name  value` lines for `--stats`: events, each
   * kind seen, then every rule's count (zeros included, so a clean run says
   * so).
   */
  lines(): string[] {
    const rows: [string, number][] = [["events", this.events]];
    for (let k = 1; k <= MAX_BOOK_KIND; k++) {
      const n = this.byKind[k]!;
      if (n > 0) rows.push([`  ${BOOK_KIND_NAMES[k]}`, n]);
    }
    rows.push(
      ["unknown order ids", this.unknownIds],
      ["duplicate order ids", this.duplicateIds],
      ["trimmed orders", this.trimmedOrders],
      ["bad sides", this.badSides],
      ["corrections", this.corrections],
      ["crossed batches", this.crossedBatches],
      ["locked batches", this.lockedBatches],
    );
    const width = Math.max(...rows.map(([name]) => name.length));
    return rows.map(([name, n]) => `${name.padEnd(width)}  ${n}`);
  }
}
