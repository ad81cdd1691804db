/**
 * A recording sealed as it is made: `record --seal-to` writes each frame
 * into a sealed store as the record a tape's frame reads as
 * (`src/stream/tape_message.ts`), between a metadata frame with the
 * recording's facts and one with its final stats. Nothing is written in
 * clear; correlations and checkpoints are not stored, since a reader
 * derives them from the frames.
 *
 * @module
 */

import { describeLocation, type SealedLocation, SealedWriter } from "../sealed/mod.ts";
import type { StreamMessage } from "../stream/stream_message.ts";
import { frameToMessage, tapeEpochNs } from "../stream/tape_message.ts";
import {
  classifyMessage,
  copyStats,
  Correlator,
  type Direction,
  emptyStats,
  errorMessage,
  type FrameAction,
  type FrameInput,
  type FrameRecord,
  LineTooLongError,
  MAX_LINE_BYTES,
  newTapeId,
  recordingEnvironment,
  type TapeDurability,
  type TapeEnvironment,
  type TapeMeta,
  type TapeStatus,
  TapeWriteError,
  TEXT_FLAG,
} from "../tape/mod.ts";
import type { RecordingWriter } from "./recording.ts";

/**
 * Version of a sealed recording's metadata frames (`type` `init` and
 * `end`), kept in each as `version`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEALED_RECORDING_VERSION } from "./sealed_recording.ts";
 * assert.equal(SEALED_RECORDING_VERSION, 1);
 * ```
 */
export const SEALED_RECORDING_VERSION = 1;

/**
 * The first metadata frame of a sealed recording: what a tape keeps in its
 * `init` record and meta file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordingInit } from "./sealed_recording.ts";
 * const init: RecordingInit = {
 *   type: "init", version: 1, tape_id: "t-1", session_id: "s", created_at: "2026-11-22T03:15:00.000Z",
 *   name: "t-1", description: "", tags: [], transport: "stdio", environment: { os: "linux" }, first_seq: 1,
 * };
 * assert.equal(init.first_seq, 1);
 * ```
 */
export type RecordingInit = {
  /** Always `init`. */
  type: "init";
  /** {@linkcode SEALED_RECORDING_VERSION}. */
  version: number;
  /** The recording's tape id. */
  tape_id: string;
  /** A random UUID of the recording session. */
  session_id: string;
  /** ISO 8601 time the recording started: `ts` 0 of its frames. */
  created_at: string;
  /** Name of the recording; its tape id when none was given. */
  name: string;
  /** Free text describing it, may be empty. */
  description: string;
  /** Its labels. */
  tags: string[];
  /** Transport of its frames, for example `stdio`. */
  transport: string;
  /** Where it was recorded: the server command, cwd, hostname, pid, os, Deno version. */
  environment: TapeEnvironment;
  /** Seq of its first frame: the store's last seq before it, plus 1. */
  first_seq: number;
};

/**
 * The last metadata frame of a sealed recording: how it ended and its
 * final stats.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordingEnd } from "./sealed_recording.ts";
 * import { emptyStats } from "../tape/mod.ts";
 * const end: RecordingEnd = {
 *   type: "end", version: 1, tape_id: "t-1", session_id: "s", ended_at: "2026-11-22T03:16:00.000Z",
 *   status: "finalized", protocol_version: null,
 *   stats: { frame_count: 0, frames_by_dir: { c2s: 0, s2c: 0 }, first_seq: null, last_seq: null,
 *     duration_ms: 0, payload_bytes: 0, message_counts: emptyStats().message_counts, errors: 0 },
 * };
 * assert.equal(end.stats.frame_count, 0);
 * ```
 */
export type RecordingEnd = {
  /** Always `end`. */
  type: "end";
  /** {@linkcode SEALED_RECORDING_VERSION}. */
  version: number;
  /** The recording's tape id, as in its `init` frame. */
  tape_id: string;
  /** Its session id, as in its `init` frame. */
  session_id: string;
  /** ISO 8601 time it ended. */
  ended_at: string;
  /** `finalized`, or `error` when recording stopped on an error. */
  status: TapeStatus;
  /** Message of that error. */
  error?: string;
  /** Protocol version negotiated by the recorded `initialize`, or `null`. */
  protocol_version: string | null;
  /** Final counts, as a tape's last checkpoint has them. */
  stats: {
    /** Frames recorded. */
    frame_count: number;
    /** Frames recorded in each direction. */
    frames_by_dir: Record<Direction, number>;
    /** Seq of the first frame; `null` for none. */
    first_seq: number | null;
    /** Seq of the last frame; `null` for none. */
    last_seq: number | null;
    /** ms from `created_at` to the last frame. */
    duration_ms: number;
    /** Bytes of the frames' payloads. */
    payload_bytes: number;
    /** Frames by what they are (request, response, …). */
    message_counts: Record<FrameAction, number>;
    /** Error responses plus requests never answered. */
    errors: number;
  };
};

/**
 * Options of {@linkcode SealedRecording.open}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SealedRecordingOptions } from "./sealed_recording.ts";
 * const options: SealedRecordingOptions = { recipients: [new Uint8Array(32)], durability: "buffered", tags: ["prod"] };
 * assert.equal(options.durability, "buffered");
 * ```
 */
export interface SealedRecordingOptions {
  /** X25519 public keys (parsed `age1…` recipients) the store is sealed to. */
  recipients: Uint8Array[];
  /**
   * `buffered`: an append resolves at once and frames are committed every
   * `flushIntervalMs` or 1 MiB; `flush` and `fsync` (default `flush`): an
   * append resolves once its frame is committed to disk (the frames
   * appended meanwhile share one commit).
   */
  durability?: TapeDurability;
  /** Name of the recording; defaults to its tape id. */
  name?: string;
  /** Free text describing the recording. */
  description?: string;
  /** Labels of the recording. */
  tags?: string[];
  /** Transport of the recording; default `stdio`. */
  transport?: string;
  /** Where it is recorded (the `command`), merged over what the process finds itself. */
  environment?: TapeEnvironment;
  /** Id of the recording; default a new tape id. */
  tapeId?: string;
  /** Longest message recorded, in bytes; default 10 MiB, as a tape's line. */
  maxLineBytes?: number;
  /** `buffered`: longest a frame waits before it is committed, in ms; default 50. */
  flushIntervalMs?: number;
  /**
   * Cipher worker threads; default 0, sealing on the calling thread: a
   * recording's segments are small (one a group commit) and a 1 MiB one
   * seals in about 2 ms, while starting workers costs about half a second.
   */
  workers?: number;
}

/** Microtask turns a commit waits for appends made in the same tick to join it, as a tape's fsync does. */
const GROUP_COMMIT_YIELDS = 4;

/**
 * The writer of a sealed recording, with a tape writer's `append`,
 * `finalize` and `fail`. Frames get their seq and `ts` by the tape's rules
 * (the next seq; ms since the recording started, to the microsecond, never
 * going back) and are stored as the record `frameToMessage` makes of them.
 * The store's seqs rise across recordings: a recording into a store that
 * holds records goes on after its last seq.
 *
 * A failure of the store stops the recording: the append that met it and
 * every later one reject with it, and `finalize` rejects with it after
 * ending what it can. `fail(error)` ends the recording with status `error`
 * (kept in the last metadata frame when the store still works).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseRecipient } from "../sealed/mod.ts";
 * import { SealedRecording } from "./sealed_recording.ts";
 * const dir = Deno.makeTempDirSync();
 * const { recipient } = await generateIdentity();
 * const recording = await SealedRecording.open({ kind: "file", dir: `${dir}/s` }, {
 *   recipients: [parseRecipient(recipient, "example")],
 *   name: "demo",
 *   workers: 0,
 * });
 * const frame = await recording.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * assert.equal(frame.seq, 1);
 * assert.equal(frame.action, "request");
 * const meta = await recording.finalize();
 * assert.equal(meta.status, "finalized");
 * assert.equal(meta.stats.frame_count, 1);
 * assert.equal(recording.path, `${dir}/s/stream.sealed`);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SealedRecording implements RecordingWriter {
  /** The store, as messages name it: `DIR/stream.sealed` or `FILE#stream`. */
  readonly path: string;
  /** The id of the recording, kept in its metadata frames. */
  readonly tapeId: string;
  /** The run of the store this recording writes. */
  readonly run: number;
  readonly #writer: SealedWriter;
  readonly #init: RecordingInit;
  readonly #durability: TapeDurability;
  readonly #maxLine: number;
  readonly #epochNs: bigint;
  readonly #origin: number;
  readonly #correlator = new Correlator();
  readonly #stats = emptyStats();
  readonly #byDir = { c2s: 0, s2c: 0 };
  #tsFloor = 0;
  #commits = 0;
  #maxBatch = 0;
  // The frames appended since the last commit started, sharing the next one.
  #batch: { frames: number; done: PromiseWithResolvers<void> } | undefined;
  #committing: Promise<void> | undefined;
  #status: TapeStatus = "recording";
  #finalizedAt: string | null = null;
  #error: string | undefined;
  #failure: unknown;
  #closing = false;
  #ending: Promise<TapeMeta> | undefined;

  private constructor(
    writer: SealedWriter,
    init: RecordingInit,
    origin: number,
    options: SealedRecordingOptions,
  ) {
    this.path = writer.path;
    this.tapeId = init.tape_id;
    this.run = writer.run;
    this.#writer = writer;
    this.#init = init;
    this.#durability = options.durability ?? "flush";
    this.#maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#epochNs = tapeEpochNs(init.created_at);
    this.#origin = origin;
  }

  /**
   * Opens the store at `location` (created when missing; its lock taken)
   * and starts the recording: a new run whose first frame is the `init`
   * metadata, committed before this resolves.
   *
   * @throws what `SealedWriter.open` throws (a locked, damaged or foreign
   *   store, recipients out of range), and the store's write errors.
   */
  static async open(
    location: SealedLocation,
    options: SealedRecordingOptions,
  ): Promise<SealedRecording> {
    const created = new Date();
    // ts 0 is created_at, as on a tape: opening the store takes time of the recording.
    const origin = performance.now();
    const tapeId = options.tapeId ?? newTapeId(created);
    let writer: SealedWriter;
    try {
      writer = await SealedWriter.open(location, {
        recipients: options.recipients,
        stream: streamName(location),
        producer: "spool record",
        flushMs: options.flushIntervalMs ?? 50,
        workers: options.workers ?? 0,
      });
    } catch (error) {
      throw storeError("open sealed store", describeLocation(location), error);
    }
    const init: RecordingInit = {
      type: "init",
      version: SEALED_RECORDING_VERSION,
      tape_id: tapeId,
      session_id: crypto.randomUUID(),
      created_at: created.toISOString(),
      name: options.name ?? tapeId,
      description: options.description ?? "",
      tags: [...options.tags ?? []],
      transport: options.transport ?? "stdio",
      environment: { ...recordingEnvironment(), ...options.environment },
      first_seq: writer.lastSeq + 1,
    };
    try {
      writer.appendMetadata({ ...init });
      await writer.flush();
    } catch (error) {
      await writer.abort();
      throw storeError("write sealed store", writer.path, error);
    }
    return new SealedRecording(writer, init, origin, options);
  }

  /**
   * Records one frame as the store's next record. Resolves with the frame
   * as a tape would hold it (without its correlation record) once it is
   * as durable as asked.
   *
   * Rejects with {@linkcode LineTooLongError} for a message over the limit
   * (nothing is recorded and the recording goes on), `TypeError` for a
   * frame that is not valid or a recording that has ended, and the store's
   * error once it has failed.
   */
  append(frame: FrameInput): Promise<FrameRecord> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing) {
      return Promise.reject(
        new TypeError(`Cannot append to recording '${this.path}': it has ended`),
      );
    }
    let made: { record: FrameRecord; envText: string; message: StreamMessage };
    try {
      made = this.#frame(frame);
    } catch (error) {
      // The frame's own fault: the recording goes on.
      return Promise.reject(error);
    }
    try {
      this.#writer.append(made.message);
    } catch (error) {
      return Promise.reject(this.#stop(error));
    }
    this.#count(made);
    const { record } = made;
    if (this.#durability !== "buffered") return this.#commit().then(() => record);
    return this.#writer.ready().then(() => record, (error: unknown) => {
      throw this.#stop(error);
    });
  }

  /**
   * Ends the recording: the `end` metadata frame (status `finalized`) and
   * the run's final segment are committed. Calling it again returns the
   * same result. After a failure of the store it ends what it can and
   * rejects with that error.
   */
  finalize(): Promise<TapeMeta> {
    return this.#ending ??= this.#end(undefined);
  }

  /**
   * Ends the recording because it failed: what was appended is committed
   * with an `end` metadata frame of status `error` holding the error's
   * message, when the store still works. After `finalize` it changes
   * nothing and returns the last meta.
   */
  fail(error: unknown): Promise<TapeMeta> {
    if (this.#ending !== undefined) return this.#ending.catch(() => this.#meta());
    return this.#ending = this.#end({ error });
  }

  // The frame as the tape writer makes it (validated; the next seq, its ts and action), and its record.
  #frame(input: FrameInput): { record: FrameRecord; envText: string; message: StreamMessage } {
    const { dir, env, flags, transport } = input;
    if (dir !== "c2s" && dir !== "s2c") {
      throw new TypeError(`Frame direction must be 'c2s' or 's2c', got '${String(dir)}'`);
    }
    let envText: string | undefined;
    try {
      envText = input.envJson ?? JSON.stringify(env);
    } catch (error) {
      throw new TypeError(`Frame envelope cannot be written as JSON: ${errorMessage(error)}`);
    }
    if (envText === undefined) {
      throw new TypeError("Frame envelope cannot be written as JSON: it is undefined");
    }
    const action = classifyMessage(env, flags?.includes(TEXT_FLAG) ?? false);
    const seq = this.#writer.lastSeq + 1;
    const record: FrameRecord = { type: "frame", seq, ts: this.#now(), dir, env, action };
    if (transport !== undefined) record.transport = transport;
    if (flags !== undefined) record.flags = flags;
    const message = frameToMessage({ frame: record, envText }, this.#epochNs);
    if (message.payload.length > this.#maxLine) {
      throw new LineTooLongError(this.path, message.payload.length, this.#maxLine);
    }
    return { record, envText, message };
  }

  // Counts a recorded frame, and correlates it as the tape would.
  #count(
    { record, envText, message }: { record: FrameRecord; envText: string; message: StreamMessage },
  ): void {
    const seen = this.#correlator.observe(record, envText);
    if (seen.correlationId !== undefined) record.correlation_id = seen.correlationId;
    const stats = this.#stats;
    if (seen.record !== undefined && seen.record.status !== "ok") stats.errors++;
    if (seen.evicted !== undefined) stats.errors++;
    stats.last_seq = record.seq;
    stats.frame_count++;
    stats.duration_ms = record.ts;
    stats.bytes += message.payload.length;
    stats.message_counts[record.action!]++;
    this.#byDir[record.dir]++;
  }

  // Milliseconds since the recording started, to the microsecond, never going back.
  #now(): number {
    const ts = Math.round((performance.now() - this.#origin) * 1000) / 1000;
    if (ts < this.#tsFloor) return this.#tsFloor;
    this.#tsFloor = ts;
    return ts;
  }

  // Group commit: the frames appended while a commit runs share the next one.
  #commit(): Promise<void> {
    const batch = this.#batch ??= { frames: 0, done: Promise.withResolvers<void>() };
    batch.frames++;
    this.#committing ??= this.#commitLoop();
    return batch.done.promise;
  }

  async #commitLoop(): Promise<void> {
    while (this.#batch !== undefined) {
      for (let i = 0; i < GROUP_COMMIT_YIELDS; i++) await undefined;
      const batch = this.#batch;
      this.#batch = undefined;
      try {
        if (this.#failure !== undefined) throw this.#failure;
        await this.#writer.flush();
      } catch (error) {
        batch.done.reject(this.#stop(error));
        continue;
      }
      this.#commits++;
      if (batch.frames > this.#maxBatch) this.#maxBatch = batch.frames;
      batch.done.resolve();
    }
    this.#committing = undefined;
  }

  // Keeps the store's first failure, which stops the recording, and returns it.
  #stop(error: unknown): unknown {
    return this.#failure ??= storeError("write sealed store", this.path, error);
  }

  async #end(failed: { error: unknown } | undefined): Promise<TapeMeta> {
    this.#closing = true;
    await this.#committing;
    if (failed !== undefined) this.#error = errorMessage(failed.error);
    if (this.#failure === undefined) {
      try {
        for (const _ of this.#correlator.timeoutPending()) this.#stats.errors++;
        this.#writer.appendMetadata(this.#endFacts(failed === undefined ? "finalized" : "error"));
        await this.#writer.close();
        this.#commits++;
      } catch (error) {
        this.#stop(error);
      }
    }
    if (this.#failure !== undefined) {
      await this.#writer.abort();
      this.#status = "error";
      this.#error ??= errorMessage(this.#failure);
      if (failed === undefined) throw this.#failure;
      return this.#meta();
    }
    this.#status = failed === undefined ? "finalized" : "error";
    if (failed === undefined) this.#finalizedAt = new Date().toISOString();
    return this.#meta();
  }

  #endFacts(status: TapeStatus): RecordingEnd {
    const s = this.#stats;
    const some = s.frame_count > 0;
    const facts: RecordingEnd = {
      type: "end",
      version: SEALED_RECORDING_VERSION,
      tape_id: this.tapeId,
      session_id: this.#init.session_id,
      ended_at: new Date().toISOString(),
      status,
      protocol_version: this.#correlator.protocolVersion ?? null,
      stats: {
        frame_count: s.frame_count,
        frames_by_dir: { ...this.#byDir },
        first_seq: some ? this.#init.first_seq : null,
        last_seq: some ? s.last_seq : null,
        duration_ms: s.duration_ms,
        payload_bytes: s.bytes,
        message_counts: { ...s.message_counts },
        errors: s.errors,
      },
    };
    if (this.#error !== undefined) facts.error = this.#error;
    return facts;
  }

  #meta(): TapeMeta {
    const init = this.#init;
    const meta: TapeMeta = {
      tape_id: this.tapeId,
      name: init.name,
      description: init.description,
      tags: [...init.tags],
      created_at: init.created_at,
      updated_at: new Date().toISOString(),
      finalized_at: this.#finalizedAt,
      status: this.#status,
      transport: init.transport,
      protocol_version: this.#correlator.protocolVersion ?? null,
      environment: { ...init.environment },
      stats: copyStats(this.#stats),
      performance: {
        durability: this.#durability,
        writes: this.#commits,
        syncs: this.#commits,
        max_batch: this.#maxBatch,
      },
    };
    if (this.#error !== undefined) meta.error = this.#error;
    return meta;
  }
}

// What the file system refused, said as a tape's write errors are; the
// store's own errors (locked, damaged, a cipher worker lost) name it already.
function storeError(action: string, path: string, error: unknown): unknown {
  const os = Object.values(Deno.errors).some((kind) => error instanceof kind) ||
    typeof (error as { code?: unknown } | null)?.code === "string";
  return os ? new TapeWriteError(action, path, error) : error;
}

// The stream's name in the run header (in clear): the store directory's or the SQLite stream's.
function streamName(location: SealedLocation): string {
  if (location.kind === "sqlite") return location.stream ?? "default";
  return location.dir.replace(/\/+$/, "").split("/").at(-1) || "record";
}
