/**
 * Segment-sized buffers kept for reuse. A buffer as large as a segment is
 * fresh memory each time it is allocated, and the page faults that bring it
 * in cost more than sealing its bytes does; writers and readers take their
 * buffers here and give them back once done, so in a steady stream no
 * large buffer is allocated at all.
 *
 * @module
 */

// New buffers are rounded up to this, so segments of nearly the same size
// share buffers.
const GRAIN = 64 * 1024;

/**
 * A few buffers kept for reuse, each with an ArrayBuffer of its own (so it
 * can be transferred to a Worker and back).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferPool } from "./buffer_pool.ts";
 * const pool = new BufferPool(2);
 * const a = pool.take(1000);
 * assert.equal(a.length, 64 * 1024);
 * pool.give(a.subarray(0, 10));
 * assert.equal(pool.take(5000).buffer, a.buffer); // the same memory again
 * assert.notEqual(pool.take(5000).buffer, a.buffer); // none kept: a new one
 * ```
 */
export class BufferPool {
  readonly #keep: number;
  readonly #free: Uint8Array<ArrayBuffer>[] = [];

  /** A pool that keeps at most `keep` buffers. */
  constructor(keep: number) {
    this.#keep = keep;
  }

  /**
   * A buffer of at least `min` bytes, filling its ArrayBuffer: the smallest
   * kept one that is large enough, or a new one. Its bytes are not cleared.
   */
  take(min: number): Uint8Array<ArrayBuffer> {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const length = this.#free[i]!.length;
      if (length >= min && (best < 0 || length < this.#free[best]!.length)) best = i;
    }
    if (best < 0) return new Uint8Array(Math.ceil(Math.max(1, min) / GRAIN) * GRAIN);
    return this.#free.splice(best, 1)[0]!;
  }

  /**
   * Keeps the whole ArrayBuffer behind `bytes` for a later
   * {@linkcode BufferPool.take}: the caller gives up every view of it. A
   * detached or shared buffer is let go, and so is the smallest kept one
   * when the pool is full.
   */
  give(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
    if (this.#free.some((b) => b.buffer === buffer)) return;
    this.#free.push(new Uint8Array(buffer));
    if (this.#free.length > this.#keep) {
      let smallest = 0;
      for (let i = 1; i < this.#free.length; i++) {
        if (this.#free[i]!.length < this.#free[smallest]!.length) smallest = i;
      }
      this.#free.splice(smallest, 1);
    }
  }
}
