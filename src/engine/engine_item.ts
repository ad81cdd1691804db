/**
 * What flows through an engine, from the source to the consumer: data
 * messages and in-band events, in one ordered stream.
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";

/**
 * One data message. A source lends it to the engine until its next pull; the
 * consumer gets it from storage, lent until its next iteration (a queue
 * reader's view, for queue storage): keep one with `copyMessage`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DataItem } from "./engine_item.ts";
 * const item: DataItem = {
 *   kind: "data",
 *   message: { seq: 1, timestampNs: 0n, typeId: 0, payload: new Uint8Array([1]) },
 * };
 * assert.equal(item.message.seq, 1);
 * ```
 */
export interface DataItem {
  /** Tells a data item from an event. */
  readonly kind: "data";
  /** The message. */
  readonly message: StreamMessage;
}

/**
 * A control event, delivered in order with the data around it. The engine
 * sends `start` (detail `{ source }`) first and `eof` when the source ends;
 * a source after a seek sends `seek` (detail: the target). The ready sources
 * add their own: `spawn` (`{ pid }`), `stderr` (the line, as text), `exit`
 * (`{ code, signal }`) for a child process; `oversize` (`{ bytes }`) for a
 * line too long to keep; `gap` (`{ lost }`) for queue records that retention
 * deleted before they were read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventItem } from "./engine_item.ts";
 * const item: EventItem = { kind: "event", name: "exit", detail: { code: 0, signal: null } };
 * assert.equal(item.name, "exit");
 * ```
 */
export interface EventItem {
  /** Tells an event from a data item. */
  readonly kind: "event";
  /** What happened. */
  readonly name: string;
  /** Event-specific data. */
  readonly detail?: unknown;
}

/**
 * An item of an engine's stream: a data message or an event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EngineItem } from "./engine_item.ts";
 * function describe(item: EngineItem): string {
 *   return item.kind === "data" ? `data ${item.message.seq}` : `event ${item.name}`;
 * }
 * assert.equal(describe({ kind: "event", name: "eof" }), "event eof");
 * ```
 */
export type EngineItem = DataItem | EventItem;
