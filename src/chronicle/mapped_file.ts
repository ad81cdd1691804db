/**
 * A file mapped into memory with `mmap(2)`, seen from JavaScript as an
 * ArrayBuffer over the mapping itself: what a writer stores there another
 * process reads with no copy and no system call.
 *
 * @module
 */

import { QueueFormatError, QueueIoError } from "./chronicle_errors.ts";
import {
  cPath,
  EINVAL,
  errno,
  errnoText,
  libc,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_SYNC,
  O_CLOEXEC,
  O_CREAT,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "./libc.ts";

const PAGE = 4096;
// mmap(2) reports failure as MAP_FAILED, (void *) -1, which Deno hands back
// as the unsigned address 2^64 - 1.
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

// Only a regular file can be mapped safely: a directory or device maps
// nothing a reader may touch, and opening a FIFO would wait for a writer.
function checkRegularFile(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return; // a missing file is reported by open(2) itself
  }
  if (info.isFile) return;
  const kind = info.isDirectory ? "a directory" : "a FIFO, socket or device";
  throw new QueueFormatError(`'${path}' is ${kind}, not a regular file`, path, 0);
}

// A released mapping that views may still reach is replaced by anonymous
// memory rather than unmapped; once the ArrayBuffer itself is collected
// nothing can reach the range and it is unmapped for good.
const unmapWhenCollected = new FinalizationRegistry<{ pointer: Deno.PointerValue; size: number }>(
  ({ pointer, size }) => {
    libc().munmap(pointer, BigInt(size));
  },
);

/** How {@linkcode MappedFile.open} maps a file. */
export interface MappedFileOptions {
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
 * import assert from "node:assert/strict";
 * import { MappedFile } from "./mapped_file.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.removeSync(path);
 * const file = MappedFile.open(path, { writable: true, createSize: 4096 });
 * file.bytes[0] = 42;
 * file.release();
 * assert.equal(Deno.readFileSync(path)[0], 42);
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

  private constructor(path: string, size: number, pointer: Deno.PointerObject) {
    this.path = path;
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
   * @throws {QueueFormatError} when the path is a directory, FIFO or anything but a regular file.
   */
  static open(path: string, options: MappedFileOptions): MappedFile {
    const c = libc();
    const create = options.createSize !== undefined;
    checkRegularFile(path);
    const flags = (options.writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK |
      (create ? O_CREAT : 0);
    const fd = c.open(cPath(path), flags, 0o644);
    if (fd < 0) fail("open", path, errno());
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
        // The errno mmap(2) itself gives for an empty mapping.
        throw new QueueIoError(`Cannot map '${path}': the file is empty`, path, EINVAL);
      }
      const prot = options.writable ? PROT_READ | PROT_WRITE : PROT_READ;
      const pointer = c.mmap(null, BigInt(size), prot, MAP_SHARED, fd, 0n);
      if (
        pointer === null || BigInt.asUintN(64, Deno.UnsafePointer.value(pointer)) === MAP_FAILED
      ) {
        fail("map", path, errno());
      }
      return new MappedFile(path, size, pointer);
    } finally {
      // The mapping keeps the file open by itself.
      c.close(fd);
    }
  }

  /** Address of a byte in the mapping, for calls that take a pointer (futex). */
  address(offset: number): Deno.PointerObject {
    return Deno.UnsafePointer.create(Deno.UnsafePointer.value(this.pointer) + BigInt(offset))!;
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
