/**
 * A progress bar on stderr for long replays, drawn by `cli-progress`.
 *
 * @module
 */

import cliProgress from "cli-progress";
import process from "node:process";

/** What a replay reports progress through. */
export interface Progress {
  /** Sets how many items are done. */
  update(done: number): void;
  /** Removes nothing, draws the final state and releases the terminal line. */
  stop(): void;
}

/**
 * Starts a bar for `total` items on stderr. Never touches stdout, so
 * replayed output stays clean.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startProgress } from "./progress_bar.ts";
 * const bar = startProgress(100, "frames");
 * assert.doesNotThrow(() => {
 *   bar.update(50);
 *   bar.update(100);
 *   bar.stop();
 * });
 * ```
 */
export function startProgress(total: number, unit: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `replay [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let max = Math.max(total, 0);
  bar.start(max, 0);
  return {
    update: (done) => {
      // The total comes from the meta file, which lags behind a tape still being recorded.
      if (done > max) bar.setTotal(max = done);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}
