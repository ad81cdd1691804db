/**
 * The three things `replay` does with a tape, each from a tape path or id:
 * print its frames, serve it as a mock server, or verify a server with it.
 *
 * @module
 */

import { metaPathFor, readMeta, type TapeReadOptions } from "../tape/mod.ts";
import { type ByteWriter, LineSink, openTape } from "../consumer/mod.ts";
import { signalExitStatus } from "../engine/mod.ts";
import { serveSession, type ServeSessionOptions, type ServeSummary } from "./mock_server.ts";
import { startProgress } from "./progress_bar.ts";
import { buildRecordedSession } from "./recorded_session.ts";
import { replayFrames, type ReplayFramesOptions } from "./replay_frames.ts";
import { verifyServer, type VerifyServerOptions } from "./verifier.ts";
import { formatCheck, formatVerifySummary } from "./verify_report.ts";

/** Where the tape is and how to show progress. */
export interface TapeLocation {
  /** Tape path (`.jsonl` or `.meta.json`) or tape id. */
  tape: string;
  /** Directory where tape ids are looked up (default `./tapes`). */
  tapesDir?: string;
}

/** Options of {@linkcode replayTape}. */
export interface ReplayTapeOptions extends TapeLocation, Omit<ReplayFramesOptions, "onFrame"> {
  /** Draw a progress bar on stderr. */
  progress?: boolean;
}

/**
 * Prints a tape's frames on stdout; returns the number written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { replayTape } from "./replay_tape.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * // Prints {"jsonrpc":"2.0","id":1,"method":"ping"} and counts it.
 * assert.equal(await replayTape({ tape: writer.path, raw: true, filter: { dir: "c2s" } }), 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replayTape(options: ReplayTapeOptions): Promise<number> {
  using reader = await openTape(options.tape, options.tapesDir);
  const frameOptions: ReplayFramesOptions = { ...options };
  let bar: ReturnType<typeof startProgress> | undefined;
  if (options.progress) {
    const from = options.filter?.fromSeq ?? 1;
    const last = await lastSeqOf(reader.path, reader.frames());
    const to = Math.min(options.filter?.toSeq ?? Infinity, last);
    const p = startProgress(Math.max(0, to - from + 1), "frames");
    bar = p;
    frameOptions.onFrame = (seq) => {
      if (seq >= from) p.update(seq - from + 1);
    };
  }
  try {
    return await replayFrames(reader.rawFrames(), Deno.stdout, frameOptions);
  } finally {
    bar?.stop();
  }
}

async function lastSeqOf(
  path: string,
  frames: AsyncIterable<{ seq: number }>,
): Promise<number> {
  try {
    return (await readMeta(metaPathFor(path))).stats.last_seq;
  } catch {
    // No usable meta file: count instead (one extra streaming pass).
    let last = 0;
    for await (const f of frames) last = f.seq;
    return last;
  }
}

/** Options of {@linkcode serveTape}. */
export interface ServeTapeOptions extends TapeLocation, Omit<ServeSessionOptions, "onRequest"> {
  /**
   * Told one line (no newline, no program prefix) per request: which
   * recorded request answered it, or the error sent. Absent: quiet.
   */
  log?: (line: string) => void;
  /** Where requests come from (default stdin). */
  input?: ReadableStream<Uint8Array>;
  /** Where answers go (default stdout). */
  output?: ByteWriter;
}

/**
 * Serves a tape as a mock server on stdin/stdout until stdin ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { serveTape } from "./replay_tape.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const chunks: string[] = [];
 * const logged: string[] = [];
 * await serveTape({
 *   tape: writer.path,
 *   input: new Blob(['{"jsonrpc":"2.0","id":"a","method":"ping"}\n']).stream(),
 *   log: (line) => logged.push(line),
 *   output: { write: (p) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)) },
 * });
 * assert.deepEqual(logged, ['ping (id "a") answered from seq 1 (exact match)']);
 * assert.equal(chunks.join(""), '{"jsonrpc":"2.0","id":"a","result":{}}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function serveTape(options: ServeTapeOptions): Promise<ServeSummary> {
  const session = await loadSession(options);
  const serveOptions: ServeSessionOptions = { ...options };
  const log = options.log;
  if (log) {
    serveOptions.onRequest = (e) => {
      const how = typeof e.outcome === "number"
        ? `error ${e.outcome}`
        : `answered from seq ${e.recordedSeq} (${e.outcome} match)`;
      log(`${e.method} (id ${e.idText}) ${how}`);
    };
  }
  return await serveSession(
    session,
    options.input ?? Deno.stdin.readable,
    options.output ?? Deno.stdout,
    serveOptions,
  );
}

/**
 * Options of {@linkcode verifyTape}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { VerifyTapeOptions } from "./replay_tape.ts";
 * const options: VerifyTapeOptions = { tape: "session.jsonl", command: ["./server"], lenient: true };
 * assert.equal(options.lenient, true);
 * ```
 */
export interface VerifyTapeOptions extends TapeLocation, Omit<VerifyServerOptions, "onCheck"> {
  /** Server command line. */
  command: string[];
  /**
   * Skip bad lines and unknown record types with a warning. By default the
   * first one fails the check with a {@linkcode TapeFormatError} before the
   * server is started: a damaged tape would verify less than it claims to.
   */
  lenient?: boolean;
}

/**
 * Verifies a server against a tape, printing a diff for each request that
 * does not match and a summary line on stdout. Returns the exit status: 0
 * when at least one response was compared and everything matched, 1
 * otherwise (nothing compared included), and 128 + n when `signal` was
 * aborted with the name of signal n as its reason (130 for `"SIGINT"`;
 * any other reason counts as `SIGTERM`).
 *
 * @throws {TapeFormatError} for a bad line of the tape, unless `lenient`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { verifyTape } from "./replay_tape.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * // A server that answers every request with an empty result.
 * const server = `let rest = "";
 *   for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
 *     const lines = (rest + text).split("\\n");
 *     rest = lines.pop() ?? "";
 *     for (const line of lines) {
 *       const { id } = JSON.parse(line);
 *       console.log(JSON.stringify({ jsonrpc: "2.0", id, result: {} }));
 *     }
 *   }`;
 * const status = await verifyTape({ tape: writer.path, command: [Deno.execPath(), "eval", server] });
 * assert.equal(status, 0); // after printing "verify: OK: 1 responses compared, 1 matched, …"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyTape(options: VerifyTapeOptions): Promise<number> {
  const session = await loadSession(options, { strict: !(options.lenient ?? false) });
  await using sink = new LineSink(Deno.stdout, 0);
  // Each mismatch is printed as soon as it is found; writes stay in order.
  let printing = Promise.resolve();
  const report = await verifyServer(session, options.command, {
    ...options,
    onCheck: (check) => {
      for (const line of formatCheck(check, options.timeoutMs ?? 10_000)) {
        printing = printing.then(() => sink.line(line));
      }
    },
  }).finally(() => printing);
  await sink.line(formatVerifySummary(report));
  await sink.flush();
  if (report.interrupted) return signalExitStatus(options.signal?.reason);
  return report.ok ? 0 : 1;
}

async function loadSession(location: TapeLocation, read: TapeReadOptions = {}) {
  using reader = await openTape(location.tape, location.tapesDir, read);
  return await buildRecordedSession(reader.rawFrames());
}
