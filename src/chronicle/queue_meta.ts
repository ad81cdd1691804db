/**
 * `queue.meta`: the page every process of a queue maps. It fixes the queue's
 * geometry and carries the words processes signal each other through — the
 * futex word the writer bumps, the count of blocked readers, and the first
 * segment retention kept.
 *
 * @module
 */

import { QueueFormatError } from "./chronicle_errors.ts";
import {
  FORMAT_VERSION,
  hasMagic,
  isZero,
  magicWord,
  META,
  META_FILE,
  META_MAGIC,
  META_SIZE,
  readU64,
  readU64Big,
  RECYCLING_META_VERSION,
  writeMagic,
  writeU64,
  writeU64Big,
} from "./format.ts";
import { QUEUE_FILE_MODE } from "./file_mode.ts";
import { MappedFile } from "./mapped_file.ts";
import {
  cPath,
  EACCES,
  EINVAL,
  EPERM,
  EROFS,
  futexWait,
  futexWaitSync,
  futexWake,
  libc,
  O_CLOEXEC,
  O_RDONLY,
} from "./libc.ts";

// Errors that mean "you may read this file but not write it".
const READ_ONLY_ERRNOS = new Set([EPERM, EACCES, EROFS]);
const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";
const BOOT_ID_BYTES = 16;

/**
 * The running kernel's boot id as 16 bytes, or undefined when it cannot be
 * read (not Linux, no permission). A writer compares it with the one in
 * `queue.meta` to know whether the machine restarted since the queue was
 * last written, which changes what a lost tail means.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentBootId } from "./queue_meta.ts";
 * const id = currentBootId();
 * assert.ok(id === undefined || id.length === 16);
 * ```
 */
export function currentBootId(): Uint8Array | undefined {
  try {
    // Read through libc: Deno grants /proc/sys only to --allow-all, and
    // the chronicle already has FFI.
    const c = libc();
    const fd = c.open(cPath(BOOT_ID_PATH), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return undefined;
    const buffer = new Uint8Array(64);
    const n = Number(c.read(fd, buffer, BigInt(buffer.length)));
    c.close(fd);
    if (n <= 0) return undefined;
    const hex = new TextDecoder().decode(buffer.subarray(0, n)).trim().replaceAll("-", "");
    if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
    const bytes = new Uint8Array(BOOT_ID_BYTES);
    for (let i = 0; i < BOOT_ID_BYTES; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Geometry fixed when a queue is created. */
export interface QueueGeometry {
  /** Capacity of every segment file in bytes. */
  segmentBytes: number;
  /** Records between two seek index entries. */
  indexSpacing: number;
}

/**
 * The mapped `queue.meta` of one queue.
 *
 * @example Create a queue's metadata and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueMeta } from "./queue_meta.ts";
 * const dir = Deno.makeTempDirSync();
 * QueueMeta.create(dir, { segmentBytes: 1 << 20, indexSpacing: 64 }, 0n).close();
 * const meta = QueueMeta.open(dir);
 * assert.equal(meta.segmentBytes, 1048576);
 * assert.equal(meta.indexSpacing, 64);
 * meta.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class QueueMeta {
  /** The mapped file. */
  readonly file: MappedFile;
  /** Capacity of every segment file in bytes. */
  readonly segmentBytes: number;
  /** Records between two seek index entries. */
  readonly indexSpacing: number;
  /** When the queue was created, wall-clock ns. */
  readonly createdNs: bigint;
  /**
   * Whether this process mapped the file read-write (a reader without write
   * permission does not). Only then can it register as a waiter: see
   * {@linkcode QueueMeta.block}.
   */
  readonly writable: boolean;
  readonly #notifyAt = META.notify >>> 2;
  readonly #notifyWord: Deno.PointerObject;
  readonly #waitersAt = META.waiters >>> 2;
  readonly #firstSegmentAt = META.firstSegment >>> 2;

  private constructor(file: MappedFile, writable: boolean) {
    // A futex wait may still be parked on these words, on another thread,
    // when the owner closes.
    file.markShared();
    this.file = file;
    this.writable = writable;
    this.segmentBytes = readU64(file.words, META.segmentBytes);
    this.indexSpacing = file.words[META.indexSpacing >>> 2]!;
    this.createdNs = readU64Big(file.words, META.createdNs);
    this.#notifyWord = file.address(META.notify);
  }

  /**
   * Writes a fresh `queue.meta` into `dir` (which must exist) and maps it.
   * The magic goes in last, so a crash mid-way leaves a file `open` reports
   * as unfinished rather than a half-valid queue. A file created now gets
   * the permission bits `mode` (before the umask).
   */
  static create(
    dir: string,
    geometry: QueueGeometry,
    createdNs: bigint,
    mode = QUEUE_FILE_MODE,
  ): QueueMeta {
    const path = `${dir}/${META_FILE}`;
    const file = MappedFile.open(path, { writable: true, createSize: META_SIZE, mode });
    file.words[META.version >>> 2] = FORMAT_VERSION;
    writeU64(file.words, META.segmentBytes, geometry.segmentBytes);
    file.words[META.indexSpacing >>> 2] = geometry.indexSpacing;
    writeU64Big(file.words, META.createdNs, createdNs);
    writeMagic(file.bytes, META.magic + 4, META_MAGIC.slice(4));
    Atomics.store(file.words, META.magic >>> 2, magicWord(META_MAGIC));
    return new QueueMeta(file, true);
  }

  /**
   * Maps the `queue.meta` of an existing queue, read-write so readers can
   * register as futex waiters. With `readOnlyFallback` (readers), a file
   * this process may read but not write is mapped read-only instead, and
   * {@linkcode QueueMeta.block} polls.
   *
   * @throws {QueueFormatError} when the file is not a queue's metadata or is of a newer version.
   */
  static open(dir: string, readOnlyFallback = false): QueueMeta {
    const path = `${dir}/${META_FILE}`;
    let file: MappedFile;
    let writable = true;
    try {
      try {
        file = MappedFile.open(path, { writable: true });
      } catch (error) {
        if (!readOnlyFallback || !READ_ONLY_ERRNOS.has((error as { errno?: number }).errno ?? 0)) {
          throw error;
        }
        file = MappedFile.open(path, { writable: false });
        writable = false;
      }
    } catch (error) {
      // mmap of an empty file fails with EINVAL.
      if ((error as { errno?: number }).errno === EINVAL) {
        throw new QueueFormatError(`Queue metadata '${path}' is empty`, path, 0);
      }
      throw error;
    }
    const fault = (message: string, offset: number) => {
      file.release();
      return new QueueFormatError(message, path, offset);
    };
    if (file.size < META_SIZE) {
      throw fault(`Queue metadata '${path}' is truncated (${file.size} bytes)`, file.size);
    }
    if (!hasMagic(file.bytes, META.magic, META_MAGIC)) {
      throw fault(
        isZero(file.bytes, META.magic, META_MAGIC.length)
          ? `Queue metadata '${path}' was never finished; remove the queue directory and create it again`
          : `File '${path}' is not spool queue metadata (bad magic)`,
        0,
      );
    }
    const version = file.words[META.version >>> 2]!;
    if (version > RECYCLING_META_VERSION) {
      throw fault(
        `Queue '${dir}' has format version ${version}; this spool reads up to ${RECYCLING_META_VERSION}`,
        META.version,
      );
    }
    const meta = new QueueMeta(file, writable);
    if (meta.segmentBytes < 4096 || meta.indexSpacing < 1) {
      throw fault(`Queue metadata '${path}' has an impossible geometry`, META.segmentBytes);
    }
    return meta;
  }

  /**
   * Format version of the file: 1 for a queue no version 2 writer has
   * opened yet, 3 once a writer may recycle its segments.
   */
  get version(): number {
    return this.file.words[META.version >>> 2]!;
  }

  /**
   * Seq of the last record a version 2 writer published; undefined for a
   * version 1 queue, which does not keep it. Read high word first: a writer
   * stores the low word first, so a read racing a carry sees a smaller
   * value, never a larger one.
   */
  get publishedSeq(): number | undefined {
    if (this.version < 2) return undefined;
    const words = this.file.words;
    const hi = Atomics.load(words, (META.publishedSeq >>> 2) + 1);
    return Atomics.load(words, META.publishedSeq >>> 2) + hi * 0x1_0000_0000;
  }

  /**
   * Whether the machine restarted since the last writer opened the queue:
   * true only when both that writer's boot id and `bootId` are known and
   * differ. Unknown counts as the same boot, so recovery stays strict.
   */
  rebootedSince(bootId: Uint8Array | undefined): boolean {
    if (bootId === undefined || this.version < 2) return false;
    const stored = this.file.bytes.subarray(META.bootId, META.bootId + BOOT_ID_BYTES);
    return !isZero(stored, 0, BOOT_ID_BYTES) && stored.some((b, i) => b !== bootId[i]);
  }

  /**
   * Makes the file version 2 for a writer that has recovered the queue:
   * its published seq, then its boot id, then the version. In that order a
   * writer killed half-way leaves the old boot id beside the new seq, so
   * the next one recovers as this one did, never trusting a stale seq.
   */
  upgrade(publishedSeq: number, bootId: Uint8Array | undefined): void {
    const words = this.file.words;
    const hi = Math.floor(publishedSeq / 0x1_0000_0000);
    Atomics.store(words, META.publishedSeq >>> 2, publishedSeq - hi * 0x1_0000_0000);
    Atomics.store(words, (META.publishedSeq >>> 2) + 1, hi);
    this.file.bytes.fill(0, META.bootId, META.bootId + BOOT_ID_BYTES);
    if (bootId !== undefined) this.file.bytes.set(bootId, META.bootId);
    if (this.version < FORMAT_VERSION) Atomics.store(words, META.version >>> 2, FORMAT_VERSION);
  }

  /**
   * Marks the queue as one whose writer may recycle segments (version 3),
   * before it first does: from then on readers that take no segment locks
   * refuse it. It stays marked.
   */
  allowRecycling(): void {
    if (this.version >= RECYCLING_META_VERSION) return;
    Atomics.store(this.file.words, META.version >>> 2, RECYCLING_META_VERSION);
    // On disk before any recycled file can be: after a restart, version 3
    // is what tells the writer that a stale segment may be a recycled one.
    this.file.sync(0, META.version + 4);
  }

  /** The lowest segment index retention has kept. */
  get firstSegment(): number {
    return Atomics.load(this.file.words, this.#firstSegmentAt);
  }

  /** Publishes the lowest kept segment before retention deletes older files. */
  set firstSegment(index: number) {
    Atomics.store(this.file.words, this.#firstSegmentAt, index);
  }

  /** Whether any reader is blocked (or about to block) on the futex word. */
  hasWaiters(): boolean {
    return Atomics.load(this.file.words, this.#waitersAt) !== 0;
  }

  /** Wakes every blocked reader. The writer calls this only when {@linkcode hasWaiters}. */
  wake(): void {
    Atomics.add(this.file.words, this.#notifyAt, 1);
    futexWake(this.#notifyWord);
  }

  /**
   * Blocks off the event loop until the writer wakes readers or the timeout
   * passes, as "Waking readers" in `docs/chronicle-format.md` says: `ready`
   * is asked again after registering, so a record published between the
   * caller's last look and the registration is never slept through. It may
   * also return early (a spurious wake-up); the caller looks again.
   *
   * @throws {TypeError} on a read-only mapping ({@linkcode QueueMeta.writable}), which cannot count itself as a waiter.
   */
  async block(ready: () => boolean, timeoutMs: number): Promise<void> {
    const seen = this.#register();
    try {
      if (!ready()) await futexWait(this.#notifyWord, seen, timeoutMs);
    } finally {
      this.#unregister();
    }
  }

  /**
   * {@linkcode QueueMeta.block} on the calling thread: the thread, event
   * loop included, sleeps in the kernel, and wakes within microseconds.
   *
   * @throws {TypeError} on a read-only mapping ({@linkcode QueueMeta.writable}).
   */
  blockSync(ready: () => boolean, timeoutMs: number): void {
    const seen = this.#register();
    try {
      if (!ready()) futexWaitSync(this.#notifyWord, seen, timeoutMs);
    } finally {
      this.#unregister();
    }
  }

  // Counts the caller as a waiter, then reads the notify word it may sleep
  // on; the caller looks for a record after this, never before.
  #register(): number {
    if (!this.writable) {
      throw new TypeError(
        `Queue metadata '${this.file.path}' is mapped read-only: it cannot register a waiter`,
      );
    }
    Atomics.add(this.file.words, this.#waitersAt, 1);
    return Atomics.load(this.file.words, this.#notifyAt);
  }

  #unregister(): void {
    Atomics.sub(this.file.words, this.#waitersAt, 1);
  }

  /** Unmaps the file. */
  close(): void {
    this.file.release();
  }
}
