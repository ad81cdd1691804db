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
 *   wakes it; no CPU while idle. The wake-up reaches the program through
 *   Deno's blocking thread pool and then the event loop, tens of
 *   microseconds; `QueueReader.waitSync` wakes within a few. A reader that
 *   may only read `queue.meta` cannot register as a waiter and backs off
 *   instead.
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

// The backoff: this many looks in a row, then sleeps of 50 µs, doubling up
// to 1 ms, between looks. A reader that cannot register as a futex waiter
// waits this way too.
const BACKOFF_SPINS = 200;
const BACKOFF_FIRST_SLEEP_US = 50;
const BACKOFF_MAX_SLEEP_US = 1000;

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
    case "backoff":
      return await backoff(ready, deadline);
    case "futex":
      if (!meta.writable) return await backoff(ready, deadline);
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return ready();
        await meta.block(ready, left);
        if (ready()) return true;
      }
  }
}

// The backoff's looks: returns whether ready() came true before the
// deadline, and yields, before each look past the first ones, how many µs
// to sleep first (never past the deadline).
function* backoffSleeps(ready: () => boolean, deadline: number): Generator<number, boolean> {
  for (let look = 0;; look++) {
    if (ready()) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    if (look < BACKOFF_SPINS) continue;
    const doubled = BACKOFF_FIRST_SLEEP_US * 2 ** Math.min(look - BACKOFF_SPINS, 16);
    yield Math.min(doubled, BACKOFF_MAX_SLEEP_US, Math.ceil(left * 1000));
  }
}

async function backoff(ready: () => boolean, deadline: number): Promise<boolean> {
  const c = libc();
  for (const sleeps = backoffSleeps(ready, deadline);;) {
    const step = sleeps.next();
    if (step.done) return step.value;
    await c.usleep_async(step.value);
  }
}

/**
 * Waits on the calling thread until `ready()` or `timeoutMs` passes: blocked
 * in the kernel on the queue's futex word when this process can register as
 * a waiter; otherwise (a read-only `queue.meta`) with the `backoff`
 * strategy's looks and sleeps, the thread sleeping in `usleep`. The event
 * loop does not turn until it returns.
 *
 * @returns whether `ready()` became true; false only once `timeoutMs` has passed
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitUntilSync } from "./wait_strategy.ts";
 * import { QueueMeta } from "./queue_meta.ts";
 * const dir = Deno.makeTempDirSync();
 * const meta = QueueMeta.create(dir, { segmentBytes: 1 << 20, indexSpacing: 64 }, 0n);
 * const started = performance.now();
 * assert.equal(waitUntilSync(() => false, 5, meta), false);
 * assert.ok(performance.now() - started >= 5);
 * assert.equal(waitUntilSync(() => true, 5, meta), true);
 * meta.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function waitUntilSync(ready: () => boolean, timeoutMs: number, meta: QueueMeta): boolean {
  if (ready()) return true;
  const deadline = performance.now() + timeoutMs;
  if (!meta.writable) return backoffSync(ready, deadline);
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return ready();
    meta.blockSync(ready, left);
    if (ready()) return true;
  }
}

function backoffSync(ready: () => boolean, deadline: number): boolean {
  const c = libc();
  for (const sleeps = backoffSleeps(ready, deadline);;) {
    const step = sleeps.next();
    if (step.done) return step.value;
    c.usleep(step.value);
  }
}

/**
 * Turns the event loop once, so that signal listeners, due timers and
 * finished I/O run: for a program that otherwise blocks its thread in
 * `QueueReader.waitSync` and must still notice, say, SIGTERM. Deno looks
 * for signals only when its event loop parks, which a `setImmediate` turn
 * does not do (here a SIGTERM went unseen for 0.8 s of such turns, one
 * every 50 ms); this parks it for one call on Deno's blocking thread pool,
 * 20–100 µs here, where a `setTimeout` costs ~2 ms.
 *
 * @example Notice a signal between blocking waits
 * ```ts
 * import assert from "node:assert/strict";
 * import { turnEventLoop } from "./wait_strategy.ts";
 * let seen = false;
 * const listener = () => {
 *   seen = true;
 * };
 * Deno.addSignalListener("SIGWINCH", listener);
 * Deno.kill(Deno.pid, "SIGWINCH");
 * for (let turns = 0; !seen && turns < 100; turns++) await turnEventLoop();
 * assert.ok(seen);
 * Deno.removeSignalListener("SIGWINCH", listener);
 * ```
 */
export async function turnEventLoop(): Promise<void> {
  await libc().usleep_async(0);
}
