/**
 * Finds where a top-level member's value sits in the text of a JSON object,
 * without parsing it. Values can then be handed out, or one of them
 * replaced, exactly as written: `JSON.parse` and `JSON.stringify` would
 * round integers past 2^53 and respell numbers such as `1.0` or `1e2`.
 *
 * The scan checks the object's structure, not the grammar of its values:
 * use it on text already known to be JSON.
 *
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** A range of a string: `text.slice(start, end)`. */
export interface TextSpan {
  /** Index of the span's first character. */
  start: number;
  /** Index just past the span's last character. */
  end: number;
}

/**
 * The spans of the values of every top-level member called `name` of the
 * JSON object in `text`, in order (JSON allows a name twice). `undefined`
 * when `text` is not a complete object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memberValueSpans } from "./member_span.ts";
 * const text = '{"result":{"id":1},"id": 7 }';
 * const [span] = memberValueSpans(text, "id")!;
 * assert.equal(text.slice(span!.start, span!.end), "7");
 * ```
 */
export function memberValueSpans(text: string, name: string): TextSpan[] | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(text, i + 1);
  const spans: TextSpan[] = [];
  if (text.charCodeAt(i) === CLOSE_BRACE) return spans;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return undefined;
    const matches = keyMatches(text, i, keyEnd, name);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return undefined;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (end <= start) return undefined;
    if (matches) spans.push({ start, end });
    i = skipSpace(text, end);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return spans;
    if (c !== COMMA) return undefined;
    i = skipSpace(text, i + 1);
  }
}

/**
 * The exact text of the value of the top-level member `name`; a string
 * comes back as its JSON literal, quotes and escapes included. Like
 * `JSON.parse`, the last of duplicate members wins. `undefined` when there
 * is no such member or `text` is not an object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memberValueText } from "./member_span.ts";
 * const line = '{"type":"frame","env":{"id":12345678901234567890,"x":1.0}}';
 * assert.equal(memberValueText(line, "env"), '{"id":12345678901234567890,"x":1.0}');
 * assert.equal(memberValueText(line, "nope"), undefined);
 * ```
 */
export function memberValueText(text: string, name: string): string | undefined {
  const span = memberValueSpans(text, name)?.at(-1);
  return span === undefined ? undefined : text.slice(span.start, span.end);
}

/**
 * `text` with the value of its top-level member `name` replaced by
 * `valueText` (JSON), everything else left byte for byte. `undefined` unless
 * there is exactly one such member (parsers disagree on which of several
 * counts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceMemberValue } from "./member_span.ts";
 * const response = '{"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890,"x":1.0}}';
 * assert.equal(
 *   replaceMemberValue(response, "id", '"abc"'),
 *   '{"jsonrpc":"2.0","id":"abc","result":{"n":12345678901234567890,"x":1.0}}',
 * );
 * ```
 */
export function replaceMemberValue(
  text: string,
  name: string,
  valueText: string,
): string | undefined {
  const spans = memberValueSpans(text, name);
  if (spans?.length !== 1) return undefined;
  const span = spans[0]!;
  return text.slice(0, span.start) + valueText + text.slice(span.end);
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    // JSON whitespace: space, tab, line feed, carriage return.
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** Index just past the closing quote of the string opening at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function keyMatches(text: string, open: number, end: number, name: string): boolean {
  const raw = text.slice(open + 1, end - 1);
  if (raw.indexOf("\\") < 0) return raw === name;
  try {
    return JSON.parse(text.slice(open, end)) === name;
  } catch {
    return false;
  }
}

/** Index just past the value starting at `start`, or -1 if it never ends. */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (end < 0) return -1;
        i = end - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null runs up to the next delimiter.
  let i = start;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === 0x20 || c === 0x09 ||
      c === 0x0a || c === 0x0d
    ) break;
  }
  return i;
}
