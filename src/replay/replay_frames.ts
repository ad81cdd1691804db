/**
 * Plain replay: the frames of a tape written out as lines, as fast as
 * possible or paced like the recording.
 *
 * @module
 */

import { frameLine, type FrameRecord, type RawFrame, rawMessage } from "../tape/mod.ts";
import {
  type ByteWriter,
  type FrameFilter,
  frameMatches,
  LineSink,
  pastRange,
  RequestTracker,
} from "../consumer/mod.ts";
import { Pacer, type PacingOptions } from "./pacing.ts";

/** Options of {@linkcode replayFrames}. */
export interface ReplayFramesOptions {
  /** Write the original messages instead of frame records. */
  raw?: boolean;
  /** Which frames to write; absent: all of them. */
  filter?: FrameFilter;
  /** Pace output by the recorded timestamps; absent: as fast as possible. */
  pacing?: PacingOptions;
  /** Told the seq of each frame read (shown or not), for a progress bar. */
  onFrame?: (seq: number) => void;
}

/**
 * Writes the selected frames to `out`, one line each: the frame record as
 * JSON, or with `raw` the message itself. Returns how many were written.
 * Stops early once past `filter.toSeq`, and quietly when `out` is a closed
 * pipe. Given raw frames (`TapeReader.rawFrames`), envelopes are written
 * exactly as the tape holds them; given parsed frames, serialized again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayFrames } from "./replay_frames.ts";
 * const frames = [{ type: "frame" as const, seq: 1, ts: 0, dir: "c2s" as const, env: { id: 1 } }];
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * assert.equal(await replayFrames(frames, out, { raw: true }), 1);
 * assert.equal(chunks.join(""), '{"id":1}\n');
 * ```
 */
export async function replayFrames(
  frames: AsyncIterable<FrameRecord | RawFrame> | Iterable<FrameRecord | RawFrame>,
  out: ByteWriter,
  options: ReplayFramesOptions = {},
): Promise<number> {
  const filter = options.filter ?? {};
  const tracker = new RequestTracker();
  // Paced output is live: write each line as it becomes due.
  await using sink = new LineSink(out, options.pacing ? 0 : 64 * 1024);
  const pacer = options.pacing ? new Pacer(options.pacing) : undefined;
  let written = 0;
  for await (const item of frames) {
    const frame = "envText" in item ? item.frame : item;
    const envText = "envText" in item ? item.envText : undefined;
    options.onFrame?.(frame.seq);
    const info = tracker.observe(frame, envText);
    if (frameMatches(frame, info, filter)) {
      if (pacer) await pacer.wait(frame.ts);
      await sink.line(options.raw ? rawMessage(frame, envText) : frameLine(frame, envText));
      if (sink.closed) break;
      written++;
    }
    if (pastRange(frame.seq, filter)) break;
  }
  await sink.flush();
  return written;
}
