/**
 * Splits a byte stream into newline-terminated lines with bounded memory.
 *
 * @module
 */

/**
 * Longest line a tape may hold: 10 MiB, not counting the newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_LINE_BYTES } from "./line_splitter.ts";
 * assert.equal(MAX_LINE_BYTES, 10485760);
 * ```
 */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/**
 * Called when a line grows past the limit; the line is dropped whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter, type OversizeHandler } from "./line_splitter.ts";
 * const dropped: number[] = [];
 * const onOversize: OversizeHandler = (n) => dropped.push(n);
 * const splitter = new LineSplitter({ maxLineBytes: 4, onOversize });
 * assert.equal(splitter.push(new TextEncoder().encode("too long\nok\n")).length, 1);
 * assert.deepEqual(dropped, [8]);
 * ```
 */
export type OversizeHandler = (byteLength: number) => void;

/**
 * Options of {@linkcode LineSplitter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter, type LineSplitterOptions } from "./line_splitter.ts";
 * const options: LineSplitterOptions = { maxLineBytes: 1024 };
 * assert.equal(new LineSplitter(options).pending, 0);
 * ```
 */
export interface LineSplitterOptions {
  /** Longest line kept, in bytes, without the newline. Defaults to {@linkcode MAX_LINE_BYTES}. */
  maxLineBytes?: number;
  /**
   * Told about each line that was longer than `maxLineBytes`. Such a line is
   * discarded up to and including its newline, so one runaway line never
   * makes memory grow past the limit.
   */
  onOversize?: OversizeHandler;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Turns chunks of bytes into whole lines. A line that arrives in pieces is
 * held until its newline and returned exactly once; a trailing `\r` is
 * removed so CRLF input reads like LF input.
 *
 * Returned lines may be views into the pushed chunk: copy them before the
 * chunk's memory is reused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter } from "./line_splitter.ts";
 * const s = new LineSplitter();
 * const enc = new TextEncoder();
 * assert.equal(s.push(enc.encode("ab")).length, 0);
 * assert.deepEqual(s.push(enc.encode("c\nd\n")).map((l) => new TextDecoder().decode(l)), ["abc", "d"]);
 * ```
 */
export class LineSplitter {
  #max: number;
  #onOversize: OversizeHandler | undefined;
  #parts: Uint8Array[] = [];
  #pending = 0;
  #discarding = false;
  #discarded = 0;

  /** Creates a splitter. */
  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#onOversize = options.onOversize;
  }

  /** Bytes held while waiting for a newline. */
  get pending(): number {
    return this.#pending;
  }

  /** Feeds a chunk and returns the lines it completed. */
  push(chunk: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.#hold(chunk.subarray(start));
        break;
      }
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#discarding) {
        this.#oversize(this.#discarded + piece.length);
        continue;
      }
      if (this.#pending + piece.length > this.#max) {
        this.#oversize(this.#pending + piece.length);
        continue;
      }
      lines.push(stripCr(this.#take(piece)));
    }
    return lines;
  }

  /**
   * Returns the bytes after the last newline, if any, and forgets them: the
   * end of a stream whose last line has no newline.
   */
  flush(): Uint8Array | undefined {
    if (this.#discarding) {
      this.#oversize(this.#discarded);
      return undefined;
    }
    if (this.#pending === 0) return undefined;
    return stripCr(this.#take(new Uint8Array(0)));
  }

  #hold(rest: Uint8Array): void {
    if (this.#discarding) {
      this.#discarded += rest.length;
      return;
    }
    if (this.#pending + rest.length > this.#max) {
      this.#discarding = true;
      this.#discarded = this.#pending + rest.length;
      this.#parts = [];
      this.#pending = 0;
      return;
    }
    // Copy: the caller may reuse the chunk's buffer for its next read.
    this.#parts.push(rest.slice());
    this.#pending += rest.length;
  }

  #take(last: Uint8Array): Uint8Array {
    if (this.#parts.length === 0) return last;
    const out = new Uint8Array(this.#pending + last.length);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(last, at);
    this.#parts = [];
    this.#pending = 0;
    return out;
  }

  #oversize(byteLength: number): void {
    this.#discarding = false;
    this.#discarded = 0;
    this.#parts = [];
    this.#pending = 0;
    this.#onOversize?.(byteLength);
  }
}

function stripCr(line: Uint8Array): Uint8Array {
  const n = line.length;
  return n > 0 && line[n - 1] === CARRIAGE_RETURN ? line.subarray(0, n - 1) : line;
}
