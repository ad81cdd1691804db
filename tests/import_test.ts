/**
 * Tests of `import`: the real program as a child process, reading JSON
 * lines and tapes into queues that are read back with QueueReader, and its
 * errors; plus the pieces of `src/import/` that need no process.
 */

import assert from "node:assert/strict";
import {
  canMountTmpfs,
  programArgv,
  ROOT,
  runProgram,
  spawnProgram,
  waitFor,
  withTmpfs,
} from "./_helpers.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";
import { readRecords, type StoredRecord } from "./fixtures/chronicle_common.ts";
import { TapeReader } from "../src/tape/mod.ts";
import {
  ImportError,
  importJsonLines,
  type ImportRecord,
  importRecords,
  importSummaryLine,
  InputLineError,
  InputLines,
} from "../src/import/mod.ts";

const TAPE = `${ROOT}tests/fixtures/replay_session.jsonl`;
const work = await Deno.makeTempDir({ prefix: "spool-import-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let dirs = 0;

/** A fresh path under the work directory (nothing created there). */
function fresh(name: string): string {
  return `${work}/${++dirs}-${name}`;
}

function writeLines(name: string, lines: string[]): string {
  const path = fresh(name);
  Deno.writeTextFileSync(path, lines.map((l) => `${l}\n`).join(""));
  return path;
}

function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The one line a failed run printed, after checking it is the only one. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.match(lines[0]!, /^import: /);
  return lines[0]!;
}

// 2^53 + 1 cannot be held by a double; 2^63 + 5 is past every signed 64-bit value.
const BIG_TS = 9_007_199_254_740_993n;
const HUGE_TS = (1n << 63n) + 5n;

const SAMPLE = [
  `{"seq":100,"timestamp_ns":${BIG_TS},"type_id":7,"encoding":"utf8","payload":"bid 101.5 ✓"}`,
  "",
  `{"seq":101,"timestamp_ns":${HUGE_TS},"type_id":65535,"encoding":"base64","payload":"/wAB/g=="}`,
  `{"seq":102,"timestamp_ns":"1700000000000000002","payload":{"px":[1,true,null],"q":"x"}}`,
  "   ",
  `{"seq":103,"timestamp_ns":0,"type_id":0,"payload":42}`,
];

const SAMPLE_EXPECTED: StoredRecord[] = [
  { seq: 100, typeId: 7, timestampNs: BIG_TS, payload: encoder.encode("bid 101.5 ✓") },
  { seq: 101, typeId: 65535, timestampNs: HUGE_TS, payload: new Uint8Array([0xff, 0, 1, 0xfe]) },
  {
    seq: 102,
    typeId: 0,
    timestampNs: 1_700_000_000_000_000_002n,
    payload: encoder.encode('{"px":[1,true,null],"q":"x"}'),
  },
  { seq: 103, typeId: 0, timestampNs: 0n, payload: encoder.encode("42") },
];

Deno.test("import reads a JSON lines file into a new queue, every field exact", async () => {
  const input = writeLines("sample.jsonl", SAMPLE);
  const queue = fresh("q");
  const out = await runProgram("import", ["--to", queue, input]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "");
  // The queue starts at the input's first seq, so queue seqs are the input's.
  assert.match(
    oneLine(out.stderr),
    new RegExp(
      `^import: 4 records into '${queue}' \\(seq 100\\.\\.103\\) in \\d+\\.\\d\\d s; 2 records with timestamps earlier than the one before$`,
    ),
  );
  assert.deepEqual(await readRecords(queue), SAMPLE_EXPECTED);
});

Deno.test("import reads JSON lines from stdin, with '-' or no file at all", async () => {
  const stdin = SAMPLE.join("\n");
  const dash = fresh("q");
  const out = await runProgram("import", ["--to", dash, "-"], { stdin });
  assert.equal(out.code, 0, out.stderr);
  assert.match(oneLine(out.stderr), /4 records into .* \(seq 100\.\.103\)/);
  assert.deepEqual(await readRecords(dash), SAMPLE_EXPECTED);
  const none = fresh("q");
  const implicit = await runProgram("import", ["--to", none], { stdin });
  assert.equal(implicit.code, 0, implicit.stderr);
  assert.deepEqual(await readRecords(none), SAMPLE_EXPECTED);
});

Deno.test("records without seq or timestamp get seqs from 1 and the clock's time", async () => {
  const queue = fresh("q");
  const before = BigInt(Date.now()) * 1_000_000n;
  const out = await runProgram("import", ["--to", queue], {
    stdin: '{"payload":"a"}\n{"payload":"b","type_id":3}\n',
  });
  const after = BigInt(Date.now()) * 1_000_000n;
  assert.equal(out.code, 0, out.stderr);
  assert.match(oneLine(out.stderr), /^import: 2 records into .* \(seq 1\.\.2\) in /);
  const stored = await readRecords(queue);
  assert.deepEqual(stored.map((m) => [m.seq, m.typeId, text(m.payload)]), [[1, 0, "a"], [
    2,
    3,
    "b",
  ]]);
  for (const m of stored) {
    assert.ok(m.timestampNs >= before && m.timestampNs <= after, `${m.timestampNs}`);
  }
});

Deno.test("import reads a tape: one record per frame, as the tape's frames read", async () => {
  const expected: StoredRecord[] = [];
  const epochNs = BigInt(Date.parse("2026-11-22T03:00:00.000Z")) * 1_000_000n;
  {
    using reader = await TapeReader.open(TAPE);
    assert.equal(reader.init.created_at, "2026-11-22T03:00:00.000Z");
    for await (const { frame, envText } of reader.rawFrames()) {
      expected.push({
        seq: frame.seq,
        typeId: frame.dir === "c2s" ? 1 : 2,
        timestampNs: epochNs + BigInt(Math.round(frame.ts * 1000)) * 1000n,
        payload: encoder.encode(envText),
      });
    }
  }
  assert.equal(expected.length, 15);
  // Sniffed: the first line is an init record.
  const sniffed = fresh("q");
  const out = await runProgram("import", ["--to", sniffed, TAPE]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(oneLine(out.stderr), /^import: 15 records into .* \(seq 1\.\.15\) in /);
  const stored = await readRecords(sniffed);
  assert.deepEqual(stored, expected);
  // The payload is the message line exactly as the tape holds it.
  assert.equal(
    text(stored[13]!.payload),
    '{"jsonrpc":"2.0","id":6,"method":"ping","params":{}}',
  );
  assert.equal(stored[1]!.timestampNs, epochNs + 11_500_000n);
  // Said; and from stdin, which the tape reader cannot read: a usage error, nothing created.
  const said = fresh("q");
  const explicit = await runProgram("import", ["--to", said, "--format", "tape", TAPE]);
  assert.equal(explicit.code, 0, explicit.stderr);
  assert.deepEqual(await readRecords(said), expected);
  const piped = fresh("q");
  const fromStdin = await runProgram("import", ["--to", piped, "--format", "tape", "-"], {
    stdin: Deno.readFileSync(TAPE),
  });
  assert.equal(fromStdin.code, 2, fromStdin.stderr);
  assert.equal(
    oneLine(fromStdin.stderr),
    "import: A tape cannot be read from stdin: give the tape's path instead of '-'",
  );
  assert.throws(() => Deno.statSync(piped), Deno.errors.NotFound);
});

Deno.test("a malformed line stops the import there; --skip-existing completes it", async () => {
  const good = [1, 2, 3, 4, 5].map((seq) =>
    `{"seq":${seq},"timestamp_ns":${seq},"payload":"r${seq}"}`
  );
  const broken = [...good];
  broken[3] = '{"seq":4,"timestamp_ns":4,"payload":"r4"';
  const input = writeLines("broken.jsonl", broken);
  const queue = fresh("q");
  const out = await runProgram("import", ["--to", queue, input]);
  assert.equal(out.code, 1);
  const line = oneLine(out.stderr);
  assert.match(line, new RegExp(`^import: '${input}' line 4: Not JSON: `));
  assert.match(line, /3 records were imported into .* \(seq 1\.\.3\)/);
  assert.match(line, /re-run with '--skip-existing' to resume$/);
  assert.deepEqual((await readRecords(queue)).map((m) => m.seq), [1, 2, 3]);

  Deno.writeTextFileSync(input, good.map((l) => `${l}\n`).join(""));
  const again = await runProgram("import", ["--to", queue, input, "--skip-existing"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    oneLine(again.stderr),
    /^import: 2 records into .* \(seq 4\.\.5\) in \d+\.\d\d s; 3 records skipped, already in the queue$/,
  );
  const stored = await readRecords(queue);
  assert.deepEqual(
    stored.map((m) => [m.seq, m.timestampNs, text(m.payload)]),
    [1, 2, 3, 4, 5].map((seq) => [seq, BigInt(seq), `r${seq}`]),
  );
});

Deno.test("an import killed part way keeps what it wrote; --skip-existing completes it", async () => {
  const queue = fresh("q");
  const all = Array.from(
    { length: 200 },
    (_, i) => `{"seq":${i + 1},"timestamp_ns":${i + 1},"payload":"r${i + 1}"}`,
  );
  const child = spawnProgram("import", ["--to", queue]);
  const stdin = child.stdin.getWriter();
  await stdin.write(encoder.encode(all.slice(0, 120).map((l) => `${l}\n`).join("")));
  // With its stdin still open, the child waits for more once it has appended these.
  await waitFor("the first 120 records in the queue", async () => {
    try {
      return (await readRecords(queue)).length === 120 ? true : undefined;
    } catch {
      return undefined;
    }
  });
  child.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
  await stdin.close().catch(() => {});
  await child.stdout.cancel();
  await child.stderr.cancel();
  assert.equal((await readRecords(queue)).length, 120);

  const rest = await runProgram("import", ["--to", queue, "--skip-existing"], {
    stdin: all.join("\n"),
  });
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(
    oneLine(rest.stderr),
    /^import: 80 records into .* \(seq 121\.\.200\) in .*; 120 records skipped, already in the queue$/,
  );
  assert.deepEqual(
    (await readRecords(queue)).map((m) => [m.seq, m.timestampNs, text(m.payload)]),
    all.map((_, i) => [i + 1, BigInt(i + 1), `r${i + 1}`]),
  );
});

Deno.test("bad records are refused with their line number, the records before them kept", async () => {
  const cases: [string, string[], RegExp, number][] = [
    [
      "gap",
      ['{"seq":1,"payload":"a"}', '{"seq":2,"payload":"b"}', '{"seq":4,"payload":"d"}'],
      /line 3: Seq 4 follows seq 2: seq 3 is missing; 2 records were imported/,
      2,
    ],
    [
      "step back",
      [
        '{"seq":1,"payload":"a"}',
        '{"seq":2,"payload":"b"}',
        '{"seq":3,"payload":"c"}',
        '{"seq":2,"payload":"b"}',
      ],
      /line 4: Seq 2 follows seq 3: seqs must go up by one, this one steps back; 3 records were imported/,
      3,
    ],
    [
      "bad base64",
      ['{"payload":"a"}', '{"encoding":"base64","payload":"@@not base64@@"}'],
      /line 2: 'payload' is not valid base64; 1 record was imported into .*: fix the input and re-run on its lines from 2 on to resume$/,
      1,
    ],
    [
      "empty payload",
      ['{"payload":""}'],
      /line 1: Payload is empty: the queue refuses empty payloads .*; nothing was imported into/,
      0,
    ],
    [
      "mixed seqs",
      ['{"seq":1,"payload":"a"}', '{"payload":"b"}'],
      /line 2: Record has no 'seq' but the records before it have one/,
      1,
    ],
    [
      "bad member type",
      ['{"payload":"a"}', "", '{"type_id":"7","payload":"b"}'],
      /line 3: 'type_id' must be a whole number from 0 to 65535, not '"7"'/,
      1,
    ],
  ];
  await Promise.all(cases.map(async ([name, lines, message, kept]) => {
    const input = writeLines(`${name.replace(" ", "_")}.jsonl`, lines);
    const queue = fresh("q");
    const out = await runProgram("import", ["--to", queue, input]);
    assert.equal(out.code, 1, `${name}: ${out.stderr}`);
    assert.match(oneLine(out.stderr), message, name);
    if (kept === 0) {
      assert.throws(() => Deno.statSync(queue), Deno.errors.NotFound, name);
    } else {
      assert.equal((await readRecords(queue)).length, kept, name);
    }
  }));
});

Deno.test("timestamps going back are counted, or refused with --strict-order", async () => {
  const lines = [
    '{"timestamp_ns":30,"payload":"a"}',
    '{"timestamp_ns":10,"payload":"b"}',
    '{"timestamp_ns":20,"payload":"c"}',
    '{"timestamp_ns":5,"payload":"d"}',
  ];
  const input = writeLines("order.jsonl", lines);
  const counted = fresh("q");
  const out = await runProgram("import", ["--to", counted, input]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    oneLine(out.stderr),
    /4 records .*; 2 records with timestamps earlier than the one before$/,
  );
  assert.deepEqual((await readRecords(counted)).map((m) => m.timestampNs), [30n, 10n, 20n, 5n]);
  const strict = fresh("q");
  const refused = await runProgram("import", ["--to", strict, input, "--strict-order"]);
  assert.equal(refused.code, 1);
  assert.match(
    oneLine(refused.stderr),
    /line 2: Timestamp 10 is earlier than 30 of the record before \('--strict-order'\); 1 record was imported/,
  );
  assert.equal((await readRecords(strict)).length, 1);
});

Deno.test("an existing queue is continued at its next seq, and another start is refused", async () => {
  const queue = fresh("q");
  const first = writeLines("first.jsonl", ['{"seq":1,"payload":"a"}', '{"seq":2,"payload":"b"}']);
  assert.equal((await runProgram("import", ["--to", queue, first])).code, 0);
  const next = writeLines("next.jsonl", ['{"seq":3,"payload":"c"}', '{"seq":4,"payload":"d"}']);
  const out = await runProgram("import", ["--to", queue, next]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(oneLine(out.stderr), /2 records into .* \(seq 3\.\.4\)/);

  const ahead = writeLines("ahead.jsonl", ['{"seq":7,"payload":"g"}']);
  const gap = await runProgram("import", ["--to", queue, ahead]);
  assert.equal(gap.code, 1);
  assert.match(
    oneLine(gap.stderr),
    /line 1: Queue '.*' ends at seq 4 but the input starts at seq 7: seqs 5\.\.6 are missing; nothing was imported/,
  );
  const behind = await runProgram("import", ["--to", queue, first]);
  assert.equal(behind.code, 1);
  assert.match(
    oneLine(behind.stderr),
    /Queue '.*' ends at seq 4 but the input starts at seq 1: re-run with '--skip-existing'/,
  );
  // Records without seqs are simply appended.
  const appended = await runProgram("import", ["--to", queue], { stdin: '{"payload":"e"}\n' });
  assert.equal(appended.code, 0, appended.stderr);
  assert.deepEqual(
    (await readRecords(queue)).map((m) => [m.seq, text(m.payload)]),
    [[1, "a"], [2, "b"], [3, "c"], [4, "d"], [5, "e"]],
  );
});

Deno.test("input, queue and usage mistakes get one line and the right exit status", async () => {
  const input = writeLines("ok.jsonl", ['{"payload":"a"}']);
  const notQueue = fresh("not-a-queue");
  Deno.mkdirSync(notQueue);
  Deno.writeTextFileSync(`${notQueue}/notes.txt`, "mine");
  const missingQueue = fresh("q");
  const [missing, directory, stranger, noTo, badFormat, skipNoSeq] = await Promise.all([
    runProgram("import", ["--to", missingQueue, `${work}/missing.jsonl`]),
    runProgram("import", ["--to", fresh("q"), work]),
    runProgram("import", ["--to", notQueue, input]),
    runProgram("import", [input]),
    runProgram("import", ["--to", fresh("q"), "--format", "csv", input]),
    runProgram("import", ["--to", fresh("q"), "--skip-existing", input]),
  ]);
  assert.equal(missing.code, 1);
  assert.equal(
    oneLine(missing.stderr),
    `import: Cannot read '${work}/missing.jsonl': no such file or directory`,
  );
  assert.throws(() => Deno.statSync(missingQueue), Deno.errors.NotFound);
  assert.equal(directory.code, 1);
  assert.equal(oneLine(directory.stderr), `import: Cannot read '${work}': is a directory`);
  assert.equal(stranger.code, 1);
  assert.match(oneLine(stranger.stderr), /is not a spool queue: it has no 'queue\.meta'/);
  assert.deepEqual([...Deno.readDirSync(notQueue)].map((e) => e.name), ["notes.txt"]);
  assert.equal(noTo.code, 2);
  assert.equal(
    oneLine(noTo.stderr),
    "import: Option '--to <queue>' is required: name the queue to import into",
  );
  assert.equal(badFormat.code, 2);
  assert.match(oneLine(badFormat.stderr), /'csv' is invalid: allowed choices are 'jsonl', 'tape'/);
  assert.equal(skipNoSeq.code, 1);
  assert.match(oneLine(skipNoSeq.stderr), /line 1: Record has no 'seq', so '--skip-existing'/);
});

Deno.test("file-system failures are worded one way, naming the queue or the input, never 'os error'", async () => {
  const input = writeLines("fs.jsonl", ['{"payload":"a"}']);
  const file = writeLines("plain-file", ["x"]);
  const dir = fresh("a-dir");
  Deno.mkdirSync(dir);
  const [underFile, noParent, stdinDir] = await Promise.all([
    runProgram("import", ["--to", `${file}/q`, input]),
    runProgram("import", ["--to", `${work}/${"n".repeat(300)}/q`, input]),
    // A shell redirects the directory into stdin, as `import --to q < somedir` does.
    new Deno.Command("sh", {
      args: ["-c", 'd="$1"; shift; exec "$@" < "$d"', "sh", dir, Deno.execPath(), ...[
        ...programArgv("import"),
        ...["--to", fresh("q"), "-"],
      ]],
      stdout: "piped",
      stderr: "piped",
    }).output().then((out) => ({ code: out.code, stderr: text(out.stderr) })),
  ]);
  assert.equal(underFile.code, 1, underFile.stderr);
  assert.equal(
    oneLine(underFile.stderr),
    `import: Cannot open queue '${file}/q': not a directory`,
  );
  assert.equal(noParent.code, 1, noParent.stderr);
  assert.equal(
    oneLine(noParent.stderr),
    `import: Cannot open queue '${work}/${"n".repeat(300)}/q': file name too long`,
  );
  assert.equal(stdinDir.code, 1, stdinDir.stderr);
  assert.equal(oneLine(stdinDir.stderr), "import: Cannot read standard input: is a directory");
  for (const out of [underFile, noParent, stdinDir]) {
    assert.doesNotMatch(out.stderr, /os error|\(os|readdir|writefile|mkdir/);
  }
});

/** Writes to `path` until the file system has no room left. */
async function fillUp(path: string): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true });
  const block = new Uint8Array(4096);
  try {
    for (;;) await file.write(block);
  } catch (error) {
    assert.match(String(error), /No space left on device/);
  }
}

Deno.test({
  name:
    "a full disk stops import saying so and where, every record before it whole (needs root for a tmpfs)",
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => `{"seq":${i + 1},"type_id":3,"payload":"${String(i + 1).padStart(200, "#")}"}`,
    );
    const input = writeLines("big.jsonl", lines);
    await withTmpfs("512k", async (mount) => {
      const queue = `${mount}/q`;
      // Small segments, so the disk fills at a roll, part way through the input.
      (await QueueWriter.open(queue, { segmentBytes: 65536 })).close();
      const out = await runProgram("import", ["--to", queue, input, "--no-progress"]);
      assert.equal(out.code, 1, out.stderr);
      const line = oneLine(out.stderr);
      const match = new RegExp(
        `^import: Cannot preallocate '${queue}/\\d+\\.seg': no space left on device; (\\d+) records were imported into '${queue}' \\(seq 1\\.\\.(\\d+)\\), nothing after the last of them was written: the disk holding '${queue}' is full, free space there and re-run with '--skip-existing' to resume$`,
      ).exec(line);
      assert.ok(match, line);
      assert.doesNotMatch(line, /fix the input/);
      const imported = Number(match[1]);
      assert.equal(Number(match[2]), imported);
      assert.ok(imported > 100 && imported < lines.length, `${imported} imported`);
      // Exactly the records it names, each whole.
      const stored = await readRecords(queue);
      assert.equal(stored.length, imported);
      stored.forEach((r, i) => {
        assert.equal(r.seq, i + 1);
        assert.equal(text(r.payload), String(i + 1).padStart(200, "#"));
      });
      // Creating a queue on a disk with no room left at all: the file system's refusal, named.
      await fillUp(`${mount}/filler`);
      const second = await runProgram("import", ["--to", `${mount}/q2`, input, "--no-progress"]);
      assert.equal(second.code, 1, second.stderr);
      assert.equal(
        oneLine(second.stderr),
        `import: Cannot open queue '${mount}/q2': no space left on device`,
      );
    });
  },
});

Deno.test("a queue another process writes is refused, naming that process", async () => {
  const queue = fresh("q");
  const writer = await QueueWriter.open(queue, { segmentBytes: 1 << 20 });
  try {
    writer.append(1, encoder.encode("held"));
    const input = writeLines("locked.jsonl", ['{"payload":"a"}']);
    const out = await runProgram("import", ["--to", queue, input]);
    assert.equal(out.code, 1);
    assert.equal(
      oneLine(out.stderr),
      `import: Queue '${queue}' is already open for writing by pid ${Deno.pid}`,
    );
    assert.equal(writer.lastSeq, 1);
  } finally {
    writer.close();
  }
  assert.deepEqual((await readRecords(queue)).map((m) => text(m.payload)), ["held"]);
});

Deno.test("--progress draws on stderr even off a terminal, then the summary", async () => {
  const input = writeLines("progress.jsonl", ['{"payload":"a"}', '{"payload":"b"}']);
  const out = await runProgram("import", ["--to", fresh("q"), input, "--progress"]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stderr.trimEnd().split("\n").filter((l) => l !== "");
  assert.match(lines[0]!, /^import \[.*\] +\d+% \| 0\.0 MiB of 0\.0 MiB \| \d+ records/);
  assert.match(lines.at(-2)!, /^import \[.*\] 100% \| .* \| 2 records/);
  assert.match(lines.at(-1)!, /^import: 2 records into /);
  const piped = await runProgram("import", ["--to", fresh("q"), "--progress"], {
    stdin: '{"payload":"a"}\n',
  });
  assert.match(piped.stderr, /^import \d+ records \| \d+ records\/s \| /m);
  const quiet = await runProgram("import", ["--to", fresh("q"), input]);
  assert.equal(oneLine(quiet.stderr).startsWith("import: 2 records"), true);
});

Deno.test("InputLines numbers lines, refuses invalid UTF-8 and runaway lines", async () => {
  const chunks = (...parts: (string | number[])[]) =>
    new Blob(parts.map((p) => typeof p === "string" ? p : new Uint8Array(p))).stream();
  const lines = new InputLines(chunks("a\r\n", "", "b", "c\n\nd"));
  const seen: string[] = [];
  for await (const line of lines) seen.push(line);
  assert.deepEqual(seen, ["a\r", "bc", "", "d"]);
  assert.equal(lines.bytesRead, 8);
  await assert.rejects(
    async () => {
      for await (const _ of new InputLines(chunks("ok\n", [0x22, 0xff, 0x22, 0x0a]))) { /* read */ }
    },
    (e: unknown) =>
      e instanceof InputLineError && e.line === 2 && /not valid UTF-8/.test(e.message),
  );
  await assert.rejects(
    async () => {
      const long = new InputLines(chunks("short\n", "x".repeat(40), "y".repeat(40)), {
        maxLineBytes: 64,
      });
      for await (const _ of long) { /* read */ }
    },
    (e: unknown) =>
      e instanceof InputLineError && e.line === 2 && /longer than 64 bytes/.test(e.message),
  );
  const seenBefore: string[] = [];
  await assert.rejects(
    async () => {
      const long = new InputLines(chunks(`short\n${"x".repeat(100)}\nafter\n`), {
        maxLineBytes: 64,
      });
      for await (const line of long) seenBefore.push(line);
    },
    (e: unknown) =>
      e instanceof InputLineError && e.line === 2 &&
      e.message.startsWith("Line is longer than 64 bytes (100)"),
  );
  assert.deepEqual(seenBefore, ["short"]);
});

Deno.test("importJsonLines takes any async iterable of lines and reports where it stopped", async () => {
  const queue = fresh("q");
  async function* lines() {
    yield '{"payload":"a"}';
    yield '{"payload":"b"}';
    yield "not json";
  }
  const error = await importJsonLines(lines(), { to: queue, source: "feed" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ImportError);
  assert.equal(error.line, 3);
  assert.equal(error.imported, 2);
  assert.match(
    error.message,
    /^'feed' line 3: Not JSON: .*; 2 records were imported into '.*' \(seq 1\.\.2\): fix the input and re-run on its lines from 3 on to resume$/,
  );
  async function* rest() {
    yield '{"payload":"c","timestamp_ns":1}';
  }
  const progress: number[] = [];
  const summary = await importJsonLines(rest(), {
    to: queue,
    onProgress: (p) => progress.push(p.records),
  });
  assert.deepEqual(summary.seqs, { first: 3, last: 3 });
  assert.deepEqual(progress, [1]);
  assert.match(importSummaryLine(summary), /^1 record into '.*' \(seq 3\.\.3\) in \d+\.\d\d s$/);
});

// Line 1 whole, then line 2's first record, then its second, which the queue refuses (empty).
async function* cutInsideLine(): AsyncGenerator<ImportRecord> {
  const payload = new TextEncoder().encode("x");
  const base = { bytesRead: 0, seq: undefined, timestampNs: 1n, typeId: 1 };
  yield { ...base, line: 1, payload };
  yield { ...base, line: 2, payload, lineEnds: false };
  yield { ...base, line: 2, payload: new Uint8Array(0) };
}

Deno.test("an import stopped inside an input line that makes several records resumes at that line, not the next", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool_import_line_" });
  try {
    await assert.rejects(
      importRecords(cutInsideLine(), { to: `${dir}/q`, resumeOption: "--from-line" }),
      (error: unknown) => {
        assert.ok(error instanceof ImportError);
        assert.match(
          error.message,
          /2 records were imported .*re-run with '--from-line 2' to resume$/,
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
