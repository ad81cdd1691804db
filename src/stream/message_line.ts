/**
 * The human form of a stream message: one line per message, for `tail`
 * and `replay` on a terminal.
 *
 * @module
 */

import { payloadText } from "./json_record.ts";
import type { StreamMessage } from "./stream_message.ts";

/**
 * A UTC time with nanoseconds, e.g. `2026-11-22T03:00:00.010500000Z`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isoTimeNs } from "./message_line.ts";
 * assert.equal(isoTimeNs(1_500_000_123n), "1970-01-01T00:00:01.500000123Z");
 * ```
 */
export function isoTimeNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // …:SS.mmmZ
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0");
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

/**
 * One line for a message: time, seq, type, size and the payload as text
 * (control characters escaped) when it is UTF-8, else `base64:…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageLine } from "./message_line.ts";
 * const m = { seq: 7, timestampNs: 0n, typeId: 2, payload: new TextEncoder().encode("hi\n") };
 * assert.equal(messageLine(m), "1970-01-01T00:00:00.000000000Z #7 type 2 3 B hi\\n");
 * ```
 */
export function messageLine(m: StreamMessage): string {
  const { encoding, text: raw } = payloadText(m.payload);
  // JSON string escapes, without the quotes: one line whatever the payload holds.
  const text = encoding === "utf8"
    ? JSON.stringify(raw).slice(1, -1).replaceAll('\\"', '"')
    : `base64:${raw}`;
  return `${isoTimeNs(m.timestampNs)} #${m.seq} type ${m.typeId} ${m.payload.length} B ${text}`;
}
