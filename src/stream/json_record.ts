/**
 * The JSON line form of a stream message: what `tail --json` and
 * `replay --json` print and `import --format jsonl` reads.
 *
 * ```json
 * {"seq":1,"timestamp_ns":1700000000000000000,"type_id":7,"encoding":"utf8","payload":"hello"}
 * ```
 *
 * `timestamp_ns` is written as an exact integer (it is past 2^53: parse it
 * as a big integer or as text). `encoding` is `utf8` when the payload is
 * valid UTF-8, and the payload is then that text; otherwise `base64`.
 *
 * @module
 */

import { memberValueText } from "../json/mod.ts";
import type { StreamMessage } from "./stream_message.ts";

// A payload's leading byte order mark is part of the payload: without
// `ignoreBOM` the decoder drops it and the text is three bytes short.
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * A message as one line of JSON, with no newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRecordLine } from "./json_record.ts";
 * const line = jsonRecordLine({ seq: 1, timestampNs: 5n, typeId: 7, payload: new TextEncoder().encode("hi") });
 * assert.equal(line, '{"seq":1,"timestamp_ns":5,"type_id":7,"encoding":"utf8","payload":"hi"}');
 * ```
 */
export function jsonRecordLine(m: StreamMessage): string {
  const { encoding, text } = payloadText(m.payload);
  return `{"seq":${m.seq},"timestamp_ns":${m.timestampNs},"type_id":${m.typeId},"encoding":"${encoding}","payload":${
    JSON.stringify(text)
  }}`;
}

/**
 * A payload as text: itself when it is valid UTF-8, otherwise base64. The
 * text encodes back to exactly the payload's bytes, a leading byte order
 * mark included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { payloadText } from "./json_record.ts";
 * assert.equal(payloadText(new Uint8Array([0xff])).encoding, "base64");
 * assert.deepEqual(payloadText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), {
 *   encoding: "utf8",
 *   text: "\uFEFFA",
 * });
 * ```
 */
export function payloadText(payload: Uint8Array): { encoding: "utf8" | "base64"; text: string } {
  try {
    return { encoding: "utf8", text: strict.decode(payload) };
  } catch {
    return { encoding: "base64", text: toBase64(payload) };
  }
}

/** What a JSON record line holds; fields it leaves out are undefined. */
export interface JsonRecord {
  /** The `seq` member, if present. */
  seq: number | undefined;
  /** The `timestamp_ns` member, exact, if present. */
  timestampNs: bigint | undefined;
  /** The `type_id` member; 0 when absent. */
  typeId: number;
  /** The payload bytes. */
  payload: Uint8Array;
}

/**
 * Reads one JSON record line. `payload` may be any JSON value besides a
 * string: it is then stored as its JSON text. `timestamp_ns` may be an
 * integer or a string of digits; `encoding` defaults to `utf8`.
 *
 * @throws {SyntaxError} naming what is wrong, for a line that is not such a record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonRecord } from "./json_record.ts";
 * const r = parseJsonRecord('{"timestamp_ns":1700000000000000001,"type_id":2,"payload":{"a":1}}');
 * assert.equal(r.timestampNs, 1700000000000000001n);
 * assert.equal(r.typeId, 2);
 * assert.equal(new TextDecoder().decode(r.payload), '{"a":1}');
 * ```
 */
export function parseJsonRecord(line: string): JsonRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new SyntaxError(`Not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError("Not a JSON object");
  }
  const o = value as Record<string, unknown>;
  if (!("payload" in o)) throw new SyntaxError("No 'payload' member");
  let seq: number | undefined;
  if (o.seq !== undefined) {
    if (typeof o.seq !== "number" || !Number.isSafeInteger(o.seq) || o.seq < 1) {
      throw new SyntaxError(
        `'seq' must be a whole number of at least 1, not '${
          memberValueText(line, "seq") ?? JSON.stringify(o.seq)
        }'`,
      );
    }
    seq = o.seq;
  }
  let timestampNs: bigint | undefined;
  const ts = o.timestamp_ns;
  if (ts !== undefined) {
    // A number past 2^53 was rounded by JSON.parse: its exact digits are in the line.
    const text = typeof ts !== "number"
      ? ts
      : Number.isSafeInteger(ts)
      ? String(ts)
      : memberValueText(line, "timestamp_ns") ?? String(ts);
    if (typeof text !== "string" || !/^[0-9]{1,20}$/.test(text) || BigInt(text) >= 1n << 64n) {
      throw new SyntaxError(
        `'timestamp_ns' must be a whole number of nanoseconds, not '${
          memberValueText(line, "timestamp_ns") ?? JSON.stringify(ts)
        }'`,
      );
    }
    timestampNs = BigInt(text);
  }
  const typeId = o.type_id ?? 0;
  if (typeof typeId !== "number" || (typeId & 0xffff) !== typeId) {
    throw new SyntaxError(
      `'type_id' must be a whole number from 0 to 65535, not '${
        memberValueText(line, "type_id") ?? JSON.stringify(typeId)
      }'`,
    );
  }
  const encoding = o.encoding ?? "utf8";
  let payload: Uint8Array;
  if (encoding === "base64") {
    if (typeof o.payload !== "string") throw new SyntaxError("A 'base64' payload must be a string");
    try {
      payload = fromBase64(o.payload);
    } catch {
      throw new SyntaxError("'payload' is not valid base64");
    }
  } else if (encoding === "utf8") {
    payload = encoder.encode(typeof o.payload === "string" ? o.payload : JSON.stringify(o.payload));
  } else {
    throw new SyntaxError(
      `'encoding' must be 'utf8' or 'base64', not '${JSON.stringify(encoding)}'`,
    );
  }
  return { seq, timestampNs, typeId, payload };
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
