/**
 * The producing end of an engine: anything that yields messages and events
 * asynchronously, one at a time, when pulled.
 *
 * @module
 */

import type { EngineItem } from "./engine_item.ts";

/**
 * Where a seekable source is asked to go: a message by seq, or the first
 * message stamped at or after a time (nanoseconds since the epoch).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SeekTarget } from "./source.ts";
 * const targets: SeekTarget[] = [{ seq: 100 }, { timestampNs: 1_700_000_000_000_000_000n }];
 * assert.equal(targets.length, 2);
 * ```
 */
export type SeekTarget = { seq: number } | { timestampNs: bigint | number };

/**
 * A producer of data messages and events.
 *
 * The engine pulls one item at a time and pulls nothing while its buffer is
 * full, so a source that does its work when pulled (reads its pipe, its
 * file, its queue) is slowed down by a slow consumer and holds at most what
 * one pull needs. A data item's message need only stay valid until the next
 * pull: the engine stores (copies) it first.
 *
 * @example A source of three numbered messages
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EngineItem, Source } from "./mod.ts";
 * function counter(n: number): Source {
 *   let seq = 0;
 *   return {
 *     name: "counter",
 *     start: () => ({
 *       next: (): Promise<IteratorResult<EngineItem>> =>
 *         Promise.resolve(
 *           ++seq > n ? { done: true, value: undefined } : {
 *             done: false,
 *             value: {
 *               kind: "data",
 *               message: { seq, timestampNs: 0n, typeId: 0, payload: new Uint8Array([seq]) },
 *             },
 *           },
 *         ),
 *     }),
 *     close: () => {},
 *   };
 * }
 * assert.equal(counter(3).name, "counter");
 * ```
 */
export interface Source {
  /** Names the source in events and error messages. */
  readonly name: string;
  /**
   * Starts producing. Called at most once, when the consumer first asks for
   * an item. Throwing here fails the engine with a `SourceError`, as does
   * the iterator throwing.
   */
  start(): AsyncIterator<EngineItem>;
  /**
   * Present only on a source that can seek. Checks `target` and throws
   * (`RangeError`, `TypeError`) when the source cannot go there, before
   * anything changes; otherwise the source yields an event named `seek`
   * (detail: the target), then items from the new position. A source yields
   * `seek` events only in answer to this call. A seek after the iterator
   * ended (returned `done`) makes it produce again: the engine pulls it on.
   */
  seek?(target: SeekTarget): void | Promise<void>;
  /**
   * Stops producing and frees what the source holds (kills its process,
   * cancels its stream). A pull in progress settles soon after. Called once
   * when the engine closes, whether the source was started or not.
   */
  close(): void | Promise<void>;
}
