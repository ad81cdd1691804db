/**
 * A recorded session reorganized around the client's requests: what the
 * server answered each one, and which messages the server sent on its own
 * initiative while (or just after) handling it.
 *
 * @module
 */

import {
  type FrameRecord,
  isTextFrame,
  jsonRpcIdKey,
  type JsonValue,
  type RawFrame,
} from "../tape/mod.ts";
import { replaceMemberValue } from "../json/mod.ts";
import { IdQueues } from "../consumer/mod.ts";
import { RecordedAnswers } from "./recorded_answers.ts";

/** A JSON object message. */
export type JsonObject = { [key: string]: JsonValue };

/** One client request and everything the server did about it. */
export interface RecordedExchange {
  /** Seq of the request frame. */
  seq: number;
  /** Method of the request. */
  method: string;
  /** Request params; `undefined` when the request had none. */
  params: JsonValue | undefined;
  /** The request envelope as recorded. */
  request: JsonObject;
  /** The server's recorded response envelope, if it answered. */
  response: JsonObject | undefined;
  /** Server requests and notifications sent while the request was the latest one pending. */
  before: JsonObject[];
  /** Server requests and notifications sent after the response and before the next request. */
  after: JsonObject[];
}

/** A message the client sent on its own initiative. */
export interface ClientMessage {
  /** Seq of the message's frame. */
  seq: number;
  /** The envelope, or the raw line of a text frame. */
  message: JsonObject | string;
  /** For a request: its exchange, holding the recorded response. */
  exchange?: RecordedExchange;
}

/** Everything {@linkcode buildRecordedSession} extracts. */
export interface RecordedSession {
  /** Client requests in recorded order. */
  exchanges: RecordedExchange[];
  /**
   * Client messages in recorded order, except its responses to server
   * requests: what a verifier sends.
   */
  clientMessages: ClientMessage[];
  /** Client responses to server requests, by the server request's method and params. */
  clientReplies: RecordedAnswers<JsonObject>;
  /** Server messages sent before the client's first request; not tied to any request. */
  unattached: JsonObject[];
  /**
   * The text of each recorded message that `JSON.stringify` would not give
   * back (integers past 2^53, `1.0`, `1e2`, spacing), when built from raw
   * frames. Use {@linkcode messageText} to send a message.
   */
  texts: WeakMap<JsonObject, string>;
}

/**
 * Reads frames (in tape order) into a {@linkcode RecordedSession}. Holds the
 * request/response pairs in memory: mock serving and verifying need them
 * all at hand.
 *
 * A server-initiated message is attributed to the most recent client
 * request still unanswered when it was sent (`before` its response); with
 * none pending, to the most recently answered request (`after`).
 *
 * Given raw frames (`TapeReader.rawFrames`), it keeps the original text of
 * every message whose text differs from its serialization.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildRecordedSession } from "./recorded_session.ts";
 * const frames = [
 *   { type: "frame" as const, seq: 1, ts: 0, dir: "c2s" as const, env: { jsonrpc: "2.0", id: 1, method: "ping" } },
 *   { type: "frame" as const, seq: 2, ts: 1, dir: "s2c" as const, env: { jsonrpc: "2.0", id: 1, result: {} } },
 * ];
 * const session = await buildRecordedSession(frames);
 * assert.deepEqual(session.exchanges[0]?.response, { jsonrpc: "2.0", id: 1, result: {} });
 * ```
 */
export async function buildRecordedSession(
  frames: AsyncIterable<FrameRecord | RawFrame> | Iterable<FrameRecord | RawFrame>,
): Promise<RecordedSession> {
  const texts = new WeakMap<JsonObject, string>();
  const exchanges: RecordedExchange[] = [];
  const clientMessages: ClientMessage[] = [];
  const clientReplies = new RecordedAnswers<JsonObject>();
  const unattached: JsonObject[] = [];
  // Open requests by id key; a reused id answers its oldest open request first.
  const openByKey = new IdQueues<RecordedExchange>();
  const open: RecordedExchange[] = [];
  const serverRequests = new IdQueues<JsonObject>();
  let lastAnswered: RecordedExchange | undefined;

  for await (const item of frames) {
    const frame = "envText" in item ? item.frame : item;
    const envText = "envText" in item ? item.envText : undefined;
    if (isTextFrame(frame)) {
      if (frame.dir === "c2s" && typeof frame.env === "string") {
        clientMessages.push({ seq: frame.seq, message: frame.env });
      }
      continue;
    }
    const env = frame.env;
    if (!isObject(env)) {
      if (frame.dir === "c2s") {
        clientMessages.push({ seq: frame.seq, message: envText ?? JSON.stringify(env) });
      }
      continue;
    }
    if (envText !== undefined && envText !== JSON.stringify(env)) texts.set(env, envText);
    const method = typeof env.method === "string" ? env.method : undefined;
    const hasId = env.id !== undefined && env.id !== null;
    // Ids are matched as the tape spells them, as its correlation records were.
    const key = jsonRpcIdKey(env, envText);
    if (frame.dir === "c2s") {
      if (method === undefined && hasId && ("result" in env || "error" in env)) {
        const asked = serverRequests.take(key);
        if (asked) clientReplies.add(String(asked.method), asked.params, env);
        continue;
      }
      if (method === undefined || !hasId) {
        clientMessages.push({ seq: frame.seq, message: env });
      } else {
        const exchange: RecordedExchange = {
          seq: frame.seq,
          method,
          params: env.params,
          request: env,
          response: undefined,
          before: [],
          after: [],
        };
        exchanges.push(exchange);
        clientMessages.push({ seq: frame.seq, message: env, exchange });
        openByKey.put(key, exchange);
        open.push(exchange);
      }
      continue;
    }
    // Server to client.
    if (method === undefined) {
      const exchange = openByKey.take(key);
      if (!exchange) continue;
      open.splice(open.indexOf(exchange), 1);
      exchange.response = env;
      lastAnswered = exchange;
      continue;
    }
    serverRequests.put(key, env);
    const owner = open.at(-1);
    if (owner) owner.before.push(env);
    else if (lastAnswered) lastAnswered.after.push(env);
    else unattached.push(env);
  }
  return { exchanges, clientMessages, clientReplies, unattached, texts };
}

/**
 * The text to send for a recorded message: as recorded when the session
 * knows it, else serialized. With `idText` (the JSON of an id), the `id`
 * member's value is replaced by it and the rest left byte for byte; a
 * message without exactly one `id` member is serialized with the new id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildRecordedSession, messageText } from "./recorded_session.ts";
 * const session = await buildRecordedSession([{
 *   frame: { type: "frame", seq: 1, ts: 0, dir: "s2c", env: { jsonrpc: "2.0", method: "tick", params: { n: 1 } } },
 *   envText: '{"jsonrpc":"2.0","method":"tick","params":{"n":1.0}}',
 * }]);
 * assert.equal(
 *   messageText(session, session.unattached[0]!),
 *   '{"jsonrpc":"2.0","method":"tick","params":{"n":1.0}}',
 * );
 * assert.equal(
 *   messageText(session, { jsonrpc: "2.0", id: 1, result: 2 }, '"a"'),
 *   '{"jsonrpc":"2.0","id":"a","result":2}',
 * );
 * ```
 */
export function messageText(
  session: RecordedSession,
  message: JsonObject,
  idText?: string,
): string {
  const text = session.texts.get(message) ?? JSON.stringify(message);
  if (idText === undefined) return text;
  return replaceMemberValue(text, "id", idText) ??
    JSON.stringify({ ...message, id: JSON.parse(idText) as JsonValue });
}

function isObject(v: JsonValue): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
