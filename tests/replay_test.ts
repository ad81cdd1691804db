/**
 * End-to-end tests of `replay`: the real program, on a tape recorded by the
 * real `record` program between the example client and server, and on a
 * hand-made fixture.
 */

import assert from "node:assert/strict";
import {
  exampleClientArgv,
  exampleServerArgv,
  programArgv,
  ROOT,
  runProgram,
  spawnProgram,
  waitFor,
} from "./_helpers.ts";
import type { FrameRecord, TapeRecord } from "../src/tape/types.ts";
import { TapeWriter } from "../src/tape/tape_writer.ts";
import { buildRecordedSession } from "../src/replay/recorded_session.ts";
import { verifyServer } from "../src/replay/verifier.ts";
import { serveTape } from "../src/replay/replay_tape.ts";
import { formatVerifySummary } from "../src/replay/verify_report.ts";
import { ServerProcessError } from "../src/replay/server_process_error.ts";

const FIXTURE = `${ROOT}tests/fixtures/replay_session.jsonl`;
const work = await Deno.makeTempDir({ prefix: "spool-replay-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

function readRecords(path: string): TapeRecord[] {
  return Deno.readTextFileSync(path).trim().split("\n").map((l) => JSON.parse(l));
}

function framesOf(path: string): FrameRecord[] {
  return readRecords(path).filter((r): r is FrameRecord => r.type === "frame");
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

let recorded: Promise<string> | undefined;
/** Records one real session between the example client and server (once per file). */
function recordedTape(): Promise<string> {
  recorded ??= (async () => {
    const tapes = `${work}/tapes`;
    const [client, ...clientArgs] = exampleClientArgv(
      Deno.execPath(),
      ...programArgv("record"),
      "--quiet",
      "--out",
      tapes,
      "--",
      ...exampleServerArgv(),
    );
    const out = await new Deno.Command(client!, {
      args: clientArgs,
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const jsonl = [...Deno.readDirSync(tapes)].find((e) => e.name.endsWith(".jsonl"));
    assert.ok(jsonl, "record wrote no tape");
    return `${tapes}/${jsonl.name}`;
  })();
  return recorded;
}

Deno.test("replay prints every frame record of a recorded tape as JSON lines", async () => {
  const tape = await recordedTape();
  const out = await runProgram("replay", [tape]);
  assert.equal(out.code, 0, out.stderr);
  const expected = framesOf(tape);
  assert.ok(expected.length >= 15);
  assert.deepEqual(lines(out.stdout), expected.map((f) => JSON.stringify(f)));
});

Deno.test("replay --raw prints the original messages only", async () => {
  const tape = await recordedTape();
  const out = await runProgram("replay", [tape, "--raw"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(lines(out.stdout), framesOf(tape).map((f) => JSON.stringify(f.env)));
  assert.ok(!out.stdout.includes('"type":"frame"'));
});

Deno.test("replay --raw prints each message byte for byte as record received it", async () => {
  // JSON.parse would round the big integer and respell 1.0 and 1e2.
  const input = [
    '{"jsonrpc":"2.0","id":1,"method":"m","params":{"big":12345678901234567890,"x":1.0}}',
    '{"jsonrpc":"2.0", "id":1, "result":{"big":-12345678901234567890,"e":1e2,"s":"\\u00e9"}}',
    "a text line",
  ].join("\n") + "\n";
  const dir = `${work}/exact`;
  const recorded = await runProgram("record", ["--stdin", "--quiet", "--out", dir], {
    stdin: input,
  });
  assert.equal(recorded.code, 0, recorded.stderr);
  const jsonl = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".jsonl"))!;
  const tape = `${dir}/${jsonl.name}`;
  const raw = await runProgram("replay", [tape, "--raw"]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal(raw.stdout, input);
  // Frame records keep the envelopes as written too.
  const plain = await runProgram("replay", [tape]);
  const envs = lines(input).slice(0, 2);
  assert.deepEqual(lines(plain.stdout).slice(0, 2).map((l) => envs.some((e) => l.includes(e))), [
    true,
    true,
  ]);
});

Deno.test("replay --raw prints text frames as their original line", async () => {
  const tape = `${work}/text.jsonl`;
  const records = [
    readRecords(FIXTURE)[0],
    { type: "frame", seq: 1, ts: 1, dir: "s2c", env: "plain log line", flags: ["text"] },
  ];
  await Deno.writeTextFile(tape, records.map((r) => JSON.stringify(r) + "\n").join(""));
  const out = await runProgram("replay", [tape, "--raw"]);
  assert.equal(out.stdout, "plain log line\n");
});

Deno.test("replay filters by direction and method, responses counted with their request", async () => {
  const frames = framesOf(FIXTURE);
  const c2s = await runProgram("replay", [FIXTURE, "--dir", "c2s"]);
  assert.deepEqual(
    lines(c2s.stdout).map((l) => JSON.parse(l).seq),
    frames.filter((f) => f.dir === "c2s").map((f) => f.seq),
  );
  const calls = await runProgram("replay", [FIXTURE, "--method", "tools/call", "-m", "ping"]);
  assert.deepEqual(lines(calls.stdout).map((l) => JSON.parse(l).seq), [6, 7, 8, 11, 14, 15]);
  const answers = await runProgram("replay", [FIXTURE, "--method", "tools/call", "--dir", "s2c"]);
  assert.deepEqual(lines(answers.stdout).map((l) => JSON.parse(l).seq), [7, 11]);
});

Deno.test("replay --from-seq / --to-seq select an inclusive range", async () => {
  const out = await runProgram("replay", [FIXTURE, "--from-seq", "4", "--to-seq", "6", "--raw"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(
    lines(out.stdout),
    framesOf(FIXTURE).filter((f) => f.seq >= 4 && f.seq <= 6).map((f) => JSON.stringify(f.env)),
  );
  const tail = await runProgram("replay", [FIXTURE, "--from-seq", "15"]);
  assert.deepEqual(lines(tail.stdout).map((l) => JSON.parse(l).seq), [15]);
});

Deno.test("replay paced with --speed / --realtime prints the same frames", async () => {
  const plain = await runProgram("replay", [FIXTURE]);
  const fast = await runProgram("replay", [FIXTURE, "--speed", "50", "--max-gap", "5"]);
  const real = await runProgram("replay", [FIXTURE, "--realtime", "--max-gap", "1"]);
  assert.equal(fast.code, 0, fast.stderr);
  assert.equal(fast.stdout, plain.stdout);
  assert.equal(real.stdout, plain.stdout);
});

Deno.test("replay --progress keeps stdout clean", async () => {
  const plain = await runProgram("replay", [FIXTURE, "--raw"]);
  const withBar = await runProgram("replay", [FIXTURE, "--raw", "--progress"]);
  assert.equal(withBar.code, 0, withBar.stderr);
  assert.equal(withBar.stdout, plain.stdout);
});

Deno.test("replay finds a tape by id in --tapes and by its .meta.json path", async () => {
  const tape = await recordedTape();
  const id = tape.split("/").at(-1)!.replace(/\.jsonl$/, "");
  const byPath = await runProgram("replay", [tape, "--raw"]);
  const byId = await runProgram("replay", [id, "--tapes", `${work}/tapes`, "--raw"]);
  assert.equal(byId.code, 0, byId.stderr);
  assert.equal(byId.stdout, byPath.stdout);
  const byMeta = await runProgram("replay", [tape.replace(/\.jsonl$/, ".meta.json"), "--raw"]);
  assert.equal(byMeta.stdout, byPath.stdout);
  const inCwd = await runProgram("replay", [id, "--raw"], { cwd: work });
  assert.equal(inCwd.stdout, byPath.stdout);
});

Deno.test("replay reports bad input on one line: missing file, not a tape, bad values", async () => {
  const missing = await runProgram("replay", [`${work}/x.jsonl`]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `replay: Cannot open tape '${work}/x.jsonl': no such file or directory\n`,
  );
  const notTape = `${work}/not-a-tape.jsonl`;
  await Deno.writeTextFile(notTape, '{"hello":"world"}\n');
  const bad = await runProgram("replay", [notTape]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^replay: Not a tape.*not-a-tape\.jsonl/);
  assert.equal(lines(bad.stderr).length, 1);
  for (
    const args of [
      ["--speed", "0"],
      ["--speed", "fast"],
      ["--max-gap", "-5"],
      ["--from-seq", "0"],
      ["--from-seq", "9", "--to-seq", "3"],
      ["--dir", "up"],
      ["--serve", "--verify"],
      ["--serve", "--raw"],
      ["--verify"],
      ["--ignore-path", "$.a[", "--verify", "--", "x"],
    ]
  ) {
    const out = await runProgram("replay", [FIXTURE, ...args]);
    assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    assert.equal(lines(out.stderr).length, 1, out.stderr);
    assert.match(out.stderr, /^replay: /);
    assert.equal(out.stdout, "");
  }
});

Deno.test("replay --serve answers the example client like the recorded server", async () => {
  const tape = await recordedTape();
  // Record the client talking to the mock: the new tape must repeat the old one.
  const again = `${work}/served`;
  const [cmd, ...args] = exampleClientArgv(
    Deno.execPath(),
    ...programArgv("record"),
    "--quiet",
    "--out",
    again,
    "--",
    Deno.execPath(),
    ...programArgv("replay"),
    tape,
    "--serve",
  );
  const out = await new Deno.Command(cmd!, { args, stdout: "piped", stderr: "piped" }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const jsonl = [...Deno.readDirSync(again)].find((e) => e.name.endsWith(".jsonl"))!;
  const served = framesOf(`${again}/${jsonl.name}`);
  const original = framesOf(tape);
  assert.deepEqual(served.map((f) => [f.dir, f.env]), original.map((f) => [f.dir, f.env]));
});

Deno.test("replay --serve rewrites ids and answers unknown requests with a named error", async () => {
  const input = [
    {
      jsonrpc: "2.0",
      id: "first",
      method: "tools/call",
      params: { name: "add", arguments: { a: 2, b: 3 } },
    },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 99, method: "resources/list", params: {} },
    {
      jsonrpc: "2.0",
      id: 100,
      method: "tools/call",
      params: { name: "add", arguments: { a: 1, b: 1 } },
    },
  ].map((m) => JSON.stringify(m) + "\n").join("");
  const out = await runProgram("replay", [FIXTURE, "--serve"], { stdin: input });
  assert.equal(out.code, 0, out.stderr);
  const answers = lines(out.stdout).map((l) => JSON.parse(l));
  assert.equal(answers.length, 3);
  assert.deepEqual(answers[0], {
    jsonrpc: "2.0",
    id: "first",
    result: { content: [{ type: "text", text: "5" }] },
  });
  assert.equal(answers[1].id, 99);
  assert.equal(answers[1].error.code, -32601);
  assert.match(answers[1].error.message, /'resources\/list'/);
  assert.equal(answers[2].id, 100);
  assert.equal(answers[2].error.code, -32001);
  assert.match(answers[2].error.message, /'tools\/call'/);
  const loose = await runProgram("replay", [FIXTURE, "--serve", "--loose"], {
    stdin: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: {} }) + "\n",
  });
  assert.equal(JSON.parse(loose.stdout).result.content[0].text, "5");
});

Deno.test("serveTape hands its per-request lines to the log callback", async () => {
  const logged: string[] = [];
  const chunks: Uint8Array[] = [];
  const summary = await serveTape({
    tape: FIXTURE,
    input: new Blob([
      '{"jsonrpc":"2.0","id":"x","method":"ping","params":{}}\n',
      '{"jsonrpc":"2.0","id":"y","method":"nope"}\n',
    ]).stream(),
    output: {
      write(p: Uint8Array) {
        chunks.push(p.slice());
        return Promise.resolve(p.length);
      },
    },
    log: (line) => logged.push(line),
  });
  assert.deepEqual(logged, [
    'ping (id "x") answered from seq 14 (exact match)',
    'nope (id "y") error -32601',
  ]);
  assert.equal(summary.answered, 1);
  assert.equal(new TextDecoder().decode(chunks[0]), '{"jsonrpc":"2.0","id":"x","result":{}}\n');
});

Deno.test("replay --serve -v describes each request on stderr, stdout stays clean", async () => {
  const out = await runProgram("replay", [FIXTURE, "--serve", "-v"], {
    stdin: '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}\n',
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr, "replay: ping (id 1) answered from seq 14 (exact match)\n");
  assert.equal(out.stdout, '{"jsonrpc":"2.0","id":1,"result":{}}\n');
  const quiet = await runProgram("replay", [FIXTURE, "--serve"], {
    stdin: '{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}\n',
  });
  assert.equal(quiet.stderr, "");
});

Deno.test("replay --serve answers with the recorded text, only the id changed", async () => {
  const writer = await TapeWriter.create(`${work}/exact-serve`);
  const request = { jsonrpc: "2.0", id: 1, method: "big", params: {} };
  await writer.append({ dir: "c2s", env: request });
  const response = '{"jsonrpc":"2.0","id":1,"result":{"n":12345678901234567890,"x":1.0}}';
  await writer.append({ dir: "s2c", env: JSON.parse(response), envJson: response });
  const after = '{"jsonrpc":"2.0","method":"note","params":{"e":1e2}}';
  await writer.append({ dir: "s2c", env: JSON.parse(after), envJson: after });
  await writer.finalize();
  const out = await runProgram("replay", [writer.path, "--serve"], {
    stdin: '{"jsonrpc":"2.0","id":"abc","method":"big","params":{}}\n' +
      '{"jsonrpc":"2.0","id":98765432109876543210,"method":"big","params":{}}\n' +
      '{"jsonrpc":"2.0","id":7.0,"method":"nope"}\n',
  });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(lines(out.stdout), [
    '{"jsonrpc":"2.0","id":"abc","result":{"n":12345678901234567890,"x":1.0}}',
    after,
    '{"jsonrpc":"2.0","id":98765432109876543210,"result":{"n":12345678901234567890,"x":1.0}}',
    after,
    '{"jsonrpc":"2.0","id":7.0,"error":{"code":-32601,' +
    '"message":"Method not found in tape: \'nope\'","data":{"method":"nope"}}}',
  ]);
});

Deno.test("replay --verify passes against the server that was recorded", async () => {
  const tape = await recordedTape();
  const out = await runProgram("replay", [tape, "--verify", "--", ...exampleServerArgv()]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /^verify: OK: 6 responses compared, 6 matched, 0 differed/m);
});

Deno.test("replay --verify fails against a changed server with a readable diff", async () => {
  const tape = await recordedTape();
  const out = await runProgram("replay", [
    tape,
    "--verify",
    "--",
    ...exampleServerArgv("--changed"),
  ]);
  assert.equal(out.code, 1, out.stdout + out.stderr);
  assert.match(out.stdout, /differ +seq \d+ tools\/call \(id 3\): 1 difference/);
  assert.match(out.stdout, /^ {2}\$\.result\.content\[0\]\.text: expected "5", actual "6"$/m);
  assert.match(out.stdout, /^verify: FAILED: 6 responses compared, 5 matched, 1 differed/m);
});

Deno.test("replay --verify --ignore-path hides the differences it names", async () => {
  const out = await runProgram("replay", [
    FIXTURE,
    "--verify",
    "--ignore-path",
    "$.result.content[0].text",
    "--",
    ...exampleServerArgv("--changed"),
  ]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /verify: OK/);
});

Deno.test("replay --verify says so on one line when the server is missing or dies", async () => {
  const missing = await runProgram("replay", [FIXTURE, "--verify", "--", "no-such-server-xyz"]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    "replay: Cannot start server 'no-such-server-xyz': no such command\n",
  );
  const dies = await runProgram("replay", [
    FIXTURE,
    "--verify",
    "--",
    Deno.execPath(),
    "eval",
    "Deno.exit(3)",
  ]);
  assert.equal(dies.code, 1);
  assert.match(
    dies.stderr,
    /^replay: Server '.*' exited with status 3 before answering 'initialize'/,
  );
  assert.equal(lines(dies.stderr).length, 1);
});

Deno.test("replay --verify reports a request that gets no answer in time", async () => {
  const silent = [Deno.execPath(), "eval", "for await (const _ of Deno.stdin.readable);"];
  const out = await runProgram("replay", [
    FIXTURE,
    "--verify",
    "--timeout",
    "200",
    "--",
    ...silent,
  ]);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stdout, /^timeout seq 1 initialize \(id 1\): no response within 200 ms$/m);
  assert.match(out.stdout, /6 timed out/);
});

/** A `deno eval` server that runs `setup`, writes its pid to `pidFile` (so it is ready), then runs `loop`. */
function evalServer(pidFile: string, setup: string, loop = "setInterval(() => {}, 60_000);") {
  const ready = `Deno.writeTextFileSync(${JSON.stringify(pidFile)}, String(Deno.pid));`;
  return [Deno.execPath(), "eval", `${setup}\n${ready}\n${loop}`];
}

function processGone(pidFile: string): boolean {
  const pid = Deno.readTextFileSync(pidFile);
  try {
    Deno.statSync(`/proc/${pid}`);
    return false;
  } catch {
    return true;
  }
}

/** Turns a hang into a failure. */
function notHanging<T>(what: string, promise: Promise<T>, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

const STUBBORN = 'Deno.addSignalListener("SIGTERM", () => {});\n' +
  'Deno.addSignalListener("SIGINT", () => {});';

Deno.test("verifyServer kills a server that ignores its closed input and SIGTERM", async () => {
  const session = await buildRecordedSession(framesOf(FIXTURE));
  const pidFile = `${work}/stubborn.pid`;
  const report = await notHanging(
    "verifyServer",
    verifyServer(session, evalServer(pidFile, STUBBORN), { timeoutMs: 100, killGraceMs: 100 }),
  );
  assert.equal(report.timedOut, 6);
  assert.equal(report.ok, false);
  assert.ok(processGone(pidFile), "the server is still running");
});

Deno.test("verifyServer reports a server that closes its input and keeps running", async () => {
  const session = await buildRecordedSession(framesOf(FIXTURE));
  const pidFile = `${work}/closed.pid`;
  // The shell closes the server's stdin before it starts; only writes buffered
  // before that succeed, so some message is the first one that cannot be sent.
  const [deno, ...evalArgs] = evalServer(pidFile, STUBBORN);
  const server = ["sh", "-c", 'exec 0<&-; exec "$0" "$@"', deno!, ...evalArgs];
  await assert.rejects(
    notHanging(
      "verifyServer",
      // The first write fails at once: the grace before SIGKILL gives `deno eval` time to start
      // and write its pid, which a loaded machine may take longer than 100 ms to do.
      verifyServer(session, server, { timeoutMs: 100, killGraceMs: 2000 }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof ServerProcessError);
      assert.match(error.message, /^Server '.*' closed its input before .* was sent$/s);
      return true;
    },
  );
  assert.ok(processGone(pidFile), "the server is still running");
});

Deno.test("verifyServer stops early on abort and kills a server ignoring the signal", async () => {
  const session = await buildRecordedSession(framesOf(FIXTURE));
  const pidFile = `${work}/aborted.pid`;
  const stop = new AbortController();
  const running = verifyServer(session, evalServer(pidFile, STUBBORN), {
    timeoutMs: 60_000,
    killGraceMs: 100,
    signal: stop.signal,
  });
  await waitFor("the server to start", () => {
    try {
      return Deno.readTextFileSync(pidFile) !== "" ? true : undefined;
    } catch {
      return undefined;
    }
  });
  stop.abort("SIGINT");
  const report = await notHanging("verifyServer", running);
  assert.equal(report.interrupted, true);
  assert.equal(report.ok, false);
  assert.ok(processGone(pidFile), "the server is still running");
  assert.match(formatVerifySummary(report), /^verify: INTERRUPTED: /);
});

Deno.test("replay --verify passes SIGTERM on to the server and exits with 143", async () => {
  const pidFile = `${work}/term.pid`;
  const marker = `${work}/term.marker`;
  const server = evalServer(
    pidFile,
    `Deno.addSignalListener("SIGTERM", () => {
      Deno.writeTextFileSync(${JSON.stringify(marker)}, "TERM");
      Deno.exit(0);
    });`,
    "for await (const _ of Deno.stdin.readable);",
  );
  const child = spawnProgram("replay", [
    FIXTURE,
    "--verify",
    "--timeout",
    "60000",
    "--",
    ...server,
  ]);
  await child.stdin.close();
  await waitFor("the server to start", () => {
    try {
      return Deno.readTextFileSync(pidFile) !== "" ? true : undefined;
    } catch {
      return undefined;
    }
  });
  child.kill("SIGTERM");
  const out = await notHanging("replay", child.output());
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 143, new TextDecoder().decode(out.stderr));
  assert.match(stdout, /^verify: INTERRUPTED: 0 responses compared/m);
  assert.equal(Deno.readTextFileSync(marker), "TERM");
  assert.ok(processGone(pidFile), "the server is still running");
});

Deno.test("replay --verify fails on a bad line of the tape, naming it; --lenient skips it", async () => {
  const lines = Deno.readTextFileSync(FIXTURE).split("\n");
  const damaged = `${work}/damaged.jsonl`;
  // A torn write: half a record, then the tape goes on.
  Deno.writeTextFileSync(
    damaged,
    [...lines.slice(0, 3), '{"type":"fra', ...lines.slice(3)].join("\n"),
  );
  const strict = await runProgram("replay", [damaged, "--verify", "--", ...exampleServerArgv()]);
  assert.equal(strict.code, 1, strict.stdout + strict.stderr);
  assert.equal(strict.stdout, "", "the server is not started for a damaged tape");
  assert.match(
    strict.stderr,
    /^replay: Line is not valid JSON in '.*damaged\.jsonl' at line 4 \(byte \d+\); '--lenient' skips bad lines with a warning\n$/,
  );
  const lenient = await runProgram("replay", [
    damaged,
    "--verify",
    "--lenient",
    "--",
    ...exampleServerArgv(),
  ]);
  assert.equal(lenient.code, 0, lenient.stdout + lenient.stderr);
  assert.match(lenient.stdout, /^verify: OK: \d+ responses compared/m);
  assert.match(lenient.stderr, /warning: Line is not valid JSON in '.*' at line 4 .*, skipped$/m);
});

Deno.test("replay --verify fails when it compared nothing, saying so on one line", async () => {
  const init = Deno.readTextFileSync(FIXTURE).split("\n")[0]!;
  const garbage = `${work}/garbage.jsonl`;
  Deno.writeTextFileSync(garbage, `${init}\n\u0000\u0000 garbage \u00ff\nmore garbage\n`);
  const strict = await runProgram("replay", [garbage, "--verify", "--", ...exampleServerArgv()]);
  assert.equal(strict.code, 1, strict.stdout + strict.stderr);
  assert.match(strict.stderr, /^replay: Line is not valid JSON in '.*garbage\.jsonl' at line 2 /);
  assert.equal(lines(strict.stderr).length, 1, strict.stderr);

  const lenient = await runProgram("replay", [
    garbage,
    "--verify",
    "--lenient",
    "--",
    ...exampleServerArgv(),
  ]);
  assert.equal(lenient.code, 1, lenient.stdout + lenient.stderr);
  assert.deepEqual(lines(lenient.stdout), [
    "verify: FAILED: nothing was compared: the tape has no request with a recorded response" +
    " (0 messages sent)",
  ]);
  assert.equal(lenient.stderr.match(/warning: .*, skipped$/gm)?.length, 2, lenient.stderr);

  const initOnly = `${work}/init-only.jsonl`;
  Deno.writeTextFileSync(initOnly, `${init}\n`);
  const empty = await runProgram("replay", [initOnly, "--verify", "--", ...exampleServerArgv()]);
  assert.equal(empty.code, 1, empty.stdout + empty.stderr);
  assert.match(empty.stdout, /^verify: FAILED: nothing was compared: /m);

  const misplaced = await runProgram("replay", [FIXTURE, "--lenient"]);
  assert.equal(misplaced.code, 2);
  assert.equal(misplaced.stderr, "replay: Option '--lenient' applies to '--verify'\n");
});

const ID_SERVER = [Deno.execPath(), "run", `${ROOT}tests/fixtures/id_echo_server.ts`];
const NEAR_IDS = [
  '{"jsonrpc":"2.0","id":12345678901234567890,"method":"first"}',
  '{"jsonrpc":"2.0","id":12345678901234567891,"method":"second"}',
  '{"jsonrpc":"2.0","id":1,"method":"one"}',
  '{"jsonrpc":"2.0","id":1.0,"method":"one point oh"}',
];

let nearIdsTape: Promise<string> | undefined;
/** A tape recorded by `record` of requests with ids a double cannot tell apart, answered last first. */
function nearIdsRecorded(): Promise<string> {
  nearIdsTape ??= (async () => {
    const tapes = `${work}/near-ids`;
    const out = await runProgram("record", [
      "--out",
      tapes,
      "--quiet",
      "--",
      ...ID_SERVER,
      "reversed",
    ], {
      stdin: NEAR_IDS.map((l) => `${l}\n`).join(""),
    });
    assert.equal(out.code, 0, out.stderr);
    const jsonl = [...Deno.readDirSync(tapes)].find((e) => e.name.endsWith(".jsonl"));
    assert.ok(jsonl, "record wrote no tape");
    return `${tapes}/${jsonl.name}`;
  })();
  return nearIdsTape;
}

Deno.test("record correlates ids by their text: 12345678901234567891 does not answer …890, 1.0 not 1", async () => {
  const tape = await nearIdsRecorded();
  const records = readRecords(tape);
  const frames = records.filter((r): r is FrameRecord => r.type === "frame");
  assert.deepEqual(frames.map((f) => f.dir), [
    "c2s",
    "c2s",
    "c2s",
    "c2s",
    "s2c",
    "s2c",
    "s2c",
    "s2c",
  ]);
  const answered = records.flatMap((r) =>
    r.type === "correlation" ? [[r.response_seq, r.request_seq, r.method]] : []
  );
  assert.deepEqual(answered, [
    [5, 4, "one point oh"],
    [6, 3, "one"],
    [7, 2, "second"],
    [8, 1, "first"],
  ]);
});

Deno.test("tail shows each response with its own request's method when ids differ only in text", async () => {
  const tape = await nearIdsRecorded();
  const out = await runProgram("tail", [tape, "-n", "4", "--dir", "s2c"]);
  assert.equal(out.code, 0, out.stderr);
  const methods = lines(out.stdout).map((l) => /← response +(.+?) +#/.exec(l)?.[1]);
  assert.deepEqual(methods, ["one point oh", "one", "second", "first"]);
  // Ids and sizes as recorded, not as a parsed number prints.
  const ids = lines(out.stdout).map((l) => / #(\S+) /.exec(l)?.[1]);
  assert.deepEqual(ids, ["1.0", "1", "12345678901234567891", "12345678901234567890"]);
  const sizes = lines(out.stdout).map((l) => Number(/ (\d+) B$/.exec(l)?.[1]));
  const recorded = Deno.readTextFileSync(tape).split("\n").filter((l) => l.includes('"dir":"s2c"'));
  assert.equal(recorded.length, 4);
  assert.deepEqual(
    sizes,
    recorded.map((l) => new TextEncoder().encode(/"env":(\{.*?\}\})/.exec(l)![1]!).length),
  );
});

Deno.test("replay --verify takes a response only under the exact id it sent", async () => {
  const tape = await nearIdsRecorded();
  const exact = await runProgram("replay", [tape, "--verify", "--", ...ID_SERVER, "exact"]);
  assert.equal(exact.code, 0, exact.stdout + exact.stderr);
  assert.match(exact.stdout, /^verify: OK: 4 responses compared, 4 matched, 0 differed/m);
  const near = await runProgram("replay", [
    tape,
    "--verify",
    "--timeout",
    "300",
    "--",
    ...ID_SERVER,
    "near",
  ]);
  assert.equal(near.code, 1, near.stdout + near.stderr);
  assert.match(
    near.stdout,
    /^verify: FAILED: 4 responses compared, 0 matched, 0 differed, 4 timed out$/m,
  );
  assert.match(near.stdout, /^timeout seq 1 first \(id 12345678901234567890\): no response/m);
  assert.match(near.stdout, /^timeout seq 2 second \(id 12345678901234567891\): no response/m);
  assert.match(near.stdout, /^timeout seq 4 one point oh \(id 1\.0\): no response/m);
});

Deno.test("replay --serve names the client's id exactly as it was written", async () => {
  const tape = await nearIdsRecorded();
  const out = await runProgram("replay", [tape, "--serve", "-v"], {
    stdin: '{"jsonrpc":"2.0","id":98765432109876543211,"method":"second"}\n',
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(
    out.stdout,
    '{"jsonrpc":"2.0","id":98765432109876543211,"result":{"asked":"12345678901234567891"}}\n',
  );
  assert.match(out.stderr, /^replay: second \(id 98765432109876543211\) answered from seq 2/m);
});

Deno.test("a tape line that starts with a byte order mark is a bad line, not silently read", async () => {
  const [init, ...rest] = Deno.readTextFileSync(FIXTURE).split("\n");
  const marked = `${work}/bom-line.jsonl`;
  Deno.writeTextFileSync(marked, [init, `\uFEFF${rest[0]}`, ...rest.slice(1)].join("\n"));
  const strict = await runProgram("replay", [marked, "--verify", "--", ...exampleServerArgv()]);
  assert.equal(strict.code, 1, strict.stdout + strict.stderr);
  assert.match(strict.stderr, /^replay: Line is not valid JSON in '.*bom-line\.jsonl' at line 2 /);
  const plain = await runProgram("replay", [marked]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(
    plain.stderr,
    /warning: Line is not valid JSON in '.*' at line 2 \(byte \d+\), skipped/,
  );
  assert.equal(lines(plain.stdout).length, framesOf(FIXTURE).length - 1);
});
