/**
 * The errors of writing a tape: a frame too long for a line, and a write
 * the file system refused.
 *
 * @module
 */

import { ioReason } from "./io_reason.ts";

/**
 * A frame whose line would be longer than the tape allows. The frame is
 * refused, nothing of it is written and the tape goes on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineTooLongError } from "./tape_write_errors.ts";
 * const err = new LineTooLongError("t.jsonl", 20_000_000, 10_485_760);
 * assert.equal(
 *   err.message,
 *   "Frame refused by tape 't.jsonl': its line is 20000000 bytes, over the limit of 10485760",
 * );
 * ```
 */
export class LineTooLongError extends RangeError {
  /** The tape that refused the frame. */
  readonly path: string;
  /** Bytes the line would have had, without the newline. */
  readonly byteLength: number;
  /** The limit it went over. */
  readonly maxLineBytes: number;

  /** Builds the error. */
  constructor(path: string, byteLength: number, maxLineBytes: number) {
    super(
      `Frame refused by tape '${path}': its line is ${byteLength} bytes, over the limit of ${maxLineBytes}`,
    );
    this.name = "LineTooLongError";
    this.path = path;
    this.byteLength = byteLength;
    this.maxLineBytes = maxLineBytes;
  }
}

/**
 * The file system refused a write (disk full, permission denied, I/O
 * error). The tape stays readable up to its last complete record; the
 * writer accepts nothing more, and `fail` records the error in the meta
 * file. `reopen` can carry on later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriteError } from "./tape_write_errors.ts";
 * const err = new TapeWriteError("write tape", "t.jsonl", new Error("No space left on device (os error 28)"));
 * assert.equal(err.message, "Cannot write tape 't.jsonl': no space left on device");
 * ```
 */
export class TapeWriteError extends Error {
  /** The file that could not be written. */
  readonly path: string;

  /** Builds the error; `action` is what failed, e.g. `write tape`. */
  constructor(action: string, path: string, cause: unknown) {
    super(`Cannot ${action} '${path}': ${ioReason(cause)}`, { cause });
    this.name = "TapeWriteError";
    this.path = path;
  }
}
