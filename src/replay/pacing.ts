/**
 * When each frame of a paced replay is due, from the frames' recorded
 * timestamps.
 *
 * @module
 */

/** How a replay is paced. */
export interface PacingOptions {
  /** Playback speed: 1 is real time, 2 twice as fast. Must be positive. */
  speed: number;
  /**
   * Longest pause between two frames in the output, in milliseconds, so a
   * long idle stretch in the recording does not stall the replay.
   */
  maxGapMs: number;
}

/**
 * Pause before a frame, given the recorded timestamp of the frame shown
 * before it (`undefined` for the first frame, which is never delayed).
 * The recorded gap is divided by the speed, then capped at `maxGapMs`.
 *
 * @throws {RangeError} when speed is not positive or maxGapMs is negative.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameDelay } from "./pacing.ts";
 * assert.equal(frameDelay(100, 500, { speed: 2, maxGapMs: 1000 }), 200);
 * assert.equal(frameDelay(0, 60_000, { speed: 1, maxGapMs: 1000 }), 1000);
 * ```
 */
export function frameDelay(
  previousTs: number | undefined,
  ts: number,
  options: PacingOptions,
): number {
  checkPacing(options);
  if (previousTs === undefined) return 0;
  const gap = Math.max(0, ts - previousTs) / options.speed;
  return Math.min(gap, options.maxGapMs);
}

/**
 * Offsets from the start of playback, in milliseconds, at which each frame
 * is due. Offsets accumulate so timer lateness never compounds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pacingSchedule } from "./pacing.ts";
 * assert.deepEqual(pacingSchedule([5, 15, 35, 5035], { speed: 2, maxGapMs: 1000 }), [0, 5, 15, 1015]);
 * ```
 */
export function pacingSchedule(timestamps: readonly number[], options: PacingOptions): number[] {
  const out: number[] = [];
  let at = 0;
  let previous: number | undefined;
  for (const ts of timestamps) {
    at += frameDelay(previous, ts, options);
    out.push(at);
    previous = ts;
  }
  return out;
}

/**
 * Waits out a schedule as frames stream by: call {@linkcode Pacer.wait}
 * with each frame's ts before emitting it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pacer } from "./pacing.ts";
 * // A clock that only moves when the pacer sleeps, to see what it asks for.
 * let now = 0;
 * const slept: number[] = [];
 * const clock = { now: () => now, sleep: (ms: number) => (slept.push(ms), now += ms, Promise.resolve()) };
 * const pacer = new Pacer({ speed: 2, maxGapMs: 1000 }, clock);
 * await pacer.wait(0);
 * await pacer.wait(100); // 100 ms of recording at twice the speed
 * await pacer.wait(60_000); // a long gap is cut to maxGapMs
 * assert.deepEqual(slept, [50, 1000]);
 * ```
 */
export class Pacer {
  #options: PacingOptions;
  #start: number | undefined;
  #at = 0;
  #previous: number | undefined;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;

  /** Creates a pacer; `now` and `sleep` may be replaced in tests. */
  constructor(
    options: PacingOptions,
    clock: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
  ) {
    checkPacing(options);
    this.#options = options;
    this.#now = clock.now ?? (() => performance.now());
    this.#sleep = clock.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Resolves when the frame with this recorded ts is due. */
  async wait(ts: number): Promise<void> {
    this.#at += frameDelay(this.#previous, ts, this.#options);
    this.#previous = ts;
    this.#start ??= this.#now();
    const late = this.#start + this.#at - this.#now();
    if (late > 0) await this.#sleep(late);
  }
}

function checkPacing(options: PacingOptions): void {
  if (!(options.speed > 0) || !Number.isFinite(options.speed)) {
    throw new RangeError(`Speed must be a positive number, got '${options.speed}'`);
  }
  if (!(options.maxGapMs >= 0)) {
    throw new RangeError(
      `Maximum gap must be zero or more milliseconds, got '${options.maxGapMs}'`,
    );
  }
}
