import assert from "node:assert/strict";
import { RequestTracker } from "../src/consumer/request_tracker.ts";
import { frameMatches, pastRange } from "../src/consumer/frame_filter.ts";
import { replayFrames } from "../src/replay/replay_frames.ts";
import { streamLines } from "../src/replay/stream_lines.ts";
import { formatCheck, formatVerifySummary } from "../src/replay/verify_report.ts";
import type { FrameRecord, JsonValue } from "../src/tape/types.ts";

function frame(seq: number, ts: number, dir: "c2s" | "s2c", env: JsonValue): FrameRecord {
  return { type: "frame", seq, ts, dir, env };
}

const FRAMES = [
  frame(1, 0, "c2s", { jsonrpc: "2.0", id: 1, method: "a" }),
  frame(2, 1, "s2c", { jsonrpc: "2.0", id: 1, method: "server/ask" }), // same id, other direction
  frame(3, 3, "c2s", { jsonrpc: "2.0", id: 1, result: "from client" }),
  frame(4, 6, "s2c", { jsonrpc: "2.0", id: 1, result: "from server" }),
  { ...frame(5, 7, "s2c", "a text line"), flags: ["text"] },
];

Deno.test("RequestTracker matches requests and responses by id in each direction", () => {
  const t = new RequestTracker();
  const infos = FRAMES.map((f) => t.observe(f));
  assert.deepEqual(infos.map((i) => i.method), ["a", "server/ask", "server/ask", "a", undefined]);
  assert.deepEqual(infos.map((i) => i.rttMs), [undefined, undefined, 2, 6, undefined]);
  assert.deepEqual(infos.map((i) => i.requestSeq), [undefined, undefined, 2, 1, undefined]);
  assert.equal(t.pendingCount, 0);
});

Deno.test("frameMatches applies direction, method and seq range together", () => {
  const t = new RequestTracker();
  const kept = FRAMES.filter((f) =>
    frameMatches(f, t.observe(f), { dir: "s2c", methods: ["a"], fromSeq: 2 })
  );
  assert.deepEqual(kept.map((f) => f.seq), [4]);
  assert.ok(pastRange(5, { toSeq: 5 }));
  assert.ok(!pastRange(4, { toSeq: 5 }));
  assert.ok(!pastRange(99, {}));
});

function collector() {
  const chunks: string[] = [];
  return {
    chunks,
    write(p: Uint8Array) {
      chunks.push(new TextDecoder().decode(p));
      return Promise.resolve(p.length);
    },
  };
}

Deno.test("replayFrames writes frame records or raw messages and stops after toSeq", async () => {
  const out = collector();
  let read = 0;
  const n = await replayFrames(
    (function* () {
      for (const f of FRAMES) {
        read++;
        yield f;
      }
    })(),
    out,
    { filter: { toSeq: 2 } },
  );
  assert.equal(n, 2);
  assert.equal(read, 2, "reading stops at the end of the range");
  assert.equal(
    out.chunks.join(""),
    FRAMES.slice(0, 2).map((f) => JSON.stringify(f) + "\n").join(""),
  );
  const raw = collector();
  await replayFrames(FRAMES, raw, { raw: true, filter: { fromSeq: 4 } });
  assert.equal(
    raw.chunks.join(""),
    '{"jsonrpc":"2.0","id":1,"result":"from server"}\na text line\n',
  );
});

Deno.test("replayFrames ends quietly when the reader closes the pipe", async () => {
  let calls = 0;
  const closed = {
    write(): Promise<number> {
      calls++;
      return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    },
  };
  const n = await replayFrames(FRAMES, closed, { pacing: { speed: 1000, maxGapMs: 0 } });
  assert.equal(n, 0);
  assert.equal(calls, 1);
});

Deno.test("streamLines joins split lines, handles CRLF and a last line without newline", async () => {
  const input = new Blob(["one\r\ntw", "o\n\n", "three"]).stream();
  const got: string[] = [];
  for await (const line of streamLines(input)) got.push(line);
  assert.deepEqual(got, ["one", "two", "three"]);
});

Deno.test("verify report lines name the request, the path and both values", () => {
  const check = {
    seq: 6,
    method: "tools/call",
    id: 3,
    outcome: "differ" as const,
    differences: [
      { path: "$.result.content[0].text", kind: "changed" as const, expected: "5", actual: "6" },
      { path: "$.result.extra", kind: "extra" as const, actual: { a: 1 } },
    ],
  };
  assert.deepEqual(formatCheck(check), [
    "differ  seq 6 tools/call (id 3): 2 differences",
    '  $.result.content[0].text: expected "5", actual "6"',
    '  $.result.extra: expected (missing), actual {"a":1}',
  ]);
  assert.deepEqual(formatCheck({ ...check, outcome: "match", differences: [] }), []);
  assert.equal(
    formatVerifySummary({
      checks: [],
      matched: 6,
      differed: 0,
      timedOut: 0,
      unrecorded: 1,
      sent: 8,
      serverRequestsAnswered: 1,
      ok: true,
    }),
    "verify: OK: 6 responses compared, 6 matched, 0 differed, 0 timed out, 1 not recorded",
  );
});

Deno.test("RequestTracker matches ids by their text and answers a reused id oldest first", () => {
  const t = new RequestTracker();
  const see = (seq: number, dir: "c2s" | "s2c", text: string) =>
    t.observe(frame(seq, seq, dir, JSON.parse(text)), text);
  see(1, "c2s", '{"id":12345678901234567890,"method":"big0"}');
  see(2, "c2s", '{"id":12345678901234567891,"method":"big1"}');
  see(3, "c2s", '{"id":1,"method":"one"}');
  see(4, "c2s", '{"id":1.0,"method":"one.0"}');
  see(5, "c2s", '{"id":"r","method":"r1"}');
  see(6, "c2s", '{"id":"r","method":"r2"}');
  assert.equal(t.pendingCount, 6);
  const answered = [
    '{"id":12345678901234567891,"result":0}',
    '{"id":1.0,"result":0}',
    '{"id":"r","result":0}',
    '{"id":12345678901234567890,"result":0}',
    '{"id":1,"result":0}',
    '{"id":"r","result":0}',
  ].map((text, i) => see(7 + i, "s2c", text).method);
  assert.deepEqual(answered, [
    "big1",
    "one.0",
    "r1",
    "big0",
    "one",
    "r2",
  ]);
  assert.equal(t.pendingCount, 0);
  // Given only parsed frames, ids are as JSON.stringify writes them.
  t.observe(frame(20, 20, "c2s", { id: 2, method: "two" }));
  assert.equal(t.observe(frame(21, 21, "s2c", { id: 2, result: 0 })).method, "two");
});
