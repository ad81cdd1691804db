/**
 * Raised when a file is not a tape or a line of a tape cannot be read as a
 * record. Carries where the problem is so a message can point at it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeFormatError } from "./tape_format_error.ts";
 * const err = new TapeFormatError("Line is not valid JSON", { path: "a.jsonl", line: 3, offset: 120 });
 * assert.equal(err.message, "Line is not valid JSON in 'a.jsonl' at line 3 (byte 120)");
 * ```
 */
export class TapeFormatError extends SyntaxError {
  /** File the problem was found in. */
  readonly path: string;
  /** 1-based line number, when known. */
  readonly line: number | undefined;
  /** Byte offset of the start of the line, when known. */
  readonly offset: number | undefined;

  /** Builds the error; the location is appended to the message. */
  constructor(
    reason: string,
    where: { path: string; line?: number; offset?: number },
    options?: ErrorOptions,
  ) {
    const at = where.line === undefined
      ? ""
      : ` at line ${where.line}${where.offset === undefined ? "" : ` (byte ${where.offset})`}`;
    super(`${reason} in '${where.path}'${at}`, options);
    this.name = "TapeFormatError";
    this.path = where.path;
    this.line = where.line;
    this.offset = where.offset;
  }
}
