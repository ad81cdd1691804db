/**
 * JSON helpers shared by recording and replay: the path dialect used by
 * `record --redact` and `replay --verify --ignore-path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonPath, pathMatches } from "./mod.ts";
 * assert.equal(pathMatches(parseJsonPath("$.result.*"), ["result", "x"]), true);
 * ```
 *
 * @module
 */

export * from "./json_path.ts";
export * from "./member_span.ts";
