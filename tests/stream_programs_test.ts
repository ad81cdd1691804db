/**
 * `tail` and `replay` on queues, bus streams and merges, as real child
 * processes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueWriter } from "../src/chronicle/mod.ts";
import { busQueuePath, isoTimeNs } from "../src/stream/mod.ts";
import { TAPE_ONLY_OPTIONS } from "../src/consumer/mod.ts";
import { ROOT, runProgram, spawnProgram } from "./_helpers.ts";
import { AWKWARD_PAYLOADS } from "./fixtures/awkward_payloads.ts";
import { Lines, readRecords } from "./fixtures/chronicle_common.ts";

const FIXTURE = `${ROOT}tests/fixtures/replay_session.jsonl`;
const TAPE_EPOCH = BigInt(Date.parse("2026-11-22T03:00:00.000Z")) * 1_000_000n;
const encoder = new TextEncoder();
const work = await Deno.makeTempDir({ prefix: "spool-stream-programs-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** A queue of `payloads` stamped `ts(i)`, type `i % 4`. */
async function queueOf(
  dir: string,
  payloads: (string | Uint8Array)[],
  ts = (i: number) => 1_000_000_000n * BigInt(i + 1),
): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 64 * 1024 });
  payloads.forEach((p, i) => w.append(i % 4, typeof p === "string" ? encoder.encode(p) : p, ts(i)));
  w.close();
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

const Q = `${work}/q`;
await queueOf(Q, ["alpha", "beta", '{"px":1}', new Uint8Array([0xff, 0, 1]), "line\nbreak"]);

Deno.test("tail <queue> -n shows the last records, human and JSON", async () => {
  const human = await runProgram("tail", [Q, "-n", "3"]);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(lines(human.stdout), [
    `${isoTimeNs(3_000_000_000n)} #3 type 2 8 B {"px":1}`,
    `${isoTimeNs(4_000_000_000n)} #4 type 3 3 B base64:/wAB`,
    `${isoTimeNs(5_000_000_000n)} #5 type 0 10 B line\\nbreak`,
  ]);
  const json = await runProgram("tail", [Q, "-n", "2", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(lines(json.stdout).map((l) => JSON.parse(l)), [
    { seq: 4, timestamp_ns: 4e9, type_id: 3, encoding: "base64", payload: "/wAB" },
    { seq: 5, timestamp_ns: 5e9, type_id: 0, encoding: "utf8", payload: "line\nbreak" },
  ]);
  const all = await runProgram("tail", [`${Q}/queue.meta`, "-n", "100", "--json"]);
  assert.deepEqual(lines(all.stdout).map((l) => JSON.parse(l).seq), [1, 2, 3, 4, 5]);
});

Deno.test("tail -f on a queue prints records as they are appended and exits 0 on SIGTERM", async () => {
  const dir = `${work}/follow`;
  await queueOf(dir, ["one"]);
  const child = spawnProgram("tail", [dir, "-n", "1", "-f", "--json"]);
  const out = new Lines(child.stdout);
  try {
    assert.equal(JSON.parse((await out.next())!).payload, "one");
    const w = await QueueWriter.open(dir);
    w.append(1, encoder.encode("two"));
    assert.equal(JSON.parse((await out.next())!).payload, "two");
    w.append(1, encoder.encode("three"));
    assert.equal(JSON.parse((await out.next())!).seq, 3);
    w.close();
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  assert.equal(status.code, 0);
  await child.stderr.cancel();
  await child.stdin.close();
});

Deno.test("tail and replay open a bus stream directory as its queue", async () => {
  const bus = `${work}/bus`;
  await queueOf(busQueuePath(bus, "live", "quotes"), ["q1", "q2"]);
  const tail = await runProgram("tail", [`${bus}/live/quotes`, "-n", "1", "--json"]);
  assert.equal(JSON.parse(tail.stdout).payload, "q2");
  const replay = await runProgram("replay", [`${bus}/live/quotes`, "--json"]);
  assert.deepEqual(lines(replay.stdout).map((l) => JSON.parse(l).payload), ["q1", "q2"]);
});

Deno.test("replay <queue> prints every record, from a seq or a time", async () => {
  const all = await runProgram("replay", [Q, "--json"]);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(lines(all.stdout).map((l) => JSON.parse(l).seq), [1, 2, 3, 4, 5]);
  const fromSeq = await runProgram("replay", [Q, "--json", "--from-seq", "4"]);
  assert.deepEqual(lines(fromSeq.stdout).map((l) => JSON.parse(l).seq), [4, 5]);
  const range = await runProgram("replay", [Q, "--from-seq", "2", "--to-seq", "3"]);
  assert.deepEqual(lines(range.stdout).map((l) => l.split(" ")[1]), ["#2", "#3"]);
  const fromTime = await runProgram("replay", [Q, "--json", "--from-time", "3000000000"]);
  assert.deepEqual(lines(fromTime.stdout).map((l) => JSON.parse(l).seq), [3, 4, 5]);
  const iso = await runProgram("replay", [Q, "--json", "--from-time", "1970-01-01T00:00:04Z"]);
  assert.deepEqual(lines(iso.stdout).map((l) => JSON.parse(l).seq), [4, 5]);
  const paced = await runProgram("replay", [Q, "--speed", "1000", "--json"]);
  assert.equal(lines(paced.stdout).length, 5);
});

Deno.test("replay --merge interleaves queues and a tape by timestamp, ties to the first listed", async () => {
  const a = `${work}/merge-a`;
  const b = `${work}/merge-b`;
  // Around the tape's frames (10 ms, 11.5 ms, … after its creation), with one tie across queues.
  await queueOf(a, ["a1", "a2"], (i) => TAPE_EPOCH + [5_000_000n, 20_000_000n][i]!);
  await queueOf(b, ["b1", "b2"], (i) => TAPE_EPOCH + [20_000_000n, 9_000_000_000n][i]!);
  const out = await runProgram("replay", [b, a, FIXTURE, "--merge", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const got = lines(out.stdout).map((l) => JSON.parse(l));
  const tapeFrames =
    Deno.readTextFileSync(FIXTURE).split("\n").filter((l) => l.includes('"type":"frame"')).length;
  assert.equal(got.length, tapeFrames + 4);
  assert.equal(got[0].payload, "a1");
  // b is listed before a: at the tie, b2's partner b1 comes first.
  const b1 = got.findIndex((r) => r.payload === "b1");
  const a2 = got.findIndex((r) => r.payload === "a2");
  assert.ok(b1 >= 0 && a2 === b1 + 1, `b1 at ${b1}, a2 at ${a2}`);
  assert.equal(got.at(-1).payload, "b2");
  for (let i = 1; i < got.length; i++) {
    assert.ok(BigInt(got[i - 1].timestamp_ns) <= BigInt(got[i].timestamp_ns), `order at ${i}`);
  }
});

Deno.test("tail and replay refuse what does not apply to a queue or merge, on one line", async () => {
  for (
    const [program, args, code, text] of [
      ["tail", [Q, "--stats"], 2, "Option '--stats' applies to tapes"],
      ["tail", [Q, "--method", "x"], 2, "Option '--method' applies to tapes"],
      ["replay", [Q, "--serve"], 2, "Option '--serve' applies to a tape"],
      ["replay", [Q, "--raw"], 2, "Option '--raw' applies to a tape"],
      ["replay", [Q, Q, "--merge", "--from-seq", "2"], 2, "need one source"],
      ["replay", [Q, "--merge"], 2, "needs at least two sources"],
      ["replay", [FIXTURE, "--json"], 2, "apply to queues and merges"],
      ["replay", [Q, "--from-time", "yesterday"], 2, "'yesterday'"],
      ["tail", [work, "-n", "1"], 1, "neither a queue nor a bus stream"],
      ["replay", [`${work}/nothing/here`], 1, "No tape or queue at"],
      ["replay", [Q, `${work}/nothing/here`, "--merge"], 1, "No tape or queue at"],
    ] as const
  ) {
    const out = await runProgram(program, [...args]);
    assert.equal(out.code, code, `${program} ${args.join(" ")}: ${out.stderr}`);
    assert.equal(lines(out.stderr).length, 1, out.stderr);
    assert.ok(out.stderr.startsWith(`${program}: `), out.stderr);
    assert.ok(out.stderr.includes(text), `${program} ${args.join(" ")}: ${out.stderr}`);
  }
});

Deno.test("replay --json | import copies BOM, invalid UTF-8, NUL and long payloads byte for byte", async () => {
  const from = `${work}/awkward`;
  const copy = `${work}/awkward-copy`;
  // A queue record carries at least one byte.
  const payloads = AWKWARD_PAYLOADS.filter((p) => p.length > 0);
  const w = await QueueWriter.open(from, { segmentBytes: 4 * 1024 * 1024 });
  payloads.forEach((p, i) => w.append(i, p, 1_700_000_000_000_000_000n + BigInt(i)));
  w.close();
  const out = await runProgram("replay", [from, "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const imported = await runProgram("import", ["--to", copy, "-"], { stdin: out.stdout });
  assert.equal(imported.code, 0, imported.stderr);
  const original = await readRecords(from);
  const copied = await readRecords(copy);
  assert.equal(copied.length, payloads.length);
  for (const [i, record] of copied.entries()) {
    assert.deepEqual(record, original[i], `record ${i + 1}`);
    assert.deepEqual(record.payload, payloads[i], `payload of record ${i + 1}`);
  }
});

Deno.test("replay --json | import --to copies a queue exactly, binary payloads and all", async () => {
  const copy = `${work}/copy`;
  const out = await runProgram("replay", [Q, "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const imported = await runProgram("import", ["--to", copy, "-"], { stdin: out.stdout });
  assert.equal(imported.code, 0, imported.stderr);
  const again = await runProgram("replay", [copy, "--json"]);
  assert.equal(again.stdout, out.stdout);
});

Deno.test("every tape-only option in the routing table is a real option of its program", async () => {
  for (const [program, flags] of Object.entries(TAPE_ONLY_OPTIONS)) {
    const { code, stdout } = await runProgram(program, ["--help"]);
    assert.equal(code, 0, `${program} --help`);
    for (const flag of flags) {
      // A misspelled entry would never match a parsed option, and nothing else would notice.
      assert.match(
        stdout,
        new RegExp(`(^|[ ,])${flag}\\b`, "m"),
        `${program} has no option ${flag}`,
      );
    }
  }
});
