/**
 * The single-writer rule of a sealed store, enforced by `flock(2)`: on
 * `DIR/writer.lock` for a file store, on the database file itself for a
 * SQLite store. The kernel drops the lock the moment its holder dies,
 * however it dies, so a writer restarted after SIGKILL gets in at once;
 * and a reader learns whether a writer is at work (a run without its final
 * segment is then in progress, not damaged) by trying a shared lock.
 *
 * SQLite keeps its own locks with `fcntl(2)`, which a process loses on the
 * close of any descriptor of the file, so a SQLite store's lock descriptor
 * is opened before the database and closed after it: {@linkcode WriterProbe}
 * and {@linkcode StoreLock} hold theirs for as long as they live.
 *
 * @module
 */

import { holderPid } from "../chronicle/writer_lock.ts";
import { ioReason } from "../tape/mod.ts";

/** Permission bits of a lock file (or SQLite database) the lock creates. */
const LOCK_FILE_MODE = 0o600;

/**
 * Another writer holds the sealed store's lock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SealedLockedError } from "./store_lock.ts";
 * const e = new SealedLockedError("/s/writer.lock", 42);
 * assert.equal(e.message, "Sealed store lock '/s/writer.lock' is held by another writer (pid 42)");
 * assert.equal(e.pid, 42);
 * ```
 */
export class SealedLockedError extends Error {
  /** The lock file: `DIR/writer.lock`, or the SQLite database. */
  readonly path: string;
  /** The holder's pid as it wrote it into the lock file, when known. */
  readonly pid: number | undefined;
  /** Builds the error for a lock file and its holder's pid. */
  constructor(path: string, pid: number | undefined) {
    super(
      `Sealed store lock '${path}' is held by another writer${
        pid === undefined ? "" : ` (pid ${pid})`
      }`,
    );
    this.name = "SealedLockedError";
    this.path = path;
    this.pid = pid;
  }
}

/**
 * A system call on a lock file failed (no permission, a missing directory…).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SealedLockIoError } from "./store_lock.ts";
 * const e = new SealedLockIoError("Cannot open '/s/writer.lock' to lock it: permission denied", "/s/writer.lock");
 * assert.equal(e.path, "/s/writer.lock");
 * ```
 */
export class SealedLockIoError extends Error {
  /** The lock file. */
  readonly path: string;
  /** Builds the error; the message names the file and the system's reason. */
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SealedLockIoError";
    this.path = path;
  }
}

/**
 * A held writer lock on a sealed store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWriterActive, StoreLock } from "./store_lock.ts";
 * const dir = Deno.makeTempDirSync();
 * const lock = StoreLock.acquire(`${dir}/writer.lock`, { writePid: true });
 * assert.throws(() => StoreLock.acquire(`${dir}/writer.lock`), { name: "SealedLockedError" });
 * assert.equal(isWriterActive(`${dir}/writer.lock`), true);
 * lock.release();
 * assert.equal(isWriterActive(`${dir}/writer.lock`), false);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class StoreLock {
  readonly #file: Deno.FsFile;
  #held = true;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Takes the exclusive lock on `path` without waiting, creating the file
   * `0600` when missing (an existing file's mode is left alone). With
   * `writePid`, the holder's pid goes into the file, so a refused writer can
   * name it; a SQLite database is never written this way.
   *
   * @throws {SealedLockedError} when another process (or another writer in this one) holds it.
   * @throws {SealedLockIoError} when the file cannot be opened or locked.
   */
  static acquire(path: string, options: { writePid?: boolean } = {}): StoreLock {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true, write: true, create: true, mode: LOCK_FILE_MODE });
    } catch (error) {
      throw new SealedLockIoError(`Cannot open '${path}' to lock it: ${ioReason(error)}`, path, {
        cause: error,
      });
    }
    let got: boolean;
    try {
      // flock(2), as Deno takes it: the kernel drops it the moment its holder dies.
      got = file.tryLockSync(true);
    } catch (error) {
      file.close();
      throw new SealedLockIoError(`Cannot lock '${path}': ${ioReason(error)}`, path, {
        cause: error,
      });
    }
    if (!got) {
      file.close();
      throw new SealedLockedError(path, options.writePid ? holderPid(path) : undefined);
    }
    if (options.writePid) Deno.writeTextFileSync(path, `${Deno.pid}\n`);
    return new StoreLock(file);
  }

  /** Lets the next writer in; a second call does nothing. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#file.close();
  }
}

/**
 * A reader's view of a store's lock: whether a writer holds it right now.
 * It keeps its descriptor open until {@linkcode WriterProbe.close}, which
 * a SQLite reader calls after closing its database (see the module notes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreLock, WriterProbe } from "./store_lock.ts";
 * const dir = Deno.makeTempDirSync();
 * const probe = WriterProbe.open(`${dir}/writer.lock`);
 * assert.equal(probe.active(), false);
 * const lock = StoreLock.acquire(`${dir}/writer.lock`);
 * assert.equal(probe.active(), true);
 * lock.release();
 * assert.equal(probe.active(), false);
 * probe.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class WriterProbe {
  readonly #path: string;
  #file: Deno.FsFile | undefined;

  private constructor(path: string, file: Deno.FsFile | undefined) {
    this.#path = path;
    this.#file = file;
  }

  /**
   * Opens the lock file at `path` for probing, read-only; a missing file is
   * looked for again at each probe (no writer has run yet).
   *
   * @throws {SealedLockIoError} when the file exists but cannot be opened.
   */
  static open(path: string): WriterProbe {
    return new WriterProbe(path, openForProbe(path));
  }

  /**
   * Whether a writer holds the lock now: a shared lock is tried and let go
   * at once, and refused only while an exclusive one is held.
   *
   * @throws {SealedLockIoError} when the lock cannot be tried.
   */
  active(): boolean {
    this.#file ??= openForProbe(this.#path);
    if (this.#file === undefined) return false;
    return probe(this.#file, this.#path);
  }

  /** Closes the file; a second call does nothing. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/**
 * Whether a writer holds the lock file at `path` now (false when there is
 * no such file). It opens and closes a descriptor: a process that has the
 * SQLite database open uses a {@linkcode WriterProbe} instead.
 *
 * @throws {SealedLockIoError} when the file exists but cannot be opened or locked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWriterActive } from "./store_lock.ts";
 * assert.equal(isWriterActive("/nonexistent/writer.lock"), false);
 * ```
 */
export function isWriterActive(path: string): boolean {
  const file = openForProbe(path);
  if (file === undefined) return false;
  try {
    return probe(file, path);
  } finally {
    file.close();
  }
}

function openForProbe(path: string): Deno.FsFile | undefined {
  try {
    return Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new SealedLockIoError(`Cannot open '${path}' to try its lock: ${ioReason(error)}`, path, {
      cause: error,
    });
  }
}

function probe(file: Deno.FsFile, path: string): boolean {
  let free: boolean;
  try {
    free = file.tryLockSync(false);
  } catch (error) {
    throw new SealedLockIoError(`Cannot try the lock of '${path}': ${ioReason(error)}`, path, {
      cause: error,
    });
  }
  if (free) file.unlockSync();
  return !free;
}
