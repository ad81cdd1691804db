/**
 * Numbers past 2^53 in the messages of the real programs: shown as
 * written, never as the double `JSON.parse` or `Number` rounds them to.
 */

import assert from "node:assert/strict";
import { initRecordJson, runProgram } from "./_helpers.ts";

const work = await Deno.makeTempDir({ prefix: "spool-exact-numbers-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

function frame(seqText: string, ts: number): string {
  return `{"type":"frame","seq":${seqText},"ts":${ts},"dir":"c2s","env":{"jsonrpc":"2.0","method":"m${ts}"}}`;
}

Deno.test("gap warnings name the exact seqs of frames past 2^53", async () => {
  const path = `${work}/big-seqs.jsonl`;
  // 2^53 + 1 and 2^53 + 3: as doubles both round down, to 2^53 and 2^53 + 4.
  await Deno.writeTextFile(
    path,
    [initRecordJson(), frame("1", 0), frame("9007199254740993", 1), frame("9007199254740995", 2)]
      .join("\n") + "\n",
  );
  for (const program of ["replay", "tail"]) {
    const out = await runProgram(program, [path]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stderr.trimEnd().split("\n"), [
      `${program}: warning: Sequence gap: frames 2 to 9007199254740992 are missing in '${path}' at line 3 (byte ${
        (initRecordJson() + frame("1", 0)).length + 2
      })`,
      `${program}: warning: Sequence gap: frame 9007199254740994 is missing in '${path}' at line 4 (byte ${
        (initRecordJson() + frame("1", 0) + frame("9007199254740993", 1)).length + 3
      })`,
    ]);
  }
});

Deno.test("consecutive seqs past 2^53 are no gap, though their doubles are two apart", async () => {
  const path = `${work}/big-run.jsonl`;
  await Deno.writeTextFile(
    path,
    [initRecordJson(), frame("9007199254740993", 0), frame("9007199254740994", 1)].join("\n") +
      "\n",
  );
  const out = await runProgram("replay", [path]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(out.stderr.trimEnd().split("\n"), [
    `replay: warning: Sequence gap: frames 1 to 9007199254740992 are missing in '${path}' at line 2 (byte ${
      initRecordJson().length + 1
    })`,
  ]);
});

Deno.test("a seq option past 2^53 is refused quoting it as given", async () => {
  const path = `${work}/small.jsonl`;
  await Deno.writeTextFile(path, [initRecordJson(), frame("1", 0)].join("\n") + "\n");
  const cases: [string, string][] = [
    ["--from-seq", "9007199254740993"],
    ["--to-seq", "18446744073709551617"],
  ];
  for (const [option, value] of cases) {
    const out = await runProgram("replay", [path, option, value]);
    assert.equal(out.code, 2, out.stderr);
    assert.equal(
      out.stderr,
      `replay: Option '${option} <n>' argument '${value}' is invalid: expected a whole number of at most 9007199254740991, got '${value}' (see 'replay --help')\n`,
    );
  }
});

Deno.test("import quotes a seq or type id past 2^53 exactly as the line has it", async () => {
  const queue = `${work}/exact-queue`;
  const cases: [string, string][] = [
    [
      '{"seq":9007199254740993,"payload":"x"}',
      "'seq' must be a whole number of at least 1, not '9007199254740993'",
    ],
    ['{"type_id":18446744073709551617,"payload":"x"}', "not '18446744073709551617'"],
  ];
  for (const [line, message] of cases) {
    const out = await runProgram("import", ["--to", queue], { stdin: line + "\n" });
    assert.equal(out.code, 1, out.stderr);
    assert.ok(out.stderr.includes(message), out.stderr);
  }
});
