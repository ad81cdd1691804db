/**
 * Whether output gets colour: only on a terminal, never under `NO_COLOR`.
 *
 * @module
 */

/**
 * True when stdout is a terminal and `NO_COLOR` is unset or empty
 * (https://no-color.org).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wantsColor } from "./color_choice.ts";
 * assert.equal(wantsColor({ isTerminal: true, noColor: "1" }), false);
 * ```
 */
export function wantsColor(
  env: { isTerminal?: boolean; noColor?: string | undefined } = {},
): boolean {
  const isTerminal = env.isTerminal ?? Deno.stdout.isTerminal();
  let noColor = env.noColor;
  if (!("noColor" in env)) {
    try {
      noColor = Deno.env.get("NO_COLOR");
    } catch {
      noColor = undefined;
    }
  }
  return isTerminal && (noColor === undefined || noColor === "");
}
