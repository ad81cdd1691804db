/**
 * Redaction of the recorded copy of a message: JSON path rules replace a
 * value, pattern rules replace matches inside every string. Only the copy
 * written to the tape is rewritten; forwarded bytes never pass through here.
 *
 * @module
 */

import { errorMessage, type JsonValue } from "../tape/mod.ts";
import { JsonPathError, type JsonPathStep, parseJsonPath } from "../json/json_path.ts";

/**
 * What a redacted value or match is replaced with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedactRule, REDACTED, Redactor } from "./redactor.ts";
 * const { env } = new Redactor([parseRedactRule("$.token")]).redact({ token: "t" });
 * assert.equal((env as { token: string }).token, REDACTED);
 * ```
 */
export const REDACTED = "[REDACTED]";

/** A parsed `--redact` rule. */
export type RedactRule =
  | { kind: "path"; source: string; segments: JsonPathStep[] }
  | { kind: "pattern"; source: string; pattern: RegExp };

/**
 * A `--redact` rule that cannot be used. Carries the rule as written so the
 * message can name it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedactRule, RedactRuleError } from "./redactor.ts";
 * assert.throws(
 *   () => parseRedactRule("$.params["),
 *   (e) => e instanceof RedactRuleError && e.rule === "$.params[",
 * );
 * ```
 */
export class RedactRuleError extends SyntaxError {
  /** The rule as given on the command line. */
  readonly rule: string;

  /** Builds the error; the rule is named in the message. */
  constructor(rule: string, reason: string, options?: ErrorOptions) {
    super(`Invalid redaction rule '${rule}': ${reason}`, options);
    this.name = "RedactRuleError";
    this.rule = rule;
  }
}

const PATTERN_PREFIX = "re:";

/**
 * Parses one rule: `re:<regex>` is a pattern rule, anything else a JSON path
 * such as `$.params.arguments.password`, `$.params.*.token`,
 * `$.items[0].key`, `$.items[*].key`, `$['odd.key']` or `$..password` (at
 * any depth). The leading `$` may be left out.
 *
 * @throws {RedactRuleError} when the rule cannot be parsed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedactRule } from "./redactor.ts";
 * const rule = parseRedactRule("$.params.arguments.password");
 * assert.equal(rule.kind, "path");
 * assert.equal(parseRedactRule("re:sk-[a-z0-9]+").kind, "pattern");
 * ```
 */
export function parseRedactRule(rule: string): RedactRule {
  if (rule.startsWith(PATTERN_PREFIX)) return parsePatternRule(rule);
  return { kind: "path", source: rule, segments: parsePath(rule) };
}

function parsePatternRule(rule: string): RedactRule {
  const source = rule.slice(PATTERN_PREFIX.length);
  if (source === "") throw new RedactRuleError(rule, "the pattern is empty");
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, "g");
  } catch (error) {
    const reason = errorMessage(error);
    throw new RedactRuleError(rule, reason.replace(/^Invalid regular expression: /, ""), {
      cause: error,
    });
  }
  // A pattern that matches nothing at all would put a marker between every character.
  if (new RegExp(source).test("")) {
    throw new RedactRuleError(rule, "the pattern matches the empty string");
  }
  return { kind: "pattern", source: rule, pattern };
}

function parsePath(rule: string): JsonPathStep[] {
  let steps: JsonPathStep[];
  try {
    steps = parseJsonPath(rule);
  } catch (error) {
    if (error instanceof JsonPathError) throw new RedactRuleError(rule, error.reason);
    throw error;
  }
  if (steps.length === 0) {
    throw new RedactRuleError(rule, "the path selects the whole message; name a member");
  }
  return steps;
}

/** What {@linkcode Redactor.redact} made of a message. */
export interface RedactResult {
  /** The message to record: the input itself when nothing changed. */
  env: JsonValue;
  /** Whether any rule changed the message. */
  changed: boolean;
}

/**
 * Applies a list of rules to messages. The input message is never modified:
 * changed parts are copied, unchanged parts are shared.
 *
 * Pattern rules run first, on every string value (object keys are left
 * alone) and on text lines; path rules then replace whole values, so a path
 * rule's marker is never rewritten by a pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedactRule, Redactor } from "./redactor.ts";
 * const redactor = new Redactor([
 *   parseRedactRule("$.params.arguments.password"),
 *   parseRedactRule("re:sk-[a-z0-9]+"),
 * ]);
 * const msg = { params: { arguments: { password: "hunter2", note: "key sk-abc1" } } };
 * assert.deepEqual(redactor.redact(msg).env, {
 *   params: { arguments: { password: "[REDACTED]", note: "key [REDACTED]" } },
 * });
 * assert.equal(msg.params.arguments.password, "hunter2");
 * ```
 */
export class Redactor {
  #paths: JsonPathStep[][];
  #patterns: RegExp[];

  /** Creates a redactor from parsed rules (see {@linkcode parseRedactRule}). */
  constructor(rules: readonly RedactRule[]) {
    this.#paths = [];
    this.#patterns = [];
    for (const rule of rules) {
      if (rule.kind === "path") this.#paths.push(rule.segments);
      else this.#patterns.push(rule.pattern);
    }
  }

  /** Whether there is any rule at all; without rules messages can skip redaction. */
  get active(): boolean {
    return this.#paths.length > 0 || this.#patterns.length > 0;
  }

  /**
   * Redacts a parsed JSON message, or, with `isText`, a line that was not
   * JSON (only pattern rules apply to text).
   */
  redact(env: JsonValue, isText = false): RedactResult {
    let value = env;
    let changed = false;
    if (this.#patterns.length > 0) {
      const next = this.#scrub(value);
      if (next !== value) {
        value = next;
        changed = true;
      }
    }
    if (!isText) {
      for (const path of this.#paths) {
        const next = redactPath(value, path, 0);
        if (next !== value) {
          value = next;
          changed = true;
        }
      }
    }
    return { env: value, changed };
  }

  #scrub(value: JsonValue): JsonValue {
    if (typeof value === "string") {
      let text = value;
      for (const pattern of this.#patterns) {
        pattern.lastIndex = 0;
        if (pattern.test(text)) {
          pattern.lastIndex = 0;
          text = text.replace(pattern, REDACTED);
        }
      }
      return text;
    }
    if (Array.isArray(value)) {
      let copy: JsonValue[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item = value[i]!;
        const next = this.#scrub(item);
        if (next !== item) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy ?? value;
    }
    if (value !== null && typeof value === "object") {
      let copy: { [key: string]: JsonValue } | undefined;
      for (const key of Object.keys(value)) {
        const item = value[key]!;
        const next = this.#scrub(item);
        if (next !== item) {
          copy ??= { ...value };
          setOwn(copy, key, next);
        }
      }
      return copy ?? value;
    }
    return value;
  }
}

/** Returns `value` itself when the path selects nothing that needs changing. */
function redactPath(value: JsonValue, path: JsonPathStep[], at: number): JsonValue {
  if (at === path.length) return value === REDACTED ? value : REDACTED;
  const segment = path[at]!;
  switch (segment.kind) {
    case "key": {
      if (!isObject(value) || !Object.hasOwn(value, segment.key)) return value;
      const item = value[segment.key]!;
      const next = redactPath(item, path, at + 1);
      if (next === item) return value;
      const copy = { ...value };
      setOwn(copy, segment.key, next);
      return copy;
    }
    case "index": {
      if (!Array.isArray(value) || segment.index >= value.length) return value;
      const item = value[segment.index]!;
      const next = redactPath(item, path, at + 1);
      if (next === item) return value;
      const copy = value.slice();
      copy[segment.index] = next;
      return copy;
    }
    case "any":
      return mapChildren(value, (item) => redactPath(item, path, at + 1));
    case "deep": {
      const here = redactPath(value, path, at + 1);
      return mapChildren(here, (item) => redactPath(item, path, at));
    }
  }
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// Plain assignment of "__proto__" would change the prototype instead of the member.
function setOwn(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

function mapChildren(value: JsonValue, fn: (item: JsonValue) => JsonValue): JsonValue {
  if (Array.isArray(value)) {
    let copy: JsonValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i]!;
      const next = fn(item);
      if (next !== item) {
        copy ??= value.slice();
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  if (isObject(value)) {
    let copy: { [key: string]: JsonValue } | undefined;
    for (const key of Object.keys(value)) {
      const item = value[key]!;
      const next = fn(item);
      if (next !== item) {
        copy ??= { ...value };
        copy[key] = next;
      }
    }
    return copy ?? value;
  }
  return value;
}
