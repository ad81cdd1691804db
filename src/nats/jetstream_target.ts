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
 * by the duplicate window, as long as the writer restarts within it. When
 * the stream takes only this subject, every publish also expects the
 * previous record's message id (`Nats-Expected-Last-Msg-Id`), so a record
 * lost in a reconnect ends the target rather than leaving a gap.
 *
 * @module
 */

import { headers, type NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  jetstreamManager,
  type JetStreamPublishOptions,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { RecordTarget } from "../stream/record_target.ts";
import type { StreamMessage } from "../stream/stream_message.ts";
import { describeNats, type NatsLocation } from "./nats_location.ts";
import { connectNats, scrubSecrets } from "./nats_connection.ts";

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
  /** Replicas of a stream created here (1). */
  replicas?: number;
  /** Publishes awaiting their ack before the target is full (1024). */
  window?: number;
  /** Duplicate window of a stream created here, in milliseconds (2 minutes). */
  duplicateWindowMs?: number;
  /** How long one publish waits for its ack, in milliseconds (5000). */
  ackTimeoutMs?: number;
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
 * @throws {TypeError} when an existing stream does not take the location's
 * subject, or its last message on the subject has no `Spool-Seq` header.
 * @throws {NatsConnectError} when the server cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { openJetStreamTarget } from "./jetstream_target.ts";
 * import { parseNatsLocation } from "./nats_location.ts";
 * const target = await openJetStreamTarget(parseNatsLocation("nats://127.0.0.1:4222/TRADES")!, {
 *   liveStreamId: "feed-a",
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
  const scrub = (message: string) => scrubSecrets(location, message);
  const nc = await connectNats(location);
  try {
    const info = await ensureStream(nc, location, options, shown);
    const ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    const js = jetstream(nc, { timeout: ackTimeoutMs });
    const last = await lastRecord(nc, location, shown);
    // Only a stream of this one subject lets each publish expect the previous message id.
    const guarded = info.config.subjects?.length === 1;
    return jetStreamTarget(
      nc,
      js,
      location,
      options.liveStreamId,
      window,
      last,
      guarded,
      ackTimeoutMs,
      {
        shown,
        scrub,
      },
    );
  } catch (e) {
    await nc.close();
    if (e instanceof TypeError) throw e;
    throw new JetStreamWriteError(shown, 0, scrub(String(e)));
  }
}

async function ensureStream(
  nc: NatsConnection,
  location: NatsLocation,
  options: JetStreamTargetOptions,
  shown: string,
): Promise<StreamInfo> {
  const jsm = await jetstreamManager(nc);
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
      duplicate_window: (options.duplicateWindowMs ?? 120_000) * 1_000_000,
    });
  }
  const subjects = info.config.subjects ?? [];
  if (!subjects.includes(location.subject)) {
    throw new TypeError(
      `JetStream stream '${shown}' takes subjects '${
        subjects.join(", ")
      }', not '${location.subject}': name its subject with '?subject=' or another stream`,
    );
  }
  return info;
}

interface LastRecord {
  seq: number;
  msgId: string | undefined;
}

async function lastRecord(
  nc: NatsConnection,
  location: NatsLocation,
  shown: string,
): Promise<LastRecord> {
  const jsm = await jetstreamManager(nc);
  const stored = await jsm.streams.getMessage(location.stream, { last_by_subj: location.subject });
  if (stored === null) return { seq: 0, msgId: undefined };
  const text = stored.header?.get(SEQ_HEADER) ?? "";
  const seq = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seq)) {
    throw new TypeError(
      `JetStream stream '${shown}' ends with message '${stored.seq}' without a '${SEQ_HEADER}' header: its subject holds messages spool did not write`,
    );
  }
  return { seq, msgId: stored.header?.get("Nats-Msg-Id") || undefined };
}

function jetStreamTarget(
  nc: NatsConnection,
  js: JetStreamClient,
  location: NatsLocation,
  liveStreamId: string,
  window: number,
  last: LastRecord,
  guarded: boolean,
  ackTimeoutMs: number,
  messages: { shown: string; scrub: (message: string) => string },
): RecordTarget {
  let lastSeq = last.seq;
  let durableSeq = last.seq;
  let lastMsgId = last.msgId;
  let failure: JetStreamWriteError | undefined;
  // Seqs awaiting their ack, oldest first; `acked` marks those answered out of order.
  const pending: number[] = [];
  const acked = new Set<number>();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (seq: number, reason: string) => {
    failure ??= new JetStreamWriteError(messages.shown, seq, messages.scrub(reason));
    notify();
  };
  nc.closed().then((e) => {
    if (pending.length > 0 || e) fail(durableSeq + 1, `connection closed${e ? `: ${e}` : ""}`);
  });
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  const settle = (seq: number) => {
    acked.add(seq);
    while (pending.length > 0 && acked.delete(pending[0]!)) durableSeq = pending.shift()!;
    notify();
  };
  const publish = (seq: number, typeId: number, payload: Uint8Array, timestampNs: bigint) => {
    check();
    const h = headers();
    h.set(SEQ_HEADER, String(seq));
    h.set(TIMESTAMP_HEADER, String(timestampNs));
    h.set(TYPE_HEADER, String(typeId));
    const msgId = `${liveStreamId}:${seq}`;
    const opts: Partial<JetStreamPublishOptions> = { msgID: msgId, headers: h };
    if (guarded && lastMsgId !== undefined) opts.expect = { lastMsgID: lastMsgId };
    lastMsgId = msgId;
    lastSeq = seq;
    pending.push(seq);
    // The client keeps the bytes until they are written: a lent payload is copied.
    js.publish(location.subject, payload.slice(), opts).then(
      () => settle(seq),
      (e: Error) =>
        fail(
          seq,
          e.name === "TimeoutError"
            ? `no ack within ${ackTimeoutMs} ms, server lost or slow`
            : e.message,
        ),
    );
  };
  const waitUntil = async (done: () => boolean) => {
    while (failure === undefined && !done()) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    check();
  };
  const sync = () => waitUntil(() => pending.length === 0);
  return {
    get lastSeq() {
      return lastSeq;
    },
    get durableSeq() {
      return durableSeq;
    },
    get full() {
      return pending.length >= window;
    },
    append(typeId, payload, timestampNs) {
      publish(lastSeq + 1, typeId, payload, timestampNs);
      return lastSeq;
    },
    appendCopy(m: StreamMessage) {
      // An empty stream starts at the first record it is given, as a new
      // archive queue does (a live queue whose retention passed seq 1).
      const starting = lastSeq === 0 && Number.isSafeInteger(m.seq) && m.seq >= 1;
      if (m.seq !== lastSeq + 1 && !starting) {
        throw new RangeError(
          `JetStream stream '${messages.shown}' takes seq '${lastSeq + 1}' next, not '${m.seq}'`,
        );
      }
      publish(m.seq, m.typeId, m.payload, m.timestampNs);
    },
    ready: () => waitUntil(() => pending.length < window),
    sync,
    async close() {
      try {
        await sync();
      } finally {
        if (!nc.isClosed()) await nc.close();
      }
    },
    async abort() {
      if (!nc.isClosed()) await nc.close();
    },
  };
}
