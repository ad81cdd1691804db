/**
 * Writes a tape: an append-only JSON Lines file plus its `.meta.json`
 * companion, with the durability chosen per tape.
 *
 * @module
 */

import { syncDirectory } from "./sync_directory.ts";
import { join } from "node:path";
import { AppendWaiters } from "./_append_waiters.ts";
import {
  correlationLine,
  correlationMember,
  flagsMember,
  frameLineHead,
  MAX_CORRELATION_MEMBER,
  utf8Length,
} from "./_tape_line_format.ts";
import { scanTape, type TapeScan } from "./_tape_scan.ts";
import { Correlator } from "./correlator.ts";
import { errorMessage } from "./error_message.ts";
import { MAX_LINE_BYTES } from "./line_splitter.ts";
import { classifyMessage } from "./message_kind.ts";
import { isMetaTempFile, metaPathFor, readMeta, writeMetaAtomic } from "./meta_file.ts";
import { recordingEnvironment } from "./recording_environment.ts";
import { LineTooLongError, TapeWriteError } from "./tape_write_errors.ts";
import { TEXT_FLAG } from "./text_frame.ts";
import { isSafeTapeId, newTapeId } from "./tape_id.ts";
import { TAPE_DIRECTORY_MODE, TAPE_FILE_MODE } from "./tape_permissions.ts";
import {
  type CheckpointRecord,
  type CorrelationRecord,
  type FrameInput,
  type FrameRecord,
  type InitRecord,
  TAPE_FORMAT_VERSION,
  type TapeDurability,
  type TapeEnvironment,
  type TapeMeta,
  type TapePerformance,
  type TapeStats,
  type TapeStatus,
} from "./types.ts";
import { copyStats, emptyStats } from "./tape_stats.ts";

/**
 * Options of {@linkcode TapeWriter.create} and {@linkcode TapeWriter.reopen}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter, type TapeWriterOptions } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const options: TapeWriterOptions = { name: "demo", durability: "buffered", checkpointEveryFrames: 100 };
 * const writer = await TapeWriter.create(dir, options);
 * assert.equal((await writer.finalize()).name, "demo");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TapeWriterOptions {
  /** Human name of the tape; defaults to the tape id. */
  name?: string;
  /** Free-text description of the tape; defaults to empty. */
  description?: string;
  /** Labels for finding the tape; defaults to none. */
  tags?: string[];
  /** How hard to work to keep each frame; default `flush`. */
  durability?: TapeDurability;
  /** `buffered`: longest time, in ms, a frame waits in memory; default 50. */
  flushIntervalMs?: number;
  /** `buffered`: bytes held in memory before they are written; default 64 KiB. */
  flushBytes?: number;
  /** A checkpoint after this many frames; default 1000. */
  checkpointEveryFrames?: number;
  /** A checkpoint after this many ms with new frames; default 60 000. */
  checkpointEveryMs?: number;
  /** The meta file is rewritten at most this often while recording; default 10 000. */
  metaRefreshMs?: number;
  /** Transport of the tape, kept in its meta file; default `stdio`. */
  transport?: string;
  /**
   * Where the tape is recorded (typically the `command`); merged over what
   * the writer finds itself ({@linkcode recordingEnvironment}), which is
   * merged over the meta file's on `reopen`.
   */
  environment?: TapeEnvironment;
  /** Id of a new tape; default {@linkcode newTapeId}. Ignored by `reopen`. */
  tapeId?: string;
  /** Longest line accepted, in bytes without the newline; default 10 MiB. */
  maxLineBytes?: number;
  /**
   * Protocol version for the `init` record, only when it is truly known
   * before the first frame (for example a transport that fixes it). Left
   * out, `init` says `null` and the version is learnt from the recorded
   * `initialize` exchange.
   */
  protocolVersion?: string;
}

const INITIAL_BUFFER = 256 * 1024;
/** Microtask turns an fsync group waits for concurrent appenders to join. */
const GROUP_COMMIT_YIELDS = 4;
const DURABILITIES: ReadonlySet<string> = new Set(["buffered", "flush", "fsync"]);

interface Settings {
  name: string | undefined;
  description: string;
  tags: string[];
  durability: TapeDurability;
  flushIntervalMs: number;
  flushBytes: number;
  checkpointEveryFrames: number;
  checkpointEveryMs: number;
  metaRefreshMs: number;
  transport: string;
  environment: TapeEnvironment | undefined;
  maxLineBytes: number;
}

interface Start {
  file: Deno.FsFile;
  path: string;
  tapeId: string;
  createdAt: string;
  /** `ts` of the next frame is at least this (the last frame's ts after a reopen). */
  tsFloor: number;
  /** performance.now() at ts 0. */
  origin: number;
  stats: TapeStats;
  protocolVersion: string | null;
  correlator: Correlator;
  meta: TapeMeta | undefined;
  settings: Settings;
}

/**
 * Appends frames to a tape. One writer per tape; appends are written in
 * the order they were made, so sequence order on disk is the order of the
 * calls. Memory is bounded: a frame is serialized straight into a reused
 * buffer and leaves it on the next write.
 *
 * Durability, per tape:
 * - `buffered`: `append` resolves at once; lines are written every
 *   `flushIntervalMs` or when `flushBytes` are waiting. A crash loses what
 *   was still buffered.
 * - `flush` (default): `append` resolves once its line is handed to the OS
 *   with a write system call, so it survives the process being killed.
 *   The first append of a tick is written at once; appends made after it
 *   in the same tick share the next write.
 * - `fsync`: `append` resolves once its line is on disk (fdatasync). Frames
 *   appended while a sync runs are committed together by the next one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const tape = await TapeWriter.create(dir, { name: "demo" });
 * await tape.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await tape.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * const meta = await tape.finalize();
 * assert.equal(meta.status, "finalized");
 * assert.equal(meta.stats.frame_count, 2);
 * assert.equal(meta.stats.correlations, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TapeWriter {
  /** Id of the tape, also the stem of its file names. */
  readonly tapeId: string;
  /** Path of the `.jsonl` file. */
  readonly path: string;
  /** Path of the `.meta.json` file. */
  readonly metaPath: string;

  #file: Deno.FsFile | undefined;
  #settings: Settings;
  #environment: TapeEnvironment;
  #durability: TapeDurability;
  #maxLine: number;
  #encoder = new TextEncoder();
  #correlator: Correlator;

  // Lines serialized since the last write: first as strings, encoded in one go per batch
  // (one encode call per batch instead of per line), then as bytes in a reused buffer.
  #lines: string[] = [];
  #lineChars = 0;
  #buf = new Uint8Array(INITIAL_BUFFER);
  #len = 0;
  #batchFrames = 0;
  /** Size of the file: everything before it was written successfully. */
  #committed: number;

  /** Appends waiting for their line to be written (flush) or synced (fsync). */
  #waiters = new AppendWaiters();

  #drainScheduled = false;
  /** A flush-mode append was written straight away in the current tick. */
  #tickWrote = false;
  #endTick = (): void => {
    this.#tickWrote = false;
  };
  #syncLoop: Promise<void> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #houseTimer: ReturnType<typeof setInterval> | undefined;

  #origin: number;
  #tsFloor: number;
  #createdAt: string;
  #stats: TapeStats;
  #perf: TapePerformance;
  #protocolVersion: string | null;
  #status: TapeStatus = "recording";
  #finalizedAt: string | null = null;
  #errorMessage: string | undefined;

  #framesSinceCheckpoint = 0;
  #lastCheckpointTs: number;
  #lastMetaTs: number;
  #metaSeq = -1;
  #metaChain: Promise<void> = Promise.resolve();
  #metaQueued: Promise<void> | undefined;

  /** Set once finalize or fail started: no more appends. */
  #closing = false;
  #ending: Promise<TapeMeta> | undefined;
  #failure: TapeWriteError | undefined;

  private constructor(start: Start) {
    this.tapeId = start.tapeId;
    this.path = start.path;
    this.metaPath = metaPathFor(start.path);
    this.#file = start.file;
    this.#settings = start.settings;
    this.#durability = start.settings.durability;
    this.#maxLine = start.settings.maxLineBytes;
    this.#correlator = start.correlator;
    this.#committed = start.stats.bytes;
    this.#origin = start.origin;
    this.#tsFloor = start.tsFloor;
    this.#createdAt = start.createdAt;
    this.#stats = start.stats;
    this.#protocolVersion = start.protocolVersion;
    this.#perf = {
      durability: start.settings.durability,
      writes: 0,
      syncs: 0,
      max_batch: 0,
    };
    this.#lastCheckpointTs = start.tsFloor;
    this.#lastMetaTs = start.tsFloor;
    const meta = start.meta;
    if (meta !== undefined) {
      if (this.#settings.name === undefined) this.#settings.name = meta.name;
      if (this.#settings.description === "") this.#settings.description = meta.description;
      if (this.#settings.tags.length === 0) this.#settings.tags = meta.tags;
    }
    // A reopened tape keeps what only its first recorder knew (the command); the rest
    // describes the process writing it from now on.
    this.#environment = {
      ...meta?.environment,
      ...recordingEnvironment(),
      ...this.#settings.environment,
    };
  }

  /**
   * Starts a new tape in `dir` (created if missing): writes its `init`
   * record and a meta file with status `recording`. Never overwrites an
   * existing tape. What it holds crossed the wire, so the tape and its
   * meta file are created readable by their owner only (0600), and a
   * directory created for them 0700; an existing directory keeps its
   * bits, and the umask may take bits away.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const tape = await TapeWriter.create(`${dir}/tapes`, { durability: "buffered", tags: ["demo"] });
   * assert.match(tape.path, /\.jsonl$/);
   * assert.equal(tape.status, "recording");
   * await tape.finalize();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async create(dir: string, options: TapeWriterOptions = {}): Promise<TapeWriter> {
    const settings = resolveSettings(options);
    const tapeId = options.tapeId ?? newTapeId();
    if (!isSafeTapeId(tapeId)) {
      throw new TypeError(
        `Tape id '${tapeId}' is not a safe file name (letters, digits, '.', '_', '-')`,
      );
    }
    if (options.protocolVersion !== undefined && typeof options.protocolVersion !== "string") {
      throw new TypeError("Option 'protocolVersion' must be a string");
    }
    try {
      await Deno.mkdir(dir, { recursive: true, mode: TAPE_DIRECTORY_MODE });
    } catch (error) {
      throw new TapeWriteError("create tape directory", dir, error);
    }
    const path = join(dir, `${tapeId}.jsonl`);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, {
        write: true,
        append: true,
        createNew: true,
        mode: TAPE_FILE_MODE,
      });
    } catch (error) {
      throw new TapeWriteError("create tape", path, error);
    }
    const created = new Date();
    const origin = performance.now();
    const init: InitRecord = {
      type: "init",
      version: TAPE_FORMAT_VERSION,
      tape_id: tapeId,
      session_id: crypto.randomUUID(),
      created_at: created.toISOString(),
      protocol_version: options.protocolVersion ?? null,
    };
    const writer = new TapeWriter({
      file,
      path,
      tapeId,
      createdAt: init.created_at,
      tsFloor: 0,
      origin,
      stats: emptyStats(),
      protocolVersion: init.protocol_version,
      correlator: new Correlator(),
      meta: undefined,
      settings,
    });
    try {
      writer.#put(JSON.stringify(init));
      writer.#writeBuffer();
      if (settings.durability === "fsync") {
        await writer.#syncFile();
        syncDirectory(dir);
      }
      await writer.#refreshMeta();
    } catch (error) {
      file.close();
      // Nothing was recorded yet: leave no half-made tape behind.
      await Deno.remove(path).catch(() => {});
      throw error;
    }
    writer.#startHousekeeping();
    return writer;
  }

  /**
   * Opens an existing tape to append more frames, typically one left by a
   * writer that was killed. A partial last line is cut off (the file is
   * truncated to the end of its last complete line), the tape is read once
   * to restore the sequence number, statistics, protocol version and the
   * requests still waiting for an answer, and the meta file goes back to
   * `recording`. A finalized tape cannot be reopened. Reading is streamed,
   * so memory stays bounded; time grows with the size of the tape.
   *
   * Options are those of `create` (`tapeId` and `protocolVersion` are
   * ignored); name, description, tags and environment default to the meta
   * file's when it can be read.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const first = await TapeWriter.create(dir);
   * await first.append({ dir: "c2s", env: { jsonrpc: "2.0", method: "hello" } });
   * await first.fail(new Error("simulated crash"));
   * const again = await TapeWriter.reopen(first.path);
   * assert.equal((await again.append({ dir: "c2s", env: "line", flags: ["text"] })).seq, 2);
   * await again.finalize();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async reopen(jsonlPath: string, options: TapeWriterOptions = {}): Promise<TapeWriter> {
    const settings = resolveSettings(options);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(jsonlPath, { read: true, write: true, append: true });
    } catch (error) {
      throw new TapeWriteError("open tape", jsonlPath, error);
    }
    let writer: TapeWriter;
    let scan: TapeScan;
    try {
      scan = await scanTape(file, jsonlPath);
      if (scan.finalized) {
        throw new TypeError(`Cannot reopen tape '${jsonlPath}': it is finalized`);
      }
      if (scan.completeEnd < scan.size) {
        try {
          await file.truncate(scan.completeEnd);
        } catch (error) {
          throw new TapeWriteError("trim tape", jsonlPath, error);
        }
      }
      const metaPath = metaPathFor(jsonlPath);
      const meta = await readMeta(metaPath).catch(() => undefined);
      const createdMs = Date.parse(scan.init.created_at);
      const sinceCreated = Number.isFinite(createdMs) ? Date.now() - createdMs : 0;
      const tsFloor = Math.max(scan.lastTs, sinceCreated);
      writer = new TapeWriter({
        file,
        path: jsonlPath,
        tapeId: scan.init.tape_id,
        createdAt: scan.init.created_at,
        tsFloor,
        origin: performance.now() - tsFloor,
        stats: scan.stats,
        protocolVersion: scan.protocolVersion,
        correlator: scan.correlator,
        meta,
        settings,
      });
    } catch (error) {
      file.close();
      throw error;
    }
    try {
      // The killed writer may have written a response but not the record that pairs it.
      if (scan.missingCorrelation !== undefined) {
        writer.#putCorrelation(scan.missingCorrelation);
        writer.#writeBuffer();
      }
      if (settings.durability === "fsync") await writer.#syncFile();
      await writer.#refreshMeta();
    } catch (error) {
      file.close();
      throw error;
    }
    await removeStaleMetaTemps(writer.metaPath);
    writer.#startHousekeeping();
    return writer;
  }

  /** Counters of the tape so far (a copy). */
  get stats(): Readonly<TapeStats> {
    this.#encodeLines();
    return copyStats(this.#stats);
  }

  /** Lifecycle state, as written to the meta file. */
  get status(): TapeStatus {
    return this.#status;
  }

  /** Protocol version negotiated by the recorded `initialize`, or `null` while unknown. */
  get protocolVersion(): string | null {
    return this.#protocolVersion;
  }

  /**
   * Records one frame: gives it the next sequence number, its time since
   * the tape started, its action and (for requests and matched responses)
   * a correlation id, then writes it. A matched response is followed on
   * the tape by its `correlation` record. Resolves with the record as
   * written, once the tape's durability is met.
   *
   * Rejects with {@linkcode LineTooLongError} for a frame over the line
   * limit (nothing is written and the tape goes on), `TypeError` for a
   * frame that is not valid or a tape that is finalized, and
   * {@linkcode TapeWriteError} when the file cannot be written.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const tape = await TapeWriter.create(dir);
   * const frame = await tape.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 7, method: "tools/list" } });
   * assert.equal(frame.seq, 1);
   * assert.equal(frame.action, "request");
   * assert.equal(frame.correlation_id, "c2s-1");
   * await tape.finalize();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  append(frame: FrameInput): Promise<FrameRecord> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(this.#closedError("append to"));
    let record: FrameRecord;
    try {
      record = this.#accept(frame);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#durability === "buffered") {
      this.#kickBuffered();
      return Promise.resolve(record);
    }
    if (this.#durability === "flush" && !this.#drainScheduled && !this.#tickWrote) {
      // The first append of a tick is written at once, with no queueing (a recorder's
      // usual case: one message at a time). Appends made later in the same tick wait for
      // one shared write.
      this.#tickWrote = true;
      queueMicrotask(this.#endTick);
      try {
        this.#writeBuffer();
      } catch (error) {
        this.#setFailure(asWriteError(error, this.path));
        return Promise.reject(this.#failure);
      }
      return Promise.resolve(record);
    }
    const written = this.#waiters.add(record);
    this.#scheduleDrain();
    return written;
  }

  /**
   * Marks the tape `paused` or `recording` again and rewrites the meta file
   * at once. Purely a label for readers: the writer still accepts frames.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const tape = await TapeWriter.create(dir);
   * await tape.setStatus("paused");
   * assert.equal(tape.status, "paused");
   * await tape.finalize();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async setStatus(status: "recording" | "paused"): Promise<void> {
    if (status !== "recording" && status !== "paused") {
      throw new TypeError(`Status must be 'recording' or 'paused', got '${String(status)}'`);
    }
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closing) throw this.#closedError("change the status of");
    if (this.#status === status) return;
    this.#status = status;
    await this.#refreshMeta();
  }

  /**
   * Writes what is buffered now and, with `fsync` durability, syncs it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const tape = await TapeWriter.create(dir, { durability: "buffered" });
   * await tape.append({ dir: "s2c", env: { jsonrpc: "2.0", method: "notifications/progress" } });
   * await tape.flush();
   * assert.equal((await Deno.readTextFile(tape.path)).split("\n").length, 3);
   * await tape.finalize();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async flush(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#file === undefined) return;
    if (this.#durability === "fsync") {
      while (this.#syncLoop !== undefined) await this.#syncLoop;
      if (this.#hasPending()) await (this.#syncLoop = this.#runSyncLoop());
    } else {
      this.#drain();
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Ends the tape: requests still unanswered get a `timeout` correlation
   * record, a last checkpoint with `final: true` is written, the file is
   * synced and closed, and the meta file says `finalized`. Calling it again
   * returns the same result. After a failed write it still ends the tape
   * (closes the file, sets the meta status `error`, best effort on a full
   * disk) and rejects with that {@linkcode TapeWriteError}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const tape = await TapeWriter.create(dir);
   * await tape.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "slow" } });
   * const meta = await tape.finalize();
   * assert.equal(meta.status, "finalized");
   * assert.equal(meta.stats.errors, 1);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  finalize(): Promise<TapeMeta> {
    if (this.#ending !== undefined) return this.#ending;
    // After a failed write too: #finalize closes the file, sets status error and rethrows.
    this.#ending = this.#finalize();
    return this.#ending;
  }

  /**
   * Ends the tape because recording failed: writes what it can, closes the
   * file and sets the meta status to `error` with the error's message (best
   * effort: on a full disk the meta file may stay as it was). The
   * tape stays readable up to its last complete record and can be
   * continued with {@linkcode TapeWriter.reopen}. After `finalize` it
   * changes nothing and returns the final meta.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeWriter } from "./tape_writer.ts";
   * const dir = await Deno.makeTempDir();
   * const tape = await TapeWriter.create(dir);
   * const meta = await tape.fail(new Error("server vanished"));
   * assert.equal(meta.status, "error");
   * assert.equal(meta.error, "server vanished");
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  fail(error: unknown): Promise<TapeMeta> {
    if (this.#ending !== undefined) return this.#ending.catch(() => this.#buildMeta());
    this.#ending = this.#fail(error);
    return this.#ending;
  }

  // ---- accepting a frame ---------------------------------------------------

  #accept(input: FrameInput): FrameRecord {
    const dir = input.dir;
    if (dir !== "c2s" && dir !== "s2c") {
      throw new TypeError(`Frame direction must be 'c2s' or 's2c', got '${String(dir)}'`);
    }
    const env = input.env;
    const flags = input.flags;
    let isText = false;
    if (flags !== undefined) {
      if (!Array.isArray(flags) || flags.some((f) => typeof f !== "string")) {
        throw new TypeError("Frame flags must be an array of strings");
      }
      isText = flags.includes(TEXT_FLAG);
    }
    const transport = input.transport;
    if (transport !== undefined && typeof transport !== "string") {
      throw new TypeError("Frame transport must be a string");
    }
    let envJson = input.envJson;
    if (envJson !== undefined) {
      if (typeof envJson !== "string" || envJson === "" || isText) {
        throw new TypeError("Frame envJson must be a non-empty string, and only on JSON frames");
      }
      if (envJson.includes("\n") || envJson.includes("\r")) {
        throw new TypeError("Frame envJson must not contain a line break");
      }
    } else {
      try {
        envJson = JSON.stringify(env);
      } catch (error) {
        throw new TypeError(`Frame envelope cannot be written as JSON: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    if (envJson === undefined) {
      throw new TypeError("Frame envelope cannot be written as JSON: it is undefined");
    }
    const action = classifyMessage(env, isText);
    const seq = this.#stats.last_seq + 1;
    const ts = this.#now();
    const head = frameLineHead(seq, ts, dir, envJson, action, transport);
    const flagsJson = flagsMember(flags);
    const record: FrameRecord = { type: "frame", seq, ts, dir, env, action };
    if (transport !== undefined) record.transport = transport;
    if (flags !== undefined) record.flags = flags;

    // Only lines that might be near the limit pay for an exact count.
    if ((head.length + flagsJson.length + 1 + MAX_CORRELATION_MEMBER) * 3 > this.#maxLine) {
      const cid = this.#correlator.peek(record, input.envJson);
      const bytes = utf8Length(head) + utf8Length(flagsJson) + 1 +
        (cid === undefined ? 0 : correlationMember(cid).length);
      if (bytes > this.#maxLine) throw new LineTooLongError(this.path, bytes, this.#maxLine);
    }

    // The text given is what the tape holds; without it the line is the parsed value's JSON.
    const seen = this.#correlator.observe(record, input.envJson);
    const cid = seen.correlationId;
    let line = head;
    if (cid !== undefined) {
      record.correlation_id = cid;
      line += correlationMember(cid);
    }
    line += flagsJson + "}";
    this.#put(line);

    const stats = this.#stats;
    stats.last_seq = seq;
    stats.frame_count++;
    stats.duration_ms = ts;
    stats.message_counts[action]++;
    this.#batchFrames++;
    this.#framesSinceCheckpoint++;

    if (seen.evicted !== undefined) this.#putCorrelation(seen.evicted);
    if (seen.record !== undefined) this.#putCorrelation(seen.record);
    if (seen.protocolVersion !== undefined) this.#protocolVersion = seen.protocolVersion;

    if (
      this.#framesSinceCheckpoint >= this.#settings.checkpointEveryFrames ||
      ts - this.#lastCheckpointTs >= this.#settings.checkpointEveryMs
    ) {
      this.#putCheckpoint(false, ts);
    }
    if (ts - this.#lastMetaTs >= this.#settings.metaRefreshMs) this.#refreshMetaInBackground();
    return record;
  }

  #putCorrelation(record: CorrelationRecord): void {
    this.#put(correlationLine(record));
    this.#stats.correlations++;
    if (record.status !== "ok") this.#stats.errors++;
  }

  #putCheckpoint(final: boolean, ts: number): void {
    // stats.bytes must be exact: the checkpoint says where it starts.
    this.#encodeLines();
    this.#stats.checkpoints++;
    const record: CheckpointRecord = {
      type: "checkpoint",
      checkpoint_at: new Date().toISOString(),
      seq: this.#stats.last_seq,
      stats: copyStats(this.#stats),
      protocol_version: this.#protocolVersion,
    };
    if (final) record.final = true;
    this.#put(JSON.stringify(record));
    this.#framesSinceCheckpoint = 0;
    this.#lastCheckpointTs = ts;
  }

  /** Queues one serialized line (without its newline) for the next write. */
  #put(line: string): void {
    this.#lines.push(line);
    this.#lineChars += line.length + 1;
  }

  #hasPending(): boolean {
    return this.#len > 0 || this.#lines.length > 0;
  }

  /** Encodes the queued lines into the byte buffer; keeps `stats.bytes` exact. */
  #encodeLines(): void {
    const lines = this.#lines;
    if (lines.length === 0) return;
    let text: string;
    if (lines.length === 1) {
      text = lines[0]! + "\n";
    } else {
      lines.push("");
      text = lines.join("\n");
    }
    lines.length = 0;
    this.#lineChars = 0;
    // Sized for ASCII; the loop grows the buffer for text that needs more.
    if (this.#len + text.length > this.#buf.length) this.#grow(this.#len + text.length);
    while (true) {
      const target = this.#len === 0 ? this.#buf : this.#buf.subarray(this.#len);
      const { read, written } = this.#encoder.encodeInto(text, target);
      this.#len += written;
      this.#stats.bytes += written;
      if (read === text.length) return;
      text = text.slice(read);
      this.#grow(this.#len + text.length * 3);
    }
  }

  #grow(needed: number): void {
    let size = this.#buf.length * 2;
    while (size < needed) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#buf.subarray(0, this.#len));
    this.#buf = bigger;
  }

  #now(): number {
    const ts = Math.round((performance.now() - this.#origin) * 1000) / 1000;
    if (ts < this.#tsFloor) return this.#tsFloor;
    this.#tsFloor = ts;
    return ts;
  }

  // ---- writing --------------------------------------------------------------

  #kickBuffered(): void {
    if (this.#lineChars + this.#len >= this.#settings.flushBytes) {
      this.#scheduleDrain();
    } else if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(this.#onFlushTimer, this.#settings.flushIntervalMs);
    }
  }

  #onFlushTimer = (): void => {
    this.#flushTimer = undefined;
    this.#drain();
  };

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#onDrain);
  }

  #onDrain = (): void => {
    this.#drainScheduled = false;
    if (this.#durability === "fsync") {
      // Only a loop with work to do: one without ends before it could be stored, and a
      // settled loop left stored would keep finalize and fail waiting for it forever (an
      // append queued this drain just before the loop running then failed).
      const work = this.#hasPending() && this.#failure === undefined && this.#file !== undefined;
      if (this.#syncLoop === undefined && work) this.#syncLoop = this.#runSyncLoop();
    } else {
      this.#drain();
    }
  };

  /** Writes the buffer now and settles the appends it carried (buffered and flush). */
  #drain(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (!this.#hasPending() || this.#file === undefined || this.#failure !== undefined) return;
    try {
      this.#writeBuffer();
    } catch (error) {
      this.#setFailure(asWriteError(error, this.path));
      return;
    }
    this.#waiters.resolveAll();
  }

  /** Group commit: one write and one fdatasync for every frame that arrived meanwhile. */
  async #runSyncLoop(): Promise<void> {
    try {
      while (this.#hasPending() && this.#failure === undefined && this.#file !== undefined) {
        // Appenders woken by the previous commit join this one before it is cut.
        for (let i = 0; i < GROUP_COMMIT_YIELDS; i++) await undefined;
        const batch = this.#waiters.take();
        try {
          this.#writeBuffer();
          await this.#syncFile();
        } catch (error) {
          const failure = asWriteError(error, this.path);
          batch.rejectAll(failure);
          this.#setFailure(failure);
          return;
        }
        batch.resolveAll();
      }
    } finally {
      this.#syncLoop = undefined;
    }
  }

  /**
   * Hands the buffer to the OS. On failure the file is cut back to the end
   * of the last complete batch, so a partial line never stays behind, and
   * a {@linkcode TapeWriteError} is thrown.
   */
  #writeBuffer(): void {
    this.#encodeLines();
    const len = this.#len;
    if (len === 0) return;
    const file = this.#file;
    if (file === undefined) throw this.#closedError("write to");
    let done = 0;
    try {
      while (done < len) done += file.writeSync(this.#buf.subarray(done, len));
    } catch (error) {
      if (done > 0) {
        try {
          file.truncateSync(this.#committed);
        } catch { /* reopen and readers cope with a partial last line */ }
      }
      throw new TapeWriteError("write tape", this.path, error);
    }
    this.#committed += len;
    this.#len = 0;
    this.#perf.writes++;
    if (this.#batchFrames > this.#perf.max_batch) this.#perf.max_batch = this.#batchFrames;
    this.#batchFrames = 0;
    if (this.#buf.length > INITIAL_BUFFER * 16) this.#buf = new Uint8Array(INITIAL_BUFFER);
  }

  async #syncFile(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    try {
      await file.syncData();
    } catch (error) {
      throw new TapeWriteError("sync tape", this.path, error);
    }
    this.#perf.syncs++;
  }

  /** Stops the writer after a failed write: nothing more is accepted or written. */
  #setFailure(failure: TapeWriteError): void {
    if (this.#failure === undefined) this.#failure = failure;
    this.#stopTimers();
    this.#waiters.rejectAll(this.#failure);
    this.#len = 0;
    this.#lines.length = 0;
    this.#lineChars = 0;
    this.#batchFrames = 0;
  }

  // ---- housekeeping: checkpoints and meta -----------------------------------

  #startHousekeeping(): void {
    const period = Math.min(this.#settings.checkpointEveryMs, this.#settings.metaRefreshMs);
    const timer = setInterval(this.#onHousekeeping, Math.max(1, period));
    // A forgotten writer must not keep the process alive; the tape stays readable.
    Deno.unrefTimer(timer);
    this.#houseTimer = timer;
  }

  #onHousekeeping = (): void => {
    if (this.#closing || this.#failure !== undefined) return;
    const now = this.#now();
    if (
      this.#framesSinceCheckpoint > 0 &&
      now - this.#lastCheckpointTs >= this.#settings.checkpointEveryMs
    ) {
      this.#putCheckpoint(false, now);
      if (this.#durability === "buffered") this.#kickBuffered();
      else this.#scheduleDrain();
    }
    if (
      this.#metaSeq !== this.#stats.last_seq &&
      now - this.#lastMetaTs >= this.#settings.metaRefreshMs
    ) {
      this.#refreshMetaInBackground();
    }
  };

  #stopTimers(): void {
    if (this.#houseTimer !== undefined) clearInterval(this.#houseTimer);
    this.#houseTimer = undefined;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }

  #refreshMetaInBackground(): void {
    // The tape itself is fine; a lasting problem surfaces in the next awaited meta write
    // (status change or finalize).
    this.#refreshMeta().catch(() => {});
  }

  /** Rewrites the meta file; writes are serialized and a queued one is shared. */
  #refreshMeta(): Promise<void> {
    this.#lastMetaTs = this.#now();
    if (this.#metaQueued !== undefined) return this.#metaQueued;
    const queued = this.#metaChain.then(async () => {
      this.#metaQueued = undefined;
      const meta = this.#buildMeta();
      try {
        await writeMetaAtomic(this.metaPath, meta);
      } catch (error) {
        throw new TapeWriteError("write tape meta", this.metaPath, error);
      }
      this.#metaSeq = meta.stats.last_seq;
    });
    this.#metaQueued = queued;
    this.#metaChain = queued.catch(() => {});
    return queued;
  }

  #buildMeta(): TapeMeta {
    this.#encodeLines();
    const s = this.#settings;
    const meta: TapeMeta = {
      tape_id: this.tapeId,
      name: s.name ?? this.tapeId,
      description: s.description,
      tags: [...s.tags],
      created_at: this.#createdAt,
      updated_at: new Date().toISOString(),
      finalized_at: this.#finalizedAt,
      status: this.#status,
      transport: s.transport,
      protocol_version: this.#protocolVersion,
      environment: { ...this.#environment },
      stats: copyStats(this.#stats),
      performance: { ...this.#perf },
    };
    if (this.#errorMessage !== undefined) meta.error = this.#errorMessage;
    return meta;
  }

  // ---- ending ---------------------------------------------------------------

  async #finalize(): Promise<TapeMeta> {
    this.#closing = true;
    this.#stopTimers();
    while (this.#syncLoop !== undefined) await this.#syncLoop;
    if (this.#failure !== undefined) return await this.#endWithError(this.#failure, true);
    try {
      for (const record of this.#correlator.timeoutPending()) this.#putCorrelation(record);
      this.#putCheckpoint(true, this.#now());
      this.#writeBuffer();
      await this.#syncFile();
    } catch (error) {
      const failure = asWriteError(error, this.path);
      this.#setFailure(failure);
      return await this.#endWithError(failure, true);
    }
    this.#waiters.resolveAll();
    this.#closeFile();
    this.#status = "finalized";
    this.#finalizedAt = new Date().toISOString();
    await this.#refreshMeta();
    return this.#buildMeta();
  }

  async #fail(error: unknown): Promise<TapeMeta> {
    this.#closing = true;
    this.#stopTimers();
    while (this.#syncLoop !== undefined) await this.#syncLoop;
    if (this.#failure === undefined) {
      try {
        this.#writeBuffer();
        if (this.#durability !== "buffered") await this.#syncFile();
        this.#waiters.resolveAll();
      } catch (writeError) {
        this.#setFailure(asWriteError(writeError, this.path));
      }
    }
    return await this.#endWithError(error, false);
  }

  /** Closes the file and records status `error`; rethrows `error` when asked. */
  async #endWithError(error: unknown, rethrow: boolean): Promise<TapeMeta> {
    this.#waiters.rejectAll(this.#failure ?? error);
    this.#closeFile();
    if (this.#failure !== undefined) {
      // Frames of the failed batch never reached the file: count what did.
      try {
        const file = await Deno.open(this.path, { read: true });
        try {
          const scan = await scanTape(file, this.path);
          this.#stats = scan.stats;
        } finally {
          file.close();
        }
      } catch { /* keep the counters we have */ }
    }
    this.#status = "error";
    this.#errorMessage = errorMessage(error);
    // Best effort: on a full disk even the small meta file may not fit, and the
    // caller is already handling the error that matters.
    await this.#refreshMeta().catch(() => {});
    if (rethrow) throw error;
    return this.#buildMeta();
  }

  #closeFile(): void {
    if (this.#file === undefined) return;
    try {
      this.#file.close();
    } catch { /* already closed */ }
    this.#file = undefined;
  }

  #closedError(what: string): TypeError {
    const state = this.#status === "finalized" || this.#status === "error"
      ? this.#status
      : "being closed";
    return new TypeError(
      `Cannot ${what} tape '${this.path}': it is ${
        state === "being closed" ? state : `in status ${state}`
      }`,
    );
  }
}

async function removeStaleMetaTemps(metaPath: string): Promise<void> {
  const slash = metaPath.lastIndexOf("/");
  const dir = slash === -1 ? "." : metaPath.slice(0, slash) || "/";
  const prefix = `.${metaPath.slice(slash + 1)}.`;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.startsWith(prefix) && isMetaTempFile(entry.name)) {
        await Deno.remove(join(dir, entry.name)).catch(() => {});
      }
    }
  } catch { /* only tidying up */ }
}

function resolveSettings(options: TapeWriterOptions): Settings {
  const durability = options.durability ?? "flush";
  if (!DURABILITIES.has(durability)) {
    throw new TypeError(
      `Durability must be 'buffered', 'flush' or 'fsync', got '${String(durability)}'`,
    );
  }
  for (const key of ["name", "description", "transport"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "string") {
      throw new TypeError(`Option '${key}' must be a string`);
    }
  }
  const tags = options.tags;
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== "string"))) {
    throw new TypeError("Option 'tags' must be an array of strings");
  }
  return {
    name: options.name,
    description: options.description ?? "",
    tags: tags === undefined ? [] : [...tags],
    durability,
    flushIntervalMs: positive("flushIntervalMs", options.flushIntervalMs, 50),
    flushBytes: positive("flushBytes", options.flushBytes, 64 * 1024),
    checkpointEveryFrames: positive("checkpointEveryFrames", options.checkpointEveryFrames, 1000),
    checkpointEveryMs: positive("checkpointEveryMs", options.checkpointEveryMs, 60_000),
    metaRefreshMs: positive("metaRefreshMs", options.metaRefreshMs, 10_000),
    transport: options.transport ?? "stdio",
    environment: options.environment,
    maxLineBytes: positive("maxLineBytes", options.maxLineBytes, MAX_LINE_BYTES),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Option '${name}' must be a positive number, got '${String(value)}'`);
  }
  return value;
}

function asWriteError(error: unknown, path: string): TapeWriteError {
  return error instanceof TapeWriteError ? error : new TapeWriteError("write tape", path, error);
}
