/**
 * Replaying tapes: printing their frames (optionally paced like the
 * recording), serving them as a mock JSON-RPC server, and verifying a live
 * server against them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { replayTape } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * assert.equal(await replayTape({ tape: writer.path, raw: true }), 2); // prints both messages
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { canonicalJson } from "./canonical_json.ts";
export { type FrameFilter, frameMatches, pastRange } from "./frame_filter.ts";
export { diffJson, type DiffOptions, type JsonDifference, jsonEqual } from "./json_diff.ts";
export { type ByteWriter, LineSink } from "./line_sink.ts";
export {
  SERVE_INVALID_REQUEST,
  SERVE_NO_MATCH,
  SERVE_PARSE_ERROR,
  SERVE_UNKNOWN_METHOD,
  type ServeEvent,
  type ServeOptions,
  serveSession,
  type ServeSummary,
} from "./mock_server.ts";
export { openTape } from "./open_tape.ts";
export { frameDelay, Pacer, type PacingOptions, pacingSchedule } from "./pacing.ts";
export { type Progress, startProgress } from "./progress_bar.ts";
export {
  type AnswerMatch,
  type AnswerMiss,
  type MatchKind,
  RecordedAnswers,
} from "./recorded_answers.ts";
export {
  buildRecordedSession,
  type ClientMessage,
  type JsonObject,
  messageText,
  type RecordedExchange,
  type RecordedSession,
} from "./recorded_session.ts";
export { replayFrames, type ReplayFramesOptions } from "./replay_frames.ts";
export {
  replayTape,
  type ReplayTapeOptions,
  serveTape,
  type ServeTapeOptions,
  type TapeLocation,
  verifyTape,
  type VerifyTapeOptions,
} from "./replay_tape.ts";
export { type FrameInfo, RequestTracker } from "./request_tracker.ts";
export { ServerProcessError } from "./server_process_error.ts";
export { streamLines } from "./stream_lines.ts";
export {
  type RequestCheck,
  type VerifyOptions,
  type VerifyReport,
  verifyServer,
} from "./verifier.ts";
export { formatCheck, formatDifference, formatVerifySummary } from "./verify_report.ts";
export { replayStreams, type StreamReplayOptions } from "./replay_stream.ts";
