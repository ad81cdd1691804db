/**
 * Segment recycling: an `ipc` writer reuses a segment retention let go as
 * its next segment. The file's pages are still in memory, so zeroing them
 * by writing costs a fraction of what a new file costs (allocating and
 * faulting in every page), and the writer's appends run at memory speed
 * from the first record of the segment.
 *
 * A reader may still map a segment retention let go (a reader behind,
 * about to fall off). Readers hold a shared `flock(2)` on every segment
 * they map, so the recycler renames the file out of the segment names
 * first (no reader opens it from then on), then takes an exclusive lock
 * without waiting: if that fails, a reader maps the file and it is deleted
 * as retention always did. A reader that opened the file before the rename
 * and locks it after finds its segment below the first one kept and lets
 * it go unread (see `SegmentCache`).
 *
 * @module
 */

import { QueueIoError } from "./chronicle_errors.ts";
import { SEGMENT_HEADER_SIZE, segmentName, SPARE_FILE } from "./format.ts";
import { cPath, errno, errnoText, libc, LOCK_EX, LOCK_NB, O_CLOEXEC, O_RDWR } from "./libc.ts";

// Zeroed per call of zeroSome: about 0.1–0.2 ms of writing into resident
// pages, the same order as the writer's populate step.
const ZERO_STEP = 2 * 1024 * 1024;
let zeros: Uint8Array<ArrayBuffer> | undefined;

/**
 * Holds at most one retired segment (the spare) and zeroes it, a step at a
 * time, until the writer places it as its next segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SegmentRecycler } from "./segment_recycler.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeFileSync(`${dir}/0000000000.seg`, new Uint8Array(4096).fill(7));
 * const recycler = new SegmentRecycler(dir, 4096);
 * assert.equal(recycler.retire(0), true);
 * recycler.place(5);
 * assert.deepEqual(Deno.readFileSync(`${dir}/0000000005.seg`), new Uint8Array(4096));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SegmentRecycler {
  readonly #dir: string;
  readonly #segmentBytes: number;
  // The spare's descriptor, holding its exclusive lock; -1 when none.
  #fd = -1;
  #zeroedTo = 0;

  /** A recycler for the queue in `dir`, whose segments are `segmentBytes` long. */
  constructor(dir: string, segmentBytes: number) {
    this.#dir = dir;
    this.#segmentBytes = segmentBytes;
  }

  /**
   * Deletes a spare a killed writer left. Called by a writer holding
   * `writer.lock`, before it appends.
   */
  static clear(dir: string): void {
    removeIfThere(`${dir}/${SPARE_FILE}`);
  }

  /** Whether a spare is held. */
  get holding(): boolean {
    return this.#fd >= 0;
  }

  /**
   * Takes segment `index`, which retention has just let go (the first
   * segment kept in `queue.meta` is already past it), as the spare.
   *
   * @returns true when the file is dealt with: taken, or deleted because a
   *   reader still maps it; false when the caller deletes it (a spare is
   *   already held, or the file is not there).
   * @throws {QueueIoError} when the file cannot be renamed.
   */
  retire(index: number): boolean {
    if (this.#fd >= 0) return false;
    const spare = `${this.#dir}/${SPARE_FILE}`;
    try {
      Deno.renameSync(`${this.#dir}/${segmentName(index)}`, spare);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
    const c = libc();
    const fd = c.open(cPath(spare), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      removeIfThere(spare);
      return true;
    }
    let size = -1;
    try {
      size = Deno.statSync(spare).size;
    } catch {
      // gone or unreadable: deleted below
    }
    if (size !== this.#segmentBytes || c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      // A reader maps it (or it is not a segment of this size): delete it
      // as retention does without recycling.
      c.close(fd);
      removeIfThere(spare);
      return true;
    }
    this.#fd = fd;
    this.#zeroedTo = 0;
    // The header first: from here on the file is no started segment.
    this.#zero(SEGMENT_HEADER_SIZE);
    return true;
  }

  /** Zeroes the next step of the spare, if one is held and not yet all zero. */
  zeroSome(): void {
    if (this.#fd >= 0 && this.#zeroedTo < this.#segmentBytes) {
      this.#zero(Math.min(this.#segmentBytes, this.#zeroedTo + ZERO_STEP));
    }
  }

  /**
   * Zeroes the rest of the spare and renames it to segment `index`, a
   * prepared segment (all zero) for the writer to map and start.
   *
   * @returns false when no spare is held.
   * @throws {QueueIoError} when zeroing or the rename fails; the spare is deleted.
   */
  place(index: number): boolean {
    if (this.#fd < 0) return false;
    const spare = `${this.#dir}/${SPARE_FILE}`;
    try {
      this.#zero(this.#segmentBytes);
      // Unlocked before it gets a segment's name: a reader that opens it
      // by that name must find it free to lock.
      this.#release();
      Deno.renameSync(spare, `${this.#dir}/${segmentName(index)}`);
    } catch (error) {
      this.#release();
      removeIfThere(spare);
      throw error;
    }
    return true;
  }

  /** Lets go of the spare, deleting it. */
  close(): void {
    if (this.#fd < 0) return;
    this.#release();
    removeIfThere(`${this.#dir}/${SPARE_FILE}`);
  }

  // Writes zeros up to `end` with pwrite(2), not through a mapping: a
  // page no longer in memory is then replaced whole, never read first.
  #zero(end: number): void {
    zeros ??= new Uint8Array(ZERO_STEP);
    const c = libc();
    while (this.#zeroedTo < end) {
      const length = Math.min(ZERO_STEP, end - this.#zeroedTo);
      const n = Number(c.pwrite(this.#fd, zeros, BigInt(length), BigInt(this.#zeroedTo)));
      if (n <= 0) {
        const code = errno();
        const path = `${this.#dir}/${SPARE_FILE}`;
        throw new QueueIoError(`Cannot zero '${path}': ${errnoText(code)}`, path, code);
      }
      this.#zeroedTo += n;
    }
  }

  #release(): void {
    if (this.#fd >= 0) libc().close(this.#fd);
    this.#fd = -1;
  }
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
