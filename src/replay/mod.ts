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

export * from "./canonical_json.ts";
export * from "./json_diff.ts";
export * from "./mock_server.ts";
export * from "./pacing.ts";
export * from "./progress_bar.ts";
export * from "./recorded_answers.ts";
export * from "./recorded_session.ts";
export * from "./replay_frames.ts";
export * from "./replay_tape.ts";
export * from "./replay_stream.ts";
export * from "./server_process_error.ts";
export * from "./stream_lines.ts";
export * from "./verifier.ts";
export * from "./verify_report.ts";
