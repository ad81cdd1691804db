/**
 * The text of a frame as replay prints it.
 *
 * @module
 */

import type { FrameRecord } from "../tape/mod.ts";
import { replaceMemberValue } from "../json/mod.ts";

/**
 * The original message a frame carries: the raw line of a text frame, or
 * the JSON envelope on one line. Pass the envelope's text as the tape holds
 * it (`TapeReader.rawFrames`) to get it byte for byte; without it the
 * envelope is serialized again, which rounds integers past 2^53 and
 * respells numbers such as `1.0`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rawMessage } from "./frame_text.ts";
 * const frame = { type: "frame" as const, seq: 1, ts: 0, dir: "c2s" as const, env: { id: 1 } };
 * assert.equal(rawMessage(frame), '{"id":1}');
 * assert.equal(rawMessage(frame, '{"id":1.0}'), '{"id":1.0}');
 * assert.equal(rawMessage({ type: "frame", seq: 2, ts: 0, dir: "c2s", env: "hi", flags: ["text"] }), "hi");
 * ```
 */
export function rawMessage(frame: FrameRecord, envText?: string): string {
  if (isTextFrame(frame) && typeof frame.env === "string") return frame.env;
  return envText ?? JSON.stringify(frame.env);
}

/**
 * Tells whether a frame holds a raw text line rather than a JSON message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTextFrame } from "./frame_text.ts";
 * assert.equal(isTextFrame({ type: "frame", seq: 1, ts: 0, dir: "s2c", env: "x", flags: ["text"] }), true);
 * ```
 */
export function isTextFrame(frame: FrameRecord): boolean {
  return frame.action === "text" || (frame.flags?.includes("text") ?? false);
}

/**
 * One frame record as a JSON line (without the newline), as it appears in
 * the tape; with `envText` (see {@linkcode rawMessage}) the envelope is
 * that text, byte for byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameLine } from "./frame_text.ts";
 * assert.equal(
 *   frameLine({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: null }),
 *   '{"type":"frame","seq":1,"ts":0,"dir":"c2s","env":null}',
 * );
 * assert.equal(
 *   frameLine({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { n: 1 } }, '{"n":1.0}'),
 *   '{"type":"frame","seq":1,"ts":0,"dir":"c2s","env":{"n":1.0}}',
 * );
 * ```
 */
export function frameLine(frame: FrameRecord, envText?: string): string {
  if (envText === undefined) return JSON.stringify(frame);
  // Serialized with a one-character envelope, the splice only scans the small members.
  const line = JSON.stringify({ ...frame, env: 0 });
  return replaceMemberValue(line, "env", envText) ?? JSON.stringify(frame);
}
