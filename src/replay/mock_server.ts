/**
 * A mock JSON-RPC server that answers from a recording.
 *
 * @module
 */

import type { JsonValue } from "../tape/mod.ts";
import type { ByteWriter } from "./line_sink.ts";
import type { JsonObject, RecordedExchange, RecordedSession } from "./recorded_session.ts";
import { RecordedAnswers } from "./recorded_answers.ts";
import { streamLines } from "./stream_lines.ts";

/**
 * Error code for a request whose method the tape never saw (JSON-RPC "method not found").
 *
 * @example
 * ```ts
 * import { SERVE_UNKNOWN_METHOD } from "./mock_server.ts";
 * console.log(SERVE_UNKNOWN_METHOD); // -32601
 * ```
 */
export const SERVE_UNKNOWN_METHOD = -32601;
/**
 * Error code for a request whose method was recorded, but never with these
 * params (in the range JSON-RPC leaves to servers).
 *
 * @example
 * ```ts
 * import { SERVE_NO_MATCH } from "./mock_server.ts";
 * console.log(SERVE_NO_MATCH); // -32001
 * ```
 */
export const SERVE_NO_MATCH = -32001;
/**
 * Error code for a line that is not JSON (JSON-RPC "parse error").
 *
 * @example
 * ```ts
 * import { SERVE_PARSE_ERROR } from "./mock_server.ts";
 * console.log(SERVE_PARSE_ERROR); // -32700
 * ```
 */
export const SERVE_PARSE_ERROR = -32700;

/** Options of {@linkcode serveSession}. */
export interface ServeOptions {
  /** Fall back to the answers of the same method when no params match. */
  loose?: boolean;
  /** Longest wait for the client to answer a replayed server request, in ms (default 10 000). */
  replyTimeoutMs?: number;
  /** Told about each request and how it was answered (for logging on stderr). */
  onRequest?: (event: ServeEvent) => void;
}

/** What the mock did with one request. */
export interface ServeEvent {
  method: string;
  id: JsonValue;
  /** `exact` / `method`: answered from the tape; otherwise the error code sent. */
  outcome: "exact" | "method" | number;
  /** Seq of the recorded request whose answer was used. */
  recordedSeq?: number;
}

/** Counters returned when the client hangs up. */
export interface ServeSummary {
  requests: number;
  answered: number;
  errors: number;
  notifications: number;
}

/**
 * Serves a recorded session on a pair of streams until the input ends.
 *
 * Each client request gets the response recorded for the same method and
 * deep-equal params (several recordings: used in recorded order, the last
 * one repeated), with the id replaced by the client's. The server requests
 * and notifications recorded while that request was pending are sent first
 * (server requests keep their recorded ids, and their replies are awaited
 * up to `replyTimeoutMs`); those recorded right after its response follow
 * it. Client notifications and responses get no answer.
 *
 * @example
 * ```ts
 * import { buildRecordedSession } from "./recorded_session.ts";
 * import { serveSession } from "./mock_server.ts";
 * const session = await buildRecordedSession([
 *   { type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } },
 *   { type: "frame", seq: 2, ts: 1, dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } },
 * ]);
 * const input = new Blob(['{"jsonrpc":"2.0","id":9,"method":"ping"}\n']).stream();
 * await serveSession(session, input, Deno.stdout); // prints {"jsonrpc":"2.0","id":9,"result":{}}
 * ```
 */
export async function serveSession(
  session: RecordedSession,
  input: ReadableStream<Uint8Array>,
  output: ByteWriter,
  options: ServeOptions = {},
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

  const send = (message: JsonObject): Promise<void> => {
    const bytes = encoder.encode(JSON.stringify(message) + "\n");
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

  const replyFrom = (id: JsonValue): Promise<void> => {
    if (inputEnded) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, replyTimeoutMs);
      function done() {
        clearTimeout(timer);
        waiters.delete(JSON.stringify(id));
        resolve();
      }
      waiters.set(JSON.stringify(id), done);
    });
  };

  const sendServerMessages = async (messages: JsonObject[]): Promise<void> => {
    for (const m of messages) {
      const replied = m.id !== undefined && m.id !== null ? replyFrom(m.id) : undefined;
      await send(m);
      await replied;
    }
  };

  const handle = async (request: JsonObject): Promise<void> => {
    const method = String(request.method);
    const id = request.id!;
    const found = answers.find(method, request.params, { loose: options.loose ?? false });
    if (typeof found === "string") {
      const code = found === "unknown-method" ? SERVE_UNKNOWN_METHOD : SERVE_NO_MATCH;
      const message = found === "unknown-method"
        ? `Method not found in tape: '${method}'`
        : `No recorded response for '${method}' with these params`;
      summary.errors++;
      options.onRequest?.({ method, id, outcome: code });
      await send({ jsonrpc: "2.0", id, error: { code, message, data: { method } } });
      return;
    }
    const ex = found.answer;
    options.onRequest?.({ method, id, outcome: found.kind, recordedSeq: ex.seq });
    await sendServerMessages(ex.before);
    summary.answered++;
    await send({ ...ex.response!, id });
    await sendServerMessages(ex.after);
  };

  let handling = Promise.resolve();
  for await (const line of streamLines(input)) {
    let message: JsonValue;
    try {
      message = JSON.parse(line);
    } catch {
      summary.errors++;
      await send({
        jsonrpc: "2.0",
        id: null,
        error: { code: SERVE_PARSE_ERROR, message: "Parse error" },
      });
      continue;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) continue;
    const hasId = message.id !== undefined && message.id !== null;
    if (typeof message.method === "string") {
      if (!hasId) {
        summary.notifications++;
        continue;
      }
      summary.requests++;
      const request = message;
      // Requests are answered one at a time, in arrival order, while this
      // loop keeps reading so the client's replies to server requests arrive.
      handling = handling.then(() => handle(request));
    } else if (hasId) {
      waiters.get(JSON.stringify(message.id))?.();
    }
  }
  inputEnded = true;
  for (const done of [...waiters.values()]) done();
  await handling;
  await writing;
  return summary;
}
