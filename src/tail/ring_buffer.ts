/**
 * A fixed-size buffer keeping the last N items pushed into it.
 *
 * @module
 */

/**
 * Keeps only the most recent `capacity` items, so "the last N records" of a
 * tape of any size costs memory for N records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RingBuffer } from "./ring_buffer.ts";
 * const ring = new RingBuffer<number>(2);
 * for (const n of [1, 2, 3]) ring.push(n);
 * assert.deepEqual(ring.toArray(), [2, 3]);
 * ```
 */
export class RingBuffer<T> {
  /** Most items kept; older ones are dropped. */
  readonly capacity: number;
  #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  /**
   * Creates a buffer for `capacity` items (0 keeps nothing).
   *
   * @throws {RangeError} when capacity is not a non-negative integer.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(
        `Ring buffer capacity must be a non-negative integer, got '${capacity}'`,
      );
    }
    this.capacity = capacity;
    this.#items = new Array(capacity);
  }

  /** Number of items held. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item, returning the oldest one if it had to make room. */
  push(item: T): T | undefined {
    if (this.capacity === 0) return item;
    if (this.#size < this.capacity) {
      this.#items[(this.#start + this.#size) % this.capacity] = item;
      this.#size++;
      return undefined;
    }
    const evicted = this.#items[this.#start];
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
    return evicted;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(this.#start + i) % this.capacity]!);
    return out;
  }
}
