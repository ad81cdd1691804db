import assert from "node:assert/strict";
import { TapeReader, type TapeWarning } from "../src/tape/tape_reader.ts";
import { metaPathFor, readMeta } from "../src/tape/meta_file.ts";
import type { FrameInput } from "../src/tape/types.ts";
import { LineTooLongError, TapeWriteError } from "../src/tape/tape_write_errors.ts";
import { frameFromLine, LineRecorder } from "../src/proxy/line_recorder.ts";
import type {
  CheckpointRecord,
  CorrelationRecord,
  FrameRecord,
  TapeRecord,
} from "../src/tape/types.ts";
import {
  canMountTmpfs,
  exampleClientArgv,
  exampleServerArgv,
  programArgv,
  runProgram,
  spawnProgram,
  waitFor,
  withTmpfs,
} from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_record_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function tapesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".jsonl")) found.push(`${dir}/${entry.name}`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort();
}

async function onlyTape(dir: string): Promise<string> {
  const tapes = await tapesIn(dir);
  assert.equal(tapes.length, 1, `expected one tape in ${dir}, found ${tapes.join(", ")}`);
  return tapes[0]!;
}

async function readTape(
  path: string,
): Promise<{ records: TapeRecord[]; frames: FrameRecord[]; warnings: TapeWarning[] }> {
  const warnings: TapeWarning[] = [];
  using reader = await TapeReader.open(path, { onWarning: (w) => warnings.push(w) });
  const records: TapeRecord[] = [reader.init];
  for await (const record of reader.records()) records.push(record);
  const frames = records.filter((r): r is FrameRecord => r.type === "frame");
  return { records, frames, warnings };
}

/** Runs record with raw bytes on stdin and returns raw stdout. */
async function runRecordBytes(
  args: string[],
  input: Uint8Array,
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...programArgv("record"), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  // Write while reading, as a real client does: writing everything first
  // would fill the pipes and stall any relay, record or not.
  const writing = (async () => {
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
  })();
  const [out] = await Promise.all([child.output(), writing]);
  return { code: out.code, stdout: out.stdout, stderr: decoder.decode(out.stderr) };
}

/** Reads a child's stdout until `predicate` holds for what arrived; returns the text. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (text: string) => boolean,
): Promise<string> {
  let text = "";
  while (!predicate(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Stream ended before the expected output; got '${text}'`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr.trimEnd(), pattern);
  assert.equal(stderr.trimEnd().split("\n").length, 1, `expected one line, got: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

Deno.test("records a real client/server exchange with correlations and the negotiated version", async () => {
  await withTempDir(async (dir) => {
    const recordArgv = [Deno.execPath(), ...programArgv("record"), "--out", dir, "--name", "demo"];
    const [program, ...args] = exampleClientArgv(
      ...recordArgv,
      "--tag",
      "e2e",
      "--",
      ...exampleServerArgv(),
    );
    const out = await new Deno.Command(program!, { args, stdout: "piped", stderr: "piped" })
      .output();
    const stderr = decoder.decode(out.stderr);
    assert.equal(out.code, 0, stderr);

    const path = await onlyTape(dir);
    const { records, frames, warnings } = await readTape(path);
    assert.deepEqual(warnings, []);
    assert.equal(records[0]!.type, "init");
    const c2s = frames.filter((f) => f.dir === "c2s");
    const s2c = frames.filter((f) => f.dir === "s2c");
    // initialize, initialized, tools/list, add, ask, no/such/method, ping + the answer to the server.
    assert.equal(c2s.length, 8);
    // Six answers plus the server's own request.
    assert.equal(s2c.length, 7);
    assert.deepEqual(frames.map((f) => f.seq), frames.map((_, i) => i + 1));

    const init = c2s.find((f) => (f.env as { method?: string }).method === "initialize");
    assert.ok(init);
    assert.equal(init.action, "request");
    const serverRequest = s2c.find((f) =>
      (f.env as { method?: string }).method === "sampling/createMessage"
    );
    assert.ok(serverRequest, "the server's own request was recorded");
    assert.equal(serverRequest.action, "request");

    const correlations = records.filter((r): r is CorrelationRecord => r.type === "correlation");
    // Seven client requests... minus the notification: six, plus the server's request.
    assert.equal(correlations.length, 7);
    const asked = correlations.find((c) => c.request_seq === serverRequest.seq);
    assert.ok(asked, "the server-to-client request is correlated");
    assert.equal(asked.status, "ok");
    const answer = frames.find((f) => f.seq === asked.response_seq);
    assert.equal(answer?.dir, "c2s");
    assert.ok(correlations.some((c) => c.status === "error"), "unknown method gave an error");

    const last = records[records.length - 1]!;
    assert.equal(last.type, "checkpoint");
    assert.equal((last as CheckpointRecord).final, true);

    const meta = await readMeta(metaPathFor(path));
    assert.equal(meta.status, "finalized");
    assert.equal(meta.protocol_version, "2025-06-18");
    assert.equal(meta.name, "demo");
    assert.deepEqual(meta.tags, ["e2e"]);
    assert.equal(meta.stats.frame_count, frames.length);
    assert.deepEqual(meta.environment.command, exampleServerArgv());
    assert.equal(meta.environment.os, Deno.build.os);
    assert.equal(meta.performance.durability, "flush");
    assert.match(
      stderr,
      new RegExp(`record: tape ${meta.tape_id} finalized: ${frames.length} frames → .*\\.jsonl`),
    );
  });
});

Deno.test("forwards every byte unchanged in both directions and records each line", async () => {
  await withTempDir(async (dir) => {
    const input = new Uint8Array([
      ...encoder.encode('  {"jsonrpc":"2.0" ,  "id":1,"method":"a"}  \n'),
      ...encoder.encode("\n\r\n"),
      ...encoder.encode("not json at all\r\n"),
      ...encoder.encode('{"u":"é ☃ 𝄞","n":1.50}\n'),
      0xff,
      0xfe,
      0x0a, // invalid UTF-8 line
      ...encoder.encode("[1,2,3]\n"),
      ...encoder.encode('{"last":"no newline"}'),
    ]);
    const result = await runRecordBytes(["--out", dir, "--quiet", "--", "cat"], input);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.deepEqual(result.stdout, input);

    const { frames } = await readTape(await onlyTape(dir));
    const c2s = frames.filter((f) => f.dir === "c2s");
    const s2c = frames.filter((f) => f.dir === "s2c");
    assert.equal(c2s.length, 6);
    assert.deepEqual(
      s2c.map((f) => f.env),
      c2s.map((f) => f.env),
    );
    assert.deepEqual(c2s.map((f) => f.env), [
      { jsonrpc: "2.0", id: 1, method: "a" },
      "not json at all",
      { u: "é ☃ 𝄞", n: 1.5 },
      "\ufffd\ufffd",
      [1, 2, 3],
      { last: "no newline" },
    ]);
    assert.deepEqual(c2s.map((f) => f.flags ?? []), [[], ["text"], [], ["text"], [], []]);
  });
});

Deno.test("a 20 MiB transfer arrives byte-identical and every line is on the tape", async () => {
  await withTempDir(async (dir) => {
    const lines = 20 * 1024;
    const pad = "x".repeat(1024);
    const input = encoder.encode(
      Array.from({ length: lines }, (_, i) => `{"n":${i},"pad":"${pad}"}\n`).join(""),
    );
    assert.ok(input.length >= 20 * 1024 * 1024);
    const result = await runRecordBytes(
      ["--out", dir, "--quiet", "--durability", "buffered", "--", "cat"],
      input,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.equal(result.stdout.length, input.length);
    assert.deepEqual(result.stdout, input);
    const { frames, warnings } = await readTape(await onlyTape(dir));
    assert.deepEqual(warnings, []);
    for (const direction of ["c2s", "s2c"]) {
      const ns = frames.filter((f) => f.dir === direction).map((f) => (f.env as { n: number }).n);
      assert.equal(ns.length, lines, direction);
      assert.ok(ns.every((n, i) => n === i), `${direction} frames in order`);
    }
  });
});

Deno.test("the recording ends when the server exits although the client keeps stdin open", async () => {
  await withTempDir(async (dir) => {
    const child = spawnProgram("record", [
      "--out",
      dir,
      "--quiet",
      "--",
      "sh",
      "-c",
      'read line; echo "{\\"got\\":$line}"',
    ]);
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode("1\n"));
    // stdin stays open until record has exited: a record waiting for its EOF would hang here.
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    await writer.close().catch(() => {});
    assert.equal(status.code, 0, stderr);
    assert.equal(stdout, '{"got":1}\n');
    const path = await onlyTape(dir);
    assert.equal((await readMeta(metaPathFor(path))).status, "finalized");
    const { frames } = await readTape(path);
    assert.deepEqual(frames.map((f) => [f.dir, f.env]), [["c2s", 1], ["s2c", { got: 1 }]]);
  });
});

Deno.test("passes the server's exit status back", async () => {
  await withTempDir(async (dir) => {
    const result = await runProgram("record", ["--out", dir, "--", "sh", "-c", "exit 7"], {
      stdin: "",
    });
    assert.equal(result.code, 7, result.stderr);
    assert.equal(result.stdout, "");
    const meta = await readMeta(metaPathFor(await onlyTape(dir)));
    assert.equal(meta.status, "finalized");
    assert.equal(meta.stats.frame_count, 0);
  });
});

Deno.test("options after the server command go to the server", async () => {
  await withTempDir(async (dir) => {
    const result = await runProgram(
      "record",
      ["--out", dir, "--quiet", "sh", "-c", 'echo "$1"', "sh", "--out"],
      { stdin: "" },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "--out\n");
    const { frames } = await readTape(await onlyTape(dir));
    assert.deepEqual(frames.map((f) => [f.dir, f.env, f.flags]), [["s2c", "--out", ["text"]]]);
  });
});

Deno.test("forwards SIGTERM to the server and finalizes the tape", async () => {
  await withTempDir(async (dir) => {
    const server = `trap 'echo "{\\"got\\":\\"TERM\\"}"; exit 42' TERM
echo '{"ready":true}'
while :; do sleep 0.05; done`;
    const child = spawnProgram("record", ["--out", dir, "--", "sh", "-c", server]);
    const stdout = child.stdout.getReader();
    await readUntil(stdout, (t) => t.includes('"ready"'));
    // The tape exists before the server's output is relayed, so record is fully set up.
    child.kill("SIGTERM");
    const rest = await readUntil(stdout, (t) => t.includes('"got"'));
    assert.match(rest, /"got":"TERM"/);
    stdout.releaseLock();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
      child.stdout.cancel(),
    ]);
    await child.stdin.close();
    assert.equal(status.signal, null, "record itself was not killed");
    assert.equal(status.code, 42, stderr);
    const path = await onlyTape(dir);
    const meta = await readMeta(metaPathFor(path));
    assert.equal(meta.status, "finalized");
    const { frames } = await readTape(path);
    assert.deepEqual(frames.map((f) => f.env), [{ ready: true }, { got: "TERM" }]);
  });
});

Deno.test("a server killed by a signal gives 128 + the signal number", async () => {
  await withTempDir(async (dir) => {
    const result = await runProgram(
      "record",
      ["--out", dir, "--quiet", "--", "sh", "-c", "kill -HUP $$"],
      { stdin: "" },
    );
    assert.equal(result.code, 129, result.stderr);
  });
});

Deno.test("a recorder killed with SIGKILL leaves every complete frame readable", async () => {
  await withTempDir(async (dir) => {
    const child = spawnProgram("record", ["--stdin", "--out", dir]);
    const writer = child.stdin.getWriter();
    for (let i = 1; i <= 5; i++) {
      await writer.write(encoder.encode(`{"jsonrpc":"2.0","method":"tick","params":{"n":${i}}}\n`));
      // Slow writer: each line arrives on its own.
      await new Promise((r) => setTimeout(r, 20));
    }
    await writer.write(encoder.encode('{"jsonrpc":"2.0","method":"cut off'));
    const path = await waitFor("the tape", async () => (await tapesIn(dir))[0]);
    await waitFor("five frames on disk", async () => {
      const text = await Deno.readTextFile(path);
      return (text.match(/"type":"frame"/g)?.length ?? 0) >= 5 ? true : undefined;
    });
    child.kill("SIGKILL");
    const status = await child.status;
    await Promise.all([
      child.stdout.cancel(),
      child.stderr.cancel(),
      writer.close().catch(() => {}),
    ]);
    assert.equal(status.signal, "SIGKILL");

    const { frames } = await readTape(path);
    assert.deepEqual(frames.map((f) => (f.env as { params: { n: number } }).params.n), [
      1,
      2,
      3,
      4,
      5,
    ]);
    const meta = await readMeta(metaPathFor(path));
    assert.equal(meta.status, "recording");
  });
});

Deno.test("a server command that does not exist: one line, exit 1, no tape", async () => {
  await withTempDir(async (dir) => {
    const result = await runProgram("record", ["--out", dir, "--", "no-such-command-xyz"], {
      stdin: "",
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "record: Cannot start server command 'no-such-command-xyz': not found\n",
    );
    assert.equal(result.stdout, "");
    assert.deepEqual(await tapesIn(dir), []);
  });
});

Deno.test("an output directory that cannot be created: one line, exit 1", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "");
    const result = await runProgram("record", ["--out", `${dir}/file/tapes`, "--", "cat"], {
      stdin: "",
    });
    assert.equal(result.code, 1);
    assertOneLine(
      result.stderr,
      new RegExp(`^record: Cannot create a tape in '${dir}/file/tapes'`),
    );
  });
});

Deno.test("usage errors exit 2 with one line", async () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing server command/],
    [["--stdin", "--", "cat"], /'--stdin' takes no server command/],
    [["--durability", "sometimes", "--", "cat"], /sometimes/],
    [["--redact", "$.a[", "--", "cat"], /Invalid redaction rule '\$\.a\['/],
    [["--redact", "re:(", "--stdin"], /Invalid redaction rule 're:\('/],
    [["--grace-ms", "soon", "--", "cat"], /soon/],
    [["--no-such-option"], /no-such-option/],
  ];
  await withTempDir(async (dir) => {
    for (const [args, pattern] of cases) {
      const result = await runProgram("record", ["--out", dir, ...args], { stdin: "" });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assertOneLine(result.stderr, /^record: /);
      assert.match(result.stderr, pattern);
      assert.equal(result.stdout, "");
    }
    assert.deepEqual(await tapesIn(dir), []);
  });
});

Deno.test("--help explains the options with examples", async () => {
  const result = await runProgram("record", ["--help"]);
  assert.equal(result.code, 0);
  for (const word of ["--out", "--durability", "--redact", "--stdin", "--tag", "Examples:"]) {
    assert.ok(result.stdout.includes(word), word);
  }
});

Deno.test("--stdin records JSON and text lines until end of input", async () => {
  await withTempDir(async (dir) => {
    const result = await runProgram("record", ["--stdin", "--out", dir, "--tag", "logs"], {
      stdin: 'hello world\n{"jsonrpc":"2.0","method":"note"}\n\n  \nbye',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
    const path = await onlyTape(dir);
    assertOneLine(result.stderr, /^record: tape \S+ finalized: 3 frames → .*\.jsonl$/);
    const { frames } = await readTape(path);
    assert.deepEqual(frames.map((f) => [f.dir, f.env, f.flags ?? []]), [
      ["c2s", "hello world", ["text"]],
      ["c2s", { jsonrpc: "2.0", method: "note" }, []],
      ["c2s", "bye", ["text"]],
    ]);
    const meta = await readMeta(metaPathFor(path));
    assert.equal(meta.status, "finalized");
    assert.deepEqual(meta.tags, ["logs"]);
    assert.equal(meta.environment.command, undefined);
  });
});

Deno.test("redaction changes the recorded copy only, never the forwarded bytes", async () => {
  await withTempDir(async (dir) => {
    const input = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"login",' +
      '"arguments":{"user":"ann","password":"hunter2"}}}',
      '{"jsonrpc":"2.0","id":2,"result":{"note":"key sk-abc123 issued"}}',
      "plain sk-zzz9 line",
      '{"jsonrpc":"2.0","id":3,"result":{}}',
      "",
    ].join("\n");
    const result = await runRecordBytes(
      [
        "--out",
        dir,
        "--quiet",
        "--redact",
        "$.params.arguments.password",
        "--redact",
        "re:sk-[a-z0-9]+",
        "--",
        "cat",
      ],
      encoder.encode(input),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decoder.decode(result.stdout), input);

    const path = await onlyTape(dir);
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes("hunter2"), "password not on the tape");
    assert.ok(!text.includes("sk-abc123") && !text.includes("sk-zzz9"), "keys not on the tape");
    const { frames } = await readTape(path);
    assert.equal(frames.length, 8);
    for (const dir of ["c2s", "s2c"]) {
      const [login, issued, plain, plainResult] = frames.filter((f) => f.dir === dir);
      assert.deepEqual(
        (login!.env as { params: { arguments: unknown } }).params.arguments,
        { user: "ann", password: "[REDACTED]" },
      );
      assert.deepEqual(login!.flags, ["redacted"]);
      assert.deepEqual((issued!.env as { result: unknown }).result, {
        note: "key [REDACTED] issued",
      });
      assert.deepEqual(plain!.env, "plain [REDACTED] line");
      assert.deepEqual(plain!.flags, ["text", "redacted"]);
      assert.equal(plainResult!.flags, undefined);
    }
  });
});

Deno.test("a client that closes its end of stdout is handled without a stack trace", async () => {
  await withTempDir(async (dir) => {
    const server =
      `while :; do echo '{"jsonrpc":"2.0","method":"tick"}' || exit 3; sleep 0.01; done`;
    const child = spawnProgram("record", [
      "--out",
      dir,
      "--grace-ms",
      "200",
      "--",
      "sh",
      "-c",
      server,
    ]);
    const stdout = child.stdout.getReader();
    await readUntil(stdout, (t) => t.includes("tick"));
    stdout.releaseLock();
    await child.stdout.cancel();
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    await child.stdin.close().catch(() => {});
    // The server ignores its closed stdin, so record stops it with SIGTERM after the grace period.
    assert.equal(status.code, 143, stderr);
    assertOneLine(stderr, /^record: tape \S+ finalized: \d+ frames/);
    const path = await onlyTape(dir);
    assert.equal((await readMeta(metaPathFor(path))).status, "finalized");
    const { frames } = await readTape(path);
    assert.ok(frames.length >= 1);
  });
});

Deno.test("when the client closes stdin the server's stdin is closed and its output kept", async () => {
  await withTempDir(async (dir) => {
    // The server answers only after its stdin ends.
    const result = await runProgram(
      "record",
      ["--out", dir, "--quiet", "--", "sh", "-c", 'n=$(wc -l); echo "{\\"lines\\":$n}"'],
      { stdin: '{"a":1}\n{"a":2}\n' },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '{"lines":2}');
    const { frames } = await readTape(await onlyTape(dir));
    assert.deepEqual(frames.map((f) => [f.dir, f.env]), [
      ["c2s", { a: 1 }],
      ["c2s", { a: 2 }],
      ["s2c", { lines: 2 }],
    ]);
  });
});

Deno.test("--stdin stops on SIGINT with a finalized tape and status 130", async () => {
  await withTempDir(async (dir) => {
    const child = spawnProgram("record", ["--stdin", "--out", dir]);
    const writer = child.stdin.getWriter();
    await writer.write(
      encoder.encode('{"jsonrpc":"2.0","method":"a"}\n{"jsonrpc":"2.0","method":"b"}\n'),
    );
    const path = await waitFor("the tape", async () => (await tapesIn(dir))[0]);
    await waitFor("two frames on disk", async () => {
      const text = await Deno.readTextFile(path);
      return (text.match(/"type":"frame"/g)?.length ?? 0) >= 2 ? true : undefined;
    });
    child.kill("SIGINT");
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
      child.stdout.cancel(),
    ]);
    await writer.close().catch(() => {});
    assert.equal(status.code, 130, stderr);
    assertOneLine(stderr, /^record: tape \S+ finalized: 2 frames/);
    assert.equal((await readMeta(metaPathFor(path))).status, "finalized");
  });
});

Deno.test("--stdin from a directory: one line, exit 1, the tape marked error", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/tapes`;
    // A shell redirects the directory into stdin, as `record --stdin < somedir` does.
    const result = await new Deno.Command("sh", {
      args: ["-c", 'dir="$1"; shift; exec "$@" < "$dir"', "sh", dir, Deno.execPath(), ...[
        ...programArgv("record"),
        ...["--stdin", "--out", out],
      ]],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = decoder.decode(result.stderr);
    assert.equal(result.code, 1, stderr);
    assert.equal(decoder.decode(result.stdout), "");
    const path = await onlyTape(out);
    assertOneLine(
      stderr,
      new RegExp(
        `^record: Cannot read standard input: is a directory; tape '${path}' is marked 'error': ` +
          "redirect a file of lines or pipe them into 'record --stdin'$",
      ),
    );
    const meta = await readMeta(metaPathFor(path));
    assert.equal(meta.status, "error");
    assert.equal(meta.error, "Cannot read standard input: is a directory");
    assert.equal(meta.stats.frame_count, 0);
  });
});

/** Runs `tail -f` on a tape, killing it after `limitMs`: a follow that never ends fails the test. */
async function tailFollowStatus(path: string, limitMs = 15_000): Promise<Deno.CommandStatus> {
  const child = spawnProgram("tail", [path, "-f", "-n", "0"]);
  await child.stdin.close();
  const guard = setTimeout(() => child.kill("SIGKILL"), limitMs);
  try {
    const [status] = await Promise.all([
      child.status,
      child.stdout.cancel(),
      child.stderr.cancel(),
    ]);
    return status;
  } finally {
    clearTimeout(guard);
  }
}

Deno.test({
  name:
    "--stdin on a full disk marks the tape error in every durability mode and tail -f ends (needs root for a tmpfs)",
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    const line = `{"jsonrpc":"2.0","method":"fill","params":{"pad":"${"x".repeat(100)}"}}\n`;
    const input = line.repeat(4000);
    for (const durability of ["flush", "buffered", "fsync"]) {
      // 256 KiB: the tape fills it; flush mode fills it to the last byte.
      await withTmpfs("256k", async (mount) => {
        const out = `${mount}/tapes`;
        const result = await runProgram(
          "record",
          ["--stdin", "--out", out, "--durability", durability],
          { stdin: input },
        );
        assert.equal(result.code, 1, `${durability}: ${result.stderr}`);
        const path = await onlyTape(out);
        assertOneLine(
          result.stderr,
          new RegExp(
            `^record: Cannot write tape '${path}': no space left on device; recording stopped, ` +
              "the rest of standard input is read and dropped$",
          ),
        );
        const meta = await readMeta(metaPathFor(path));
        assert.equal(meta.status, "error", durability);
        assert.equal(meta.error, `Cannot write tape '${path}': no space left on device`);
        const { frames } = await readTape(path);
        // How many are kept depends on the group in flight when the disk
        // filled (with fsync, a larger group on a loaded machine): what must
        // hold is that they are whole, in order from seq 1, and counted.
        assert.ok(frames.length > 0, `${durability}: nothing kept`);
        assert.deepEqual(
          frames.map((f) => f.seq),
          Array.from({ length: frames.length }, (_, i) => i + 1),
          durability,
        );
        assert.equal(meta.stats.frame_count, frames.length, durability);
        assert.ok(frames.every((f) => (f.env as { method?: string }).method === "fill"));
        const tail = await tailFollowStatus(path);
        assert.equal(tail.signal, null, `${durability}: tail -f on a tape marked error ends`);
        assert.equal(tail.code, 0);
      });
    }
  },
});

Deno.test("a line over the 10 MiB limit is forwarded, not recorded, and recording goes on", async () => {
  await withTempDir(async (dir) => {
    const huge = `{"big":"${"x".repeat(10 * 1024 * 1024 + 10)}"}`;
    const input = encoder.encode(`{"n":1}\n${huge}\n{"n":2}\n`);
    const result = await runRecordBytes(["--out", dir, "--", "cat"], input);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, input.length);
    assert.deepEqual(result.stdout, input);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 3, result.stderr);
    assert.match(lines[0]!, /^record: warning: a (c2s|s2c) line of \d+ bytes is over/);
    assert.match(lines[2]!, /finalized: 4 frames/);
    const { frames } = await readTape(await onlyTape(dir));
    assert.deepEqual(frames.map((f) => [f.dir, f.env]).sort(), [
      ["c2s", { n: 1 }],
      ["c2s", { n: 2 }],
      ["s2c", { n: 1 }],
      ["s2c", { n: 2 }],
    ]);
  });
});

Deno.test("line recorder: lines split across chunks, a last line without newline, order kept", async () => {
  const frames: FrameInput[] = [];
  const recorder = new LineRecorder({ append: (f) => Promise.resolve(frames.push(f)) }, {
    dir: "s2c",
  });
  recorder.push(encoder.encode('{"a":'));
  recorder.push(encoder.encode("1}\r\nplain"));
  assert.equal(frames.length, 1);
  recorder.push(encoder.encode(" text\n\n[2]"));
  recorder.end();
  await recorder.settled();
  assert.equal(recorder.frames, 3);
  assert.deepEqual(frames, [
    { dir: "s2c", env: { a: 1 }, envJson: '{"a":1}' },
    { dir: "s2c", env: "plain text", flags: ["text"] },
    { dir: "s2c", env: [2], envJson: "[2]" },
  ]);
});

Deno.test("line recorder: a refused frame warns, a write failure is reported as an error", async () => {
  const warnings: string[] = [];
  const errors: unknown[] = [];
  let calls = 0;
  const recorder = new LineRecorder({
    append: () => {
      calls++;
      if (calls === 1) return Promise.reject(new LineTooLongError("t.jsonl", 20, 10));
      return Promise.reject(new TapeWriteError("write tape", "t.jsonl", new Error("disk full")));
    },
  }, {
    dir: "c2s",
    onWarning: (m) => warnings.push(m),
    onError: (e) => errors.push(e),
  });
  recorder.push(encoder.encode('{"a":1}\n{"a":2}\n'));
  await recorder.settled();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^a c2s message was not recorded: Frame refused by tape 't\.jsonl'/);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TapeWriteError);
});

Deno.test("line recorder: ready() holds the reader back while too many appends are in flight", async () => {
  const pending: (() => void)[] = [];
  const recorder = new LineRecorder({
    append: () => new Promise<void>((resolve) => pending.push(resolve)),
  }, { dir: "c2s", highWaterMark: 2 });
  recorder.push(encoder.encode("1\n2\n"));
  assert.equal(recorder.inFlight, 2);
  let ready = false;
  const waiting = recorder.ready().then(() => (ready = true));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(ready, false);
  pending.shift()!();
  await waiting;
  assert.equal(ready, true);
  pending.shift()!();
  await recorder.settled();
  assert.equal(recorder.inFlight, 0);
});

Deno.test("line recorder: a JSON line with a carriage return inside is re-serialized", () => {
  // "\r" is JSON whitespace, but a tape line must not hold one.
  assert.deepEqual(frameFromLine('{"a":1,\r"b":2}', "c2s"), { dir: "c2s", env: { a: 1, b: 2 } });
  assert.deepEqual(frameFromLine(' {"a":1} ', "c2s"), {
    dir: "c2s",
    env: { a: 1 },
    envJson: '{"a":1}',
  });
});

Deno.test("a line starting with a byte order mark is recorded and replayed byte for byte", async () => {
  await withTempDir(async (dir) => {
    const lines = ['\uFEFF{"jsonrpc":"2.0","method":"note"}', "\uFEFFplain", '{"a":1}'];
    const input = lines.join("\n") + "\n";
    const viaStdin = `${dir}/stdin`;
    const recorded = await runProgram("record", ["--stdin", "--out", viaStdin], { stdin: input });
    assert.equal(recorded.code, 0, recorded.stderr);
    const replayed = await runProgram("replay", [await onlyTape(viaStdin), "--raw"]);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(replayed.stdout, input);

    const viaProxy = `${dir}/proxy`;
    const proxied = await runRecordBytes(
      ["--out", viaProxy, "--quiet", "--", "cat"],
      encoder.encode(input),
    );
    assert.equal(proxied.code, 0, proxied.stderr);
    assert.deepEqual(proxied.stdout, encoder.encode(input));
    for (const dir of ["c2s", "s2c"]) {
      const out = await runProgram("replay", [await onlyTape(viaProxy), "--raw", "--dir", dir]);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, input, dir);
    }
  });
});

Deno.test("past 65536 open requests record gives up the oldest, even after a reused id was answered", async () => {
  await withTempDir(async (dir) => {
    const server = [
      Deno.execPath(),
      "run",
      new URL("./fixtures/id_echo_server.ts", import.meta.url).pathname,
      "first",
    ];
    const child = spawnProgram("record", ["--out", dir, "--quiet", "--", ...server]);
    const writer = child.stdin.getWriter();
    const stdout = child.stdout.getReader();
    const request = (id: string, method: string) =>
      `{"jsonrpc":"2.0","id":"${id}","method":"${method}"}\n`;
    // seq 1 and 3 share id "a"; the answer (seq 4) is to seq 1, so seq 3 waits behind seq 2.
    await writer.write(encoder.encode(request("a", "a1") + request("b", "b") + request("a", "a2")));
    await readUntil(stdout, (text) => text.includes('"id":"a"'));
    // 65534 more open requests make 65536; the one after them is one too many.
    const flood = Array.from({ length: 65_535 }, (_, i) => request(`u${i}`, "u")).join("");
    await writer.write(encoder.encode(flood));
    await writer.close();
    stdout.releaseLock();
    await child.stdout.cancel();
    const status = await child.status;
    assert.equal(status.code, 0, await new Response(child.stderr).text());
    const { records } = await readTape(await onlyTape(dir));
    const timeouts = records.filter((r): r is CorrelationRecord =>
      r.type === "correlation" && r.status === "timeout"
    );
    assert.equal(timeouts[0]?.request_seq, 2, "the oldest open request, b, is given up first");
    assert.equal(timeouts[0]?.method, "b");
    assert.equal(timeouts[1]?.request_seq, 3, "then a2, at finalize, oldest first");
    assert.equal(timeouts.length, 65_537);
  });
});

Deno.test("record's own warnings are cut to five and a count, like every program's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const long = new Uint8Array(10 * 1024 * 1024 + 11).fill(0x78);
    long[long.length - 1] = 0x0a;
    const input = new Uint8Array(long.length * 8 + 9);
    for (let i = 0; i < 8; i++) input.set(long, i * long.length);
    input.set(encoder.encode('{"ok":1}\n'), long.length * 8);
    const result = await runProgram("record", ["--stdin", "--out", dir, "--quiet"], {
      stdin: input,
    });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.trimEnd().split("\n");
    assert.deepEqual(
      lines,
      [
        ...Array(5).fill(
          "record: warning: a line of standard input of 10485770 bytes is over the 10485760-byte limit and was not recorded",
        ),
        "record: warning: 3 more warnings not shown (8 in all)",
      ],
    );
    const tapes = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".jsonl"));
    assert.equal(tapes.length, 1);
    assert.equal((await readMeta(metaPathFor(`${dir}/${tapes[0]!.name}`))).stats.frame_count, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
