/**
 * Which frames a replay or tail shows: by direction, method and seq range.
 *
 * @module
 */

import type { Direction, FrameRecord } from "../tape/mod.ts";
import type { FrameInfo } from "./request_tracker.ts";

/** Selection of frames; every given criterion must hold. */
export interface FrameFilter {
  /** Only frames travelling this way. */
  dir?: Direction;
  /**
   * Only frames of these methods. A response counts as its request's method,
   * so `--method tools/call` keeps the calls and their answers.
   */
  methods?: readonly string[];
  /** Only frames with seq at least this. */
  fromSeq?: number;
  /** Only frames with seq at most this. */
  toSeq?: number;
}

/**
 * Tells whether a frame passes a filter. `info` comes from a
 * `RequestTracker` that saw every earlier frame, filtered or not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameMatches } from "./frame_filter.ts";
 * const frame = { type: "frame" as const, seq: 3, ts: 0, dir: "c2s" as const, env: {} };
 * const info = { method: "ping", id: 1, rttMs: undefined, requestSeq: undefined };
 * assert.equal(frameMatches(frame, info, { dir: "c2s", methods: ["ping"], toSeq: 5 }), true);
 * ```
 */
export function frameMatches(frame: FrameRecord, info: FrameInfo, filter: FrameFilter): boolean {
  if (filter.dir !== undefined && frame.dir !== filter.dir) return false;
  if (filter.fromSeq !== undefined && frame.seq < filter.fromSeq) return false;
  if (filter.toSeq !== undefined && frame.seq > filter.toSeq) return false;
  if (filter.methods !== undefined && filter.methods.length > 0) {
    if (info.method === undefined || !filter.methods.includes(info.method)) return false;
  }
  return true;
}

/**
 * Tells whether no frame after `seq` can pass the filter, so a reader may
 * stop early.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pastRange } from "./frame_filter.ts";
 * assert.equal(pastRange(11, { toSeq: 10 }), true);
 * ```
 */
export function pastRange(seq: number, filter: FrameFilter): boolean {
  return filter.toSeq !== undefined && seq >= filter.toSeq;
}
