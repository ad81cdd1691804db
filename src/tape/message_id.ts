/**
 * How JSON-RPC ids are compared: the one rule every part of spool that
 * pairs a response with its request uses (the tape writer's correlation,
 * tail, replay, the mock server and the verifier).
 *
 * An id is compared by its JSON text, never as a parsed number: parsing
 * turns ids into doubles, which makes `12345678901234567891` equal to
 * `12345678901234567890` and `1.0` equal to `1`.
 *
 * @module
 */

import { memberValueText } from "../json/mod.ts";
import type { JsonValue } from "./types.ts";

/** The JSON number grammar (RFC 8259), split into mantissa and exponent. */
const JSON_NUMBER = /^(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?)(?:[eE]([+-]?)([0-9]+))?$/;

/**
 * The key a message's `id` is matched by, or `undefined` when the message
 * has no id that can be matched (not an object, no `id`, or an id that is
 * `null`, a boolean, an object or an array). Two ids are the same id
 * exactly when their keys are equal:
 *
 * - a string id is its decoded value, so `"a"` and `"\u0061"` are one id;
 *   a string is never the same id as a number (`"1"` is not `1`);
 * - a number id is its JSON text as written, with only the exponent's
 *   spelling normalised: `e` or `E`, a `+` sign and leading zeros of the
 *   exponent do not count (`1E+02`, `1e2` and `1e02` are one id). Nothing
 *   else is normalised, so `1`, `1.0`, `1e0` and `10e-1` are four ids, and
 *   `12345678901234567890` and `12345678901234567891` are two.
 *
 * `envText` is the message's JSON text (the whole line as received, or a
 * frame's `env` text); a number's spelling is read from it. Pass a function
 * to have the text worked out only when the id is a number. Without the
 * text a number id is taken as `JSON.stringify` writes the parsed value,
 * which is exact for the integers up to 2^53 that most peers use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonRpcIdKey } from "./message_id.ts";
 * const big = '{"id":12345678901234567891,"result":1}';
 * const other = '{"id":12345678901234567890,"result":1}';
 * assert.notEqual(jsonRpcIdKey(JSON.parse(big), big), jsonRpcIdKey(JSON.parse(other), other));
 * assert.notEqual(jsonRpcIdKey({ id: 1 }, '{"id":1}'), jsonRpcIdKey({ id: 1 }, '{"id":1.0}'));
 * assert.equal(jsonRpcIdKey({ id: 100 }, '{"id":1E+02}'), jsonRpcIdKey({ id: 100 }, '{"id":1e2}'));
 * assert.notEqual(jsonRpcIdKey({ id: "1" }), jsonRpcIdKey({ id: 1 }));
 * assert.equal(jsonRpcIdKey({ id: null }), undefined);
 * ```
 */
export function jsonRpcIdKey(
  env: JsonValue,
  envText?: string | (() => string | undefined),
): string | undefined {
  if (env === null || typeof env !== "object" || Array.isArray(env)) return undefined;
  const id = env.id;
  if (typeof id === "string") return `s${id}`;
  if (typeof id !== "number" || !Number.isFinite(id)) return undefined;
  const text = typeof envText === "function" ? envText() : envText;
  const written = text === undefined ? undefined : numberKey(memberValueText(text, "id"));
  // Without the text (or with text that is not this message's), the parsed value is all there is.
  return written ?? numberKey(JSON.stringify(id))!;
}

/** `n` and the number's text with its exponent spelled one way; undefined if not a JSON number. */
function numberKey(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const match = JSON_NUMBER.exec(text);
  if (match === null) return undefined;
  const [, mantissa, sign, digits] = match;
  if (digits === undefined) return `n${mantissa}`;
  const exponent = digits.replace(/^0+(?=.)/, "");
  return `n${mantissa}e${sign === "-" && exponent !== "0" ? "-" : ""}${exponent}`;
}
