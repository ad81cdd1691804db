/**
 * Tapes: append-only JSON Lines recordings of message traffic, with a
 * `.meta.json` companion. Write one with {@linkcode TapeWriter}, read it as a
 * stream with {@linkcode TapeReader}, follow it live with
 * {@linkcode followTape}, and manage a directory of them with
 * {@linkcode TapeDirectory}. The format is specified in
 * `docs/tape-format.md`.
 *
 * @example Record two frames and read them back
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeReader, TapeWriter } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir, { name: "example" });
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const reader = await TapeReader.open(writer.path);
 * const frames = await Array.fromAsync(reader.frames());
 * assert.deepEqual(frames.map((f) => [f.seq, f.action]), [[1, "request"], [2, "response"]]);
 * reader.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./tape_format_error.ts";
export * from "./line_splitter.ts";
export * from "./io_reason.ts";
export * from "./error_message.ts";
export * from "./message_kind.ts";
export * from "./message_id.ts";
export * from "./tape_id.ts";
export * from "./meta_file.ts";
export * from "./correlator.ts";
export * from "./tape_stats.ts";
export * from "./tape_write_errors.ts";
export * from "./tape_writer.ts";
export * from "./tape_permissions.ts";
export * from "./recording_environment.ts";
export * from "./text_frame.ts";
export * from "./frame_line.ts";
export * from "./record_parser.ts";
export * from "./warning_log.ts";
export * from "./write_text.ts";
export {
  FEED_BYTES,
  openTapeFile,
  type RawFrame,
  rawFrameOf,
  READ_CHUNK_BYTES,
  readTapeHead,
  type RecordLine,
  type TapeHead,
  TapeOpenError,
  tapeOpenError,
  type TapeOpenFailure,
  type TapePosition,
  TapeReader,
  type TapeRecordIterator,
} from "./tape_reader.ts";
export * from "./tape_follower.ts";
export * from "./tape_directory.ts";
export * from "./sync_directory.ts";
