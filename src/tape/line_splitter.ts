/**
 * Splits a byte stream into newline-terminated lines with bounded memory:
 * the one line splitter of spool, behind the tape parser, the recorder, the
 * engine's line sources and the importer.
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
 * Receives a run of whole lines from {@linkcode LineSplitter.pushRuns}: one
 * or more lines, each ending with its newline (and a `\r` before it, if
 * the input had one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter, type LineRunHandler } from "./line_splitter.ts";
 * const runs: string[] = [];
 * const onRun: LineRunHandler = (run) => runs.push(new TextDecoder().decode(run));
 * new LineSplitter().pushRuns(new TextEncoder().encode("a\nb\nc"), onRun);
 * assert.deepEqual(runs, ["a\nb\n"]);
 * ```
 */
export type LineRunHandler = (run: Uint8Array) => void;

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
   * Told about each line that was longer than `maxLineBytes`, in its place
   * among the lines. Such a line is discarded up to and including its
   * newline, so one runaway line never makes memory grow past the limit.
   */
  onOversize?: OversizeHandler;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const EMPTY = new Uint8Array(0);

/**
 * Turns chunks of bytes into whole lines. A line that arrives in pieces is
 * held until its newline and handed out exactly once; a line over the limit
 * is told to `onOversize` and dropped.
 *
 * Two ways to take the lines:
 * - line by line, {@linkcode LineSplitter.push} and
 *   {@linkcode LineSplitter.flush}: without the newline, and with a
 *   trailing `\r` removed so CRLF input reads like LF input;
 * - a run of lines at a time, {@linkcode LineSplitter.pushRuns} and
 *   {@linkcode LineSplitter.rest}: the bytes exactly as read, newlines
 *   included, for a caller that decodes many lines at once or counts bytes.
 *
 * Lines and runs may be views into the pushed chunk: use or copy them
 * before the chunk's memory is reused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter } from "./line_splitter.ts";
 * const s = new LineSplitter();
 * const enc = new TextEncoder();
 * assert.equal(s.push(enc.encode("ab")).length, 0);
 * assert.deepEqual(s.push(enc.encode("c\nd\r\n")).map((l) => new TextDecoder().decode(l)), ["abc", "d"]);
 * ```
 */
export class LineSplitter {
  #max: number;
  #onOversize: OversizeHandler | undefined;
  /** Held pieces of the unfinished line (none while it is being discarded). */
  #parts: Uint8Array[] = [];
  /** Bytes of the unfinished line so far. */
  #pending = 0;
  /** The unfinished line is over the limit: its bytes are counted, not kept. */
  #discarding = false;

  /** Creates a splitter. */
  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.#onOversize = options.onOversize;
  }

  /**
   * Bytes of the line that has no newline yet: held, or only counted once
   * it is over the limit (so a caller can give up on a runaway line early).
   */
  get pending(): number {
    return this.#pending;
  }

  /** Feeds a chunk and returns the lines it completed, without newline or trailing `\r`. */
  push(chunk: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    this.pushRuns(chunk, (run) => {
      let start = 0;
      while (start < run.length) {
        const nl = run.indexOf(NEWLINE, start);
        lines.push(stripCr(run.subarray(start, nl)));
        start = nl + 1;
      }
    });
    return lines;
  }

  /**
   * Returns the bytes after the last newline, if any, without a trailing
   * `\r`, and forgets them: the end of a stream whose last line has no
   * newline.
   */
  flush(): Uint8Array | undefined {
    const rest = this.rest();
    return rest === undefined ? undefined : stripCr(rest);
  }

  /**
   * Feeds a chunk and hands the whole lines it completed to `onRun`, in
   * order, as runs of bytes exactly as read (see {@linkcode LineRunHandler});
   * none of their lines is over the limit. A run is a view into the chunk,
   * or a new array for a line that arrived in pieces.
   */
  pushRuns(chunk: Uint8Array, onRun: LineRunHandler): void {
    let start = 0;
    if (this.#pending > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl === -1) {
        this.#hold(chunk);
        return;
      }
      start = nl + 1;
      const length = this.#pending + nl;
      if (this.#discarding || length > this.#max) this.#oversize(length);
      else onRun(this.#take(chunk.subarray(0, start)));
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      // No line of the run can be longer than the run: only a long run is looked into.
      if (last - start <= this.#max) onRun(chunk.subarray(start, last + 1));
      else this.#checkRun(chunk.subarray(start, last + 1), onRun);
      start = last + 1;
    }
    if (start < chunk.length) this.#hold(chunk.subarray(start));
  }

  /**
   * Returns the bytes after the last newline exactly as read, if any, and
   * forgets them; a line over the limit is told to `onOversize` instead.
   */
  rest(): Uint8Array | undefined {
    if (this.#pending === 0) return undefined;
    if (this.#discarding) {
      this.#oversize(this.#pending);
      return undefined;
    }
    return this.#take(EMPTY);
  }

  /**
   * Tells `onOversize` about each line of `chunk` over the limit, keeping
   * nothing but the length of the unfinished line: for a caller that splits
   * the same bytes elsewhere and only needs to know, in input order, which
   * lines are too long. Call {@linkcode LineSplitter.endMeasure} at the end
   * of the input. Not to be mixed with the other ways of taking lines.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineSplitter } from "./line_splitter.ts";
   * const over: number[] = [];
   * const s = new LineSplitter({ maxLineBytes: 3, onOversize: (n) => over.push(n) });
   * s.measure(new TextEncoder().encode("ok\ntoo"));
   * s.measure(new TextEncoder().encode(" long\nlast line"));
   * s.endMeasure();
   * assert.deepEqual(over, [8, 9]);
   * ```
   */
  measure(chunk: Uint8Array): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const length = this.#pending + nl - start;
      if (length > this.#max) this.#onOversize?.(length);
      this.#pending = 0;
      start = nl + 1;
    }
    this.#pending += chunk.length - start;
  }

  /** The end of the input {@linkcode LineSplitter.measure} was given: a last line without newline counts too. */
  endMeasure(): void {
    if (this.#pending > this.#max) this.#onOversize?.(this.#pending);
    this.#pending = 0;
  }

  #hold(rest: Uint8Array): void {
    this.#pending += rest.length;
    if (this.#discarding) return;
    if (this.#pending > this.#max) {
      this.#discarding = true;
      this.#parts = [];
      return;
    }
    // Copy: the caller may reuse the chunk's buffer for its next read.
    this.#parts.push(rest.slice());
  }

  #take(last: Uint8Array): Uint8Array {
    const parts = this.#parts;
    const out = new Uint8Array(this.#pending + last.length);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(last, at);
    this.#parts = [];
    this.#pending = 0;
    return out;
  }

  /** Splits a run longer than the limit around the lines that are over it. */
  #checkRun(run: Uint8Array, onRun: LineRunHandler): void {
    let from = 0;
    let start = 0;
    while (start < run.length) {
      const nl = run.indexOf(NEWLINE, start);
      if (nl - start > this.#max) {
        if (from < start) onRun(run.subarray(from, start));
        this.#onOversize?.(nl - start);
        from = nl + 1;
      }
      start = nl + 1;
    }
    if (from < run.length) onRun(run.subarray(from));
  }

  #oversize(byteLength: number): void {
    this.#discarding = false;
    this.#parts = [];
    this.#pending = 0;
    this.#onOversize?.(byteLength);
  }
}

function stripCr(line: Uint8Array): Uint8Array {
  const n = line.length;
  return n > 0 && line[n - 1] === CARRIAGE_RETURN ? line.subarray(0, n - 1) : line;
}
