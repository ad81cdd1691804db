/**
 * Structural comparison of two JSON values, reporting each difference with
 * the path where it occurs.
 *
 * @module
 */

import type { JsonValue } from "../tape/mod.ts";
import {
  formatJsonPath,
  type JsonPathSegment,
  type JsonPathStep,
  pathMatches,
} from "../json/json_path.ts";

/** One difference between an expected and an actual JSON value. */
export interface JsonDifference {
  /** Where, e.g. `$.result.content[0].text`. */
  path: string;
  /** `changed`: both sides have a different value; `missing`: only expected has it; `extra`: only actual has it. */
  kind: "changed" | "missing" | "extra";
  /** The expected value; absent when `kind` is `extra`. */
  expected?: JsonValue;
  /** The actual value; absent when `kind` is `missing`. */
  actual?: JsonValue;
}

/** Options of {@linkcode diffJson}. */
export interface DiffJsonOptions {
  /** Parsed patterns (see `parseJsonPath`) of places whose differences do not count. */
  ignore?: readonly (readonly JsonPathStep[])[];
  /** Stop after this many differences; default unlimited. */
  limit?: number;
}

/**
 * Lists the differences between two JSON values. Object key order never
 * matters; array order does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffJson } from "./json_diff.ts";
 * const d = diffJson({ result: { n: "5" } }, { result: { n: "6" } });
 * assert.deepEqual(d, [{ path: "$.result.n", kind: "changed", expected: "5", actual: "6" }]);
 * ```
 */
export function diffJson(
  expected: JsonValue | undefined,
  actual: JsonValue | undefined,
  options: DiffJsonOptions = {},
): JsonDifference[] {
  const out: JsonDifference[] = [];
  const limit = options.limit ?? Infinity;
  const ignore = options.ignore ?? [];
  const walk = (e: JsonValue | undefined, a: JsonValue | undefined, path: JsonPathSegment[]) => {
    if (out.length >= limit) return;
    if (ignore.some((p) => pathMatches(p, path))) return;
    if (e === undefined && a === undefined) return;
    if (e === undefined) {
      out.push({ path: formatJsonPath(path), kind: "extra", actual: a! });
      return;
    }
    if (a === undefined) {
      out.push({ path: formatJsonPath(path), kind: "missing", expected: e });
      return;
    }
    if (Array.isArray(e) && Array.isArray(a)) {
      const n = Math.max(e.length, a.length);
      for (let i = 0; i < n; i++) walk(e[i], a[i], [...path, i]);
      return;
    }
    if (isObject(e) && isObject(a)) {
      const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
      for (const k of keys) walk(e[k], a[k], [...path, k]);
      return;
    }
    if (e !== a || typeof e !== typeof a) {
      out.push({ path: formatJsonPath(path), kind: "changed", expected: e, actual: a });
    }
  };
  walk(expected, actual, []);
  return out;
}

/**
 * Deep equality of two JSON values, ignoring object key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonEqual } from "./json_diff.ts";
 * assert.equal(jsonEqual({ a: 1, b: [2] }, { b: [2], a: 1 }), true);
 * ```
 */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return diffJson(a, b, { limit: 1 }).length === 0;
}

function isObject(v: JsonValue): v is { [key: string]: JsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
