/**
 * JSON helpers shared by recording and replay: the path dialect used by
 * `record --redact` and `replay --verify --ignore-path`.
 *
 * @example
 * ```ts
 * import { parseJsonPath, pathMatches } from "./mod.ts";
 * console.log(pathMatches(parseJsonPath("$.result.*"), ["result", "x"])); // true
 * ```
 *
 * @module
 */

export * from "./json_path.ts";
export * from "./member_span.ts";
