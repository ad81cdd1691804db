/**
 * The queue's single writer: appends records into the mapped active segment
 * and publishes each with one atomic store of its header word.
 *
 * @module
 */

import { QueueClosedError, QueueDamageError, QueueFormatError } from "./chronicle_errors.ts";
import { blockChecksum } from "./block_checksum.ts";
import {
  CHECKSUM,
  CHECKSUM_FRAME,
  CHECKSUM_FRAME_SIZE,
  isZero,
  MAX_PAYLOAD,
  META,
  META_FILE,
  META_MAGIC,
  NOT_COMPLETE,
  RECORD_HEADER_SIZE,
  RECORD_WORD,
  recordSize,
  RECYCLING_META_VERSION,
  SEGMENT,
  SEGMENT_HEADER_SIZE,
  SEGMENT_TAIL_RESERVE,
  segmentName,
  TYPE_ID_MASK,
} from "./format.ts";
import { libc, ORDERED_MEMORY } from "./libc.ts";
import { syncDirectory } from "../tape/sync_directory.ts";
import { checkFileMode, directoryModeFor, queueFileMode } from "./file_mode.ts";
import { checkSegmentChain, listSegments, queueExists, readSegmentHeader } from "./queue_files.ts";
import { currentBootId, QueueMeta } from "./queue_meta.ts";
import { applyRetention, type RetentionPolicy, type RetentionResult } from "./retention.ts";
import { SegmentRecycler } from "./segment_recycler.ts";
import { SeekIndex, walkToEnd } from "./seek_index.ts";
import { type QueueMessage, RecordView } from "./queue_reader.ts";
import { Segment, type WalkEnd } from "./segment.ts";
import { WriterLock } from "./writer_lock.ts";

/** How a writer keeps records: `ipc` survives a process crash, `durable` also a machine crash. */
export type QueueDurability = "ipc" | "durable";

/** Options of {@linkcode QueueWriter.open}. */
export interface QueueWriterOptions {
  /** Capacity of each segment file, fixed when the queue is created. Default 64 MiB. */
  segmentBytes?: number;
  /** Records between seek index entries, fixed when the queue is created. Default 64. */
  indexSpacing?: number;
  /** Also roll to a new segment once the active one is this old. */
  rollIntervalMs?: number;
  /** `ipc` (page cache only, the default) or `durable` (msync at roll and by count and time). */
  durability?: QueueDurability;
  /** `durable`: msync after this many records. Default 4096. */
  syncEveryRecords?: number;
  /** `durable`: msync at least this often while appending. Default 100 ms. */
  syncIntervalMs?: number;
  /** Delete old segments at each roll (and on {@linkcode QueueWriter.applyRetention}). */
  retention?: RetentionPolicy;
  /**
   * `ipc` with `retention`: reuse a segment retention lets go as the next
   * segment, zeroed by writing, instead of deleting it and creating a new
   * file. Its pages are still in memory, so the writer skips the page
   * faults and allocation a fresh file costs. A segment some reader still
   * maps is deleted as before. Default true; never for `durable`, on a
   * copy-on-write file system, or while segments take over 10 s to fill
   * (docs/chronicle-format.md, Recycling).
   */
  recycleSegments?: boolean;
  /**
   * Fault segment pages in ahead of the writer, 2 MiB at a time, so appends
   * seldom take a page fault. Default true.
   */
  prefault?: boolean;
  /**
   * Seq of the first record of a queue created now (an archive continuing
   * another queue's numbering). Default 1; ignored when the queue has a segment.
   */
  firstSeq?: number;
  /**
   * Permission bits of the files this writer creates (segments, indexes,
   * `queue.meta`, `writer.lock`): read and write bits only, the owner's
   * among them, e.g. `0o660` to share a queue with the group. Directories
   * it creates get the matching execute bits (`0o660` gives `0o770`).
   * Default: those of the queue's `queue.meta`, or `0o640` for a new
   * queue. Files and directories that exist keep theirs; the umask may
   * take bits away.
   */
  mode?: number;
}

/**
 * Segment capacity of a queue created without `segmentBytes`: 64 MiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SEGMENT_BYTES } from "./queue_writer.ts";
 * assert.equal(DEFAULT_SEGMENT_BYTES, 64 * 1024 * 1024);
 * ```
 */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/**
 * Smallest `segmentBytes` a queue accepts: 64 KiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIN_SEGMENT_BYTES } from "./queue_writer.ts";
 * assert.equal(MIN_SEGMENT_BYTES, 65536);
 * ```
 */
export const MIN_SEGMENT_BYTES = 64 * 1024;
/**
 * Largest `segmentBytes` a queue accepts: the largest multiple of a page
 * whose offsets fit in 32 bits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_SEGMENT_BYTES } from "./queue_writer.ts";
 * assert.equal(MAX_SEGMENT_BYTES, 4294963200);
 * ```
 */
export const MAX_SEGMENT_BYTES = 0xffff_f000;
/**
 * `segmentBytes` is a whole number of these (a page).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEGMENT_BYTES_MULTIPLE } from "./queue_writer.ts";
 * assert.equal(SEGMENT_BYTES_MULTIPLE, 4096);
 * ```
 */
export const SEGMENT_BYTES_MULTIPLE = 4096;
const DEFAULT_SPACING = 64;
// Pre-faulting keeps one to two such chunks ahead of the writer in memory,
// faulting in the next chunk (one huge page) once less than one is left, on
// the writer's own thread: one system call per 2 MiB pays every fault of the
// chunk at once, where stores take a fault per page. It costs a pause of
// 0.1-0.4 ms every 2 MiB, and needs no spare core, which a worker thread
// doing the same does (docs/benchmarks.md, Appends).
const POPULATE_CHUNK = 2 * 1024 * 1024;
// How often, in bytes appended, the writer looks at its clocks and at the
// pages ahead of it.
const WATCH_EVERY = 64 * 1024;
// Recycle only while segments fill within this (see applyRetention).
const RECYCLE_WITHIN_MS = 10_000;
const TWO_32 = 0x1_0000_0000;
const WAITERS_WORD = META.waiters >>> 2;
const PUBLISHED_WORD = META.publishedSeq >>> 2;
// A checksum frame closes a block once it holds this many bytes: a CRC-32
// of 16 KiB costs about 0.7 µs, a few ns per small record, and damage is
// then placed to within four pages.
const BLOCK_BYTES = 16 * 1024;
const TYPE_ID_WORD = RECORD_WORD.typeId;
const SEQ_LO_WORD = RECORD_WORD.seqLo;
const SEQ_HI_WORD = RECORD_WORD.seqHi;
const TIMESTAMP_LO_WORD = RECORD_WORD.timestampLo;
const TIMESTAMP_HI_WORD = RECORD_WORD.timestampHi;
const PAYLOAD_WORD = RECORD_WORD.payload;
// Payloads up to this many words are copied by appendCopy in a loop: for
// small records cheaper than making the view a bulk copy needs.
const COPY_BY_WORD = 32;

function checkRecord(typeId: number, length: number): never {
  if ((typeId & TYPE_ID_MASK) !== typeId) {
    throw new RangeError(`Type id must be a whole number from 0 to 65535, not '${typeId}'`);
  }
  if (length === 0) {
    throw new RangeError("Payload is empty: a record carries at least one byte");
  }
  throw new RangeError(`Payload of ${length} bytes is over the limit of ${MAX_PAYLOAD} bytes`);
}

function checkTimestamp(timestampNs: number): never {
  throw new RangeError(
    `Timestamp '${timestampNs}' is not a whole number of nanoseconds from 0 to 2^53 - 1: pass a bigint`,
  );
}

function wholeOption(name: string, value: number | undefined, min: number, max: number) {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min || value > max)) {
    throw new RangeError(
      `Option '${name}' must be a whole number from ${min} to ${max}, not '${value}'`,
    );
  }
}

/**
 * Appends records to a queue. One writer per queue at a time, across every
 * process on the host; a second gets {@linkcode QueueLockedError}.
 *
 * @example Append three records
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "./queue_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
 * for (const text of ["a", "b", "c"]) w.append(1, new TextEncoder().encode(text));
 * assert.equal(w.lastSeq, 3);
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class QueueWriter implements Disposable {
  /** The queue directory. */
  readonly path: string;
  readonly #lock: WriterLock;
  readonly #meta: QueueMeta;
  readonly #metaWords: Uint32Array;
  readonly #spacing: number;
  readonly #durable: boolean;
  readonly #syncEvery: number;
  readonly #syncIntervalMs: number;
  readonly #rollIntervalMs: number;
  readonly #retention: RetentionPolicy | undefined;
  readonly #hugePages: boolean;
  readonly #firstSeq: number;
  readonly #mode: number;
  // Its own ArrayBuffer, never moved by the collector, so its address holds.
  readonly #clock = new Uint32Array(new ArrayBuffer(16));
  readonly #clockAt = Deno.UnsafePointer.of(this.#clock);
  readonly #clockGet = libc().clock_gettime_at;

  #segment!: Segment;
  #index!: SeekIndex;
  #words!: Uint32Array;
  #bytes!: Uint8Array;
  #pos = 0;
  #limit = 0;
  #blockStart = 0;
  // Where the open block is closed; Infinity in a version 1 segment, which has no checksum frames.
  #blockEnd = Infinity;
  #seq = 1;
  #toIndex = 1;
  #maxHi = 0;
  #maxLo = 0;
  #watchAt = 0;
  // Pages of the active segment below this are in memory; Infinity when pre-faulting is off.
  #populatedTo = Infinity;
  readonly #prefault: boolean;
  #next: Segment | undefined;
  #nextError: unknown;
  readonly #recycler: SegmentRecycler | undefined;
  // How long the last segment took to fill, and when the writer entered
  // the active one (performance.now(), ms); NaN while unknown.
  #segmentMs = NaN;
  #enteredAt = NaN;
  #toSync = Infinity;
  #syncedTo = 0;
  #lastSyncMs = 0;
  #rollDeadlineMs = Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #deferred: { error: unknown } | undefined;

  private constructor(
    dir: string,
    lock: WriterLock,
    meta: QueueMeta,
    mode: number,
    options: QueueWriterOptions,
  ) {
    this.path = dir;
    this.#mode = mode;
    this.#lock = lock;
    this.#meta = meta;
    this.#metaWords = meta.file.words;
    this.#spacing = meta.indexSpacing;
    this.#durable = options.durability === "durable";
    this.#syncEvery = options.syncEveryRecords ?? 4096;
    this.#syncIntervalMs = options.syncIntervalMs ?? 100;
    this.#rollIntervalMs = options.rollIntervalMs ?? Infinity;
    this.#retention = options.retention;
    this.#prefault = options.prefault ?? true;
    // A durable writer syncs a few KiB at a time, and a 2 MiB page is
    // written back whole: 2 MiB a sync (docs/benchmarks.md, Appends).
    this.#hugePages = !this.#durable;
    this.#firstSeq = options.firstSeq ?? 1;
    // A durable writer's pages are written back at every sync anyway, so
    // zeroing a recycled file would only add writes to the disk.
    this.#recycler = this.#retention !== undefined && !this.#durable &&
        options.recycleSegments !== false && SegmentRecycler.supported(dir)
      ? new SegmentRecycler(dir, meta.segmentBytes)
      : undefined;
  }

  /**
   * Opens the queue in `dir` for writing, creating it when the directory is
   * missing or empty. Recovers the end of the last committed record, so the
   * sequence continues with no gap after any crash.
   *
   * The work is synchronous: the lock is taken, the files are mapped and
   * recovery is done before `open` returns, and the promise it returns is
   * already settled. Failures reject that promise rather than throw. It is
   * a promise so that every opener in spool (`QueueReader.open`,
   * `TapeStream.open`, `openStream`) is awaited alike.
   *
   * @throws {RangeError} for an option out of range, `mode` among them.
   * @throws {QueueLockedError} when another writer holds the queue.
   * @throws {QueueFormatError} when `dir` is not a queue or a file is damaged.
   * @throws {QueueIoError} when a file cannot be created (a full disk) or mapped.
   * @throws {FfiUnavailableError} without `--allow-ffi`.
   */
  static open(dir: string, options: QueueWriterOptions = {}): Promise<QueueWriter> {
    try {
      return Promise.resolve(QueueWriter.#open(dir, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  static #open(dir: string, options: QueueWriterOptions): QueueWriter {
    wholeOption("segmentBytes", options.segmentBytes, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES);
    if (
      options.segmentBytes !== undefined && options.segmentBytes % SEGMENT_BYTES_MULTIPLE !== 0
    ) {
      throw new RangeError(
        `Option 'segmentBytes' must be a multiple of 4096 (a page), not '${options.segmentBytes}'`,
      );
    }
    wholeOption("indexSpacing", options.indexSpacing, 1, 1 << 20);
    wholeOption("firstSeq", options.firstSeq, 1, Number.MAX_SAFE_INTEGER);
    wholeOption("syncEveryRecords", options.syncEveryRecords, 1, Number.MAX_SAFE_INTEGER);
    for (const name of ["rollIntervalMs", "syncIntervalMs"] as const) {
      const v = options[name];
      if (v !== undefined && !(v > 0)) {
        throw new RangeError(
          `Option '${name}' must be a positive number of milliseconds, not '${v}'`,
        );
      }
    }
    if (options.durability !== undefined && !["ipc", "durable"].includes(options.durability)) {
      throw new TypeError(
        `Option 'durability' must be 'ipc' or 'durable', not '${options.durability}'`,
      );
    }
    if (options.mode !== undefined) checkFileMode(options.mode);
    const exists = queueExists(dir);
    const mode = options.mode ?? queueFileMode(dir);
    if (!exists) Deno.mkdirSync(dir, { recursive: true, mode: directoryModeFor(mode) });
    libc();
    const lock = WriterLock.acquire(dir, mode);
    try {
      let meta: QueueMeta;
      if (exists && !unfinishedCreation(dir)) {
        meta = QueueMeta.open(dir);
      } else {
        meta = QueueMeta.create(
          dir,
          {
            segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
            indexSpacing: options.indexSpacing ?? DEFAULT_SPACING,
          },
          BigInt(Date.now()) * 1_000_000n,
          mode,
        );
      }
      const writer = new QueueWriter(dir, lock, meta, mode, options);
      try {
        writer.#recover();
      } catch (error) {
        writer.#abandon();
        meta.close();
        throw error;
      }
      if (writer.#durable) {
        meta.file.sync();
        syncDirectory(dir);
      }
      return writer;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Seq of the last record appended; one less than the first seq (0 by default) for an empty queue. */
  get lastSeq(): number {
    return this.#seq - 1;
  }

  /** Index of the segment being written. */
  get segmentIndex(): number {
    return this.#segment.index;
  }

  /**
   * Appends one record and publishes it. Synchronous: when it returns, every
   * reader on the host can see the record.
   *
   * @param typeId an application-defined type, 0 to 65535
   * @param payload the bytes to store; copied into the queue
   * @param timestampNs wall-clock nanoseconds since the epoch, now when omitted; a number
   *   must be a safe integer (below 2^53), since a larger one has lost digits: pass a bigint
   * @returns the record's seq
   * @throws {RangeError} for a type id out of range, an empty payload, one that cannot fit in a
   *   segment, or a number timestamp that is not a safe whole number.
   * @throws {QueueIoError} when a new segment cannot be created (a full disk) or a sync fails; the
   *   record was not appended, and every record before it is kept.
   */
  append(typeId: number, payload: Uint8Array, timestampNs?: bigint | number): number {
    const length = payload.length;
    const size = recordSize(length);
    if ((typeId & TYPE_ID_MASK) !== typeId || length === 0 || length > MAX_PAYLOAD) {
      checkRecord(typeId, length);
    }
    if (this.#pos + size > this.#limit) this.#roll(size);
    let lo: number;
    let hi: number;
    if (timestampNs === undefined) {
      const c = this.#clock;
      this.#clockGet(0, this.#clockAt);
      // ns = sec * 1e9 + nsec in exact double arithmetic, split into u32 words.
      const sec = c[0]!;
      const a = (sec >>> 16) * 1e9;
      const aHigh = Math.floor(a / 65536);
      const mid = (a - aHigh * 65536) * 65536 + (sec & 0xffff) * 1e9 + c[2]!;
      const carry = Math.floor(mid / TWO_32);
      hi = aHigh + carry;
      lo = mid - carry * TWO_32;
    } else if (typeof timestampNs === "number") {
      // Nanoseconds since the epoch are past 2^53: as a number they have
      // already lost their last digits, so only a bigint carries them.
      if (!Number.isSafeInteger(timestampNs) || timestampNs < 0) checkTimestamp(timestampNs);
      hi = Math.floor(timestampNs / TWO_32);
      lo = timestampNs - hi * TWO_32;
    } else {
      hi = Number(BigInt.asUintN(64, timestampNs) >> 32n);
      lo = Number(BigInt.asUintN(32, timestampNs));
    }
    const pos = this.#pos;
    this.#claim(pos, typeId, length, lo, hi);
    this.#bytes.set(payload, pos + RECORD_HEADER_SIZE);
    return this.#publish(pos, size, length, lo, hi);
  }

  /**
   * Appends a copy of a record read from a queue, with its type id,
   * timestamp and payload, under this queue's next seq: how an archive is
   * written. A message from a {@linkcode QueueReader} is copied word for
   * word from its mapping, making neither a payload view nor a bigint
   * timestamp, which `append(m.typeId, m.payload, m.timestampNs)` would.
   *
   * @returns the record's seq here
   * @throws {RangeError} when the record cannot fit in a segment of this queue.
   * @throws {QueueIoError} as {@linkcode QueueWriter.append} does.
   *
   * @example Copy one queue into another
   * ```ts
   * import assert from "node:assert/strict";
   * import { QueueReader, QueueWriter } from "./mod.ts";
   * const dir = Deno.makeTempDirSync();
   * const live = await QueueWriter.open(`${dir}/live`, { segmentBytes: 1 << 16 });
   * live.append(3, new TextEncoder().encode("tick"), 1_700_000_000_000_000_000n);
   * const archive = await QueueWriter.open(`${dir}/archive`, { segmentBytes: 1 << 16 });
   * const r = await QueueReader.open(`${dir}/live`);
   * for (let m = r.next(); m !== undefined; m = r.next()) archive.appendCopy(m);
   * const copy = (await QueueReader.open(`${dir}/archive`)).next()!;
   * assert.equal(copy.typeId, 3);
   * assert.equal(copy.timestampNs, 1700000000000000000n);
   * assert.equal(new TextDecoder().decode(copy.payload), "tick");
   * r.close();
   * archive.close();
   * live.close();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  appendCopy(m: QueueMessage): number {
    if (!(m instanceof RecordView)) return this.append(m.typeId, m.payload, m.timestampNs);
    const length = m.payloadLength;
    const size = recordSize(length);
    if (this.#pos + size > this.#limit) this.#roll(size);
    const src = m.words;
    const at = m.offset >>> 2;
    const lo = src[at + TIMESTAMP_LO_WORD]!;
    const hi = src[at + TIMESTAMP_HI_WORD]!;
    const pos = this.#pos;
    this.#claim(pos, m.typeId, length, lo, hi);
    // Whole words, the last one's tail from the source's zero padding; a
    // long payload is one bulk copy instead.
    const n = (length + 3) >>> 2;
    if (n <= COPY_BY_WORD) {
      const words = this.#words;
      const to = (pos + RECORD_HEADER_SIZE) >>> 2;
      const from = at + PAYLOAD_WORD;
      for (let i = 0; i < n; i++) words[to + i] = src[from + i]!;
    } else {
      this.#bytes.set(
        new Uint8Array(src.buffer, m.offset + RECORD_HEADER_SIZE, length),
        pos + RECORD_HEADER_SIZE,
      );
    }
    return this.#publish(pos, size, length, lo, hi);
  }

  // Writes a record's header at `pos` with the claim flag, so a writer
  // recovering from a crash before the publish knows how far the
  // unpublished bytes reach.
  #claim(pos: number, typeId: number, length: number, lo: number, hi: number): void {
    const w = pos >>> 2;
    const words = this.#words;
    const seq = this.#seq;
    words[w] = NOT_COMPLETE | length;
    words[w + TYPE_ID_WORD] = typeId & TYPE_ID_MASK;
    words[w + SEQ_LO_WORD] = seq;
    words[w + SEQ_HI_WORD] = seq < TWO_32 ? 0 : Math.floor(seq / TWO_32);
    words[w + TIMESTAMP_LO_WORD] = lo;
    words[w + TIMESTAMP_HI_WORD] = hi;
  }

  // Publishes the claimed record at `pos` (its payload in place) with one
  // atomic store, then does the bookkeeping that follows every append.
  #publish(pos: number, size: number, length: number, lo: number, hi: number): number {
    const seq = this.#seq;
    Atomics.store(this.#words, pos >>> 2, length);
    // After the header word, low word first: a reader that sees the new
    // value then finds the record, and one racing a carry sees less, never
    // more. Plain stores keep that order on x86-64; elsewhere only release
    // stores do.
    const metaWords = this.#metaWords;
    if (ORDERED_MEMORY) {
      metaWords[PUBLISHED_WORD] = seq;
      if (seq >= TWO_32) metaWords[PUBLISHED_WORD + 1] = Math.floor(seq / TWO_32);
    } else {
      Atomics.store(metaWords, PUBLISHED_WORD, seq % TWO_32);
      Atomics.store(metaWords, PUBLISHED_WORD + 1, Math.floor(seq / TWO_32));
    }
    if (hi > this.#maxHi || (hi === this.#maxHi && lo > this.#maxLo)) {
      this.#maxHi = hi;
      this.#maxLo = lo;
    }
    if (--this.#toIndex === 0) {
      this.#index.set(
        (seq - this.#segment.firstSeq) / this.#spacing,
        seq,
        pos,
        this.#maxLo,
        this.#maxHi,
      );
      this.#toIndex = this.#spacing;
    }
    this.#pos = pos + size;
    this.#seq = seq + 1;
    if (this.#pos >= this.#blockEnd) this.#closeBlock();
    // A plain load is enough here: the publishing store above is a full
    // barrier, and a reader registers (an atomic add) before its last look.
    if (metaWords[WAITERS_WORD] !== 0) this.#meta.wake();
    if (this.#pos > this.#watchAt) this.#housekeep(false);
    if (--this.#toSync === 0) this.#housekeep(true);
    return seq;
  }

  /**
   * Writes every appended record back to disk and waits (`msync`). Called for
   * you by the `durable` profile; call it yourself at a point that must
   * survive a machine crash.
   */
  sync(): void {
    if (this.#closed) return;
    // Everything synced is covered by a checksum, so recovery after a
    // machine crash can trust exactly what was synced; the header says how
    // far that is only once the data is on disk.
    this.#closeBlock();
    const file = this.#segment.file;
    file.sync(this.#syncedTo, this.#pos - this.#syncedTo);
    Atomics.store(file.words, SEGMENT.syncedTo >>> 2, this.#pos);
    file.sync(0, SEGMENT_HEADER_SIZE);
    this.#index.sync();
    this.#syncedTo = this.#pos;
    this.#lastSyncMs = Date.now();
    if (this.#durable) this.#toSync = this.#syncEvery;
  }

  /** Applies the retention policy now (it also runs at every roll). */
  applyRetention(): RetentionResult {
    this.#check();
    if (this.#retention === undefined) return { deleted: [] };
    const recycler = this.#recycler;
    return applyRetention(
      this.path,
      this.#meta,
      this.#retention,
      this.#segment.index,
      this.#nowNs(),
      // A spare's zeros stay dirty until records overwrite them, up to two
      // segments later: recycled only while that is within the kernel's
      // 30 s write-back age, or the zeros would reach the disk too.
      recycler && ((index) => this.#fillMs() <= RECYCLE_WITHIN_MS && recycler.retire(index)),
    );
  }

  /**
   * Syncs (under `durable`), unmaps and lets the next writer in. The active
   * segment stays open-ended, so a writer opened later continues it.
   */
  close(): void {
    if (this.#closed) return;
    this.#closeBlock();
    if (this.#durable) this.sync();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#segment.file.release();
    this.#index.close();
    if (this.#next !== undefined) this.#next.file.release();
    this.#recycler?.close();
    this.#meta.close();
    this.#lock.release();
    this.#limit = -1;
  }

  /** Same as {@linkcode QueueWriter.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #check(): void {
    if (this.#closed) throw new QueueClosedError(this.path);
  }

  // Lets go of what a recovery that failed had mapped, writing nothing.
  #abandon(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#segment !== undefined) this.#segment.file.release();
    this.#index?.close();
    this.#recycler?.close();
  }

  // Ends the open block with a checksum frame carrying its CRC-32 and the
  // seq that follows, so a reader can verify the block before delivering
  // any record of it. The frame is published like a record, header last.
  #closeBlock(): void {
    const start = this.#blockStart;
    const pos = this.#pos;
    if (pos === start || this.#blockEnd === Infinity || this.#limit < 0) return;
    const words = this.#words;
    const w = pos >>> 2;
    const seq = this.#seq;
    // Claimed first, as a record is: a writer killed here leaves a claim
    // recovery wipes, never stray bytes after the last record.
    words[w] = NOT_COMPLETE;
    words[w + (CHECKSUM.blockBytes >>> 2)] = pos - start;
    words[w + (CHECKSUM.nextSeq >>> 2)] = seq;
    words[w + (CHECKSUM.nextSeq >>> 2) + 1] = Math.floor(seq / TWO_32);
    words[w + (CHECKSUM.crc >>> 2)] = blockChecksum(this.#bytes, start, pos);
    Atomics.store(words, w, CHECKSUM_FRAME);
    this.#pos = pos + CHECKSUM_FRAME_SIZE;
    this.#blockStart = this.#pos;
    this.#blockEnd = this.#pos + BLOCK_BYTES;
  }

  // Work after a record is published must not fail its append (the caller
  // would append it again): a failure is kept and thrown by the next
  // append, before that one writes anything.
  #housekeep(sync: boolean): void {
    try {
      if (sync) this.sync();
      else this.#watch();
    } catch (error) {
      this.#deferred = { error };
      this.#limit = -1;
    }
  }

  #nowNs(): bigint {
    return BigInt(Date.now()) * 1_000_000n;
  }

  // Finds where the last writer stopped and checks that nothing published
  // is gone before appending after it. After a machine restart the tail
  // that was never synced may be torn: the active segment is cut back to
  // its last block whose checksum holds. Otherwise every loss is damage and
  // the writer refuses, so no seq is ever issued twice.
  #recover(): void {
    const meta = this.#meta;
    const bootId = currentBootId();
    const rebooted = meta.rebootedSince(bootId);
    const published = rebooted ? undefined : meta.publishedSeq;
    SegmentRecycler.clear(this.path);
    const segment = this.#activeSegment(published, rebooted);
    try {
      this.#recoverFrom(segment, published, rebooted, bootId);
    } catch (error) {
      if (segment !== undefined && this.#segment !== segment) segment.file.release();
      throw error;
    }
    // Before any recycling: a roll during recovery recycles nothing, since
    // how fast segments fill is not known yet.
    if (this.#recycler !== undefined) meta.allowRecycling();
  }

  // Everything is checked before anything is written: a recovery that
  // refuses leaves the files as it found them.
  #recoverFrom(
    segment: Segment | undefined,
    published: number | undefined,
    rebooted: boolean,
    bootId: Uint8Array | undefined,
  ): void {
    const dir = this.path;
    const meta = this.#meta;
    if (segment === undefined) {
      if (published !== undefined && published >= this.#firstSeq) {
        throw new QueueDamageError(
          `${dir}/${segmentName(meta.firstSegment)}`,
          0,
          published,
          `every segment is missing, but the writer published up to seq ${published}`,
        );
      }
      const created = Segment.create(
        dir,
        meta.firstSegment,
        meta.segmentBytes,
        this.#hugePages,
        this.#mode,
      );
      created.start(this.#firstSeq, this.#nowNs());
      meta.upgrade(this.#firstSeq - 1, bootId);
      this.#index = SeekIndex.forWriter(dir, created, this.#spacing, this.#mode);
      this.#enterState(created, SEGMENT_HEADER_SIZE, this.#firstSeq, 0);
      return;
    }
    const end = rebooted ? cutAfterRestart(segment) : checkedEnd(segment, published);
    const empty = end.nextSeq === segment.firstSeq;
    // An empty active segment, or any after a restart, may follow one a
    // killed writer (or a lost page) left without its marker or seal.
    const previous = empty || rebooted ? this.#previousToSeal(segment) : undefined;
    checkSegmentChain(
      dir,
      meta.firstSegment,
      segment.index,
      meta.segmentBytes,
      previous !== undefined,
    );
    if (!end.sealed) {
      if (rebooted) zeroFrom(segment, end.offset);
      else wipeClaim(segment, end.offset);
    }
    previous?.segment.seal(previous.end, segment.firstSeq);
    previous?.segment.file.release();
    this.#index = this.#rebuildIndex(segment);
    this.#enterState(segment, end.offset, end.nextSeq, end.records, end.blockStart);
    meta.upgrade(end.nextSeq - 1, bootId);
    if (end.sealed) this.#roll(0);
  }

  // The active segment's index, rebuilt from its records; sets the highest
  // timestamp seen, which the writer carries on from.
  #rebuildIndex(segment: Segment): SeekIndex {
    const index = SeekIndex.forWriter(this.path, segment, this.#spacing, this.#mode);
    index.truncate(0);
    const words = segment.file.words;
    const spacing = this.#spacing;
    const firstSeq = segment.firstSeq;
    let maxHi = 0;
    let maxLo = 0;
    segment.walk(SEGMENT_HEADER_SIZE, firstSeq, (offset, seq) => {
      const w = offset >>> 2;
      const lo = words[w + TIMESTAMP_LO_WORD]!;
      const hi = words[w + TIMESTAMP_HI_WORD]!;
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi;
        maxLo = lo;
      }
      if ((seq - firstSeq) % spacing === 0) {
        index.set((seq - firstSeq) / spacing, seq, offset, maxLo, maxHi);
      }
    });
    this.#maxHi = maxHi;
    this.#maxLo = maxLo;
    return index;
  }

  // The highest started segment. Prepared segments above it (all zero, or
  // empty files a writer was killed before preallocating) are deleted; a
  // segment with a zero magic word but records in it lost its header, and is damage.
  // After a restart, in a queue a writer may have recycled (queue.meta
  // version 3), it also deletes from the top segments whose header is zero
  // or names an older segment: a recycled file whose new header or zeroing
  // never reached the disk, a torn tail like any other. Elsewhere such a
  // file is damage: a durable writer syncs a header before any record.
  #activeSegment(published: number | undefined, rebooted: boolean): Segment | undefined {
    const dir = this.path;
    const segments = listSegments(dir, true).filter((i) => i >= this.#meta.firstSegment);
    while (segments.length > 0) {
      const last = segments.pop()!;
      const path = `${dir}/${segmentName(last)}`;
      const info = Deno.statSync(path);
      if (info.isFile && info.size === 0) {
        Deno.removeSync(path);
        continue;
      }
      if (
        rebooted && this.#meta.version >= RECYCLING_META_VERSION && info.isFile &&
        segments.length > 0
      ) {
        const header = readSegmentHeader(dir, last);
        if (header === undefined || header.index < last) {
          Deno.removeSync(path);
          continue;
        }
      }
      let candidate: Segment;
      try {
        candidate = Segment.open(dir, last, true, this.#hugePages);
      } catch (error) {
        if (error instanceof QueueDamageError || !(error instanceof QueueFormatError)) throw error;
        throw QueueDamageError.from(
          error,
          readSegmentHeader(dir, last - 1)?.endSeq || (published ?? 0) + 1,
        );
      }
      if (candidate.started) return candidate;
      // A writer killed while writing the header (the magic word goes last)
      // leaves header bytes but no record: still only prepared.
      const bytes = candidate.file.bytes;
      const prepared = isZero(bytes, SEGMENT_HEADER_SIZE, candidate.capacity - SEGMENT_HEADER_SIZE);
      candidate.file.release();
      if (!prepared) {
        throw new QueueDamageError(
          path,
          0,
          (published ?? 0) + 1,
          "segment header is zero, but the file holds data",
        );
      }
      Deno.removeSync(path);
    }
    return undefined;
  }

  // The segment before `segment` when a killed writer left it without its
  // end marker or seal (mapped, for the caller to seal and release), after
  // checking that it ends where `segment` begins.
  #previousToSeal(segment: Segment): SegmentToSeal | undefined {
    const prevIndex = segment.index - 1;
    if (prevIndex < this.#meta.firstSegment) return undefined;
    let prev: Segment;
    try {
      prev = Segment.open(this.path, prevIndex, true);
    } catch {
      return undefined; // checkSegmentChain names what is wrong with it
    }
    if (!prev.started || (prev.checked && prev.endOffset !== 0)) {
      prev.file.release();
      return undefined;
    }
    const seek = SeekIndex.forReader(this.path, prev, this.#spacing);
    let end: WalkEnd;
    try {
      end = walkToEnd(prev, seek);
    } catch (error) {
      prev.file.release();
      throw error;
    } finally {
      seek.close();
    }
    if (end.sealed && !prev.checked) {
      prev.file.release();
      return undefined;
    }
    if (end.nextSeq !== segment.firstSeq) {
      prev.file.release();
      throw prev.damage(
        end.offset,
        end.nextSeq,
        `the segment ends before seq ${end.nextSeq}, but the next one starts at seq ${segment.firstSeq}`,
      );
    }
    return { segment: prev, end: end.offset };
  }

  // Makes `segment` the one appended to, at `pos` with `seq` next. The
  // highest timestamp so far (#maxHi, #maxLo) is the caller's to set.
  #enterState(
    segment: Segment,
    pos: number,
    seq: number,
    recordsInSegment: number,
    blockStart = pos,
  ): void {
    const opening = this.#segment === undefined;
    this.#segment = segment;
    this.#words = segment.file.words;
    this.#bytes = segment.file.bytes;
    this.#pos = pos;
    this.#limit = segment.recordLimit;
    this.#blockStart = blockStart;
    this.#blockEnd = segment.checked ? blockStart + BLOCK_BYTES : Infinity;
    this.#seq = seq;
    const intoSpacing = recordsInSegment % this.#spacing;
    this.#toIndex = intoSpacing === 0 ? 1 : this.#spacing - intoSpacing + 1;
    this.#syncedTo = pos;
    this.#toSync = this.#durable ? this.#syncEvery : Infinity;
    if (this.#prefault) this.#populatedTo = pos - pos % POPULATE_CHUNK;
    this.#populateAhead();
    this.#watchAt = pos + WATCH_EVERY;
    const now = performance.now();
    this.#segmentMs = now - this.#enteredAt;
    // A segment entered at open filled partly unseen: its time is unknown.
    this.#enteredAt = opening ? NaN : now;
    if (this.#rollIntervalMs !== Infinity) {
      this.#rollDeadlineMs = Number(segment.createdNs / 1_000_000n) + this.#rollIntervalMs;
    }
    if (this.#durable || this.#rollIntervalMs !== Infinity) this.#startTimer();
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    const every = Math.min(this.#syncIntervalMs, this.#rollIntervalMs, 1000);
    this.#timer = setInterval(() => {
      if (this.#closed || this.#deferred !== undefined) return;
      try {
        if (this.#durable && this.#syncedTo !== this.#pos) this.sync();
        if (Date.now() >= this.#rollDeadlineMs && this.#pos > SEGMENT_HEADER_SIZE) this.#roll(0);
      } catch (error) {
        this.#deferred = { error };
        this.#limit = -1;
      }
    }, every);
    Deno.unrefTimer(this.#timer);
  }

  // Faults in the next chunk of the active segment once the writer is
  // within a chunk of the end of what is in memory. A kernel that refuses
  // (before 5.14) leaves the writer to take its own faults for the rest of
  // the segment.
  #populateAhead(): void {
    const from = this.#populatedTo;
    if (from - this.#pos >= POPULATE_CHUNK) return;
    const file = this.#segment.file;
    const length = Math.min(POPULATE_CHUNK, file.size - from);
    if (length <= 0) return;
    this.#populatedTo = file.populate(from, length) ? from + length : Infinity;
  }

  // Runs when the writer passes #watchAt, every WATCH_EVERY bytes: faults
  // the pages ahead in, prepares the next segment past half-way, and looks
  // at the durable and roll-by-time clocks, all off the per-record path.
  #watch(): void {
    const capacity = this.#segment.capacity;
    const pos = this.#pos;
    this.#populateAhead();
    this.#recycler?.zeroSome();
    if (this.#next === undefined && this.#nextError === undefined && pos > capacity / 2) {
      try {
        this.#next = this.#prepareNext();
      } catch (error) {
        this.#nextError = error;
      }
    }
    const now = Date.now();
    if (this.#durable && now - this.#lastSyncMs >= this.#syncIntervalMs) this.sync();
    this.#watchAt = pos + WATCH_EVERY;
    if (now >= this.#rollDeadlineMs && pos > SEGMENT_HEADER_SIZE) this.#roll(0);
  }

  #roll(size: number): void {
    this.#check();
    if (this.#deferred !== undefined) {
      const { error } = this.#deferred;
      this.#deferred = undefined;
      this.#limit = this.#segment.recordLimit;
      throw error;
    }
    const room = this.#meta.segmentBytes - SEGMENT_HEADER_SIZE - SEGMENT_TAIL_RESERVE;
    if (size > room) {
      throw new RangeError(
        `A record of ${size} bytes does not fit in a segment of queue '${this.path}' (at most ${room} bytes); create the queue with a larger 'segmentBytes'`,
      );
    }
    this.#closeBlock();
    // Throws on a full disk, leaving the writer where it was.
    const next = this.#next ?? this.#prepareNext();
    this.#next = undefined;
    this.#nextError = undefined;
    let index: SeekIndex;
    try {
      index = SeekIndex.forWriter(this.path, next, this.#spacing, this.#mode);
    } catch (error) {
      this.#next = next;
      throw error;
    }
    next.start(this.#seq, this.#nowNs());
    if (this.#durable) {
      next.file.sync(0, SEGMENT_HEADER_SIZE);
      syncDirectory(this.path);
    }
    const old = this.#segment;
    const oldIndex = this.#index;
    old.seal(this.#pos, this.#seq);
    if (this.#meta.hasWaiters()) this.#meta.wake();
    if (this.#durable) {
      old.file.sync(0, SEGMENT_HEADER_SIZE);
      old.file.sync(this.#syncedTo);
      oldIndex.sync();
    }
    this.#index = index;
    this.#maxHi = 0;
    this.#maxLo = 0;
    this.#enterState(next, SEGMENT_HEADER_SIZE, this.#seq, 0);
    old.file.release();
    oldIndex.close();
    if (this.#retention !== undefined) this.applyRetention();
  }

  // How long segments take to fill: the last one's time, or the active
  // one's so far when that is longer (retention applied by hand late);
  // NaN, which recycles nothing, while unknown.
  #fillMs(): number {
    return Math.max(this.#segmentMs, performance.now() - this.#enteredAt);
  }

  // The segment after the active one, prepared (all zero): the recycled
  // spare when there is one, else a new file.
  #prepareNext(): Segment {
    const index = this.#segment.index + 1;
    this.#recycler?.place(index);
    return Segment.create(this.path, index, this.#meta.segmentBytes, this.#hugePages, this.#mode);
  }
}

/** A segment a killed writer left without its end marker or seal, and where it ends. */
interface SegmentToSeal {
  segment: Segment;
  end: number;
}

// The end of the active segment's records, refusing anything a killed
// writer cannot have left: a closed block whose checksum fails, a record
// the published seq says exists but that is gone, a claim word no writer
// would store, or any non-zero byte past the end and its claim.
function checkedEnd(segment: Segment, published: number | undefined): WalkEnd {
  const end = segment.walk(SEGMENT_HEADER_SIZE, segment.firstSeq);
  const verified = segment.verifiedPrefix(end.offset);
  if (verified.offset < end.blockStart) {
    throw segment.damage(verified.offset, verified.seq, "a block fails its checksum");
  }
  if (published !== undefined && published >= end.nextSeq) {
    throw segment.damage(
      end.offset,
      end.nextSeq,
      `records end here, but the writer published up to seq ${published}`,
    );
  }
  if (end.sealed) return end;
  const claimed = segment.claimEnd(end.offset);
  if (claimed === undefined) {
    const word = segment.file.words[end.offset >>> 2]!.toString(16);
    throw segment.damage(end.offset, end.nextSeq, `header word 0x${word} is no writer's claim`);
  }
  const stray = firstNonZero(segment, claimed);
  if (stray >= 0) {
    throw segment.damage(
      end.offset,
      end.nextSeq,
      `non-zero bytes at offset ${stray} after the last record; nothing is appended over them`,
    );
  }
  return end;
}

// After a machine restart: the records of the active segment up to the end
// of its last block whose checksum holds, and nothing after (a version 1
// segment: up to its first damaged header). Never below what a durable
// writer synced: a synced block that fails is damage, not a torn tail.
function cutAfterRestart(segment: Segment): WalkEnd {
  const first = segment.firstSeq;
  let end: WalkEnd;
  try {
    end = segment.walk(SEGMENT_HEADER_SIZE, first);
  } catch (error) {
    if (!(error instanceof QueueDamageError) || error.offset === undefined) throw error;
    end = segment.walk(SEGMENT_HEADER_SIZE, first, undefined, error.offset);
  }
  if (!segment.checked) return end;
  const verified = segment.verifiedPrefix(end.offset);
  if (verified.offset < segment.syncedTo) {
    throw segment.damage(
      verified.offset,
      verified.seq,
      `a block synced to disk (up to offset ${segment.syncedTo}) fails its checksum`,
    );
  }
  if (verified.offset >= end.offset) return end;
  return segment.walk(SEGMENT_HEADER_SIZE, first, undefined, verified.offset);
}

// Zeroes a claim left at `offset` by a writer killed before publishing, back
// to front, the claim word last: a crash while wiping leaves a claim the
// next recovery wipes again.
function wipeClaim(segment: Segment, offset: number): void {
  const words = segment.file.words;
  const end = segment.claimEnd(offset) ?? offset;
  for (let i = (end >>> 2) - 1; i >= offset >>> 2; i--) words[i] = 0;
}

// Offset of the first non-zero byte (to a word) at or after `offset`, or -1.
function firstNonZero(segment: Segment, offset: number): number {
  const words = segment.file.words;
  for (let i = offset >>> 2; i < words.length; i++) if (words[i] !== 0) return i << 2;
  return -1;
}

// Zeroes what a torn tail left after `offset`, touching only words that are not zero.
function zeroFrom(segment: Segment, offset: number): void {
  const words = segment.file.words;
  for (let i = offset >>> 2; i < words.length; i++) if (words[i] !== 0) words[i] = 0;
}

// A creator killed before finishing queue.meta leaves it zero and no
// segments; the next writer (holding the lock) simply creates it again.
function unfinishedCreation(dir: string): boolean {
  if (listSegments(dir).length > 0) return false;
  try {
    const head = Deno.readFileSync(`${dir}/${META_FILE}`).subarray(0, META_MAGIC.length);
    return head.every((b) => b === 0);
  } catch {
    return false;
  }
}
