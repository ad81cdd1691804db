/**
 * Decimal text to scaled integers, exactly: `"6443.25"` at 2 decimals is
 * 644325, computed from the digits, never through a float, so a price in a
 * vendor file becomes the same integer on every machine.
 *
 * Accepted: an optional sign, digits with an optional point (`12`, `12.5`,
 * `.5`, `12.`), and an optional exponent (`1e-7`, `2.5E+3`), which is how
 * JavaScript prints very small and very large numbers.
 *
 * @module
 */

const ZERO = 48;
const POINT = 46;
const MINUS = 45;
const PLUS = 43;

/** The parts of a decimal: its digits with no point, and where the point goes. */
interface Digits {
  negative: boolean;
  /** Offset of the first digit in the text. */
  start: number;
  /** Offset after the last mantissa character. */
  end: number;
  /** Offset of the point in the text, or -1. */
  point: number;
  /** The exponent, 0 where there is none. */
  exponent: number;
  /** Decimals the value needs: its last non-zero digit's place after the point. */
  decimals: number;
}

// One reused result: parsing allocates nothing.
const parsed: Digits = {
  negative: false,
  start: 0,
  end: 0,
  point: -1,
  exponent: 0,
  decimals: 0,
};

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

/** Splits `text` into {@linkcode parsed}, or throws SyntaxError. */
function parse(text: string): Digits {
  let i = 0;
  const n = text.length;
  const c0 = text.charCodeAt(0);
  parsed.negative = c0 === MINUS;
  if (c0 === MINUS || c0 === PLUS) i++;
  parsed.start = i;
  parsed.point = -1;
  let digits = 0;
  let lastNonZero = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      if (c !== ZERO) lastNonZero = i;
    } else if (c === POINT && parsed.point < 0) {
      parsed.point = i;
    } else {
      break;
    }
  }
  parsed.end = i;
  let exponent = 0;
  if (i < n && (text.charCodeAt(i) | 0x20) === 0x65) {
    const exp = text.slice(i + 1);
    if (!/^[+-]?\d{1,4}$/.test(exp)) throw notDecimal(text);
    exponent = Number(exp);
    i = n;
  }
  if (digits === 0 || i !== n) throw notDecimal(text);
  parsed.exponent = exponent;
  // The place of the last non-zero digit after the point (negative for a
  // zero before it), moved by the exponent; zeros after it need no decimals.
  const pointAt = parsed.point >= 0 ? parsed.point : parsed.end;
  const place = lastNonZero < 0
    ? 0
    : lastNonZero > pointAt
    ? lastNonZero - pointAt
    : lastNonZero - pointAt + 1;
  parsed.decimals = Math.max(0, place - exponent);
  return parsed;
}

function notDecimal(text: string): SyntaxError {
  return new SyntaxError(`'${text}' is not a decimal number`);
}

/**
 * How many decimals `text` needs to be held exactly: the digits after its
 * point, trailing zeros not counted, with the exponent applied.
 *
 * @throws {SyntaxError} when `text` is not a decimal number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decimalsOf } from "./decimal_scale.ts";
 * assert.equal(decimalsOf("6443.25"), 2);
 * assert.equal(decimalsOf("0.010"), 2);
 * assert.equal(decimalsOf("1e-7"), 7);
 * assert.equal(decimalsOf("1.5e3"), 0);
 * assert.equal(decimalsOf("100"), 0);
 * ```
 */
export function decimalsOf(text: string): number {
  return parse(text).decimals;
}

/**
 * The exact value of `text` times 10^`decimals`, as a safe integer.
 *
 * @throws {SyntaxError} when `text` is not a decimal number.
 * @throws {RangeError} when `text` has more decimals than `decimals`
 *   (it cannot be held exactly), or the result is past ±(2^53-1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaleDecimal } from "./decimal_scale.ts";
 * assert.equal(scaleDecimal("6443.25", 2), 644325);
 * assert.equal(scaleDecimal("6443.25", 4), 64432500);
 * assert.equal(scaleDecimal("0.1", 1), 1); // not 1.0000000000000002
 * assert.equal(scaleDecimal("1e-7", 8), 10);
 * assert.equal(scaleDecimal("-2.50", 1), -25);
 * assert.throws(() => scaleDecimal("0.125", 2), RangeError);
 * assert.throws(() => scaleDecimal("1,5", 2), SyntaxError);
 * ```
 */
export function scaleDecimal(text: string, decimals: number): number {
  const d = parse(text);
  if (d.decimals > decimals) {
    throw new RangeError(`'${text}' has ${d.decimals} decimals, more than ${decimals}`);
  }
  // Digits after the point in the text, less the exponent: how far the
  // mantissa's digits already reach; the rest of `decimals` is zeros.
  const written = d.point < 0 ? 0 : d.end - d.point - 1;
  let shift = decimals - (written - d.exponent);
  // A negative shift drops digits, which are zeros: the check above says so.
  let stop = d.end;
  for (; shift < 0; shift++) {
    stop--;
    if (stop === d.point) stop--;
  }
  let value = 0;
  for (let i = d.start; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c === POINT) continue;
    value = value * 10 + (c - ZERO);
    if (value > Number.MAX_SAFE_INTEGER) throw tooLarge(text, decimals);
  }
  for (; shift > 0; shift--) {
    value *= 10;
    if (value > Number.MAX_SAFE_INTEGER) throw tooLarge(text, decimals);
  }
  return d.negative && value !== 0 ? -value : value;
}

function tooLarge(text: string, decimals: number): RangeError {
  return new RangeError(`'${text}' at ${decimals} decimals is past 2^53-1`);
}
