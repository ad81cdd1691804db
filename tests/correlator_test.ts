/**
 * Tests of request/response correlation, message classification and tape ids.
 *
 * @module
 */

import assert from "node:assert/strict";
import { correlationIdOf, Correlator } from "../src/tape/correlator.ts";
import { classifyMessage, methodOf } from "../src/tape/message_kind.ts";
import { jsonRpcIdKey } from "../src/tape/message_id.ts";
import { isSafeTapeId, newTapeId } from "../src/tape/tape_id.ts";
import type { Direction, FrameRecord, JsonValue } from "../src/tape/types.ts";

let seq = 0;
function frame(dir: Direction, env: JsonValue, ts = seq * 10, flags?: string[]): FrameRecord {
  seq++;
  const f: FrameRecord = { type: "frame", seq, ts, dir, env };
  if (flags !== undefined) f.flags = flags;
  return f;
}

const req = (id: JsonValue, method = "tools/call") => ({ jsonrpc: "2.0", id, method });
const ok = (id: JsonValue, result: JsonValue = {}) => ({ jsonrpc: "2.0", id, result });
const err = (id: JsonValue) => ({ jsonrpc: "2.0", id, error: { code: -32601, message: "nope" } });

Deno.test("classifyMessage tells the JSON-RPC kinds apart", () => {
  const cases: [JsonValue, boolean, string][] = [
    [req(1), false, "request"],
    [req(null), false, "request"],
    [{ jsonrpc: "2.0", method: "notifications/initialized" }, false, "notification"],
    [ok(1), false, "response"],
    [ok(1, null), false, "response"],
    [err(1), false, "error"],
    [{ jsonrpc: "2.0", id: 1, result: 2, error: null }, false, "response"],
    [{ jsonrpc: "2.0", id: 1 }, false, "message"],
    [{ hello: "world" }, false, "message"],
    [[req(1), req(2)], false, "message"],
    [42, false, "message"],
    [null, false, "message"],
    ["free text", true, "text"],
    [req(1), true, "text"],
    [{ method: 5, id: 1 }, false, "message"],
  ];
  for (const [env, isText, kind] of cases) {
    assert.equal(classifyMessage(env, isText), kind, JSON.stringify(env));
  }
  assert.equal(methodOf(req(1, "ping")), "ping");
  assert.equal(methodOf({ method: 3 }), undefined);
  assert.equal(methodOf("ping"), undefined);
});

Deno.test("a client request is answered by a server response", () => {
  const c = new Correlator();
  const request = frame("c2s", req(1, "tools/list"), 100);
  assert.deepEqual(c.observe(request), { correlationId: `c2s-${request.seq}` });
  assert.equal(c.pending, 1);
  const response = frame("s2c", ok(1), 103.25);
  const seen = c.observe(response);
  assert.equal(seen.correlationId, `c2s-${request.seq}`);
  assert.deepEqual(seen.record, {
    type: "correlation",
    id: `c2s-${request.seq}`,
    request_seq: request.seq,
    response_seq: response.seq,
    request_ts: 100,
    response_ts: 103.25,
    rtt_ms: 3.25,
    status: "ok",
    method: "tools/list",
  });
  assert.equal(c.pending, 0);
});

Deno.test("a server request is answered by a client response, ids are per direction", () => {
  const c = new Correlator();
  const fromClient = frame("c2s", req(1, "tools/call"));
  const fromServer = frame("s2c", req(1, "sampling/createMessage"));
  c.observe(fromClient);
  c.observe(fromServer);
  assert.equal(c.pending, 2);
  // The client answers the server's request 1 first: it must not close the client's request 1.
  const clientAnswer = c.observe(frame("c2s", ok(1)));
  assert.equal(clientAnswer.record?.request_seq, fromServer.seq);
  assert.equal(clientAnswer.record?.method, "sampling/createMessage");
  assert.equal(clientAnswer.correlationId, correlationIdOf("s2c", fromServer.seq));
  const serverAnswer = c.observe(frame("s2c", ok(1)));
  assert.equal(serverAnswer.record?.request_seq, fromClient.seq);
  assert.equal(c.pending, 0);
});

Deno.test("error responses close a request with status error", () => {
  const c = new Correlator();
  c.observe(frame("c2s", req("a")));
  const seen = c.observe(frame("s2c", err("a")));
  assert.equal(seen.record?.status, "error");
  assert.equal(c.pending, 0);
});

Deno.test("unmatched responses, notifications and odd ids are left alone", () => {
  const c = new Correlator();
  assert.deepEqual(c.observe(frame("s2c", ok(9))), {});
  assert.deepEqual(c.observe(frame("s2c", ok(1), 0)), {});
  assert.deepEqual(c.observe(frame("c2s", { jsonrpc: "2.0", method: "note" })), {});
  assert.deepEqual(c.observe(frame("c2s", req(null))), {});
  assert.deepEqual(c.observe(frame("c2s", req({ x: 1 } as never))), {});
  assert.deepEqual(c.observe(frame("c2s", [req(1)])), {});
  assert.deepEqual(c.observe(frame("c2s", "text line", 0, ["text"])), {});
  // A response in the same direction as the request does not answer it.
  c.observe(frame("c2s", req(5)));
  assert.deepEqual(c.observe(frame("c2s", ok(5))), {});
  assert.equal(c.pending, 1);
});

Deno.test("string and number ids never match each other", () => {
  const c = new Correlator();
  c.observe(frame("c2s", req(1)));
  assert.equal(c.observe(frame("s2c", ok("1"))).record, undefined);
  assert.ok(c.observe(frame("s2c", ok(1))).record);
});

Deno.test("a reused id is queued: responses answer the oldest open request first", () => {
  const c = new Correlator();
  const first = frame("c2s", req(7, "a"));
  const second = frame("c2s", req(7, "b"));
  const third = frame("c2s", req(7, "c"));
  for (const f of [first, second, third]) c.observe(f);
  assert.equal(c.observe(frame("s2c", ok(7))).record?.method, "a");
  assert.equal(c.observe(frame("s2c", ok(7))).record?.method, "b");
  const fourth = frame("c2s", req(7, "d"));
  c.observe(fourth);
  assert.equal(c.observe(frame("s2c", ok(7))).record?.method, "c");
  assert.equal(c.observe(frame("s2c", ok(7))).record?.method, "d");
  assert.equal(c.pending, 0);
});

Deno.test("timeoutPending reports every open request, oldest first, and forgets them", () => {
  const c = new Correlator();
  const a = frame("s2c", req(1, "roots/list"), 5);
  const b = frame("c2s", req(1, "tools/call"), 6);
  const d = frame("c2s", req(1, "again"), 7);
  for (const f of [a, b, d]) c.observe(f);
  const records = c.timeoutPending();
  assert.deepEqual(records.map((r) => [r.request_seq, r.status, r.response_seq, r.rtt_ms]), [
    [a.seq, "timeout", null, null],
    [b.seq, "timeout", null, null],
    [d.seq, "timeout", null, null],
  ]);
  assert.deepEqual(records[0], {
    type: "correlation",
    id: `s2c-${a.seq}`,
    request_seq: a.seq,
    response_seq: null,
    request_ts: 5,
    response_ts: null,
    rtt_ms: null,
    status: "timeout",
    method: "roots/list",
  });
  assert.equal(c.pending, 0);
  assert.deepEqual(c.timeoutPending(), []);
  assert.deepEqual(c.observe(frame("s2c", ok(1))), {});
});

Deno.test("the protocol version comes from a successful initialize response only", () => {
  const c = new Correlator();
  c.observe(frame("c2s", req(1, "initialize")));
  assert.equal(c.observe(frame("s2c", err(1))).protocolVersion, undefined);
  c.observe(frame("c2s", req(2, "tools/list")));
  const other = c.observe(frame("s2c", ok(2, { protocolVersion: "fake" })));
  assert.equal(other.protocolVersion, undefined);
  c.observe(frame("c2s", req(3, "initialize")));
  assert.equal(c.observe(frame("s2c", ok(3, {}))).protocolVersion, undefined);
  c.observe(frame("c2s", req(4, "initialize")));
  const seen = c.observe(frame("s2c", ok(4, { protocolVersion: "2025-06-18" })));
  assert.equal(seen.protocolVersion, "2025-06-18");
  assert.equal(c.protocolVersion, "2025-06-18");
  // The same version again is not news.
  c.observe(frame("c2s", req(5, "initialize")));
  assert.equal(
    c.observe(frame("s2c", ok(5, { protocolVersion: "2025-06-18" }))).protocolVersion,
    undefined,
  );
});

Deno.test("past maxPending the oldest open request is given up as timeout", () => {
  const c = new Correlator({ maxPending: 2 });
  const a = frame("c2s", req(1));
  c.observe(a);
  c.observe(frame("s2c", req(1)));
  const third = c.observe(frame("c2s", req(2)));
  assert.equal(third.evicted?.request_seq, a.seq);
  assert.equal(third.evicted?.status, "timeout");
  assert.equal(c.pending, 2);
  assert.deepEqual(c.observe(frame("s2c", ok(1))), {}, "the evicted request is gone");
  assert.throws(() => new Correlator({ maxPending: 0 }), RangeError);
});

Deno.test("very long method names are left out of correlation records", () => {
  const c = new Correlator();
  c.observe(frame("c2s", req(1, "m".repeat(1025))));
  const seen = c.observe(frame("s2c", ok(1)));
  assert.ok(seen.record !== undefined);
  assert.equal("method" in seen.record, false);
  c.observe(frame("c2s", req(2, "m".repeat(1024))));
  assert.equal(c.observe(frame("s2c", ok(2))).record?.method, "m".repeat(1024));
});

Deno.test("peek predicts observe without changing anything", () => {
  const c = new Correlator();
  const r = frame("c2s", req(1));
  assert.equal(c.peek(r), `c2s-${r.seq}`);
  assert.equal(c.pending, 0);
  c.observe(r);
  const resp = frame("s2c", ok(1));
  assert.equal(c.peek(resp), `c2s-${r.seq}`);
  assert.equal(c.pending, 1);
  assert.equal(c.observe(resp).correlationId, `c2s-${r.seq}`);
  assert.equal(c.peek(frame("s2c", ok(1))), undefined);
});

Deno.test("tape ids sort by creation time and are safe file names", () => {
  const early = newTapeId(new Date("2026-01-02T03:04:05Z"));
  const late = newTapeId(new Date("2026-11-22T03:15:00.999Z"));
  assert.match(early, /^20260102T030405Z-[0-9a-f]{8}$/);
  assert.match(late, /^20261122T031500Z-[0-9a-f]{8}$/);
  assert.ok(early < late);
  assert.notEqual(newTapeId(), newTapeId());
  assert.ok(isSafeTapeId(late));
  for (const bad of ["", ".hidden", "a/b", "..", "a b", "x".repeat(201)]) {
    assert.equal(isSafeTapeId(bad), false, bad);
  }
  assert.throws(() => newTapeId(new Date("nope")), RangeError);
});

/** A frame whose envelope is parsed from `text`, observed with that text. */
function seeText(c: Correlator, dir: Direction, text: string) {
  return c.observe(frame(dir, JSON.parse(text)), text);
}

Deno.test("ids are compared by their JSON text: big integers and 1, 1.0, 1e0 are distinct", () => {
  const c = new Correlator();
  const big0 = seeText(c, "c2s", '{"id":12345678901234567890,"method":"big0"}').correlationId;
  const big1 = seeText(c, "c2s", '{"id":12345678901234567891,"method":"big1"}').correlationId;
  assert.notEqual(big0, big1);
  const one = seeText(c, "c2s", '{"id":1,"method":"one"}').correlationId;
  const oneDot = seeText(c, "c2s", '{"id":1.0,"method":"one.0"}').correlationId;
  const oneExp = seeText(c, "c2s", '{"id":1e0,"method":"1e0"}').correlationId;
  const hundred = seeText(c, "c2s", '{"id":1E+02,"method":"1E+02"}').correlationId;
  const answer = (text: string) => seeText(c, "s2c", text).record?.method;
  // Each answered out of order: only its own id matches it.
  assert.equal(answer('{"id":12345678901234567891,"result":0}'), "big1");
  assert.equal(answer('{"id":1e0,"result":0}'), "1e0");
  assert.equal(answer('{"id":1.0,"result":0}'), "one.0");
  assert.equal(answer('{"id":1,"result":0}'), "one");
  assert.equal(answer('{"id":1e2,"result":0}'), "1E+02", "only the exponent's spelling is free");
  assert.equal(answer('{"id":12345678901234567890,"result":0}'), "big0");
  assert.equal(answer('{"id":12345678901234567890,"result":0}'), undefined);
  assert.equal(new Set([big0, big1, one, oneDot, oneExp, hundred]).size, 6);
  assert.equal(c.pending, 0);
  // Strings compare by value, and never equal a number.
  seeText(c, "c2s", '{"id":"a","method":"s"}');
  assert.equal(answer('{"id":"\\u0061","result":0}'), "s");
  seeText(c, "c2s", '{"id":"1","method":"s1"}');
  assert.equal(answer('{"id":1,"result":0}'), undefined);
});

Deno.test("jsonRpcIdKey is the one rule: text beats the parsed value, lazily", () => {
  let asked = 0;
  const lazy = (text: string) => () => (asked++, text);
  assert.equal(jsonRpcIdKey({ id: "x" }, lazy('{"id":"x"}')), "sx");
  assert.equal(asked, 0, "a string id needs no text");
  assert.equal(jsonRpcIdKey({ id: 1 }, lazy('{"id":1.0}')), "n1.0");
  assert.equal(asked, 1);
  assert.equal(jsonRpcIdKey({ id: 1 }), "n1");
  assert.equal(jsonRpcIdKey({ id: 1e21 }), "n1e21");
  assert.equal(jsonRpcIdKey({ id: 5 }, '{"id":5E-007}'), "n5e-7");
  assert.equal(jsonRpcIdKey({ id: 5 }, '{"id":5e-0}'), "n5e0");
  for (const id of [null, true, [1], { a: 1 }]) {
    assert.equal(jsonRpcIdKey({ id } as JsonValue), undefined, JSON.stringify(id));
  }
  assert.equal(jsonRpcIdKey([{ id: 1 }]), undefined);
});

Deno.test("giving up is oldest first even after a reused id was answered", () => {
  const c = new Correlator({ maxPending: 2 });
  const a = frame("c2s", req("x", "a"));
  const b = frame("c2s", req("y", "b"));
  const a2 = frame("c2s", req("x", "a again"));
  c.observe(a);
  c.observe(b);
  // Over the limit at once: a, the oldest, is given up.
  assert.equal(c.observe(a2).evicted?.request_seq, a.seq);
  c.observe(frame("s2c", ok("x"))); // answers a2
  const d = frame("c2s", req("x", "d"));
  const e = frame("s2c", req("z", "e"));
  c.observe(d);
  // b is older than d, whatever the order the ids were first seen in.
  assert.equal(c.observe(e).evicted?.request_seq, b.seq);
  assert.deepEqual(c.timeoutPending().map((r) => r.request_seq), [d.seq, e.seq]);

  // Id 1 is first in the order ids were first seen, and stays there while
  // reused; after its first request is answered, its open one is newer than q.
  const c2 = new Correlator({ maxPending: 3 });
  const p = frame("c2s", req(1, "p"));
  const q = frame("c2s", req(2, "q"));
  const p2 = frame("c2s", req(1, "p2"));
  for (const f of [p, q, p2]) c2.observe(f);
  assert.equal(c2.observe(frame("s2c", ok(1))).record?.request_seq, p.seq);
  assert.equal(c2.observe(frame("c2s", req(3, "r"))).evicted, undefined);
  assert.equal(c2.observe(frame("c2s", req(4, "s"))).evicted?.request_seq, q.seq);
  assert.equal(c2.observe(frame("c2s", req(5, "t"))).evicted?.request_seq, p2.seq);
});
