/**
 * `record --stdin`: records the lines of standard input into a tape, on
 * the engine.
 *
 * @module
 */

import {
  errorMessage,
  ioReason,
  LineSplitter,
  MAX_LINE_BYTES,
  reportWarning,
} from "../tape/mod.ts";
import {
  CancelledError,
  Engine,
  linesSource,
  signalExitStatus,
  stopSignals,
  tapeStorage,
  wallClockNs,
} from "../engine/mod.ts";
import { TAPE_TYPE_C2S } from "../stream/tape_message.ts";
import { frameFromLine } from "./line_recorder.ts";
import { RECORDING_SIGNALS, RecordingTape, STDIN_READ_BYTES } from "./_recording_tape.ts";
import type { RecordOptions, RecordResult } from "./recording.ts";

/**
 * Appends out at once before reading waits (so `fsync` still commits in groups), and the
 * engine's capacity: the same as the proxy's line recorder's high-water mark.
 */
const IN_FLIGHT_APPENDS = 1024;

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
 * @throws {TapeCreateError} when the tape cannot be created.
 * @example
 * ```ts ignore
 * import { recordStdin } from "./record_stdin.ts";
 * const { code } = await recordStdin({ out: "tapes" });
 * Deno.exit(code);
 * ```
 */
export async function recordStdin(options: RecordOptions): Promise<RecordResult> {
  const tape = await RecordingTape.create(options, stopLine);
  const maxLineBytes = options.writer?.maxLineBytes ?? MAX_LINE_BYTES;
  const redactor = options.redactor;
  // A line's leading byte order mark is recorded: the default decoder drops it.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const fail = (error: unknown) => tape.fail(error);

  const stdin = new StdinInput(maxLineBytes, {
    onOversize: (bytes) =>
      reportWarning(
        `a line of standard input of ${bytes} bytes is over the ${maxLineBytes}-byte limit` +
          " and was not recorded",
      ),
    // Told before the input ends, so the tape is failed rather than finalized as complete.
    onReadError: fail,
  });
  let signalled: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (signalled = resolve));
  // Kept until the tape is closed so a late Ctrl-C cannot cut finalization short.
  using stop = stopSignals(RECORDING_SIGNALS, () => {
    // After a signal the bytes after the last newline may be half a message: only EOF completes them.
    stdin.stop();
    signalled();
  });

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
      storage: tapeStorage(tape.writer, {
        toFrame: (message) => frameFromLine(decoder.decode(message.payload), "c2s", redactor),
        onRefused: (error) =>
          reportWarning(`a line of standard input was not recorded: ${error.message}`),
        // Told at once, not when the next line comes.
        onFailure: fail,
        inFlight: IN_FLIGHT_APPENDS,
      }),
      capacity: IN_FLIGHT_APPENDS,
      signal: stop.signal,
    },
  );

  try {
    for await (const _ of engine) {
      // Nothing to do here: the storage stage is the recording. Over-long lines are
      // told about as stdin is read.
    }
  } catch (error) {
    // A cancel is a signal, which only sets the status.
    if (!(error instanceof CancelledError)) fail(error);
  }
  try {
    // After a cancel, how closing the tape went is only told here.
    await engine.stop();
  } catch (error) {
    fail(error);
  }
  // A recording that stopped still reads its input to the end, so whatever writes it is
  // not cut off mid-stream.
  if (tape.failed) await Promise.race([stdin.drain(), stopped]);
  return await tape.finish(stop.signal.aborted ? signalExitStatus(stop.signal.reason) : 0);
}

/** What the one line says when recording standard input stops. */
function stopLine(error: unknown, path: string): string {
  const why = errorMessage(error, { firstLine: true });
  // Nothing is forwarded in this mode: what goes on is reading the input to its end.
  return error instanceof StdinReadError
    ? `${why}; tape '${path}' is marked 'error': redirect a file of lines or pipe them into` +
      " 'record --stdin'"
    : `${why}; recording stopped, the rest of standard input is read and dropped`;
}

/**
 * Standard input could not be read (it is a directory, say): the recording
 * ends with what was read before, and the tape is marked `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StdinReadError } from "./record_stdin.ts";
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
 * Standard input, read 64 KiB at a time: a read error ends the input (and
 * is told), and each line over the limit is told as soon as its end is
 * read, also while the rest is drained unrecorded. The engine's line source
 * reports such a line only when the consumer reaches it, behind the lines
 * stored ahead of it, which would put its warning out of the input's order
 * with the warnings of refused frames. The read in progress outlives the
 * engine's stream (a read of stdin cannot be cancelled), so `drain` goes on
 * where it stopped.
 */
class StdinInput {
  #pending: Promise<Uint8Array | null> | undefined;
  #onReadError: (error: StdinReadError) => void;
  #ended = false;
  #stopped = false;
  /** Only measures the lines: the engine's line source splits them for recording. */
  #lines: LineSplitter;

  constructor(
    maxLineBytes: number,
    on: {
      onOversize: (bytes: number) => void;
      onReadError: (error: StdinReadError) => void;
    },
  ) {
    this.#lines = new LineSplitter({ maxLineBytes, onOversize: on.onOversize });
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
    const buffer = new Uint8Array(STDIN_READ_BYTES);
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
      this.#lines.endMeasure();
      return null;
    }
    const chunk = buffer.subarray(0, n);
    this.#lines.measure(chunk);
    return chunk;
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
