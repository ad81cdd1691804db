/**
 * A program's stop signals (Ctrl-C, a kill) as an `AbortSignal`, and the
 * exit status of a run they stopped.
 *
 * @module
 */

/** Listeners for the signals that stop a run; disposing of it removes them. */
export interface StopSignals extends Disposable {
  /** Aborted at the first signal, with the signal's name (`"SIGINT"`) as its reason. */
  readonly signal: AbortSignal;
}

/**
 * Listens for `signals` until disposed: the first to arrive aborts
 * `signal`, and `onSignal` is told of each one after that abort, with how
 * many have arrived, this one included. A signal that cannot be listened
 * for here (one the platform lacks, or `SIGKILL`) is left out, so one list
 * serves every platform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stopSignals } from "./stop_signals.ts";
 * const told: string[] = [];
 * const second = Promise.withResolvers<void>();
 * {
 *   // SIGKILL cannot be listened for: it is left out.
 *   using stop = stopSignals(["SIGKILL", "SIGUSR2"], (signal, count) => {
 *     told.push(`${signal} ${count}`);
 *     if (count === 2) second.resolve();
 *   });
 *   // A listener alone does not keep a program running: the timer does, until the signals.
 *   const timer = setTimeout(() => {}, 10_000);
 *   const aborted = new Promise((resolve) => stop.signal.addEventListener("abort", resolve));
 *   Deno.kill(Deno.pid, "SIGUSR2");
 *   await aborted;
 *   Deno.kill(Deno.pid, "SIGUSR2");
 *   await second.promise;
 *   clearTimeout(timer);
 *   assert.equal(stop.signal.reason, "SIGUSR2");
 * }
 * assert.deepEqual(told, ["SIGUSR2 1", "SIGUSR2 2"]);
 * ```
 */
export function stopSignals(
  signals: readonly Deno.Signal[],
  onSignal?: (signal: Deno.Signal, count: number) => void,
): StopSignals {
  const controller = new AbortController();
  let count = 0;
  const listening: [Deno.Signal, () => void][] = [];
  for (const signal of signals) {
    const listener = () => {
      count++;
      if (!controller.signal.aborted) controller.abort(signal);
      onSignal?.(signal, count);
    };
    try {
      Deno.addSignalListener(signal, listener);
      listening.push([signal, listener]);
    } catch {
      // Not every platform has every signal, and none lets a program catch SIGKILL.
    }
  }
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const [signal, listener] of listening.splice(0)) {
        Deno.removeSignalListener(signal, listener);
      }
    },
  };
}

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
};

/**
 * The exit status of a run that a signal stopped, as a shell reports it:
 * 128 plus the signal's number. Anything but the name of `SIGHUP`,
 * `SIGINT`, `SIGQUIT` or `SIGTERM` (an abort reason that is no signal, say)
 * counts as `SIGTERM`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signalExitStatus } from "./stop_signals.ts";
 * assert.equal(signalExitStatus("SIGINT"), 130);
 * assert.equal(signalExitStatus(new DOMException("aborted")), 143);
 * ```
 */
export function signalExitStatus(signal: unknown): number {
  return 128 + ((typeof signal === "string" ? SIGNAL_NUMBERS[signal] : undefined) ?? 15);
}
