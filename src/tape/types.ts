/**
 * The records of a tape and its `.meta.json` companion, as they appear on
 * disk. `docs/tape-format.md` is the normative description; these types
 * mirror it field for field.
 *
 * @module
 */

/** Version of the tape format written into every `init` record. */
export const TAPE_FORMAT_VERSION = 1;

/**
 * Direction of a frame: `c2s` travels from the client to the server,
 * `s2c` from the server to the client.
 */
export type Direction = "c2s" | "s2c";

/**
 * What a frame carries, derived from its envelope: a JSON-RPC `request`,
 * `notification`, `response` or `error` response, any other JSON `message`,
 * or a `text` line that was not JSON.
 */
export type FrameAction =
  | "request"
  | "notification"
  | "response"
  | "error"
  | "message"
  | "text";

/** Any JSON value. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** First record of every tape. */
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

/** One message that crossed the wire. */
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

/** Outcome of a request/response pair. */
export type CorrelationStatus = "ok" | "error" | "timeout";

/** Links a JSON-RPC request to its response. */
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

/** Counters kept while a tape is written; stored in checkpoints and meta. */
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

/** A periodic summary that lets a reader resume or check a tape cheaply. */
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

/** Any record of a tape. */
export type TapeRecord =
  | InitRecord
  | FrameRecord
  | CorrelationRecord
  | CheckpointRecord;

/** Lifecycle state of a tape, kept in its meta file. */
export type TapeStatus = "recording" | "paused" | "finalized" | "error";

/** How hard the writer works to keep each frame. */
export type Durability = "buffered" | "flush" | "fsync";

/** Where a tape was recorded. */
export interface TapeEnvironment {
  /** Server command line, when the tape was recorded by `record`. */
  command?: string[];
  cwd?: string;
  hostname?: string;
  pid?: number;
  os?: string;
  deno?: string;
}

/** How the writer performed, kept in the meta file. */
export interface TapePerformance {
  durability: Durability;
  /** Write system calls issued. */
  writes: number;
  /** fdatasync calls issued (fsync durability). */
  syncs: number;
  /** Largest number of frames handed to the OS by one write. */
  max_batch: number;
}

/** Contents of `<tape_id>.meta.json`. */
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
}
