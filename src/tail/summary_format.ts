/**
 * The human text of `tail --stats`.
 *
 * @module
 */

import pc from "picocolors";
import type { TapeSummary } from "./tape_summary.ts";

/** Options of {@linkcode formatSummary}. */
export interface FormatSummaryOptions {
  /** Use ANSI colours. */
  color: boolean;
  /** Heading: the tape id or path. */
  title?: string;
  /** Size of the tape file in bytes, when known. */
  tapeBytes?: number;
}

/**
 * Lays a summary out as aligned lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeSummarizer } from "./tape_summary.ts";
 * import { formatSummary } from "./summary_format.ts";
 * const s = new TapeSummarizer();
 * s.add({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * const lines = formatSummary(s.summary(), { color: false });
 * assert.equal(lines[0], "frames     1 (c2s 1), seq 1–1");
 * assert.equal(lines.at(-1), "ping         1       0         -         -");
 * ```
 */
export function formatSummary(s: TapeSummary, options: FormatSummaryOptions): string[] {
  const c = pc.createColors(options.color);
  const counts = (entries: [string, number][]) =>
    entries.filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const lines: string[] = [];
  if (options.title !== undefined) lines.push(c.bold(`tape ${options.title}`));
  const row = (label: string, value: string) => lines.push(`${label.padEnd(10)} ${value}`);
  row(
    "frames",
    `${s.frames} (${counts(Object.entries(s.byDirection))})` +
      (s.firstSeq === null ? "" : `, seq ${s.firstSeq}–${s.lastSeq}`),
  );
  row("actions", counts(Object.entries(s.byAction)));
  row("duration", `${(s.durationMs / 1000).toFixed(3)} s`);
  row(
    "bytes",
    `${s.messageBytes} in messages` +
      (options.tapeBytes === undefined ? "" : `, ${options.tapeBytes} tape file`),
  );
  row("errors", s.errors > 0 ? c.red(String(s.errors)) : "0");
  row("timeouts", s.timeouts > 0 ? c.yellow(String(s.timeouts)) : "0");
  row("status", s.finalized ? "finalized" : "not finalized");
  if (s.methods.length > 0) {
    const width = Math.max(6, ...s.methods.map((m) => m.method.length));
    const ms = (v: number | null) => (v === null ? "-" : v.toFixed(1)).padStart(8);
    lines.push(
      c.bold(
        `${"method".padEnd(width)}  ${"count".padStart(6)}  ${"errors".padStart(6)}  ` +
          `${"p50 ms".padStart(8)}  ${"p99 ms".padStart(8)}`,
      ),
    );
    for (const m of s.methods) {
      lines.push(
        `${m.method.padEnd(width)}  ${String(m.count).padStart(6)}  ${
          String(m.errors).padStart(6)
        }  ${ms(m.rttP50Ms)}  ${ms(m.rttP99Ms)}`,
      );
    }
  }
  return lines;
}
