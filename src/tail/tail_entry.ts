/**
 * A record on its way to the screen, with what tail learned about it.
 *
 * @module
 */

import type { TapeRecord } from "../tape/mod.ts";

/** A record plus the context needed to show it. */
export interface TailEntry {
  record: TapeRecord;
  /** Method of the frame, or of the request a response answers. */
  method?: string;
  /** Round trip of a response, in ms. */
  rttMs?: number;
}
