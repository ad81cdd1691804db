/**
 * The single-writer rule, enforced by `flock(2)` on `writer.lock`. The kernel
 * drops the lock the moment its holder dies, however it dies, so a writer
 * restarted after SIGKILL gets in at once with no stale-lock timeout.
 *
 * @module
 */

import { QueueIoError, QueueLockedError } from "./chronicle_errors.ts";
import { QUEUE_FILE_MODE } from "./file_mode.ts";
import { LOCK_FILE } from "./format.ts";
import {
  cPath,
  EAGAIN,
  errno,
  errnoText,
  libc,
  LOCK_EX,
  LOCK_NB,
  O_CLOEXEC,
  O_CREAT,
  O_RDWR,
} from "./libc.ts";

/**
 * A held writer lock. The holder's pid is written into the file so a
 * refused writer can name it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WriterLock } from "./writer_lock.ts";
 * const dir = Deno.makeTempDirSync();
 * const lock = WriterLock.acquire(dir);
 * assert.throws(() => WriterLock.acquire(dir), { name: "QueueLockedError" });
 * lock.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class WriterLock {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Takes the lock of the queue in `dir` without waiting. A lock file
   * created now gets the permission bits `mode` (before the umask).
   *
   * @throws {QueueLockedError} when another process (or another writer in this one) holds it.
   */
  static acquire(dir: string, mode = QUEUE_FILE_MODE): WriterLock {
    const c = libc();
    const path = `${dir}/${LOCK_FILE}`;
    const fd = c.open(cPath(path), O_RDWR | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0) {
      const code = errno();
      throw new QueueIoError(`Cannot open lock file '${path}': ${errnoText(code)}`, path, code);
    }
    if (c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      const code = errno();
      c.close(fd);
      if (code !== EAGAIN) {
        throw new QueueIoError(`Cannot lock '${path}': ${errnoText(code)}`, path, code);
      }
      throw new QueueLockedError(dir, holderPid(path));
    }
    Deno.writeTextFileSync(path, `${Deno.pid}\n`);
    return new WriterLock(fd);
  }

  /** Lets the next writer in. */
  release(): void {
    libc().close(this.#fd);
  }
}

/**
 * The pid a lock's holder wrote into the lock file at `path`, when it is
 * there and readable: a refused writer names who holds the lock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { holderPid } from "./writer_lock.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "4242\n");
 * assert.equal(holderPid(path), 4242);
 * Deno.writeTextFileSync(path, "");
 * assert.equal(holderPid(path), undefined);
 * Deno.removeSync(path);
 * ```
 */
export function holderPid(path: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
