/**
 * A JetStream stream as a {@linkcode RecordTarget}: records are published
 * asynchronously with a bounded window of outstanding acks, each carrying its
 * seq, timestamp and type id in headers and `Nats-Msg-Id` =
 * `<liveStreamId>:<seq>`, so the server's duplicate window drops a record
 * published twice.
 *
 * Exactly once across crashes: a target resumes after the `Spool-Seq` of the
 * last message on its subject. A record in flight when a writer died is
 * either stored (and so counted) or lost (and so published again); one that
 * reaches the server after the next writer read the last message is dropped
 * by the duplicate window, as long as the writer restarts within it.
 *
 * Server trouble: a lost connection, an ack that does not come or a stream
 * without a leader for a while is not the end. The target keeps a copy of
 * every record not yet acknowledged, waits for the client to reconnect, reads
 * the last record stored again, and publishes the records after it again, in
 * order and with their message ids, for up to `retryForMs`. Every publish
 * also expects the previous record's message id (`Nats-Expected-Last-Msg-Id`),
 * so a record lost in the middle is refused after rather than leaving a gap,
 * and published again. That guard holds only in a stream of this one
 * subject, so a target refuses a stream that takes any other (message ids of
 * other writers in it could also be taken for its own and dropped as
 * repeats). Refusals that waiting does not cure (a
 * full stream that discards new messages, a deleted stream, another writer on
 * the subject) end the target at once.
 *
 * Another writer with the same message ids on the subject (two taps of live
 * queues of one name) shows as a repeat of an id this target had not stored:
 * a publish the stream answers as a duplicate is checked against the message
 * it holds, and only the same record counts as stored.
 *
 * @module
 */

import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  PermissionViolationError,
} from "@nats-io/transport-node";
import {
  type JetStreamManager,
  jetstreamManager,
  StorageType,
  type StoredMsg,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { RecordTarget } from "../stream/record_target.ts";
import type { StreamMessage } from "../stream/stream_message.ts";
import { describeNats, type NatsLocation } from "./nats_location.ts";
import {
  connectNats,
  NOT_ENABLED_FOR_ACCOUNT,
  openError,
  scrubSecrets,
} from "./nats_connection.ts";

/** Header holding a record's seq, in decimal. */
export const SEQ_HEADER = "Spool-Seq";
/** Header holding a record's timestamp in nanoseconds since the Unix epoch, in decimal. */
export const TIMESTAMP_HEADER = "Spool-Timestamp-Ns";
/** Header holding a record's type id, in decimal. */
export const TYPE_HEADER = "Spool-Type-Id";

/** How {@linkcode openJetStreamTarget} writes. */
export interface JetStreamTargetOptions {
  /** Id of the live stream copied, the first half of every `Nats-Msg-Id`. */
  liveStreamId: string;
  /** Replicas of a stream created here (1); an existing stream must have as many when given. */
  replicas?: number;
  /** Publishes awaiting their ack before the target is full (1024). */
  window?: number;
  /** Duplicate window of a stream created here, in milliseconds (2 minutes, or `retryForMs` when longer). */
  duplicateWindowMs?: number;
  /** How long one publish waits for its ack, in milliseconds (5000). */
  ackTimeoutMs?: number;
  /**
   * How long the target keeps trying after it lost the server, from the
   * first failure until a record is stored again, in milliseconds (60 000).
   */
  retryForMs?: number;
  /** Receives one line when the server is lost, when the target resumes, and about the stream's fit. */
  onNotice?: (line: string) => void;
}

/** Why a JetStream target stopped: the stream refused a record, or the server was lost. */
export class JetStreamWriteError extends Error {
  /** The stream, as {@linkcode describeNats} shows it. */
  readonly stream: string;
  /** Seq of the first record that was not stored. */
  readonly seq: number;

  /**
   * Builds the error for the stream (as `describeNats` shows it), the first
   * seq not stored, and why.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { JetStreamWriteError } from "./jetstream_target.ts";
   * const e = new JetStreamWriteError("nats://h:4222/S?subject=spool.S", 7, "timeout");
   * assert.equal(e.message, "JetStream stream 'nats://h:4222/S?subject=spool.S' did not store seq '7': timeout");
   * ```
   */
  constructor(stream: string, seq: number, reason: string) {
    super(`JetStream stream '${stream}' did not store seq '${seq}': ${reason}`);
    this.name = "JetStreamWriteError";
    this.stream = stream;
    this.seq = seq;
  }
}

/**
 * Connects to the stream at `location`, creating it when missing (file
 * storage, the location's subject, `replicas`, the duplicate window), and
 * returns a target that appends after the last seq it holds.
 *
 * @throws {TypeError} when an existing stream takes any subject but the
 * location's, keeps its messages in memory, has other replicas than `replicas`
 * asks for, or its last message on the subject has no `Spool-Seq` header.
 * @throws {NatsConnectError} when the server cannot be reached.
 * @throws {JetStreamOpenError} when the server has no JetStream, does not
 * answer, or refuses to show or create the stream.
 *
 * @example
 * ```ts ignore
 * import { openJetStreamTarget } from "./jetstream_target.ts";
 * import { parseNatsLocation } from "./nats_location.ts";
 * const target = await openJetStreamTarget(parseNatsLocation("nats://127.0.0.1:4222/TRADES")!, {
 *   liveStreamId: "feed-a",
 *   retryForMs: 30_000,
 *   onNotice: (line) => console.error(line),
 * });
 * target.append(1, new Uint8Array([1]), 0n);
 * await target.close();
 * ```
 */
export async function openJetStreamTarget(
  location: NatsLocation,
  options: JetStreamTargetOptions,
): Promise<RecordTarget> {
  const shown = describeNats(location);
  const window = options.window ?? 1024;
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`Window '${window}' is not a positive integer`);
  }
  const retryForMs = options.retryForMs ?? 60_000;
  if (!Number.isFinite(retryForMs) || retryForMs < 0) {
    throw new RangeError(`Retry budget '${retryForMs}' ms is not a duration`);
  }
  const settings: Settings = {
    location,
    shown,
    liveStreamId: options.liveStreamId,
    window,
    ackTimeoutMs: options.ackTimeoutMs ?? 5000,
    retryForMs,
    notice: options.onNotice ?? (() => {}),
  };
  const nc = await connectNats(location);
  try {
    const jsm = await managerOf(nc, settings.ackTimeoutMs);
    await ensureStream(jsm, settings, options);
    const last = await lastRecord(jsm, settings);
    return new JetStreamTarget(nc, jsm, settings, last);
  } catch (e) {
    await nc.close();
    if (e instanceof TypeError) throw e;
    throw openError(location, e as Error);
  }
}

interface Settings {
  location: NatsLocation;
  shown: string;
  liveStreamId: string;
  window: number;
  ackTimeoutMs: number;
  retryForMs: number;
  notice: (line: string) => void;
}

function managerOf(nc: NatsConnection, timeoutMs: number): Promise<JetStreamManager> {
  return jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false });
}

async function ensureStream(
  jsm: JetStreamManager,
  settings: Settings,
  options: JetStreamTargetOptions,
): Promise<StreamInfo> {
  const { location, shown, retryForMs } = settings;
  const info = await jsm.streams.info(location.stream).catch((e: Error) => {
    if (e.name === "StreamNotFoundError") return undefined;
    throw e;
  });
  if (info === undefined) {
    return await jsm.streams.add({
      name: location.stream,
      subjects: [location.subject],
      storage: StorageType.File,
      num_replicas: options.replicas ?? 1,
      duplicate_window: (options.duplicateWindowMs ?? Math.max(120_000, retryForMs)) *
        1_000_000,
    });
  }
  const config = info.config;
  const subjects = config.subjects ?? [];
  // Only a stream of this one subject lets each publish expect the one
  // before it (no gap), and keeps message ids of other writers apart.
  if (subjects.length !== 1 || subjects[0] !== location.subject) {
    throw new TypeError(
      `JetStream stream '${shown}' takes subjects '${
        subjects.join(", ")
      }', not only '${location.subject}': a writer needs a stream of its own subject; create one stream per live stream`,
    );
  }
  if (config.storage !== StorageType.File) {
    throw new TypeError(
      `JetStream stream '${shown}' keeps its messages in memory, which a server restart loses: archive into a stream with file storage`,
    );
  }
  const replicas = config.num_replicas || 1;
  if (options.replicas !== undefined && options.replicas !== replicas) {
    throw new TypeError(
      `JetStream stream '${shown}' has replicas '${replicas}', not '${options.replicas}' as asked: leave out '--replicas' or change the stream's replicas`,
    );
  }
  const dedupMs = (config.duplicate_window ?? 0) / 1_000_000;
  if (dedupMs < retryForMs) {
    settings.notice(
      `JetStream stream '${shown}' drops a repeated message id for ${
        seconds(dedupMs)
      } s only, less than the retry budget of ${
        seconds(retryForMs)
      } s: a record in flight during a longer outage may be stored twice; raise its duplicate window`,
    );
  }
  return info;
}

interface LastRecord {
  seq: number;
  msgId: string | undefined;
  // The message itself, to tell whether it is a record this target sent.
  stored?: StoredMsg;
}

async function lastRecord(jsm: JetStreamManager, settings: Settings): Promise<LastRecord> {
  const { location, shown } = settings;
  const stored = await jsm.streams.getMessage(location.stream, { last_by_subj: location.subject });
  if (stored === null) return { seq: 0, msgId: undefined };
  const text = stored.header?.get(SEQ_HEADER) ?? "";
  const seq = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seq)) {
    throw new TypeError(
      `JetStream stream '${shown}' ends with message '${stored.seq}' without a '${SEQ_HEADER}' header: its subject holds messages spool did not write`,
    );
  }
  return { seq, msgId: stored.header?.get("Nats-Msg-Id") || undefined, stored };
}

/** Seconds for a line: `60`, `2.5`. */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** A record not yet acknowledged, kept to be published again. */
interface Entry {
  seq: number;
  typeId: number;
  payload: Uint8Array;
  timestampNs: bigint;
  // When it was last published (performance.now()), for the ack timeout.
  sentAt: number;
}

// Headers the server reads on a JetStream publish.
const MSG_ID_HEADER = "Nats-Msg-Id";
const EXPECTED_LAST_MSG_ID_HEADER = "Nats-Expected-Last-Msg-Id";

// JetStream error codes: refusals that waiting does not cure, and the guard's.
const STORE_FAILED = 10077;
const MESSAGE_TOO_BIG = 10054;
const WRONG_LAST_MSG_ID = 10070;

/** A publish the server did not store, as its answer tells. */
class PublishRefusal extends Error {
  /** The JetStream error code (`err_code`), 0 for none. */
  readonly code: number;
  /** The HTTP-like status (`code`, or the reply's status header). */
  readonly status: number;

  constructor(message: string, code: number, status: number) {
    super(message);
    this.name = "PublishRefusal";
    this.code = code;
    this.status = status;
  }
}

/** A stored publish: the stream seq it took, and whether its message id was there already. */
interface PubAck {
  streamSeq: number;
  duplicate: boolean;
}

const decoder = new TextDecoder();
const ACK_SEQ = /"seq"\s*:\s*(\d+)/;
const ACK_DUPLICATE = /"duplicate"\s*:\s*true/;
const ACK_ERROR = /"error"\s*:/;

/**
 * Reads the answer to one publish: an ack `{"stream":…,"seq":N}` (with
 * `"duplicate":true` for a repeated message id), an error `{"error":{…}}`,
 * or an empty status message (503 when no JetStream server took it).
 */
function readAnswer(m: Msg): PubAck | PublishRefusal {
  const data = m.data;
  if (data.length === 0) {
    const h = m.headers;
    if (h?.code === 503) return new PublishRefusal("no JetStream server answered", 0, 503);
    const what = h === undefined ? "nothing" : `${h.code} ${h.description}`;
    return new PublishRefusal(`the server answered '${what}' instead of an ack`, 0, h?.code ?? 0);
  }
  const text = decoder.decode(data);
  // The server writes an ack as one flat object (spaced differently across
  // versions), and a quote inside a string value is escaped: these keys
  // match only as keys. An error is rare and parsed in full.
  const seq = ACK_SEQ.exec(text);
  if (seq !== null && !ACK_ERROR.test(text)) {
    return { streamSeq: Number(seq[1]), duplicate: ACK_DUPLICATE.test(text) };
  }
  let error: { code?: unknown; err_code?: unknown; description?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch { /* not JSON: not an ack either */ }
  if (error === undefined) {
    return new PublishRefusal(`the server's answer '${text}' is not an ack`, 0, 0);
  }
  return new PublishRefusal(
    String(error.description ?? "refused"),
    Number(error.err_code ?? 0),
    Number(error.code ?? 0),
  );
}

// Whether the stream's message `stored` is the record `entry`, as this target publishes it.
function isRecord(stored: StoredMsg, entry: Entry): boolean {
  const h = stored.header;
  return h?.get(SEQ_HEADER) === String(entry.seq) &&
    h.get(TIMESTAMP_HEADER) === String(entry.timestampNs) &&
    h.get(TYPE_HEADER) === String(entry.typeId) &&
    sameBytes(stored.data, entry.payload);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Publishes are core publishes whose reply subject names the record
// (`<inbox>.<epoch>.<seq>`), answered under one subscription per
// connection, with one timer for the oldest record awaiting its ack: a
// request per record (its timer, promise chain and error objects) costs the
// client more than the server spends storing it.
class JetStreamTarget implements RecordTarget {
  readonly #s: Settings;
  #nc: NatsConnection;
  #jsm: JetStreamManager;
  #lastSeq: number;
  #durableSeq: number;
  // The stream's last record when the target opened: another id, an
  // importer's or an earlier tap's, is still no other writer's then.
  readonly #opened: LastRecord;
  // The message id the next publish expects the stream to end with.
  #chainMsgId: string | undefined;
  // Records awaiting their ack, seqs in a row, oldest first; `#acked` marks those answered out of order.
  #entries: Entry[] = [];
  #acked = new Set<number>();
  // Answers to publishes of an earlier epoch are ignored: recovery sent them again.
  #epoch = 0;
  // The connection's reply subscription, `<inbox>.*.*`, and the current epoch's reply prefix.
  #inbox = "";
  #replyPrefix = "";
  // Fires when the oldest record awaiting its ack may have waited too long.
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #recovering = false;
  // When the server was lost (performance.now()), until a record is stored again.
  #lostSince: number | undefined;
  #lostReason = "";
  #connected = true;
  #stopping = false;
  // Seq the target went on from after its last recovery, for the notice.
  #resumeSeq = 0;
  #failure: JetStreamWriteError | undefined;
  #waiters: (() => void)[] = [];
  #kick: (() => void) | undefined;

  constructor(nc: NatsConnection, jsm: JetStreamManager, settings: Settings, last: LastRecord) {
    this.#s = settings;
    this.#nc = nc;
    this.#jsm = jsm;
    this.#lastSeq = last.seq;
    this.#durableSeq = last.seq;
    this.#chainMsgId = last.msgId;
    this.#opened = { seq: last.seq, msgId: last.msgId };
    this.#listen(nc);
    this.#watch(nc);
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  get durableSeq(): number {
    return this.#durableSeq;
  }

  get full(): boolean {
    return this.#recovering || this.#entries.length >= this.#s.window;
  }

  append(typeId: number, payload: Uint8Array, timestampNs: bigint): number {
    this.#add(this.#lastSeq + 1, typeId, payload, timestampNs);
    return this.#lastSeq;
  }

  appendCopy(m: StreamMessage): void {
    // An empty stream starts at the first record it is given, as a new
    // archive queue does (a live queue whose retention passed seq 1).
    const starting = this.#lastSeq === 0 && Number.isSafeInteger(m.seq) && m.seq >= 1;
    if (m.seq !== this.#lastSeq + 1 && !starting) {
      throw new RangeError(
        `JetStream stream '${this.#s.shown}' takes seq '${this.#lastSeq + 1}' next, not '${m.seq}'`,
      );
    }
    this.#add(m.seq, m.typeId, m.payload, m.timestampNs);
  }

  ready(): Promise<void> {
    return this.#waitUntil(() => !this.full);
  }

  sync(): Promise<void> {
    return this.#waitUntil(() => this.#entries.length === 0);
  }

  async close(): Promise<void> {
    try {
      await this.sync();
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    this.#stopping = true;
    this.#kick?.();
    // A wait in sync() or ready() ends: what it waited for will not come.
    this.#fail(
      this.#entries[0]?.seq ?? this.#lastSeq + 1,
      "the target was closed before the stream acknowledged it",
    );
    if (!this.#nc.isClosed()) await this.#nc.close();
  }

  // Subscribes to the answers of this connection's publishes.
  #listen(nc: NatsConnection): void {
    this.#inbox = createInbox();
    this.#replyPrefix = `${this.#inbox}.${this.#epoch}.`;
    nc.subscribe(`${this.#inbox}.*.*`, {
      callback: (error, m) => {
        if (error === null) this.#answered(m);
      },
    });
  }

  // Follows the client's connection: a disconnect stops publishing until
  // the records after the last one stored are known again.
  #watch(nc: NatsConnection): void {
    (async () => {
      for await (const status of nc.status()) {
        if (nc !== this.#nc) return;
        if (status.type === "disconnect") {
          this.#connected = false;
          this.#lost("the connection dropped");
        } else if (status.type === "reconnect") {
          this.#connected = true;
          this.#kick?.();
        } else if (status.type === "error") {
          this.#denied(status.error);
        }
      }
    })();
    nc.closed().then((e) => {
      if (nc !== this.#nc || this.#stopping) return;
      this.#connected = false;
      this.#lost(`the connection closed${e ? `: ${e.message}` : ""}`);
      this.#kick?.();
    });
  }

  // The server refuses this user a publish to the subject, or the reply
  // subscription: no answer will come, and waiting does not cure it.
  #denied(e: Error): void {
    if (!(e instanceof PermissionViolationError)) return;
    const ours = e.operation === "publish"
      ? e.subject === this.#s.location.subject
      : e.subject === `${this.#inbox}.*.*`;
    if (ours) this.#fail(this.#entries[0]?.seq ?? this.#lastSeq + 1, e.message);
  }

  #add(seq: number, typeId: number, payload: Uint8Array, timestampNs: bigint): void {
    if (this.#failure !== undefined) throw this.#failure;
    // The client keeps the bytes until they are written, and a retry sends them again: a lent payload is copied.
    const entry = { seq, typeId, payload: payload.slice(), timestampNs, sentAt: 0 };
    this.#entries.push(entry);
    this.#lastSeq = seq;
    if (!this.#recovering) this.#publish(entry);
  }

  #publish(entry: Entry): void {
    const h = headers();
    h.set(SEQ_HEADER, String(entry.seq));
    h.set(TIMESTAMP_HEADER, String(entry.timestampNs));
    h.set(TYPE_HEADER, String(entry.typeId));
    const msgId = `${this.#s.liveStreamId}:${entry.seq}`;
    h.set(MSG_ID_HEADER, msgId);
    if (this.#chainMsgId !== undefined) h.set(EXPECTED_LAST_MSG_ID_HEADER, this.#chainMsgId);
    this.#chainMsgId = msgId;
    entry.sentAt = performance.now();
    try {
      // Buffered: the client writes what is pending once the current task
      // yields, so a small tail goes out at once.
      this.#nc.publish(this.#s.location.subject, entry.payload, {
        reply: this.#replyPrefix + entry.seq,
        headers: h,
      });
    } catch (e) {
      // A closed connection, or a record over the server's maximum payload.
      this.#refused(entry.seq, e as Error);
      return;
    }
    this.#ackTimer ??= this.#armAckTimer();
  }

  #answered(m: Msg): void {
    const subject = m.subject;
    // An answer to an earlier epoch's publish, sent again since.
    if (!subject.startsWith(this.#replyPrefix)) return;
    const seq = Number(subject.slice(this.#replyPrefix.length));
    const first = this.#entries[0];
    const entry = first && this.#entries[seq - first.seq];
    if (entry === undefined || entry.seq !== seq) return;
    const answer = readAnswer(m);
    if (answer instanceof PublishRefusal) this.#refused(seq, answer);
    else if (answer.duplicate) this.#checkRepeat(entry, answer.streamSeq, this.#epoch);
    else this.#settle(seq);
  }

  // One timer for the window: when it fires, the oldest record awaiting its
  // ack has waited too long, or the next oldest is timed from then.
  #armAckTimer(): ReturnType<typeof setTimeout> | undefined {
    const oldest = this.#entries[0];
    if (oldest === undefined || this.#recovering || this.#failure !== undefined) return undefined;
    const left = oldest.sentAt + this.#s.ackTimeoutMs - performance.now();
    return setTimeout(() => {
      this.#ackTimer = undefined;
      const oldest = this.#entries[0];
      if (oldest === undefined || this.#recovering) return;
      if (performance.now() - oldest.sentAt >= this.#s.ackTimeoutMs) {
        this.#lost(`no ack within ${this.#s.ackTimeoutMs} ms`);
      } else {
        this.#ackTimer = this.#armAckTimer();
      }
    }, Math.max(left, 0));
  }

  #stopAckTimer(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  // The stream already held this message id. A record a dead writer had in
  // flight is this same record, and stored; anything else is another
  // writer's under the same ids, and this target's record is not stored.
  async #checkRepeat(entry: Entry, streamSeq: number, epoch: number): Promise<void> {
    let stored: StoredMsg | null;
    try {
      stored = await this.#jsm.streams.getMessage(this.#s.location.stream, { seq: streamSeq });
    } catch (e) {
      if (epoch === this.#epoch) this.#refused(entry.seq, e as Error);
      return;
    }
    if (epoch !== this.#epoch) return;
    // A message the stream's limits removed since cannot be compared; its id was stored.
    if (stored === null || isRecord(stored, entry)) this.#settle(entry.seq);
    else this.#anotherWriter(entry.seq, `${this.#s.liveStreamId}:${entry.seq}`);
  }

  #anotherWriter(seq: number, msgId: string): void {
    this.#fail(
      this.#entries[0]?.seq ?? seq,
      `another writer uses the same message ids ('${msgId}') on subject '${this.#s.location.subject}': is a tap of another live queue of the same name writing into this stream? give each live queue its own stream`,
    );
  }

  #settle(seq: number): void {
    this.#acked.add(seq);
    const entries = this.#entries;
    while (entries.length > 0 && this.#acked.delete(entries[0]!.seq)) {
      this.#durableSeq = entries.shift()!.seq;
    }
    if (entries.length === 0) this.#stopAckTimer();
    if (this.#lostSince !== undefined) this.#resumed();
    this.#notify();
  }

  #refused(seq: number, e: Error): void {
    const { code, status } = e as { code?: number; status?: number };
    const permanent = code === STORE_FAILED || code === MESSAGE_TOO_BIG;
    const trouble = e.name === "TimeoutError"
      ? `no ack within ${this.#s.ackTimeoutMs} ms`
      : e.name === "JetStreamNotEnabled" || e.name === "NoResponders" ||
          code === NOT_ENABLED_FOR_ACCOUNT
      ? "no JetStream server answered"
      : ["RequestError", "ClosedConnectionError", "ConnectionError"].includes(e.name)
      ? "the connection dropped"
      : code === WRONG_LAST_MSG_ID
      // A record before this one was lost on the way, or another writer
      // stored one: reading the stream's end tells which.
      ? `a record before seq ${seq} went missing (${e.message})`
      // No responders, or a clustered stream between leaders.
      : status === 503 && !permanent
      ? e.message
      : undefined;
    if (trouble !== undefined) {
      this.#lost(trouble);
      return;
    }
    let reason = e.message;
    if (code === STORE_FAILED && /maximum (messages|bytes)/.test(reason)) {
      reason =
        `the stream is full and discards new messages (${reason}): raise its limits, let it discard old messages, or archive into another stream`;
    } else if (code === MESSAGE_TOO_BIG) {
      reason = `${reason}: raise the stream's and the server's maximum message size`;
    }
    this.#fail(this.#entries[0]?.seq ?? seq, reason);
  }

  // Stops publishing and starts finding where the stream ends, once per trouble.
  #lost(reason: string): void {
    if (this.#failure !== undefined || this.#stopping || this.#recovering) return;
    this.#recovering = true;
    this.#epoch++;
    this.#replyPrefix = `${this.#inbox}.${this.#epoch}.`;
    this.#stopAckTimer();
    if (this.#lostSince === undefined) {
      this.#lostSince = performance.now();
      this.#lostReason = reason;
      this.#s.notice(
        `lost JetStream stream '${this.#s.shown}' (${reason}): retrying for up to ${
          seconds(this.#s.retryForMs)
        } s`,
      );
    }
    this.#recover();
  }

  async #recover(): Promise<void> {
    const deadline = this.#lostSince! + this.#s.retryForMs;
    let pauseMs = 100;
    while (this.#failure === undefined && !this.#stopping) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#fail(
          this.#entries[0]?.seq ?? this.#lastSeq + 1,
          `server lost for ${seconds(this.#s.retryForMs)} s (${this.#lostReason})`,
        );
        return;
      }
      try {
        if (this.#nc.isClosed()) await this.#redial();
        if (this.#connected) {
          const last = await lastRecord(this.#jsm, this.#s);
          this.#restart(last);
          return;
        }
      } catch (e) {
        if ((e as Error).name === "StreamNotFoundError") {
          this.#fail(
            this.#entries[0]?.seq ?? this.#lastSeq + 1,
            "the stream was deleted: create it again (a new tap creates a missing stream) or archive into another",
          );
          return;
        }
        if (e instanceof TypeError) {
          this.#fail(this.#entries[0]?.seq ?? this.#lastSeq + 1, e.message);
          return;
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(pauseMs, Math.max(left, 1)));
        this.#kick = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#kick = undefined;
      pauseMs = Math.min(pauseMs * 2, 1000);
    }
  }

  // The client gave up reconnecting (its attempts ran out) while the budget lasts: a new connection.
  async #redial(): Promise<void> {
    const nc = await connectNats(this.#s.location);
    if (this.#stopping) {
      await nc.close();
      return;
    }
    this.#nc = nc;
    this.#jsm = await managerOf(nc, this.#s.ackTimeoutMs);
    this.#connected = true;
    this.#listen(nc);
    this.#watch(nc);
  }

  // Settles what the stream holds and publishes the rest again, guarded from its last record.
  #restart(last: LastRecord): void {
    const first = this.#entries[0]?.seq ?? this.#lastSeq + 1;
    const opened = this.#opened;
    const ours = last.seq === 0 || last.msgId === `${this.#s.liveStreamId}:${last.seq}` ||
      (last.seq === opened.seq && last.msgId === opened.msgId);
    // A record still awaiting its ack is stored only if the stream holds that very record.
    const pending = this.#entries[last.seq - first];
    if (
      ours && pending !== undefined && last.stored !== undefined && !isRecord(last.stored, pending)
    ) {
      this.#anotherWriter(last.seq, last.msgId ?? `seq ${last.seq}`);
      return;
    }
    if (!ours || last.seq > this.#lastSeq) {
      this.#fail(
        first,
        `another writer stored '${
          last.msgId ?? `seq ${last.seq}`
        }' on subject '${this.#s.location.subject}': give each live queue its own stream`,
      );
      return;
    }
    if (last.seq < this.#durableSeq) {
      this.#fail(
        first,
        `the stream ends at seq ${last.seq}, before seq ${this.#durableSeq} it had acknowledged: check the server's storage; a new run copies again after seq ${last.seq} while the live queue holds it`,
      );
      return;
    }
    this.#acked.clear();
    while (this.#entries.length > 0 && this.#entries[0]!.seq <= last.seq) {
      this.#durableSeq = this.#entries.shift()!.seq;
    }
    this.#chainMsgId = last.msgId;
    this.#resumeSeq = last.seq + 1;
    this.#recovering = false;
    for (const entry of this.#entries) {
      // A publish that failed at once ends the round.
      if (this.#recovering || this.#failure !== undefined) return;
      this.#publish(entry);
    }
    if (this.#entries.length === 0) this.#resumed();
    this.#notify();
  }

  #resumed(): void {
    const ms = performance.now() - this.#lostSince!;
    this.#lostSince = undefined;
    this.#s.notice(
      `JetStream stream '${this.#s.shown}' resumed at seq ${this.#resumeSeq} after ${
        seconds(ms)
      } s`,
    );
  }

  #fail(seq: number, reason: string): void {
    this.#failure ??= new JetStreamWriteError(
      this.#s.shown,
      seq,
      scrubSecrets(this.#s.location, reason),
    );
    this.#stopAckTimer();
    this.#notify();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  // A failure (abort() is one) ends the wait; it is thrown only when what was waited for did not come.
  async #waitUntil(done: () => boolean): Promise<void> {
    while (this.#failure === undefined && !done()) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#failure !== undefined && !done()) throw this.#failure;
  }
}
