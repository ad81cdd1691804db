/**
 * Buffered line output that ends quietly when the reader goes away.
 *
 * @module
 */

/** Where a sink's bytes go; `Deno.stdout` fits. */
export interface ByteWriter {
  /** Writes some of `p` and returns how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

const encoder = new TextEncoder();

/**
 * Collects lines and writes them in large chunks, so printing a million
 * frames does not cost a million system calls. A closed pipe (`| head`)
 * marks the sink closed instead of failing. Declared with `await using`, it
 * flushes on every way out of the scope, an error included, so lines
 * already produced are never lost to a failure that comes after them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSink } from "./line_sink.ts";
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * await assert.rejects(async () => {
 *   await using sink = new LineSink(out);
 *   await sink.line("hello");
 *   throw new Error("damage after the first line");
 * });
 * assert.deepEqual(chunks, ["hello\n"]);
 * ```
 */
export class LineSink implements AsyncDisposable {
  #out: ByteWriter;
  #parts: string[] = [];
  #size = 0;
  #limit: number;
  #closed = false;

  /** Creates a sink; `bufferBytes` 0 writes every line at once (for live output). */
  constructor(out: ByteWriter, bufferBytes = 64 * 1024) {
    this.#out = out;
    this.#limit = bufferBytes;
  }

  /** True once the reader has gone away; further lines are dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Adds one line (the newline is added here). */
  async line(text: string): Promise<void> {
    if (this.#closed) return;
    this.#parts.push(text, "\n");
    this.#size += text.length + 1;
    if (this.#size >= this.#limit) await this.flush();
  }

  /** Writes everything held so far. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0 || this.#closed) return;
    const bytes = encoder.encode(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#out.write(bytes.subarray(written));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) {
        this.#closed = true;
        return;
      }
      throw error;
    }
  }

  /** Flushes: what `await using` calls when the scope ends, however it ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.flush();
  }
}
