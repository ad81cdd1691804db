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
  writeMagic,
  writeU64,
  writeU64Big,
} from "./format.ts";
import { MappedFile } from "./mapped_file.ts";
import { futexWait, futexWake } from "./libc.ts";

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
 * import { QueueMeta } from "./queue_meta.ts";
 * const dir = Deno.makeTempDirSync();
 * QueueMeta.create(dir, { segmentBytes: 1 << 20, indexSpacing: 64 }, 0n).close();
 * const meta = QueueMeta.open(dir);
 * console.log(meta.segmentBytes, meta.indexSpacing); // 1048576 64
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
  readonly #notifyAt = META.notify >>> 2;
  readonly #waitersAt = META.waiters >>> 2;
  readonly #firstSegmentAt = META.firstSegment >>> 2;

  private constructor(file: MappedFile) {
    // A futex wait may still be parked on these words, on another thread,
    // when the owner closes.
    file.markShared();
    this.file = file;
    this.segmentBytes = readU64(file.words, META.segmentBytes);
    this.indexSpacing = file.words[META.indexSpacing >>> 2]!;
    this.createdNs = readU64Big(file.words, META.createdNs);
  }

  /**
   * Writes a fresh `queue.meta` into `dir` (which must exist) and maps it.
   * The magic goes in last, so a crash mid-way leaves a file `open` reports
   * as unfinished rather than a half-valid queue.
   */
  static create(dir: string, geometry: QueueGeometry, createdNs: bigint): QueueMeta {
    const path = `${dir}/${META_FILE}`;
    const file = MappedFile.open(path, { writable: true, createSize: META_SIZE });
    file.words[META.version >>> 2] = FORMAT_VERSION;
    writeU64(file.words, META.segmentBytes, geometry.segmentBytes);
    file.words[META.indexSpacing >>> 2] = geometry.indexSpacing;
    writeU64Big(file.words, META.createdNs, createdNs);
    writeMagic(file.bytes, META.magic + 4, META_MAGIC.slice(4));
    Atomics.store(file.words, META.magic >>> 2, magicWord(META_MAGIC));
    return new QueueMeta(file);
  }

  /**
   * Maps the `queue.meta` of an existing queue, read-write so readers can
   * register as futex waiters.
   *
   * @throws {QueueFormatError} when the file is not a queue's metadata or is of a newer version.
   */
  static open(dir: string): QueueMeta {
    const path = `${dir}/${META_FILE}`;
    let file: MappedFile;
    try {
      file = MappedFile.open(path, { writable: true });
    } catch (error) {
      if ((error as { errno?: number }).errno === 22) {
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
        isZero(file.bytes, 0, 8)
          ? `Queue metadata '${path}' was never finished; remove the queue directory and create it again`
          : `File '${path}' is not spool queue metadata (bad magic)`,
        0,
      );
    }
    const version = file.words[META.version >>> 2]!;
    if (version > FORMAT_VERSION) {
      throw fault(
        `Queue '${dir}' has format version ${version}; this spool reads up to ${FORMAT_VERSION}`,
        META.version,
      );
    }
    const meta = new QueueMeta(file);
    if (meta.segmentBytes < 4096 || meta.indexSpacing < 1) {
      throw fault(`Queue metadata '${path}' has an impossible geometry`, META.segmentBytes);
    }
    return meta;
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
    futexWake(this.file.address(META.notify));
  }

  /**
   * Blocks off the event loop until the writer wakes readers or the timeout
   * passes. `ready` is asked again after registering, so a record published
   * between the caller's last look and the registration is never slept
   * through.
   */
  async block(ready: () => boolean, timeoutMs: number): Promise<void> {
    const words = this.file.words;
    Atomics.add(words, this.#waitersAt, 1);
    try {
      const seen = Atomics.load(words, this.#notifyAt);
      if (ready()) return;
      await futexWait(this.file.address(META.notify), seen, timeoutMs);
    } finally {
      Atomics.sub(words, this.#waitersAt, 1);
    }
  }

  /** Unmaps the file. */
  close(): void {
    this.file.release();
  }
}
