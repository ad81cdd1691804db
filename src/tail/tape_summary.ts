/**
 * The `tail --stats` summary of a tape, computed in one streaming pass.
 *
 * @module
 */

import { type FrameFilter, frameMatches, RequestTracker } from "../consumer/mod.ts";
import { memberValueText } from "../json/mod.ts";
import {
  type Direction,
  type FrameAction,
  frameAction,
  rawMessage,
  type TapeRecord,
} from "../tape/mod.ts";
import { percentile } from "./percentile.ts";

/** Per-method figures. */
export interface MethodSummary {
  /** The method's name. */
  method: string;
  /** Requests and notifications with this method. */
  count: number;
  /** Error responses to requests of this method. */
  errors: number;
  /** Round trips measured. */
  rttCount: number;
  /** Median round trip in ms, when any was measured. */
  rttP50Ms: number | null;
  /** 99th percentile round trip in ms, when any was measured. */
  rttP99Ms: number | null;
}

/** What `tail --stats` reports. */
export interface TapeSummary {
  /** Frames counted. */
  frames: number;
  /** Frames counted per direction. */
  byDirection: Record<Direction, number>;
  /** Frames counted per kind of message. */
  byAction: Record<FrameAction, number>;
  /** Methods, most frequent first. */
  methods: MethodSummary[];
  /** Error responses. */
  errors: number;
  /** Requests recorded as timed out (or, without correlation records, never answered). */
  timeouts: number;
  /** Milliseconds from the first to the last frame counted. */
  durationMs: number;
  /** Bytes of the counted messages as they crossed the wire (without newlines). */
  messageBytes: number;
  /** Seq of the first frame counted, if any. */
  firstSeq: number | null;
  /** Seq of the last frame counted, if any. */
  lastSeq: number | null;
  /** True when the final checkpoint was seen. */
  finalized: boolean;
}

interface MethodAcc {
  count: number;
  errors: number;
  /** Round trips from the one source in use, see `TapeSummarizer.#fromCorrelations`. */
  rtts: number[];
}

const encoder = new TextEncoder();

/**
 * Accumulates a {@linkcode TapeSummary}; feed every record in tape order.
 * Round trips come from the correlation records when the tape has them, and
 * otherwise from matching responses to requests by id. Only one of the two
 * is kept: memory grows with the number of round trips (8 bytes each), see
 * {@linkcode TapeSummarizer.rttSamples}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeSummarizer } from "./tape_summary.ts";
 * const s = new TapeSummarizer();
 * s.add({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * s.add({ type: "frame", seq: 2, ts: 4, dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * assert.deepEqual(s.summary().methods, [
 *   { method: "ping", count: 1, errors: 0, rttCount: 1, rttP50Ms: 4, rttP99Ms: 4 },
 * ]);
 * ```
 */
export class TapeSummarizer {
  #filter: FrameFilter;
  #tracker = new RequestTracker();
  #methods = new Map<string, MethodAcc>();
  // Correlation records come after their responses, so round trips measured
  // from frames are kept until the first one shows up, then dropped for good.
  #fromCorrelations = false;
  #rttSamples = 0;
  #timeoutsFromCorrelation = 0;
  #firstTs: number | undefined;
  #lastTs = 0;
  #s: TapeSummary = {
    frames: 0,
    byDirection: { c2s: 0, s2c: 0 },
    byAction: { request: 0, notification: 0, response: 0, error: 0, message: 0, text: 0 },
    methods: [],
    errors: 0,
    timeouts: 0,
    durationMs: 0,
    messageBytes: 0,
    firstSeq: null,
    lastSeq: null,
    finalized: false,
  };

  /** Creates a summarizer counting only the frames that pass `filter`. */
  constructor(filter: FrameFilter = {}) {
    this.#filter = filter;
  }

  /**
   * Feeds the next record; with its `line` as the tape holds it, number ids
   * are matched as the line spells them.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeSummarizer } from "./tape_summary.ts";
   * const s = new TapeSummarizer();
   * for (const [seq, line] of [
   *   '{"jsonrpc":"2.0","id":12345678901234567890,"method":"a"}',
   *   '{"jsonrpc":"2.0","id":12345678901234567891,"result":0}',
   * ].entries()) {
   *   const frame = `{"type":"frame","seq":${seq + 1},"ts":${seq},"dir":"${seq ? "s2c" : "c2s"}","env":${line}}`;
   *   s.add(JSON.parse(frame), frame);
   * }
   * // The response answers another id: request "a" is still open.
   * assert.equal(s.summary().methods[0]?.rttCount, 0);
   * assert.equal(s.summary().timeouts, 1);
   * ```
   */
  add(record: TapeRecord, line?: string): void {
    if (record.type === "checkpoint") {
      if (record.final) this.#s.finalized = true;
      return;
    }
    if (record.type === "correlation") {
      const method = record.method;
      if (method === undefined || !this.#methodWanted(method)) return;
      if (!this.#fromCorrelations) {
        this.#fromCorrelations = true;
        for (const acc of this.#methods.values()) acc.rtts = [];
        this.#rttSamples = 0;
      }
      if (record.status === "timeout") this.#timeoutsFromCorrelation++;
      if (record.rtt_ms !== null) this.#keepRtt(method, record.rtt_ms);
      return;
    }
    if (record.type !== "frame") return;
    const envText = line === undefined ? undefined : memberValueText(line, "env");
    const info = this.#tracker.observe(record, envText);
    if (!frameMatches(record, info, this.#filter)) return;
    const s = this.#s;
    const action = frameAction(record);
    s.frames++;
    s.byDirection[record.dir]++;
    s.byAction[action]++;
    s.messageBytes += encoder.encode(rawMessage(record, envText)).length;
    s.firstSeq ??= record.seq;
    s.lastSeq = record.seq;
    this.#firstTs ??= record.ts;
    this.#lastTs = record.ts;
    if (action === "error") s.errors++;
    if (info.method === undefined) return;
    const acc = this.#acc(info.method);
    if (action === "request" || action === "notification") acc.count++;
    if (action === "error") acc.errors++;
    if (info.rttMs !== undefined && !this.#fromCorrelations) this.#keepRtt(info.method, info.rttMs);
  }

  /** Round trips held for the percentiles: one per measured request, never two. */
  get rttSamples(): number {
    return this.#rttSamples;
  }

  /** The summary of everything fed so far. */
  summary(): TapeSummary {
    const useCorrelations = this.#fromCorrelations;
    const methods: MethodSummary[] = [...this.#methods].map(([method, acc]) => {
      const rtts = acc.rtts;
      return {
        method,
        count: acc.count,
        errors: acc.errors,
        rttCount: rtts.length,
        rttP50Ms: percentile(rtts, 50) ?? null,
        rttP99Ms: percentile(rtts, 99) ?? null,
      };
    });
    methods.sort((a, b) => b.count - a.count || a.method.localeCompare(b.method));
    return {
      ...this.#s,
      byDirection: { ...this.#s.byDirection },
      byAction: { ...this.#s.byAction },
      methods,
      timeouts: useCorrelations ? this.#timeoutsFromCorrelation : this.#tracker.pendingCount,
      durationMs: this.#firstTs === undefined ? 0 : this.#lastTs - this.#firstTs,
    };
  }

  #methodWanted(method: string): boolean {
    const methods = this.#filter.methods ?? [];
    return methods.length === 0 || methods.includes(method);
  }

  #acc(method: string): MethodAcc {
    let acc = this.#methods.get(method);
    if (!acc) this.#methods.set(method, acc = { count: 0, errors: 0, rtts: [] });
    return acc;
  }

  #keepRtt(method: string, ms: number): void {
    this.#acc(method).rtts.push(ms);
    this.#rttSamples++;
  }
}
