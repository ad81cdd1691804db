/**
 * Replays a recorded client against a fresh server and compares the
 * server's answers with the recorded ones.
 *
 * @module
 */

import { ioReason, jsonRpcIdKey, type JsonValue } from "../tape/mod.ts";
import { type JsonPathStep, memberValueText, parseJsonPath } from "../json/mod.ts";
import { diffJson, type JsonDifference } from "./json_diff.ts";
import { type JsonObject, messageText, type RecordedSession } from "./recorded_session.ts";
import { ServerProcessError } from "./server_process_error.ts";
import { streamLines } from "./stream_lines.ts";

/**
 * Result of one recorded request sent to the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RequestCheck } from "./verifier.ts";
 * const check: RequestCheck = {
 *   seq: 1, method: "ping", id: 1, idText: "1.0", outcome: "timeout", differences: [],
 * };
 * assert.equal(check.idText, "1.0");
 * ```
 */
export interface RequestCheck {
  /** Seq of the request in the tape. */
  seq: number;
  /** Method of the request. */
  method: string;
  /** Id of the request, as parsed. */
  id: JsonValue;
  /** The id's JSON text as sent, exact where `id` is a rounded number; absent: `id`'s JSON. */
  idText?: string;
  /**
   * `match`: same response; `differ`: see `differences`; `timeout`: no
   * answer in time; `unrecorded`: sent, but the tape has no response to compare with.
   */
  outcome: "match" | "differ" | "timeout" | "unrecorded";
  /** How the response differed from the recorded one; empty unless `differ`. */
  differences: JsonDifference[];
}

/**
 * Totals of a verify run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VerifyReport } from "./verifier.ts";
 * // Nothing compared proves nothing: such a run is not ok.
 * const report: VerifyReport = {
 *   checks: [], matched: 0, differed: 0, timedOut: 0, unrecorded: 0, sent: 0,
 *   serverRequestsAnswered: 0, ok: false,
 * };
 * assert.equal(report.ok, false);
 * ```
 */
export interface VerifyReport {
  /** One check per request sent, in order. */
  checks: RequestCheck[];
  /** Responses that matched the recorded ones. */
  matched: number;
  /** Responses that differed from the recorded ones. */
  differed: number;
  /** Requests not answered in time. */
  timedOut: number;
  /** Requests sent whose response the tape does not hold. */
  unrecorded: number;
  /** Client messages sent (requests, notifications and text lines). */
  sent: number;
  /** Server requests answered with a recorded client reply. */
  serverRequestsAnswered: number;
  /**
   * True when at least one response was compared, every compared response
   * matched and none timed out. A run that compared nothing proves nothing,
   * so it is not ok.
   */
  ok: boolean;
  /** True when the run was stopped by `VerifyServerOptions.signal` before it was over. */
  interrupted?: boolean;
}

/** Options of {@linkcode verifyServer}. */
export interface VerifyServerOptions {
  /** JSON paths (e.g. `$.result.serverInfo.version`) whose differences do not count. */
  ignorePaths?: readonly string[];
  /** Longest wait for each response, in ms (default 10 000). */
  timeoutMs?: number;
  /** Told about each request as soon as it is checked, for streaming output. */
  onCheck?: (check: RequestCheck) => void;
  /** Where the server's stderr goes (default: inherited). */
  serverStderr?: "inherit" | "null";
  /**
   * Stops the run early: the server gets the abort reason when it is a
   * signal name (`"SIGINT"`), else `SIGTERM`, and is killed if it has not
   * exited `killGraceMs` later. The report comes back with `interrupted` set.
   */
  signal?: AbortSignal;
  /**
   * How long the server may take to exit once its input is closed, and again
   * after `SIGTERM`, before it gets the next, harder signal (ms, default 5000).
   */
  killGraceMs?: number;
}

const encoder = new TextEncoder();

/**
 * Starts `command`, sends it the recorded client messages in order (each
 * request waits for its response before the next message is sent), answers
 * the server's own requests with the recorded client replies, and compares
 * each response with the recorded one, ignoring the `id` member.
 *
 * @throws {ServerProcessError} when the command cannot start or stops before the run ends.
 * @throws {SyntaxError} when an ignore path cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildRecordedSession } from "./recorded_session.ts";
 * import { verifyServer } from "./verifier.ts";
 * const session = await buildRecordedSession([
 *   { type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } },
 *   { type: "frame", seq: 2, ts: 1, dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } },
 * ]);
 * // A server that answers its first request with an empty result, then exits.
 * const server = `const reader = Deno.stdin.readable.getReader();
 *   const { value } = await reader.read();
 *   const { id } = JSON.parse(new TextDecoder().decode(value));
 *   console.log(JSON.stringify({ jsonrpc: "2.0", id, result: {} }));`;
 * const report = await verifyServer(session, [Deno.execPath(), "eval", server]);
 * assert.equal(report.ok, true);
 * assert.equal(report.matched, 1);
 * ```
 */
export async function verifyServer(
  session: RecordedSession,
  command: readonly string[],
  options: VerifyServerOptions = {},
): Promise<VerifyReport> {
  const ignore: JsonPathStep[][] = (options.ignorePaths ?? []).map(parseJsonPath);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const graceMs = options.killGraceMs ?? 5_000;
  const shown = `'${command.join(" ")}'`;
  if (command.length === 0) throw new ServerProcessError("No server command given", command);
  const report: VerifyReport = {
    checks: [],
    matched: 0,
    differed: 0,
    timedOut: 0,
    unrecorded: 0,
    sent: 0,
    serverRequestsAnswered: 0,
    ok: false,
  };
  if (options.signal?.aborted) return { ...report, interrupted: true };

  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: options.serverStderr ?? "inherit",
    }).spawn();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such command" : ioReason(error);
    throw new ServerProcessError(`Cannot start server ${shown}: ${why}`, command, {
      cause: error,
    });
  }

  const writer = child.stdin.getWriter();
  const stdout = child.stdout.getReader();
  const waiters = new Map<string, (m: JsonObject | "gone" | "timeout") => void>();
  let serverGone = false;
  let interrupted = false;

  const write = async (line: string) => {
    await writer.write(encoder.encode(line + "\n"));
  };

  // Escalates until the server is gone: a server that ignores its closed
  // input or SIGTERM must not keep the run (and the caller) waiting forever.
  let stopping: Promise<Deno.CommandStatus> | undefined;
  const stop = (first: Deno.Signal | "close"): Promise<Deno.CommandStatus> =>
    stopping ??= (async () => {
      // Closing the input is not awaited: a write blocked on a full pipe only
      // ends with the server. A passed-on signal goes alone, with the input
      // left open: a server that sees end of input first might exit before
      // its handler for the signal ever runs.
      const closeInput = () => writer.close().catch(() => {});
      if (first === "close") closeInput();
      else killQuietly(child, first);
      const steps: Deno.Signal[] = first === "close" ? ["SIGTERM", "SIGKILL"] : ["SIGKILL"];
      try {
        for (const signal of steps) {
          const status = await within(child.status, graceMs);
          if (status) return status;
          killQuietly(child, signal);
        }
        return await child.status;
      } finally {
        closeInput();
      }
    })();

  const onAbort = () => {
    interrupted = true;
    const reason: unknown = options.signal?.reason;
    stop(
      typeof reason === "string" && reason.startsWith("SIG") ? reason as Deno.Signal : "SIGTERM",
    );
    for (const w of [...waiters.values()]) w("gone");
    waiters.clear();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const reading = (async () => {
    try {
      for await (const line of streamLines(chunksOf(stdout))) {
        let m: JsonValue;
        try {
          m = JSON.parse(line);
        } catch {
          continue; // Servers may log to stdout; only messages count.
        }
        if (typeof m !== "object" || m === null || Array.isArray(m)) continue;
        const hasId = m.id !== undefined && m.id !== null;
        if (typeof m.method === "string") {
          if (!hasId) continue;
          const found = session.clientReplies.find(m.method, m.params, { loose: true });
          // The server's id as it wrote it: parsing would round a big one.
          const idText = memberValueText(line, "id") ?? JSON.stringify(m.id);
          const reply = typeof found === "string"
            ? `{"jsonrpc":"2.0","id":${idText},"error":${
              JSON.stringify({
                code: -32601,
                message: `No recorded client reply for '${m.method}'`,
              })
            }}`
            : messageText(session, found.answer, idText);
          if (typeof found !== "string") report.serverRequestsAnswered++;
          await write(reply).catch(() => {});
        } else if (hasId) {
          // The id as the server wrote it: a rounded or respelled one answers nothing.
          const key = jsonRpcIdKey(m, line);
          const waiter = key === undefined ? undefined : waiters.get(key);
          if (key !== undefined) waiters.delete(key);
          waiter?.(m);
        }
      }
    } finally {
      serverGone = true;
      for (const w of [...waiters.values()]) w("gone");
      waiters.clear();
    }
  })();

  // A pipe that broke because the server exited shows its status within this.
  const settleMs = Math.min(graceMs, 1_000);
  let firstStop: Deno.Signal | "close" = "close";
  const gone = async (what: string, closed: "input" | "output"): Promise<never> => {
    // A server may close a pipe and keep running; that is reported, not waited out.
    const status = await within(child.status, settleMs);
    if (status === undefined) firstStop = "SIGTERM";
    const how = status === undefined
      ? `closed its ${closed}`
      : status.signal
      ? `was killed by ${status.signal}`
      : `exited with status ${status.code}`;
    throw new ServerProcessError(`Server ${shown} ${how} ${what}`, command);
  };

  try {
    for (const item of session.clientMessages) {
      if (interrupted) break;
      const line = typeof item.message === "string"
        ? item.message
        : messageText(session, item.message);
      const exchange = item.exchange;
      const describe = exchange ? `'${exchange.method}' (seq ${item.seq})` : `seq ${item.seq}`;
      if (serverGone) await gone(`before ${describe} was sent`, "output");
      let answer: Promise<JsonObject | "gone" | "timeout"> | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (exchange?.response) {
        // The id as sent, which is as recorded. An id no key can match (an
        // object, say) waits under "", which no response has, until the timeout.
        const key = jsonRpcIdKey(exchange.request, line) ?? "";
        answer = new Promise((resolve) => {
          waiters.set(key, resolve);
          timer = setTimeout(() => {
            waiters.delete(key);
            resolve("timeout");
          }, timeoutMs);
        });
      }
      try {
        await write(line);
      } catch {
        clearTimeout(timer);
        if (interrupted) break;
        await gone(`before ${describe} was sent`, "input");
      }
      report.sent++;
      if (!exchange) continue;
      const check: RequestCheck = {
        seq: item.seq,
        method: exchange.method,
        id: exchange.request.id ?? null,
        idText: memberValueText(line, "id") ?? JSON.stringify(exchange.request.id ?? null),
        outcome: "unrecorded",
        differences: [],
      };
      if (answer) {
        const actual = await answer;
        clearTimeout(timer);
        if (interrupted) break;
        if (actual === "gone") await gone(`before answering ${describe}`, "output");
        else if (actual === "timeout") check.outcome = "timeout";
        else {
          check.differences = diffJson(withoutId(exchange.response!), withoutId(actual), {
            ignore,
          });
          check.outcome = check.differences.length === 0 ? "match" : "differ";
        }
      }
      report.checks.push(check);
      if (check.outcome === "match") report.matched++;
      else if (check.outcome === "differ") report.differed++;
      else if (check.outcome === "timeout") report.timedOut++;
      else report.unrecorded++;
      options.onCheck?.(check);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await stop(firstStop);
    // The server's children may still hold its stdout open; its own exit is what counts.
    if (await within(reading.then(() => true, () => true), settleMs) === undefined) {
      await stdout.cancel().catch(() => {});
    }
    await reading.catch(() => {});
  }
  report.ok = !interrupted && report.matched > 0 && report.differed === 0 &&
    report.timedOut === 0;
  if (interrupted) report.interrupted = true;
  return report;
}

/** Resolves with `promise`'s value, or with `undefined` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) =>
    timer = setTimeout(() => resolve(undefined), ms)
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function* chunksOf(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncIterableIterator<Uint8Array> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

function withoutId(message: JsonObject): JsonObject {
  const { id: _id, ...rest } = message;
  return rest;
}
