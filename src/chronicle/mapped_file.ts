/**
 * A file mapped into memory with `mmap(2)`, seen from JavaScript as an
 * ArrayBuffer over the mapping itself: what a writer stores there another
 * process reads with no copy and no system call.
 *
 * @module
 */

import { QueueFormatError, QueueIoError } from "./chronicle_errors.ts";
import { QUEUE_FILE_MODE } from "./file_mode.ts";
import {
  cPath,
  EAGAIN,
  EINVAL,
  errno,
  errnoText,
  libc,
  LOCK_NB,
  LOCK_SH,
  MADV_HUGEPAGE,
  MADV_POPULATE_WRITE,
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
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "./libc.ts";

const PAGE = 4096;
// A transparent huge page (x86-64 and aarch64 with 4 KiB pages): the kernel
// maps one only where the mapping's address and file offset agree modulo it.
const HUGE_PAGE = 2 * 1024 * 1024;
// mmap(2) reports failure as MAP_FAILED, (void *) -1, which Deno hands back
// as the unsigned address 2^64 - 1.
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

function mapped(pointer: Deno.PointerValue): pointer is Deno.PointerObject {
  return pointer !== null &&
    BigInt.asUintN(64, Deno.UnsafePointer.value(pointer)) !== MAP_FAILED;
}

function at(address: bigint): Deno.PointerObject {
  return Deno.UnsafePointer.create(address)!;
}

// Maps `fd` whole at an address that is a multiple of HUGE_PAGE, where a
// page fault can map 2 MiB at once (see MappedFile.adviseHugePages). The
// address range is held first by an inaccessible anonymous mapping one huge
// page longer than the file, the file is mapped over its aligned part, and
// the rest is given back. Returns null when any step is refused, for the
// caller to map the plain way.
function mapAligned(size: number, prot: number, fd: number): Deno.PointerObject | null {
  const c = libc();
  const span = size + HUGE_PAGE;
  const held = c.mmap(
    null,
    BigInt(span),
    PROT_NONE,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
    -1,
    0n,
  );
  if (!mapped(held)) return null;
  const start = BigInt(Deno.UnsafePointer.value(held));
  const aligned = (start + BigInt(HUGE_PAGE - 1)) & ~BigInt(HUGE_PAGE - 1);
  const pointer = c.mmap(at(aligned), BigInt(size), prot, MAP_SHARED | MAP_FIXED, fd, 0n);
  if (!mapped(pointer)) {
    c.munmap(held, BigInt(span));
    return null;
  }
  // Whole pages by arithmetic: bitwise operators cut a size past 2^31 to 32 bits.
  const end = aligned + BigInt(Math.ceil(size / PAGE) * PAGE);
  if (aligned > start) c.munmap(held, aligned - start);
  if (start + BigInt(span) > end) c.munmap(at(end), start + BigInt(span) - end);
  return pointer;
}

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
// A file still mapped then may still hold a lock, dropped with it.
const unmapWhenCollected = new FinalizationRegistry<
  { pointer: Deno.PointerValue; size: number; lockFd: number }
>(
  ({ pointer, size, lockFd }) => {
    libc().munmap(pointer, BigInt(size));
    if (lockFd >= 0) libc().close(lockFd);
  },
);

/** How {@linkcode MappedFile.open} maps a file. */
export interface MappedFileOptions {
  /** Map read-write (the writer and `queue.meta`); otherwise read-only. */
  writable: boolean;
  /** Create the file with this size, preallocating its blocks, when it does not exist. */
  createSize?: number;
  /**
   * Permission bits of a file created now (before the umask); an existing
   * file keeps its own. Default {@linkcode QUEUE_FILE_MODE}.
   */
  mode?: number;
  /**
   * Map at a 2 MiB boundary, so that {@linkcode MappedFile.adviseHugePages}
   * can take effect. Falls back to wherever the kernel places the mapping
   * when it refuses the aligned one.
   */
  alignHuge?: boolean;
  /**
   * Hold a shared `flock(2)` on the file until
   * {@linkcode MappedFile.release}, so a writer recycling segments (which
   * must get an exclusive one) leaves it alone. Never waits: while that
   * writer holds its lock the open fails with {@linkcode QueueIoError} and
   * errno `EAGAIN`.
   */
  sharedLock?: boolean;
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
  // The descriptor holding the lock, or -1 when the file is not locked.
  readonly #lockFd: number;

  private constructor(path: string, size: number, pointer: Deno.PointerObject, lockFd: number) {
    this.path = path;
    this.size = size;
    this.pointer = pointer;
    this.#lockFd = lockFd;
    const buffer = Deno.UnsafePointerView.getArrayBuffer(pointer, size);
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
    unmapWhenCollected.register(buffer, { pointer, size, lockFd }, this);
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
    const fd = c.open(cPath(path), flags, options.mode ?? QUEUE_FILE_MODE);
    if (fd < 0) fail("open", path, errno());
    let keep = false;
    try {
      if (options.sharedLock) {
        if (c.flock(fd, LOCK_SH | LOCK_NB) !== 0) {
          const code = errno();
          throw new QueueIoError(
            code === EAGAIN
              ? `Cannot lock '${path}': another process holds it`
              : `Cannot lock '${path}': ${errnoText(code)}`,
            path,
            code,
          );
        }
      }
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
      const pointer =
        (options.alignHuge && size >= HUGE_PAGE ? mapAligned(size, prot, fd) : null) ??
          c.mmap(null, BigInt(size), prot, MAP_SHARED, fd, 0n);
      if (!mapped(pointer)) fail("map", path, errno());
      const file = new MappedFile(path, size, pointer, options.sharedLock ? fd : -1);
      keep = options.sharedLock === true;
      return file;
    } finally {
      // The mapping keeps the file open by itself; the descriptor stays
      // only to hold the lock.
      if (!keep) c.close(fd);
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
    const start = offset - offset % PAGE;
    const end = Math.min(this.size, offset + length);
    if (end <= start || this.#released) return;
    if (libc().msync(this.address(start), BigInt(end - start), MS_SYNC) !== 0) {
      fail("sync", this.path, errno());
    }
  }

  /**
   * Asks for transparent huge pages over the whole mapping
   * (`madvise(MADV_HUGEPAGE)`), before any page is touched for the advice
   * to shape the page cache: a writer's fault then gives the page cache a
   * 2 MiB folio, and a fault on such a folio maps all of it at once, one
   * fault where there were up to 512. Taken only where the mapping is aligned
   * ({@linkcode MappedFileOptions.alignHuge}) and the file system and kernel
   * allow it (ext4 and xfs do; tmpfs only when mounted with `huge=`);
   * refused, the mapping keeps small pages, and reads and stores are the
   * same either way. A dirty 2 MiB folio is written back whole, so a writer
   * that syncs small ranges often must not ask.
   */
  adviseHugePages(): void {
    if (this.#released || this.size < HUGE_PAGE) return;
    libc().madvise(this.pointer, BigInt(this.size), MADV_HUGEPAGE);
  }

  /**
   * Faults the pages of a range in, writable, without touching their bytes
   * (`madvise(MADV_POPULATE_WRITE)`): one system call instead of a fault
   * per page on the first stores. What the pages hold does not change.
   * `offset` must be a multiple of 4096.
   *
   * @returns false when the kernel refuses (before Linux 5.14): the pages
   *   then fault in on first use, as they would without this call.
   */
  populate(offset: number, length: number): boolean {
    if (this.#released) return false;
    return libc().madvise(this.address(offset), BigInt(length), MADV_POPULATE_WRITE) === 0;
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
      this.#unlock();
      return;
    }
    // Should the kernel refuse (no memory for the new mapping), the file
    // stays mapped until the views are collected: its space is freed late,
    // but nothing reading it crashes.
    const anonymous = c.mmap(
      this.pointer,
      BigInt(this.size),
      PROT_READ,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
      -1,
      0n,
    );
    // Unless the kernel refused, the file is no longer mapped: its lock
    // goes now, and the collector is left only the anonymous range.
    if (mapped(anonymous) && this.#lockFd >= 0) {
      const { pointer, size } = this;
      unmapWhenCollected.unregister(this);
      unmapWhenCollected.register(this.bytes.buffer, { pointer, size, lockFd: -1 }, this);
      this.#unlock();
    }
  }

  // Closing the descriptor drops the lock: nothing of the file is mapped
  // any more, so a recycling writer may have it.
  #unlock(): void {
    if (this.#lockFd >= 0) libc().close(this.#lockFd);
  }
}
