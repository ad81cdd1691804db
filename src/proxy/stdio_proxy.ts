/**
 * `record`'s two ways of recording a tape: as a transparent proxy between
 * this process's stdio (the client) and a server command, or from standard
 * input alone.
 *
 * Forwarding comes first: each chunk is handed on unchanged before its lines
 * are recorded, and a slow tape never holds back a message (only a tape that
 * falls more than a thousand frames behind slows the reading side down).
 *
 * @module
 */

import {
  type Direction,
  errorMessage,
  ioReason,
  MAX_LINE_BYTES,
  reportWarning,
  type TapeDurability,
  type TapeEnvironment,
  type TapeMeta,
  TapeWriter,
  type TapeWriterOptions,
} from "../tape/mod.ts";
import { CancelledError, Engine, linesSource, tapeStorage, wallClockNs } from "../engine/mod.ts";
import { TAPE_TYPE_C2S } from "../stream/tape_message.ts";
import { frameFromLine, type FrameSink, LineRecorder } from "./line_recorder.ts";
import type { Redactor } from "./redactor.ts";

/** Options shared by {@linkcode runStdioProxy} and {@linkcode recordStdin}. */
export interface RecordOptions {
  /** Directory the tape is written to (created if missing). */
  out: string;
  /** Name of the session, recorded in the tape's metadata. */
  name?: string;
  /** Description of the session, recorded in the tape's metadata. */
  description?: string;
  /** Tags of the session, recorded in the tape's metadata. */
  tags?: string[];
  /** Defaults to `flush`: every frame is handed to the OS before the next is written. */
  durability?: TapeDurability;
  /** Rewrites the recorded copy of each message. */
  redactor?: Redactor;
  /** Suppresses the closing `tape … finalized` line (warnings and errors are still shown). */
  quiet?: boolean;
  /** Writes one line of diagnostics; defaults to stderr with a `record: ` prefix. */
  log?: (line: string) => void;
  /** Extra writer options, for tests and benchmarks (checkpoint intervals and the like). */
  writer?: Omit<TapeWriterOptions, "name" | "description" | "tags" | "durability">;
}

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

/** How a recording ended. */
export interface RecordResult {
  /** Exit status for `record`: the server's, or 1 when the tape could not be written. */
  code: number;
  /** Meta of the tape as it was left: `finalized`, or `error` when writing failed. */
  meta: TapeMeta;
  /** Path of the `.jsonl` file. */
  path: string;
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

/**
 * The tape could not be created in the output directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeCreateError } from "./stdio_proxy.ts";
 * assert.equal(
 *   new TapeCreateError("/ro", "permission denied").message,
 *   "Cannot create a tape in '/ro': permission denied",
 * );
 * ```
 */
export class TapeCreateError extends Error {
  /** Directory the tape was to be written to. */
  readonly dir: string;

  /** Builds the error from the directory and the reason. */
  constructor(dir: string, reason: string, options?: ErrorOptions) {
    super(`Cannot create a tape in '${dir}': ${reason}`, options);
    this.name = "TapeCreateError";
    this.dir = dir;
  }
}

const FORWARDED_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};
const READ_BUFFER_BYTES = 64 * 1024;
const DEFAULT_GRACE_MS = 5000;
/**
 * With `--stdin`: appends out at once before reading waits (so `fsync` still commits in
 * groups), and the engine's capacity, as the line recorder's high-water mark was.
 */
const IN_FLIGHT_APPENDS = 1024;

/**
 * Describes where a tape is recorded: the server command, working
 * directory, host, this process's id (so a tape left `recording` can be told
 * from a live one), operating system and Deno version. The hostname needs
 * `--allow-sys=hostname`; without it `/etc/hostname` is used, never a prompt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordingEnvironment } from "./stdio_proxy.ts";
 * assert.deepEqual(recordingEnvironment(["cat"]).command, ["cat"]);
 * ```
 */
export function recordingEnvironment(command?: string[]): TapeEnvironment {
  const env: TapeEnvironment = {};
  if (command !== undefined) env.command = [...command];
  try {
    env.cwd = Deno.cwd();
  } catch {
    // Without read permission the directory stays unknown.
  }
  const hostname = readHostname();
  if (hostname !== undefined) env.hostname = hostname;
  env.pid = Deno.pid;
  env.os = Deno.build.os;
  env.deno = Deno.version.deno;
  return env;
}

function readHostname(): string | undefined {
  try {
    // Query first: calling Deno.hostname() unpermitted would prompt on a terminal.
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      return Deno.hostname();
    }
  } catch {
    // Fall through to the file.
  }
  try {
    const name = Deno.readTextFileSync("/etc/hostname").trim();
    if (name !== "") return name;
  } catch {
    // Not Linux, or not readable.
  }
  return undefined;
}

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
  const log = options.log ?? logToStderr;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const child = startServer(options.command);
  let writer: TapeWriter;
  try {
    writer = await createWriter(options, recordingEnvironment(options.command));
  } catch (error) {
    await stopServer(child, graceMs);
    throw error;
  }

  const recording = new Recording(writer, log);
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

  const forwardSignal = (signal: Deno.Signal) => () => killQuietly(child, signal);
  const listeners = FORWARDED_SIGNALS.map((signal) => [signal, forwardSignal(signal)] as const);
  for (const [signal, listener] of listeners) addSignal(signal, listener);

  const clientToServer = (async () => {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
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

  const code = status.signal === null
    ? status.code
    : 128 + signalNumber(status.signal, status.code);
  try {
    return await recording.finish(code, options.quiet ?? false);
  } finally {
    // Kept until the tape is closed so a late Ctrl-C cannot cut finalization short.
    for (const [signal, listener] of listeners) removeSignal(signal, listener);
  }
}

/**
 * Records the lines of standard input (direction `c2s`) until end of input,
 * then finalizes the tape. Lines that are not JSON are kept as text frames.
 * SIGINT, SIGTERM or SIGHUP stop the recording cleanly: the tape is
 * finalized and the status is 128 plus the signal number.
 *
 * Runs on the engine: stdin is a line source read only when the engine
 * pulls, the tape is its storage (so the tape's durability paces the
 * reading), and a signal aborts it.
 *
 * @example
 * ```ts ignore
 * import { recordStdin } from "./stdio_proxy.ts";
 * const { code } = await recordStdin({ out: "tapes" });
 * Deno.exit(code);
 * ```
 */
export async function recordStdin(options: RecordOptions): Promise<RecordResult> {
  const log = options.log ?? logToStderr;
  const writer = await createWriter(options, recordingEnvironment());
  const maxLineBytes = options.writer?.maxLineBytes ?? MAX_LINE_BYTES;
  const redactor = options.redactor;
  // A line's leading byte order mark is recorded: the default decoder drops it.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  // The first failure stops the recording for good, as in the proxy's Recording.
  let failure: { error: unknown } | undefined;
  const stopRecording = (error: unknown) => {
    if (failure !== undefined) return;
    failure = { error };
    // Nothing is forwarded in this mode: what goes on is reading the input to its end.
    log(
      error instanceof StdinReadError
        ? `${
          errorMessage(error, { firstLine: true })
        }; tape '${writer.path}' is marked 'error': redirect a file of lines` +
          " or pipe them into 'record --stdin'"
        : `${
          errorMessage(error, { firstLine: true })
        }; recording stopped, the rest of standard input is read and dropped`,
    );
    writer.fail(error).catch(() => {});
  };

  const stdin = new StdinInput(maxLineBytes, {
    onOversize: (bytes) =>
      reportWarning(
        `a c2s line of ${bytes} bytes is over the ${maxLineBytes}-byte limit and was not recorded`,
      ),
    // Told before the input ends, so the tape is failed rather than finalized as complete.
    onReadError: stopRecording,
  });
  let stopSignal: Deno.Signal | undefined;
  const abort = new AbortController();
  let signalled: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (signalled = resolve));
  const onSignal = (signal: Deno.Signal) => () => {
    stopSignal ??= signal;
    // After a signal the bytes after the last newline may be half a message: only EOF completes them.
    stdin.stop();
    abort.abort(signal);
    signalled();
  };
  const listeners = FORWARDED_SIGNALS.map((signal) => [signal, onSignal(signal)] as const);
  for (const [signal, listener] of listeners) addSignal(signal, listener);

  const engine = new Engine(
    linesSource(stdin.stream(), {
      name: "stdin",
      maxLineBytes,
      toMessage: (line, seq) =>
        isBlankLine(line, decoder)
          ? undefined
          : { seq, timestampNs: wallClockNs(), typeId: TAPE_TYPE_C2S, payload: line },
    }),
    {
      storage: tapeStorage(writer, {
        toFrame: (message) => frameFromLine(decoder.decode(message.payload), "c2s", redactor),
        onRefused: (error) => reportWarning(`a c2s message was not recorded: ${error.message}`),
        // Told at once, as the proxy is, not when the next line comes.
        onFailure: stopRecording,
        inFlight: IN_FLIGHT_APPENDS,
      }),
      capacity: IN_FLIGHT_APPENDS,
      signal: abort.signal,
    },
  );

  try {
    try {
      for await (const _ of engine) {
        // Nothing to do here: the storage stage is the recording. Over-long lines were
        // already told about as stdin was read.
      }
    } catch (error) {
      // A cancel is a signal, which only sets the status.
      if (!(error instanceof CancelledError)) stopRecording(error);
    }
    try {
      // After a cancel, how closing the tape went is only told here.
      await engine.stop();
    } catch (error) {
      stopRecording(error);
    }
    // As before: once recording has stopped, the input is still read (and dropped) to its end.
    if (failure !== undefined) await Promise.race([stdin.drain(), stopped]);
    const code = stopSignal === undefined ? 0 : 128 + signalNumber(stopSignal, 0);
    if (failure === undefined) {
      try {
        const meta = await writer.finalize();
        if (!(options.quiet ?? false)) {
          log(`tape ${meta.tape_id} finalized: ${meta.stats.frame_count} frames → ${writer.path}`);
        }
        return { code, meta, path: writer.path };
      } catch (error) {
        stopRecording(error);
      }
    }
    const meta = await writer.fail(failure!.error);
    return { code: code === 0 ? 1 : code, meta, path: writer.path };
  } finally {
    // Kept until the tape is closed so a late Ctrl-C cannot cut finalization short.
    for (const [signal, listener] of listeners) removeSignal(signal, listener);
  }
}

/** The tape being written, shared by both directions; stops cleanly on a write error. */
class Recording {
  #writer: TapeWriter;
  #log: (line: string) => void;
  #recorders: LineRecorder[] = [];
  #accepting = true;
  #failure: Promise<TapeMeta> | undefined;

  constructor(writer: TapeWriter, log: (line: string) => void) {
    this.#writer = writer;
    this.#log = log;
  }

  recorder(dir: Direction, options: RecordOptions): LineRecorder {
    const sink: FrameSink = {
      append: (frame) => this.#accepting ? this.#writer.append(frame) : Promise.resolve(),
    };
    const recorder = new LineRecorder(sink, {
      dir,
      ...(options.redactor === undefined ? {} : { redactor: options.redactor }),
      ...(options.writer?.maxLineBytes === undefined
        ? {}
        : { maxLineBytes: options.writer.maxLineBytes }),
      // Through the program's warning log: a flood is cut to a few and a count.
      onWarning: reportWarning,
      onError: (error) => this.#fail(error),
    });
    this.#recorders.push(recorder);
    return recorder;
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#accepting = false;
    this.#log(
      `${errorMessage(error, { firstLine: true })}; recording stopped, traffic is still forwarded`,
    );
    this.#failure = this.#writer.fail(error);
  }

  async finish(code: number, quiet: boolean): Promise<RecordResult> {
    await Promise.all(this.#recorders.map((r) => r.settled()));
    this.#accepting = false;
    if (this.#failure === undefined) {
      try {
        const meta = await this.#writer.finalize();
        if (!quiet) {
          this.#log(
            `tape ${meta.tape_id} finalized: ${meta.stats.frame_count} frames → ${this.#writer.path}`,
          );
        }
        return { code, meta, path: this.#writer.path };
      } catch (error) {
        this.#fail(error);
      }
    }
    const meta = await this.#failure!;
    // The server's own failure wins; otherwise the lost recording is the failure.
    return { code: code === 0 ? 1 : code, meta, path: this.#writer.path };
  }
}

/**
 * Standard input could not be read (it is a directory, say): the recording
 * ends with what was read before, and the tape is marked `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StdinReadError } from "./stdio_proxy.ts";
 * const error = new StdinReadError("is a directory");
 * assert.equal(error.message, "Cannot read standard input: is a directory");
 * assert.equal(error.reason, "is a directory");
 * ```
 */
export class StdinReadError extends Error {
  /** Why the read failed, in the tape module's wording. */
  readonly reason: string;

  /** Builds the error from the reason. */
  constructor(reason: string, options?: ErrorOptions) {
    super(`Cannot read standard input: ${reason}`, options);
    this.name = "StdinReadError";
    this.reason = reason;
  }
}

/**
 * Standard input read as the recorder always read it: 64 KiB at a time, a
 * read error ending the input (and told), and a warning for each line over
 * the limit as soon as its end is read (the engine's line source drops such
 * a line quietly). The read in progress outlives the engine's stream (a
 * read of stdin cannot be cancelled), so `drain` goes on where it stopped.
 */
class StdinInput {
  #maxLineBytes: number;
  #onOversize: (bytes: number) => void;
  #pending: Promise<Uint8Array | null> | undefined;
  #onReadError: (error: StdinReadError) => void;
  #ended = false;
  #stopped = false;
  /** Bytes since the last newline, counted as the line splitter counts them. */
  #lineBytes = 0;

  constructor(
    maxLineBytes: number,
    on: {
      onOversize: (bytes: number) => void;
      onReadError: (error: StdinReadError) => void;
    },
  ) {
    this.#maxLineBytes = maxLineBytes;
    this.#onOversize = on.onOversize;
    this.#onReadError = on.onReadError;
  }

  /** The next chunk, or null at the end of the input or once stopped. */
  read(): Promise<Uint8Array | null> {
    if (this.#ended || this.#stopped) return Promise.resolve(null);
    return this.#pending ??= this.#readOnce();
  }

  /** Nothing read from now on counts: a chunk that arrives later is dropped unseen. */
  stop(): void {
    this.#stopped = true;
  }

  /** Chunks when the stream's reader asks (no read-ahead); cancelling it leaves stdin open. */
  stream(): ReadableStream<Uint8Array> {
    let cancelled = false;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read();
        if (cancelled) return;
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => {
        cancelled = true;
      },
    }, { highWaterMark: 0 });
  }

  /** Reads the rest of the input, still warning about over-long lines, and drops it. */
  async drain(): Promise<void> {
    while (await this.read() !== null) {
      // Dropped: nothing is recorded any more.
    }
  }

  async #readOnce(): Promise<Uint8Array | null> {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    let n: number | null;
    try {
      n = await Deno.stdin.read(buffer);
    } catch (error) {
      // An unreadable stdin ends the input: what was read is kept, and the failure told.
      this.#onReadError(new StdinReadError(ioReason(error), { cause: error }));
      n = null;
    }
    this.#pending = undefined;
    if (this.#stopped) return null;
    if (n === null) {
      this.#ended = true;
      // The last line needs no newline.
      this.#lineEnded();
      return null;
    }
    const chunk = buffer.subarray(0, n);
    this.#measure(chunk);
    return chunk;
  }

  #measure(chunk: Uint8Array): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.#lineBytes += chunk.length - start;
        return;
      }
      this.#lineBytes += newline - start;
      this.#lineEnded();
      start = newline + 1;
    }
  }

  #lineEnded(): void {
    if (this.#lineBytes > this.#maxLineBytes) this.#onOversize(this.#lineBytes);
    this.#lineBytes = 0;
  }
}

/**
 * Whether a line is blank as `frameFromLine` sees it (`trim()` leaves
 * nothing), without decoding the usual line: one ASCII byte that is not
 * whitespace settles it.
 */
function isBlankLine(line: Uint8Array, decoder: TextDecoder): boolean {
  for (const byte of line) {
    if (byte < 0x80 && byte !== 0x20 && (byte < 0x09 || byte > 0x0d)) return false;
  }
  return decoder.decode(line).trim() === "";
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

async function createWriter(options: RecordOptions, environment: TapeEnvironment) {
  const writerOptions: TapeWriterOptions = {
    transport: "stdio",
    ...options.writer,
    environment,
    durability: options.durability ?? "flush",
    tags: options.tags ?? [],
  };
  if (options.name !== undefined) writerOptions.name = options.name;
  if (options.description !== undefined) writerOptions.description = options.description;
  try {
    return await TapeWriter.create(options.out, writerOptions);
  } catch (error) {
    // The writer wraps the OS error; its cause says what went wrong.
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    throw new TapeCreateError(options.out, ioReason(cause), { cause: error });
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

function addSignal(signal: Deno.Signal, listener: () => void): void {
  try {
    Deno.addSignalListener(signal, listener);
  } catch {
    // Not every platform has every signal.
  }
}

function removeSignal(signal: Deno.Signal, listener: () => void): void {
  try {
    Deno.removeSignalListener(signal, listener);
  } catch {
    // Never added.
  }
}

function signalNumber(signal: Deno.Signal, code: number): number {
  // Deno already reports 128 + n as the code of a signalled child; use the table as a fallback.
  return code > 128 ? code - 128 : SIGNAL_NUMBERS[signal] ?? 0;
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

function logToStderr(line: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(`record: ${line}\n`));
  } catch {
    // stderr closed: nowhere left to tell.
  }
}

/** Why the server command did not start; file-system wording comes from the tape module. */
function startReason(error: unknown): string {
  return error instanceof Deno.errors.NotFound ? "not found" : ioReason(error);
}
