/**
 * How a tape's frames read as stream messages: the same mapping for every
 * tool, so a tape imported into a queue reads back as the tape did.
 *
 * - `seq`: the frame's seq;
 * - `timestampNs`: the tape's `created_at` plus the frame's `ts`
 *   (milliseconds since then), in nanoseconds since the epoch;
 * - `typeId`: {@linkcode TAPE_TYPE_C2S} for client to server,
 *   {@linkcode TAPE_TYPE_S2C} for server to client;
 * - `payload`: the message line as it crossed the wire, UTF-8: the
 *   envelope's exact JSON text, or the raw line of a `text` frame.
 *
 * @module
 */

import { type Direction, type RawFrame, rawMessage } from "../tape/mod.ts";
import type { StreamMessage } from "./stream_message.ts";

/** Type id of a client-to-server frame. */
export const TAPE_TYPE_C2S = 1;
/** Type id of a server-to-client frame. */
export const TAPE_TYPE_S2C = 2;

const encoder = new TextEncoder();

/**
 * Nanoseconds since the epoch of a tape's `created_at` (an ISO 8601 time).
 *
 * @throws {SyntaxError} when it is not a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tapeEpochNs } from "./tape_message.ts";
 * assert.equal(tapeEpochNs("1970-01-01T00:00:01.000Z"), 1000000000n);
 * ```
 */
export function tapeEpochNs(createdAt: string): bigint {
  const ms = Date.parse(createdAt);
  if (!Number.isFinite(ms)) {
    throw new SyntaxError(`Tape creation time '${createdAt}' is not a time`);
  }
  return BigInt(ms) * 1_000_000n;
}

/**
 * The type id of a frame direction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directionTypeId } from "./tape_message.ts";
 * assert.equal(directionTypeId("s2c"), 2);
 * ```
 */
export function directionTypeId(dir: Direction): number {
  return dir === "c2s" ? TAPE_TYPE_C2S : TAPE_TYPE_S2C;
}

/**
 * A frame of a tape created at `epochNs` as a stream message (owned).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameToMessage } from "./tape_message.ts";
 * const m = frameToMessage({
 *   frame: { type: "frame", seq: 3, ts: 1.5, dir: "c2s", env: { id: 1 } },
 *   envText: '{"id":1}',
 * }, 0n);
 * assert.equal(m.seq, 3);
 * assert.equal(m.timestampNs, 1500000n);
 * assert.equal(m.typeId, 1);
 * assert.equal(new TextDecoder().decode(m.payload), '{"id":1}');
 * ```
 */
export function frameToMessage(raw: RawFrame, epochNs: bigint): StreamMessage {
  const { frame } = raw;
  return {
    seq: frame.seq,
    timestampNs: epochNs + BigInt(Math.round(frame.ts * 1_000_000)),
    typeId: directionTypeId(frame.dir),
    payload: encoder.encode(rawMessage(frame, raw.envText)),
  };
}
