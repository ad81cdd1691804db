/**
 * The lines of an input file or of stdin, as text, counting the bytes
 * handed out so a progress bar can show how far the import has read.
 *
 * @module
 */

import { ioReason, LineSplitter } from "../tape/mod.ts";
import { InputFileError, InputLineError } from "./import_error.ts";

/**
 * Longest line read, in bytes, without its newline. A record's payload can
 * be as large as a queue segment (64 MiB by default), and base64 makes it a
 * third longer; a line past this is an error rather than unbounded memory.
 */
export const MAX_INPUT_LINE_BYTES = 128 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * The lines of a byte stream, decoded as UTF-8 (invalid UTF-8 is an
 * {@linkcode InputLineError}: a payload must not be changed silently), a
 * last line without a newline included. Lines are handed out in order,
 * blank ones too, so their position in the iteration is their line number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputLines } from "./input_lines.ts";
 * const lines = new InputLines(new Blob(["a\n\nb"]).stream());
 * const seen: string[] = [];
 * for await (const line of lines) seen.push(line);
 * assert.deepEqual(seen, ["a", "", "b"]);
 * assert.equal(lines.bytesRead, 4);
 * assert.equal(lines.unterminated, true); // "b" has no newline
 * ```
 */
export class InputLines implements AsyncIterable<string> {
  readonly #chunks: AsyncIterable<Uint8Array>;
  readonly #maxLineBytes: number;
  #bytesRead = 0;
  #unterminated = false;

  /**
   * Reads `chunks`. `maxLineBytes` is the longest line accepted,
   * {@linkcode MAX_INPUT_LINE_BYTES} by default.
   */
  constructor(chunks: AsyncIterable<Uint8Array>, options: { maxLineBytes?: number } = {}) {
    this.#chunks = chunks;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_INPUT_LINE_BYTES;
  }

  /** Bytes of the lines handed out so far, newlines included. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /**
   * Whether the line last handed out is the input's last and has no
   * newline, as the last line of a file cut short has; true from when
   * that line is handed out.
   */
  get unterminated(): boolean {
    return this.#unterminated;
  }

  /** Opens a file for reading line by line; {@linkcode InputFileError} when it cannot be read. */
  static async open(path: string): Promise<InputLines> {
    const file = await openInputFile(path);
    return new InputLines(readChunks(file, path));
  }

  /**
   * Standard input line by line; a read that fails (stdin is a directory,
   * say) is an {@linkcode InputFileError} for `-`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { InputLines } from "./input_lines.ts";
   * // Nothing is read until the lines are iterated.
   * assert.ok(InputLines.stdin() instanceof InputLines);
   * ```
   */
  static stdin(): InputLines {
    return new InputLines(stdinChunks());
  }

  /** Yields the lines one by one, without their newlines (a `\r` before one is kept). */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const max = this.#maxLineBytes;
    let line = 0;
    const decode = (bytes: Uint8Array): string => {
      line++;
      let text: string;
      try {
        // The newline ends the line; it is not part of it.
        text = decoder.decode(bytes[bytes.length - 1] === NEWLINE ? bytes.subarray(0, -1) : bytes);
      } catch {
        throw new InputLineError("Line is not valid UTF-8", line);
      }
      this.#bytesRead += bytes.length;
      return text;
    };
    const tooLong = (length: string) =>
      new InputLineError(`Line is longer than ${max} bytes (${length})`, line + 1);
    // Runs of whole lines, and in their place the length of a line over the limit.
    let pieces: (Uint8Array | number)[] = [];
    const splitter = new LineSplitter({
      maxLineBytes: max,
      onOversize: (byteLength) => pieces.push(byteLength),
    });
    const collect = (run: Uint8Array) => pieces.push(run);
    for await (const chunk of this.#chunks) {
      pieces = [];
      splitter.pushRuns(chunk, collect);
      for (const run of pieces) {
        // A line over the limit ends the input, after the lines before it.
        if (typeof run === "number") throw tooLong(String(run));
        let start = 0;
        while (start < run.length) {
          const end = run.indexOf(NEWLINE, start) + 1;
          yield decode(run.subarray(start, end));
          start = end;
        }
      }
      // A runaway line is refused before all of it is read.
      if (splitter.pending > max) throw tooLong(`${splitter.pending} or more`);
    }
    const last = splitter.rest();
    if (last !== undefined) {
      this.#unterminated = true;
      yield decode(last);
    }
  }
}

/**
 * Opens an input file read-only, refusing a directory up front (Linux lets
 * one be opened; only its reads would fail).
 *
 * @throws {InputFileError} when it is missing, a directory, or not readable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openInputFile } from "./input_lines.ts";
 * await assert.rejects(openInputFile("/nonexistent.jsonl"), {
 *   message: "Cannot read '/nonexistent.jsonl': no such file or directory",
 * });
 * ```
 */
export async function openInputFile(path: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new InputFileError(path, ioReason(error), { cause: error });
  }
  let info: Deno.FileInfo;
  try {
    info = await file.stat();
  } catch (error) {
    file.close();
    throw new InputFileError(path, ioReason(error), { cause: error });
  }
  if (info.isDirectory) {
    file.close();
    throw new InputFileError(path, "is a directory");
  }
  return file;
}

async function* stdinChunks(): AsyncIterableIterator<Uint8Array> {
  const reader = Deno.stdin.readable.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new InputFileError("-", ioReason(error), { cause: error });
      }
      if (chunk.done) return;
      yield chunk.value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* readChunks(file: Deno.FsFile, path: string): AsyncIterableIterator<Uint8Array> {
  const buffer = new Uint8Array(256 * 1024);
  try {
    for (;;) {
      let n: number | null;
      try {
        n = await file.read(buffer);
      } catch (error) {
        throw new InputFileError(path, ioReason(error), { cause: error });
      }
      if (n === null) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    file.close();
  }
}

/**
 * Size of the regular file at `path`, or undefined for a pipe, a missing
 * file or anything else whose size says nothing about where it ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { regularFileSize } from "./input_lines.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "abc\n");
 * assert.equal(await regularFileSize(path), 4);
 * assert.equal(await regularFileSize("/nonexistent"), undefined);
 * Deno.removeSync(path);
 * ```
 */
export async function regularFileSize(path: string): Promise<number | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info.size : undefined;
  } catch {
    return undefined;
  }
}
