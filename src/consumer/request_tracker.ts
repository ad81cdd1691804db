/**
 * Links JSON-RPC responses to the requests they answer while frames stream
 * by, so a response can be shown with its request's method and round trip.
 *
 * @module
 */

import { type Direction, type FrameRecord, jsonRpcIdKey, type JsonValue } from "../tape/mod.ts";
import { IdQueues } from "./id_queues.ts";

/** What the tracker knows about a frame. */
export interface FrameInfo {
  /** The frame's own method, or for a response the method of its request. */
  method: string | undefined;
  /** JSON-RPC id of the message, when it has one. */
  id: JsonValue | undefined;
  /** For a response: milliseconds since its request, when the request was seen. */
  rttMs: number | undefined;
  /** For a response: seq of its request, when seen. */
  requestSeq: number | undefined;
}

interface Pending {
  method: string;
  seq: number;
  ts: number;
}

/**
 * Matches requests and responses by id in both directions (servers send
 * requests too), ids compared as the tape writer compares them
 * ({@linkcode jsonRpcIdKey}); a reused id answers its oldest open request
 * first. Memory holds only the requests still waiting for an answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestTracker } from "./request_tracker.ts";
 * const t = new RequestTracker();
 * t.observe({ type: "frame", seq: 1, ts: 1, dir: "c2s", env: { jsonrpc: "2.0", id: 7, method: "ping" } });
 * const info = t.observe({ type: "frame", seq: 2, ts: 4, dir: "s2c", env: { jsonrpc: "2.0", id: 7, result: {} } });
 * assert.equal(info.method, "ping");
 * assert.equal(info.rttMs, 3);
 * ```
 */
export class RequestTracker {
  // Open requests by direction and id key.
  #pending = new IdQueues<Pending>();

  /** Requests seen and not yet answered. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Looks at the next frame (in tape order) and describes it. `envText` is
   * the envelope's JSON text as the tape holds it (or a function giving
   * it), read for the spelling of a number id.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RequestTracker } from "./request_tracker.ts";
   * const t = new RequestTracker();
   * const see = (seq: number, dir: "c2s" | "s2c", text: string) =>
   *   t.observe({ type: "frame", seq, ts: seq, dir, env: JSON.parse(text) }, text);
   * see(1, "c2s", '{"id":1,"method":"one"}');
   * see(2, "c2s", '{"id":1.0,"method":"one point oh"}');
   * assert.equal(see(3, "s2c", '{"id":1.0,"result":0}').method, "one point oh");
   * ```
   */
  observe(frame: FrameRecord, envText?: string | (() => string | undefined)): FrameInfo {
    const env = frame.env;
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      return { method: undefined, id: undefined, rttMs: undefined, requestSeq: undefined };
    }
    const id = env.id;
    const method = typeof env.method === "string" ? env.method : undefined;
    if (method !== undefined) {
      this.#pending.put(key(frame.dir, env, envText), { method, seq: frame.seq, ts: frame.ts });
      return { method, id, rttMs: undefined, requestSeq: undefined };
    }
    if (id !== undefined && ("result" in env || "error" in env)) {
      const request = this.#pending.take(key(frame.dir === "c2s" ? "s2c" : "c2s", env, envText));
      if (request !== undefined) {
        return {
          method: request.method,
          id,
          rttMs: frame.ts - request.ts,
          requestSeq: request.seq,
        };
      }
    }
    return { method: undefined, id, rttMs: undefined, requestSeq: undefined };
  }
}

function key(
  requestDir: Direction,
  env: JsonValue,
  envText: string | (() => string | undefined) | undefined,
): string | undefined {
  const id = jsonRpcIdKey(env, envText);
  return id === undefined ? undefined : `${requestDir}:${id}`;
}
