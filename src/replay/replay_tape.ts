/**
 * The three things `replay` does with a tape, each from a tape path or id:
 * print its frames, serve it as a mock server, or verify a server with it.
 *
 * @module
 */

import { metaPathFor, readMeta } from "../tape/mod.ts";
import { openTape } from "./open_tape.ts";
import { type ServeOptions, serveSession, type ServeSummary } from "./mock_server.ts";
import { startProgress } from "./progress_bar.ts";
import { buildRecordedSession } from "./recorded_session.ts";
import { replayFrames, type ReplayFramesOptions } from "./replay_frames.ts";
import { type VerifyOptions, verifyServer } from "./verifier.ts";
import { formatCheck, formatVerifySummary } from "./verify_report.ts";
import { LineSink } from "./line_sink.ts";

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
 * ```ts ignore
 * import { replayTape } from "./replay_tape.ts";
 * await replayTape({ tape: "tapes/x.jsonl", raw: true, filter: { dir: "c2s" } });
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
    return await replayFrames(reader.frames(), Deno.stdout, frameOptions);
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
export interface ServeTapeOptions extends TapeLocation, ServeOptions {
  /** Describe each request and how it was answered on stderr. */
  verbose?: boolean;
}

/**
 * Serves a tape as a mock server on stdin/stdout until stdin ends.
 *
 * @example
 * ```ts ignore
 * import { serveTape } from "./replay_tape.ts";
 * await serveTape({ tape: "tapes/x.jsonl" });
 * ```
 */
export async function serveTape(options: ServeTapeOptions): Promise<ServeSummary> {
  const session = await loadSession(options);
  const encoder = new TextEncoder();
  const serveOptions: ServeOptions = { ...options };
  if (options.verbose) {
    serveOptions.onRequest = (e) => {
      const how = typeof e.outcome === "number"
        ? `error ${e.outcome}`
        : `answered from seq ${e.recordedSeq} (${e.outcome} match)`;
      Deno.stderr.writeSync(
        encoder.encode(`replay: ${e.method} (id ${JSON.stringify(e.id)}) ${how}\n`),
      );
    };
  }
  return await serveSession(session, Deno.stdin.readable, Deno.stdout, serveOptions);
}

/** Options of {@linkcode verifyTape}. */
export interface VerifyTapeOptions extends TapeLocation, Omit<VerifyOptions, "onCheck"> {
  /** Server command line. */
  command: string[];
}

/**
 * Verifies a server against a tape, printing a diff for each request that
 * does not match and a summary line on stdout. Returns the exit status: 0
 * when everything matched, 1 otherwise.
 *
 * @example
 * ```ts ignore
 * import { verifyTape } from "./replay_tape.ts";
 * const status = await verifyTape({ tape: "tapes/x.jsonl", command: ["deno", "run", "server.ts"] });
 * ```
 */
export async function verifyTape(options: VerifyTapeOptions): Promise<number> {
  const session = await loadSession(options);
  const sink = new LineSink(Deno.stdout, 0);
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
  return report.ok ? 0 : 1;
}

async function loadSession(location: TapeLocation) {
  using reader = await openTape(location.tape, location.tapesDir);
  return await buildRecordedSession(reader.frames());
}
