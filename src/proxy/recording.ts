/**
 * What `record`'s two ways of recording share: their options, their
 * result, and the error of a tape that cannot be created.
 *
 * @module
 */

import type { TapeDurability, TapeMeta, TapeWriterOptions } from "../tape/mod.ts";
import type { Redactor } from "./redactor.ts";

/**
 * Options shared by `runStdioProxy` and `recordStdin`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordOptions } from "./recording.ts";
 * const options: RecordOptions = { out: "tapes", tags: ["demo"], durability: "fsync", quiet: true };
 * assert.equal(options.durability, "fsync");
 * ```
 */
export interface RecordOptions {
  /** Directory the tape is written to (created if missing). */
  out: string;
  /** Name of the session, recorded in the tape's metadata. */
  name?: string;
  /** Description of the session, recorded in the tape's metadata. */
  description?: string;
  /** Tags of the session, recorded in the tape's metadata. */
  tags?: string[];
  /** Defaults to `flush`: every frame is handed to the OS before the next is written. */
  durability?: TapeDurability;
  /** Rewrites the recorded copy of each message. */
  redactor?: Redactor;
  /** Suppresses the closing `tape … finalized` line (warnings and errors are still shown). */
  quiet?: boolean;
  /** Writes one line of diagnostics; defaults to stderr with a `record: ` prefix. */
  log?: (line: string) => void;
  /** Extra writer options, for tests and benchmarks (checkpoint intervals and the like). */
  writer?: Omit<TapeWriterOptions, "name" | "description" | "tags" | "durability">;
}

/**
 * How a recording ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordResult } from "./recording.ts";
 * const failed = (result: RecordResult) => result.meta.status === "error";
 * assert.equal(typeof failed, "function");
 * ```
 */
export interface RecordResult {
  /**
   * Exit status for `record`: the server's (128 plus the signal's number
   * when a signal stopped `--stdin`), or 1 when the tape could not be written.
   */
  code: number;
  /** Meta of the tape as it was left: `finalized`, or `error` when writing failed. */
  meta: TapeMeta;
  /** Path of the `.jsonl` file. */
  path: string;
}

/**
 * The tape could not be created in the output directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeCreateError } from "./recording.ts";
 * assert.equal(
 *   new TapeCreateError("/ro", "permission denied").message,
 *   "Cannot create a tape in '/ro': permission denied",
 * );
 * ```
 */
export class TapeCreateError extends Error {
  /** Directory the tape was to be written to. */
  readonly dir: string;

  /** Builds the error from the directory and the reason. */
  constructor(dir: string, reason: string, options?: ErrorOptions) {
    super(`Cannot create a tape in '${dir}': ${reason}`, options);
    this.name = "TapeCreateError";
    this.dir = dir;
  }
}
