/**
 * Decides which records tail shows and enriches frames with their method
 * and round trip as the records stream by in tape order.
 *
 * @module
 */

import { memberValueText } from "../json/mod.ts";
import { type FrameFilter, frameMatches, RequestTracker } from "../consumer/mod.ts";
import type { TapeRecord } from "../tape/mod.ts";
import type { TailEntry } from "./tail_entry.ts";

/** Options of {@linkcode TailSelector}. */
export interface TailSelectorOptions {
  /** Which frames to show; absent: all of them. */
  filter?: FrameFilter;
  /** Also show correlation and checkpoint records (default: frames only). */
  all?: boolean;
}

/**
 * Sees every record of a tape in order and returns the entry to show, or
 * `undefined` for a record that is filtered out. Correlation records that
 * arrive after their response update that response's round trip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TailSelector } from "./tail_selector.ts";
 * const s = new TailSelector({ filter: { dir: "s2c" } });
 * s.select({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * const e = s.select({ type: "frame", seq: 2, ts: 2, dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * assert.equal(e?.method, "ping");
 * assert.equal(e?.rttMs, 2);
 * ```
 */
export class TailSelector {
  #tracker = new RequestTracker();
  #filter: FrameFilter;
  #all: boolean;
  // Shown responses by seq, so a later correlation record can fill in the RTT.
  #responses = new Map<number, TailEntry>();
  #maxRemembered: number;

  /** Creates a selector; `remember` bounds how many responses await a correlation record. */
  constructor(options: TailSelectorOptions = {}, remember = 1024) {
    this.#filter = options.filter ?? {};
    this.#all = options.all ?? false;
    this.#maxRemembered = remember;
  }

  /**
   * Returns the entry to show for a record, or undefined. `line` is the
   * record's line as the tape holds it: the entry keeps it, and number ids
   * are matched as it spells them.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TailSelector } from "./tail_selector.ts";
   * const s = new TailSelector();
   * const line = '{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":{"n":1.0}}';
   * assert.equal(s.select(JSON.parse(line), line)?.line, line);
   * ```
   */
  select(record: TapeRecord, line?: string): TailEntry | undefined {
    switch (record.type) {
      case "frame": {
        const envText = line === undefined ? undefined : () => memberValueText(line, "env");
        const info = this.#tracker.observe(record, envText);
        if (!frameMatches(record, info, this.#filter)) return undefined;
        const entry: TailEntry = line === undefined ? { record } : { record, line };
        if (info.method !== undefined) entry.method = info.method;
        if (info.rttMs !== undefined) entry.rttMs = info.rttMs;
        if (info.requestSeq !== undefined) {
          this.#responses.set(record.seq, entry);
          if (this.#responses.size > this.#maxRemembered) {
            this.#responses.delete(this.#responses.keys().next().value!);
          }
        }
        return entry;
      }
      case "correlation": {
        if (record.response_seq !== null && record.rtt_ms !== null) {
          const response = this.#responses.get(record.response_seq);
          if (response) {
            response.rttMs = record.rtt_ms;
            this.#responses.delete(record.response_seq);
          }
        }
        if (!this.#all) return undefined;
        const methods = this.#filter.methods ?? [];
        if (methods.length > 0 && !methods.includes(record.method ?? "")) return undefined;
        const entry: TailEntry = line === undefined ? { record } : { record, line };
        if (record.method !== undefined) entry.method = record.method;
        return entry;
      }
      case "checkpoint":
        if (!this.#all) return undefined;
        return line === undefined ? { record } : { record, line };
      case "init":
        return undefined;
    }
  }
}
