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
// statfs(2) f_type of btrfs, ZFS and bcachefs.
const COPY_ON_WRITE = new Set([0x9123683e, 0x2fc12fc1, 0xca451a4e]);

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
  readonly #bytes: number;
  // The spare's descriptor, holding its exclusive lock; -1 when none.
  #fd = -1;
  #zeroedTo = 0;

  /** A recycler for the queue in `dir`, whose segments are `segmentBytes` long. */
  constructor(dir: string, segmentBytes: number) {
    this.#dir = dir;
    this.#bytes = segmentBytes;
  }

  /**
   * Whether recycling pays on the file system holding `dir`. Not on a
   * copy-on-write one (btrfs, ZFS, bcachefs): a rewritten block takes new
   * space there, so a recycled file would lose the preallocation that makes
   * a full disk an error at a roll rather than a fault on a store.
   */
  static supported(dir: string): boolean {
    const buffer = new Uint8Array(256);
    if (libc().statfs(cPath(dir), buffer) !== 0) return false;
    // f_type is the first field of struct statfs on x86-64 and aarch64.
    return !COPY_ON_WRITE.has(new DataView(buffer.buffer).getUint32(0, true));
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
   * segment kept in `queue.meta` is already past it), as the spare. Never
   * throws: recycling only saves work, so whatever goes wrong, the file is
   * deleted as retention without recycling would.
   *
   * @returns true when the file is dealt with: taken, or deleted here (a
   *   reader still maps it, or it could not be made a spare); false when
   *   the caller deletes it (a spare is already held, or the rename failed).
   */
  retire(index: number): boolean {
    if (this.#fd >= 0) return false;
    try {
      Deno.renameSync(`${this.#dir}/${segmentName(index)}`, this.#spare);
    } catch {
      return false;
    }
    try {
      const c = libc();
      const fd = c.open(cPath(this.#spare), O_RDWR | O_CLOEXEC, 0);
      if (fd < 0) throw this.#error("open", errno());
      // Held from here, so that #drop closes it whatever fails next.
      this.#fd = fd;
      this.#zeroedTo = 0;
      // A reader maps it (the lock is refused), or it is no segment of
      // this queue's size: deleted below.
      if (c.flock(fd, LOCK_EX | LOCK_NB) !== 0) throw this.#error("lock", errno());
      if (Deno.statSync(this.#spare).size !== this.#bytes) throw new RangeError("Not a segment");
      // The header first: from here on the file is no started segment.
      this.#zero(SEGMENT_HEADER_SIZE);
    } catch {
      this.#drop();
    }
    return true;
  }

  /**
   * Zeroes the next step of the spare, if one is held and not yet all zero;
   * a spare that cannot be written is deleted.
   */
  zeroSome(): void {
    if (this.#fd < 0 || this.#zeroedTo >= this.#bytes) return;
    try {
      this.#zero(Math.min(this.#bytes, this.#zeroedTo + ZERO_STEP));
    } catch {
      this.#drop();
    }
  }

  /**
   * Zeroes the rest of the spare and renames it to segment `index`, a
   * prepared segment (all zero) for the writer to map and start.
   *
   * @returns false when no spare is held, or it could not be zeroed or
   *   renamed (it is deleted then): the writer makes a new file instead.
   */
  place(index: number): boolean {
    if (this.#fd < 0) return false;
    try {
      this.#zero(this.#bytes);
      // Unlocked before it gets a segment's name: a reader that opens it
      // by that name must find it free to lock.
      this.#release();
      Deno.renameSync(this.#spare, `${this.#dir}/${segmentName(index)}`);
      return true;
    } catch {
      this.#drop();
      return false;
    }
  }

  /** Lets go of the spare, deleting it. */
  close(): void {
    if (this.#fd >= 0) this.#drop();
  }

  get #spare(): string {
    return `${this.#dir}/${SPARE_FILE}`;
  }

  #error(action: string, code: number): QueueIoError {
    return new QueueIoError(
      `Cannot ${action} '${this.#spare}': ${errnoText(code)}`,
      this.#spare,
      code,
    );
  }

  // Lets go of the spare and deletes it; a file that cannot be deleted now
  // is deleted by the next writer that opens the queue.
  #drop(): void {
    this.#release();
    try {
      removeIfThere(this.#spare);
    } catch {
      // left for the next writer's open
    }
  }

  // Writes zeros up to `end` with pwrite(2), not through a mapping: a
  // page no longer in memory is then replaced whole, never read first.
  #zero(end: number): void {
    zeros ??= new Uint8Array(ZERO_STEP);
    const c = libc();
    while (this.#zeroedTo < end) {
      const length = Math.min(ZERO_STEP, end - this.#zeroedTo);
      const n = Number(c.pwrite(this.#fd, zeros, BigInt(length), BigInt(this.#zeroedTo)));
      if (n <= 0) throw this.#error("zero", errno());
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
