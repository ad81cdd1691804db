import assert from "node:assert/strict";
import { buildRecordedSession, messageText } from "../src/replay/recorded_session.ts";
import { RecordedAnswers } from "../src/replay/recorded_answers.ts";
import {
  SERVE_INVALID_REQUEST,
  SERVE_NO_MATCH,
  SERVE_PARSE_ERROR,
  SERVE_UNKNOWN_METHOD,
  serveSession,
} from "../src/replay/mock_server.ts";
import type { Direction, FrameRecord, JsonValue } from "../src/tape/types.ts";

function frames(...items: [Direction, JsonValue][]): FrameRecord[] {
  return items.map(([dir, env], i) => ({ type: "frame", seq: i + 1, ts: i, dir, env }));
}

const RECORDING = frames(
  ["c2s", { jsonrpc: "2.0", id: 1, method: "add", params: { a: 1 } }],
  ["s2c", { jsonrpc: "2.0", id: 1, result: "first" }],
  ["c2s", { jsonrpc: "2.0", method: "note" }],
  ["c2s", { jsonrpc: "2.0", id: 2, method: "add", params: { a: 1 } }],
  ["s2c", { jsonrpc: "2.0", id: 2, result: "second" }],
  ["c2s", { jsonrpc: "2.0", id: 3, method: "ask", params: {} }],
  ["s2c", { jsonrpc: "2.0", method: "progress", params: { p: 1 } }],
  ["s2c", { jsonrpc: "2.0", id: "s1", method: "sample", params: { q: "?" } }],
  ["c2s", { jsonrpc: "2.0", id: "s1", result: "42" }],
  ["s2c", { jsonrpc: "2.0", id: 3, result: "asked" }],
  ["s2c", { jsonrpc: "2.0", method: "changed" }],
  ["c2s", { jsonrpc: "2.0", id: 4, method: "add", params: { a: 9 } }],
);

Deno.test("buildRecordedSession ties server messages to the request they belong to", async () => {
  const s = await buildRecordedSession(RECORDING);
  assert.deepEqual(s.exchanges.map((e) => [e.seq, e.method]), [
    [1, "add"],
    [4, "add"],
    [6, "ask"],
    [12, "add"],
  ]);
  const ask = s.exchanges[2]!;
  assert.deepEqual(ask.before.map((m) => m.method), ["progress", "sample"]);
  assert.deepEqual(ask.after.map((m) => m.method), ["changed"]);
  assert.equal(ask.response?.result, "asked");
  assert.equal(s.exchanges[3]!.response, undefined);
  // The client's reply is kept apart from what it sent on its own.
  assert.deepEqual(s.clientMessages.map((m) => m.seq), [1, 3, 4, 6, 12]);
  const reply = s.clientReplies.find("sample", { q: "?" });
  assert.ok(typeof reply !== "string");
  assert.equal(reply.answer.result, "42");
});

Deno.test("RecordedAnswers uses recordings in order, repeats the last, and can match loosely", () => {
  const book = new RecordedAnswers<number>();
  book.add("m", { x: 1, y: [1] }, 1);
  book.add("m", { y: [1], x: 1 }, 2);
  book.add("m", { x: 2 }, 3);
  const take = (params: JsonValue, loose = false) => {
    const r = book.find("m", params, { loose });
    return typeof r === "string" ? r : `${r.kind}:${r.answer}`;
  };
  assert.deepEqual([take({ x: 1, y: [1] }), take({ x: 1, y: [1] }), take({ x: 1, y: [1] })], [
    "exact:1",
    "exact:2",
    "exact:2",
  ]);
  assert.equal(take({ x: 3 }), "no-params-match");
  assert.equal(take({ x: 3 }, true), "method:1");
  assert.equal(book.find("other", {}), "unknown-method");
  assert.equal(book.size, 3);
});

async function serve(input: string[], loose = false): Promise<JsonValue[]> {
  const session = await buildRecordedSession(RECORDING);
  const chunks: Uint8Array[] = [];
  const out = {
    write(p: Uint8Array) {
      chunks.push(p.slice());
      return Promise.resolve(p.length);
    },
  };
  // Lines arrive one by one, as from a client waiting for each answer.
  const stream = new ReadableStream<Uint8Array>({
    async start(c) {
      for (const line of input) {
        c.enqueue(new TextEncoder().encode(line + "\n"));
        await new Promise((r) => setTimeout(r, 5));
      }
      c.close();
    },
  });
  await serveSession(session, stream, out, { loose, replyTimeoutMs: 2000 });
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test("serveSession answers with recorded responses under the client's ids", async () => {
  const out = await serve([
    '{"jsonrpc":"2.0","id":"a","method":"add","params":{"a":1}}',
    '{"jsonrpc":"2.0","method":"note"}',
    '{"jsonrpc":"2.0","id":"b","method":"add","params":{"a":1}}',
    '{"jsonrpc":"2.0","id":"c","method":"add","params":{"a":1}}',
  ]);
  assert.deepEqual(out, [
    { jsonrpc: "2.0", id: "a", result: "first" },
    { jsonrpc: "2.0", id: "b", result: "second" },
    { jsonrpc: "2.0", id: "c", result: "second" },
  ]);
});

Deno.test("serveSession replays server requests and notifications around the response", async () => {
  const out = await serve([
    '{"jsonrpc":"2.0","id":7,"method":"ask","params":{}}',
    '{"jsonrpc":"2.0","id":"s1","result":"anything"}',
  ]);
  assert.deepEqual(out, [
    { jsonrpc: "2.0", method: "progress", params: { p: 1 } },
    { jsonrpc: "2.0", id: "s1", method: "sample", params: { q: "?" } },
    { jsonrpc: "2.0", id: 7, result: "asked" },
    { jsonrpc: "2.0", method: "changed" },
  ]);
});

Deno.test("serveSession answers unknown requests with errors that name the method", async () => {
  const out = await serve([
    '{"jsonrpc":"2.0","id":1,"method":"nope"}',
    '{"jsonrpc":"2.0","id":2,"method":"add","params":{"a":5}}',
    '{"jsonrpc":"2.0","id":3,"method":"add","params":{"a":9}}',
    "not json",
  ]);
  assert.deepEqual(out.map((m) => (m as { error: { code: number } }).error.code), [
    SERVE_UNKNOWN_METHOD,
    SERVE_NO_MATCH,
    SERVE_NO_MATCH, // recorded, but never answered
    SERVE_PARSE_ERROR,
  ]);
  assert.match(JSON.stringify(out[0]), /Method not found in tape: 'nope'/);
  assert.match(JSON.stringify(out[1]), /No recorded response for 'add' with these params/);
});

Deno.test("serveSession with loose matching falls back to the method's responses", async () => {
  const out = await serve(['{"jsonrpc":"2.0","id":1,"method":"add","params":{"a":5}}'], true);
  assert.deepEqual(out, [{ jsonrpc: "2.0", id: 1, result: "first" }]);
});

Deno.test("serveSession answers everything in arrival order, errors included", async () => {
  // "ask" waits for the client's reply to a server request; what arrives
  // meanwhile is answered after it, not before.
  const out = await serve([
    '{"jsonrpc":"2.0","id":7,"method":"ask","params":{}}',
    "garbage",
    "[1,2]",
    '{"jsonrpc":"2.0","id":8,"method":"add","params":{"a":1}}',
    "42",
    '{"jsonrpc":"2.0","id":"s1","result":"anything"}',
  ]);
  const parseError = { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } };
  const invalid = {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32600, message: "Invalid Request: not a JSON object" },
  };
  assert.deepEqual(out, [
    { jsonrpc: "2.0", method: "progress", params: { p: 1 } },
    { jsonrpc: "2.0", id: "s1", method: "sample", params: { q: "?" } },
    { jsonrpc: "2.0", id: 7, result: "asked" },
    { jsonrpc: "2.0", method: "changed" },
    parseError,
    invalid,
    { jsonrpc: "2.0", id: 8, result: "first" },
    invalid,
  ]);
  assert.equal(SERVE_INVALID_REQUEST, -32600);
});

Deno.test("serveSession rejects an object that is neither a request nor a response", async () => {
  const out = await serve(['{"jsonrpc":"2.0","id":3,"method":7}', '{"hello":"world"}']);
  assert.deepEqual(out, [
    {
      jsonrpc: "2.0",
      id: 3,
      error: { code: -32600, message: "Invalid Request: no method, result or error" },
    },
    {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "Invalid Request: no method, result or error" },
    },
  ]);
});

Deno.test("messageText keeps recorded text and changes only the id", async () => {
  const text = '{"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890,"x":1.0}}';
  const session = await buildRecordedSession([
    { frame: RECORDING[0]!, envText: JSON.stringify(RECORDING[0]!.env) },
    { frame: { ...RECORDING[1]!, env: JSON.parse(text) }, envText: text },
  ]);
  const response = session.exchanges[0]!.response!;
  assert.equal(messageText(session, response), text);
  assert.equal(messageText(session, response, '"x"'), text.replace('"id":1', '"id":"x"'));
  // Text equal to the serialization is not stored twice.
  assert.equal(session.texts.has(session.exchanges[0]!.request), false);
  // Without a single id member, the message is serialized with the new id.
  assert.equal(messageText(session, { result: 1 }, "5"), '{"result":1,"id":5}');
});
