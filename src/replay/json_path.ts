/**
 * JSON paths in the small dialect spool prints and accepts: `$` for the
 * root, `.name` or `["name"]` for an object key, `[3]` for an array index,
 * and `*` / `[*]` for any key or index (only when matching).
 *
 * @module
 */

/** One step of a path: an object key or an array index. */
export type JsonPathSegment = string | number;

/** Marks a segment of a parsed pattern that matches any key or index. */
export const ANY_SEGMENT: unique symbol = Symbol("any");

/** A parsed pattern segment: a key, an index or {@linkcode ANY_SEGMENT}. */
export type JsonPathPatternSegment = JsonPathSegment | typeof ANY_SEGMENT;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Prints a path the way diffs show it.
 *
 * @example
 * ```ts
 * import { formatJsonPath } from "./json_path.ts";
 * console.log(formatJsonPath(["result", "content", 0, "text"])); // "$.result.content[0].text"
 * console.log(formatJsonPath(["a b"])); // '$["a b"]'
 * ```
 */
export function formatJsonPath(segments: readonly JsonPathSegment[]): string {
  let out = "$";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * Parses a path pattern such as `$.result.serverInfo.version` or
 * `$.result.tools[*].name`. The leading `$` is optional.
 *
 * @throws {SyntaxError} when the pattern cannot be read, naming it.
 * @example
 * ```ts
 * import { parseJsonPath } from "./json_path.ts";
 * console.log(parseJsonPath('$.a[2]["b c"]')); // ["a", 2, "b c"]
 * ```
 */
export function parseJsonPath(pattern: string): JsonPathPatternSegment[] {
  const fail = (why: string): never => {
    throw new SyntaxError(`Cannot read JSON path '${pattern}': ${why}`);
  };
  let i = 0;
  const text = pattern.trim();
  if (text.startsWith("$")) i = 1;
  const out: JsonPathPatternSegment[] = [];
  if (i === 0 && text !== "" && text[0] !== "." && text[0] !== "[") {
    // Allow "result.x" as a shorthand for "$.result.x".
    return parseJsonPath(`$.${text}`);
  }
  while (i < text.length) {
    const c = text[i];
    if (c === ".") {
      const m = /^[^.[\]]+/.exec(text.slice(i + 1));
      if (!m) fail(`expected a key after '.' at character ${i + 1}`);
      const key = m![0];
      out.push(key === "*" ? ANY_SEGMENT : key);
      i += 1 + key.length;
    } else if (c === "[") {
      const close = findClose(text, i);
      if (close === -1) fail(`unclosed '[' at character ${i + 1}`);
      const inner = text.slice(i + 1, close).trim();
      if (inner === "*") out.push(ANY_SEGMENT);
      else if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (inner.startsWith('"')) {
        try {
          out.push(String(JSON.parse(inner)));
        } catch {
          fail(`bad quoted key ${inner}`);
        }
      } else if (inner.startsWith("'") && inner.endsWith("'") && inner.length >= 2) {
        out.push(inner.slice(1, -1));
      } else fail(`bad index '${inner}'`);
      i = close + 1;
    } else {
      fail(`unexpected '${c}' at character ${i + 1}`);
    }
  }
  return out;
}

function findClose(text: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "]") return i;
  }
  return -1;
}

/**
 * Tells whether `path` lies at or below the place `pattern` names, so that
 * ignoring `$.result.serverInfo` also ignores everything inside it.
 *
 * @example
 * ```ts
 * import { parseJsonPath, pathMatches } from "./json_path.ts";
 * const p = parseJsonPath("$.result.tools[*].name");
 * console.log(pathMatches(p, ["result", "tools", 3, "name"])); // true
 * console.log(pathMatches(p, ["result", "tools"])); // false
 * ```
 */
export function pathMatches(
  pattern: readonly JsonPathPatternSegment[],
  path: readonly JsonPathSegment[],
): boolean {
  if (path.length < pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === ANY_SEGMENT) continue;
    // An index written as a key ("0") still names the same element.
    if (String(p) !== String(path[i])) return false;
  }
  return true;
}
