/**
 * Lines pulled from a byte stream one read at a time, and how a line
 * becomes a message: shared by the pipe and child-process sources.
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";
import { LineSplitter } from "../tape/line_splitter.ts";

/**
 * Makes the message for one line (without its newline; a view that is valid
 * until the next pull), or undefined to skip the line. `seq` counts the
 * messages made so far, from 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LineToMessage } from "./line_puller.ts";
 * const upper: LineToMessage = (line, seq) => ({
 *   seq,
 *   timestampNs: 0n,
 *   typeId: 1,
 *   payload: new TextEncoder().encode(new TextDecoder().decode(line).toUpperCase()),
 * });
 * assert.equal(upper(new TextEncoder().encode("hi"), 1)?.typeId, 1);
 * ```
 */
export type LineToMessage = (line: Uint8Array, seq: number) => StreamMessage | undefined;

/**
 * Wall-clock nanoseconds since the epoch, to the microsecond, without FFI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wallClockNs } from "./line_puller.ts";
 * assert.ok(wallClockNs() > 1_600_000_000_000_000_000n);
 * ```
 */
export function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/**
 * The default line mapping: each non-empty line is a message of `typeId`,
 * stamped now, whose payload is the line. An empty line is skipped (a
 * queue record carries at least one byte).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineMessages } from "./line_puller.ts";
 * const toMessage = lineMessages(3);
 * assert.equal(toMessage(new Uint8Array(0), 1), undefined);
 * assert.equal(toMessage(new TextEncoder().encode("x"), 1)?.typeId, 3);
 * ```
 */
export function lineMessages(typeId = 0): LineToMessage {
  return (line, seq) =>
    line.length === 0 ? undefined : { seq, timestampNs: wallClockNs(), typeId, payload: line };
}

/** Options of {@linkcode LinePuller}. */
export interface LinePullerOptions {
  /** Longest line kept, in bytes; longer ones are dropped whole. Default 10 MiB. */
  maxLineBytes?: number;
  /** Told the length of each line dropped for its length. */
  onOversize?: (bytes: number) => void;
}

/**
 * Reads a byte stream only when asked, a chunk at a time, and returns the
 * lines each read completes. A stream nobody pulls is not read, so its
 * writer (a child process, a pipe) is held up by the pipe's own buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinePuller } from "./line_puller.ts";
 * const puller = new LinePuller(new Blob(["a\nb", "c\n", "d"]).stream());
 * const lines: string[] = [];
 * for (let got = await puller.pull(); got !== null; got = await puller.pull()) {
 *   for (const line of got) lines.push(new TextDecoder().decode(line));
 * }
 * assert.deepEqual(lines, ["a", "bc", "d"]);
 * ```
 */
export class LinePuller {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #splitter: LineSplitter;
  #ended = false;
  #cancelled = false;

  /** Takes the stream over (locks it). */
  constructor(stream: ReadableStream<Uint8Array>, options: LinePullerOptions = {}) {
    this.#reader = stream.getReader();
    this.#splitter = new LineSplitter({
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
      ...(options.onOversize === undefined ? {} : { onOversize: options.onOversize }),
    });
  }

  /**
   * Reads until at least one line is complete and returns the lines (views,
   * valid until the next pull), or null once the stream has ended. The last
   * line needs no newline.
   *
   * @throws what the stream errors with.
   */
  async pull(): Promise<Uint8Array[] | null> {
    while (!this.#ended) {
      const { done, value } = await this.#reader.read();
      if (this.#cancelled) return null;
      if (done) {
        this.#ended = true;
        const last = this.#splitter.flush();
        return last === undefined ? null : [last];
      }
      const lines = this.#splitter.push(value);
      if (lines.length > 0) return lines;
    }
    return null;
  }

  /** Cancels the stream; a pull in progress returns null. */
  async cancel(): Promise<void> {
    this.#ended = true;
    this.#cancelled = true;
    try {
      await this.#reader.cancel();
    } catch {
      // Already errored or closed: nothing left to release.
    }
  }
}
