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
 * import { TAPE_FORMAT_VERSION } from "./types.ts";
 * console.log(TAPE_FORMAT_VERSION); // 1
 * ```
 */
export const TAPE_FORMAT_VERSION = 1;

/**
 * Direction of a frame: `c2s` travels from the client to the server,
 * `s2c` from the server to the client.
 *
 * @example
 * ```ts
 * import type { Direction } from "./types.ts";
 * const reply = (dir: Direction): Direction => dir === "c2s" ? "s2c" : "c2s";
 * console.log(reply("c2s")); // "s2c"
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
 * import { classifyMessage } from "./message_kind.ts";
 * import type { FrameAction } from "./types.ts";
 * const action: FrameAction = classifyMessage({ jsonrpc: "2.0", method: "ping" }, false);
 * console.log(action); // "notification"
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
 * import type { JsonValue } from "./types.ts";
 * const env: JsonValue = { jsonrpc: "2.0", id: 1, params: [true, null, "x"] };
 * console.log(JSON.stringify(env).length > 0); // true
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
 * import type { InitRecord } from "./types.ts";
 * const init: InitRecord = {
 *   type: "init", version: 1, tape_id: "t1", session_id: "s",
 *   created_at: "2026-11-22T03:15:00.000Z", protocol_version: null,
 * };
 * console.log(init.tape_id); // "t1"
 * ```
 */
export interface InitRecord {
  type: "init";
  /** Tape format version, {@linkcode TAPE_FORMAT_VERSION}. */
  version: number;
  tape_id: string;
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
 * import type { FrameRecord } from "./types.ts";
 * const frame: FrameRecord = {
 *   type: "frame", seq: 1, ts: 0.4, dir: "c2s",
 *   env: { jsonrpc: "2.0", id: 1, method: "ping" }, action: "request", correlation_id: "c2s-1",
 * };
 * console.log(frame.seq, frame.action); // 1 "request"
 * ```
 */
export interface FrameRecord {
  type: "frame";
  /** Sequence number, 1 for the first frame, contiguous. */
  seq: number;
  /** Milliseconds since the tape was created (fractional). */
  ts: number;
  dir: Direction;
  /**
   * The message envelope: the parsed JSON message, or the raw line as a
   * string when the frame carries the `text` flag.
   */
  env: JsonValue;
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
 * import type { CorrelationStatus } from "./types.ts";
 * const isFailure = (status: CorrelationStatus) => status !== "ok";
 * console.log(isFailure("timeout")); // true
 * ```
 */
export type CorrelationStatus = "ok" | "error" | "timeout";

/**
 * Links a JSON-RPC request to its response.
 *
 * @example
 * ```ts
 * import type { CorrelationRecord } from "./types.ts";
 * const pair: CorrelationRecord = {
 *   type: "correlation", id: "c2s-1", request_seq: 1, response_seq: 2,
 *   request_ts: 0.4, response_ts: 1.2, rtt_ms: 0.8, status: "ok", method: "ping",
 * };
 * console.log(pair.rtt_ms); // 0.8
 * ```
 */
export interface CorrelationRecord {
  type: "correlation";
  id: string;
  request_seq: number;
  /** `null` when the request was never answered (status `timeout`). */
  response_seq: number | null;
  request_ts: number;
  response_ts: number | null;
  rtt_ms: number | null;
  status: CorrelationStatus;
  /** Method of the request, for readers that only see the response. */
  method?: string;
}

/**
 * Counters kept while a tape is written; stored in checkpoints and meta.
 *
 * @example
 * ```ts
 * import { emptyStats } from "./tape_stats.ts";
 * import type { TapeStats } from "./types.ts";
 * const stats: TapeStats = emptyStats();
 * console.log(stats.frame_count, stats.message_counts.request); // 0 0
 * ```
 */
export interface TapeStats {
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
  correlations: number;
  checkpoints: number;
}

/**
 * A periodic summary that lets a reader resume or check a tape cheaply.
 *
 * @example
 * ```ts
 * import { emptyStats } from "./tape_stats.ts";
 * import type { CheckpointRecord } from "./types.ts";
 * const last: CheckpointRecord = {
 *   type: "checkpoint", checkpoint_at: "2026-11-22T03:16:00.000Z", seq: 0,
 *   stats: emptyStats(), protocol_version: null, final: true,
 * };
 * console.log(last.final); // true
 * ```
 */
export interface CheckpointRecord {
  type: "checkpoint";
  /** ISO 8601 time of the checkpoint. */
  checkpoint_at: string;
  /** Sequence number of the last frame before the checkpoint. */
  seq: number;
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
 * import { parseRecordLine } from "./record_parser.ts";
 * import type { TapeRecord } from "./types.ts";
 * const record: TapeRecord = parseRecordLine('{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":1}');
 * if (record.type === "frame") console.log(record.dir); // "s2c"
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
 * import type { TapeStatus } from "./types.ts";
 * const isOver = (status: TapeStatus) => status === "finalized" || status === "error";
 * console.log(isOver("paused")); // false
 * ```
 */
export type TapeStatus = "recording" | "paused" | "finalized" | "error";

/**
 * How hard the writer works to keep each frame.
 *
 * @example
 * ```ts
 * import type { Durability } from "./types.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const durability: Durability = "fsync";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir, { durability });
 * console.log((await writer.finalize()).performance.durability); // "fsync"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export type Durability = "buffered" | "flush" | "fsync";

/**
 * Where a tape was recorded.
 *
 * @example
 * ```ts
 * import type { TapeEnvironment } from "./types.ts";
 * const environment: TapeEnvironment = { command: ["deno", "run", "server.ts"], os: Deno.build.os };
 * console.log(environment.command?.length); // 3
 * ```
 */
export interface TapeEnvironment {
  /** Server command line, when the tape was recorded by `record`. */
  command?: string[];
  cwd?: string;
  hostname?: string;
  pid?: number;
  os?: string;
  deno?: string;
}

/**
 * How the writer performed, kept in the meta file.
 *
 * @example
 * ```ts
 * import type { TapePerformance } from "./types.ts";
 * const performance: TapePerformance = { durability: "flush", writes: 12, syncs: 1, max_batch: 3 };
 * console.log(performance.writes); // 12
 * ```
 */
export interface TapePerformance {
  durability: Durability;
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
 * import type { TapeMeta } from "./types.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir, { name: "demo" });
 * const meta: TapeMeta = await writer.finalize();
 * console.log(meta.name, meta.status, meta.rebuilt); // "demo" "finalized" undefined
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TapeMeta {
  tape_id: string;
  name: string;
  description: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  finalized_at: string | null;
  status: TapeStatus;
  transport: string;
  protocol_version: string | null;
  environment: TapeEnvironment;
  stats: TapeStats;
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
