/**
 * A key-order-independent serialization of JSON, for using values as map
 * keys.
 *
 * @module
 */

import type { JsonValue } from "../tape/mod.ts";

/**
 * Serializes a JSON value with object keys sorted, so deep-equal values give
 * equal strings. `undefined` (an absent field) serializes as `"undefined"`,
 * distinct from `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalJson } from "./canonical_json.ts";
 * assert.equal(canonicalJson({ b: 1, a: [true, null] }), '{"a":[true,null],"b":1}');
 * ```
 */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}
