/**
 * The chronicle's errors, by meaning. Each names the file it is about so a
 * one-line message is enough for an operator.
 *
 * @module
 */

/**
 * FFI is not permitted, libc cannot be loaded, or the platform is not Linux.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FfiUnavailableError } from "./chronicle_errors.ts";
 * const e = new FfiUnavailableError("Run with '--allow-ffi'");
 * assert.equal(e.name, "FfiUnavailableError");
 * ```
 */
export class FfiUnavailableError extends Error {
  /** Creates the error with its message. */
  constructor(message: string) {
    super(message);
    this.name = "FfiUnavailableError";
  }
}

/**
 * A queue file does not hold what the format says: a bad magic or version, a
 * corrupt record header, a reader offset past the end, or a directory that
 * is not a queue at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueFormatError } from "./chronicle_errors.ts";
 * const e = new QueueFormatError("Bad magic", "/q/0000000001.seg", 0);
 * assert.equal(e.path, "/q/0000000001.seg");
 * assert.equal(e.offset, 0);
 * ```
 */
export class QueueFormatError extends SyntaxError {
  /** The file (or directory) at fault. */
  readonly path: string;
  /** Byte offset of the fault in the file, when there is one. */
  readonly offset: number | undefined;
  /** Creates the error; the message should already name the file. */
  constructor(message: string, path: string, offset?: number) {
    super(message);
    this.name = "QueueFormatError";
    this.path = path;
    this.offset = offset;
  }
}

/**
 * A queue is damaged: bytes that were published are zeroed, torn, fail
 * their checksum, or a segment is missing or not a file. Readers throw it
 * after delivering every record before the damage; writers refuse to
 * append to a damaged queue. `seq` is the first record not delivered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueDamageError, QueueFormatError } from "./chronicle_errors.ts";
 * const e = new QueueDamageError("/q/0000000001.seg", 4096, 17, "zeroed record header");
 * assert.equal(e.message, "Queue segment '/q/0000000001.seg' is damaged at offset 4096, seq 17: zeroed record header");
 * assert.ok(e instanceof QueueFormatError);
 * assert.equal(e.seq, 17);
 * ```
 */
export class QueueDamageError extends QueueFormatError {
  /** Seq of the first record not delivered because of the damage. */
  readonly seq: number;
  /** What is wrong, without the file, offset and seq. */
  readonly reason: string;
  /** Creates the error for a file, the offset the damage begins at, and the seq that is lost. */
  constructor(path: string, offset: number, seq: number, reason: string) {
    super(
      `Queue segment '${path}' is damaged at offset ${offset}, seq ${seq}: ${reason}`,
      path,
      offset,
    );
    this.name = "QueueDamageError";
    this.seq = seq;
    this.reason = reason;
  }

  /**
   * A file that fails its opening checks, seen as damage by whoever needed
   * its records from `seq` on. The reason drops the file's name, which the
   * message already gives.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { QueueDamageError, QueueFormatError } from "./chronicle_errors.ts";
   * const open = new QueueFormatError("Segment '/q/0000000002.seg' is truncated (4 bytes)", "/q/0000000002.seg", 4);
   * const e = QueueDamageError.from(open, 90);
   * assert.equal(e.message, "Queue segment '/q/0000000002.seg' is damaged at offset 4, seq 90: segment is truncated (4 bytes)");
   * ```
   */
  static from(error: QueueFormatError, seq: number): QueueDamageError {
    const named = `'${error.path}' `;
    const reason = error.message.replace(`Segment ${named}`, "segment ").replace(
      `File ${named}`,
      "file ",
    ).replace(named, "it ");
    return new QueueDamageError(error.path, error.offset ?? 0, seq, reason);
  }
}

/**
 * Another live process holds the queue's writer lock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueLockedError } from "./chronicle_errors.ts";
 * const e = new QueueLockedError("/q", 4242);
 * assert.equal(e.message, "Queue '/q' is already open for writing by pid 4242");
 * ```
 */
export class QueueLockedError extends Error {
  /** The queue directory. */
  readonly path: string;
  /** The holder's pid as it wrote it into the lock file, when readable. */
  readonly pid: number | undefined;
  /** Creates the error for a queue and the holder's pid. */
  constructor(path: string, pid: number | undefined) {
    super(
      pid === undefined
        ? `Queue '${path}' is already open for writing by another process`
        : `Queue '${path}' is already open for writing by pid ${pid}`,
    );
    this.name = "QueueLockedError";
    this.path = path;
    this.pid = pid;
  }
}

/**
 * A system call on a queue file failed (no space, no permission, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueIoError } from "./chronicle_errors.ts";
 * const e = new QueueIoError("Cannot preallocate '/q/0000000002.seg': no space left on device", "/q/0000000002.seg", 28);
 * assert.equal(e.errno, 28);
 * ```
 */
export class QueueIoError extends Error {
  /** The file the call was about. */
  readonly path: string;
  /** The errno the call failed with. */
  readonly errno: number;
  /** Creates the error; the message should already name the file and the reason. */
  constructor(message: string, path: string, errno: number) {
    super(message);
    this.name = "QueueIoError";
    this.path = path;
    this.errno = errno;
  }
}

/**
 * A writer or reader was used after `close()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueClosedError } from "./chronicle_errors.ts";
 * assert.equal(new QueueClosedError("/q").message, "Queue '/q' is closed");
 * ```
 */
export class QueueClosedError extends Error {
  /** The queue directory. */
  readonly path: string;
  /** Creates the error for a queue directory. */
  constructor(path: string) {
    super(`Queue '${path}' is closed`);
    this.name = "QueueClosedError";
    this.path = path;
  }
}
