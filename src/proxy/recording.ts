/**
 * What `record`'s two ways of recording share: their options, what they
 * record into, their result, and the error of a tape that cannot be
 * created.
 *
 * @module
 */

import type { SealedLocation } from "../sealed/mod.ts";
import type {
  FrameInput,
  FrameRecord,
  TapeDurability,
  TapeMeta,
  TapeWriterOptions,
} from "../tape/mod.ts";
import type { Redactor } from "./redactor.ts";

/**
 * What a recording writes its frames into: a tape (`TapeWriter`) or a
 * sealed store (`SealedRecording`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import type { RecordingWriter } from "./recording.ts";
 * const dir = Deno.makeTempDirSync();
 * const writer: RecordingWriter = await TapeWriter.create(dir);
 * assert.equal((await writer.append({ dir: "c2s", env: "hi", flags: ["text"] })).seq, 1);
 * assert.equal((await writer.finalize()).stats.frame_count, 1);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export interface RecordingWriter {
  /** Where the frames go: the tape's `.jsonl` file, or the store (`DIR/stream.sealed`, `FILE#stream`). */
  readonly path: string;
  /**
   * Records one frame as the next seq; resolves with it once it is as
   * durable as asked. Rejects with `LineTooLongError` for a frame over the
   * limit (nothing recorded, recording goes on) and with the write error
   * that stops the recording.
   */
  append(frame: FrameInput): Promise<FrameRecord>;
  /** Ends the recording as complete; rejects with a write error after ending what it can. */
  finalize(): Promise<TapeMeta>;
  /** Ends the recording with status `error`; returns the last meta after `finalize`. */
  fail(error: unknown): Promise<TapeMeta>;
}

/**
 * Where `record --seal-to` records: a sealed store and the recipients it is
 * sealed to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SealTo } from "./recording.ts";
 * const sealTo: SealTo = { location: { kind: "file", dir: "vault" }, recipients: [new Uint8Array(32)] };
 * assert.equal(sealTo.location.kind, "file");
 * ```
 */
export interface SealTo {
  /** The store: `sealed:DIR` or `sqlite:FILE[#stream]`, parsed. */
  location: SealedLocation;
  /** X25519 public keys (parsed `age1…` recipients), 1 to 255. */
  recipients: Uint8Array[];
}

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
  /** Directory the tape is written to (created if missing); not used with `sealTo`. */
  out: string;
  /** Records into this sealed store instead of a tape in `out`: nothing is written in clear. */
  sealTo?: SealTo;
  /** Name of the session, recorded in the tape's metadata. */
  name?: string;
  /** Description of the session, recorded in the tape's metadata. */
  description?: string;
  /** Tags of the session, recorded in the tape's metadata. */
  tags?: string[];
  /**
   * Defaults to `flush`: every frame is handed to the OS before the next is
   * written. A sealed store commits to disk for `flush` and `fsync` alike.
   */
  durability?: TapeDurability;
  /** Rewrites the recorded copy of each message. */
  redactor?: Redactor;
  /** Suppresses the closing `tape … finalized` (or `… sealed`) line; warnings and errors are still shown. */
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
  /**
   * Meta of the tape as it was left: `finalized`, or `error` when writing
   * failed (for a sealed store, the same facts as its metadata frames).
   */
  meta: TapeMeta;
  /** Path of the `.jsonl` file, or the sealed store (`DIR/stream.sealed`, `FILE#stream`). */
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
