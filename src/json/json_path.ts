/**
 * JSON paths in the small dialect spool accepts and prints: `$` for the
 * root, `.name` or `["name"]` / `['name']` for an object key, `[3]` for an
 * array index, `*` or `[*]` for any key or index, and `..` for any depth.
 * `redact` rules and `--ignore-path` both use it.
 *
 * @module
 */

/** One step of a path pattern. */
export type JsonPathStep =
  | { kind: "key"; key: string }
  | { kind: "index"; index: number }
  /** `*` or `[*]`: any member of an object or element of an array. */
  | { kind: "any" }
  /** `..`: the current value and every value below it. */
  | { kind: "deep" };

/** One step of a concrete location in a value: an object key or an array index. */
export type JsonPathSegment = string | number;

/**
 * A path pattern that cannot be read. Carries the pattern and where reading
 * stopped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonPathError, parseJsonPath } from "./json_path.ts";
 * assert.throws(
 *   () => parseJsonPath("$.a["),
 *   (e) => e instanceof JsonPathError && e.reason === "expected ']' at character 5",
 * );
 * ```
 */
export class JsonPathError extends SyntaxError {
  /** The pattern as given. */
  readonly pattern: string;
  /** What is wrong, without the pattern. */
  readonly reason: string;

  /** Builds the error; the pattern is named in the message. */
  constructor(pattern: string, reason: string) {
    super(`Cannot read JSON path '${pattern}': ${reason}`);
    this.name = "JsonPathError";
    this.pattern = pattern;
    this.reason = reason;
  }
}

/**
 * Parses a path pattern such as `$.params.arguments.password`,
 * `$.result.tools[*].name`, `$['odd.key']` or `$..token`. The leading `$`
 * may be left out (`params.password`).
 *
 * @throws {JsonPathError} when the pattern cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonPath } from "./json_path.ts";
 * assert.deepEqual(parseJsonPath('$.a[2]["b c"]'), [
 *   { kind: "key", key: "a" },
 *   { kind: "index", index: 2 },
 *   { kind: "key", key: "b c" },
 * ]);
 * ```
 */
export function parseJsonPath(pattern: string): JsonPathStep[] {
  const steps: JsonPathStep[] = [];
  let at = 0;
  const fail = (reason: string): never => {
    throw new JsonPathError(pattern, `${reason} at character ${at + 1}`);
  };
  if (pattern.startsWith("$")) at = 1;
  else if (pattern !== "" && pattern[0] !== "." && pattern[0] !== "[") {
    at = readName(pattern, at, steps);
  }
  while (at < pattern.length) {
    const ch = pattern[at];
    if (ch === ".") {
      if (pattern[at + 1] === ".") {
        steps.push({ kind: "deep" });
        at += 2;
        if (pattern[at] === "[") continue;
      } else {
        at += 1;
      }
      if (at >= pattern.length || pattern[at] === "." || pattern[at] === "[") {
        fail("expected a name");
      }
      at = readName(pattern, at, steps);
    } else if (ch === "[") {
      at = readBracket(pattern, at, steps, (reason, where) => {
        at = where;
        return fail(reason);
      });
    } else {
      fail(`unexpected '${ch}'`);
    }
  }
  if (steps.at(-1)?.kind === "deep") fail("expected a name");
  return steps;
}

function readName(pattern: string, at: number, steps: JsonPathStep[]): number {
  let end = at;
  while (end < pattern.length && pattern[end] !== "." && pattern[end] !== "[") end++;
  const name = pattern.slice(at, end);
  steps.push(name === "*" ? { kind: "any" } : { kind: "key", key: name });
  return end;
}

function readBracket(
  pattern: string,
  open: number,
  steps: JsonPathStep[],
  fail: (reason: string, at: number) => never,
): number {
  const quote = pattern[open + 1];
  if (quote === "'" || quote === '"') {
    let key = "";
    let i = open + 2;
    for (; i < pattern.length && pattern[i] !== quote; i++) {
      // A backslash keeps the next character, so a key may contain the quote.
      if (pattern[i] === "\\" && i + 1 < pattern.length) i++;
      key += pattern[i];
    }
    if (i >= pattern.length) fail(`unterminated quote ${quote}`, open);
    if (pattern[i + 1] !== "]") fail("expected ']' after the quoted key", i + 1);
    steps.push({ kind: "key", key });
    return i + 2;
  }
  const close = pattern.indexOf("]", open);
  if (close === -1) fail("expected ']'", pattern.length);
  const inside = pattern.slice(open + 1, close).trim();
  if (inside === "*") steps.push({ kind: "any" });
  else if (/^(0|[1-9][0-9]*)$/.test(inside)) steps.push({ kind: "index", index: Number(inside) });
  else fail(`expected an array index, '*' or a quoted key inside [], got '${inside}'`, open + 1);
  return close + 1;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Prints a concrete location the way diffs show it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJsonPath } from "./json_path.ts";
 * assert.equal(formatJsonPath(["result", "content", 0, "text"]), "$.result.content[0].text");
 * assert.equal(formatJsonPath(["a b"]), '$["a b"]');
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

function stepMatches(step: JsonPathStep, segment: JsonPathSegment): boolean {
  switch (step.kind) {
    case "any":
      return true;
    // An index written as a key ("0") still names the same element.
    case "key":
      return step.key === String(segment);
    case "index":
      return String(step.index) === String(segment);
    case "deep":
      return false;
  }
}

/**
 * Tells whether `path` lies at or below a place `pattern` names, so that
 * ignoring `$.result.serverInfo` also ignores everything inside it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonPath, pathMatches } from "./json_path.ts";
 * const p = parseJsonPath("$.result.tools[*].name");
 * assert.equal(pathMatches(p, ["result", "tools", 3, "name"]), true);
 * assert.equal(pathMatches(p, ["result", "tools"]), false);
 * assert.equal(pathMatches(parseJsonPath("$..version"), ["result", "serverInfo", "version"]), true);
 * ```
 */
export function pathMatches(
  pattern: readonly JsonPathStep[],
  path: readonly JsonPathSegment[],
  from = 0,
  at = 0,
): boolean {
  if (from === pattern.length) return true;
  const step = pattern[from]!;
  if (step.kind === "deep") {
    for (let skip = at; skip <= path.length; skip++) {
      if (pathMatches(pattern, path, from + 1, skip)) return true;
    }
    return false;
  }
  if (at >= path.length || !stepMatches(step, path[at]!)) return false;
  return pathMatches(pattern, path, from + 1, at + 1);
}
