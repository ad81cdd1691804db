/**
 * What a features run computes and how often it writes a row: the
 * `--features` list and the `--every` value, parsed and checked before any
 * stream is opened. `docs/features.md` defines each feature.
 *
 * @module
 */

/** The features there are, in the order `docs/features.md` lists them. */
export const FEATURE_NAMES = [
  "mid",
  "spread",
  "microprice",
  "imbalance",
  "ofi",
  "vwap",
  "trades",
] as const;

/** One of {@linkcode FEATURE_NAMES}. */
export type FeatureName = typeof FEATURE_NAMES[number];

/** One feature of a run: which, at what depth, and the name of its column. */
export interface FeatureSpec {
  /** The feature. */
  readonly name: FeatureName;
  /** Levels per side summed by `imbalance`; 1 for every other feature. */
  readonly depth: number;
  /** Column (CSV) and member (JSON) name: the feature's name, `imbalance_N` for depth N above 1. */
  readonly column: string;
}

/** How often rows are written: after every `count` events, or once per `intervalUs` of stream time. */
export type RowEvery =
  | { readonly kind: "events"; readonly count: number }
  | { readonly kind: "time"; readonly intervalUs: number };

/** A row after every batch: the default of a features run. */
export const EVERY_BATCH: RowEvery = { kind: "events", count: 1 };

const VALID_FEATURES = "mid, spread, microprice, imbalance[:N], ofi, vwap, trades";

// Units of `--every`, in µs: the exchange clock is bucketed in whole µs.
const UNIT_US: Readonly<Record<string, number>> = {
  us: 1,
  "µs": 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};

/**
 * Parses a feature list such as `mid,spread,imbalance:5`: names separated
 * by commas, spaces around them ignored; `imbalance:N` sums the top N
 * levels of each side (`imbalance` alone is depth 1).
 *
 * @throws {SyntaxError} when the list or an item is empty, an item has a malformed depth or a depth it does not take, or a column is listed twice.
 * @throws {RangeError} when an item names no feature, or a depth is below 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFeatures } from "./feature_spec.ts";
 * assert.deepEqual(parseFeatures("mid, imbalance:5"), [
 *   { name: "mid", depth: 1, column: "mid" },
 *   { name: "imbalance", depth: 5, column: "imbalance_5" },
 * ]);
 * assert.throws(() => parseFeatures("mid,foo"), /Unknown feature 'foo'; valid features: mid, spread/);
 * ```
 */
export function parseFeatures(list: string): FeatureSpec[] {
  if (list.trim() === "") {
    throw new SyntaxError(`Feature list is empty; valid features: ${VALID_FEATURES}`);
  }
  const specs: FeatureSpec[] = [];
  for (const raw of list.split(",")) {
    const spec = parseItem(raw.trim());
    if (specs.some((s) => s.column === spec.column)) {
      throw new SyntaxError(`Feature '${raw.trim()}' is listed twice`);
    }
    specs.push(spec);
  }
  return specs;
}

function parseItem(item: string): FeatureSpec {
  if (item === "") {
    throw new SyntaxError(`Feature list has an empty item; valid features: ${VALID_FEATURES}`);
  }
  const colon = item.indexOf(":");
  const name = colon === -1 ? item : item.slice(0, colon);
  if (!(FEATURE_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`Unknown feature '${item}'; valid features: ${VALID_FEATURES}`);
  }
  const feature = name as FeatureName;
  if (colon === -1) return { name: feature, depth: 1, column: name };
  if (feature !== "imbalance") {
    throw new SyntaxError(`Feature '${item}' takes no depth; only imbalance[:N] does`);
  }
  const text = item.slice(colon + 1);
  const depth = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(depth)) {
    throw new SyntaxError(`Feature '${item}' needs a whole number of levels after ':'`);
  }
  if (depth < 1) throw new RangeError(`Feature '${item}' needs at least 1 level`);
  return { name: feature, depth, column: depth === 1 ? "imbalance" : `imbalance_${depth}` };
}

/**
 * Parses an `--every` value: a whole number of events (`100`), or a whole
 * duration of stream time in `us`, `ms`, `s`, `m` or `h` (`250us`, `100ms`,
 * `1s`, `5m`).
 *
 * @throws {SyntaxError} when the value is neither.
 * @throws {RangeError} when it is 0 or too large to count in µs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvery } from "./feature_spec.ts";
 * assert.deepEqual(parseEvery("100ms"), { kind: "time", intervalUs: 100_000 });
 * assert.deepEqual(parseEvery("50"), { kind: "events", count: 50 });
 * assert.throws(() => parseEvery("1.5s"), SyntaxError);
 * ```
 */
export function parseEvery(text: string): RowEvery {
  const match = /^(\d+)([a-zµ]*)$/.exec(text.trim());
  const unit = match?.[2];
  if (!match || unit === undefined || (unit !== "" && UNIT_US[unit] === undefined)) {
    throw new SyntaxError(
      `Every '${text}' is neither a whole number of events nor a whole duration such as '250us', '100ms', '1s', '5m' or '1h'`,
    );
  }
  const value = Number(match[1]) * (unit === "" ? 1 : UNIT_US[unit]!);
  if (value === 0) throw new RangeError(`Every '${text}' must be at least 1`);
  if (!Number.isSafeInteger(value)) throw new RangeError(`Every '${text}' is too large`);
  return unit === "" ? { kind: "events", count: value } : { kind: "time", intervalUs: value };
}
