import assert from "node:assert/strict";
import { diffJson, jsonEqual } from "../src/replay/json_diff.ts";
import { formatJsonPath, parseJsonPath, pathMatches } from "../src/json/json_path.ts";
import { canonicalJson } from "../src/replay/canonical_json.ts";

Deno.test("diffJson reports the path, expected and actual of a changed leaf", () => {
  const expected = { jsonrpc: "2.0", result: { content: [{ type: "text", text: "5" }] } };
  const actual = { jsonrpc: "2.0", result: { content: [{ type: "text", text: "6" }] } };
  assert.deepEqual(diffJson(expected, actual), [
    { path: "$.result.content[0].text", kind: "changed", expected: "5", actual: "6" },
  ]);
});

Deno.test("diffJson reports missing and extra members and array elements", () => {
  const d = diffJson({ a: 1, list: [1, 2] }, { b: 2, list: [1] });
  assert.deepEqual(d, [
    { path: "$.a", kind: "missing", expected: 1 },
    { path: "$.list[1]", kind: "missing", expected: 2 },
    { path: "$.b", kind: "extra", actual: 2 },
  ]);
});

Deno.test("diffJson treats type changes as differences and ignores key order", () => {
  assert.equal(diffJson({ n: 1 }, { n: "1" }).length, 1);
  assert.equal(diffJson({ a: null }, { a: {} }).length, 1);
  assert.equal(diffJson([1], { 0: 1 }).length, 1);
  assert.ok(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }));
  assert.ok(!jsonEqual([1, 2], [2, 1]));
});

Deno.test("diffJson skips ignored paths and everything below them", () => {
  const e = { result: { serverInfo: { version: "1.0.0", name: "x" }, tools: [{ name: "a" }] } };
  const a = { result: { serverInfo: { version: "2.0.0", name: "y" }, tools: [{ name: "b" }] } };
  assert.equal(diffJson(e, a).length, 3);
  const ignore = [parseJsonPath("$.result.serverInfo.version"), parseJsonPath("$.result.tools[*]")];
  assert.deepEqual(diffJson(e, a, { ignore }).map((d) => d.path), ["$.result.serverInfo.name"]);
  assert.deepEqual(diffJson(e, a, { ignore: [parseJsonPath("result")] }), []);
});

Deno.test("json paths print and parse in the same dialect", () => {
  assert.equal(formatJsonPath([]), "$");
  assert.equal(formatJsonPath(["a", 0, "b c", "d"]), '$.a[0]["b c"].d');
  assert.deepEqual(parseJsonPath('$.a[0]["b c"].d'), [
    { kind: "key", key: "a" },
    { kind: "index", index: 0 },
    { kind: "key", key: "b c" },
    { kind: "key", key: "d" },
  ]);
  assert.deepEqual(parseJsonPath("$['x.y']"), [{ kind: "key", key: "x.y" }]);
  assert.ok(pathMatches(parseJsonPath("$..version"), ["result", "serverInfo", "version"]));
  assert.ok(!pathMatches(parseJsonPath("$..version"), ["result", "serverInfo"]));
  assert.ok(pathMatches(parseJsonPath("$.a.*.c"), ["a", "q", "c", "deeper"]));
  assert.ok(!pathMatches(parseJsonPath("$.a.b"), ["a", "c"]));
  assert.throws(() => parseJsonPath("$.a[unclosed"), SyntaxError);
  assert.throws(() => parseJsonPath("$.a[x]"), /Cannot read JSON path '\$\.a\[x\]'/);
});

Deno.test("canonicalJson is independent of key order and keeps absent apart from null", () => {
  assert.equal(
    canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x" }),
    '{"a":"x","b":[1,{"c":2,"d":1}]}',
  );
  assert.notEqual(canonicalJson(undefined), canonicalJson(null));
});
