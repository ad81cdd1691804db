/**
 * The errors of sealed stores, by meaning. Each carries what an operator
 * needs in one line: the store, the byte offset, the last seq delivered.
 *
 * @module
 */

/**
 * A recipient or identity that cannot be used: not a key, the wrong kind of
 * key, or no identity given opens the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SealedKeyError } from "./sealed_errors.ts";
 * const e = new SealedKeyError("Recipient 'x' is not an age1 key", "--recipient");
 * assert.equal(e.source, "--recipient");
 * assert.ok(e instanceof TypeError);
 * ```
 */
export class SealedKeyError extends TypeError {
  /** Where the key came from: an option, a file, an environment variable. */
  readonly source: string;
  /** Builds the error; the message names the key's source. */
  constructor(message: string, source: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SealedKeyError";
    this.source = source;
  }
}

/**
 * Bytes that are not a sealed store at all, or one of a version or
 * algorithm this code does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SealedFormatError } from "./sealed_errors.ts";
 * const e = new SealedFormatError("'/s/stream.sealed' is not a sealed store", "/s/stream.sealed", 0);
 * assert.equal(e.offset, 0);
 * assert.ok(e instanceof SyntaxError);
 * ```
 */
export class SealedFormatError extends SyntaxError {
  /** The store file (or `FILE#stream` for SQLite). */
  readonly path: string;
  /** Byte offset of the unit at fault. */
  readonly offset: number;
  /** Builds the error; the message names the file. */
  constructor(message: string, path: string, offset: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "SealedFormatError";
    this.path = path;
    this.offset = offset;
  }
}

/**
 * What is wrong with a damaged store:
 * - `torn`: a unit is cut short at the end (a writer died writing it);
 * - `checksum`: a unit's CRC32C does not match, with more data after it;
 * - `authentication`: a segment or run header fails its tag or MAC
 *   (tampered, or spliced in from another store);
 * - `order`: units out of place (reordered, duplicated, a run spliced in);
 * - `unfinished`: the last run has no final segment and no writer holds the
 *   store (a killed writer, or the end was cut off);
 * - `header`: a header field out of range.
 */
export type SealedDamage =
  | "torn"
  | "checksum"
  | "authentication"
  | "order"
  | "unfinished"
  | "header";

/**
 * A sealed store is damaged. Readers throw it once, after delivering every
 * record before the damage and none from the damaged segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SealedDamageError } from "./sealed_errors.ts";
 * const e = new SealedDamageError("/s/stream.sealed", 4096, 17, "authentication", "segment 3 of run 0 does not authenticate");
 * assert.equal(
 *   e.message,
 *   "Sealed store '/s/stream.sealed' is damaged at offset 4096, after seq 17: segment 3 of run 0 does not authenticate",
 * );
 * assert.equal(e.reason, "authentication");
 * ```
 */
export class SealedDamageError extends RangeError {
  /** The store file (or `FILE#stream` for SQLite). */
  readonly path: string;
  /** Byte offset of the damaged unit (its position in unit order for SQLite). */
  readonly offset: number;
  /** The last seq delivered before the damage; 0 when none was. */
  readonly seq: number;
  /** What kind of damage. */
  readonly reason: SealedDamage;
  /** What is wrong, without the file, offset and seq. */
  readonly detail: string;
  /** Builds the error for a store, an offset, the last seq delivered and what is wrong. */
  constructor(
    path: string,
    offset: number,
    seq: number,
    reason: SealedDamage,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `Sealed store '${path}' is damaged at offset ${offset}, after seq ${seq}: ${detail}`,
      options,
    );
    this.name = "SealedDamageError";
    this.path = path;
    this.offset = offset;
    this.seq = seq;
    this.reason = reason;
    this.detail = detail;
  }
}
