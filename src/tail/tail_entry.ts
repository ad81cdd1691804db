/**
 * A record on its way to the screen, with what tail learned about it.
 *
 * @module
 */

import type { TapeRecord } from "../tape/mod.ts";

/**
 * A record plus the context needed to show it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TailEntry } from "./tail_entry.ts";
 * const line = '{"type":"frame","seq":2,"ts":3,"dir":"s2c","env":{"id":1,"result":1.0}}';
 * const entry: TailEntry = { record: JSON.parse(line), line, method: "ping", rttMs: 3 };
 * assert.equal(entry.line, line);
 * ```
 */
export interface TailEntry {
  /** The record as parsed. */
  record: TapeRecord;
  /** The record's line as the tape holds it, without the newline, when it came from one. */
  line?: string;
  /** Method of the frame, or of the request a response answers. */
  method?: string;
  /** Round trip of a response, in ms. */
  rttMs?: number;
}
