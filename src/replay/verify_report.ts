/**
 * The readable text of a verify run: one block per request that did not
 * match, and a summary line.
 *
 * @module
 */

import type { JsonValue } from "../tape/mod.ts";
import type { JsonDifference } from "./json_diff.ts";
import type { RequestCheck, VerifyReport } from "./verifier.ts";

const MAX_VALUE_CHARS = 200;

/**
 * Lines describing one checked request; none for a match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCheck } from "./verify_report.ts";
 * const lines = formatCheck({
 *   seq: 7, method: "tools/call", id: 3, outcome: "differ",
 *   differences: [{ path: "$.result.content[0].text", kind: "changed", expected: "5", actual: "6" }],
 * });
 * assert.deepEqual(lines, [
 *   "differ  seq 7 tools/call (id 3): 1 difference",
 *   '  $.result.content[0].text: expected "5", actual "6"',
 * ]);
 * ```
 */
export function formatCheck(check: RequestCheck, timeoutMs?: number): string[] {
  const head = `seq ${check.seq} ${check.method} (id ${check.idText ?? JSON.stringify(check.id)})`;
  switch (check.outcome) {
    case "match":
      return [];
    case "unrecorded":
      return [`skip    ${head}: the tape has no response to compare with`];
    case "timeout":
      return [
        `timeout ${head}: no response${timeoutMs === undefined ? "" : ` within ${timeoutMs} ms`}`,
      ];
    case "differ": {
      const n = check.differences.length;
      return [
        `differ  ${head}: ${n} difference${n === 1 ? "" : "s"}`,
        ...check.differences.map((d) => `  ${formatDifference(d)}`),
      ];
    }
  }
}

/**
 * One difference as `path: expected X, actual Y`, values in JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDifference } from "./verify_report.ts";
 * assert.equal(
 *   formatDifference({ path: "$.result.x", kind: "missing", expected: 1 }),
 *   "$.result.x: expected 1, actual (missing)",
 * );
 * ```
 */
export function formatDifference(d: JsonDifference): string {
  return `${d.path}: expected ${show(d.expected)}, actual ${show(d.actual)}`;
}

/**
 * The last line of a verify run: `OK`, `FAILED`, or `INTERRUPTED` when it
 * was stopped early. A run that compared no response at all says so
 * instead of counting zeros.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatVerifySummary } from "./verify_report.ts";
 * const counts = { checks: [], differed: 0, timedOut: 0, serverRequestsAnswered: 0 };
 * assert.equal(
 *   formatVerifySummary({ ...counts, matched: 5, differed: 1, unrecorded: 0, sent: 7, ok: false }),
 *   "verify: FAILED: 6 responses compared, 5 matched, 1 differed, 0 timed out",
 * );
 * assert.equal(
 *   formatVerifySummary({ ...counts, matched: 0, unrecorded: 1, sent: 3, ok: false }),
 *   "verify: FAILED: nothing was compared: the tape has no request with a recorded response" +
 *     " (3 messages sent, 1 request not recorded)",
 * );
 * ```
 */
export function formatVerifySummary(report: VerifyReport): string {
  const compared = report.matched + report.differed + report.timedOut;
  const skipped = report.unrecorded > 0 ? `, ${report.unrecorded} not recorded` : "";
  if (compared === 0 && !report.interrupted) {
    const sent = `${report.sent} message${report.sent === 1 ? "" : "s"} sent`;
    const unrecorded = report.unrecorded === 0
      ? ""
      : `, ${report.unrecorded} request${report.unrecorded === 1 ? "" : "s"} not recorded`;
    return "verify: FAILED: nothing was compared: the tape has no request with a recorded" +
      ` response (${sent}${unrecorded})`;
  }
  const verdict = report.interrupted ? "INTERRUPTED" : report.ok ? "OK" : "FAILED";
  return `verify: ${verdict}: ${compared} responses compared, ` +
    `${report.matched} matched, ${report.differed} differed, ${report.timedOut} timed out${skipped}`;
}

function show(value: JsonValue | undefined): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}
