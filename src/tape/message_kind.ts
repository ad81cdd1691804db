/**
 * Tells what a message envelope is: a JSON-RPC request, notification,
 * response or error response, some other JSON message, or a text line.
 *
 * @module
 */

import { isTextFrame } from "./text_frame.ts";
import type { FrameAction, FrameRecord, JsonValue } from "./types.ts";

/**
 * Classifies an envelope. `isText` marks a line that was not JSON (the
 * frame's `text` flag); it wins over everything else.
 *
 * The rules are deliberately lenient so JSON-RPC 1.0 and slightly sloppy
 * peers still classify: a string `method` makes a `request` when the object
 * has an `id` member (even `null`) and a `notification` otherwise; without a
 * method, an `id` member plus a non-null `error` makes an `error`, plus a
 * `result` makes a `response`. Anything else, including batches (arrays),
 * is a `message`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyMessage } from "./message_kind.ts";
 * assert.equal(classifyMessage({ jsonrpc: "2.0", id: 1, method: "ping" }, false), "request");
 * assert.equal(classifyMessage({ jsonrpc: "2.0", id: 1, result: {} }, false), "response");
 * assert.equal(classifyMessage("hello", true), "text");
 * ```
 */
export function classifyMessage(env: JsonValue, isText: boolean): FrameAction {
  if (isText) return "text";
  if (env === null || typeof env !== "object" || Array.isArray(env)) return "message";
  if (typeof env.method === "string") return "id" in env ? "request" : "notification";
  if (!("id" in env)) return "message";
  const error = env.error;
  if (error !== undefined && error !== null) return "error";
  if ("result" in env) return "response";
  return "message";
}

/**
 * The `method` of an envelope, when it has a string one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodOf } from "./message_kind.ts";
 * assert.equal(methodOf({ jsonrpc: "2.0", method: "tools/list", id: 3 }), "tools/list");
 * assert.equal(methodOf([1, 2]), undefined);
 * ```
 */
export function methodOf(env: JsonValue): string | undefined {
  if (env === null || typeof env !== "object" || Array.isArray(env)) return undefined;
  const method = env.method;
  return typeof method === "string" ? method : undefined;
}

const ACTIONS: ReadonlySet<unknown> = new Set<FrameAction>([
  "request",
  "notification",
  "response",
  "error",
  "message",
  "text",
]);

/**
 * What a recorded frame is: its `action` when the tape names a known one,
 * else what {@linkcode classifyMessage} makes of its envelope (the member is
 * optional in the format, and a tape from elsewhere may spell it wrong).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameAction } from "./message_kind.ts";
 * assert.equal(frameAction({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { id: 1, method: "x" } }), "request");
 * assert.equal(frameAction({ type: "frame", seq: 2, ts: 0, dir: "s2c", env: "log", flags: ["text"] }), "text");
 * assert.equal(frameAction({ type: "frame", seq: 3, ts: 0, dir: "s2c", env: {}, action: "error" }), "error");
 * ```
 */
export function frameAction(frame: FrameRecord): FrameAction {
  return ACTIONS.has(frame.action) ? frame.action! : classifyMessage(frame.env, isTextFrame(frame));
}
