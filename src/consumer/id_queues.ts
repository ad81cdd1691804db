/**
 * Values waiting for an answer under the key of their JSON-RPC id.
 *
 * @module
 */

/**
 * Values by id key (see `jsonRpcIdKey`), each key's in the order they were
 * put: a reused id is answered oldest first. An undefined key (a message
 * without a usable id) holds nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdQueues } from "./id_queues.ts";
 * const open = new IdQueues<string>();
 * open.put("n1", "first");
 * open.put("n1", "second");
 * open.put(undefined, "never");
 * assert.equal(open.size, 2);
 * assert.equal(open.take("n1"), "first");
 * assert.equal(open.take("n1"), "second");
 * assert.equal(open.take("n1"), undefined);
 * ```
 */
export class IdQueues<T> {
  #queues = new Map<string, T[]>();
  #size = 0;

  /** Values held, all keys together. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` at the end of `key`'s queue; nothing for an undefined key. */
  put(key: string | undefined, value: T): void {
    if (key === undefined) return;
    const queue = this.#queues.get(key);
    if (queue === undefined) this.#queues.set(key, [value]);
    else queue.push(value);
    this.#size++;
  }

  /** Removes and returns the oldest value of `key`'s queue, if any. */
  take(key: string | undefined): T | undefined {
    if (key === undefined) return undefined;
    const queue = this.#queues.get(key);
    if (queue === undefined) return undefined;
    const value = queue.shift();
    if (queue.length === 0) this.#queues.delete(key);
    this.#size--;
    return value;
  }
}
