/**
 * Constructors for {@linkcode TapeStats}, shared by the writer (which keeps
 * them) and the directory (which rebuilds a lost meta file).
 *
 * @module
 */

import type { TapeStats } from "./types.ts";

/**
 * Stats of a tape with no frames yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyStats } from "./tape_stats.ts";
 * assert.equal(emptyStats().frame_count, 0);
 * ```
 */
export function emptyStats(): TapeStats {
  return {
    frame_count: 0,
    duration_ms: 0,
    bytes: 0,
    last_seq: 0,
    message_counts: { request: 0, notification: 0, response: 0, error: 0, message: 0, text: 0 },
    errors: 0,
    correlations: 0,
    checkpoints: 0,
  };
}

/**
 * A deep copy, so a snapshot handed out never changes under its holder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyStats, emptyStats } from "./tape_stats.ts";
 * const a = emptyStats();
 * const b = copyStats(a);
 * b.message_counts.request++;
 * assert.equal(a.message_counts.request, 0);
 * ```
 */
export function copyStats(stats: TapeStats): TapeStats {
  return { ...stats, message_counts: { ...stats.message_counts } };
}
