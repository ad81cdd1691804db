/**
 * A sealed store read through the stream API. The walk over the store
 * (structure, checksums, order; no key) feeds the cipher pool, several
 * segments at a time, and their plaintexts come out in store order, their
 * records lent one at a time.
 *
 * Damage is never silent: every record before a damaged, tampered or
 * unreadable unit is delivered first, none from inside it, and then
 * {@linkcode SealedStream.wait} throws the error, once.
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";
import type { StreamKind, StreamReader } from "../stream/stream_reader.ts";
import { waitingIterator } from "../stream/_wait_iterator.ts";
import { BufferPool } from "./buffer_pool.ts";
import { CipherPool, defaultCipherWorkers } from "./cipher_pool.ts";
import { openRunHeader, type RunKeys } from "./run_header.ts";
import { SealedDamageError } from "./sealed_errors.ts";
import { openSealedSource, type SealedSource } from "./sealed_sink.ts";
import { FrameReader } from "./segment_frames.ts";
import type { SegmentHeader } from "./segment_header.ts";
import type { SealedLocation } from "./store_location.ts";
import { StoreWalker, type WalkedUnit } from "./store_scan.ts";

/** Options of {@linkcode SealedStream.open}. */
export interface SealedStreamOptions {
  /** X25519 secrets (parsed `AGE-SECRET-KEY-1…` identities); each run is opened with the first that fits. */
  identities: Uint8Array[];
  /** Where the identities came from (a file, `SPOOL_IDENTITY`), for errors. */
  identitySource: string;
  /** Keep reading segments as they are committed, until `signal` aborts. */
  follow?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
  /** Only the last this many records (then, when following, every new one). */
  last?: number;
  /** Cipher worker threads, when the stream starts its own pool; 0 opens on the calling thread. */
  workers?: number;
  /** A pool to open with instead of starting one; the stream does not close it. */
  pool?: CipherPool;
}

// A segment being opened, in store order.
interface Slot {
  header: SegmentHeader;
  offset: number;
  // The last seq before the segment: the seq its errors name.
  seqBefore: number;
  // Records to pass over at its start (`last`).
  skip: number;
  state: "opening" | "open" | "failed";
  plaintext: Uint8Array | undefined;
  error: Error | undefined;
}

// How often a follower looks for committed segments at the end of the store.
const POLL_MS = 25;

/**
 * A {@linkcode StreamReader} over a sealed store, file or SQLite. Segments
 * are opened ahead by the cipher pool (a bounded number at a time) and
 * handed out in order; `next()` lends the records of the segments opened
 * so far, and `wait()` waits for the next one.
 *
 * How a read ends: cleanly after a run's final segment; a last run without
 * one (or a torn last unit) is clean while a writer holds the store and is
 * damage (`unfinished`, `torn`) once none does. A following stream treats
 * that end as work in progress, since the next writer goes on from it. Any
 * error (damage, `SealedKeyError` for a run no identity opens, a cipher
 * worker dying) is thrown once by {@linkcode SealedStream.wait}, after
 * `next()` has lent every record before it; `next()` itself never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseIdentity, parseRecipient } from "./age_keys.ts";
 * import { SealedStream } from "./sealed_stream.ts";
 * import { SealedWriter } from "./sealed_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * const { identity, recipient } = await generateIdentity();
 * const store = { kind: "file", dir } as const;
 * const w = await SealedWriter.open(store, { recipients: [parseRecipient(recipient, "r")], stream: "s", producer: "p", workers: 0 });
 * for (const seq of [1, 2, 3]) w.append({ seq, timestampNs: 0n, typeId: 1, payload: new Uint8Array([seq]) });
 * await w.close();
 * const stream = await SealedStream.open(store, { identities: [parseIdentity(identity, "i")], identitySource: "i", last: 2, workers: 0 });
 * const seqs: number[] = [];
 * for await (const m of stream) seqs.push(m.seq);
 * assert.deepEqual(seqs, [2, 3]);
 * stream.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SealedStream implements StreamReader {
  /** The store, as messages name it: `DIR/stream.sealed` or `FILE#stream`. */
  readonly location: string;
  /** Always `sealed`. */
  readonly kind: StreamKind = "sealed";
  readonly #source: SealedSource;
  readonly #walker: StoreWalker;
  readonly #pool: CipherPool;
  readonly #ownPool: boolean;
  readonly #options: SealedStreamOptions;
  readonly #maxInFlight: number;
  readonly #slots: Slot[] = [];
  // Read and plaintext buffers, back from the workers and the reader for reuse.
  readonly #buffers: BufferPool;
  readonly #recycle = (buffer: Uint8Array<ArrayBuffer>) => this.#buffers.give(buffer);
  // The plaintext whose records are being lent, and those done with, which
  // go back to the buffers at the next `next()`: a message lent is valid
  // until then.
  #plaintext: Uint8Array | undefined;
  readonly #retired: Uint8Array[] = [];
  // Keys of the run whose segments are being walked.
  #keys: RunKeys | undefined;
  // Records to pass over before the first one handed out (`last`).
  #skip: number;
  #frames: FrameReader | undefined;
  #remaining = 0;
  // What ends the read after the slots: an error to throw, or a clean end.
  #end: Error | "end" | undefined;
  // Set once the error that ended the read has been thrown: nothing found
  // after it (the walk runs ahead) is told.
  #thrown = false;
  #walking: Promise<void> | undefined;
  // Following, the last walk found no more units: the next waits for a poll.
  #caughtUp = false;
  // Resolved and replaced whenever a slot settles or the walk moves on.
  #progress = Promise.withResolvers<void>();
  #closed = false;

  private constructor(
    location: string,
    source: SealedSource,
    pool: CipherPool,
    ownPool: boolean,
    options: SealedStreamOptions,
    skip: number,
  ) {
    this.location = location;
    this.#source = source;
    this.#pool = pool;
    this.#ownPool = ownPool;
    this.#options = options;
    this.#skip = skip;
    this.#maxInFlight = 2 * Math.max(1, pool.workers) + 1;
    // Each segment in flight holds a read buffer and a plaintext buffer at
    // most; and the reader the plaintext being lent, and one retired.
    this.#buffers = new BufferPool(2 * this.#maxInFlight + 2);
    // Checksums go to the workers with the cipher, except where only the
    // walk can tell a torn tail from damage.
    this.#walker = new StoreWalker(source.units, {
      deferChecksums: true,
      buffer: (length) => this.#buffers.take(length),
    });
  }

  /**
   * Opens the store at `location` for reading, and starts opening its
   * first segments.
   *
   * @throws {Deno.errors.NotFound} when there is no store there.
   * @throws {import("./sealed_errors.ts").SealedFormatError} when a SQLite
   *   file holds several streams and `location` names none.
   */
  static async open(
    location: SealedLocation,
    options: SealedStreamOptions,
  ): Promise<SealedStream> {
    const last = options.last;
    if (last !== undefined && (!Number.isSafeInteger(last) || last < 0)) {
      throw new RangeError(`The last records to read are 0 or more, not '${last}'`);
    }
    const pool = options.pool ?? new CipherPool(options.workers ?? defaultCipherWorkers());
    let source: SealedSource;
    try {
      source = await openSealedSource(location);
    } catch (error) {
      if (options.pool === undefined) pool.close();
      throw error;
    }
    const skip = last === undefined ? 0 : Math.max(0, countRecords(source) - last);
    const stream = new SealedStream(
      source.path,
      source,
      pool,
      options.pool === undefined,
      options,
      skip,
    );
    // Not following, the first segment is opened here, so next() has records at once.
    stream.#walk();
    if (!options.follow) await stream.#settled();
    return stream;
  }

  /** The next record (lent: valid until the next call), or undefined when none is open yet. */
  next(): StreamMessage | undefined {
    // The message lent last is let go now: the plaintexts done with can be reused.
    while (this.#retired.length > 0) this.#buffers.give(this.#retired.pop()!);
    for (;;) {
      if (this.#remaining > 0) {
        const m = this.#frames!.next();
        if (m !== undefined) {
          this.#remaining--;
          return m;
        }
        this.#remaining = 0;
      }
      if (this.#slots[0]?.state !== "open") return undefined;
      this.#enterHead();
    }
  }

  /**
   * Resolves true once `next()` has a record; false at the end (not
   * following: of what the store holds now), when `timeoutMs` passes, or
   * when following is aborted.
   *
   * @throws {SealedDamageError} once, after every record before the damage was lent.
   * @throws {import("./sealed_errors.ts").SealedKeyError} once, for a run no identity opens.
   * @throws {import("./cipher_pool.ts").CipherWorkerError} once, when a cipher worker dies.
   */
  async wait(timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#closed || this.#options.signal?.aborted) return false;
      if (this.#remaining > 0) return true;
      const head = this.#slots[0];
      if (head?.state === "open") {
        this.#enterHead();
        continue;
      }
      if (head?.state === "failed") this.#throw(head.error!);
      if (head === undefined && this.#end !== undefined) {
        if (this.#end === "end") return false;
        this.#throw(this.#end);
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (this.#caughtUp) {
        // At the end of a followed store: look again a moment later.
        await this.#sleep(Math.min(POLL_MS, left));
        this.#caughtUp = false;
        continue;
      }
      this.#walk();
      await this.#sleep(left);
    }
  }

  /** Stops reading and closes the store (and the pool, unless one was given); a wait resolves false. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#slots.length = 0;
    this.#frames = undefined;
    this.#plaintext = undefined;
    this.#retired.length = 0;
    this.#remaining = 0;
    if (this.#ownPool) this.#pool.close();
    this.#source.close();
    this.#notify();
  }

  /** Same as {@linkcode SealedStream.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Lends each record, waiting for more until {@linkcode SealedStream.wait} tells the end. */
  [Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    return waitingIterator(this);
  }

  // Starts reading the records of the opened segment at the head, and
  // walks on to open another in its place. A segment whose frames do not
  // match its header ends the read there.
  #enterHead(): void {
    const slot = this.#slots.shift()!;
    if (this.#plaintext !== undefined) this.#retired.push(this.#plaintext);
    this.#plaintext = slot.plaintext;
    try {
      const frames = new FrameReader(slot.plaintext!, slot.header, {
        path: this.location,
        offset: slot.offset,
        seq: slot.seqBefore,
      });
      for (let i = 0; i < slot.skip; i++) frames.next();
      this.#frames = frames;
      this.#remaining = slot.header.dataFrames - slot.skip;
    } catch (error) {
      // Everything after it is dropped: the error comes next.
      this.#slots.length = 0;
      if (!this.#thrown) this.#end = error as Error;
    }
    this.#walk();
  }

  // Throws the error that ends the read, once: the read has ended after it.
  #throw(error: Error): never {
    this.#slots.length = 0;
    this.#end = "end";
    this.#thrown = true;
    throw error;
  }

  // Walks on while fewer than maxInFlight segments are opening or open;
  // one walk at a time, since opening a run header is asynchronous.
  #walk(): void {
    // Only a walk that can make progress starts: one that could not would
    // wake the waiters for nothing, and they would start it again.
    if (this.#walking !== undefined || this.#end !== undefined || this.#closed) return;
    if (this.#caughtUp || this.#slots.length >= this.#maxInFlight) return;
    this.#walking = this.#walkOn().finally(() => {
      this.#walking = undefined;
      this.#notify();
    });
  }

  async #walkOn(): Promise<void> {
    const walker = this.#walker;
    try {
      while (this.#slots.length < this.#maxInFlight && this.#end === undefined && !this.#closed) {
        const seqBefore = walker.state.lastSeq;
        const unit = walker.next();
        if (unit === undefined) {
          this.#atEnd();
          return;
        }
        if (unit.kind === "run") {
          this.#keys = await openRunHeader(unit.header, this.#options.identities, {
            path: this.location,
            offset: unit.offset,
            seq: seqBefore,
            identitySource: this.#options.identitySource,
          });
          continue;
        }
        const header = unit.header;
        const skip = Math.min(this.#skip, header.dataFrames);
        this.#skip -= skip;
        // A segment all of whose records are passed over is not opened; an
        // empty segment is (a final one ends its run), as it costs nothing.
        if (skip > 0 && skip === header.dataFrames) {
          this.#buffers.give(unit.unit);
          continue;
        }
        this.#open(unit, header, seqBefore, skip);
      }
    } catch (error) {
      // Damage, a run no identity opens, a lock that cannot be probed: the
      // read ends there, after the segments before it (unless it has ended
      // already, and its error was thrown).
      if (!this.#thrown) this.#end = error as Error;
    }
  }

  #atEnd(): void {
    if (this.#options.follow) {
      this.#caughtUp = true;
      return;
    }
    const damage = this.#walker.endDamage();
    this.#end = damage === undefined || this.#source.writerActive() ? "end" : damage;
  }

  #open(
    segment: Extract<WalkedUnit, { kind: "segment" }>,
    header: SegmentHeader,
    seqBefore: number,
    skip: number,
  ): void {
    const { offset, run } = segment;
    const slot: Slot = {
      header,
      offset,
      seqBefore,
      skip,
      state: "opening",
      plaintext: undefined,
      error: undefined,
    };
    this.#slots.push(slot);
    const keys = this.#keys!;
    const buffers = {
      into: this.#buffers.take(header.plaintextLength),
      recycle: this.#recycle,
      checksum: !segment.checked,
    };
    this.#pool.open(keys.payloadKey, keys.headerHash, segment.unit, buffers).then(
      (plaintext) => {
        if (plaintext === "checksum") {
          slot.state = "failed";
          slot.error = segment.checksumDamage();
        } else if (plaintext === undefined) {
          slot.state = "failed";
          slot.error = new SealedDamageError(
            this.location,
            offset,
            seqBefore,
            "authentication",
            `segment ${header.index} of run ${run} does not authenticate`,
          );
        } else {
          slot.state = "open";
          slot.plaintext = plaintext;
        }
        this.#notify();
      },
      (error) => {
        slot.state = "failed";
        slot.error = error;
        this.#notify();
      },
    );
  }

  // Waits until the first slot settles or the walk ends.
  async #settled(): Promise<void> {
    while (!this.#closed) {
      const head = this.#slots[0];
      if (head !== undefined ? head.state !== "opening" : this.#walking === undefined) return;
      await this.#progress.promise;
    }
  }

  async #sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const signal = this.#options.signal;
    const onAbort = () => this.#notify();
    signal?.addEventListener("abort", onAbort, { once: true });
    await Promise.race([
      this.#progress.promise,
      ms === Infinity ? new Promise(() => {}) : new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }

  #notify(): void {
    this.#progress.resolve();
    this.#progress = Promise.withResolvers<void>();
  }
}

// Records in the store as it is now, counted from segment headers; a walk
// stopped by damage counts those before it (the read delivers those, too).
function countRecords(source: SealedSource): number {
  const walker = new StoreWalker(source.units);
  let records = 0;
  try {
    for (let unit = walker.next(); unit !== undefined; unit = walker.next()) {
      if (unit.kind === "segment") records += unit.header.dataFrames;
    }
  } catch { /* the read reports it */ }
  return records;
}
