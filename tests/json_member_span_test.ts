import assert from "node:assert/strict";
import { memberValueSpans, memberValueText, replaceMemberValue } from "../src/json/member_span.ts";
import { type RawFrame, TapeReader, type TapeWarning } from "../src/tape/tape_reader.ts";

Deno.test("memberValueText returns a member's value exactly as written", () => {
  assert.equal(memberValueText('{"a":1.0,"b":1e2}', "a"), "1.0");
  assert.equal(memberValueText('{"a":1.0,"b":1e2}', "b"), "1e2");
  assert.equal(memberValueText('{"n":12345678901234567890}', "n"), "12345678901234567890");
  assert.equal(memberValueText('{"a":true,"b":null,"c":-0.5E-3}', "c"), "-0.5E-3");
  assert.equal(memberValueText('{"a":false}', "a"), "false");
});

Deno.test("memberValueText handles escapes in strings and keys", () => {
  const line = String.raw`{"s":"a\"b\\","t":"\\\"}","k\u0065y":"v"}`;
  assert.equal(memberValueText(line, "s"), String.raw`"a\"b\\"`);
  assert.equal(memberValueText(line, "t"), String.raw`"\\\"}"`);
  assert.equal(memberValueText(line, "key"), '"v"');
  assert.equal(memberValueText(String.raw`{"a\"b":1,"a":2}`, 'a"b'), "1");
  assert.equal(memberValueText(String.raw`{"a\"b":1,"a":2}`, "a"), "2");
});

Deno.test("memberValueText skips nested values and brackets inside strings", () => {
  const env = '{"x":[1,{"y":"}]{["},[]],"z":{"env":3}}';
  const line = `{"type":"frame","env":${env},"after":"{"}`;
  assert.equal(memberValueText(line, "env"), env);
  assert.equal(memberValueText(line, "after"), '"{"');
  // A nested member of the same name is not a top-level member.
  assert.equal(memberValueText('{"a":{"env":1},"b":[{"env":2}]}', "env"), undefined);
  assert.equal(memberValueText('{"a":[[]],"b":{}}', "b"), "{}");
});

Deno.test("memberValueText does not depend on member order or whitespace", () => {
  assert.equal(memberValueText('{"env":[1, 2],"type":"frame"}', "env"), "[1, 2]");
  assert.equal(memberValueText('{"type":"frame","seq":1,"env":"x"}', "env"), '"x"');
  assert.equal(memberValueText(' { "a" : 1 , "env" :\t{ "b" : 2 } } ', "env"), '{ "b" : 2 }');
  // Like JSON.parse, the last duplicate wins.
  assert.equal(memberValueText('{"env":1,"env":2}', "env"), "2");
});

Deno.test("memberValueText returns undefined for a missing member or a non-object", () => {
  assert.equal(memberValueText('{"a":1}', "env"), undefined);
  assert.equal(memberValueText("{}", "env"), undefined);
  assert.equal(memberValueText('[{"env":1}]', "env"), undefined);
  assert.equal(memberValueText('"env"', "env"), undefined);
  assert.equal(memberValueText("", "env"), undefined);
  assert.equal(memberValueText('{"env":', "env"), undefined);
  assert.equal(memberValueText('{"env":{"a":1', "env"), undefined);
});

const INIT = '{"type":"init","version":1,"tape_id":"t-1","session_id":"s",' +
  '"created_at":"2026-11-22T03:00:00.000Z","protocol_version":null}';

async function withTape(lines: string[], fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_raw_" });
  try {
    const path = `${dir}/t-1.jsonl`;
    await Deno.writeTextFile(path, lines.join("\n"));
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("rawFrames hands out each frame with its envelope text as on the tape", async () => {
  const env1 = '{"jsonrpc":"2.0","id":12345678901234567890,"result":{"a":1.0,"b":1e2}}';
  const env2 = String.raw`"not json: \"quoted\" {["`;
  const lines = [
    INIT,
    `{"type":"frame","seq":1,"ts":0.5,"dir":"s2c","env":${env1},"action":"response"}`,
    '{"type":"checkpoint","checkpoint_at":"2026-11-22T03:00:01.000Z","seq":1,"stats":{}}',
    `{"env":${env2},"type":"frame","seq":2,"ts":1,"dir":"s2c","flags":["text"]}`,
    "",
  ];
  await withTape(lines, async (path) => {
    using reader = await TapeReader.open(path);
    const got: RawFrame[] = [];
    for await (const raw of reader.rawFrames()) got.push(raw);
    assert.deepEqual(got.map((r) => r.envText), [env1, env2]);
    assert.deepEqual(got.map((r) => r.frame.seq), [1, 2]);
    assert.equal(got[1]!.frame.env, 'not json: "quoted" {[');
    // The parsed env rounds the big integer; the text keeps it.
    assert.notEqual(JSON.stringify(got[0]!.frame.env), env1);
  });
});

Deno.test("rawFrames warns and stops like frames()", async () => {
  const lines = [
    INIT,
    '{"type":"frame","seq":1,"ts":0,"dir":"c2s","env":[1.50]}',
    "not json",
    '{"type":"frame","seq":2,"ts":0,"dir":"c2s","env":2.0}',
    '{"type":"frame","seq":3,"ts":0,"dir":"c2s","env":{"partial"',
  ];
  await withTape(lines, async (path) => {
    const warnings: TapeWarning[] = [];
    using lenient = await TapeReader.open(path, { onWarning: (w) => warnings.push(w) });
    const texts: string[] = [];
    for await (const raw of lenient.rawFrames()) texts.push(raw.envText);
    assert.deepEqual(texts, ["[1.50]", "2.0"]);
    assert.deepEqual(warnings.map((w) => w.kind), ["bad-line", "partial-line"]);

    using strict = await TapeReader.open(path, { strict: true, onWarning: () => {} });
    const strictTexts: string[] = [];
    await assert.rejects(async () => {
      for await (const raw of strict.rawFrames()) strictTexts.push(raw.envText);
    }, /line 3/);
    assert.deepEqual(strictTexts, ["[1.50]"]);
  });
});

Deno.test("memberValueSpans finds every top-level member of the name, and only those", () => {
  const text = '{"result":{"id":1},"list":[{"id":2}],"s":"\\"id\\":3", "id" : 4 }';
  const spans = memberValueSpans(text, "id")!;
  assert.deepEqual(spans.map((s) => text.slice(s.start, s.end)), ["4"]);
  assert.deepEqual(memberValueSpans('{"a":{"id":1}}', "id"), []);
  assert.equal(memberValueSpans('{"id":1,"id":2}', "id")!.length, 2);
  assert.equal(memberValueSpans('[{"id":1}]', "id"), undefined);
  assert.equal(memberValueSpans('{"\\u0069d":"x"}', "id")?.[0]?.start, 11);
});

Deno.test("replaceMemberValue changes one member and leaves every other byte", () => {
  assert.equal(
    replaceMemberValue('{"id":"a\\"}","r":[1.0,{"id":2}]}', "id", "12345678901234567890"),
    '{"id":12345678901234567890,"r":[1.0,{"id":2}]}',
  );
  // Two members of the name: which one counts is up to the parser, so nothing is replaced.
  assert.equal(replaceMemberValue('{"id":1,"id":2}', "id", "3"), undefined);
  assert.equal(replaceMemberValue('{"a":1}', "id", "3"), undefined);
});
