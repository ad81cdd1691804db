/**
 * Turns the bytes seen in one direction into recorded frames: splits them
 * into lines, parses each line as JSON (or keeps it as text), redacts the
 * copy and hands it to the tape without making the caller wait.
 *
 * @module
 */

import {
  type Direction,
  type FrameInput,
  LineSplitter,
  lineToFrame,
  LineTooLongError,
  MAX_LINE_BYTES,
} from "../tape/mod.ts";
import type { Redactor } from "./redactor.ts";

/** Where frames go; a `TapeWriter` is one. */
export interface FrameSink {
  /** Records one frame; resolves once it is as durable as the tape asks. */
  append(frame: FrameInput): Promise<unknown>;
}

/**
 * Flag of a frame changed by a redaction rule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameFromLine, REDACTED_FLAG } from "./line_recorder.ts";
 * import { parseRedactRule, Redactor } from "./redactor.ts";
 * const redactor = new Redactor([parseRedactRule("re:secret")]);
 * assert.deepEqual(frameFromLine("a secret", "c2s", redactor)?.flags, ["text", "redacted"]);
 * assert.equal(REDACTED_FLAG, "redacted");
 * ```
 */
export const REDACTED_FLAG = "redacted";

/**
 * Builds the frame recorded for one line, or `undefined` for a blank line
 * (blank lines are forwarded but are not messages). A line that is not JSON
 * becomes a frame whose envelope is the line itself, flagged `text`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameFromLine } from "./line_recorder.ts";
 * assert.deepEqual(frameFromLine('{"id":1,"method":"ping"}', "c2s"), {
 *   dir: "c2s",
 *   env: { id: 1, method: "ping" },
 *   envJson: '{"id":1,"method":"ping"}',
 * });
 * assert.deepEqual(frameFromLine("hello", "s2c"), { dir: "s2c", env: "hello", flags: ["text"] });
 * ```
 */
export function frameFromLine(
  line: string,
  dir: Direction,
  redactor?: Redactor,
): FrameInput | undefined {
  if (line.trim() === "") return undefined;
  const frame = lineToFrame(line, dir);
  if (!redactor?.active) return frame;
  const isText = frame.flags !== undefined;
  const result = redactor.redact(frame.env, isText);
  if (!result.changed) return frame;
  // The redacted envelope is serialized afresh: the line's JSON holds what redaction removed.
  return { dir, env: result.env, flags: [...(frame.flags ?? []), REDACTED_FLAG] };
}

/** Options of {@linkcode LineRecorder}. */
export interface LineRecorderOptions {
  /** Direction of every frame this recorder makes. */
  dir: Direction;
  /** Rewrites the recorded copy of each message. */
  redactor?: Redactor;
  /** Longest line recorded; longer lines are forwarded but not recorded. */
  maxLineBytes?: number;
  /** Told about a line that could not be recorded while recording goes on. */
  onWarning?: (message: string) => void;
  /**
   * Told about an error that stops the recording (for example a full disk).
   * Called for every such failed frame; the caller decides what to do.
   */
  onError?: (error: unknown) => void;
  /** Appends in flight above which {@linkcode LineRecorder.ready} waits. Default 1024. */
  highWaterMark?: number;
}

/**
 * Records the lines of one direction. `push` is synchronous and never waits
 * for the tape, so the caller can forward bytes first and record after;
 * `ready` lets a reader loop slow down when the tape falls far behind, so
 * memory stays bounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineRecorder } from "./line_recorder.ts";
 * const frames: unknown[] = [];
 * const rec = new LineRecorder({ append: async (f) => frames.push(f) }, { dir: "c2s" });
 * rec.push(new TextEncoder().encode('{"id":1,"method":"ping"}\nnot js'));
 * rec.push(new TextEncoder().encode("on\n"));
 * await rec.settled();
 * assert.equal(frames.length, 2);
 * ```
 */
export class LineRecorder {
  #sink: FrameSink;
  #dir: Direction;
  #redactor: Redactor | undefined;
  #splitter: LineSplitter;
  // A line's leading byte order mark is recorded: the default decoder drops it.
  #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  #onWarning: (message: string) => void;
  #onError: (error: unknown) => void;
  #highWaterMark: number;
  #inFlight = 0;
  #frames = 0;
  #idle: (() => void)[] = [];
  #belowMark: (() => void)[] = [];

  /** Creates a recorder that appends to `sink`. */
  constructor(sink: FrameSink, options: LineRecorderOptions) {
    this.#sink = sink;
    this.#dir = options.dir;
    this.#redactor = options.redactor;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#highWaterMark = options.highWaterMark ?? 1024;
    const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#splitter = new LineSplitter({
      maxLineBytes,
      onOversize: (bytes) =>
        this.#onWarning(
          `a ${this.#dir} line of ${bytes} bytes is over the ${maxLineBytes}-byte limit and was` +
            " not recorded",
        ),
    });
  }

  /** Frames handed to the sink so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Appends started but not finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Feeds bytes; every line they complete is recorded. */
  push(chunk: Uint8Array): void {
    for (const line of this.#splitter.push(chunk)) this.#record(line);
  }

  /** Records what is left after the last newline: the end of the stream. */
  end(): void {
    const rest = this.#splitter.flush();
    if (rest !== undefined) this.#record(rest);
  }

  /** Resolves when fewer appends than the high-water mark are in flight. */
  ready(): Promise<void> {
    if (this.#inFlight < this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#belowMark.push(resolve));
  }

  /** Resolves when every append started so far has finished (or failed). */
  settled(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #record(bytes: Uint8Array): void {
    const frame = frameFromLine(this.#decoder.decode(bytes), this.#dir, this.#redactor);
    if (frame === undefined) return;
    this.#frames++;
    this.#inFlight++;
    let appending: Promise<unknown>;
    try {
      appending = this.#sink.append(frame);
    } catch (error) {
      appending = Promise.reject(error);
    }
    appending.then(
      () => this.#done(),
      (error: unknown) => {
        this.#done();
        if (error instanceof LineTooLongError) {
          // The tape refused this one frame (too long) and goes on.
          this.#onWarning(`a ${this.#dir} message was not recorded: ${error.message}`);
        } else {
          this.#onError(error);
        }
      },
    );
  }

  #done(): void {
    this.#inFlight--;
    if (this.#inFlight < this.#highWaterMark && this.#belowMark.length > 0) {
      for (const resolve of this.#belowMark.splice(0)) resolve();
    }
    if (this.#inFlight === 0 && this.#idle.length > 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
