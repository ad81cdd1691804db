/**
 * A one-waiter wake-up call, the engine's only way of waiting: the waiting
 * side looks at its condition, then waits; the other side wakes it after
 * changing what the condition looks at.
 *
 * @module
 */

/**
 * Lets one task sleep until another wakes it. Waking with nobody waiting
 * does nothing, so a waiter must look at its condition (without an `await`
 * in between) before calling {@linkcode Wakeup.wait}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Wakeup } from "./wakeup.ts";
 * const wakeup = new Wakeup();
 * let ready = false;
 * setTimeout(() => {
 *   ready = true;
 *   wakeup.wake();
 * }, 1);
 * while (!ready) await wakeup.wait();
 * assert.equal(ready, true);
 * ```
 */
export class Wakeup {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  /** Resolves at the next {@linkcode Wakeup.wake}. */
  wait(): Promise<void> {
    return this.#promise ??= new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Wakes the waiter, if there is one. */
  wake(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve();
  }
}
