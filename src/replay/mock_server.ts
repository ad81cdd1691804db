/**
 * A mock JSON-RPC server that answers from a recording.
 *
 * @module
 */

import { jsonRpcIdKey, type JsonValue } from "../tape/mod.ts";
import { memberValueText } from "../json/mod.ts";
import type { ByteWriter } from "../consumer/mod.ts";
import {
  type JsonObject,
  messageText,
  type RecordedExchange,
  type RecordedSession,
} from "./recorded_session.ts";
import { RecordedAnswers } from "./recorded_answers.ts";
import { streamLines } from "./stream_lines.ts";

/**
 * Error code for a request whose method the tape never saw (JSON-RPC "method not found").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SERVE_UNKNOWN_METHOD } from "./mock_server.ts";
 * assert.equal(SERVE_UNKNOWN_METHOD, -32601);
 * ```
 */
export const SERVE_UNKNOWN_METHOD: number = -32601;
/**
 * Error code for a request whose method was recorded, but never with these
 * params (in the range JSON-RPC leaves to servers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SERVE_NO_MATCH } from "./mock_server.ts";
 * assert.equal(SERVE_NO_MATCH, -32001);
 * ```
 */
export const SERVE_NO_MATCH: number = -32001;
/**
 * Error code for a line that is not JSON (JSON-RPC "parse error").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SERVE_PARSE_ERROR } from "./mock_server.ts";
 * assert.equal(SERVE_PARSE_ERROR, -32700);
 * ```
 */
export const SERVE_PARSE_ERROR: number = -32700;
/**
 * Error code for a line that is JSON but not a JSON-RPC message: not an
 * object (batches are not supported), or an object with no `method`,
 * `result` or `error` (JSON-RPC "invalid request").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SERVE_INVALID_REQUEST } from "./mock_server.ts";
 * assert.equal(SERVE_INVALID_REQUEST, -32600);
 * ```
 */
export const SERVE_INVALID_REQUEST: number = -32600;

/** Options of {@linkcode serveSession}. */
export interface ServeSessionOptions {
  /** Fall back to the answers of the same method when no params match. */
  loose?: boolean;
  /** Longest wait for the client to answer a replayed server request, in ms (default 10 000). */
  replyTimeoutMs?: number;
  /** Told about each request and how it was answered (for logging on stderr). */
  onRequest?: (event: ServeEvent) => void;
}

/**
 * What the mock did with one request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ServeEvent } from "./mock_server.ts";
 * const event: ServeEvent = {
 *   method: "ping",
 *   id: 12345678901234567000,
 *   idText: "12345678901234567891",
 *   outcome: "exact",
 *   recordedSeq: 1,
 * };
 * assert.notEqual(String(event.id), event.idText);
 * ```
 */
export interface ServeEvent {
  /** Method of the request. */
  method: string;
  /** Id of the request, as parsed. */
  id: JsonValue;
  /** The id's JSON text as the client wrote it (`id` rounds a number past 2^53). */
  idText: string;
  /** `exact` / `method`: answered from the tape; otherwise the error code sent. */
  outcome: "exact" | "method" | number;
  /** Seq of the recorded request whose answer was used. */
  recordedSeq?: number;
}

/** Counters returned when the client hangs up. */
export interface ServeSummary {
  /** Requests received. */
  requests: number;
  /** Requests answered from the tape. */
  answered: number;
  /** Error responses sent (unknown method, no match, bad input). */
  errors: number;
  /** Notifications received. */
  notifications: number;
}

/**
 * Serves a recorded session on a pair of streams until the input ends.
 *
 * Each client request gets the response recorded for the same method and
 * deep-equal params (several recordings: used in recorded order, the last
 * one repeated), with the id replaced by the client's id as the client
 * wrote it. Recorded messages go out as the session holds their text (see
 * `messageText`); a response's id changes, nothing else. The server
 * requests and notifications recorded while that request was pending are
 * sent first (server requests keep their recorded ids, and their replies
 * are awaited up to `replyTimeoutMs`); those recorded right after its
 * response follow it. Client notifications and responses get no answer. A
 * line that is not JSON gets a parse error, and JSON that is not a message
 * an invalid-request error (id `null` unless the object has a usable one).
 * Every answer, errors included, goes out in the order the lines arrived.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildRecordedSession } from "./recorded_session.ts";
 * import { serveSession } from "./mock_server.ts";
 * const session = await buildRecordedSession([
 *   { type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } },
 *   { type: "frame", seq: 2, ts: 1, dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } },
 * ]);
 * const input = new Blob(['{"jsonrpc":"2.0","id":9,"method":"ping"}\n']).stream();
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * await serveSession(session, input, out);
 * assert.equal(chunks.join(""), '{"jsonrpc":"2.0","id":9,"result":{}}\n');
 * ```
 */
export async function serveSession(
  session: RecordedSession,
  input: ReadableStream<Uint8Array>,
  output: ByteWriter,
  options: ServeSessionOptions = {},
): Promise<ServeSummary> {
  const answers = new RecordedAnswers<RecordedExchange>();
  for (const ex of session.exchanges) {
    if (ex.response) answers.add(ex.method, ex.params, ex);
  }
  const replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
  const summary: ServeSummary = { requests: 0, answered: 0, errors: 0, notifications: 0 };
  const encoder = new TextEncoder();
  let writing = Promise.resolve();
  let inputEnded = false;
  let outputClosed = false;
  const waiters = new Map<string, () => void>();

  const send = (text: string): Promise<void> => {
    const bytes = encoder.encode(text + "\n");
    writing = writing.then(async () => {
      if (outputClosed) return;
      try {
        let written = 0;
        while (written < bytes.length) written += await output.write(bytes.subarray(written));
      } catch (error) {
        // The client stopped reading: nothing left to serve.
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
        outputClosed = true;
      }
    });
    return writing;
  };

  // `key` is the server request's id key (jsonRpcIdKey), as the client's reply must match it.
  const replyFrom = (key: string): Promise<void> => {
    if (inputEnded) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, replyTimeoutMs);
      function done() {
        clearTimeout(timer);
        waiters.delete(key);
        resolve();
      }
      waiters.set(key, done);
    });
  };

  const sendServerMessages = async (messages: JsonObject[]): Promise<void> => {
    for (const m of messages) {
      const text = messageText(session, m);
      const key = jsonRpcIdKey(m, text);
      const replied = key === undefined ? undefined : replyFrom(key);
      await send(text);
      await replied;
    }
  };

  // `idText` is the id as the client wrote it: parsing would round a big one.
  const handle = async (request: JsonObject, idText: string): Promise<void> => {
    const method = String(request.method);
    const id = request.id!;
    const found = answers.find(method, request.params, { loose: options.loose ?? false });
    if (typeof found === "string") {
      const code = found === "unknown-method" ? SERVE_UNKNOWN_METHOD : SERVE_NO_MATCH;
      const message = found === "unknown-method"
        ? `Method not found in tape: '${method}'`
        : `No recorded response for '${method}' with these params`;
      summary.errors++;
      options.onRequest?.({ method, id, idText, outcome: code });
      await send(errorText(idText, { code, message, data: { method } }));
      return;
    }
    const ex = found.answer;
    options.onRequest?.({ method, id, idText, outcome: found.kind, recordedSeq: ex.seq });
    await sendServerMessages(ex.before);
    summary.answered++;
    await send(messageText(session, ex.response!, idText));
    await sendServerMessages(ex.after);
  };

  // Everything that gets an answer is answered one at a time, in arrival
  // order, while this loop keeps reading so the client's replies to server
  // requests arrive.
  let handling = Promise.resolve();
  const queue = (work: () => Promise<void>) => {
    handling = handling.then(work);
  };
  const reject = (idText: string, code: number, message: string) => {
    summary.errors++;
    queue(() => send(errorText(idText, { code, message })));
  };
  for await (const line of streamLines(input)) {
    let message: JsonValue;
    try {
      message = JSON.parse(line);
    } catch {
      reject("null", SERVE_PARSE_ERROR, "Parse error");
      continue;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      reject("null", SERVE_INVALID_REQUEST, "Invalid Request: not a JSON object");
      continue;
    }
    const hasId = message.id !== undefined && message.id !== null;
    if (typeof message.method === "string") {
      if (!hasId) {
        summary.notifications++;
        continue;
      }
      summary.requests++;
      const request = message;
      const idText = memberValueText(line, "id") ?? JSON.stringify(message.id);
      queue(() => handle(request, idText));
    } else if ("result" in message || "error" in message) {
      const key = jsonRpcIdKey(message, line);
      if (key !== undefined) waiters.get(key)?.();
    } else {
      const usable = typeof message.id === "string" || typeof message.id === "number";
      const idText = usable ? memberValueText(line, "id") ?? JSON.stringify(message.id) : "null";
      reject(idText, SERVE_INVALID_REQUEST, "Invalid Request: no method, result or error");
    }
  }
  inputEnded = true;
  for (const done of [...waiters.values()]) done();
  await handling;
  await writing;
  return summary;
}

function errorText(idText: string, error: JsonObject): string {
  return `{"jsonrpc":"2.0","id":${idText},"error":${JSON.stringify(error)}}`;
}
