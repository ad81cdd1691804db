/**
 * How a reader waits for the next record: from burning a core for the
 * lowest latency to sleeping in the kernel until the writer wakes it.
 *
 * @module
 */

import { libc } from "./libc.ts";
import type { QueueMeta } from "./queue_meta.ts";

/**
 * - `busy`: spins on the record's header word; lowest latency, one core at
 *   100%, and the event loop is blocked while it spins.
 * - `yield`: spins with `sched_yield()` between looks, returning to the event
 *   loop every millisecond.
 * - `backoff`: spins briefly, then sleeps off the event loop for 50 µs
 *   doubling to 1 ms; low CPU, sub-millisecond latency.
 * - `futex`: blocks in the kernel on the queue's futex word until the writer
 *   wakes it; no CPU while idle, woken within microseconds.
 */
export type WaitStrategy = "busy" | "yield" | "backoff" | "futex";

/** Every wait strategy, for validation and help text. */
export const WAIT_STRATEGIES: readonly WaitStrategy[] = ["busy", "yield", "backoff", "futex"];

/**
 * Throws a one-line TypeError unless `value` names a wait strategy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkWaitStrategy } from "./wait_strategy.ts";
 * assert.doesNotThrow(() => checkWaitStrategy("futex"));
 * ```
 */
export function checkWaitStrategy(value: string): asserts value is WaitStrategy {
  if (!(WAIT_STRATEGIES as readonly string[]).includes(value)) {
    throw new TypeError(
      `Wait strategy '${value}' does not exist: use ${
        WAIT_STRATEGIES.map((s) => `'${s}'`).join(", ")
      }`,
    );
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Waits with `strategy` until `ready()` or `timeoutMs` passes.
 *
 * @returns whether `ready()` became true
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitUntil } from "./wait_strategy.ts";
 * import { QueueMeta } from "./queue_meta.ts";
 * const dir = Deno.makeTempDirSync();
 * const meta = QueueMeta.create(dir, { segmentBytes: 1 << 20, indexSpacing: 64 }, 0n);
 * assert.equal(await waitUntil("futex", () => false, 5, meta), false); // after 5 ms
 * meta.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function waitUntil(
  strategy: WaitStrategy,
  ready: () => boolean,
  timeoutMs: number,
  meta: QueueMeta,
): Promise<boolean> {
  if (ready()) return true;
  const deadline = performance.now() + timeoutMs;
  switch (strategy) {
    case "busy":
      for (let spins = 0;; spins++) {
        if (ready()) return true;
        if ((spins & 1023) === 0 && performance.now() >= deadline) return false;
      }
    case "yield": {
      const c = libc();
      let slice = performance.now() + 1;
      for (;;) {
        if (ready()) return true;
        c.sched_yield();
        const now = performance.now();
        if (now >= deadline) return false;
        if (now >= slice) {
          await yieldToEventLoop();
          slice = performance.now() + 1;
        }
      }
    }
    case "backoff": {
      const c = libc();
      for (let i = 0; i < 200; i++) if (ready()) return true;
      let sleepUs = 50;
      for (;;) {
        if (ready()) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        await c.usleep_async(Math.min(sleepUs, Math.ceil(left * 1000)));
        sleepUs = Math.min(sleepUs * 2, 1000);
      }
    }
    case "futex":
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return ready();
        await meta.block(ready, left);
        if (ready()) return true;
      }
  }
}
