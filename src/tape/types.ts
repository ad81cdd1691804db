/**
 * The records of a tape and its `.meta.json` companion, as they appear on
 * disk. `docs/tape-format.md` is the normative description; these types
 * mirror it field for field.
 *
 * @module
 */

/**
 * Version of the tape format written into every `init` record.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TAPE_FORMAT_VERSION } from "./types.ts";
 * assert.equal(TAPE_FORMAT_VERSION, 1);
 * ```
 */
export const TAPE_FORMAT_VERSION = 1;

/**
 * Direction of a frame: `c2s` travels from the client to the server,
 * `s2c` from the server to the client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Direction } from "./types.ts";
 * const reply = (dir: Direction): Direction => dir === "c2s" ? "s2c" : "c2s";
 * assert.equal(reply("c2s"), "s2c");
 * ```
 */
export type Direction = "c2s" | "s2c";

/**
 * What a frame carries, derived from its envelope: a JSON-RPC `request`,
 * `notification`, `response` or `error` response, any other JSON `message`,
 * or a `text` line that was not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyMessage } from "./message_kind.ts";
 * import type { FrameAction } from "./types.ts";
 * const action: FrameAction = classifyMessage({ jsonrpc: "2.0", method: "ping" }, false);
 * assert.equal(action, "notification");
 * ```
 */
export type FrameAction =
  | "request"
  | "notification"
  | "response"
  | "error"
  | "message"
  | "text";

/**
 * Any JSON value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { JsonValue } from "./types.ts";
 * const env: JsonValue = { jsonrpc: "2.0", id: 1, params: [true, null, "x"] };
 * assert.deepEqual(JSON.parse(JSON.stringify(env)), env);
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * First record of every tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { InitRecord } from "./types.ts";
 * const init: InitRecord = {
 *   type: "init", version: 1, tape_id: "t1", session_id: "s",
 *   created_at: "2026-11-22T03:15:00.000Z", protocol_version: null,
 * };
 * assert.equal(init.tape_id, "t1");
 * ```
 */
export interface InitRecord {
  /** Record type, always `init`. */
  type: "init";
  /** Tape format version, {@linkcode TAPE_FORMAT_VERSION}. */
  version: number;
  /** The tape id, equal to the file name's stem. */
  tape_id: string;
  /** A random UUID of the recording session. */
  session_id: string;
  /** ISO 8601 time the tape was created. */
  created_at: string;
  /**
   * Protocol version negotiated by the recorded `initialize` exchange, or
   * `null` when it was not known when the tape was created. The negotiated
   * version, once seen, is kept in the meta file and in later checkpoints.
   */
  protocol_version: string | null;
}

/**
 * One message that crossed the wire.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FrameRecord } from "./types.ts";
 * const frame: FrameRecord = {
 *   type: "frame", seq: 1, ts: 0.4, dir: "c2s",
 *   env: { jsonrpc: "2.0", id: 1, method: "ping" }, action: "request", correlation_id: "c2s-1",
 * };
 * assert.equal(frame.seq, 1);
 * assert.equal(frame.action, "request");
 * ```
 */
export interface FrameRecord {
  /** Record type, always `frame`. */
  type: "frame";
  /** Sequence number, 1 for the first frame, contiguous. */
  seq: number;
  /** Milliseconds since the tape was created (fractional). */
  ts: number;
  /** Which way the message travelled: client to server, or server to client. */
  dir: Direction;
  /**
   * The message envelope: the parsed JSON message, or the raw line as a
   * string when the frame carries the `text` flag.
   */
  env: JsonValue;
  /** What the envelope is, derived from it by the rules of the tape format. */
  action?: FrameAction;
  /** Transport the frame came over, for example `stdio`. */
  transport?: string;
  /** Identifier shared by a request frame, its response and their `correlation` record. */
  correlation_id?: string;
  /** Markers such as `text` (env is a raw line) or `redacted`. */
  flags?: string[];
}

/**
 * Outcome of a request/response pair.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CorrelationStatus } from "./types.ts";
 * const isFailure = (status: CorrelationStatus) => status !== "ok";
 * assert.equal(isFailure("timeout"), true);
 * ```
 */
export type CorrelationStatus = "ok" | "error" | "timeout";

/**
 * Links a JSON-RPC request to its response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CorrelationRecord } from "./types.ts";
 * const pair: CorrelationRecord = {
 *   type: "correlation", id: "c2s-1", request_seq: 1, response_seq: 2,
 *   request_ts: 0.4, response_ts: 1.2, rtt_ms: 0.8, status: "ok", method: "ping",
 * };
 * assert.equal(pair.rtt_ms, 0.8);
 * ```
 */
export interface CorrelationRecord {
  /** Record type, always `correlation`. */
  type: "correlation";
  /** Correlation id, shared with the `correlation_id` of both frames. */
  id: string;
  /** Sequence number of the request frame. */
  request_seq: number;
  /** `null` when the request was never answered (status `timeout`). */
  response_seq: number | null;
  /** `ts` of the request frame. */
  request_ts: number;
  /** `ts` of the response frame; `null` for `timeout`. */
  response_ts: number | null;
  /** `response_ts - request_ts`, rounded to 3 decimals; `null` for `timeout`. */
  rtt_ms: number | null;
  /** How the request ended: response, error response, or never answered. */
  status: CorrelationStatus;
  /** Method of the request, for readers that only see the response. */
  method?: string;
}

/**
 * Counters kept while a tape is written; stored in checkpoints and meta.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyStats } from "./tape_stats.ts";
 * import type { TapeStats } from "./types.ts";
 * const stats: TapeStats = emptyStats();
 * assert.equal(stats.frame_count, 0);
 * assert.equal(stats.message_counts.request, 0);
 * ```
 */
export interface TapeStats {
  /** Frames written. */
  frame_count: number;
  /** Milliseconds from creation to the last frame. */
  duration_ms: number;
  /** Bytes of the `.jsonl` file. */
  bytes: number;
  /** Sequence number of the last frame, 0 when there is none. */
  last_seq: number;
  /** Frames counted by {@linkcode FrameAction}. */
  message_counts: Record<FrameAction, number>;
  /** Error responses plus requests that timed out. */
  errors: number;
  /** Correlation records written. */
  correlations: number;
  /** Checkpoint records written. */
  checkpoints: number;
}

/**
 * A periodic summary that lets a reader resume or check a tape cheaply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyStats } from "./tape_stats.ts";
 * import type { CheckpointRecord } from "./types.ts";
 * const last: CheckpointRecord = {
 *   type: "checkpoint", checkpoint_at: "2026-11-22T03:16:00.000Z", seq: 0,
 *   stats: emptyStats(), protocol_version: null, final: true,
 * };
 * assert.equal(last.final, true);
 * ```
 */
export interface CheckpointRecord {
  /** Record type, always `checkpoint`. */
  type: "checkpoint";
  /** ISO 8601 time of the checkpoint. */
  checkpoint_at: string;
  /** Sequence number of the last frame before the checkpoint. */
  seq: number;
  /** Counters of the tape as of this checkpoint. */
  stats: TapeStats;
  /** Negotiated protocol version, once known. */
  protocol_version?: string | null;
  /** `true` on the checkpoint written by finalize. */
  final?: boolean;
}

/**
 * Any record of a tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecordLine } from "./record_parser.ts";
 * import type { TapeRecord } from "./types.ts";
 * const record: TapeRecord = parseRecordLine('{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":1}');
 * assert.equal(record.type, "frame");
 * if (record.type === "frame") assert.equal(record.dir, "s2c");
 * ```
 */
export type TapeRecord =
  | InitRecord
  | FrameRecord
  | CorrelationRecord
  | CheckpointRecord;

/**
 * Lifecycle state of a tape, kept in its meta file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapeStatus } from "./types.ts";
 * const isOver = (status: TapeStatus) => status === "finalized" || status === "error";
 * assert.equal(isOver("paused"), false);
 * ```
 */
export type TapeStatus = "recording" | "paused" | "finalized" | "error";

/**
 * How hard the writer works to keep each frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapeDurability } from "./types.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const durability: TapeDurability = "fsync";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir, { durability });
 * assert.equal((await writer.finalize()).performance.durability, "fsync");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export type TapeDurability = "buffered" | "flush" | "fsync";

/**
 * Where a tape was recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapeEnvironment } from "./types.ts";
 * const environment: TapeEnvironment = { command: ["deno", "run", "server.ts"], os: Deno.build.os };
 * assert.equal(environment.command?.length, 3);
 * ```
 */
export interface TapeEnvironment {
  /** Server command line, when the tape was recorded by `record`. */
  command?: string[];
  /** Working directory of the recording process. */
  cwd?: string;
  /** Host name of the machine the tape was recorded on. */
  hostname?: string;
  /** Process id of the recording process. */
  pid?: number;
  /** Operating system, as `Deno.build.os` names it. */
  os?: string;
  /** Deno runtime version of the recording process. */
  deno?: string;
}

/**
 * How the writer performed, kept in the meta file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapePerformance } from "./types.ts";
 * const performance: TapePerformance = { durability: "flush", writes: 12, syncs: 1, max_batch: 3 };
 * assert.equal(performance.writes, 12);
 * ```
 */
export interface TapePerformance {
  /** Durability the tape was written with. */
  durability: TapeDurability;
  /** Write system calls issued. */
  writes: number;
  /** fdatasync calls issued (fsync durability). */
  syncs: number;
  /** Largest number of frames handed to the OS by one write. */
  max_batch: number;
}

/**
 * Contents of `<tape_id>.meta.json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TapeMeta } from "./types.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir, { name: "demo" });
 * const meta: TapeMeta = await writer.finalize();
 * assert.equal(meta.name, "demo");
 * assert.equal(meta.status, "finalized");
 * assert.equal(meta.rebuilt, undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TapeMeta {
  /** The tape id. */
  tape_id: string;
  /** Human name of the tape; defaults to the tape id. */
  name: string;
  /** Free-text description, may be empty. */
  description: string;
  /** Labels for finding the tape. */
  tags: string[];
  /** ISO 8601 time the tape was created, equal to the `init` record's. */
  created_at: string;
  /** ISO 8601 time this version of the meta file was made. */
  updated_at: string;
  /** ISO 8601 time of finalize, `null` before. */
  finalized_at: string | null;
  /** Lifecycle state of the tape. */
  status: TapeStatus;
  /** Transport the frames came over, for example `stdio`. */
  transport: string;
  /** Negotiated protocol version, `null` while unknown. */
  protocol_version: string | null;
  /** Where the tape was recorded. */
  environment: TapeEnvironment;
  /** Counters of the tape when the meta file was written. */
  stats: TapeStats;
  /** How the writer performed. */
  performance: TapePerformance;
  /** Message of the error that stopped the recording, when status is `error`. */
  error?: string;
  /**
   * `true` when this meta was not read from a meta file but rebuilt from the
   * tape itself (the meta file is missing or unreadable). Its `performance`
   * block is then a placeholder, and `transport` is `unknown` unless a frame
   * names one.
   */
  rebuilt?: true;
}

/**
 * One message to record, as given to `TapeWriter.append`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FrameInput } from "./types.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * const input: FrameInput = { dir: "s2c", env: "server log line", flags: ["text"] };
 * assert.equal((await writer.append(input)).action, "text");
 * await writer.finalize();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface FrameInput {
  /** Which way the message travelled. */
  dir: Direction;
  /** The parsed message, or the raw line (a string) for a `text` frame. */
  env: JsonValue;
  /** Markers such as `text` (env is a raw line that was not JSON) or `redacted`. */
  flags?: string[];
  /** Transport of this frame, when it differs from the tape's. */
  transport?: string;
  /**
   * The JSON text of `env`, when the caller already has it: typically the
   * line as received, when `env` was parsed from it and not changed. Saves
   * serializing `env` again; it must be valid JSON for `env` and must not
   * contain a line break. Not allowed on `text` frames.
   */
  envJson?: string;
}
