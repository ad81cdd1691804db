/**
 * Matches JSON-RPC requests with their responses, in both directions, and
 * notices the protocol version negotiated by `initialize`.
 *
 * @module
 */

import { frameAction, methodOf } from "./message_kind.ts";
import { jsonRpcIdKey } from "./message_id.ts";
import { isTextFrame } from "./text_frame.ts";
import type { CorrelationRecord, Direction, FrameRecord, JsonValue } from "./types.ts";

/**
 * What {@linkcode Correlator.observe} learned from one frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Correlator, type Observation } from "./correlator.ts";
 * const c = new Correlator();
 * const seen: Observation = c.observe({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { id: 1, method: "ping" } });
 * assert.equal(seen.correlationId, "c2s-1");
 * ```
 */
export interface Observation {
  /** Correlation id to store on the frame: set on requests and on matched responses. */
  correlationId?: string;
  /** The `correlation` record to append right after a matched response frame. */
  record?: CorrelationRecord;
  /** The protocol version, when this frame answered `initialize` with a new one. */
  protocolVersion?: string;
  /**
   * A pending request given up because too many were waiting (see
   * {@linkcode CorrelatorOptions.maxPending}); it is reported as `timeout`.
   */
  evicted?: CorrelationRecord;
}

/**
 * Options of {@linkcode Correlator}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Correlator, type CorrelatorOptions } from "./correlator.ts";
 * const options: CorrelatorOptions = { maxPending: 1000 };
 * assert.deepEqual(new Correlator(options).timeoutPending(), []);
 * ```
 */
export interface CorrelatorOptions {
  /**
   * Most requests waiting for an answer at once, default 65 536. Past it the
   * oldest is given up as `timeout`, so a peer that never answers cannot
   * make memory grow without bound.
   */
  maxPending?: number;
}

interface Pending {
  readonly correlationId: string;
  readonly seq: number;
  readonly ts: number;
  readonly method: string | undefined;
  /** Where the request waits: its direction's map, under its id's key. */
  readonly dir: Direction;
  readonly key: string;
  /** A later request that reused the same id while this one was still open. */
  next: Pending | undefined;
  /** On the first of a queue only: its last entry, so queueing stays O(1). */
  last: Pending | undefined;
  /** Neighbours in the list of every open request by age, oldest first. */
  older: Pending | undefined;
  newer: Pending | undefined;
}

const NOTHING: Observation = Object.freeze({});

/**
 * The correlation id of a request frame: its direction and sequence number,
 * e.g. `c2s-12`. Unique within a tape because sequence numbers are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { correlationIdOf } from "./correlator.ts";
 * assert.equal(correlationIdOf("s2c", 7), "s2c-7");
 * ```
 */
export function correlationIdOf(dir: Direction, seq: number): string {
  return `${dir}-${seq}`;
}

/**
 * Pairs requests and responses by JSON-RPC `id`, compared by
 * {@linkcode jsonRpcIdKey} (by their JSON text: `1` and `1.0` are two ids,
 * and so are integers past 2^53 that differ). A request sent `c2s` is
 * answered by a response travelling `s2c` and the other way round; the ids
 * of the two directions are separate namespaces, so a client request `1`
 * and a server request `1` never mix. An id reused while the first request
 * is still open is queued: responses match the oldest open request first.
 * Requests with a `null` or non-scalar id, responses that match nothing and
 * batches are left uncorrelated. Pass each frame's envelope text to
 * {@linkcode Correlator.observe} so number ids are compared as written.
 *
 * Keeps only open requests in memory, never the tape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Correlator } from "./correlator.ts";
 * const c = new Correlator();
 * c.observe({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "initialize" } });
 * const seen = c.observe({
 *   type: "frame", seq: 2, ts: 1.5, dir: "s2c",
 *   env: { jsonrpc: "2.0", id: 1, result: { protocolVersion: "2025-06-18" } },
 * });
 * assert.equal(seen.correlationId, "c2s-1");
 * assert.equal(seen.record?.rtt_ms, 1.5);
 * assert.equal(seen.protocolVersion, "2025-06-18");
 * ```
 */
export class Correlator {
  #open: Record<Direction, Map<string, Pending>> = { c2s: new Map(), s2c: new Map() };
  #count = 0;
  // Every open request by age: the oldest is the one given up first.
  #oldest: Pending | undefined;
  #newest: Pending | undefined;
  #maxPending: number;
  #protocolVersion: string | undefined;

  /** Creates an empty correlator. */
  constructor(options: CorrelatorOptions = {}) {
    const max = options.maxPending ?? 65_536;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Option 'maxPending' must be a positive integer, got '${max}'`);
    }
    this.#maxPending = max;
  }

  /** Requests still waiting for an answer. */
  get pending(): number {
    return this.#count;
  }

  /** Protocol version of the last successful `initialize`, if any. */
  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  /**
   * The correlation id {@linkcode observe} would give this frame, without
   * changing any state.
   */
  peek(frame: FrameRecord, envText?: string | (() => string | undefined)): string | undefined {
    const action = frameAction(frame);
    if (action === "request") {
      return correlationKey(frame, envText) === undefined
        ? undefined
        : correlationIdOf(frame.dir, frame.seq);
    }
    if (action !== "response" && action !== "error") return undefined;
    const key = correlationKey(frame, envText);
    if (key === undefined) return undefined;
    return this.#open[opposite(frame.dir)].get(key)?.correlationId;
  }

  /**
   * Takes the next frame of the tape, in order. Returns the correlation id
   * for the frame and, for a response that answers an open request, the
   * `correlation` record to write after it. `envText` is the envelope's
   * JSON text as the tape holds it (or a function giving it), read for the
   * spelling of a number id; see {@linkcode jsonRpcIdKey}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Correlator } from "./correlator.ts";
   * const c = new Correlator();
   * const ask = (seq: number, text: string) =>
   *   c.observe({ type: "frame", seq, ts: 0, dir: "c2s", env: JSON.parse(text) }, text);
   * ask(1, '{"id":12345678901234567890,"method":"a"}');
   * ask(2, '{"id":12345678901234567891,"method":"b"}');
   * const text = '{"id":12345678901234567891,"result":1}';
   * const seen = c.observe({ type: "frame", seq: 3, ts: 1, dir: "s2c", env: JSON.parse(text) }, text);
   * assert.equal(seen.record?.request_seq, 2);
   * ```
   */
  observe(frame: FrameRecord, envText?: string | (() => string | undefined)): Observation {
    const action = frameAction(frame);
    if (action === "request") return this.#request(frame, envText);
    if (action === "response" || action === "error") {
      return this.#response(frame, action, envText);
    }
    return NOTHING;
  }

  /**
   * Gives up on every open request: returns one `timeout` record for each,
   * oldest first, and forgets them. Called when the tape is finalized.
   */
  timeoutPending(): CorrelationRecord[] {
    const all: CorrelationRecord[] = [];
    for (let p = this.#oldest; p !== undefined; p = p.newer) all.push(timeoutRecord(p));
    this.#open.c2s.clear();
    this.#open.s2c.clear();
    this.#oldest = this.#newest = undefined;
    this.#count = 0;
    return all;
  }

  #request(frame: FrameRecord, envText?: string | (() => string | undefined)): Observation {
    const key = correlationKey(frame, envText);
    if (key === undefined) return NOTHING;
    const correlationId = correlationIdOf(frame.dir, frame.seq);
    const entry: Pending = {
      correlationId,
      seq: frame.seq,
      ts: frame.ts,
      method: recordableMethod(frame.env),
      dir: frame.dir,
      key,
      next: undefined,
      last: undefined,
      older: this.#newest,
      newer: undefined,
    };
    if (this.#newest === undefined) this.#oldest = entry;
    else this.#newest.newer = entry;
    this.#newest = entry;
    const map = this.#open[frame.dir];
    const head = map.get(key);
    if (head === undefined) {
      map.set(key, entry);
    } else {
      (head.last ?? head).next = entry;
      head.last = entry;
    }
    this.#count++;
    if (this.#count <= this.#maxPending) return { correlationId };
    return { correlationId, evicted: timeoutRecord(this.#evictOldest()) };
  }

  #response(
    frame: FrameRecord,
    action: "response" | "error",
    envText?: string | (() => string | undefined),
  ): Observation {
    const key = correlationKey(frame, envText);
    if (key === undefined) return NOTHING;
    const head = this.#open[opposite(frame.dir)].get(key);
    if (head === undefined) return NOTHING;
    this.#dequeue(head);
    const record: CorrelationRecord = {
      type: "correlation",
      id: head.correlationId,
      request_seq: head.seq,
      response_seq: frame.seq,
      request_ts: head.ts,
      response_ts: frame.ts,
      rtt_ms: Math.round((frame.ts - head.ts) * 1000) / 1000,
      status: action === "error" ? "error" : "ok",
    };
    if (head.method !== undefined) record.method = head.method;
    if (head.method === "initialize" && action === "response") {
      const version = negotiatedVersion(frame.env);
      if (version !== undefined && version !== this.#protocolVersion) {
        this.#protocolVersion = version;
        return { correlationId: head.correlationId, record, protocolVersion: version };
      }
    }
    return { correlationId: head.correlationId, record };
  }

  #evictOldest(): Pending {
    // The oldest open request is the first of its id's queue: a queue is in request order.
    const oldest = this.#oldest;
    if (oldest === undefined) throw new RangeError("No open request to give up");
    this.#dequeue(oldest);
    return oldest;
  }

  /** Removes `head`, the first request of its id's queue, from its queue and the age list. */
  #dequeue(head: Pending): void {
    const map = this.#open[head.dir];
    const next = head.next;
    if (next === undefined) {
      map.delete(head.key);
    } else {
      if (next !== head.last) next.last = head.last;
      map.set(head.key, next);
    }
    if (head.older === undefined) this.#oldest = head.newer;
    else head.older.newer = head.newer;
    if (head.newer === undefined) this.#newest = head.older;
    else head.newer.older = head.older;
    this.#count--;
  }
}

/** Longest method name copied into correlation records. */
const MAX_METHOD_LENGTH = 1024;

/**
 * The request's method, unless absurdly long: the correlation record must
 * stay far below the line limit even when the request itself was near it.
 */
function recordableMethod(env: JsonValue): string | undefined {
  const method = methodOf(env);
  return method !== undefined && method.length <= MAX_METHOD_LENGTH ? method : undefined;
}

function timeoutRecord(p: Pending): CorrelationRecord {
  const record: CorrelationRecord = {
    type: "correlation",
    id: p.correlationId,
    request_seq: p.seq,
    response_seq: null,
    request_ts: p.ts,
    response_ts: null,
    rtt_ms: null,
    status: "timeout",
  };
  if (p.method !== undefined) record.method = p.method;
  return record;
}

function opposite(dir: Direction): Direction {
  return dir === "c2s" ? "s2c" : "c2s";
}

/** The frame's JSON-RPC id as a map key; a text frame has none. */
function correlationKey(
  frame: FrameRecord,
  envText: string | (() => string | undefined) | undefined,
): string | undefined {
  return isTextFrame(frame) ? undefined : jsonRpcIdKey(frame.env, envText);
}

function negotiatedVersion(env: JsonValue): string | undefined {
  if (env === null || typeof env !== "object" || Array.isArray(env)) return undefined;
  const result = env.result;
  if (result === null || typeof result !== "object" || Array.isArray(result)) return undefined;
  const version = result.protocolVersion;
  return typeof version === "string" && version !== "" ? version : undefined;
}
