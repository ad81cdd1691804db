/**
 * The writer of a sealed store: records go into the current segment's
 * plaintext, a full (or old enough) segment is cut and sealed by the cipher
 * pool, and an ordered writer commits sealed segments to the sink in index
 * order, a group at a time. Each session starts a new run with a fresh file
 * key, so no (key, nonce) pair is ever used twice, whatever an earlier
 * session left behind.
 *
 * Stages and their bounds: `append` copies into one segment buffer; at most
 * `maxInFlight` cut segments are being sealed, and at most
 * `maxUncommittedBytes` of sealed units wait to be durable (for an earlier
 * index, or in the group being written and synced), and
 * {@linkcode SealedWriter.ready} is how a producer waits for room under
 * both; the pool runs at most those jobs; the sink writes one group at a
 * time, while the workers seal on, so groups grow while a sync runs.
 * Nothing waits on a later stage's caller, so nothing can deadlock: the
 * sink never waits for the pool, the pool never for the sink, and only the
 * producer waits, for either. Buffers (plaintexts and units) come back
 * from the workers and the sink and are reused, so a steady stream
 * allocates no segment-sized memory.
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";
import { BufferPool } from "./buffer_pool.ts";
import { CipherPool, defaultCipherWorkers } from "./cipher_pool.ts";
import type { SegmentFields } from "./cipher_worker.ts";
import { createRunHeader, type RunKeys } from "./run_header.ts";
import { DEFAULT_FLUSH_MS, DEFAULT_SEGMENT_BYTES, FRAME_HEADER_BYTES } from "./sealed_format.ts";
import { openSealedSink, type SealedSink } from "./sealed_sink.ts";
import { unitLength } from "./segment_cipher.ts";
import { SegmentBuilder } from "./segment_frames.ts";
import type { SealedLocation } from "./store_location.ts";

// The least default bound on sealed bytes waiting to be durable.
const DEFAULT_UNCOMMITTED_BYTES = 8 << 20;

/** Options of {@linkcode SealedWriter.open}. */
export interface SealedWriterOptions {
  /** X25519 public keys (parsed `age1…` recipients) the run is sealed for: 1 to 255. */
  recipients: Uint8Array[];
  /** The stream's name, kept in the run header. */
  stream: string;
  /** The writing program, kept in the run header, such as `spool 0.1.0 archive-tap`. */
  producer: string;
  /** Plaintext bytes at which a segment is cut. Default 1 MiB. */
  segmentBytes?: number;
  /**
   * Longest a record waits before its segment is cut, in ms; 0 for never
   * by time (only by size, flush and close). Default 200.
   */
  flushMs?: number;
  /** Cipher worker threads, when the writer starts its own pool; 0 seals on the calling thread. */
  workers?: number;
  /**
   * A pool to seal with instead of starting one (several writers can
   * share one); the writer does not close it, and stops when it stops.
   */
  pool?: CipherPool;
  /**
   * Cut segments being sealed (handed to the pool and not sealed yet), at
   * most, before {@linkcode SealedWriter.ready} waits. Default twice the
   * workers, plus 1.
   */
  maxInFlight?: number;
  /**
   * Bytes of sealed segments not yet durable (waiting for an earlier
   * segment, or being written and synced), at most, before
   * {@linkcode SealedWriter.ready} waits. Default 8 segments' worth
   * (`8 × segmentBytes`), at least 8 MiB. While a group is being synced
   * the workers seal on, so the next group is larger: this bounds it.
   */
  maxUncommittedBytes?: number;
}

// A cut segment, from sealing to commit.
interface Pending {
  index: number;
  lastSeq: number;
  unit: Uint8Array | undefined;
}

/**
 * Writes a sealed store, as a new run. Records must have rising seqs, above
 * every seq already in the store. After any failure (the sink, a cipher
 * worker) the writer stops; the error is thrown by the next `append`,
 * `appendMetadata`, `ready` or `flush`, and by `close` unless one of those
 * threw it already. What was committed stays, and the next writer goes on
 * after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseRecipient } from "./age_keys.ts";
 * import { SealedWriter } from "./sealed_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * const { recipient } = await generateIdentity();
 * const store = { kind: "file", dir: `${dir}/s` } as const;
 * const options = { recipients: [parseRecipient(recipient, "example")], stream: "s", producer: "example", workers: 0 };
 * const first = await SealedWriter.open(store, options);
 * first.append({ seq: 1, timestampNs: 0n, typeId: 1, payload: new Uint8Array([1]) });
 * await first.close();
 * assert.equal(first.committedSeq, 1);
 * const second = await SealedWriter.open(store, options);
 * assert.equal(second.run, 1);
 * assert.equal(second.lastSeq, 1);
 * assert.throws(() => second.append({ seq: 1, timestampNs: 0n, typeId: 1, payload: new Uint8Array() }), RangeError);
 * await second.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SealedWriter {
  /** The store, as messages name it: `DIR/stream.sealed` or `FILE#stream`. */
  readonly path: string;
  /** The number of the run this writer writes. */
  readonly run: number;
  readonly #sink: SealedSink;
  readonly #keys: RunKeys;
  readonly #pool: CipherPool;
  readonly #ownPool: boolean;
  readonly #segmentBytes: number;
  readonly #flushMs: number;
  readonly #maxInFlight: number;
  readonly #maxUncommittedBytes: number;
  readonly #builder = new SegmentBuilder();
  // Plaintext and unit buffers, back from the workers and the sink for reuse.
  readonly #buffers: BufferPool;
  readonly #recycle = (buffer: Uint8Array<ArrayBuffer>) => this.#buffers.give(buffer);
  // Cut segments in index order, not yet handed to the sink.
  readonly #pending: Pending[] = [];
  #committing: Promise<void> | undefined;
  #committingCount = 0;
  // Segments handed to the pool and not sealed yet.
  #sealing = 0;
  // Bytes of sealed units not yet durable.
  #uncommittedBytes = 0;
  #nextIndex = 0;
  #lastSeq: number;
  #committedSeq: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failure: Error | undefined;
  #surfaced = false;
  #closed = false;
  // Set once the stages are stopped (failure, abort, release): what fails after is no news.
  readonly #stopped = new AbortController();
  #released: Promise<void> | undefined;
  // Resolved and replaced whenever a commit ends or the writer fails.
  #progress = Promise.withResolvers<void>();

  private constructor(
    sink: SealedSink,
    run: number,
    keys: RunKeys,
    pool: CipherPool,
    ownPool: boolean,
    options: {
      segmentBytes: number;
      flushMs: number;
      maxInFlight: number;
      maxUncommittedBytes: number;
    },
  ) {
    this.path = sink.path;
    this.run = run;
    this.#sink = sink;
    this.#keys = keys;
    this.#pool = pool;
    this.#ownPool = ownPool;
    this.#segmentBytes = options.segmentBytes;
    this.#flushMs = options.flushMs;
    this.#maxInFlight = options.maxInFlight;
    this.#maxUncommittedBytes = options.maxUncommittedBytes;
    // A segment being sealed holds two buffers (plaintext and unit), a
    // sealed one its unit, and the builder one more (kept within reason for
    // small segments, whose buffers are small).
    const uncommitted = Math.min(16, Math.ceil(options.maxUncommittedBytes / options.segmentBytes));
    this.#buffers = new BufferPool(2 * options.maxInFlight + uncommitted + 1);
    this.#lastSeq = this.#committedSeq = sink.state.lastSeq;
    const signal = pool.signal;
    if (signal.aborted) this.#fail(signal.reason);
    else {
      signal.addEventListener("abort", () => this.#fail(signal.reason), {
        signal: this.#stopped.signal,
      });
    }
  }

  /**
   * Opens the store at `location` for writing (its lock taken, a torn tail
   * cut) and starts a new run after what it holds.
   *
   * @throws {import("./store_lock.ts").SealedLockedError} when another writer holds the store.
   * @throws {import("./sealed_errors.ts").SealedDamageError} when the store is damaged before its end.
   * @throws {import("./sealed_errors.ts").SealedFormatError} when it is not a sealed store.
   * @throws {RangeError} for recipients, sizes or names out of range.
   */
  static async open(
    location: SealedLocation,
    options: SealedWriterOptions,
  ): Promise<SealedWriter> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    const workers = options.pool?.workers ?? options.workers ?? defaultCipherWorkers();
    const maxInFlight = options.maxInFlight ?? 2 * workers + 1;
    if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`A writer keeps 1 or more segments in flight, not '${maxInFlight}'`);
    }
    const maxUncommittedBytes = options.maxUncommittedBytes ??
      Math.max(8 * segmentBytes, DEFAULT_UNCOMMITTED_BYTES);
    if (!Number.isSafeInteger(maxUncommittedBytes) || maxUncommittedBytes < 1) {
      throw new RangeError(
        `A writer keeps 1 or more uncommitted bytes, not '${maxUncommittedBytes}'`,
      );
    }
    const sink = await openSealedSink(location);
    let pool: CipherPool | undefined;
    try {
      const last = sink.state.lastRun;
      const { header, keys } = await createRunHeader({
        segmentBytes,
        flushMs,
        createdMs: Date.now(),
        run: last === undefined ? 0 : last.run + 1,
        prevCut: last !== undefined && !last.final,
        prevSegments: last?.segments ?? 0,
        prevHeaderHash: last?.header.hash ?? new Uint8Array(32),
        producer: options.producer,
        stream: options.stream,
      }, options.recipients);
      // Committed with the first group of segments (or the final one at close).
      sink.add(header.bytes, header.run, -1);
      pool = options.pool ?? new CipherPool(workers);
      return new SealedWriter(sink, header.run, keys, pool, options.pool === undefined, {
        segmentBytes,
        flushMs,
        maxInFlight,
        maxUncommittedBytes,
      });
    } catch (error) {
      if (options.pool === undefined) pool?.close();
      sink.close();
      throw error;
    }
  }

  /** The last seq appended; after open, the store's last seq (0 for none). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The last seq durably committed. */
  get committedSeq(): number {
    return this.#committedSeq;
  }

  /** Segments cut and not committed yet. */
  get inFlight(): number {
    return this.#pending.length + this.#committingCount;
  }

  /**
   * Copies a record into the current segment, cutting it at
   * `segmentBytes`. A record larger than that makes a segment of its own.
   *
   * @throws {RangeError} when `m.seq` is not above {@linkcode SealedWriter.lastSeq}
   *   (a writer never reuses a seq), or the type id, timestamp or size is out of range.
   * @throws the writer's failure, once it has failed.
   */
  append(m: StreamMessage): void {
    this.#usable();
    if (!Number.isSafeInteger(m.seq) || m.seq <= this.#lastSeq) {
      throw new RangeError(`Record seq '${m.seq}' does not follow seq '${this.#lastSeq}'`);
    }
    this.#room(m.payload.length);
    this.#builder.addRecord(m.seq, m.timestampNs, m.typeId, m.payload);
    this.#lastSeq = m.seq;
    this.#added();
  }

  /**
   * Adds a metadata frame (a JSON object about the stream) to the current
   * segment.
   *
   * @throws {TypeError} when `json` is not a plain object.
   * @throws the writer's failure, once it has failed.
   */
  appendMetadata(json: Record<string, unknown>): void {
    this.#usable();
    this.#builder.addMetadata(json);
    this.#added();
  }

  /**
   * Whether {@linkcode SealedWriter.ready} would wait now: as many segments
   * are sealing, or as many sealed bytes wait to be durable, as the writer
   * allows. `append` never waits; a producer that appends in a loop checks
   * this and awaits `ready()`, which is what bounds the writer's memory.
   */
  get full(): boolean {
    return this.#sealing >= this.#maxInFlight ||
      this.#uncommittedBytes >= this.#maxUncommittedBytes;
  }

  /**
   * Resolves once fewer than `maxInFlight` segments are being sealed and
   * fewer than `maxUncommittedBytes` sealed bytes wait to be durable: a
   * producer awaits it between batches, so it never runs
   * ahead of the workers and the disk.
   *
   * @throws the writer's failure.
   */
  async ready(): Promise<void> {
    this.#usable();
    while (
      (this.#sealing >= this.#maxInFlight ||
        this.#uncommittedBytes >= this.#maxUncommittedBytes) &&
      this.#failure === undefined
    ) {
      await this.#progress.promise;
    }
    this.#usable();
  }

  /**
   * Cuts the current segment and waits until everything appended is
   * committed.
   *
   * @throws the writer's failure.
   */
  async flush(): Promise<void> {
    this.#usable();
    this.#cut(false);
    await this.#drained();
    this.#usable();
  }

  /**
   * Cuts the final segment (empty when nothing is pending), waits until it
   * is committed, and releases the store and the pool. Closing twice does
   * nothing.
   *
   * @throws the writer's failure, unless it was thrown already.
   */
  async close(): Promise<void> {
    if (this.#closed) return await this.#release();
    if (this.#failure === undefined) this.#cut(true);
    this.#closed = true;
    await this.#drained();
    await this.#release();
    if (this.#failure !== undefined && !this.#surfaced) {
      this.#surfaced = true;
      throw this.#failure;
    }
  }

  /**
   * Stops without a final segment: what is committed stays, what is not is
   * dropped, and the next writer goes on after it (its run says this one
   * was cut). Never throws the writer's failure.
   */
  async abort(): Promise<void> {
    this.#closed = true;
    this.#stop();
    await this.#release();
  }

  #usable(): void {
    if (this.#failure !== undefined) {
      this.#surfaced = true;
      throw this.#failure;
    }
    if (this.#closed) throw new TypeError(`Sealed writer of '${this.path}' is closed`);
  }

  // Cuts the current segment first when a frame of `payloadLength` would
  // take it past segmentBytes.
  #room(payloadLength: number): void {
    const length = this.#builder.byteLength;
    if (length > 0 && length + FRAME_HEADER_BYTES + payloadLength > this.#segmentBytes) {
      this.#cut(false);
    }
  }

  #added(): void {
    if (this.#builder.byteLength >= this.#segmentBytes) this.#cut(false);
    else if (this.#timer === undefined && this.#flushMs > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#failure === undefined && !this.#closed) this.#cut(false);
      }, this.#flushMs);
    }
  }

  // Hands the current segment to the pool: always for the final one, else
  // when it holds a frame.
  #cut(final: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const b = this.#builder;
    if (!final && b.frameCount === 0) return;
    const fields: SegmentFields = {
      final,
      index: this.#nextIndex++,
      frameCount: b.frameCount,
      dataFrames: b.dataFrames,
      firstSeq: b.firstSeq,
      lastSeq: b.lastSeq,
    };
    const pending: Pending = { index: fields.index, lastSeq: fields.lastSeq, unit: undefined };
    this.#pending.push(pending);
    const plaintext = b.cut(this.#buffers.take(this.#segmentBytes));
    const into = this.#buffers.take(unitLength(plaintext.length));
    const buffers = { into, recycle: this.#recycle };
    this.#sealing++;
    this.#pool.seal(this.#keys.payloadKey, this.#keys.headerHash, fields, plaintext, buffers).then(
      (unit) => {
        this.#sealing--;
        this.#uncommittedBytes += unit.length;
        pending.unit = unit;
        this.#write();
        this.#notify();
      },
      (error) => this.#fail(error),
    );
  }

  // The ordered writer: commits every sealed segment that is next in index
  // order, as one group, one group at a time.
  #write(): void {
    if (this.#committing !== undefined || this.#stopped.signal.aborted) return;
    const group: Pending[] = [];
    while (this.#pending[0]?.unit !== undefined) group.push(this.#pending.shift()!);
    if (group.length === 0) return;
    try {
      for (const p of group) this.#sink.add(p.unit!, this.run, p.index);
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    this.#committingCount = group.length;
    this.#committing = this.#sink.commit().then(
      () => {
        this.#committing = undefined;
        this.#committingCount = 0;
        for (const p of group) {
          if (p.lastSeq > 0) this.#committedSeq = p.lastSeq;
          this.#uncommittedBytes -= p.unit!.length;
          this.#buffers.give(p.unit!);
        }
        this.#notify();
        this.#write();
      },
      (error) => {
        this.#committing = undefined;
        this.#committingCount = 0;
        this.#fail(error);
      },
    );
  }

  // Waits until nothing cut is uncommitted, or the writer failed.
  async #drained(): Promise<void> {
    while (this.inFlight > 0 && this.#failure === undefined) await this.#progress.promise;
  }

  #notify(): void {
    this.#progress.resolve();
    this.#progress = Promise.withResolvers<void>();
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined || this.#stopped.signal.aborted) return;
    this.#failure = error;
    this.#stop();
    // Let the store go at once, so a restarted writer can take it.
    void this.#release();
  }

  // Stops the stages: no more cuts, seals or commits.
  #stop(): void {
    this.#stopped.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.length = 0;
    if (this.#ownPool) this.#pool.close();
    // A flush waiting on segments just dropped wakes to find them gone.
    this.#notify();
  }

  // Closes the sink after a commit in flight, once.
  #release(): Promise<void> {
    return this.#released ??= (async () => {
      this.#stop();
      await this.#committing?.catch(() => {});
      this.#sink.close();
    })();
  }
}
