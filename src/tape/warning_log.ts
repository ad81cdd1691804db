/**
 * Where a program's warnings about the tapes it reads go: the first few
 * are printed as `<program>: warning: <message>`, the rest only counted,
 * and one summary line says how many were not shown. A tape full of
 * garbage then costs a handful of lines, not one per line of garbage.
 *
 * @module
 */

import { writeTextSync } from "./write_text.ts";

/**
 * Warnings printed in full before the rest are only counted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_WARNING_LIMIT, WarningLog } from "./warning_log.ts";
 * assert.equal(new WarningLog("tail").limit, DEFAULT_WARNING_LIMIT);
 * ```
 */
export const DEFAULT_WARNING_LIMIT = 5;

/** Options of {@linkcode WarningLog}. */
export interface WarningLogOptions {
  /** Warnings printed in full; default {@linkcode DEFAULT_WARNING_LIMIT}. */
  limit?: number;
  /** Writes one line (no newline); default stderr. */
  write?: (line: string) => void;
}

/**
 * Prints the first `limit` warnings of a program, counts the rest, and
 * says how many it left out in {@linkcode WarningLog.end}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WarningLog } from "./warning_log.ts";
 * const lines: string[] = [];
 * const log = new WarningLog("replay", { limit: 2, write: (l) => lines.push(l) });
 * for (const n of [1, 2, 3, 4]) log.warn(`Line ${n} is not valid JSON`);
 * log.end();
 * assert.deepEqual(lines, [
 *   "replay: warning: Line 1 is not valid JSON",
 *   "replay: warning: Line 2 is not valid JSON",
 *   "replay: warning: 2 more warnings not shown (4 in all)",
 * ]);
 * ```
 */
export class WarningLog {
  /** Name of the program, the prefix of every line. */
  readonly program: string;
  /** Warnings printed in full. */
  readonly limit: number;
  #write: (line: string) => void;
  #count = 0;
  #ended = false;

  /** Creates the log of one program run. */
  constructor(program: string, options: WarningLogOptions = {}) {
    const limit = options.limit ?? DEFAULT_WARNING_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`Warning limit must be a whole number, got '${limit}'`);
    }
    this.program = program;
    this.limit = limit;
    this.#write = options.write ?? writeLine;
  }

  /** Warnings told so far, shown or not. */
  get count(): number {
    return this.#count;
  }

  /** Prints the warning while fewer than `limit` were printed; counts it either way. */
  warn(message: string): void {
    this.#count++;
    if (this.#count <= this.limit) this.#write(`${this.program}: warning: ${message}`);
  }

  /** Prints the summary line when warnings were left out; only the first call prints. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const hidden = this.#count - this.limit;
    if (hidden <= 0) return;
    this.#write(
      `${this.program}: warning: ${hidden} more warning${hidden === 1 ? "" : "s"} not shown` +
        ` (${this.#count} in all)`,
    );
  }
}

let current: WarningLog | undefined;

/**
 * Makes `log` the one {@linkcode reportWarning} uses (a program's runner
 * sets it for the run) and returns the one it replaces, to put back after.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportWarning, useWarningLog, WarningLog } from "./warning_log.ts";
 * const lines: string[] = [];
 * const previous = useWarningLog(new WarningLog("tail", { write: (l) => lines.push(l) }));
 * reportWarning("Gap in 'a.jsonl'");
 * useWarningLog(previous);
 * assert.deepEqual(lines, ["tail: warning: Gap in 'a.jsonl'"]);
 * ```
 */
export function useWarningLog(log: WarningLog | undefined): WarningLog | undefined {
  const previous = current;
  current = log;
  return previous;
}

/**
 * Tells a warning to the program's {@linkcode WarningLog}, or, outside a
 * program, prints `warning: <message>` on stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportWarning, useWarningLog, WarningLog } from "./warning_log.ts";
 * const lines: string[] = [];
 * const previous = useWarningLog(new WarningLog("replay", { write: (l) => lines.push(l) }));
 * reportWarning("Line 3 is not valid JSON");
 * useWarningLog(previous);
 * assert.deepEqual(lines, ["replay: warning: Line 3 is not valid JSON"]);
 * ```
 */
export function reportWarning(message: string): void {
  if (current !== undefined) current.warn(message);
  else writeLine(`warning: ${message}`);
}

function writeLine(line: string): void {
  writeTextSync(`${line}\n`);
}
