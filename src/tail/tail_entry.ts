/**
 * A record on its way to the screen, with what tail learned about it.
 *
 * @module
 */

import type { TapeRecord } from "../tape/mod.ts";

/** A record plus the context needed to show it. */
export interface TailEntry {
  record: TapeRecord;
  /** The record's line as the tape holds it, without the newline, when it came from one. */
  line?: string;
  /** Method of the frame, or of the request a response answers. */
  method?: string;
  /** Round trip of a response, in ms. */
  rttMs?: number;
}
