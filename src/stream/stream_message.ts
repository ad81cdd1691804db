/**
 * A message of any stream, whether it lives in a tape or a chronicle queue.
 *
 * @module
 */

/**
 * One message as a {@linkcode StreamReader} hands it out. A reader may
 * reuse the object and its payload (a view of mapped memory, for a queue):
 * it is valid until the reader's next call. Keep one with
 * {@linkcode copyMessage}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StreamMessage } from "./stream_message.ts";
 * const m: StreamMessage = { seq: 1, timestampNs: 5n, typeId: 7, payload: new Uint8Array([1]) };
 * assert.equal(m.seq, 1);
 * assert.equal(m.typeId, 7);
 * ```
 */
export interface StreamMessage {
  /** Position in its stream, 1 for a stream's first message unless it continues another. */
  readonly seq: number;
  /** Wall-clock nanoseconds since the Unix epoch. */
  readonly timestampNs: bigint;
  /** Application-defined type, 0 to 65535. */
  readonly typeId: number;
  /** The message bytes. */
  readonly payload: Uint8Array;
  /**
   * Zero-copy access, where the source has it (queue messages do): the
   * region holding the payload, and where in it the payload starts. A
   * decoder reads fields here without making a payload view per message.
   */
  readonly data?: DataView;
  /** Where the payload starts in `data`; present exactly when `data` is. */
  readonly payloadOffset?: number;
  /** The payload's length; present where `data` is. */
  readonly payloadLength?: number;
}

/**
 * An owned copy of a message: plain fields and a payload of its own, valid
 * for as long as it is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyMessage } from "./stream_message.ts";
 * const bytes = new Uint8Array([1, 2]);
 * const kept = copyMessage({ seq: 1, timestampNs: 0n, typeId: 0, payload: bytes });
 * bytes[0] = 9;
 * assert.equal(kept.payload[0], 1);
 * ```
 */
export function copyMessage(m: StreamMessage): StreamMessage {
  return { seq: m.seq, timestampNs: m.timestampNs, typeId: m.typeId, payload: m.payload.slice() };
}
