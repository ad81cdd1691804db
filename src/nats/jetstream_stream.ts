/**
 * A JetStream stream read through the stream API: an ordered consumer on the
 * location's subject, each message's seq, timestamp and type id taken from
 * its `Spool-*` headers and its payload from the message data.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import {
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { StreamMessage } from "../stream/stream_message.ts";
import type { StreamKind, StreamReader } from "../stream/stream_reader.ts";
import { waitingIterator } from "../stream/_wait_iterator.ts";
import { describeNats, type NatsLocation, parseNatsLocation } from "./nats_location.ts";
import { connectNats } from "./nats_connection.ts";

/** Options of {@linkcode JetStreamStream.open}. */
export interface JetStreamStreamOptions {
  /** Only the last this many messages on the subject (then, when following, every new one). */
  last?: number;
  /** Keep reading messages as they are published, until `signal` aborts or `close()`. */
  follow?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
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

/**
 * A {@linkcode StreamReader} over a JetStream stream, of kind `jetstream`.
 * It reads with an ordered consumer (no state on the server beyond the
 * read) from the first message on the location's subject, or from the last
 * `last` of the stream. Not following, it ends at the last message the
 * subject held when it was opened; following, it goes on until `signal`
 * aborts or `close()`.
 *
 * Messages arrive asynchronously: `wait()` resolves once one is there, and
 * `next()` lends what has arrived (valid until the next call). A message
 * without valid `Spool-*` headers makes `wait()` throw a
 * {@linkcode JetStreamMessageError} naming its stream seq, once, after
 * every message before it was handed out.
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
 * @example Reading the last ten messages
 * ```ts ignore
 * import { JetStreamStream } from "./jetstream_stream.ts";
 * const stream = await JetStreamStream.open("nats://127.0.0.1:4222/TRADES", { last: 10 });
 * for await (const m of stream) console.log(m.seq, m.typeId, m.payload.length);
 * stream.close();
 * await stream.closed();
 * ```
 */
export class JetStreamStream implements StreamReader {
  /** The stream as {@linkcode describeNats} shows it: no password or token. */
  readonly location: string;
  /** Always `jetstream`. */
  readonly kind: StreamKind = "jetstream" as StreamKind;
  readonly #nc: NatsConnection;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.#finish("end", true);
  #messages: ConsumerMessages | undefined;
  #pump: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  // Arrived messages; those before #head were handed out.
  readonly #buffer: StreamMessage[] = [];
  #head = 0;
  // What follows the buffered messages: the end, or an error told once.
  #end: Error | "end" | undefined;
  // Settled whenever a message arrives or the stream ends, then replaced.
  #changed = Promise.withResolvers<void>();
  // Settled when the caller has taken every buffered message, so the read goes on.
  #drained: PromiseWithResolvers<void> | undefined;

  private constructor(location: string, nc: NatsConnection, signal: AbortSignal | undefined) {
    this.location = location;
    this.#nc = nc;
    this.#signal = signal;
  }

  /**
   * Opens a reader on the stream at `location` (`nats://…/STREAM`, or one
   * parsed already).
   *
   * @throws {TypeError} for a location that is not `nats://`, a `last` that
   * is not a whole number, or a stream that holds no subject of the location.
   * @throws {Deno.errors.NotFound} when the stream does not exist.
   * @throws {Error} when the server cannot be reached; the message names it
   * without a secret.
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
    const { last, follow = false, signal } = options;
    if (last !== undefined && !(Number.isSafeInteger(last) && last >= 0)) {
      throw new TypeError(`Option 'last' is '${last}': give a whole number of messages`);
    }
    const shown = describeNats(loc);
    const nc = await connectNats(loc);
    const stream = new JetStreamStream(shown, nc, signal);
    try {
      await stream.#start(loc, last, follow);
    } catch (e) {
      stream.close();
      await stream.closed();
      throw e;
    }
    return stream;
  }

  async #start(loc: NatsLocation, last: number | undefined, follow: boolean): Promise<void> {
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
    // The end of a read that does not follow: the subject's last message now.
    const end = (await jsm.streams.getMessage(loc.stream, { last_by_subj: loc.subject }))?.seq ?? 0;
    if (!follow && (end === 0 || last === 0)) return this.#finish("end");
    const consumer = await jetstream(this.#nc).consumers.get(loc.stream, {
      // A single subject as a string: servers before 2.10 take no list.
      filter_subjects: loc.subject,
      ...(last === undefined ? { deliver_policy: DeliverPolicy.All } : {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: Math.max(1, end - last + 1),
      }),
    });
    const messages = await consumer.consume({ max_messages: HIGH_WATER });
    this.#messages = messages;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#signal?.aborted) return this.#finish("end", true);
    this.#pump = this.#receive(messages, follow ? Infinity : end);
  }

  async #receive(messages: ConsumerMessages, end: number): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.#end !== undefined) return;
        this.#buffer.push(toMessage(m, this.location));
        this.#wake();
        // `pending` 0 also ends a read whose last message was removed after open.
        if (m.seq >= end || (end !== Infinity && m.info.pending === 0)) break;
        if (this.#buffer.length - this.#head >= HIGH_WATER) {
          this.#drained = Promise.withResolvers<void>();
          await this.#drained.promise;
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
    const m = buffer[this.#head++]!;
    if (this.#head === buffer.length) {
      buffer.length = 0;
      this.#head = 0;
      this.#drained?.resolve();
      this.#drained = undefined;
    }
    return m;
  }

  /**
   * Resolves true once `next()` has a message; false when `timeoutMs`
   * passes first, or at the end: not following, the subject's last message
   * at open was handed out; following, `signal` aborted or the reader was
   * closed.
   *
   * @throws {JetStreamMessageError} once, for a message without valid
   * `Spool-*` headers, after every message before it.
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
      const changed = this.#changed.promise;
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
   * Stops reading and starts closing the connection; messages not handed
   * out yet are dropped. {@linkcode JetStreamStream.closed} tells when it
   * is closed.
   */
  close(): void {
    this.#finish("end", true);
    this.#closing ??= this.#nc.close().then(() => this.#pump);
  }

  /** Resolves once {@linkcode JetStreamStream.close} has closed the connection. */
  closed(): Promise<void> {
    return this.#closing ?? this.#nc.closed().then(() => this.#pump);
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
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  // Ends the stream after what is buffered, or at once when `drop`.
  #finish(end: Error | "end", drop = false): void {
    if (drop) {
      this.#buffer.length = 0;
      this.#head = 0;
    }
    if (this.#end === undefined) this.#end = end;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#messages?.stop();
    this.#drained?.resolve();
    this.#wake();
  }
}

// A message's Spool-* headers made a StreamMessage, or the error naming its stream seq.
function toMessage(m: JsMsg, location: string): StreamMessage {
  const field = (name: string): string => {
    const text = m.headers?.get(name) ?? "";
    if (DECIMAL.test(text)) return text;
    const what = text === ""
      ? `has no '${name}' header`
      : `has '${name}' header '${text}', not a decimal`;
    throw new JetStreamMessageError(
      `Message at stream seq '${m.seq}' of '${location}' ${what}: it was not published by spool`,
      location,
      m.seq,
    );
  };
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
