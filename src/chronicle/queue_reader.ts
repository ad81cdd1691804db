/**
 * A queue reader: follows the records of a queue from any process, handing
 * out zero-copy views of the mapped segment.
 *
 * @module
 */

import {
  QueueClosedError,
  QueueDamageError,
  QueueFormatError,
  QueueIoError,
} from "./chronicle_errors.ts";
import {
  CHECKSUM_FRAME_SIZE,
  HEADER_KIND,
  headerKind,
  isRecordHeader,
  LENGTH_MASK,
  META,
  readU64Big,
  RECORD,
  RECORD_HEADER_SIZE,
  RECORD_WORD,
  recordSize,
  SEGMENT_HEADER_SIZE,
  segmentName,
  TYPE_ID_MASK,
} from "./format.ts";
import { ENOENT, libc, ORDERED_MEMORY } from "./libc.ts";
import { listSegments, queueExists, readSegmentHeader } from "./queue_files.ts";
import { QueueMeta } from "./queue_meta.ts";
import { ReaderOffset } from "./reader_offset.ts";
import { entryPointsAtRecord, walkToEnd } from "./seek_index.ts";
import { type CachedSegment, SegmentCache } from "./segment_cache.ts";
import { checkWaitStrategy, type WaitStrategy, waitUntil, waitUntilSync } from "./wait_strategy.ts";

/** Where a reader starts. */
export type StartPosition =
  | "earliest"
  | "latest"
  | "committed"
  | { seq: number }
  | { timestampNs: bigint | number };

/** Options of {@linkcode QueueReader.open}. */
export interface QueueReaderOptions {
  /** A named reader persists its committed position in `readers/<name>.offset`. */
  name?: string;
  /** Default: `committed` for a named reader, `earliest` otherwise. */
  start?: StartPosition;
  /** Whether a named reader holds back retention until it commits past a segment. Default true. */
  holding?: boolean;
  /**
   * How {@linkcode QueueReader.wait} waits. Default `backoff`.
   * {@linkcode QueueReader.waitSync} blocks in the futex whatever this says.
   */
  waitStrategy?: WaitStrategy;
}

/**
 * One record as a reader sees it. The reader reuses one object: it and its
 * payload are valid until the following `next()` call.
 */
export interface QueueMessage {
  /** The record's seq; the first record of a queue is 1. */
  readonly seq: number;
  /** Application-defined type, 0 to 65535. */
  readonly typeId: number;
  /** Wall-clock nanoseconds since the epoch the writer stamped. */
  readonly timestampNs: bigint;
  /** Payload length in bytes. */
  readonly payloadLength: number;
  /** The payload: a view of the mapped segment, not a copy. */
  readonly payload: Uint8Array;
  /**
   * The whole mapped segment as one `DataView`, made once per segment, so
   * a decoder reads fields at `payloadOffset` without a view per record.
   * Valid as long as `payload` would be.
   */
  readonly data: DataView;
  /** Where the payload starts in `data`. */
  readonly payloadOffset: number;
}

/**
 * The flyweight `next()` returns: plain fields set per record, the payload
 * view and the bigint timestamp made only when asked for. Exported for
 * {@linkcode QueueWriter.appendCopy}, which copies from its mapping; not
 * part of the chronicle's public API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecordView } from "./queue_reader.ts";
 * assert.equal(new RecordView().payloadLength, 0);
 * ```
 */
export class RecordView implements QueueMessage {
  seq = 0;
  typeId = 0;
  payloadLength = 0;
  offset = 0;
  words: Uint32Array = new Uint32Array(0);
  // `words.buffer`, kept apart: read through `words` for every payload
  // view, it adds a third to the view's cost.
  buffer: ArrayBufferLike = this.words.buffer;
  // Set once a payload view escapes: the segment must then never be
  // unmapped under it.
  shared = false;

  get timestampNs(): bigint {
    return readU64Big(this.words, this.offset + RECORD.timestampNs);
  }

  #data: DataView = new DataView(new ArrayBuffer(0));
  #dataOf: Uint32Array | undefined;

  get payload(): Uint8Array {
    this.shared = true;
    return new Uint8Array(this.buffer, this.offset + RECORD_HEADER_SIZE, this.payloadLength);
  }

  get data(): DataView {
    this.shared = true;
    const words = this.words;
    if (this.#dataOf !== words) {
      this.#data = new DataView(words.buffer, words.byteOffset, words.byteLength);
      this.#dataOf = words;
    }
    return this.#data;
  }

  get payloadOffset(): number {
    return this.offset + RECORD_HEADER_SIZE;
  }
}

const EMPTY = new Uint32Array(2);
const FIRST_SEGMENT_WORD = META.firstSegment >>> 2;
const TWO_32 = 0x1_0000_0000;
const TYPE_ID = RECORD_WORD.typeId;
const SEQ_LO = RECORD_WORD.seqLo;
const SEQ_HI = RECORD_WORD.seqHi;
// A reader looks whether retention deleted its segment at least this often
// (and whenever it has caught up), so it never keeps a deleted file alive
// for long without paying a shared-memory load per record.
const RETENTION_CHECK_EVERY = 256;
// A reader waiting at the end looks again whether it is the real end (not
// a zeroed header the writer has published past) this often.
const END_CHECK_EVERY = 1024;
// Segments a reader keeps mapped: seeking about a queue of this many
// segments maps each once.
const MAPPED_SEGMENTS = 8;
// Times a reader lists the segments again after retention let go of one it
// had listed before it could map it. Each listing follows retention, which
// only moves forward, so one more nearly always lands; a reader that loses
// the race this often gives up rather than spin.
const RETENTION_RETRIES = 8;

interface SegmentStart {
  index: number;
  firstSeq: number;
}

/**
 * Reads a queue. Any number of readers, in any process, each at its own
 * position.
 *
 * @example Read what a writer appended
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueReader, QueueWriter } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
 * w.append(7, new TextEncoder().encode("hello"));
 * const r = await QueueReader.open(dir);
 * const m = r.next()!;
 * assert.equal(m.seq, 1);
 * assert.equal(m.typeId, 7);
 * assert.equal(new TextDecoder().decode(m.payload), "hello");
 * r.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class QueueReader implements Disposable {
  /** The queue directory. */
  readonly path: string;
  /** The reader's name, when it is a named reader. */
  readonly name: string | undefined;
  readonly #meta: QueueMeta;
  readonly #metaWords: Uint32Array;
  readonly #offset: ReaderOffset | undefined;
  readonly #view = new RecordView();
  #strategy: WaitStrategy;
  readonly #cache: SegmentCache;
  #current: CachedSegment | undefined;
  #segmentIndex: number;
  // Started segments at the last directory listing; refreshed when a seek
  // runs past the last of them.
  #starts: SegmentStart[] | undefined;
  #words: Uint32Array = EMPTY;
  #capacity = 0;
  #pos = 0;
  // Records before this offset were checked ahead (their headers and, in a
  // checked segment, their block's checksum) and may be delivered.
  #checkedTo = 0;
  // Whether the last check ahead ended at the live end of an open block:
  // records the writer publishes there are taken one by one, and verified
  // when the frame closing their block comes.
  #openTail = false;
  // Where the last look found nothing, and looks since that was checked to
  // be the real end: a reader spinning at the live end checks on its first
  // look and then now and again, not on every look.
  #emptyAt = -1;
  #emptyLooks = 0;
  #nextSeq = 1;
  #lost = 0;
  #toRetentionCheck = RETENTION_CHECK_EVERY;
  #firstSeen = -1;
  #closed = false;
  // hasNext as a function made once, for the waits.
  readonly #ready = (): boolean => this.hasNext();

  private constructor(
    dir: string,
    meta: QueueMeta,
    offset: ReaderOffset | undefined,
    strategy: WaitStrategy,
  ) {
    this.path = dir;
    this.name = offset?.name;
    this.#meta = meta;
    this.#metaWords = meta.file.words;
    this.#offset = offset;
    this.#strategy = strategy;
    this.#segmentIndex = meta.firstSegment;
    this.#cache = new SegmentCache(
      dir,
      meta.indexSpacing,
      MAPPED_SEGMENTS,
      () => Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD),
    );
  }

  /**
   * Opens a reader on the queue in `dir`.
   *
   * The work is synchronous: the files are mapped and the start position
   * found before `open` returns, and the promise it returns is already
   * settled. Failures reject that promise rather than throw. It is a
   * promise so that every opener in spool (`QueueWriter.open`,
   * `TapeStream.open`, `openStream`) is awaited alike.
   *
   * @throws {QueueFormatError} when `dir` is not a queue, a file is damaged, or a named reader's offset lies past the end.
   * @throws {TypeError} for a bad name, start or wait strategy.
   * @throws {RangeError} when a start seq is not in the queue.
   * @throws {FfiUnavailableError} without `--allow-ffi`.
   */
  static open(dir: string, options: QueueReaderOptions = {}): Promise<QueueReader> {
    try {
      return Promise.resolve(QueueReader.#open(dir, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  static #open(dir: string, options: QueueReaderOptions): QueueReader {
    const strategy = options.waitStrategy ?? "backoff";
    checkWaitStrategy(strategy);
    const start = options.start ?? (options.name === undefined ? "earliest" : "committed");
    checkStart(start);
    if (start === "committed" && options.name === undefined) {
      throw new TypeError("Start 'committed' needs a named reader: pass 'name'");
    }
    if (!queueExists(dir)) {
      throw new QueueFormatError(
        `'${dir}' is not a spool queue: no such directory or no 'queue.meta'`,
        dir,
      );
    }
    libc();
    const meta = QueueMeta.open(dir, true);
    let offset: ReaderOffset | undefined;
    try {
      if (options.name !== undefined) {
        offset = ReaderOffset.open(dir, options.name, options.holding ?? true);
      }
      const reader = new QueueReader(dir, meta, offset, strategy);
      reader.#start(start);
      return reader;
    } catch (error) {
      offset?.close();
      meta.close();
      throw error;
    }
  }

  /**
   * The next record, or undefined when the reader has caught up with the
   * writer. The returned object (and its payload) is reused: it is valid
   * until the following call.
   *
   * @throws {QueueDamageError} where the queue is damaged; every record before the damage was delivered.
   */
  next(): QueueMessage | undefined {
    // The fast path: a record already checked ahead. It stays this small so
    // that it inlines into the caller's loop; everything else is #nextSlow.
    if (--this.#toRetentionCheck === 0) this.#checkRetention();
    const words = this.#words;
    const pos = this.#pos;
    // On x86-64 a plain load first: a published header can only be seen
    // after the writer's stores before it, since the CPU keeps loads and
    // stores in order. Anything else, "nothing yet" included, is settled by
    // the slow path with atomic loads. Elsewhere every header load is atomic.
    const header = ORDERED_MEMORY ? words[pos >>> 2]! : Atomics.load(words, pos >>> 2);
    if (!isRecordHeader(header) || pos >= this.#checkedTo) return this.#nextSlow();
    return this.#deliver(words, pos, header);
  }

  // The record at `pos`, already checked ahead, becomes the view.
  #deliver(words: Uint32Array, pos: number, header: number): QueueMessage {
    const size = recordSize(header);
    if (pos + size > this.#capacity) {
      throw this.#damage(pos, `record of ${header} bytes runs past the segment's end`);
    }
    const w = pos >>> 2;
    const seq = words[w + SEQ_LO]! + words[w + SEQ_HI]! * TWO_32;
    if (seq !== this.#nextSeq) throw this.#damage(pos, `record has seq ${seq}`);
    const view = this.#view;
    view.seq = seq;
    view.typeId = words[w + TYPE_ID]! & TYPE_ID_MASK;
    view.payloadLength = header;
    view.offset = pos;
    this.#pos = pos + size;
    this.#nextSeq = seq + 1;
    return view;
  }

  // Everything but a checked record: the end of what is published (real or
  // damage), checking the next block, frames, markers and padding.
  #nextSlow(): QueueMessage | undefined {
    for (;;) {
      const words = this.#words;
      const pos = this.#pos;
      const header = Atomics.load(words, pos >>> 2);
      const kind = headerKind(header);
      if (kind === HEADER_KIND.Nothing) {
        if (this.#atEnd(pos)) return undefined;
        continue;
      }
      if (pos >= this.#checkedTo) {
        this.#checkAhead(pos, header);
        continue;
      }
      switch (kind) {
        case HEADER_KIND.Record:
          return this.#deliver(words, pos, header);
        case HEADER_KIND.EndOfSegment:
          if (!this.#advance()) return undefined;
          continue;
        case HEADER_KIND.ChecksumFrame:
          this.#pos = pos + CHECKSUM_FRAME_SIZE;
          continue;
        case HEADER_KIND.Padding: {
          const skip = recordSize(header & LENGTH_MASK);
          if (pos + skip > this.#capacity) {
            throw this.#damage(pos, "padding runs past the segment's end");
          }
          this.#pos = pos + skip;
          continue;
        }
        default:
          throw this.#damage(pos, `impossible header word 0x${header.toString(16)}`);
      }
    }
  }

  // Nothing is published at `pos`: true when that is the end for now, false
  // when the reader moved (retention, or the first segment appeared) and
  // should look again.
  #atEnd(pos: number): boolean {
    if (this.#checkRetention()) return false;
    if (this.#current === undefined) {
      if (this.#closed) throw new QueueClosedError(this.path);
      return !this.#tryFirstSegment();
    }
    if (pos !== this.#emptyAt || ++this.#emptyLooks === END_CHECK_EVERY) {
      this.#emptyAt = pos;
      this.#emptyLooks = 0;
      const publishedSeq = this.#meta.publishedSeq;
      const why = this.#current.segment.endDamage(pos, this.#nextSeq, publishedSeq);
      if (why !== undefined) throw this.#damage(pos, why);
    }
    return true;
  }

  // Moves #checkedTo past what may be delivered from `pos`: the next record
  // of the open block at the live end, or the next block once its checksum
  // holds.
  #checkAhead(pos: number, header: number): void {
    if (this.#openTail && isRecordHeader(header)) {
      this.#checkedTo = pos + recordSize(header);
      return;
    }
    const check = this.#current!.segment.checkBlock(pos, this.#nextSeq, this.#meta.publishedSeq);
    this.#checkedTo = check.to;
    this.#openTail = !check.verified;
  }

  #damage(offset: number, why: string): QueueDamageError {
    return this.#current!.segment.damage(offset, this.#nextSeq, why);
  }

  /** Whether `next()` would return a record (or move to the next segment) now. */
  hasNext(): boolean {
    const header = Atomics.load(this.#words, this.#pos >>> 2);
    if (headerKind(header) !== HEADER_KIND.Nothing) return true;
    if (this.#current === undefined) {
      return !this.#closed && listSegments(this.path).length > 0;
    }
    // Damage counts as something to read: the next next() looks again and reports it.
    const publishedSeq = this.#meta.publishedSeq;
    if (this.#current.segment.endDamage(this.#pos, this.#nextSeq, publishedSeq) === undefined) {
      return false;
    }
    this.#emptyAt = -1;
    return true;
  }

  /**
   * Waits, with the reader's wait strategy, until a record is available or
   * `timeoutMs` passes. The event loop goes on meanwhile: this is the wait
   * for a program that does other things too.
   *
   * @returns whether a record is available
   */
  wait(timeoutMs = Infinity): Promise<boolean> {
    if (this.#closed) return Promise.reject(new QueueClosedError(this.path));
    return waitUntil(this.#strategy, this.#ready, timeoutMs, this.#meta);
  }

  /**
   * Blocks the calling thread until a record is available or `timeoutMs`
   * passes, whatever the wait strategy: the thread sleeps in the kernel on
   * the queue's futex word and wakes within microseconds of the append, as
   * it skips the two thread hops of {@linkcode QueueReader.wait}'s futex.
   * Meant for a dedicated consumer: nothing else of the program runs until
   * it returns (timers, I/O callbacks, signal listeners), so a program that
   * must notice a signal waits in bounded slices and turns its event loop
   * between them.
   *
   * It returns true as soon as `next()` has something to take, as
   * {@linkcode QueueReader.hasNext} says: normally a record; sometimes only
   * a step towards one (the frame that closes a block, the roll into the
   * next segment), after which `next()` returns undefined and the caller
   * waits again. Spurious wake-ups are looked through, and a record
   * appended while the reader registers as a waiter is never slept through.
   *
   * A reader that may only read `queue.meta` (another user's queue) cannot
   * register as a waiter; it backs off instead, on the calling thread: 200
   * looks, then sleeps of 50 µs doubling to 1 ms between looks.
   *
   * @returns whether a record is available; false only once `timeoutMs` has passed
   * @throws {QueueClosedError} when the reader is closed.
   *
   * @example A dedicated consumer loop
   * ```ts
   * import assert from "node:assert/strict";
   * import { QueueReader, QueueWriter } from "./mod.ts";
   * const dir = Deno.makeTempDirSync();
   * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
   * const r = await QueueReader.open(dir);
   * assert.equal(r.waitSync(5), false); // nothing after 5 ms
   * w.append(1, new TextEncoder().encode("tick"));
   * assert.equal(r.waitSync(1000), true);
   * assert.equal(r.next()?.seq, 1);
   * r.close();
   * w.close();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  waitSync(timeoutMs = Infinity): boolean {
    if (this.#closed) throw new QueueClosedError(this.path);
    return waitUntilSync(this.#ready, timeoutMs, this.#meta);
  }

  /** Changes how {@linkcode QueueReader.wait} waits. */
  setWaitStrategy(strategy: WaitStrategy): void {
    checkWaitStrategy(strategy);
    this.#strategy = strategy;
  }

  /** The current wait strategy. */
  get waitStrategy(): WaitStrategy {
    return this.#strategy;
  }

  /** Seq the next record will carry. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Records skipped because retention deleted them before this reader got there. */
  get lostRecords(): number {
    return this.#lost;
  }

  /**
   * Persists the position: every record up to `seq` (by default every
   * record before `nextSeq`) counts as consumed. A named reader resumes
   * after it; retention may then delete what it no longer needs. A consumer
   * that hands records on commits only what its own output has made
   * durable, which may be less than it has read.
   *
   * @throws {TypeError} for an anonymous reader.
   * @throws {RangeError} for a `seq` past what the reader has read.
   */
  commit(seq: number = this.#nextSeq - 1): void {
    if (this.#closed) throw new QueueClosedError(this.path);
    if (this.#offset === undefined) {
      throw new TypeError("Only a named reader can commit: open it with a 'name'");
    }
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > this.#nextSeq - 1) {
      throw new RangeError(
        `Cannot commit seq '${seq}': the reader has read up to seq ${this.#nextSeq - 1}`,
      );
    }
    this.#offset.commit(seq);
  }

  /**
   * Moves the reader so `next()` returns the record with seq `target.seq`,
   * or the first record stamped at or after `target.timestampNs`. Uses the
   * seek index and walks at most one index spacing of records.
   *
   * @throws {RangeError} when the seq is not in the queue; the reader stays where it was (or, if
   * retention let that segment go meanwhile, falls off to the earliest kept record on its next read).
   */
  seek(target: { seq: number } | { timestampNs: bigint | number }): void {
    if (this.#closed) throw new QueueClosedError(this.path);
    checkStart(target);
    const mapped = this.#current !== undefined;
    const at = { index: this.#segmentIndex, pos: this.#pos, seq: this.#nextSeq };
    try {
      if ("seq" in target) this.#seekSeq(target.seq);
      else this.#seekTime(BigInt(target.timestampNs));
    } catch (error) {
      // A failed seek leaves the reader where it was, mapped or not.
      if (!mapped || !this.#enter(at.index, at.pos, at.seq)) this.#strandAt(at.index, at.seq);
      throw error;
    }
  }

  /** Unmaps everything. A named reader's committed position stays on disk. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leaveSegment();
    this.#cache.clear();
    this.#offset?.close();
    this.#meta.close();
  }

  /** Same as {@linkcode QueueReader.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #start(start: StartPosition): void {
    if (start === "earliest") return this.#toEarliest();
    if (start === "latest") return this.#toLatest();
    if (start === "committed") {
      const committed = this.#offset!.committedSeq;
      if (committed === 0) return this.#toEarliest();
      const end = this.#endSeq();
      if (committed + 1 > end) {
        throw new QueueFormatError(
          `Reader offset file '${
            this.#offset!.path
          }' says seq ${committed} was committed but queue '${this.path}' ends at seq ${end - 1}`,
          this.#offset!.path,
        );
      }
      if (committed + 1 >= this.#earliestSeq()) {
        try {
          return this.#seekSeq(committed + 1);
        } catch (error) {
          // Retention let the seq go since the look at the earliest.
          if (!(error instanceof RangeError) || committed + 1 >= this.#earliestSeq()) throw error;
        }
      }
      this.#toEarliest();
      this.#lost = Math.max(0, this.#nextSeq - committed - 1);
      return;
    }
    this.seek(start);
  }

  // Started segments retention has not deleted, ascending. A segment's
  // first seq never changes once started, so a refresh reads only the
  // headers of segments new since the last listing. A file whose header
  // names another index is not that segment (a stale file a restart left
  // where a recycled one was never written back): it counts as not started.
  #segments(refresh = false): SegmentStart[] {
    if (refresh || this.#starts === undefined) {
      const kept = Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD);
      const known = new Map(this.#starts?.map((s) => [s.index, s.firstSeq]));
      const starts: SegmentStart[] = [];
      for (const index of listSegments(this.path)) {
        if (index < kept) continue;
        let firstSeq = known.get(index);
        if (firstSeq === undefined) {
          const header = readSegmentHeader(this.path, index);
          if (header?.index === index) firstSeq = header.firstSeq;
        }
        if (firstSeq !== undefined) starts.push({ index, firstSeq });
      }
      this.#starts = starts;
    }
    // Loaded again: retention may have moved on while the headers were read.
    const first = Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD);
    while (this.#starts.length > 0 && this.#starts[0]!.index < first) this.#starts.shift();
    return this.#starts;
  }

  #earliestSeq(): number {
    return this.#segments(true)[0]?.firstSeq ?? 1;
  }

  // Seq one past the last published record. When retention lets the last
  // listed segment go before it is mapped, the end lies in a later one.
  #endSeq(): number {
    for (let tries = 0; tries < RETENTION_RETRIES; tries++) {
      const last = this.#segments(true).at(-1);
      if (last === undefined) return 1;
      const entry = this.#map(last.index, last.firstSeq);
      if (entry !== undefined) {
        return walkToEnd(entry.segment, this.#cache.seekIndex(entry)).nextSeq;
      }
    }
    throw this.#outrun();
  }

  // The earliest kept record: listing again whenever retention lets the
  // earliest listed segment go before it is mapped.
  #toEarliest(): void {
    for (let tries = 0; tries < RETENTION_RETRIES; tries++) {
      const first = tries === 0 ? this.#firstSegment() : this.#segments(true)[0];
      if (first === undefined) {
        this.#leaveSegment();
        this.#segmentIndex = Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD);
        return;
      }
      if (first.index > Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD)) {
        this.#checkEarliest(first);
      }
      if (this.#enter(first.index, SEGMENT_HEADER_SIZE, first.firstSeq)) return;
    }
    throw this.#outrun();
  }

  // The earliest started segment is above the first one retention kept:
  // unless retention has just moved on, the kept one is missing, not a
  // file, or lost its header, and the records in it are gone.
  #checkEarliest(first: SegmentStart): void {
    const kept = Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD);
    const again = this.#segments(true)[0];
    if (again === undefined || again.index <= kept || again.index !== first.index) return;
    const path = `${this.path}/${segmentName(kept)}`;
    let why = "segment file is missing";
    try {
      const info = Deno.statSync(path);
      why = info.isFile ? "segment header is zero" : "it is not a regular file";
    } catch {
      // missing
    }
    throw new QueueDamageError(
      path,
      0,
      first.firstSeq,
      `${why}; it held the records before seq ${first.firstSeq}`,
    );
  }

  // The end of the last segment: listing again whenever retention lets the
  // last listed segment go before it is mapped.
  #toLatest(): void {
    for (let tries = 0; tries < RETENTION_RETRIES; tries++) {
      const last = this.#segments(true).at(-1);
      if (last === undefined) return this.#toEarliest();
      if (!this.#enter(last.index, SEGMENT_HEADER_SIZE, last.firstSeq)) continue;
      const current = this.#current!;
      const end = walkToEnd(current.segment, this.#cache.seekIndex(current));
      this.#pos = end.offset;
      this.#checkedTo = end.offset;
      this.#nextSeq = end.nextSeq;
      return;
    }
    throw this.#outrun();
  }

  // `tries` counts the listings before this one: the first try uses the
  // last listing, every other lists again.
  #seekSeq(seq: number, tries = 0): void {
    const segments = this.#segments(tries > 0);
    const first = segments[0];
    if (first === undefined || seq < first.firstSeq) {
      if (tries === 0) return this.#seekSeq(seq, 1);
      throw new RangeError(
        first === undefined
          ? `Seq ${seq} is not in queue '${this.path}': it is empty`
          : `Seq ${seq} is no longer in queue '${this.path}': the earliest is ${first.firstSeq}`,
      );
    }
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segments[mid]!.firstSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    const target = segments[lo]!;
    if (!this.#enter(target.index, SEGMENT_HEADER_SIZE, target.firstSeq)) {
      // Retention let it go after the listing: the seq is gone too (a fresh
      // listing says so), or lies in a segment started since.
      if (tries + 1 < RETENTION_RETRIES) return this.#seekSeq(seq, tries + 1);
      throw this.#outrun();
    }
    const current = this.#current!;
    const segment = current.segment;
    let entry = this.#cache.seekIndex(current).floorBySeq(seq, target.firstSeq);
    if (entry !== undefined && (entry.seq > seq || !entryPointsAtRecord(segment, entry))) {
      entry = this.#cache.rebuildIndex(current).floorBySeq(seq, target.firstSeq);
    }
    const from = entry ?? { offset: SEGMENT_HEADER_SIZE, seq: target.firstSeq };
    const end = segment.walk(from.offset, from.seq, (_offset, s) => s === seq);
    if (end.nextSeq !== seq) {
      // Past the end of the last segment listed: it may lie in one started since.
      if (tries === 0 && end.sealed) return this.#seekSeq(seq, 1);
      throw new RangeError(
        `Seq ${seq} is not in queue '${this.path}' yet: it ends at seq ${end.nextSeq - 1}`,
      );
    }
    this.#pos = end.offset;
    this.#checkedTo = end.offset;
    this.#nextSeq = seq;
  }

  // Index maxima are per segment, so segments are tried in order: in each,
  // the index skips to within one spacing of the first record at or after
  // the time, or shows in one step that the segment has none. A segment
  // retention lets go before it is mapped is passed over, as one it let go
  // before the listing would be: the seek goes on with the next kept one.
  #seekTime(timestampNs: bigint): void {
    const hi = Number(timestampNs >> 32n);
    const lo = Number(timestampNs & 0xffff_ffffn);
    let segments = this.#segments();
    let fresh = false; // whether `segments` was listed since the last segment walked
    let walked = -1; // the last segment walked, which ends before the time
    for (let lapses = 0; lapses < RETENTION_RETRIES;) {
      const target = segments.find((s) => s.index > walked);
      if (target === undefined) {
        if (fresh) return;
        segments = this.#segments(true);
        fresh = true;
        continue;
      }
      if (!this.#enter(target.index, SEGMENT_HEADER_SIZE, target.firstSeq)) {
        segments = this.#segments(true);
        fresh = true;
        lapses++;
        continue;
      }
      const current = this.#current!;
      const segment = current.segment;
      let entry = this.#cache.seekIndex(current).floorByTime(hi, lo);
      if (entry !== undefined && !entryPointsAtRecord(segment, entry)) {
        entry = this.#cache.rebuildIndex(current).floorByTime(hi, lo);
      }
      const from = entry ?? { offset: SEGMENT_HEADER_SIZE, seq: target.firstSeq };
      const words = segment.file.words;
      const end = segment.walk(from.offset, from.seq, (offset) => {
        const w = offset >>> 2;
        const h = words[w + RECORD_WORD.timestampHi]!;
        return h > hi || (h === hi && words[w + RECORD_WORD.timestampLo]! >= lo);
      });
      this.#pos = end.offset;
      this.#checkedTo = end.offset;
      this.#nextSeq = end.nextSeq;
      if (!end.sealed) return;
      walked = target.index;
      fresh = false;
    }
    throw this.#outrun();
  }

  // Moves the reader to `pos` in segment `index`; false, the reader
  // unmoved, when retention let the segment go after a listing named it.
  #enter(index: number, pos: number, seq: number): boolean {
    if (this.#current?.segment.index !== index) {
      const entry = this.#map(index, seq);
      if (entry === undefined) return false;
      this.#leaveSegment();
      this.#current = entry;
      this.#words = entry.segment.file.words;
      this.#view.words = this.#words;
      this.#view.buffer = this.#words.buffer;
      this.#capacity = entry.segment.capacity;
    }
    this.#segmentIndex = index;
    this.#pos = pos;
    this.#nextSeq = seq;
    this.#checkedTo = pos;
    this.#openTail = false;
    this.#emptyAt = -1;
    return true;
  }

  // Segment `index`, mapped; undefined when retention let it go. A file
  // missing otherwise is damage: the records from `seq` on are lost.
  #map(index: number, seq: number): CachedSegment | undefined {
    try {
      return this.#cache.get(index);
    } catch (error) {
      // The cache reports a file retention let go, or one open(2) did not
      // find, as ENOENT; one that went between MappedFile's open(2) and its
      // stat by name surfaces as NotFound.
      const missing = error instanceof Deno.errors.NotFound ||
        (error instanceof QueueIoError && error.errno === ENOENT);
      if (!missing) throw asDamage(error, seq);
      if (index < Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD)) return undefined;
      const path = `${this.path}/${segmentName(index)}`;
      throw new QueueDamageError(path, 0, seq, "segment file is missing");
    }
  }

  // A failed seek that cannot go back to its segment (retention let it go
  // meanwhile, or the reader had none mapped) leaves the reader at its old
  // position with no segment: its next look at retention falls off to the
  // earliest kept record and counts the records lost from there, as it
  // would have without the seek.
  #strandAt(index: number, seq: number): void {
    this.#leaveSegment();
    this.#segmentIndex = index;
    this.#nextSeq = seq;
    this.#firstSeen = -1;
  }

  // A reader that retention outran every time it listed and mapped.
  #outrun(): QueueIoError {
    return new QueueIoError(
      `Cannot keep up with retention in queue '${this.path}': it let ${RETENTION_RETRIES} listed segments go before the reader could map one`,
      this.path,
      ENOENT,
    );
  }

  #leaveSegment(): void {
    if (this.#view.shared) {
      this.#current?.segment.file.markShared();
      this.#view.shared = false;
    }
    this.#current = undefined;
    this.#words = EMPTY;
    this.#view.words = EMPTY;
    this.#view.buffer = EMPTY.buffer;
    this.#pos = 0;
    this.#checkedTo = 0;
  }

  // The first segment as listed, listing again when the list is empty.
  #firstSegment(): SegmentStart | undefined {
    return this.#segments()[0] ?? this.#segments(true)[0];
  }

  // A reader opened before the queue's first segment existed listed none:
  // it lists again, as hasNext() does, or it would wait forever on a
  // segment it already says is there.
  #tryFirstSegment(): boolean {
    this.#toEarliest();
    return this.#current !== undefined;
  }

  // The writer starts segment n+1 before it seals segment n, so after the
  // end marker the next file is there with its header written; anything
  // else, unless retention deleted it, is damage.
  #advance(): boolean {
    const nextIndex = this.#segmentIndex + 1;
    const path = `${this.path}/${segmentName(nextIndex)}`;
    const next = this.#map(nextIndex, this.#nextSeq);
    if (next === undefined) {
      this.#fallOff(); // retention let it go: go on at the earliest kept record
      return this.#current !== undefined;
    }
    const segment = next.segment;
    if (!segment.started) {
      this.#cache.drop(nextIndex);
      throw new QueueDamageError(path, 0, this.#nextSeq, "segment header is zero");
    }
    if (segment.firstSeq !== this.#nextSeq) {
      throw new QueueDamageError(
        path,
        0,
        this.#nextSeq,
        `segment starts at seq ${segment.firstSeq}, not where the segment before it ends`,
      );
    }
    this.#enter(nextIndex, SEGMENT_HEADER_SIZE, this.#nextSeq);
    // Read to its end, the segment is let go now rather than when the
    // cache fills: a writer recycling segments can reuse it only once no
    // reader maps it.
    this.#cache.drop(nextIndex - 1);
    return true;
  }

  // Whether retention moved the reader. Segments it deleted are unmapped
  // here, so no mapping of this reader keeps their disk space in use.
  #checkRetention(): boolean {
    this.#toRetentionCheck = RETENTION_CHECK_EVERY;
    const first = Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD);
    if (first === this.#firstSeen) return false;
    this.#firstSeen = first;
    if (this.#segmentIndex >= first) {
      this.#cache.dropBelow(first);
      return false;
    }
    this.#fallOff();
    return this.#current !== undefined;
  }

  // Retention deleted the segment under this (non-holding) reader: let go of
  // the mapping so the disk space is freed, and continue at the earliest
  // record still kept.
  #fallOff(): void {
    const before = this.#nextSeq;
    this.#leaveSegment();
    this.#cache.dropBelow(Atomics.load(this.#metaWords, FIRST_SEGMENT_WORD));
    try {
      this.#toEarliest();
    } catch (error) {
      // The next look at retention falls off again and counts the loss.
      this.#firstSeen = -1;
      throw error;
    }
    if (this.#current !== undefined) this.#lost += Math.max(0, this.#nextSeq - before);
  }
}

// A segment that fails its opening checks is damage to a reader: the records
// from `seq` on cannot be delivered.
function asDamage(error: unknown, seq: number): unknown {
  if (error instanceof QueueDamageError || !(error instanceof QueueFormatError)) return error;
  return QueueDamageError.from(error, seq);
}

/**
 * Throws unless `start` is a {@linkcode StartPosition}: every reader that
 * takes one (a queue's, a JetStream stream's) checks it alike.
 *
 * @throws {RangeError} for a seq below 1 or a negative timestamp.
 * @throws {TypeError} for anything that is no start position.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkStart } from "./queue_reader.ts";
 * checkStart({ seq: 5 });
 * assert.throws(() => checkStart({ seq: 0 }), RangeError);
 * assert.throws(() => checkStart("newest"), TypeError);
 * ```
 */
export function checkStart(start: unknown): asserts start is StartPosition {
  if (start === "earliest" || start === "latest" || start === "committed") return;
  if (typeof start === "object" && start !== null) {
    if ("seq" in start) {
      const seq = (start as { seq: unknown }).seq;
      if (typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 1) return;
      throw new RangeError(`Start seq must be a whole number of at least 1, not '${String(seq)}'`);
    }
    if ("timestampNs" in start) {
      const ts = (start as { timestampNs: unknown }).timestampNs;
      if (
        (typeof ts === "bigint" && ts >= 0n) ||
        (typeof ts === "number" && Number.isFinite(ts) && ts >= 0)
      ) return;
      throw new RangeError(
        `Start timestampNs must be a non-negative number of nanoseconds, not '${String(ts)}'`,
      );
    }
  }
  throw new TypeError(
    `Start '${
      typeof start === "object" ? JSON.stringify(start) : String(start)
    }' does not exist: use 'earliest', 'latest', 'committed', { seq } or { timestampNs }`,
  );
}
