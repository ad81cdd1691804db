/**
 * Replays a recorded client against a fresh server and compares the
 * server's answers with the recorded ones.
 *
 * @module
 */

import type { JsonValue } from "../tape/mod.ts";
import { diffJson, type JsonDifference } from "./json_diff.ts";
import { type JsonPathStep, parseJsonPath } from "../json/json_path.ts";
import type { JsonObject, RecordedSession } from "./recorded_session.ts";
import { ServerProcessError } from "./server_process_error.ts";
import { streamLines } from "./stream_lines.ts";

/** Result of one recorded request sent to the server. */
export interface RequestCheck {
  /** Seq of the request in the tape. */
  seq: number;
  method: string;
  id: JsonValue;
  /**
   * `match`: same response; `differ`: see `differences`; `timeout`: no
   * answer in time; `unrecorded`: sent, but the tape has no response to compare with.
   */
  outcome: "match" | "differ" | "timeout" | "unrecorded";
  differences: JsonDifference[];
}

/** Totals of a verify run. */
export interface VerifyReport {
  checks: RequestCheck[];
  matched: number;
  differed: number;
  timedOut: number;
  unrecorded: number;
  /** Client messages sent (requests, notifications and text lines). */
  sent: number;
  /** Server requests answered with a recorded client reply. */
  serverRequestsAnswered: number;
  /** True when every compared response matched and none timed out. */
  ok: boolean;
}

/** Options of {@linkcode verifyServer}. */
export interface VerifyOptions {
  /** JSON paths (e.g. `$.result.serverInfo.version`) whose differences do not count. */
  ignorePaths?: readonly string[];
  /** Longest wait for each response, in ms (default 10 000). */
  timeoutMs?: number;
  /** Told about each request as soon as it is checked, for streaming output. */
  onCheck?: (check: RequestCheck) => void;
  /** Where the server's stderr goes (default: inherited). */
  serverStderr?: "inherit" | "null";
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
 * ```ts ignore
 * import { buildRecordedSession } from "./recorded_session.ts";
 * import { verifyServer } from "./verifier.ts";
 * const report = await verifyServer(await buildRecordedSession(frames), ["deno", "run", "server.ts"]);
 * console.log(report.ok);
 * ```
 */
export async function verifyServer(
  session: RecordedSession,
  command: readonly string[],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const ignore: JsonPathStep[][] = (options.ignorePaths ?? []).map(parseJsonPath);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const shown = `'${command.join(" ")}'`;
  if (command.length === 0) throw new ServerProcessError("No server command given", command);

  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: options.serverStderr ?? "inherit",
    }).spawn();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such command"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ServerProcessError(`Cannot start server ${shown}: ${why}`, command, {
      cause: error,
    });
  }

  const writer = child.stdin.getWriter();
  const waiters = new Map<string, (m: JsonObject | undefined) => void>();
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
  let serverGone = false;

  const write = async (line: string) => {
    await writer.write(encoder.encode(line + "\n"));
  };

  const reading = (async () => {
    try {
      for await (const line of streamLines(child.stdout)) {
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
          const reply: JsonObject = typeof found === "string"
            ? {
              jsonrpc: "2.0",
              id: m.id!,
              error: { code: -32601, message: `No recorded client reply for '${m.method}'` },
            }
            : { ...found.answer, id: m.id! };
          if (typeof found !== "string") report.serverRequestsAnswered++;
          await write(JSON.stringify(reply)).catch(() => {});
        } else if (hasId) {
          const key = JSON.stringify(m.id);
          const waiter = waiters.get(key);
          waiters.delete(key);
          waiter?.(m);
        }
      }
    } finally {
      serverGone = true;
      for (const w of [...waiters.values()]) w(undefined);
      waiters.clear();
    }
  })();

  const gone = async (what: string): Promise<never> => {
    const status = await child.status;
    const how = status.signal
      ? `was killed by ${status.signal}`
      : `exited with status ${status.code}`;
    throw new ServerProcessError(`Server ${shown} ${how} ${what}`, command);
  };

  try {
    for (const item of session.clientMessages) {
      const line = typeof item.message === "string" ? item.message : JSON.stringify(item.message);
      const exchange = item.exchange;
      const describe = exchange ? `'${exchange.method}' (seq ${item.seq})` : `seq ${item.seq}`;
      if (serverGone) await gone(`before ${describe} was sent`);
      let answer: Promise<JsonObject | undefined | "timeout"> | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (exchange?.response) {
        const key = JSON.stringify(exchange.request.id);
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
        await gone(`before ${describe} was sent`);
      }
      report.sent++;
      if (!exchange) continue;
      const check: RequestCheck = {
        seq: item.seq,
        method: exchange.method,
        id: exchange.request.id ?? null,
        outcome: "unrecorded",
        differences: [],
      };
      if (answer) {
        const actual = await answer;
        clearTimeout(timer);
        if (actual === undefined) await gone(`before answering ${describe}`);
        if (actual === "timeout") check.outcome = "timeout";
        else {
          check.differences = diffJson(withoutId(exchange.response!), withoutId(actual!), {
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
    await writer.close().catch(() => {});
    const stop = setTimeout(() => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
    }, 5_000);
    await child.status;
    clearTimeout(stop);
    await reading.catch(() => {});
  }
  report.ok = report.differed === 0 && report.timedOut === 0;
  return report;
}

function withoutId(message: JsonObject): JsonObject {
  const { id: _id, ...rest } = message;
  return rest;
}
