/**
 * The human format of tail: one line per record with time, direction,
 * action, method, id, round trip and size.
 *
 * @module
 */

import pc from "picocolors";
import { memberValueText } from "../json/mod.ts";
import { frameAction, type FrameRecord, rawMessage } from "../tape/mod.ts";
import type { TailEntry } from "./tail_entry.ts";

/** How times are shown: seconds since the tape started, or local wall-clock time. */
export type TimeMode = "relative" | "wall";

/** Options of {@linkcode EntryFormatter}. */
export interface EntryFormatterOptions {
  /** Use ANSI colours. */
  color: boolean;
  /** How times are shown (default relative). */
  time?: TimeMode;
  /** The tape's `created_at`, needed for wall-clock times. */
  createdAt?: string;
}

const encoder = new TextEncoder();
const METHOD_WIDTH = 22;

/**
 * Formats tail entries as readable lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EntryFormatter } from "./entry_format.ts";
 * const f = new EntryFormatter({ color: false });
 * assert.equal(
 *   f.format({
 *     record: { type: "frame", seq: 2, ts: 15.2, dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } },
 *     method: "ping",
 *     rttMs: 3.25,
 *   }),
 *   "     0.015s ← response     ping                   #1           3.3 ms     36 B",
 * );
 * ```
 */
export class EntryFormatter {
  #c: ReturnType<typeof pc.createColors>;
  #time: TimeMode;
  #created: number;

  /** Creates a formatter. */
  constructor(options: EntryFormatterOptions) {
    this.#c = pc.createColors(options.color);
    this.#time = options.time ?? "relative";
    this.#created = options.createdAt === undefined ? 0 : Date.parse(options.createdAt);
  }

  /** One line (without newline) for an entry. */
  format(entry: TailEntry): string {
    const c = this.#c;
    const r = entry.record;
    switch (r.type) {
      case "frame":
        return this.#frame(r, entry);
      case "correlation": {
        const rtt = r.rtt_ms === null ? "" : `${r.rtt_ms.toFixed(1)} ms`;
        const status = r.status === "ok"
          ? c.green(r.status)
          : r.status === "error"
          ? c.red(r.status)
          : c.yellow(r.status);
        return c.dim(
          `${this.#when(r.response_ts ?? r.request_ts)} ↔ correlation  ` +
            `${(entry.method ?? "").padEnd(METHOD_WIDTH)} seq ${r.request_seq}→${
              r.response_seq ?? "-"
            } ${rtt}`,
        ) + ` ${status}`;
      }
      case "checkpoint":
        return c.dim(
          `${" ".repeat(11)} ■ checkpoint   seq ${r.seq}, ${r.stats.frame_count} frames${
            r.final ? ", final" : ""
          } (${r.checkpoint_at})`,
        );
      case "init":
        return c.dim(`init ${r.tape_id} created ${r.created_at}`);
    }
  }

  #frame(frame: FrameRecord, entry: TailEntry): string {
    const c = this.#c;
    // The envelope as the tape holds it, so sizes and ids are the recorded ones.
    const envText = entry.line === undefined ? undefined : memberValueText(entry.line, "env");
    const text = rawMessage(frame, envText);
    const size = encoder.encode(text).length;
    const action = frameAction(frame);
    const arrow = frame.dir === "c2s" ? c.cyan("→") : c.magenta("←");
    const actionText = action.padEnd(12);
    const coloredAction = action === "error" ? c.red(actionText) : actionText;
    let what: string;
    if (action === "text" || action === "message") {
      const excerpt = text.length > 60 ? `${text.slice(0, 59)}…` : text;
      what = c.dim(excerpt.padEnd(METHOD_WIDTH + 9));
    } else {
      const env = frame.env as { id?: unknown };
      const idText = typeof env.id === "string"
        ? env.id
        : (envText === undefined ? undefined : memberValueText(envText, "id")) ??
          JSON.stringify(env.id);
      const id = env.id === undefined ? "" : `#${idText}`;
      what = `${c.bold((entry.method ?? "?").padEnd(METHOD_WIDTH))} ${c.dim(id.padEnd(8))}`;
    }
    const rtt = entry.rttMs === undefined ? "" : `${entry.rttMs.toFixed(1)} ms`;
    return `${this.#when(frame.ts)} ${arrow} ${coloredAction} ${what} ${
      c.yellow(rtt.padStart(10))
    } ${c.dim(`${String(size).padStart(6)} B`)}`;
  }

  #when(ts: number): string {
    if (this.#time === "wall" && Number.isFinite(this.#created)) {
      const d = new Date(this.#created + ts);
      const p = (n: number, w = 2) => String(n).padStart(w, "0");
      return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${
        p(d.getMilliseconds(), 3)
      }`;
    }
    return `${(ts / 1000).toFixed(3)}s`.padStart(11);
  }
}
