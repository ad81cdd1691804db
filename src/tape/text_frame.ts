/**
 * Messages as frames and back: the `text` flag of a frame whose message is
 * not JSON, the frame recorded for one line of traffic, and the message a
 * frame carries.
 *
 * @module
 */

import type { Direction, FrameInput, FrameRecord, JsonValue } from "./types.ts";

/**
 * Flag of a frame whose envelope is the raw line because it was not JSON
 * (`docs/tape-format.md`, frame flags).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineToFrame, TEXT_FLAG } from "./text_frame.ts";
 * assert.deepEqual(lineToFrame("not json", "s2c").flags, [TEXT_FLAG]);
 * ```
 */
export const TEXT_FLAG = "text";

/**
 * The frame recorded for one message of traffic: the parsed JSON, or the
 * text itself flagged {@linkcode TEXT_FLAG} when it is not JSON. The text
 * travels as the envelope's JSON (`envJson`, so numbers keep their spelling)
 * unless a tape line cannot hold it as it is: a carriage return or newline
 * is JSON whitespace but not allowed in a tape line. Surrounding whitespace
 * is dropped, as JSON allows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineToFrame } from "./text_frame.ts";
 * assert.deepEqual(lineToFrame(' {"id":1.0} ', "c2s"), {
 *   dir: "c2s",
 *   env: { id: 1 },
 *   envJson: '{"id":1.0}',
 * });
 * assert.deepEqual(lineToFrame('{"a":1,\r"b":2}', "c2s"), { dir: "c2s", env: { a: 1, b: 2 } });
 * assert.deepEqual(lineToFrame("hello", "s2c"), { dir: "s2c", env: "hello", flags: ["text"] });
 * ```
 */
export function lineToFrame(text: string, dir: Direction): FrameInput {
  let env: JsonValue;
  try {
    env = JSON.parse(text) as JsonValue;
  } catch {
    return { dir, env: text, flags: [TEXT_FLAG] };
  }
  return /[\r\n]/.test(text) ? { dir, env } : { dir, env, envJson: text.trim() };
}

/**
 * Tells whether a frame holds a raw text line rather than a JSON message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTextFrame } from "./text_frame.ts";
 * assert.equal(isTextFrame({ type: "frame", seq: 1, ts: 0, dir: "s2c", env: "x", flags: ["text"] }), true);
 * assert.equal(isTextFrame({ type: "frame", seq: 2, ts: 0, dir: "s2c", env: "x" }), false);
 * ```
 */
export function isTextFrame(frame: FrameRecord): boolean {
  return frame.action === "text" || (frame.flags?.includes(TEXT_FLAG) ?? false);
}

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
 * import { rawMessage } from "./text_frame.ts";
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
