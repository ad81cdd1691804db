/**
 * End-to-end tests of `tail`: the real program on a hand-made fixture and on
 * tapes written while it follows them.
 */

import assert from "node:assert/strict";
import { ROOT, runProgram, spawnProgram, waitFor } from "./_helpers.ts";
import { TapeWriter } from "../src/tape/tape_writer.ts";
import type { FrameRecord, TapeRecord } from "../src/tape/types.ts";

const FIXTURE = `${ROOT}tests/fixtures/replay_session.jsonl`;
const work = await Deno.makeTempDir({ prefix: "spool-tail-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const records: TapeRecord[] = Deno.readTextFileSync(FIXTURE).trim().split("\n").map((l) =>
  JSON.parse(l)
);
const frames = records.filter((r): r is FrameRecord => r.type === "frame");

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

Deno.test("tail shows the last 10 frames by default, in the plain human format", async () => {
  const out = await runProgram("tail", [FIXTURE]);
  assert.equal(out.code, 0, out.stderr);
  const shown = lines(out.stdout);
  assert.equal(shown.length, 10);
  assert.ok(!out.stdout.includes("\x1b["), "NO_COLOR output has no escape codes");
  // seq 11: the answer to tools/call id 4, 13 ms after its request, 152 bytes.
  assert.match(shown[5]!, /^ +0\.068s ← response +tools\/call +#4 +13\.0 ms +152 B$/);
  assert.match(shown[4]!, /→ response +sampling\/createMessage +#srv-1 +10\.0 ms/);
  assert.match(shown[7]!, /← error +no\/such\/method +#5 +1\.5 ms/);
  assert.match(shown[8]!, /^ +0\.089s → request +ping +#6 +52 B$/);
});

Deno.test("tail is plain when stdout is not a terminal even without NO_COLOR", async () => {
  const out = await runProgram("tail", [FIXTURE, "-n", "3"], { env: { NO_COLOR: "" } });
  assert.equal(out.code, 0, out.stderr);
  assert.ok(!out.stdout.includes("\x1b["));
  assert.equal(lines(out.stdout).length, 3);
});

Deno.test("tail -n N --json prints the last N frame records, parseable", async () => {
  const out = await runProgram("tail", [FIXTURE, "-n", "4", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(lines(out.stdout).map((l) => JSON.parse(l)), frames.slice(-4));
  const none = await runProgram("tail", [FIXTURE, "-n", "0"]);
  assert.equal(none.stdout, "");
  const more = await runProgram("tail", [FIXTURE, "-n", "1000", "--json"]);
  assert.equal(lines(more.stdout).length, frames.length);
});

Deno.test("tail --all includes correlation and checkpoint records", async () => {
  const out = await runProgram("tail", [FIXTURE, "-n", "3", "--all", "--json"]);
  assert.deepEqual(lines(out.stdout).map((l) => JSON.parse(l)), records.slice(-3));
  const human = await runProgram("tail", [FIXTURE, "-n", "2", "--all"]);
  assert.match(human.stdout, /↔ correlation +ping +seq 14→15 1\.5 ms ok/);
  assert.match(human.stdout, /■ checkpoint +seq 15, 15 frames, final/);
});

Deno.test("tail filters by direction and method", async () => {
  const out = await runProgram("tail", [FIXTURE, "--json", "--dir", "s2c", "-m", "tools/call"]);
  assert.deepEqual(lines(out.stdout).map((l) => JSON.parse(l).seq), [7, 11]);
  const c2s = await runProgram("tail", [FIXTURE, "--json", "--dir", "c2s", "-n", "100"]);
  assert.ok(lines(c2s.stdout).every((l) => JSON.parse(l).dir === "c2s"));
  assert.equal(lines(c2s.stdout).length, 8);
});

Deno.test("tail --stats sums up frames, methods, RTT percentiles, errors and bytes", async () => {
  const out = await runProgram("tail", [FIXTURE, "--stats", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const s = JSON.parse(out.stdout);
  assert.equal(s.frames, 15);
  assert.deepEqual(s.byDirection, { c2s: 8, s2c: 7 });
  assert.deepEqual(s.byAction, {
    request: 7,
    notification: 1,
    response: 6,
    error: 1,
    message: 0,
    text: 0,
  });
  assert.equal(s.errors, 1);
  assert.equal(s.timeouts, 0);
  assert.equal(s.durationMs, 80.5);
  assert.equal(s.finalized, true);
  const bytes = frames.reduce(
    (n, f) => n + new TextEncoder().encode(JSON.stringify(f.env)).length,
    0,
  );
  assert.equal(s.messageBytes, bytes);
  assert.equal(s.tapeBytes, (await Deno.stat(FIXTURE)).size);
  const call = s.methods.find((m: { method: string }) => m.method === "tools/call");
  assert.deepEqual(call, {
    method: "tools/call",
    count: 2,
    errors: 0,
    rttCount: 2,
    rttP50Ms: 1.5,
    rttP99Ms: 13,
  });
  const human = await runProgram("tail", [FIXTURE, "--stats"]);
  assert.match(human.stdout, /^frames +15 \(c2s 8, s2c 7\), seq 1–15$/m);
  assert.match(human.stdout, /^tools\/call +2 +0 +1\.5 +13\.0$/m);
  assert.match(human.stdout, /^errors +1$/m);
});

Deno.test("tail -n on a large tape shows only its end", async () => {
  const path = `${work}/big.jsonl`;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  await file.write(enc.encode(JSON.stringify(records[0]) + "\n"));
  const n = 20_000;
  let chunk = "";
  for (let seq = 1; seq <= n; seq++) {
    chunk += JSON.stringify({
      type: "frame",
      seq,
      ts: seq,
      dir: "c2s",
      env: { jsonrpc: "2.0", method: "tick", params: { seq } },
    }) + "\n";
    if (seq % 1000 === 0) {
      await file.write(enc.encode(chunk));
      chunk = "";
    }
  }
  file.close();
  const out = await runProgram("tail", [path, "-n", "2", "--json"]);
  assert.deepEqual(lines(out.stdout).map((l) => JSON.parse(l).seq), [n - 1, n]);
});

Deno.test("tail reports bad input on one line", async () => {
  const missing = await runProgram("tail", [`${work}/nope.jsonl`]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `tail: Cannot open tape '${work}/nope.jsonl': no such file or directory\n`,
  );
  const notTape = `${work}/plain.txt`;
  await Deno.writeTextFile(notTape, "hello\n");
  const bad = await runProgram("tail", [notTape]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^tail: Not a tape/);
  for (
    const args of [["-n", "-1"], ["-n", "ten"], ["--forever"], ["--stats", "-f"], ["--dir", "x"]]
  ) {
    const out = await runProgram("tail", [FIXTURE, ...args]);
    assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    assert.equal(lines(out.stderr).length, 1);
    assert.match(out.stderr, /^tail: /);
  }
});

Deno.test("tail -f shows records appended by another process and ends at finalize", async () => {
  const writer = await TapeWriter.create(`${work}/live`, { durability: "flush" });
  await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "first" } });
  await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: "one" } });
  const child = spawnProgram("tail", [writer.path, "-f", "-n", "1", "--json"]);
  await child.stdin.close();
  const decoder = new TextDecoder();
  let seen = "";
  const reading = (async () => {
    for await (const chunk of child.stdout) seen += decoder.decode(chunk, { stream: true });
  })();
  const stderr = new Response(child.stderr).text();
  await waitFor("the existing last frame", () => (lines(seen).length >= 1 ? true : undefined));
  assert.deepEqual(lines(seen).map((l) => JSON.parse(l).env), [
    { jsonrpc: "2.0", id: 1, result: "one" },
  ]);
  await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 2, method: "second" } });
  await waitFor("a frame appended later", () => (lines(seen).length >= 2 ? true : undefined));
  await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 2, result: "two" } });
  await writer.finalize();
  const status = await child.status;
  await reading;
  assert.equal(status.code, 0, await stderr);
  assert.deepEqual(lines(seen).map((l) => JSON.parse(l).seq), [2, 3, 4]);
});

Deno.test("tail -f in the human format shows the RTT of a live response", async () => {
  const writer = await TapeWriter.create(`${work}/live2`);
  const child = spawnProgram("tail", [writer.path, "-f"]);
  await child.stdin.close();
  await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: "a", method: "tools/list" } });
  await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: "a", result: { tools: [] } } });
  await writer.finalize();
  const out = await child.output();
  const shown = lines(new TextDecoder().decode(out.stdout));
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(shown.length, 2);
  assert.match(shown[0]!, /→ request +tools\/list +#a/);
  assert.match(shown[1]!, /← response +tools\/list +#a +\d+\.\d ms +\d+ B$/);
});

Deno.test("tail -f prints a line written in two pieces once, when it is complete", async () => {
  const path = `${work}/split.jsonl`;
  await Deno.writeTextFile(path, JSON.stringify(records[0]) + "\n");
  const child = spawnProgram("tail", [path, "-f", "-n", "0", "--json"]);
  await child.stdin.close();
  const line = JSON.stringify(frames[0]) + "\n";
  await new Promise((r) => setTimeout(r, 300));
  await Deno.writeTextFile(path, line.slice(0, 40), { append: true });
  await new Promise((r) => setTimeout(r, 300));
  const final = { ...records.at(-1)!, seq: 1 };
  await Deno.writeTextFile(path, line.slice(40) + JSON.stringify(final) + "\n", { append: true });
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(lines(new TextDecoder().decode(out.stdout)).map((l) => JSON.parse(l)), [
    frames[0],
  ]);
});

/** Frame lines whose numbers `JSON.parse` then `JSON.stringify` would respell or round. */
function exactFrameLines(firstSeq: number): string[] {
  const envs = [
    '{"jsonrpc":"2.0","id":12345678901234567890,"method":"big","params":{"x":1.0,"y":1e2}}',
    '{"jsonrpc":"2.0","id":12345678901234567890,"result":{"n":12345678901234567890,"f":1.0}}',
    '{"jsonrpc":"2.0","method":"note","params":[1.0,1e2,1E-7,-0,12345678901234567890]}',
  ];
  return envs.map((env, i) =>
    `{"type":"frame","seq":${firstSeq + i},"ts":${firstSeq + i}.0,"dir":"${
      i === 1 ? "s2c" : "c2s"
    }","env":${env}}`
  );
}

Deno.test("tail --json prints records exactly as stored: 1.0, 1e2 and big integers unchanged", async () => {
  const path = `${work}/exact.jsonl`;
  const frameLines = exactFrameLines(1);
  const correlation =
    '{"type":"correlation","id":"c2s-1","request_seq":1,"response_seq":2,"request_ts":1.0,' +
    '"response_ts":2.0,"rtt_ms":1.0,"status":"ok","method":"big"}';
  const checkpoint = JSON.stringify({ ...records.at(-1)!, seq: 3 });
  const body = [frameLines[0], frameLines[1], correlation, frameLines[2], checkpoint];
  await Deno.writeTextFile(path, [JSON.stringify(records[0]), ...body, ""].join("\n"));
  const out = await runProgram("tail", [path, "--json"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(lines(out.stdout), frameLines);
  const all = await runProgram("tail", [path, "--json", "--all"]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(lines(all.stdout), body);
});

Deno.test("tail -f --json prints appended records exactly as stored", async () => {
  const path = `${work}/exact-live.jsonl`;
  const [first, ...later] = exactFrameLines(1);
  await Deno.writeTextFile(path, `${JSON.stringify(records[0])}\n${first}\n`);
  const child = spawnProgram("tail", [path, "-f", "-n", "1", "--json"]);
  await child.stdin.close();
  const decoder = new TextDecoder();
  let seen = "";
  const reading = (async () => {
    for await (const chunk of child.stdout) seen += decoder.decode(chunk, { stream: true });
  })();
  await waitFor("the existing frame", () => (lines(seen).length >= 1 ? true : undefined));
  await Deno.writeTextFile(path, later.map((l) => `${l}\n`).join(""), { append: true });
  await waitFor("the appended frames", () => (lines(seen).length >= 3 ? true : undefined));
  const final = JSON.stringify({ ...records.at(-1)!, seq: 3 });
  await Deno.writeTextFile(path, `${final}\n`, { append: true });
  const status = await child.status;
  await reading;
  assert.equal(status.code, 0);
  assert.deepEqual(lines(seen), [first, ...later]);
});
