/**
 * The bytes of an input file or of stdin, gunzipped as they are read when
 * they start with gzip's magic bytes, so `day.csv` and `day.csv.gz` (or
 * `zcat`-free pipes) import the same way.
 *
 * @module
 */

import { createGunzip } from "node:zlib";
import { ioReason } from "../tape/mod.ts";
import { InputFileError } from "./import_error.ts";
import { openInputFile } from "./input_lines.ts";

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
// Inflated bytes per chunk: zlib's 16 KiB default makes the line reader's per-chunk work show.
const GUNZIP_CHUNK_BYTES = 256 * 1024;
// Compressed bytes fed to zlib at a time: what they inflate to is what is held in memory.
const GUNZIP_PIECE_BYTES = 64 * 1024;

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
 * // Two members, as `cat a.gz b.gz` or pigz write them, read as one.
 * const twice = Deno.readFileSync(path);
 * Deno.writeFileSync(path, new Uint8Array([...twice, ...twice]));
 * const again: string[] = [];
 * for await (const line of new InputLines(await InputBytes.open(path))) again.push(line);
 * assert.deepEqual(again, ["a,b", "1,2", "a,b", "1,2"]);
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
   * Yields the input's bytes, gunzipped when it is gzip: every member of
   * it, as `zcat` reads them (pigz and bgzip write many; `cat a.gz b.gz`
   * is one file of two), in a stream, never the whole file in memory.
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
    try {
      yield* inflate(head, raw);
    } catch (error) {
      if (error instanceof InputFileError) throw error;
      // zlib's own wording says what is wrong (a bad header, a checksum, the end cut off).
      throw new InputFileError(this.#path, `damaged gzip data (${(error as Error).message})`, {
        cause: error,
      });
    } finally {
      // Reading stopped early: ending the reads closes the file.
      await raw.return();
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

/**
 * Inflates gzip data, member after member (the web's DecompressionStream
 * stops at the first and refuses the rest), feeding zlib a small piece at
 * a time and handing out what it inflates to before feeding more: memory
 * holds one piece's output, whatever the file's size. What was inflated
 * before damage is handed out before the error (zlib drops what it still
 * holds when it fails, so it is taken from it as soon as it is made).
 */
async function* inflate(
  head: Uint8Array,
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const zlib = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  const out: Uint8Array[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const settled = () => new Promise<void>((resolve) => (wake = resolve));
  zlib.on("data", (chunk: Uint8Array) => (out.push(chunk), signal()));
  zlib.on("error", (error: Error) => (failure = error, signal()));
  zlib.on("end", () => (ended = true, signal()));
  try {
    for (let piece: Uint8Array | undefined = head; piece !== undefined;) {
      for (let at = 0; at < piece.length; at += GUNZIP_PIECE_BYTES) {
        let written = false;
        zlib.write(piece.subarray(at, at + GUNZIP_PIECE_BYTES), () => (written = true, signal()));
        for (;;) {
          while (out.length > 0) yield out.shift()!;
          if (failure !== undefined) throw failure;
          if (written) break;
          await settled();
        }
      }
      const next = await rest.next();
      piece = next.done ? undefined : next.value;
    }
    zlib.end();
    for (;;) {
      while (out.length > 0) yield out.shift()!;
      if (failure !== undefined) throw failure;
      if (ended) return;
      await settled();
    }
  } finally {
    zlib.destroy();
  }
}
