/**
 * Fan-in: several streams read as one, in timestamp order.
 *
 * @module
 */

import { copyMessage, type StreamMessage } from "./stream_message.ts";
import type { StreamKind, StreamReader } from "./stream_reader.ts";
import { waitingIterator } from "./_wait_iterator.ts";

/** Options of {@linkcode MergedStream}. */
export interface MergeOptions {
  /**
   * Copy each message (an owned merge): what `next()` returns stays valid
   * for good. Default false: the message is the source's own, zero-copy,
   * valid until the merged reader's next call.
   */
  owned?: boolean;
  /**
   * Live sources (followed queues and tapes): `wait` waits for every source
   * to have a message ready, since a source with nothing now may still get
   * an earlier one. Default false: a source with nothing more has ended and
   * the rest merge on (replaying what is there).
   */
  live?: boolean;
}

/**
 * Merges sources by timestamp. Ties go to the source listed first, and
 * within one source its own order is kept, so the result is the same on
 * every run. Each source is expected in timestamp order; one that is not
 * is still merged deterministically, its messages never reordered.
 *
 * Zero-copy by default: a source lends its message until its own next
 * call, and the merge calls a source again only after the message it lent
 * was handed on and the caller came back for more.
 *
 * A merge neither commits, nor takes a wait strategy, nor waits on the
 * calling thread: its sources do, each as it can (see
 * {@linkcode isCommittable}, {@linkcode isWaitConfigurable} and
 * {@linkcode isSyncWaitable} over {@linkcode MergedStream.sources}). A
 * source's position covers the messages it handed to the merge, which may
 * be one more than the merge handed out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MergedStream } from "./merged_stream.ts";
 * import type { StreamMessage } from "./stream_message.ts";
 * import type { StreamReader } from "./stream_reader.ts";
 * function listed(...ts: number[]): StreamReader {
 *   const items: StreamMessage[] = ts.map((t, i) => ({ seq: i + 1, timestampNs: BigInt(t), typeId: 0, payload: new Uint8Array(1) }));
 *   return {
 *     location: "list", kind: "queue", next: () => items.shift(), wait: () => Promise.resolve(items.length > 0),
 *     close() {}, [Symbol.dispose]() {},
 *     async *[Symbol.asyncIterator]() { yield* items; },
 *   };
 * }
 * const merged = new MergedStream([listed(1, 5), listed(2, 5)]);
 * const order: string[] = [];
 * for await (const m of merged) order.push(`${m.timestampNs}`);
 * assert.equal(order.join(" "), "1 2 5 5");
 * ```
 */
export class MergedStream implements StreamReader {
  /** The sources' locations, joined with `+`. */
  readonly location: string;
  /** The kind of the first source. */
  readonly kind: StreamKind;
  /** The sources, in tie-breaking order. */
  readonly sources: readonly StreamReader[];
  readonly #heads: (StreamMessage | undefined)[];
  // Each head's timestamp, read once when it arrives: for a queue view the
  // getter makes a new bigint on every read.
  readonly #headTs: bigint[];
  readonly #done: boolean[];
  readonly #owned: boolean;
  readonly #live: boolean;

  /** Merges `sources`; they are closed when the merge is. */
  constructor(sources: readonly StreamReader[], options: MergeOptions = {}) {
    if (sources.length === 0) throw new TypeError("A merge needs at least one source");
    this.sources = sources;
    this.location = sources.map((s) => s.location).join("+");
    this.kind = sources[0]!.kind;
    this.#heads = sources.map(() => undefined);
    this.#headTs = sources.map(() => 0n);
    this.#done = sources.map(() => false);
    this.#owned = options.owned ?? false;
    this.#live = options.live ?? false;
  }

  /**
   * The earliest message, or undefined while some source that has not
   * ended has none ready: then {@linkcode MergedStream.wait}.
   */
  next(): StreamMessage | undefined {
    const heads = this.#heads;
    const headTs = this.#headTs;
    let best = -1;
    let bestTs = 0n;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i] === undefined) {
        if (this.#done[i]) continue;
        // Its next message may be the earliest: nothing goes out until
        // `wait` has it, or has found the source ended.
        if (!this.#fetch(i)) return undefined;
      }
      const ts = headTs[i]!;
      if (best === -1 || ts < bestTs) {
        best = i;
        bestTs = ts;
      }
    }
    if (best === -1) return undefined;
    const m = heads[best]!;
    // The source is asked for its next message only on the following call:
    // until then `m` stays valid.
    heads[best] = undefined;
    return this.#owned ? copyMessage(m) : m;
  }

  /**
   * Waits until `next()` can hand out a message. Not live: each source is
   * read to its end (the timeout does not apply; sources that are not
   * followed answer at once), and the result is false once every source
   * has ended. Live: waits, up to `timeoutMs`, for every source to have a
   * message ready; a source whose wait returns false early has ended.
   */
  async wait(timeoutMs = Infinity): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    const heads = this.#heads;
    for (let i = 0; i < this.sources.length; i++) {
      if (heads[i] !== undefined || this.#done[i]) continue;
      const source = this.sources[i]!;
      if (this.#fetch(i)) continue;
      if (!this.#live) {
        if (await source.wait()) this.#fetch(i);
        else this.#done[i] = true;
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (await source.wait(left)) this.#fetch(i);
      else if (performance.now() < deadline) this.#done[i] = true;
      else return false;
    }
    return this.#live
      ? heads.some((h) => h !== undefined) &&
        heads.every((h, i) => h !== undefined || this.#done[i])
      : heads.some((h) => h !== undefined);
  }

  // Takes source i's next message as its head; false when it has none ready.
  #fetch(i: number): boolean {
    const head = this.sources[i]!.next();
    if (head === undefined) return false;
    this.#heads[i] = head;
    this.#headTs[i] = head.timestampNs;
    return true;
  }

  /** Closes every source. */
  close(): void {
    for (const source of this.sources) source.close();
  }

  /** Same as {@linkcode MergedStream.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Hands out each message, waiting for more until {@linkcode wait} tells the end. */
  [Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    return waitingIterator(this);
  }
}
