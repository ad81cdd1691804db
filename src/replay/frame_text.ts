/**
 * The text of a frame as replay prints it.
 *
 * @module
 */

import type { FrameRecord } from "../tape/mod.ts";

/**
 * The original message a frame carries: the raw line of a text frame, or
 * the JSON envelope serialized on one line.
 *
 * @example
 * ```ts
 * import { rawMessage } from "./frame_text.ts";
 * console.log(rawMessage({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { id: 1 } })); // '{"id":1}'
 * console.log(rawMessage({ type: "frame", seq: 2, ts: 0, dir: "c2s", env: "hi", flags: ["text"] })); // "hi"
 * ```
 */
export function rawMessage(frame: FrameRecord): string {
  if (isTextFrame(frame) && typeof frame.env === "string") return frame.env;
  return JSON.stringify(frame.env);
}

/**
 * Tells whether a frame holds a raw text line rather than a JSON message.
 *
 * @example
 * ```ts
 * import { isTextFrame } from "./frame_text.ts";
 * console.log(isTextFrame({ type: "frame", seq: 1, ts: 0, dir: "s2c", env: "x", flags: ["text"] })); // true
 * ```
 */
export function isTextFrame(frame: FrameRecord): boolean {
  return frame.action === "text" || (frame.flags?.includes("text") ?? false);
}

/**
 * One frame record as a JSON line (without the newline), as it appears in
 * the tape.
 *
 * @example
 * ```ts
 * import { frameLine } from "./frame_text.ts";
 * console.log(frameLine({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: null })); // '{"type":"frame","seq":1,"ts":0,"dir":"c2s","env":null}'
 * ```
 */
export function frameLine(frame: FrameRecord): string {
  return JSON.stringify(frame);
}
