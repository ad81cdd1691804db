/**
 * `record -- <command>`: records a tape as a transparent proxy between this
 * process's stdio (the client) and a server command.
 *
 * Forwarding comes first: each chunk is handed on unchanged before its lines
 * are recorded, and a slow tape never holds back a message (only a tape that
 * falls more than a thousand frames behind slows the reading side down).
 *
 * @module
 */

import { type Direction, errorMessage, ioReason, reportWarning } from "../tape/mod.ts";
import { signalExitStatus, stopSignals } from "../engine/mod.ts";
import { type FrameSink, LineRecorder } from "./line_recorder.ts";
import { RECORDING_SIGNALS, RecordingTape, STDIN_READ_BYTES } from "./_recording_tape.ts";
import type { RecordOptions, RecordResult } from "./recording.ts";

/** Options of {@linkcode runStdioProxy}. */
export interface ProxyOptions extends RecordOptions {
  /** Server command and its arguments. */
  command: string[];
  /**
   * How long the server gets to exit once the client has closed its side,
   * before it is sent SIGTERM (and, after as long again, SIGKILL). Default 5000 ms.
   */
  graceMs?: number;
}

/**
 * The server command could not be started. No tape is created in that case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerStartError } from "./stdio_proxy.ts";
 * const e = new ServerStartError(["xyz"], "not found");
 * assert.equal(e.message, "Cannot start server command 'xyz': not found");
 * ```
 */
export class ServerStartError extends Error {
  /** The command that failed to start. */
  readonly command: string[];

  /** Builds the error from the command and the reason. */
  constructor(command: string[], reason: string, options?: ErrorOptions) {
    super(`Cannot start server command '${command[0] ?? ""}': ${reason}`, options);
    this.name = "ServerStartError";
    this.command = command;
  }
}

const DEFAULT_GRACE_MS = 5000;

/**
 * Runs `command` as a server and relays this process's stdin to it and its
 * stdout back, recording every line in both directions. The server's stderr
 * is shared. SIGINT, SIGTERM and SIGHUP are passed on to the server. The
 * recording ends when the server exits (after what it wrote is recorded) or
 * when the client closes stdin (the server's stdin is closed, and it is given
 * `graceMs` to exit before SIGTERM).
 *
 * @throws {ServerStartError} when the command cannot be started (no tape is made).
 * @throws {TapeCreateError} when the tape cannot be created (the server is stopped).
 * @example
 * ```ts ignore
 * import { runStdioProxy } from "./stdio_proxy.ts";
 * const { code } = await runStdioProxy({ out: "tapes", command: ["cat"] });
 * Deno.exit(code);
 * ```
 */
export async function runStdioProxy(options: ProxyOptions): Promise<RecordResult> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const child = startServer(options.command);
  let tape: RecordingTape;
  try {
    tape = await RecordingTape.create(options, stopLine, { command: [...options.command] });
  } catch (error) {
    await stopServer(child, graceMs);
    throw error;
  }

  const recording = new Recording(tape);
  const c2s = recording.recorder("c2s", options);
  const s2c = recording.recorder("s2c", options);
  const serverIn = child.stdin.getWriter();
  let clientGone = false;
  let stdinEnded = false;
  let exited = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  // Once the client's side is gone the server is asked to finish: EOF first,
  // then SIGTERM, then SIGKILL, each after the grace period.
  const clientClosed = () => {
    if (clientGone) return;
    clientGone = true;
    serverIn.close().catch(() => {});
    const escalate = (signal: Deno.Signal, next?: Deno.Signal) => {
      graceTimer = setTimeout(() => {
        if (exited) return;
        killQuietly(child, signal);
        if (next !== undefined) escalate(next);
      }, graceMs);
    };
    escalate("SIGTERM", "SIGKILL");
  };

  // Kept until the tape is closed (the end of this function), so a late
  // Ctrl-C cannot cut finalization short.
  using _forwarding = stopSignals(RECORDING_SIGNALS, (signal) => killQuietly(child, signal));

  const clientToServer = (async () => {
    const buffer = new Uint8Array(STDIN_READ_BYTES);
    let serverOpen = true;
    while (true) {
      let n: number | null;
      try {
        n = await Deno.stdin.read(buffer);
      } catch {
        n = null;
      }
      if (n === null || exited) break;
      const chunk = buffer.subarray(0, n);
      const forwarding = serverOpen ? serverIn.write(chunk) : undefined;
      c2s.push(chunk);
      if (forwarding !== undefined) {
        try {
          await forwarding;
        } catch {
          // The server closed its stdin; what the client sends is still recorded.
          serverOpen = false;
        }
      }
      await c2s.ready();
    }
    stdinEnded = true;
    c2s.end();
    clientClosed();
  })();

  const reader = child.stdout.getReader();
  const serverToClient = (async () => {
    let clientOpen = true;
    while (true) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch {
        break;
      }
      if (result.done) break;
      const chunk = result.value;
      const forwarding = clientOpen ? writeAll(Deno.stdout, chunk) : undefined;
      s2c.push(chunk);
      if (forwarding !== undefined) {
        try {
          await forwarding;
        } catch {
          // The client closed our stdout (EPIPE): keep recording, end like a closed stdin.
          clientOpen = false;
          clientClosed();
        }
      }
      await s2c.ready();
    }
    s2c.end();
  })();

  const status = await child.status;
  exited = true;
  if (graceTimer !== undefined) clearTimeout(graceTimer);
  // What the server wrote before exiting is still in the pipe; a grandchild
  // holding the pipe open must not keep us waiting forever.
  const drained = await Promise.race([serverToClient.then(() => true), delay(graceMs, false)]);
  if (!drained) {
    await reader.cancel().catch(() => {});
    await serverToClient;
  }
  // A client that is still connected (or only closed our stdout) may never
  // send EOF, and a pending read of stdin cannot be cancelled: do not wait for it.
  if (stdinEnded) await clientToServer;
  else serverIn.close().catch(() => {});

  // Deno reports 128 + n as the code of a signalled child already.
  const code = status.signal === null || status.code > 128
    ? status.code
    : signalExitStatus(status.signal);
  return await recording.finish(code);
}

/** What the one line says when recording stops: the traffic goes on unrecorded. */
function stopLine(error: unknown): string {
  const why = errorMessage(error, { firstLine: true });
  return `${why}; recording stopped, traffic is still forwarded`;
}

/** The lines of both directions recorded into one tape; a write error stops both. */
class Recording {
  #tape: RecordingTape;
  #recorders: LineRecorder[] = [];
  #accepting = true;

  constructor(tape: RecordingTape) {
    this.#tape = tape;
  }

  recorder(dir: Direction, options: RecordOptions): LineRecorder {
    const writer = this.#tape.writer;
    const sink: FrameSink = {
      append: (frame) =>
        this.#accepting && !this.#tape.failed ? writer.append(frame) : Promise.resolve(),
    };
    const recorder = new LineRecorder(sink, {
      dir,
      ...(options.redactor === undefined ? {} : { redactor: options.redactor }),
      ...(options.writer?.maxLineBytes === undefined
        ? {}
        : { maxLineBytes: options.writer.maxLineBytes }),
      // Through the program's warning log: a flood is cut to a few and a count.
      onWarning: reportWarning,
      onError: (error) => this.#tape.fail(error),
    });
    this.#recorders.push(recorder);
    return recorder;
  }

  async finish(code: number): Promise<RecordResult> {
    await Promise.all(this.#recorders.map((r) => r.settled()));
    this.#accepting = false;
    return await this.#tape.finish(code);
  }
}

function startServer(command: string[]): Deno.ChildProcess {
  const [program, ...args] = command;
  if (program === undefined || program === "") throw new ServerStartError(command, "empty");
  try {
    return new Deno.Command(program, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    throw new ServerStartError(command, startReason(error), { cause: error });
  }
}

async function stopServer(child: Deno.ChildProcess, graceMs: number): Promise<void> {
  killQuietly(child, "SIGTERM");
  const done = await Promise.race([child.status.then(() => true), delay(graceMs, false)]);
  if (!done) {
    killQuietly(child, "SIGKILL");
    await child.status;
  }
  await child.stdout.cancel().catch(() => {});
  await child.stdin.close().catch(() => {});
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

async function writeAll(file: Deno.FsFile | typeof Deno.stdout, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(value), ms);
    Deno.unrefTimer(timer);
  });
}

/** Why the server command did not start; file-system wording comes from the tape module. */
function startReason(error: unknown): string {
  return error instanceof Deno.errors.NotFound ? "not found" : ioReason(error);
}
