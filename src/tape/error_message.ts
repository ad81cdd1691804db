/**
 * The text of anything thrown, for messages that quote a cause.
 *
 * @module
 */

/**
 * The message of a thrown value: an `Error`'s message, or anything else as
 * a string, since JavaScript lets code throw values that are not errors.
 * With `firstLine`, only the text before the first newline, for one-line
 * reports of errors whose messages carry more (a child's stderr, a stack).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorMessage } from "./error_message.ts";
 * assert.equal(errorMessage(new RangeError("Bad size")), "Bad size");
 * assert.equal(errorMessage("plain string"), "plain string");
 * assert.equal(errorMessage(new Error("one\ntwo"), { firstLine: true }), "one");
 * ```
 */
export function errorMessage(error: unknown, options: { firstLine?: boolean } = {}): string {
  const text = error instanceof Error ? error.message : String(error);
  if (!options.firstLine) return text;
  const end = text.indexOf("\n");
  return end === -1 ? text : text.slice(0, end);
}
