/**
 * Links JSON-RPC responses to the requests they answer while frames stream
 * by, so a response can be shown with its request's method and round trip.
 *
 * @module
 */

import type { Direction, FrameRecord, JsonValue } from "../tape/mod.ts";

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
 * requests too). Memory holds only the requests still waiting for an answer.
 *
 * @example
 * ```ts
 * import { RequestTracker } from "./request_tracker.ts";
 * const t = new RequestTracker();
 * t.observe({ type: "frame", seq: 1, ts: 1, dir: "c2s", env: { jsonrpc: "2.0", id: 7, method: "ping" } });
 * const info = t.observe({ type: "frame", seq: 2, ts: 4, dir: "s2c", env: { jsonrpc: "2.0", id: 7, result: {} } });
 * console.log(info.method, info.rttMs); // "ping" 3
 * ```
 */
export class RequestTracker {
  #pending = new Map<string, Pending>();

  /** Requests seen and not yet answered. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Looks at the next frame (in tape order) and describes it. */
  observe(frame: FrameRecord): FrameInfo {
    const env = frame.env;
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      return { method: undefined, id: undefined, rttMs: undefined, requestSeq: undefined };
    }
    const id = env.id;
    const method = typeof env.method === "string" ? env.method : undefined;
    if (method !== undefined) {
      if (id !== undefined && id !== null) {
        this.#pending.set(key(frame.dir, id), { method, seq: frame.seq, ts: frame.ts });
      }
      return { method, id, rttMs: undefined, requestSeq: undefined };
    }
    if (id !== undefined && ("result" in env || "error" in env)) {
      const k = key(frame.dir === "c2s" ? "s2c" : "c2s", id);
      const request = this.#pending.get(k);
      if (request) {
        this.#pending.delete(k);
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

function key(requestDir: Direction, id: JsonValue): string {
  return `${requestDir}:${JSON.stringify(id)}`;
}
