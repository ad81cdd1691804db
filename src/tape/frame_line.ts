/**
 * A frame record as its tape line, with the envelope's text kept exactly.
 *
 * @module
 */

import { replaceMemberValue } from "../json/mod.ts";
import type { FrameRecord } from "./types.ts";

/**
 * One frame record as a JSON line (without the newline), as it appears in
 * the tape; with `envText` (see `rawMessage`) the envelope is
 * that text, byte for byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameLine } from "./frame_line.ts";
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
