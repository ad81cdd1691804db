/**
 * The bytes of an input file or of stdin, gunzipped as they are read when
 * they start with gzip's magic bytes, so `day.csv` and `day.csv.gz` (or
 * `zcat`-free pipes) import the same way.
 *
 * @module
 */

import { ioReason } from "../tape/mod.ts";
import { InputFileError } from "./import_error.ts";
import { openInputFile } from "./input_lines.ts";

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * An input's bytes, decompressed when they are gzip. Iterate it once, for
 * example through `new InputLines(bytes)`. {@linkcode InputBytes.bytesRead}
 * counts the bytes read from the input itself (compressed, for gzip), so a
 * progress bar against the file's size is right either way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputBytes } from "./input_bytes.ts";
 * import { InputLines } from "./input_lines.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".csv.gz" });
 * const gz = new Blob(["a,b\n1,2\n"]).stream().pipeThrough(new CompressionStream("gzip"));
 * Deno.writeFileSync(path, new Uint8Array(await new Response(gz).arrayBuffer()));
 * const bytes = await InputBytes.open(path);
 * const lines: string[] = [];
 * for await (const line of new InputLines(bytes)) lines.push(line);
 * assert.deepEqual(lines, ["a,b", "1,2"]);
 * assert.equal(bytes.gzip, true);
 * assert.equal(bytes.bytesRead, Deno.statSync(path).size);
 * Deno.removeSync(path);
 * ```
 */
export class InputBytes implements AsyncIterable<Uint8Array> {
  readonly #stream: ReadableStream<Uint8Array<ArrayBuffer>>;
  readonly #path: string;
  #bytesRead = 0;
  #gzip: boolean | undefined;

  /** Reads `stream`; `path` names it in errors (`-` for standard input). */
  constructor(stream: ReadableStream<Uint8Array<ArrayBuffer>>, path: string) {
    this.#stream = stream;
    this.#path = path;
  }

  /**
   * Opens the file at `path`, or standard input for `-`.
   *
   * @throws {InputFileError} when the file is missing, a directory, or not readable.
   */
  static async open(path: string): Promise<InputBytes> {
    if (path === "-") return new InputBytes(Deno.stdin.readable, path);
    const file = await openInputFile(path);
    return new InputBytes(file.readable, path);
  }

  /** Bytes read from the input so far, as stored (compressed for gzip). */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Whether the input is gzip; undefined until its first bytes are read. */
  get gzip(): boolean | undefined {
    return this.#gzip;
  }

  /**
   * Yields the input's bytes, gunzipped when it is gzip.
   *
   * @throws {InputFileError} when a read fails or the gzip data is damaged or cut short.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const raw = this.#raw();
    const first = await raw.next();
    if (first.done) return;
    const head = first.value;
    this.#gzip = head[0] === GZIP_MAGIC_0 && (head.length < 2 || head[1] === GZIP_MAGIC_1);
    if (!this.#gzip) {
      yield head;
      yield* raw;
      return;
    }
    async function* all(): AsyncIterableIterator<Uint8Array<ArrayBuffer>> {
      yield head;
      yield* raw;
    }
    const inflated = ReadableStream.from(all()).pipeThrough(new DecompressionStream("gzip"));
    try {
      yield* inflated;
    } catch (error) {
      if (error instanceof InputFileError) throw error;
      // The stream's own wording says what is wrong (a bad header, a checksum).
      throw new InputFileError(this.#path, `damaged gzip data (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  async *#raw(): AsyncGenerator<Uint8Array<ArrayBuffer>, void, undefined> {
    const reader = this.#stream.getReader();
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw new InputFileError(this.#path, ioReason(error), { cause: error });
        }
        if (chunk.done) return;
        this.#bytesRead += chunk.value.byteLength;
        yield chunk.value;
      }
    } finally {
      reader.releaseLock();
      // A file's stream is cancelled so the file closes when reading stops early.
      if (this.#path !== "-") await this.#stream.cancel().catch(() => {});
    }
  }
}
