/**
 * New York local time as LOBSTER writes it: seconds after midnight on a
 * given date, read exactly as integer nanoseconds, and the UTC instant of
 * that midnight under the daylight-saving rules in force on the date.
 *
 * @module
 */

const NS_PER_MS = 1_000_000n;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const SECONDS = /^(\d{1,6})(?:\.(\d{1,9}))?$/;

// Offsets of New York from UTC, in hours west: standard time first.
const OFFSETS_WEST = [5, 4];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

let newYork: Intl.DateTimeFormat | undefined;

/**
 * The UTC instant, in ns since the epoch, of midnight in New York on
 * `date` (`YYYY-MM-DD`): 05:00 UTC in winter (EST), 04:00 UTC in summer
 * (EDT). The clocks change at 02:00, so midnight always exists and is
 * never doubled. From 1987 on the US rule decides (since 2007 summer time
 * runs from the second Sunday of March to the first Sunday of November,
 * before that from the first Sunday of April to the last Sunday of
 * October); earlier dates ask the time-zone database.
 *
 * @throws {RangeError} when `date` is not a calendar date in that form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newYorkMidnightNs } from "./new_york_time.ts";
 * assert.equal(newYorkMidnightNs("2012-06-21"), 1340251200000000000n); // 04:00 UTC
 * assert.equal(newYorkMidnightNs("2012-01-03"), 1325566800000000000n); // 05:00 UTC
 * ```
 */
export function newYorkMidnightNs(date: string): bigint {
  const m = DATE.exec(date);
  const year = Number(m?.[1]);
  const utcMidnight = m === null ? NaN : Date.UTC(year, Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(utcMidnight) || new Date(utcMidnight).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`Date '${date}' is not a calendar date in the form YYYY-MM-DD`);
  }
  const summer = summerTimeAtMidnight(year, utcMidnight);
  if (summer !== undefined) return BigInt(utcMidnight + (summer ? 4 : 5) * HOUR_MS) * NS_PER_MS;
  return BigInt(midnightFromDatabase(date, utcMidnight)) * NS_PER_MS;
}

/**
 * Whether New York keeps summer time at midnight starting the day at
 * `utcMidnight` (ms) of `year`, by the US rule; undefined before 1987.
 * Midnight of the day the clocks go forward is still winter time, and of
 * the day they go back still summer time.
 */
function summerTimeAtMidnight(year: number, utcMidnight: number): boolean | undefined {
  if (year < 1987) return undefined;
  const [begins, ends] = year >= 2007
    ? [nthSunday(year, 2, 2), nthSunday(year, 10, 1)]
    : [nthSunday(year, 3, 1), lastSunday(year, 9)];
  return utcMidnight > begins && utcMidnight <= ends;
}

/** UTC midnight (ms) of the `n`th Sunday of `month` (0 is January). */
function nthSunday(year: number, month: number, n: number): number {
  const first = Date.UTC(year, month, 1);
  const weekday = new Date(first).getUTCDay();
  return first + (((7 - weekday) % 7) + 7 * (n - 1)) * DAY_MS;
}

/** UTC midnight (ms) of the last Sunday of `month` (0 is January). */
function lastSunday(year: number, month: number): number {
  const last = Date.UTC(year, month + 1, 0);
  return last - new Date(last).getUTCDay() * DAY_MS;
}

/** Midnight in New York (UTC ms) by the time-zone database, for dates the rule does not cover. */
function midnightFromDatabase(date: string, utcMidnight: number): number {
  newYork ??= new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  for (const west of OFFSETS_WEST) {
    const candidate = utcMidnight + west * HOUR_MS;
    const local = newYork.formatToParts(candidate);
    const part = (type: string) => local.find((p) => p.type === type)?.value;
    const localDate = `${part("year")}-${part("month")}-${part("day")}`;
    if (localDate === date && part("hour") === "00" && part("minute") === "00") return candidate;
  }
  // Only reachable for a date when New York kept an offset other than -5 or -4 hours.
  throw new RangeError(`No midnight found in New York on '${date}'`);
}

/**
 * Seconds after midnight, as text with up to 9 decimals (`34200.015105074`),
 * as exact integer nanoseconds: the digits are read as integers, never as a
 * float, so no nanosecond is lost to rounding.
 *
 * @throws {SyntaxError} when the text is not such a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secondsToNs } from "./new_york_time.ts";
 * assert.equal(secondsToNs("34200.015105074"), 34_200_015_105_074);
 * assert.equal(secondsToNs("57599.9"), 57_599_900_000_000);
 * assert.equal(secondsToNs("34200"), 34_200_000_000_000);
 * ```
 */
export function secondsToNs(text: string): number {
  const m = SECONDS.exec(text);
  if (m === null) {
    throw new SyntaxError(
      `Time '${text}' is not seconds after midnight with up to 9 decimals`,
    );
  }
  const fraction = (m[2] ?? "").padEnd(9, "0");
  // At most 6 + 9 digits: exact in a double.
  return Number(m[1]) * 1_000_000_000 + Number(fraction);
}
