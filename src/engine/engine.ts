/**
 * The orchestration engine: source → writer → storage → reader → consumer,
 * with a bounded distance between the two ends, events in band, seek and
 * stop requests through the engine, and a clean stop of every stage.
 *
 * @module
 */

import type { EngineItem, EventItem } from "./engine_item.ts";
import {
  CancelledError,
  EngineClosedError,
  SeekUnsupportedError,
  SourceError,
} from "./engine_errors.ts";
import { memoryStorage } from "./memory_storage.ts";
import type { SeekTarget, Source } from "./source.ts";
import type { Storage } from "./storage.ts";
import { Wakeup } from "./wakeup.ts";

/** Options of {@linkcode Engine}. */
export interface EngineOptions {
  /** Where messages wait for the consumer. Default: {@linkcode memoryStorage}. */
  storage?: Storage;
  /**
   * Most items (data messages and events) stored and not yet handed to the
   * consumer; the source is not pulled while this many wait. Default 1024.
   */
  capacity?: number;
  /**
   * Most payload bytes stored and not yet handed to the consumer; the
   * source is not pulled while this many wait (one message may take it past
   * the limit). Default 16 MiB.
   */
  maxBytes?: number;
  /** Aborting it stops the engine; the consumer then gets a {@linkcode CancelledError}. */
  signal?: AbortSignal;
}

/** Counters of an engine, as {@linkcode Engine.stats} reports them. */
export interface EngineStats {
  /** Items stored and not yet handed to the consumer. */
  readonly buffered: number;
  /** Payload bytes of the data among them. */
  readonly bufferedBytes: number;
  /** The most items that were ever buffered at once; never above the capacity. */
  readonly highWater: number;
  /** The most payload bytes that were ever buffered at once. */
  readonly highWaterBytes: number;
  /** Items the source yielded. */
  readonly produced: number;
  /** Items handed to the consumer. */
  readonly delivered: number;
  /** Data messages dropped because a seek made them stale. */
  readonly dropped: number;
  /** Times the source was paused because the buffer was full. */
  readonly pauses: number;
}

const DEFAULT_CAPACITY = 1024;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

// An event or the terminal error, delivered once `at` data messages have
// been taken: that is what keeps events in order with the data around them.
interface Pending {
  at: number;
  event: EventItem | undefined;
  error: unknown;
}

/**
 * Runs a {@linkcode Source} into a {@linkcode Storage} and hands what was
 * stored to one consumer, which iterates the engine with `for await`.
 *
 * - **Bounded**: at most `capacity` items (and about `maxBytes` bytes) are
 *   stored and not yet consumed; the source is not pulled until the
 *   consumer has taken half of them, so a slow consumer slows the source.
 * - **In band**: events (`start`, `eof`, `seek`, and the source's own) come
 *   in order with the data.
 * - **Requests**: {@linkcode Engine.seek} and {@linkcode Engine.stop}.
 * - **Clean stop**: leaving the loop (`break`, an exception), `stop()` or the
 *   signal closes the source (killing its process), then the storage; no
 *   task or timer is left behind.
 * - **Typed errors**: a failing source ends the iteration with a
 *   {@linkcode SourceError} after every item before the failure; an abort
 *   with a {@linkcode CancelledError}; a storage error as itself.
 *
 * The source starts when the consumer first asks for an item.
 *
 * @example Consume a source through a bounded engine
 * ```ts
 * import assert from "node:assert/strict";
 * import { Engine, iterableSource } from "./mod.ts";
 * const messages = [1, 2, 3].map((seq) => ({
 *   seq,
 *   timestampNs: 0n,
 *   typeId: 0,
 *   payload: new Uint8Array([seq]),
 * }));
 * const engine = new Engine(iterableSource(messages, { name: "three" }), { capacity: 2 });
 * const seen: string[] = [];
 * for await (const item of engine) {
 *   seen.push(item.kind === "data" ? String(item.message.seq) : item.name);
 * }
 * assert.equal(seen.join(" "), "start 1 2 3 eof");
 * assert.ok(engine.stats.highWater <= 2);
 * ```
 */
export class Engine implements AsyncIterable<EngineItem>, AsyncDisposable {
  /** The source, as given. */
  readonly source: Source;
  /** The storage, as given or made. */
  readonly storage: Storage;
  readonly #capacity: number;
  readonly #maxBytes: number;
  readonly #resumeAt: number;
  readonly #resumeAtBytes: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.#cancel();
  readonly #space = new Wakeup();
  readonly #ready = new Wakeup();

  #started = false;
  #iterated = false;
  #closing: Promise<void> | undefined;
  #closeError: { error: unknown } | undefined;
  #stopRequested = false;
  #cancelled: CancelledError | undefined;
  #pump: Promise<void> | undefined;
  #iterator: AsyncIterator<EngineItem> | undefined;
  #sourceDone = false;
  #pulling = false;
  #ended = false;
  #failed = false;

  #pending: Pending[] = [];
  #appended = 0;
  #taken = 0;
  #bytes = 0;

  #seekChain: Promise<void> = Promise.resolve();
  #seeksAccepted = 0;
  #markersSeen = 0;
  #markersOwed = 0;

  #highWater = 0;
  #highWaterBytes = 0;
  #produced = 0;
  #delivered = 0;
  #dropped = 0;
  #pauses = 0;

  /**
   * Prepares an engine; nothing runs until the consumer asks for an item.
   * The engine owns the source and the storage: it closes both.
   *
   * @throws {RangeError} for a capacity or byte limit that is not a whole number of at least 1.
   */
  constructor(source: Source, options: EngineOptions = {}) {
    this.source = source;
    this.#capacity = whole("capacity", options.capacity ?? DEFAULT_CAPACITY);
    this.#maxBytes = whole("maxBytes", options.maxBytes ?? DEFAULT_MAX_BYTES);
    this.#resumeAt = Math.floor(this.#capacity / 2);
    this.#resumeAtBytes = Math.floor(this.#maxBytes / 2);
    this.storage = options.storage ?? memoryStorage();
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Counters, at the time of the call. */
  get stats(): EngineStats {
    return {
      buffered: this.#buffered(),
      bufferedBytes: this.#bytes,
      highWater: this.#highWater,
      highWaterBytes: this.#highWaterBytes,
      produced: this.#produced,
      delivered: this.#delivered,
      dropped: this.#dropped,
      pauses: this.#pauses,
    };
  }

  /**
   * Asks the source to continue from `target`. Data stored and not yet
   * consumed is dropped; the consumer then gets a `seek` event and the
   * messages from the new position. Seeks run one after another.
   *
   * @throws {SeekUnsupportedError} when the source cannot seek.
   * @throws {EngineClosedError} when the engine has closed.
   * @throws {RangeError} (or what the source throws) when the source cannot go there; what was stored is kept then.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Engine, iterableSource, SeekUnsupportedError } from "./mod.ts";
   * const engine = new Engine(iterableSource([], { name: "pipe" }));
   * await assert.rejects(engine.seek({ seq: 1 }), SeekUnsupportedError);
   * await engine.stop();
   * ```
   */
  async seek(target: SeekTarget): Promise<void> {
    if (this.#closing !== undefined) throw new EngineClosedError(this.source.name);
    if (this.source.seek === undefined) throw new SeekUnsupportedError(this.source.name);
    const previous = this.#seekChain;
    let done!: () => void;
    this.#seekChain = new Promise((resolve) => (done = resolve));
    try {
      await previous;
      if (this.#closing !== undefined) throw new EngineClosedError(this.source.name);
      // Owed before asking: data the source yields while it moves is stale.
      this.#markersOwed++;
      try {
        await this.source.seek(target);
      } catch (error) {
        this.#markersOwed--;
        throw error;
      }
      const ordinal = ++this.#seeksAccepted;
      // Unless the source's marker already came (and skipped it then), what
      // is stored is from the old position: the consumer must not get it.
      if (this.#markersSeen < ordinal) this.#skipStored();
      if (this.#ended && this.#sourceDone && !this.#failed && this.#closing === undefined) {
        // The source had reached its end; from the new position it has more.
        if (this.#pending.at(-1)?.event?.name === "eof") this.#pending.pop();
        this.#ended = false;
        this.#sourceDone = false;
        this.#pump = this.#run(this.#iterator);
      }
    } finally {
      done();
    }
  }

  /**
   * Stops the engine: the source is closed (its process killed), then the
   * storage; a consumer's iteration ends. Resolves when everything is
   * released. Leaving a `for await` loop does the same.
   *
   * @throws what closing the storage threw, if it did.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Engine, iterableSource } from "./mod.ts";
   * const engine = new Engine(iterableSource([]));
   * await engine.stop();
   * await assert.doesNotReject(engine.stop()); // does nothing more
   * ```
   */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#ready.wake();
    await this.#close();
    if (this.#closeError !== undefined) throw this.#closeError.error;
  }

  /** Same as {@linkcode Engine.stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * The consumer's iterator. An engine has one consumer and is iterated
   * once.
   *
   * @throws {EngineClosedError} when the engine has closed.
   * @throws {TypeError} when it is already being iterated.
   */
  [Symbol.asyncIterator](): AsyncIterator<EngineItem> {
    if (this.#closing !== undefined) throw new EngineClosedError(this.source.name);
    if (this.#iterated) {
      throw new TypeError(
        `Engine reading '${this.source.name}' is already being iterated: it has one consumer`,
      );
    }
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        await this.stop();
        return DONE;
      },
    };
  }

  async #next(): Promise<IteratorResult<EngineItem>> {
    if (!this.#started) this.#start();
    for (;;) {
      if (this.#cancelled !== undefined) {
        await this.#close();
        throw this.#cancelled;
      }
      if (this.#stopRequested || this.#closing !== undefined) {
        await this.#close();
        return DONE;
      }
      const pending = this.#pending[0];
      if (pending !== undefined && pending.at <= this.#taken) {
        this.#pending.shift();
        if (pending.event === undefined) {
          await this.#close();
          throw pending.error;
        }
        this.#delivered++;
        this.#tookOne();
        return { done: false, value: pending.event };
      }
      if (this.#taken < this.#appended) {
        let message;
        try {
          message = this.storage.reader.read();
        } catch (error) {
          await this.#close();
          throw error;
        }
        if (message === undefined) {
          // The storage lost them (retention deleted them unread).
          this.#taken = this.#appended;
          this.#bytes = 0;
          continue;
        }
        this.#taken++;
        this.#bytes -= message.payload.length;
        this.#delivered++;
        this.#tookOne();
        return { done: false, value: { kind: "data", message } };
      }
      if (this.#ended) {
        await this.#close();
        if (this.#closeError !== undefined) throw this.#closeError.error;
        return DONE;
      }
      await this.#ready.wait();
    }
  }

  #start(): void {
    this.#started = true;
    if (this.#signal?.aborted) {
      this.#cancel();
      return;
    }
    this.#pump = this.#run(undefined);
  }

  // The writer stage: pulls the source while there is room, stores data,
  // queues events, and turns the source's failure into the terminal error.
  async #run(resume: AsyncIterator<EngineItem> | undefined): Promise<void> {
    try {
      let iterator = resume;
      if (iterator === undefined) {
        iterator = this.source.start();
        this.#iterator = iterator;
        this.#queue({ kind: "event", name: "start", detail: { source: this.source.name } });
      }
      while (this.#closing === undefined) {
        if (this.#full()) {
          this.#pauses++;
          while (this.#closing === undefined && !this.#roomAgain()) await this.#space.wait();
          continue;
        }
        this.#pulling = true;
        const result = await iterator.next();
        this.#pulling = false;
        if (this.#closing !== undefined) return;
        if (result.done) {
          // A seek accepted while this pull was out: the source goes on from there.
          if (this.#seeksAccepted > this.#markersSeen) continue;
          this.#sourceDone = true;
          this.#queue({ kind: "event", name: "eof" });
          return;
        }
        this.#produced++;
        const item = result.value;
        if (item.kind === "event") {
          if (item.name === "seek" && this.#markersOwed > 0) {
            this.#markersOwed--;
            this.#markersSeen++;
            this.#skipStored();
          }
          this.#queue(item);
          continue;
        }
        if (this.#markersOwed > 0) {
          this.#dropped++;
          continue;
        }
        const message = item.message;
        try {
          const writing = this.storage.writer.write(message);
          if (writing !== undefined) await writing;
        } catch (error) {
          this.#fail(error);
          return;
        }
        if (this.#closing !== undefined) return;
        this.#appended++;
        this.#bytes += message.payload.length;
        this.#grew();
        this.#ready.wake();
      }
    } catch (error) {
      this.#pulling = false;
      this.#sourceDone = true;
      this.#fail(new SourceError(this.source.name, error));
    } finally {
      this.#ended = true;
      this.#ready.wake();
    }
  }

  #queue(event: EventItem): void {
    this.#pending.push({ at: this.#appended, event, error: undefined });
    this.#grew();
    this.#ready.wake();
  }

  #fail(error: unknown): void {
    if (this.#closing !== undefined) return;
    this.#failed = true;
    this.#pending.push({ at: this.#appended, event: undefined, error });
    this.#ready.wake();
  }

  #buffered(): number {
    return this.#appended - this.#taken + this.#pending.length;
  }

  #full(): boolean {
    return this.#buffered() >= this.#capacity || this.#bytes >= this.#maxBytes;
  }

  #roomAgain(): boolean {
    return this.#buffered() <= this.#resumeAt && this.#bytes <= this.#resumeAtBytes;
  }

  #grew(): void {
    const buffered = this.#buffered();
    if (buffered > this.#highWater) this.#highWater = buffered;
    if (this.#bytes > this.#highWaterBytes) this.#highWaterBytes = this.#bytes;
  }

  #tookOne(): void {
    if (this.#roomAgain()) this.#space.wake();
  }

  #skipStored(): void {
    while (this.#taken < this.#appended) {
      const message = this.storage.reader.read();
      if (message === undefined) break;
      this.#taken++;
      this.#dropped++;
    }
    this.#taken = this.#appended;
    this.#bytes = 0;
    this.#tookOne();
  }

  #cancel(): void {
    if (this.#closing !== undefined) return;
    this.#cancelled = new CancelledError(this.source.name, this.#signal?.reason);
    this.#ready.wake();
    // Released now, not when the consumer next looks: it may never look.
    this.#close().catch(() => {});
  }

  #close(): Promise<void> {
    return this.#closing ??= this.#shutDown();
  }

  async #shutDown(): Promise<void> {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#space.wake();
    this.#ready.wake();
    // Every stage is closed even when one fails; the first failure is
    // reported by stop() and by the end of the iteration.
    const attempt = async (step: () => unknown) => {
      try {
        await step();
      } catch (error) {
        this.#closeError ??= { error };
      }
    };
    await attempt(() => this.source.close());
    const iterator = this.#iterator;
    const finish = async () => {
      if (iterator?.return !== undefined && !this.#sourceDone) await iterator.return();
    };
    if (this.#pulling) {
      // A pull still out (one the source's close did not settle) must not
      // hold up the close: the writer stage ends on its own once it
      // settles, and the iterator is told to finish then.
      this.#pump?.then(finish).catch(() => {});
    } else {
      await this.#pump;
      await attempt(finish);
    }
    this.#pending = [];
    await attempt(() => this.storage.reader.close());
    await attempt(() => this.storage.writer.close());
    this.#ended = true;
  }
}

function whole(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Option '${name}' must be a whole number of at least 1, not '${value}'`);
  }
  return value;
}
