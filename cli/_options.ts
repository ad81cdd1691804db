/**
 * Value parsers for options, shared by the programs so the same kind of
 * value is checked, and its mistake reported, the same way everywhere.
 * Each throws commander's `InvalidArgumentError`, which the parser turns into
 * a usage error (exit status 2) naming the option.
 *
 * @module
 */

import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parseSnapshotPlan, type SnapshotPlan } from "../src/book/mod.ts";
import { parseFileMode } from "../src/chronicle/mod.ts";
import { errorMessage } from "../src/tape/mod.ts";

/**
 * Parses a whole number (0 or more).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wholeNumber } from "./_options.ts";
 * assert.equal(wholeNumber("12"), 12);
 * assert.throws(() => wholeNumber("9007199254740993"), /at most 9007199254740991, got '9007199254740993'/);
 * ```
 */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`expected a whole number, got '${value}'`);
  }
  if (!Number.isSafeInteger(n)) {
    // Quoted as given: the number itself would be rounded past 2^53.
    throw new InvalidArgumentError(
      `expected a whole number of at most ${Number.MAX_SAFE_INTEGER}, got '${value.trim()}'`,
    );
  }
  return n;
}

/**
 * Parses a whole number of at least 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveWholeNumber } from "./_options.ts";
 * assert.equal(positiveWholeNumber("3"), 3);
 * assert.throws(() => positiveWholeNumber("0"), /at least 1/);
 * ```
 */
export function positiveWholeNumber(value: string): number {
  const n = wholeNumber(value);
  if (n === 0) throw new InvalidArgumentError(`expected a number of at least 1, got '${value}'`);
  return n;
}

/**
 * Longest delay a timer takes, in milliseconds (2^31 - 1): a longer one
 * fires after 1 ms instead, with only a warning.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_TIMER_MS } from "./_options.ts";
 * assert.equal(MAX_TIMER_MS, 2147483647);
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a duration in milliseconds that ends up in a timer: a whole
 * number of at most {@linkcode MAX_TIMER_MS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timerMs } from "./_options.ts";
 * assert.equal(timerMs("5000"), 5000);
 * assert.throws(() => timerMs("2147483648"), /at most 2147483647/);
 * ```
 */
export function timerMs(value: string): number {
  return withinTimer(wholeNumber(value), value);
}

// Milliseconds in each unit a duration option takes.
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a duration with its unit (`500ms`, `30s`, `2m`, `1h`) into
 * milliseconds, at most {@linkcode MAX_TIMER_MS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { durationMs } from "./_options.ts";
 * assert.equal(durationMs("3s"), 3000);
 * assert.equal(durationMs("2m"), 120_000);
 * assert.throws(() => durationMs("30"), /with its unit, such as '500ms'/);
 * ```
 */
export function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(value);
  if (match === null) {
    throw new InvalidArgumentError(
      `expected a duration with its unit, such as '500ms', '30s' or '2m', got '${value}'`,
    );
  }
  return withinTimer(Number(match[1]) * DURATION_UNITS[match[2]!]!, value);
}

/**
 * Parses a duration in milliseconds of at least 1 that ends up in a timer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveTimerMs } from "./_options.ts";
 * assert.equal(positiveTimerMs("10000"), 10000);
 * assert.throws(() => positiveTimerMs("0"), /at least 1/);
 * ```
 */
export function positiveTimerMs(value: string): number {
  return withinTimer(positiveWholeNumber(value), value);
}

function withinTimer(n: number, value: string): number {
  if (n > MAX_TIMER_MS) {
    throw new InvalidArgumentError(`expected at most ${MAX_TIMER_MS} ms, got '${value}'`);
  }
  return n;
}

/**
 * Parses a number greater than 0 (fractions allowed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positiveNumber } from "./_options.ts";
 * assert.equal(positiveNumber("0.5"), 0.5);
 * ```
 */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  }
  return n;
}

/**
 * Parses a point in time: an ISO 8601 time (`2026-11-22T03:00:00Z`) or a
 * whole number of nanoseconds since the epoch, into nanoseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeNs } from "./_options.ts";
 * assert.equal(timeNs("1970-01-01T00:00:01Z"), 1000000000n);
 * assert.equal(timeNs("5"), 5n);
 * ```
 */
export function timeNs(value: string): bigint {
  if (/^[0-9]{1,20}$/.test(value)) return BigInt(value);
  const ms = /^[0-9]{4}-/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(
      `expected an ISO 8601 time such as '2026-11-22T03:00:00Z' or nanoseconds since the epoch, got '${value}'`,
    );
  }
  return BigInt(ms) * 1_000_000n;
}

/**
 * Collects the values of a repeatable option, in the order given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collect } from "./_options.ts";
 * assert.deepEqual(collect("b", collect("a", [])), ["a", "b"]);
 * ```
 */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `--dir c2s|s2c`: keep only frames in one direction (replay and tail).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directionOption } from "./_options.ts";
 * assert.equal(directionOption().long, "--dir");
 * ```
 */
export function directionOption() {
  return new Option("--dir <dir>", "only frames in this direction").choices(
    ["c2s", "s2c"] as const,
  );
}

/**
 * `-m, --method M` (repeatable): keep only frames of these methods, with
 * their responses (replay and tail).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodOption } from "./_options.ts";
 * assert.equal(methodOption().long, "--method");
 * ```
 */
export function methodOption() {
  return new Option(
    "-m, --method <method>",
    "only frames of this method, responses included (repeatable)",
  )
    .argParser(collect)
    .default([] as string[]);
}

/**
 * An option parser made of a library's parse function: what it throws
 * becomes commander's `InvalidArgumentError`, so the user sees one line
 * naming the option (exit 2), not a stack trace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsedBy } from "./_options.ts";
 * const even = parsedBy((v: string) => {
 *   if (Number(v) % 2 !== 0) throw new RangeError(`'${v}' is odd`);
 *   return Number(v);
 * });
 * assert.equal(even("4"), 4);
 * assert.throws(() => even("3"), { code: "commander.invalidArgument", message: "'3' is odd" });
 * ```
 */
export function parsedBy<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError(errorMessage(error));
    }
  };
}

/**
 * Parses a `--snapshot-every` value: limits separated by commas, a bare
 * number of events, a stream time (`10m`) or a size (`256MiB`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotPlan } from "./_options.ts";
 * assert.deepEqual(snapshotPlan("1000"), { everyEvents: 1000 });
 * assert.throws(() => snapshotPlan("1M"));
 * ```
 */
export const snapshotPlan: (value: string) => SnapshotPlan = parsedBy(parseSnapshotPlan);

/**
 * `--mode <octal>` of the programs that create queues: the permission bits
 * of the files they create (directories get the matching execute bits).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modeOption } from "./_options.ts";
 * assert.equal(modeOption().long, "--mode");
 * assert.equal(modeOption().parseArg?.("0660", undefined), 0o660);
 * ```
 */
export function modeOption() {
  return new Option(
    "--mode <octal>",
    "permission bits of the queue files created now, e.g. 0660 to share with the group " +
      "(default: those of the queue's files, 0640 for a new queue); directories get the " +
      "matching execute bits (0660 gives 0770); existing files keep theirs, and the umask " +
      "may take bits away",
  ).argParser(parsedBy(parseFileMode));
}
