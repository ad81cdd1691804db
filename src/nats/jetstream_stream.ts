/**
 * A JetStream stream read through the stream API: an ordered consumer on the
 * location's subject, or a named durable one that keeps a committed
 * position, each message's seq, timestamp and type id taken from its
 * `Spool-*` headers and its payload from the message data.
 *
 * @module
 */

import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  type ConsumerInfo,
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
  type MsgRequest,
  type StoredMsg,
} from "@nats-io/jetstream";
import { checkStart, type StartPosition } from "../chronicle/mod.ts";
import type { StreamMessage } from "../stream/stream_message.ts";
import type { StreamKind, StreamReader } from "../stream/stream_reader.ts";
import { waitingIterator } from "../stream/_wait_iterator.ts";
import { describeNats, type NatsLocation, parseNatsLocation } from "./nats_location.ts";
import { connectNats, openError } from "./nats_connection.ts";

/** Options of {@linkcode JetStreamStream.open}. */
export interface JetStreamStreamOptions {
  /**
   * A durable consumer of this name keeps the reader's committed position
   * on the server (letters, digits, `_` and `-`).
   */
  name?: string;
  /**
   * Where to start: `earliest`, `latest` (only what is published after
   * open), `committed` (after a named reader's last commit), `{ seq }` (a
   * spool seq) or `{ timestampNs }` (the first message stamped at or after
   * it). Default `committed` for a named reader, `earliest` otherwise.
   */
  start?: StartPosition;
  /** Only the last this many messages on the subject (then, when following, every new one); overrides `start`. */
  last?: number;
  /** Keep reading messages as they are published, until `signal` aborts or `close()`. */
  follow?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
  /**
   * How long the server waits for a named reader's commit before it sends
   * a message again (which the reader drops), when it creates the consumer.
   * Default one hour.
   */
  ackWaitMs?: number;
}

/**
 * A message in a JetStream stream without valid `Spool-Seq`,
 * `Spool-Timestamp-Ns` or `Spool-Type-Id` headers: it was not published by
 * spool, or was damaged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JetStreamMessageError } from "./jetstream_stream.ts";
 * const e = new JetStreamMessageError("bad", "nats://h:4222/S?subject=spool.S", 7);
 * assert.ok(e instanceof SyntaxError);
 * assert.equal(e.streamSeq, 7);
 * ```
 */
export class JetStreamMessageError extends SyntaxError {
  /** The stream as messages show it (no secret). */
  readonly location: string;
  /** The message's sequence in the JetStream stream. */
  readonly streamSeq: number;

  /** Builds the error. */
  constructor(message: string, location: string, streamSeq: number) {
    super(message);
    this.name = "JetStreamMessageError";
    this.location = location;
    this.streamSeq = streamSeq;
  }
}

// Messages the consumer holds for the caller at most before it stops pulling.
const HIGH_WATER = 4096;
const DECIMAL = /^\d+$/;
const MAX_TYPE_ID = 65535;
// JetStream takes no '.', '*', '>' or space in a consumer name.
const CONSUMER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const DEFAULT_ACK_WAIT_MS = 3_600_000;
// How long without a message before the reader asks the stream whether
// anything is left: what it was to read may have been removed under it.
const IDLE_CHECK_MS = 1000;

/**
 * A {@linkcode StreamReader} over a JetStream stream, of kind `jetstream`.
 * Unnamed, it reads with an ordered consumer (no state on the server beyond
 * the read); with a `name`, with a durable pull consumer of that name, so
 * it is {@linkcode Committable}: `commit()` acknowledges every message
 * handed out so far and a reader opened again under the name resumes after
 * them. It starts where `start` or `last` says. Not following, it ends at
 * the last message the subject held when it was opened, or sooner when the
 * rest is removed while it reads (purged, deleted, expired): what the
 * stream holds then is what there is to read. Following, it goes on until
 * `signal` aborts or `close()`. A stream deleted while it is read fails
 * with `Deno.errors.NotFound`, once, after every message before.
 *
 * A start `{ seq }` is a spool seq, found by a binary search over the
 * stream (JetStream's own seqs count every subject): a seq before the
 * subject's first or past the one after its last is a RangeError, as in a
 * queue. A start `{ timestampNs }` assumes timestamps that do not decrease,
 * as the queue's seek does.
 *
 * Messages arrive asynchronously: `wait()` resolves once one is there, and
 * `next()` lends what has arrived (valid until the next call). A message
 * without valid `Spool-*` headers makes `wait()` throw a
 * {@linkcode JetStreamMessageError} naming its stream seq, once, after
 * every message before it was handed out.
 *
 * One process reads under a name at a time: opening a named reader may
 * recreate its consumer, at the last commit or at an explicit start.
 *
 * @example Errors name the stream without its secrets
 * ```ts
 * import assert from "node:assert/strict";
 * import { JetStreamStream } from "./jetstream_stream.ts";
 * await assert.rejects(
 *   JetStreamStream.open("nats://ann:pw@127.0.0.1:1/TRADES"),
 *   (e: Error) => e.message.startsWith("Cannot connect to 'nats://ann:***@127.0.0.1:1/TRADES"),
 * );
 * ```
 *
 * @example A named reader that resumes after its last commit
 * ```ts ignore
 * import { JetStreamStream } from "./jetstream_stream.ts";
 * const stream = await JetStreamStream.open("nats://127.0.0.1:4222/TRADES", { name: "audit" });
 * for await (const m of stream) console.log(m.seq, m.typeId, m.payload.length);
 * stream.commit();
 * stream.close();
 * await stream.closed();
 * ```
 */
export class JetStreamStream implements StreamReader {
  /** The stream as {@linkcode describeNats} shows it: no password or token. */
  readonly location: string;
  /** Always `jetstream`. */
  readonly kind: StreamKind = "jetstream" as StreamKind;
  /** The durable consumer's name for a named reader; undefined for an unnamed one. */
  readonly name: string | undefined;
  readonly #nc: NatsConnection;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.#finish("end", true);
  #messages: ConsumerMessages | undefined;
  #pump: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  // Arrived messages, read into #view as they are handed out; those before
  // #head were.
  readonly #buffer: JsMsg[] = [];
  #head = 0;
  readonly #view = new MessageView();
  // The last message handed out and not committed yet.
  #handed: JsMsg | undefined;
  // The last message committed that the server was not asked to confirm yet.
  #unsent: JsMsg | undefined;
  #confirming = false;
  // Stream seq of the last message received: the server sends one again
  // once its ack wait passes, and the reader drops it.
  #lastSeen = 0;
  // #lastSeen at the idle timer's last tick, and the timer that checks the
  // stream when no message came between two ticks, one check at a time.
  #seenAtTick = 0;
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  #checking = false;
  // Settled once the server confirmed every commit; the first that failed.
  #commits: Promise<void> = Promise.resolve();
  #commitError: Error | undefined;
  // What follows the buffered messages: the end, or an error told once.
  #end: Error | "end" | undefined;
  // Settled when a message arrives or the stream ends, while `wait()` waits:
  // made only then, so a message read at once costs no promise.
  #waiting: PromiseWithResolvers<void> | undefined;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onWakeTimer = () => {
    this.#wakeTimer = undefined;
    this.#wake();
  };
  // Settled when the caller has taken every buffered message, so the read goes on.
  #drained: PromiseWithResolvers<void> | undefined;

  private constructor(
    location: string,
    nc: NatsConnection,
    name: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.location = location;
    this.#nc = nc;
    this.name = name;
    this.#signal = signal;
  }

  /**
   * Opens a reader on the stream at `location` (`nats://…/STREAM`, or one
   * parsed already).
   *
   * @throws {TypeError} for a location that is not `nats://`, a bad `last`,
   * `name`, `start` or `ackWaitMs`, a stream that holds no subject of the
   * location, or a consumer `name` that reads another subject.
   * @throws {RangeError} for a start seq the subject does not hold.
   * @throws {Deno.errors.NotFound} when the stream does not exist.
   * @throws {Error} when the server cannot be reached or refuses (no
   * JetStream, no permission); the message names the stream without a
   * secret.
   */
  static async open(
    location: string | NatsLocation,
    options: JetStreamStreamOptions = {},
  ): Promise<JetStreamStream> {
    const loc = typeof location === "string" ? parseNatsLocation(location) : location;
    if (loc === undefined) {
      throw new TypeError(
        `Location '${location}' is not a JetStream stream: give 'nats://HOST:PORT/STREAM'`,
      );
    }
    const { last, follow = false, signal, name, ackWaitMs = DEFAULT_ACK_WAIT_MS } = options;
    if (last !== undefined && !(Number.isSafeInteger(last) && last >= 0)) {
      throw new TypeError(`Option 'last' is '${last}': give a whole number of messages`);
    }
    if (name !== undefined && !CONSUMER_NAME.test(name)) {
      throw new TypeError(
        `Reader name '${name}' is not valid for JetStream: use 1 to 100 letters, digits, '_' or '-', starting with a letter or digit`,
      );
    }
    if (!(Number.isFinite(ackWaitMs) && ackWaitMs >= 1)) {
      throw new TypeError(`Option 'ackWaitMs' is '${ackWaitMs}': give milliseconds, at least 1`);
    }
    const start = options.start ?? (name === undefined ? "earliest" : "committed");
    checkStart(start);
    if (start === "committed" && name === undefined) {
      throw new TypeError("Start 'committed' needs a named reader: pass 'name'");
    }
    const shown = describeNats(loc);
    const nc = await connectNats(loc);
    const stream = new JetStreamStream(shown, nc, name, signal);
    try {
      await stream.#start(loc, last === undefined ? start : { last }, follow, ackWaitMs);
    } catch (e) {
      stream.close();
      await stream.closed();
      // These name the stream already.
      const ours = e instanceof TypeError || e instanceof RangeError ||
        e instanceof SyntaxError || e instanceof Deno.errors.NotFound;
      if (ours) throw e;
      throw openError(loc, e as Error);
    }
    return stream;
  }

  async #start(
    loc: NatsLocation,
    start: StartPosition | { last: number },
    follow: boolean,
    ackWaitMs: number,
  ): Promise<void> {
    const jsm = await jetstreamManager(this.#nc);
    let subjects: string[];
    try {
      subjects = (await jsm.streams.info(loc.stream)).config.subjects ?? [];
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound)) throw e;
      throw new Deno.errors.NotFound(
        `JetStream stream '${loc.stream}' does not exist on '${loc.servers}'`,
      );
    }
    if (!subjects.some((pattern) => subjectMatches(pattern, loc.subject))) {
      throw new TypeError(
        `JetStream stream '${loc.stream}' does not hold subject '${loc.subject}' (it holds '${
          subjects.join("', '")
        }'): give '?subject=' one of them`,
      );
    }
    const finder = new SeqFinder(jsm, loc, this.location);
    // The end of a read that does not follow: the subject's last message now.
    const last = await finder.last();
    const end = last?.seq ?? 0;
    const from = start === "committed" ? undefined : await finder.start(start, last);
    const first = this.name === undefined ? from! : await this.#durable(jsm, loc, from, ackWaitMs);
    if (!follow && first > end) return this.#finish("end");
    const consumers = jetstream(this.#nc).consumers;
    const consumer = this.name === undefined
      ? await consumers.get(loc.stream, {
        // A single subject as a string: servers before 2.10 take no list.
        filter_subjects: loc.subject,
        ...deliverFrom(first),
      })
      : await consumers.get(loc.stream, this.name);
    const messages = await consumer.consume({ max_messages: HIGH_WATER });
    this.#messages = messages;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#signal?.aborted) return this.#finish("end", true);
    this.#pump = this.#receive(messages, follow ? Infinity : end, finder);
    this.#idleTimer = setInterval(
      () => this.#checkIdle(finder, follow ? Infinity : end),
      IDLE_CHECK_MS,
    );
    Deno.unrefTimer(this.#idleTimer);
  }

  // When no message came for a while, asks the stream whether the subject
  // still holds one after the last seen up to `end`: the rest may have been
  // purged, deleted or expired, which ends a read that does not follow as
  // the stream's content now; a deleted stream fails any read, once.
  async #checkIdle(finder: SeqFinder, end: number): Promise<void> {
    // A full buffer stops the read, not the stream.
    if (this.#checking || this.#drained !== undefined || this.#end !== undefined) return;
    const seen = this.#lastSeen;
    if (seen !== this.#seenAtTick) {
      this.#seenAtTick = seen;
      return;
    }
    this.#checking = true;
    try {
      const left = await finder.holdsFrom(seen + 1, end);
      // A message that arrived during the check raced the removal: the next check tells.
      if (!left && end !== Infinity && this.#lastSeen === seen) this.#finish("end");
    } catch (e) {
      // Anything else (a lost server) is the client's to recover from: the next check tells.
      if (e instanceof Deno.errors.NotFound) this.#finish(e);
    } finally {
      this.#checking = false;
    }
  }

  // Makes the durable consumer ready to deliver from stream seq `from`, or
  // after its last commit when undefined, and returns the stream seq it
  // delivers from.
  async #durable(
    jsm: JetStreamManager,
    loc: NatsLocation,
    from: number | undefined,
    ackWaitMs: number,
  ): Promise<number> {
    const name = this.name!;
    let info: ConsumerInfo | undefined;
    try {
      info = await jsm.consumers.info(loc.stream, name);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.ConsumerNotFound)) {
        throw e;
      }
    }
    if (info !== undefined) {
      const config = info.config;
      const theirs = config.filter_subject ?? "";
      if (theirs !== loc.subject) {
        throw new TypeError(
          `Consumer '${name}' of JetStream stream '${loc.stream}' reads subject '${theirs}', not '${loc.subject}': give another name`,
        );
      }
      if (config.ack_policy !== AckPolicy.All || config.deliver_subject !== undefined) {
        throw new TypeError(
          `Consumer '${name}' of JetStream stream '${loc.stream}' is not a pull consumer acknowledging all, as a reader's is: give another name`,
        );
      }
      if (from === undefined) {
        // Messages handed out and never committed would come again only
        // once their ack wait passed: the consumer restarts after the commit.
        const { delivered, ack_floor: acked } = info;
        if (delivered.consumer_seq === acked.consumer_seq) return delivered.stream_seq + 1;
        from = acked.consumer_seq > 0 ? acked.stream_seq + 1 : config.opt_start_seq ?? 1;
      }
      await jsm.consumers.delete(loc.stream, name);
    }
    from ??= 1;
    await jsm.consumers.add(loc.stream, {
      durable_name: name,
      filter_subject: loc.subject,
      ack_policy: AckPolicy.All,
      ack_wait: Math.round(ackWaitMs * 1e6),
      // A reader that never commits must never stall.
      max_ack_pending: -1,
      ...deliverFrom(from),
    });
    return from;
  }

  async #receive(messages: ConsumerMessages, end: number, finder: SeqFinder): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.#end !== undefined) return;
        const seq = m.seq;
        if (seq <= this.#lastSeen) continue;
        this.#lastSeen = seq;
        // Its headers are read as it is handed out: a bad one fails there.
        this.#buffer.push(m);
        if (seq >= end) break;
        // `pending` 0 before the end: the end was removed after open, or the
        // consumer sits on a replica still catching up (a restarted cluster
        // node), whose count is not the stream's. The stream leader decides.
        if (end !== Infinity && m.info.pending === 0) {
          this.#wake();
          if (!await finder.holdsFrom(seq + 1, end)) break;
        }
        if (this.#buffer.length - this.#head >= HIGH_WATER) {
          this.#wake();
          this.#drained = Promise.withResolvers<void>();
          await this.#drained.promise;
        } else if (this.#waiting !== undefined) {
          // A waiting caller is woken once the client holds no more messages
          // for now, to take them all for one `wait()`; the client's count
          // may include work it did, so a timer wakes it at the latest.
          if (messages.getPending() === 0) this.#wake();
          else this.#wakeTimer ??= setTimeout(this.#onWakeTimer, 0);
        }
      }
      this.#finish("end");
    } catch (e) {
      this.#finish(e as Error);
    }
  }

  /** The next message that has arrived (lent until the next call), or undefined: then {@linkcode JetStreamStream.wait}. */
  next(): StreamMessage | undefined {
    const buffer = this.#buffer;
    if (this.#head === buffer.length) return undefined;
    const m = buffer[this.#head]!;
    const view = this.#view;
    if (!view.read(m)) {
      try {
        view.readChecked(m, this.location);
      } catch (e) {
        // The read ends at the bad message: what came after it is not told.
        this.#end = undefined;
        this.#finish(e as Error, true);
        return undefined;
      }
    }
    if (this.name !== undefined) this.#handed = m;
    if (++this.#head === buffer.length) {
      buffer.length = 0;
      this.#head = 0;
      this.#drained?.resolve();
      this.#drained = undefined;
    }
    return view;
  }

  /**
   * Resolves true once `next()` has a message; false when `timeoutMs`
   * passes first, or at the end: not following, the subject's last message
   * at open was handed out (or the rest was removed); following, `signal`
   * aborted or the reader was closed.
   *
   * @throws {JetStreamMessageError} once, for a message without valid
   * `Spool-*` headers, after every message before it.
   * @throws {Deno.errors.NotFound} once, when the stream was deleted while
   * it was read, after every message that arrived before.
   */
  async wait(timeoutMs = Infinity): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#head < this.#buffer.length) return true;
      const end = this.#end;
      if (end === "end") return false;
      if (end !== undefined) {
        this.#end = "end";
        throw end;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const changed = (this.#waiting ??= Promise.withResolvers<void>()).promise;
      if (left === Infinity) {
        await changed;
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([changed, new Promise((resolve) => timer = setTimeout(resolve, left))]);
      clearTimeout(timer);
    }
  }

  /**
   * Commits a named reader's position: every message handed out so far
   * counts as consumed, and a reader opened again under the name resumes
   * after them. The server confirms it asynchronously;
   * {@linkcode JetStreamStream.closed} waits for that, and rejects when it
   * failed.
   *
   * @throws {TypeError} for an unnamed reader or a closed one.
   * @throws {Error} when the server did not confirm an earlier commit.
   */
  commit(): void {
    if (this.name === undefined) {
      throw new TypeError("Only a named reader can commit: open it with a 'name'");
    }
    if (this.#closing !== undefined) {
      throw new TypeError(`Cannot commit on '${this.location}': the reader is closed`);
    }
    if (this.#commitError !== undefined) throw this.#commitError;
    if (this.#handed === undefined) return;
    this.#unsent = this.#handed;
    this.#handed = undefined;
    if (this.#confirming) return;
    this.#confirming = true;
    this.#commits = this.#confirm();
  }

  // Acknowledges committed messages one confirmation at a time: commits made
  // while one is under way are folded into the next. The consumer
  // acknowledges all, so a message settles every one before it.
  async #confirm(): Promise<void> {
    try {
      for (let m = this.#unsent; m !== undefined; m = this.#unsent) {
        this.#unsent = undefined;
        try {
          await m.ackAck();
        } catch (e) {
          this.#commitError = new Error(
            `Commit at stream seq '${m.seq}' of '${this.location}' was not confirmed: ${
              (e as Error).message
            }`,
            { cause: e },
          );
          return;
        }
      }
    } finally {
      this.#confirming = false;
    }
  }

  /**
   * Stops reading and starts closing the connection, once the server
   * confirmed every commit; messages not handed out yet are dropped.
   * {@linkcode JetStreamStream.closed} tells when it is closed.
   */
  close(): void {
    this.#finish("end", true);
    this.#closing ??= this.#commits.then(() => this.#nc.close()).then(() => this.#pump);
  }

  /**
   * Resolves once {@linkcode JetStreamStream.close} has closed the connection.
   *
   * @throws {Error} when the server did not confirm a commit.
   */
  async closed(): Promise<void> {
    await (this.#closing ?? this.#nc.closed().then(() => this.#pump));
    if (this.#commitError !== undefined) throw this.#commitError;
  }

  /** Same as {@linkcode JetStreamStream.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Lends each message; at the end ends, following waits for more. */
  [Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    return waitingIterator(this);
  }

  #wake(): void {
    if (this.#wakeTimer !== undefined) {
      clearTimeout(this.#wakeTimer);
      this.#wakeTimer = undefined;
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve();
  }

  // Ends the stream after what is buffered, or at once when `drop`.
  #finish(end: Error | "end", drop = false): void {
    if (drop) {
      this.#buffer.length = 0;
      this.#head = 0;
    }
    if (this.#end === undefined) this.#end = end;
    clearInterval(this.#idleTimer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#messages?.stop();
    this.#drained?.resolve();
    this.#wake();
  }
}

// Finds where a start position lies in the stream: the stream seq of the
// first message on the subject to read. Each probe is one request for the
// first message on the subject at or after a stream seq, which steps over
// other subjects' messages and deleted ones.
class SeqFinder {
  readonly #jsm: JetStreamManager;
  readonly #loc: NatsLocation;
  readonly #shown: string;

  constructor(jsm: JetStreamManager, loc: NatsLocation, shown: string) {
    this.#jsm = jsm;
    this.#loc = loc;
    this.#shown = shown;
  }

  // The subject's last message, or null when it holds none.
  last(): Promise<StoredMsg | null> {
    return this.#jsm.streams.getMessage(this.#loc.stream, { last_by_subj: this.#loc.subject });
  }

  // The stream seq to read from; one past the subject's last for nothing yet.
  async start(
    start: Exclude<StartPosition, "committed"> | { last: number },
    last: StoredMsg | null,
  ): Promise<number> {
    const end = last?.seq ?? 0;
    if (start === "earliest") return 1;
    if (start === "latest" || last === null) {
      // An empty subject goes on at seq 1, as an empty queue does.
      if (typeof start === "object" && "seq" in start && start.seq > 1) {
        throw new RangeError(`Seq ${start.seq} is not in '${this.#shown}': it is empty`);
      }
      return end + 1;
    }
    if ("timestampNs" in start) {
      const at = BigInt(start.timestampNs);
      return (await this.#search((m) => this.#timeOf(m) >= at, end))?.seq ?? end + 1;
    }
    const lastSeq = this.#seqOf(last);
    if ("last" in start) {
      const from = lastSeq - start.last + 1;
      return (await this.#search((m) => this.#seqOf(m) >= from, end))?.seq ?? end + 1;
    }
    const seq = start.seq;
    const first = await this.#next(1);
    const firstSeq = first === null ? lastSeq : this.#seqOf(first);
    if (seq < firstSeq) {
      throw new RangeError(
        `Seq ${seq} is no longer in '${this.#shown}': the earliest is ${firstSeq}`,
      );
    }
    const found = seq > lastSeq ? null : await this.#search((m) => this.#seqOf(m) >= seq, end);
    if (found === null) {
      if (seq === lastSeq + 1) return end + 1;
      throw new RangeError(`Seq ${seq} is not in '${this.#shown}' yet: it ends at seq ${lastSeq}`);
    }
    const foundSeq = this.#seqOf(found);
    if (foundSeq !== seq) {
      throw new RangeError(`Seq ${seq} is not in '${this.#shown}': the next there is ${foundSeq}`);
    }
    return found.seq;
  }

  // Whether the subject holds a message at or after stream seq `seq`, up
  // to `end`; Deno.errors.NotFound when the stream was deleted.
  async holdsFrom(seq: number, end: number): Promise<boolean> {
    let m: StoredMsg | null;
    try {
      m = await this.#next(seq);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound)) throw e;
      throw new Deno.errors.NotFound(
        `JetStream stream '${this.#shown}' was deleted while it was read`,
      );
    }
    return m !== null && m.seq <= end;
  }

  // The first message on the subject at or after stream seq `seq`, or null.
  #next(seq: number): Promise<StoredMsg | null> {
    // Servers from 2.9 take `next_by_subj`; the client types it for direct gets only.
    const query = { seq, next_by_subj: this.#loc.subject } as unknown as MsgRequest;
    return this.#jsm.streams.getMessage(this.#loc.stream, query);
  }

  // The first message on the subject up to stream seq `end` for which
  // `holds` is true, when it is false before it and true after.
  async #search(holds: (m: StoredMsg) => boolean, end: number): Promise<StoredMsg | null> {
    let lo = 1;
    let hi = end;
    let found: StoredMsg | null = null;
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const m = await this.#next(mid);
      if (m === null || m.seq > hi) {
        hi = mid - 1; // none on the subject in [mid, hi]
      } else if (holds(m)) {
        found = m;
        hi = mid - 1;
      } else {
        lo = m.seq + 1;
      }
    }
    return found;
  }

  #seqOf(m: StoredMsg): number {
    return Number(spoolField(m.header, "Spool-Seq", m.seq, this.#shown));
  }

  #timeOf(m: StoredMsg): bigint {
    return BigInt(spoolField(m.header, "Spool-Timestamp-Ns", m.seq, this.#shown));
  }
}

// Where a consumer starts delivering: stream seq `from`, 1 meaning the first kept.
function deliverFrom(from: number) {
  return from <= 1
    ? { deliver_policy: DeliverPolicy.All }
    : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from };
}

// The decimal in header `name` of the message at `streamSeq`, or the error naming it.
function spoolField(
  headers: MsgHdrs | undefined,
  name: string,
  streamSeq: number,
  location: string,
): string {
  const text = headers?.get(name) ?? "";
  if (DECIMAL.test(text)) return text;
  const what = text === ""
    ? `has no '${name}' header`
    : `has '${name}' header '${text}', not a decimal`;
  throw new JetStreamMessageError(
    `Message at stream seq '${streamSeq}' of '${location}' ${what}: it was not published by spool`,
    location,
    streamSeq,
  );
}

// A message's Spool-* headers made a StreamMessage, or the error naming its stream seq.
function toMessage(m: JsMsg, location: string): StreamMessage {
  let headers: JsMsg["headers"];
  try {
    headers = m.headers;
  } catch (e) {
    // The client refuses the whole header block for one bad line: damage, named by its seq.
    throw new JetStreamMessageError(
      `Message at stream seq '${m.seq}' of '${location}' has a header block that does not parse (${
        (e as Error).message
      }): it was not published by spool`,
      location,
      m.seq,
    );
  }
  const field = (name: string) => spoolField(headers, name, m.seq, location);
  const seq = Number(field("Spool-Seq"));
  const timestampNs = BigInt(field("Spool-Timestamp-Ns"));
  const typeId = Number(field("Spool-Type-Id"));
  if (seq < 1 || !Number.isSafeInteger(seq) || typeId > MAX_TYPE_ID) {
    throw new JetStreamMessageError(
      `Message at stream seq '${m.seq}' of '${location}' has seq '${seq}' or type id '${typeId}' out of range`,
      location,
      m.seq,
    );
  }
  // The client hands out node Buffers, whose slice() shares memory; callers copy with slice().
  const data = m.data;
  return {
    seq,
    timestampNs,
    typeId,
    payload: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

// What the client's messages hold (@nats-io/jetstream 3.4.0): the core
// message with its raw bytes, the header block first, `hdr` bytes long. Read
// only when they are there, as the client may change them.
interface ClientMsg {
  msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } };
}

const EMPTY = new Uint8Array(0);
const CR = 13;
const LF = 10;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Header names with their colon, as bytes at the start of a header line.
const SEQ_KEY = encoder.encode("Spool-Seq:");
const TIMESTAMP_KEY = encoder.encode("Spool-Timestamp-Ns:");
const TYPE_KEY = encoder.encode("Spool-Type-Id:");
// Digits a double holds exactly, whatever they are.
const EXACT_DIGITS = 15;

// The flyweight `next()` lends: seq and type id read from the message's raw
// header block, the timestamp made a bigint only when asked for, as a queue
// reader's record view does.
class MessageView implements StreamMessage {
  seq = 0;
  typeId = 0;
  payload: Uint8Array = EMPTY;
  // The header block and where the timestamp's digits lie in it, or the
  // timestamp itself once made.
  #raw: Uint8Array = EMPTY;
  #timeFrom = 0;
  #timeTo = 0;
  #time: bigint | undefined;

  get timestampNs(): bigint {
    return this.#time ??= decimalBigInt(this.#raw, this.#timeFrom, this.#timeTo);
  }

  // Reads `m` from its raw bytes when its headers are as spool writes them
  // (each a decimal, padded with spaces or tabs at most, in range); false
  // for anything else, which `readChecked` then reads as the client parses
  // it. Only the Spool-* lines are looked at: a message whose Spool-* lines
  // are good is read even when another header line would not parse, since
  // its seq, timestamp, type id and payload are all there.
  read(m: JsMsg): boolean {
    const core = (m as unknown as ClientMsg).msg;
    const raw = core?._rdata;
    const hdr = core?._msg?.hdr;
    if (!(raw instanceof Uint8Array) || typeof hdr !== "number" || hdr < 0) return false;
    let seq = -1;
    let typeId = -1;
    let timeFrom = -1;
    let timeTo = -1;
    // The client splits the block at CR LF and skips the first line (the status).
    let i = lineAfter(raw, 0, hdr);
    while (i >= 0 && i < hdr) {
      const key = raw[i] === 0x53 /* S */ ? spoolKey(raw, i) : undefined;
      if (key === undefined) {
        i = lineAfter(raw, i, hdr);
        continue;
      }
      let j = i + key.length;
      while (raw[j] === 0x20 || raw[j] === 0x09) j++;
      const from = j;
      let value = 0;
      for (let c = raw[j]! - 0x30; c >= 0 && c <= 9; c = raw[++j]! - 0x30) value = value * 10 + c;
      const to = j;
      while (raw[j] === 0x20 || raw[j] === 0x09) j++;
      if (to === from || raw[j] !== CR || raw[j + 1] !== LF || j + 2 > hdr) return false;
      // The client takes a header's first value.
      if (key === SEQ_KEY) {
        if (seq === -1) seq = to - from > EXACT_DIGITS ? 0 : value;
      } else if (key === TYPE_KEY) {
        if (typeId === -1) typeId = to - from > EXACT_DIGITS ? Infinity : value;
      } else if (timeFrom === -1) {
        timeFrom = from;
        timeTo = to;
      }
      i = j + 2;
    }
    if (i < 0 || seq < 1 || typeId < 0 || typeId > MAX_TYPE_ID || timeFrom < 0) return false;
    this.seq = seq;
    this.typeId = typeId;
    this.#raw = raw;
    this.#timeFrom = timeFrom;
    this.#timeTo = timeTo;
    this.#time = undefined;
    // The payload follows the header block; a plain view, as a node Buffer's
    // slice() would share memory.
    this.payload = new Uint8Array(raw.buffer, raw.byteOffset + hdr, raw.byteLength - hdr);
    return true;
  }

  // Reads `m` from the headers as the client parses them.
  // @throws {JetStreamMessageError} naming its stream seq when they are not spool's.
  readChecked(m: JsMsg, location: string): void {
    const read = toMessage(m, location);
    this.seq = read.seq;
    this.typeId = read.typeId;
    this.#time = read.timestampNs;
    this.payload = read.payload;
  }
}

// Where the line after the one at `i` starts (up to `end`), or -1 for a lone
// CR, where the client's lines would not be these.
function lineAfter(raw: Uint8Array, i: number, end: number): number {
  while (i < end && raw[i] !== CR) i++;
  if (i >= end) return end;
  return raw[i + 1] === LF ? i + 2 : -1;
}

// The Spool-* key with its colon at `i`, or undefined.
function spoolKey(raw: Uint8Array, i: number): Uint8Array | undefined {
  // All three share "Spool-"; the letter after it tells which to compare.
  const c = raw[i + 7];
  const key = raw[i + 6] === 0x53
    ? SEQ_KEY
    : c === 0x69
    ? TIMESTAMP_KEY
    : c === 0x79
    ? TYPE_KEY
    : undefined;
  if (key === undefined) return undefined;
  for (let k = 0; k < key.length; k++) if (raw[i + k] !== key[k]) return undefined;
  return key;
}

// The decimal in `raw` from `from` to `to` (ASCII digits only).
function decimalBigInt(raw: Uint8Array, from: number, to: number): bigint {
  // A nanosecond timestamp has 19 digits: two doubles hold them exactly.
  if (to - from > EXACT_DIGITS + 9) return BigInt(decoder.decode(raw.subarray(from, to)));
  const split = Math.max(from, to - 9);
  let high = 0;
  for (let j = from; j < split; j++) high = high * 10 + raw[j]! - 0x30;
  let low = 0;
  for (let j = split; j < to; j++) low = low * 10 + raw[j]! - 0x30;
  return high === 0 ? BigInt(low) : BigInt(high) * 1_000_000_000n + BigInt(low);
}

// Whether a stream subject (with `*` and `>` wildcards) takes `subject`.
function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
