/**
 * A source over any iterable of messages (or of engine items).
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";
import type { EngineItem } from "./engine_item.ts";
import type { Source } from "./source.ts";

/** What an iterable source may yield: messages, or items (events among them). */
export type SourceInput = StreamMessage | EngineItem;

/** Options of {@linkcode iterableSource}. */
export interface IterableSourceOptions {
  /** Names the source in events and errors. Default `iterable`. */
  name?: string;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function isItem(input: SourceInput): input is EngineItem {
  const kind = (input as { kind?: unknown }).kind;
  return kind === "data" || kind === "event";
}

/**
 * Each value of `iterable` (sync or async) as a data message; a value that
 * is already an engine item (`{ kind: "data" | "event", … }`) passes as it
 * is. An async generator is a natural pull-driven source: it runs only when
 * the engine pulls. An exception from the iterable fails the engine with a
 * `SourceError`. Closing the source finishes the iterator (its `finally`
 * blocks run). Cannot seek.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Engine, iterableSource } from "./mod.ts";
 * async function* ticks() {
 *   for (let seq = 1; seq <= 2; seq++) {
 *     yield { seq, timestampNs: 0n, typeId: 0, payload: new Uint8Array([seq]) };
 *   }
 *   yield { kind: "event" as const, name: "tick-done" };
 * }
 * const names: string[] = [];
 * for await (const item of new Engine(iterableSource(ticks()))) {
 *   names.push(item.kind === "data" ? "data" : item.name);
 * }
 * assert.equal(names.join(" "), "start data data tick-done eof");
 * ```
 */
export function iterableSource(
  iterable: AsyncIterable<SourceInput> | Iterable<SourceInput>,
  options: IterableSourceOptions = {},
): Source {
  let inner: AsyncIterator<SourceInput> | Iterator<SourceInput> | undefined;
  let pulling = false;
  let finished = false;
  let closed = false;

  const finish = async () => {
    if (finished || inner === undefined) return;
    finished = true;
    await inner.return?.();
  };

  return {
    name: options.name ?? "iterable",
    start() {
      inner = Symbol.asyncIterator in iterable
        ? iterable[Symbol.asyncIterator]()
        : iterable[Symbol.iterator]();
      const source = inner;
      return {
        async next(): Promise<IteratorResult<EngineItem>> {
          if (closed || finished) return DONE;
          pulling = true;
          let result: IteratorResult<SourceInput>;
          try {
            result = await source.next();
          } catch (error) {
            finished = true;
            throw error;
          } finally {
            pulling = false;
          }
          if (result.done) {
            finished = true;
            return DONE;
          }
          const value = result.value;
          return { done: false, value: isItem(value) ? value : { kind: "data", message: value } };
        },
        async return(): Promise<IteratorResult<EngineItem>> {
          await finish();
          return DONE;
        },
      };
    },
    async close() {
      closed = true;
      // A pull in progress cannot be interrupted; the engine finishes the
      // iterator once it settles.
      if (!pulling) await finish();
    },
  };
}
