import assert from "node:assert/strict";
import { parseRedactRule, REDACTED, Redactor, RedactRuleError } from "../src/proxy/redactor.ts";
import type { JsonValue } from "../src/tape/types.ts";

function redact(rules: string[], env: JsonValue, isText = false) {
  return new Redactor(rules.map(parseRedactRule)).redact(env, isText);
}

Deno.test("path rule replaces the value and leaves the input untouched", () => {
  const msg = {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "login", arguments: { user: "ann", password: "hunter2" } },
  };
  const before = JSON.stringify(msg);
  const out = redact(["$.params.arguments.password"], msg);
  assert.equal(out.changed, true);
  assert.deepEqual(out.env, {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "login", arguments: { user: "ann", password: REDACTED } },
  });
  assert.equal(JSON.stringify(msg), before);
});

Deno.test("path rule replaces objects and arrays whole, not only strings", () => {
  const out = redact(["$.params.secret"], { params: { secret: { a: [1, 2] }, keep: 1 } });
  assert.deepEqual(out.env, { params: { secret: REDACTED, keep: 1 } });
});

Deno.test("path that matches nothing reports no change and returns the same object", () => {
  const msg = { params: { arguments: { user: "ann" } } };
  const out = redact(["$.params.arguments.password", "$.result[3]", "$.params.user.x"], msg);
  assert.equal(out.changed, false);
  assert.equal(out.env, msg);
});

Deno.test("wildcard segment matches every member of an object", () => {
  const out = redact(["$.params.*.token"], {
    params: { a: { token: "t1", n: 1 }, b: { token: "t2" }, c: "no token here" },
  });
  assert.deepEqual(out.env, {
    params: { a: { token: REDACTED, n: 1 }, b: { token: REDACTED }, c: "no token here" },
  });
});

Deno.test("array index and [*] select elements", () => {
  const msg = { items: [{ key: "k0" }, { key: "k1" }, { key: "k2" }] };
  assert.deepEqual(redact(["$.items[1].key"], msg).env, {
    items: [{ key: "k0" }, { key: REDACTED }, { key: "k2" }],
  });
  assert.deepEqual(redact(["$.items[*].key"], msg).env, {
    items: [{ key: REDACTED }, { key: REDACTED }, { key: REDACTED }],
  });
  assert.equal(redact(["$.items[7].key"], msg).changed, false);
});

Deno.test("index segment does not match object members and key does not match arrays", () => {
  assert.equal(redact(["$.a[0]"], { a: { "0": "x" } }).changed, false);
  assert.equal(redact(["$.a.0"], { a: ["x"] }).changed, false);
  assert.deepEqual(redact(["$.a.0"], { a: { "0": "x" } }).env, { a: { "0": REDACTED } });
});

Deno.test("quoted keys, a bare first name and deep descent", () => {
  assert.deepEqual(redact(["$['odd.key']"], { "odd.key": 1, odd: { key: 2 } }).env, {
    "odd.key": REDACTED,
    odd: { key: 2 },
  });
  assert.deepEqual(redact(["params.password"], { params: { password: "p" } }).env, {
    params: { password: REDACTED },
  });
  assert.deepEqual(
    redact(["$..password"], {
      password: "top",
      params: { list: [{ password: "deep" }, { other: 1 }] },
    }).env,
    { password: REDACTED, params: { list: [{ password: REDACTED }, { other: 1 }] } },
  );
});

Deno.test("a member named __proto__ is redacted as data, never as the prototype", () => {
  const msg = JSON.parse('{"__proto__":{"secret":"s"},"ok":1}') as JsonValue;
  const out = redact(["$.__proto__.secret"], msg);
  assert.equal(JSON.stringify(out.env), '{"__proto__":{"secret":"[REDACTED]"},"ok":1}');
  assert.equal(Object.getPrototypeOf(out.env), Object.prototype);
});

Deno.test("pattern rule rewrites matches in every string value, not keys or numbers", () => {
  const out = redact(["re:sk-[a-z0-9]+"], {
    "sk-key": "value sk-abc123 and sk-zz",
    list: ["sk-1", 42, true, null],
    n: 7,
  });
  assert.equal(out.changed, true);
  assert.deepEqual(out.env, {
    "sk-key": `value ${REDACTED} and ${REDACTED}`,
    list: [REDACTED, 42, true, null],
    n: 7,
  });
});

Deno.test("pattern rule applies to text lines, path rules do not", () => {
  const text = "password=hunter2 token=abc";
  const out = redact(["re:hunter\\d", "$.password"], text, true);
  assert.deepEqual(out, { env: `password=${REDACTED} token=abc`, changed: true });
  assert.deepEqual(redact(["$.password"], "password", true), { env: "password", changed: false });
});

Deno.test("a pattern is applied repeatedly without stale lastIndex state", () => {
  const redactor = new Redactor([parseRedactRule("re:secret")]);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(redactor.redact(["secret", "a secret"]).env, [REDACTED, `a ${REDACTED}`]);
  }
});

Deno.test("the path marker is not rewritten by a pattern rule", () => {
  const out = redact(["$.a", "re:RED"], { a: "x", b: "RED" });
  assert.deepEqual(out.env, { a: REDACTED, b: REDACTED });
});

Deno.test("a redactor without rules is inactive and changes nothing", () => {
  const redactor = new Redactor([]);
  assert.equal(redactor.active, false);
  const msg = { a: 1 };
  assert.deepEqual(redactor.redact(msg), { env: msg, changed: false });
  assert.equal(new Redactor([parseRedactRule("$.a")]).active, true);
});

Deno.test("invalid rules are refused with an error naming the rule", () => {
  for (
    const rule of [
      "",
      "$",
      "$.",
      "$.a.",
      "$.a[",
      "$.a[x]",
      "$.a[-1]",
      "$['a]",
      "$..",
      "$a",
      "re:",
      "re:(",
      "re:a*",
    ]
  ) {
    assert.throws(
      () => parseRedactRule(rule),
      (error: unknown) => {
        assert.ok(error instanceof RedactRuleError, `${rule}: ${String(error)}`);
        assert.ok(error instanceof SyntaxError);
        assert.equal(error.rule, rule);
        assert.match(error.message, /^Invalid redaction rule '/);
        assert.ok(error.message.includes(`'${rule}'`), error.message);
        return true;
      },
      rule,
    );
  }
});

Deno.test("parsed path segments", () => {
  assert.deepEqual(parseRedactRule("$.a.*[2][*]..b['c d']"), {
    kind: "path",
    source: "$.a.*[2][*]..b['c d']",
    segments: [
      { kind: "key", key: "a" },
      { kind: "any" },
      { kind: "index", index: 2 },
      { kind: "any" },
      { kind: "deep" },
      { kind: "key", key: "b" },
      { kind: "key", key: "c d" },
    ],
  });
});
