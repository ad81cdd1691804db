/**
 * A chronicle queue read through the stream API: a thin wrapper, so the
 * messages are the queue reader's own zero-copy views.
 *
 * @module
 */

import { QueueReader, type StartPosition, type WaitStrategy } from "../chronicle/mod.ts";
import type { StreamMessage } from "./stream_message.ts";
import type { StreamKind, StreamReader, SyncWaitable, WaitConfigurable } from "./stream_reader.ts";

/** Options of {@linkcode QueueStream.open}. */
export interface QueueStreamOptions {
  /** A named reader keeps its committed position in the queue. */
  name?: string;
  /** Whether a named reader holds back retention. Default true. */
  holding?: boolean;
  /** Where to start. Default `committed` for a named reader, `earliest` otherwise. */
  start?: StartPosition;
  /** Start this many messages before the end (like `tail -n`); overrides `start`. */
  last?: number;
  /** Whether `for await` waits for more at the end instead of ending. */
  follow?: boolean;
  /** Ends a following iteration. */
  signal?: AbortSignal;
  /** How `wait` waits. Default `futex` when following, else `backoff`. */
  waitStrategy?: WaitStrategy;
}

// wait() wakes at least this often while following, to notice an abort.
const FOLLOW_SLICE_MS = 200;

/**
 * A {@linkcode StreamReader} over a chronicle queue. It is
 * {@linkcode WaitConfigurable} and {@linkcode SyncWaitable}, and, when
 * opened with a `name`, {@linkcode Committable} (test with
 * {@linkcode isCommittable}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { QueueStream } from "./queue_stream.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * for (const text of ["a", "b", "c"]) w.append(1, new TextEncoder().encode(text));
 * const stream = await QueueStream.open(dir, { last: 2 });
 * const seqs: number[] = [];
 * for await (const m of stream) seqs.push(m.seq);
 * assert.deepEqual(seqs, [2, 3]);
 * stream.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class QueueStream implements StreamReader, WaitConfigurable, SyncWaitable {
  /** The queue directory. */
  readonly location: string;
  /** Always `queue`. */
  readonly kind: StreamKind = "queue";
  /** The reader's name when it keeps a committed position; undefined for an anonymous reader. */
  readonly name: string | undefined;
  readonly #reader: QueueReader;
  readonly #follow: boolean;
  readonly #signal: AbortSignal | undefined;

  private constructor(location: string, reader: QueueReader, options: QueueStreamOptions) {
    this.location = location;
    this.name = reader.name;
    this.#reader = reader;
    this.#follow = options.follow ?? false;
    this.#signal = options.signal;
  }

  /**
   * Opens a reader on the queue in `dir`.
   *
   * @throws {QueueFormatError} when `dir` is not a queue.
   * @throws {RangeError} for a start seq that is not in the queue.
   */
  static async open(dir: string, options: QueueStreamOptions = {}): Promise<QueueStream> {
    const waitStrategy = options.waitStrategy ?? (options.follow ? "futex" : "backoff");
    const base = {
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.holding === undefined ? {} : { holding: options.holding }),
      waitStrategy,
    };
    let reader: QueueReader;
    if (options.last === undefined) {
      reader = await QueueReader.open(dir, {
        ...base,
        ...(options.start === undefined ? {} : { start: options.start }),
      });
    } else {
      reader = await QueueReader.open(dir, { ...base, start: "latest" });
      const from = reader.nextSeq - options.last;
      try {
        reader.seek({ seq: Math.max(1, from) });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        // Fewer than `last` messages are left: all of them.
        reader.close();
        reader = await QueueReader.open(dir, { ...base, start: "earliest" });
      }
    }
    return new QueueStream(dir, reader, options);
  }

  /** The next message (a view valid until the next call), or undefined. */
  next(): StreamMessage | undefined {
    return this.#reader.next();
  }

  /**
   * Following: waits for a message, false when the time ran out (a queue
   * never ends). Not following: the end of what is there is the end, so it
   * answers at once whether a message is there.
   */
  wait(timeoutMs = Infinity): Promise<boolean> {
    if (!this.#follow) return Promise.resolve(this.#reader.hasNext());
    return this.#reader.wait(timeoutMs);
  }

  /**
   * {@linkcode QueueStream.wait} on the calling thread: following, blocks
   * it in the queue's futex (`QueueReader.waitSync`), which wakes within
   * microseconds of an append; not following, answers at once.
   */
  waitSync(timeoutMs = Infinity): boolean {
    if (!this.#follow) return this.#reader.hasNext();
    return this.#reader.waitSync(timeoutMs);
  }

  /**
   * Persists a named reader's position: every message handed out so far
   * counts as consumed.
   *
   * @throws {TypeError} for an anonymous reader, which has nowhere to keep it.
   */
  commit(): void {
    this.#reader.commit();
  }

  /** How {@linkcode QueueStream.wait} waits. */
  get waitStrategy(): WaitStrategy {
    return this.#reader.waitStrategy;
  }

  /**
   * Changes how {@linkcode QueueStream.wait} waits.
   *
   * @throws {TypeError} for a strategy that does not exist.
   */
  setWaitStrategy(strategy: WaitStrategy): void {
    this.#reader.setWaitStrategy(strategy);
  }

  /** Unmaps the queue. */
  close(): void {
    this.#reader.close();
  }

  /** Same as {@linkcode QueueStream.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Lends each message; at the end, waits when following, else ends.
   * Written out rather than as an async generator: a message that is there
   * costs one resolved promise, not a generator resumption.
   */
  [Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    const reader = this.#reader;
    const follow = this.#follow;
    const signal = this.#signal;
    const done: IteratorResult<StreamMessage> = { done: true, value: undefined };
    const waitForMore = async (): Promise<IteratorResult<StreamMessage>> => {
      for (;;) {
        if (!follow || signal?.aborted) return done;
        await reader.wait(FOLLOW_SLICE_MS);
        if (signal?.aborted) return done;
        const m = reader.next();
        if (m !== undefined) return { done: false, value: m };
      }
    };
    return {
      next(): Promise<IteratorResult<StreamMessage>> {
        const m = reader.next();
        return m !== undefined ? Promise.resolve({ done: false, value: m }) : waitForMore();
      },
      return(): Promise<IteratorResult<StreamMessage>> {
        return Promise.resolve(done);
      },
    };
  }
}
