/**
 * Warnings about a damaged tape: the real `replay` and `tail` print the
 * first five with the program's name, then one line counting the rest.
 */

import assert from "node:assert/strict";
import { initRecordJson, runProgram } from "./_helpers.ts";

const work = await Deno.makeTempDir({ prefix: "spool-warning-log-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** A tape with one good frame, then about 100 KB of garbage lines, and where each of those starts. */
async function garbageTape(): Promise<{ path: string; badLines: number; offsets: number[] }> {
  const path = `${work}/garbage.jsonl`;
  const frame = JSON.stringify({
    type: "frame",
    seq: 1,
    ts: 0,
    mono_ns: 0,
    dir: "c2s",
    action: "request",
    env: { jsonrpc: "2.0", id: 1, method: "ping" },
  });
  const garbage: string[] = [];
  for (let i = 0; garbage.join("\n").length < 100_000; i++) {
    garbage.push(`not json ${i} ${"#".repeat(200)}`);
  }
  const lines = [initRecordJson(), frame, ...garbage];
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  const offsets: number[] = [];
  let at = 0;
  for (const [n, line] of lines.entries()) {
    if (n >= 2) offsets.push(at);
    at += new TextEncoder().encode(line).length + 1;
  }
  return { path, badLines: garbage.length, offsets };
}

const { path, badLines, offsets } = await garbageTape();

function assertCappedWarnings(program: string, stderr: string, path: string, bad: number): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 6, stderr.slice(0, 2000));
  for (const [i, line] of lines.slice(0, 5).entries()) {
    assert.equal(
      line,
      `${program}: warning: Line is not valid JSON in '${path}' at line ${i + 3} (byte ${
        offsets[i]
      }), skipped`,
    );
  }
  assert.equal(lines[5], `${program}: warning: ${bad - 5} more warnings not shown (${bad} in all)`);
}

Deno.test("replay of a tape full of garbage: five warnings named 'replay:', then one count", async () => {
  assert.ok(badLines > 400, `${badLines} bad lines`);
  const out = await runProgram("replay", [path]);
  assert.equal(out.code, 0, out.stderr.slice(0, 2000));
  assert.match(out.stdout, /"method":"ping"/);
  assertCappedWarnings("replay", out.stderr, path, badLines);
});

Deno.test("tail and tail --stats of a tape full of garbage: the same five warnings and one count", async () => {
  for (const args of [[path], [path, "--stats"]]) {
    const out = await runProgram("tail", args);
    assert.equal(out.code, 0, out.stderr.slice(0, 2000));
    assert.match(out.stdout, /ping/);
    assertCappedWarnings("tail", out.stderr, path, badLines);
  }
});

Deno.test("a merge of the tape with itself: the warnings of both readings share the five and the count", async () => {
  const out = await runProgram("replay", [path, path, "--merge"]);
  assert.equal(out.code, 0, out.stderr.slice(0, 2000));
  const lines = out.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 6, out.stderr.slice(0, 2000));
  assert.ok(
    lines.slice(0, 5).every((l) => l.startsWith("replay: warning: Line is not valid JSON")),
  );
  assert.equal(
    lines[5],
    `replay: warning: ${2 * badLines - 5} more warnings not shown (${2 * badLines} in all)`,
  );
});

Deno.test("a few warnings are all shown, with no count line", async () => {
  const few = `${work}/few.jsonl`;
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(few, text.split("\n").slice(0, 5).join("\n") + "\n");
  const out = await runProgram("replay", [few]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 3, out.stderr);
  assert.ok(
    lines.every((l) =>
      /^replay: warning: Line is not valid JSON in '.*' at line \d+ \(byte \d+\), skipped$/.test(l)
    ),
  );
});
