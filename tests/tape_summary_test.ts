import assert from "node:assert/strict";
import { RingBuffer } from "../src/tail/ring_buffer.ts";
import { percentile } from "../src/tail/percentile.ts";
import { TapeSummarizer } from "../src/tail/tape_summary.ts";
import { TailSelector } from "../src/tail/tail_selector.ts";
import { EntryFormatter } from "../src/tail/entry_format.ts";
import { wantsColor } from "../src/tail/color_choice.ts";
import type { CorrelationRecord, FrameRecord, JsonValue } from "../src/tape/types.ts";

function frame(seq: number, ts: number, dir: "c2s" | "s2c", env: JsonValue): FrameRecord {
  return { type: "frame", seq, ts, dir, env };
}

function correlation(
  request_seq: number,
  response_seq: number | null,
  rtt: number | null,
  method: string,
  status: CorrelationRecord["status"] = "ok",
): CorrelationRecord {
  return {
    type: "correlation",
    id: `c${request_seq}`,
    request_seq,
    response_seq,
    request_ts: 0,
    response_ts: rtt,
    rtt_ms: rtt,
    status,
    method,
  };
}

Deno.test("RingBuffer keeps the last N items in order", () => {
  const ring = new RingBuffer<number>(3);
  for (let i = 1; i <= 7; i++) ring.push(i);
  assert.deepEqual(ring.toArray(), [5, 6, 7]);
  assert.equal(ring.size, 3);
  const none = new RingBuffer<number>(0);
  none.push(1);
  assert.deepEqual(none.toArray(), []);
  assert.throws(() => new RingBuffer(-1), RangeError);
});

Deno.test("percentile uses the nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile([...values], 50), 50);
  assert.equal(percentile([...values], 99), 99);
  assert.equal(percentile([...values], 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), undefined);
});

Deno.test("TapeSummarizer counts frames, methods, errors, timeouts and round trips", () => {
  const s = new TapeSummarizer();
  const records = [
    frame(1, 10, "c2s", { jsonrpc: "2.0", id: 1, method: "a" }),
    frame(2, 12, "s2c", { jsonrpc: "2.0", id: 1, result: 1 }),
    correlation(1, 2, 2, "a"),
    frame(3, 20, "c2s", { jsonrpc: "2.0", id: 2, method: "a" }),
    frame(4, 30, "s2c", { jsonrpc: "2.0", id: 2, error: { code: 1, message: "x" } }),
    correlation(3, 4, 10, "a", "error"),
    frame(5, 40, "c2s", { jsonrpc: "2.0", method: "n" }),
    frame(6, 50, "c2s", { jsonrpc: "2.0", id: 3, method: "b" }),
    correlation(6, null, null, "b", "timeout"),
    { type: "checkpoint" as const, checkpoint_at: "", seq: 6, stats: {} as never, final: true },
  ];
  for (const r of records) s.add(r);
  // One round trip per answered request: the correlation records', not the frames' as well.
  assert.equal(s.rttSamples, 2);
  const sum = s.summary();
  assert.equal(sum.frames, 6);
  assert.deepEqual(sum.byDirection, { c2s: 4, s2c: 2 });
  assert.equal(sum.byAction.request, 3);
  assert.equal(sum.byAction.error, 1);
  assert.equal(sum.byAction.notification, 1);
  assert.equal(sum.errors, 1);
  assert.equal(sum.timeouts, 1);
  assert.equal(sum.durationMs, 40);
  assert.equal(sum.finalized, true);
  assert.deepEqual(sum.methods[0], {
    method: "a",
    count: 2,
    errors: 1,
    rttCount: 2,
    rttP50Ms: 2,
    rttP99Ms: 10,
  });
  assert.deepEqual(sum.methods.map((m) => m.method), ["a", "b", "n"]);
  const bytes = records.filter((r) => r.type === "frame")
    .reduce((n, r) => n + JSON.stringify((r as FrameRecord).env).length, 0);
  assert.equal(sum.messageBytes, bytes);
});

Deno.test("TapeSummarizer without correlation records matches responses by id", () => {
  const s = new TapeSummarizer({ methods: ["a"] });
  s.add(frame(1, 0, "c2s", { jsonrpc: "2.0", id: 1, method: "a" }));
  s.add(frame(2, 0, "c2s", { jsonrpc: "2.0", id: 2, method: "z" }));
  s.add(frame(3, 7, "s2c", { jsonrpc: "2.0", id: 1, result: null }));
  s.add(frame(4, 9, "c2s", { jsonrpc: "2.0", id: 3, method: "a" }));
  assert.equal(s.rttSamples, 1);
  const sum = s.summary();
  assert.equal(sum.frames, 3);
  assert.equal(sum.methods[0]!.rttP50Ms, 7);
  assert.equal(sum.timeouts, 2); // still unanswered (z is filtered out but still pending)
});

Deno.test("TailSelector filters frames and fills in RTT from later correlation records", () => {
  const sel = new TailSelector({ filter: { dir: "s2c" } });
  assert.equal(sel.select(frame(1, 0, "c2s", { jsonrpc: "2.0", id: 1, method: "a" })), undefined);
  const response = sel.select(frame(2, 5, "s2c", { jsonrpc: "2.0", id: 1, result: 1 }));
  assert.equal(response?.method, "a");
  assert.equal(response?.rttMs, 5);
  assert.equal(sel.select(correlation(1, 2, 4.25, "a")), undefined);
  assert.equal(response?.rttMs, 4.25);
  const all = new TailSelector({ all: true });
  assert.equal(all.select(correlation(1, 2, 4, "a"))?.method, "a");
});

Deno.test("EntryFormatter shows time, direction, action, method, id, RTT and size", () => {
  const f = new EntryFormatter({ color: false });
  const env = { jsonrpc: "2.0", id: 3, result: { ok: true } };
  const line = f.format({ record: frame(9, 1234.6, "s2c", env), method: "tools/call", rttMs: 3 });
  assert.match(line, /^ +1\.235s ← response +tools\/call +#3 +3\.0 ms +(\d+) B$/);
  assert.equal(Number(/(\d+) B$/.exec(line)![1]), JSON.stringify(env).length);
  assert.ok(!line.includes("\x1b["));
  const colored = new EntryFormatter({ color: true }).format({ record: frame(1, 0, "c2s", env) });
  assert.ok(colored.includes("\x1b["));
  const text = f.format({ record: { ...frame(1, 0, "c2s", "plain line"), flags: ["text"] } });
  assert.match(text, /→ text +plain line/);
  const wall = new EntryFormatter({
    color: false,
    time: "wall",
    createdAt: "2026-11-22T03:00:00Z",
  });
  assert.match(wall.format({ record: frame(1, 1500, "c2s", env) }), /^\d\d:\d\d:01\.500 /);
});

Deno.test("wantsColor needs a terminal and no NO_COLOR", () => {
  assert.equal(wantsColor({ isTerminal: true, noColor: undefined }), true);
  assert.equal(wantsColor({ isTerminal: true, noColor: "" }), true);
  assert.equal(wantsColor({ isTerminal: true, noColor: "1" }), false);
  assert.equal(wantsColor({ isTerminal: false, noColor: undefined }), false);
});

Deno.test("TapeSummarizer keeps one round trip per request on a long tape", () => {
  const s = new TapeSummarizer();
  for (let i = 0; i < 1000; i++) {
    s.add(frame(2 * i + 1, 10 * i, "c2s", { jsonrpc: "2.0", id: i, method: "m" }));
    s.add(frame(2 * i + 2, 10 * i + 3, "s2c", { jsonrpc: "2.0", id: i, result: null }));
    s.add(correlation(2 * i + 1, 2 * i + 2, 3 + (i % 2), "m"));
  }
  assert.equal(s.rttSamples, 1000);
  const m = s.summary().methods[0]!;
  assert.equal(m.rttCount, 1000);
  assert.equal(m.rttP99Ms, 4); // from the correlation records, not the frames (always 3)
});
