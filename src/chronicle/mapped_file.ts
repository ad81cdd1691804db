/**
 * A file mapped into memory with `mmap(2)`, seen from JavaScript as an
 * ArrayBuffer over the mapping itself: what a writer stores there another
 * process reads with no copy and no system call.
 *
 * @module
 */

import { QueueIoError } from "./chronicle_errors.ts";
import {
  cPath,
  errno,
  errnoText,
  libc,
  MADV_POPULATE_WRITE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_SYNC,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "./libc.ts";

const PAGE = 4096;
const ZEROS = new Uint8Array(512 * 1024);

// A released mapping that views may still reach is replaced by anonymous
// memory rather than unmapped; once the ArrayBuffer itself is collected
// nothing can reach the range and it is unmapped for good.
const unmapWhenCollected = new FinalizationRegistry<{ pointer: Deno.PointerValue; size: number }>(
  ({ pointer, size }) => {
    libc().munmap(pointer, BigInt(size));
  },
);

/** How {@linkcode MappedFile.open} maps a file. */
export interface MapOptions {
  /** Map read-write (the writer and `queue.meta`); otherwise read-only. */
  writable: boolean;
  /** Create the file with this size, preallocating its blocks, when it does not exist. */
  createSize?: number;
}

function fail(action: string, path: string, code: number): never {
  throw new QueueIoError(`Cannot ${action} '${path}': ${errnoText(code)}`, path, code);
}

/**
 * One mapped file. `bytes` and `words` view the mapping directly; stores to
 * them are stores to the file's pages.
 *
 * @example Map a scratch file and write through the mapping
 * ```ts
 * import { MappedFile } from "./mapped_file.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.removeSync(path);
 * const file = MappedFile.open(path, { writable: true, createSize: 4096 });
 * file.bytes[0] = 42;
 * file.release();
 * console.log(Deno.readFileSync(path)[0]); // 42
 * Deno.removeSync(path);
 * ```
 */
export class MappedFile {
  /** The mapped file. */
  readonly path: string;
  /** Mapped length in bytes (the whole file). */
  readonly size: number;
  /** Start of the mapping. */
  readonly pointer: Deno.PointerObject;
  /** The mapping as bytes. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The mapping as 32-bit words, for aligned fields and atomic stores. */
  readonly words: Uint32Array<ArrayBuffer>;
  #released = false;
  #shared = false;
  // Kept open for writable mappings so pages ahead of the writer can be
  // prepared with plain writes; -1 otherwise.
  #fd: number;

  private constructor(path: string, size: number, pointer: Deno.PointerObject, fd: number) {
    this.path = path;
    this.#fd = fd;
    this.size = size;
    this.pointer = pointer;
    const buffer = Deno.UnsafePointerView.getArrayBuffer(pointer, size);
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
    unmapWhenCollected.register(buffer, { pointer, size }, this);
  }

  /**
   * Maps a file whole. With `createSize`, a missing file is created and its
   * blocks reserved with `posix_fallocate`, so a full disk is reported here
   * and never as a fault on a later store.
   *
   * @throws {QueueIoError} when the file cannot be opened, created or mapped.
   */
  static open(path: string, options: MapOptions): MappedFile {
    const c = libc();
    const create = options.createSize !== undefined;
    const flags = (options.writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | (create ? O_CREAT : 0);
    const fd = c.open(cPath(path), flags, 0o644);
    if (fd < 0) fail("open", path, errno());
    let keep = false;
    try {
      let size = options.createSize ?? 0;
      if (create) {
        const existing = Deno.statSync(path).size;
        if (existing === 0) {
          const rc = c.posix_fallocate(fd, 0n, BigInt(size));
          if (rc !== 0) {
            // An empty file left behind would read as a damaged one.
            Deno.removeSync(path);
            fail("preallocate", path, rc);
          }
        } else {
          size = existing;
        }
      } else {
        size = Deno.statSync(path).size;
      }
      if (size === 0) {
        throw new QueueIoError(`Cannot map '${path}': the file is empty`, path, 22);
      }
      const prot = options.writable ? PROT_READ | PROT_WRITE : PROT_READ;
      const pointer = c.mmap(null, BigInt(size), prot, MAP_SHARED, fd, 0n);
      if (pointer === null || Deno.UnsafePointer.value(pointer) === -1n) fail("map", path, errno());
      keep = options.writable;
      return new MappedFile(path, size, pointer, keep ? fd : -1);
    } finally {
      if (!keep) c.close(fd);
    }
  }

  /** Address of a byte in the mapping, for calls that take a pointer (futex). */
  address(offset: number): Deno.PointerObject {
    return Deno.UnsafePointer.create(Deno.UnsafePointer.value(this.pointer) + BigInt(offset))!;
  }

  /**
   * Makes `length` bytes from `offset` cheap to write through the mapping:
   * writes zeros there with `pwrite` (a preallocated block becomes an
   * ordinary written one, already in the page cache) and then faults the
   * pages in, writable, with one `madvise(MADV_POPULATE_WRITE)`. Together
   * several times cheaper than a page fault per page. Only for ranges that
   * hold nothing yet, past the page holding `offset`. Best effort: on kernels without MADV_POPULATE_WRITE
   * the writer simply takes its own page faults.
   */
  populate(offset: number, length: number): void {
    const range = this.#pageRange(offset, length);
    if (range === undefined) return;
    const c = libc();
    if (this.#fd >= 0) {
      // Never the page holding `offset`: it may already carry records.
      const end = Math.min(this.size, offset + length);
      for (let at = (offset + PAGE - 1) & ~(PAGE - 1); at < end; at += ZEROS.length) {
        c.pwrite(this.#fd, ZEROS, BigInt(Math.min(ZEROS.length, end - at)), BigInt(at));
      }
    }
    c.madvise(range[0], range[1], MADV_POPULATE_WRITE);
  }

  /**
   * Like {@linkcode MappedFile.populate}, on Deno's blocking pool. Deno
   * dispatches such calls only when the event loop turns, so this suits work
   * ahead of time (a segment prepared for the next roll), not a writer in a
   * tight loop.
   */
  populateInBackground(offset: number, length: number): void {
    const range = this.#pageRange(offset, length);
    if (range !== undefined) {
      libc().madvise_async(range[0], range[1], MADV_POPULATE_WRITE).catch(() => {});
    }
  }

  #pageRange(offset: number, length: number): [Deno.PointerObject, bigint] | undefined {
    const start = offset & ~(PAGE - 1);
    const end = Math.min(this.size, offset + length);
    if (end <= start || this.#released) return undefined;
    return [this.address(start), BigInt(end - start)];
  }

  /**
   * Writes the dirty pages of a range back to the file and waits for the
   * device (`msync(MS_SYNC)`).
   *
   * @throws {QueueIoError} when the write-back fails.
   */
  sync(offset = 0, length = this.size): void {
    const start = offset & ~(PAGE - 1);
    const end = Math.min(this.size, offset + length);
    if (end <= start || this.#released) return;
    if (libc().msync(this.address(start), BigInt(end - start), MS_SYNC) !== 0) {
      fail("sync", this.path, errno());
    }
  }

  /** Whether {@linkcode MappedFile.release} was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Records that a view of the mapping went to code outside this module (a
   * record's payload), which may still hold it after
   * {@linkcode MappedFile.release}.
   */
  markShared(): void {
    this.#shared = true;
  }

  /**
   * Lets go of the file's pages, so no mapping keeps the file alive (a
   * deleted segment really frees its disk). A mapping only this module saw
   * is unmapped at once. One marked shared is replaced by anonymous zero
   * pages instead: a view still pointing there reads zeros rather than
   * crashing the process, and the range is unmapped when the last view is
   * collected.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const c = libc();
    if (this.#fd >= 0) c.close(this.#fd);
    this.#fd = -1;
    if (!this.#shared) {
      unmapWhenCollected.unregister(this);
      c.munmap(this.pointer, BigInt(this.size));
      return;
    }
    // Should the kernel refuse (no memory for the new mapping), the file
    // stays mapped until the views are collected: its space is freed late,
    // but nothing reading it crashes.
    c.mmap(
      this.pointer,
      BigInt(this.size),
      PROT_READ,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
      -1,
      0n,
    );
  }
}
