/**
 * Tape identifiers: sortable by creation time, unique without coordination.
 *
 * @module
 */

/**
 * Makes a new tape id: the UTC creation time to the second, then 32 random
 * bits in hex, e.g. `20261122T031500Z-1a2b3c4d`. Ids sort by creation time
 * as plain strings, and two writers starting in the same second collide
 * with a chance of one in four billion.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newTapeId } from "./tape_id.ts";
 * const id = newTapeId(new Date("2026-11-22T03:15:00Z"));
 * assert.match(id, /^20261122T031500Z-[0-9a-f]{8}$/);
 * ```
 */
export function newTapeId(now: Date = new Date()): string {
  if (Number.isNaN(now.getTime())) {
    throw new RangeError("Cannot make a tape id from an invalid date");
  }
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, "") + "Z";
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return `${stamp}-${random.toString(16).padStart(8, "0")}`;
}

/**
 * Whether a tape id can name files safely: 1 to 200 characters of letters,
 * digits, `.`, `_` and `-`, not starting with a dot (hidden files are the
 * writer's temporary files).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSafeTapeId } from "./tape_id.ts";
 * assert.equal(isSafeTapeId("20261122T031500Z-1a2b3c4d"), true);
 * assert.equal(isSafeTapeId("../etc/passwd"), false);
 * ```
 */
export function isSafeTapeId(id: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(id);
}
