import assert from "node:assert/strict";
import { initRecordJson } from "./_helpers.ts";
import { RecordLineError, RecordParser, validateRecord } from "../src/tape/record_parser.ts";
import { TapeFormatError } from "../src/tape/tape_format_error.ts";
import {
  READ_CHUNK_BYTES,
  TapeOpenError,
  tapeOpenError,
  TapeReader,
  type TapeWarning,
} from "../src/tape/tape_reader.ts";
import type { TapeRecord } from "../src/tape/types.ts";
import { LineSplitter, MAX_LINE_BYTES } from "../src/tape/line_splitter.ts";
import { followTape } from "../src/tape/tape_follower.ts";

const encoder = new TextEncoder();

const initLine = initRecordJson;

function frameLine(
  seq: number,
  env: unknown = { jsonrpc: "2.0", id: seq, method: "ping" },
): string {
  return JSON.stringify({ type: "frame", seq, ts: seq * 1.5, dir: seq % 2 ? "c2s" : "s2c", env });
}

/** Writes `lines` joined with `\n` (plus a final newline unless told otherwise) to a temp tape. */
async function withTape(
  content: string | Uint8Array,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_reader_" });
  const path = `${dir}/tape.jsonl`;
  try {
    await Deno.writeFile(path, typeof content === "string" ? encoder.encode(content) : content);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readAll(
  path: string,
  strict = false,
): Promise<{ records: TapeRecord[]; warnings: TapeWarning[] }> {
  const warnings: TapeWarning[] = [];
  using reader = await TapeReader.open(path, { strict, onWarning: (w) => warnings.push(w) });
  const records: TapeRecord[] = [];
  for await (const r of reader.records()) records.push(r);
  return { records, warnings };
}

function byteLength(text: string): number {
  return encoder.encode(text).length;
}

Deno.test("reader yields the records after init, and frames() only frames", async () => {
  const correlation = JSON.stringify({
    type: "correlation",
    id: "c1",
    request_seq: 1,
    response_seq: 2,
    request_ts: 1.5,
    response_ts: 3,
    rtt_ms: 1.5,
    status: "ok",
  });
  const content = [initLine("abc"), frameLine(1), frameLine(2), correlation, frameLine(3), ""]
    .join("\n");
  await withTape(content, async (path) => {
    const { records, warnings } = await readAll(path);
    assert.deepEqual(records.map((r) => r.type), ["frame", "frame", "correlation", "frame"]);
    assert.deepEqual(warnings, []);
    using reader = await TapeReader.open(path);
    assert.equal(reader.init.tape_id, "abc");
    assert.equal(reader.path, path);
    assert.equal(reader.dataOffset, byteLength(initLine("abc")) + 1);
    const seqs: number[] = [];
    for await (const f of reader.frames()) seqs.push(f.seq);
    assert.deepEqual(seqs, [1, 2, 3]);
    // Each call reads again from the start.
    let again = 0;
    for await (const _ of reader.frames()) again++;
    assert.equal(again, 3);
  });
});

Deno.test("opening a file that is not a tape names the file and the problem", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["empty file", "", /^Not a tape: the file is empty in '.*tape\.jsonl'$/],
    [
      "not JSON",
      "hello world\n",
      /^Not a tape: the first line is not an 'init' record \(line is not valid JSON\) in '.*tape\.jsonl' at line 1 \(byte 0\)$/,
    ],
    ["JSON array", "[1,2]\n", /not an 'init' record \(line is not a JSON object\).* at line 1/],
    [
      "frame first",
      frameLine(1) + "\n",
      /^Not a tape: the first record is of type 'frame', not 'init' in '.*' at line 1 \(byte 0\)$/,
    ],
    [
      "unknown type first",
      '{"type":"hello"}\n',
      /^Not a tape: the first record is not 'init' \(unknown record type 'hello'\)/,
    ],
    ["init without fields", '{"type":"init"}\n', /\(record 'init' has no numeric 'version'\)/],
    ["binary", new Uint8Array([0, 1, 2, 255, 10]) as unknown as string, /^Not a tape/],
  ];
  for (const [name, content, pattern] of cases) {
    await t.step(name, async () => {
      await withTape(content, async (path) => {
        const error = await TapeReader.open(path).then(() => undefined, (e) => e);
        assert.ok(error instanceof TapeFormatError, `expected a TapeFormatError, got ${error}`);
        assert.match(error.message, pattern);
        assert.equal(error.path, path);
        assert.ok(!error.message.includes("\n"));
      });
    });
  }
});

Deno.test("a tape of a newer format version is refused when opened or followed", async () => {
  const future = initLine().replace('"version":1', '"version":99');
  await withTape(future + "\n" + frameLine(1) + "\n", async (path) => {
    const expected =
      `Unsupported tape version '99' (this reader knows 1) in '${path}' at line 1 (byte 0)`;
    const error = await TapeReader.open(path).then(() => undefined, (e) => e);
    assert.ok(error instanceof TapeFormatError, `expected a TapeFormatError, got ${error}`);
    assert.equal(error.message, expected);
    const followed: TapeRecord[] = [];
    await assert.rejects(async () => {
      for await (const r of followTape(path, { onWarning: () => {} })) followed.push(r);
    }, (e: unknown) => e instanceof TapeFormatError && e.message === expected);
    assert.deepEqual(followed, []);
  });
  // Version 1 itself still reads.
  await withTape(initLine() + "\n" + frameLine(1) + "\n", async (path) => {
    assert.equal((await readAll(path)).records.length, 1);
  });
});

Deno.test("opening a missing file, a directory or an unreadable file is one clear line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool_reader_" });
  try {
    const missing = `${dir}/nope.jsonl`;
    await assert.rejects(
      TapeReader.open(missing),
      (e: unknown) =>
        e instanceof TapeOpenError && e.failure === "not-found" && e.path === missing &&
        e.message === `Cannot open tape '${missing}': no such file or directory`,
    );
    await assert.rejects(
      TapeReader.open(dir),
      (e: unknown) =>
        e instanceof TapeOpenError && e.failure === "is-directory" &&
        e.message === `Cannot open tape '${dir}': is a directory`,
    );
    const denied = tapeOpenError("x.jsonl", new Deno.errors.PermissionDenied("EACCES"));
    assert.equal(denied.message, "Cannot open tape 'x.jsonl': permission denied");
    assert.equal(denied.failure, "permission-denied");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "opening a file without read permission says permission denied (needs a user other than root, whom no mode stops)",
  // root reads every file whatever its mode.
  ignore: Deno.build.os === "windows" || Deno.uid() === 0,
  fn: async () => {
    await withTape(initLine() + "\n", async (path) => {
      await Deno.chmod(path, 0o000);
      await assert.rejects(
        TapeReader.open(path),
        (e: unknown) => e instanceof TapeOpenError && /: permission denied$/.test(e.message),
      );
    });
  },
});

// Lines before the bad ones hold multi-byte characters, so byte offsets differ from
// character offsets and a reader that confused them would fail.
const unicodeFrame = frameLine(1, { text: "héllo wörld — 日本語 🎉" });
const badLines = [
  initLine(), // line 1
  unicodeFrame, // 2
  "not json at all", // 3
  frameLine(2), // 4
  "", // 5: empty
  "[1,2,3]", // 6
  '{"type":"frame","seq":3}', // 7: missing fields
  frameLine(3), // 8
];

function offsetOfLine(lines: string[], line: number): number {
  return lines.slice(0, line - 1).reduce((sum, l) => sum + byteLength(l) + 1, 0);
}

Deno.test("lenient reading skips bad lines with warnings naming line and byte offset", async () => {
  await withTape(badLines.join("\n") + "\n", async (path) => {
    const { records, warnings } = await readAll(path);
    assert.deepEqual(records.map((r) => r.type === "frame" && r.seq), [1, 2, 3]);
    assert.deepEqual(
      warnings.map((w) => [w.kind, w.line, w.offset]),
      [
        ["bad-line", 3, offsetOfLine(badLines, 3)],
        ["bad-line", 5, offsetOfLine(badLines, 5)],
        ["bad-line", 6, offsetOfLine(badLines, 6)],
        ["bad-line", 7, offsetOfLine(badLines, 7)],
      ],
    );
    assert.ok(offsetOfLine(badLines, 3) !== badLines.slice(0, 2).join("\n").length + 1);
    assert.equal(
      warnings[0]!.message,
      `Line is not valid JSON in '${path}' at line 3 (byte ${offsetOfLine(badLines, 3)}), skipped`,
    );
    assert.match(warnings[1]!.message, /^Line is empty in/);
    assert.match(warnings[2]!.message, /^Line is not a JSON object in/);
    assert.match(warnings[3]!.message, /^Record 'frame' has no numeric 'ts' in/);
    for (const w of warnings) assert.equal(w.path, path);
  });
});

Deno.test("strict reading stops at the first bad line with its line and byte offset", async () => {
  await withTape(badLines.join("\n") + "\n", async (path) => {
    const seen: number[] = [];
    const error = await (async () => {
      using reader = await TapeReader.open(path, { strict: true, onWarning: () => {} });
      for await (const f of reader.frames()) seen.push(f.seq);
    })().then(() => undefined, (e) => e);
    assert.ok(error instanceof TapeFormatError);
    assert.equal(error.line, 3);
    assert.equal(error.offset, offsetOfLine(badLines, 3));
    assert.equal(
      error.message,
      `Line is not valid JSON in '${path}' at line 3 (byte ${offsetOfLine(badLines, 3)})`,
    );
    assert.deepEqual(seen, [1]);
  });
});

Deno.test("byte offsets stay exact when lines cross read chunks", async () => {
  // Frames of ~1 KiB with multi-byte text; bad lines land in later chunks.
  const lines = [initLine()];
  const bad: number[] = [];
  let seq = 0;
  let bytes = 0;
  while (bytes < Math.max(3 * READ_CHUNK_BYTES, 3 * 1024 * 1024)) {
    const lineNo = lines.length + 1;
    if (lineNo % 499 === 0) {
      lines.push(`{"broken": "ü${"x".repeat(lineNo % 50)}`);
      bad.push(lineNo);
    } else {
      seq++;
      lines.push(frameLine(seq, { text: "ö€".repeat(200 + (seq % 37)) }));
    }
    bytes += byteLength(lines.at(-1)!) + 1;
  }
  const content = lines.join("\n") + "\n";
  await withTape(content, async (path) => {
    const { records, warnings } = await readAll(path);
    assert.equal(records.length, seq);
    assert.deepEqual(warnings.map((w) => w.line), bad);
    assert.deepEqual(warnings.map((w) => w.offset), bad.map((l) => offsetOfLine(lines, l)));
    assert.ok(bad.length >= 3);
  });
  // The same bytes fed to the parser one odd-sized piece at a time give the same answers.
  const warnings: TapeWarning[] = [];
  const parser = new RecordParser("mem.jsonl", { onWarning: (w) => warnings.push(w) });
  const data = encoder.encode(content);
  let count = 0;
  for (let at = 0; at < data.length; at += 4093) {
    count += parser.push(data.subarray(at, at + 4093)).length;
  }
  assert.equal(parser.end(), false);
  assert.equal(count, seq + 1);
  assert.deepEqual(
    warnings.map((w) => [w.line, w.offset]),
    bad.map((l) => [l, offsetOfLine(lines, l)]),
  );
});

Deno.test("unknown record types are skipped with a warning, or refused when strict", async () => {
  const lines = [initLine(), frameLine(1), '{"type":"annotation","text":"hi"}', frameLine(2)];
  await withTape(lines.join("\n") + "\n", async (path) => {
    const { records, warnings } = await readAll(path);
    assert.deepEqual(records.map((r) => r.type), ["frame", "frame"]);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.kind, "unknown-type");
    assert.equal(warnings[0]!.line, 3);
    assert.equal(warnings[0]!.offset, offsetOfLine(lines, 3));
    assert.match(warnings[0]!.message, /^Unknown record type 'annotation' in '.*' at line 3/);
    await assert.rejects(
      readAll(path, true),
      (e: unknown) => e instanceof TapeFormatError && e.line === 3 && /annotation/.test(e.message),
    );
  });
});

Deno.test("sequence gaps and reordering are reported, the frames still read", async () => {
  const lines = [
    initLine(),
    frameLine(1),
    frameLine(2),
    frameLine(5),
    frameLine(6),
    frameLine(4),
    frameLine(5),
  ];
  await withTape(lines.join("\n") + "\n", async (path) => {
    const { records, warnings } = await readAll(path, true);
    assert.equal(records.length, 6);
    assert.deepEqual(
      warnings.map((w) => [w.kind, w.line, w.offset]),
      [["gap", 4, offsetOfLine(lines, 4)], ["gap", 6, offsetOfLine(lines, 6)]],
    );
    assert.match(
      warnings[0]!.message,
      /^Sequence gap: frames 3 to 4 are missing in '.*' at line 4/,
    );
    assert.match(warnings[1]!.message, /^Sequence out of order: frame 4 follows frame 6 in/);
  });
  // A tape whose first frame is not 1 has lost its start.
  await withTape([initLine(), frameLine(2)].join("\n") + "\n", async (path) => {
    const { warnings } = await readAll(path);
    assert.match(warnings[0]!.message, /^Sequence gap: frame 1 is missing/);
  });
});

Deno.test("a partial last line is not parsed and is reported at the end", async () => {
  const lines = [initLine(), frameLine(1), frameLine(2)];
  const partial = frameLine(3).slice(0, 25);
  await withTape(lines.join("\n") + "\n" + partial, async (path) => {
    for (const strict of [false, true]) {
      const { records, warnings } = await readAll(path, strict);
      assert.equal(records.length, 2);
      assert.deepEqual(warnings.map((w) => [w.kind, w.line, w.offset]), [
        ["partial-line", 4, offsetOfLine(lines, 4)],
      ]);
      assert.match(warnings[0]!.message, /^Incomplete last line \(25 bytes, no newline\) not read/);
    }
  });
  // Even a complete-looking record without its newline is not trusted.
  await withTape(lines.join("\n") + "\n" + frameLine(3), async (path) => {
    const { records, warnings } = await readAll(path);
    assert.equal(records.length, 2);
    assert.equal(warnings[0]!.kind, "partial-line");
  });
});

Deno.test("CRLF line endings read like LF", async () => {
  const lines = [initLine(), frameLine(1), frameLine(2), frameLine(3)];
  await withTape(lines.join("\r\n") + "\r\n", async (path) => {
    const { records, warnings } = await readAll(path, true);
    assert.equal(records.length, 3);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("a tape that is only an init line, with or without its newline, has no records", async () => {
  for (const content of [initLine() + "\n", initLine()]) {
    await withTape(content, async (path) => {
      const { records, warnings } = await readAll(path);
      assert.equal(records.length, 0);
      assert.deepEqual(warnings, []);
    });
  }
});

Deno.test("lines longer than a read chunk are read; lines over the limit are skipped", async () => {
  const big = frameLine(1, { blob: "z".repeat(3 * READ_CHUNK_BYTES) });
  const huge = frameLine(2, { blob: "y".repeat(MAX_LINE_BYTES + 10) });
  const lines = [initLine(), big, huge, frameLine(2)];
  await withTape(lines.join("\n") + "\n", async (path) => {
    const { records, warnings } = await readAll(path);
    assert.deepEqual(records.map((r) => r.type === "frame" && r.seq), [1, 2]);
    const env = (records[0] as unknown as { env: { blob: string } }).env;
    assert.equal(env.blob.length, 3 * READ_CHUNK_BYTES);
    assert.deepEqual(warnings.map((w) => [w.kind, w.line, w.offset]), [
      ["bad-line", 3, offsetOfLine(lines, 3)],
    ]);
    assert.match(warnings[0]!.message, /^Line is longer than 10485760 bytes/);
  });
});

Deno.test("a large tape streams in order with every record", async () => {
  // ~24 MiB: many read chunks, but the test stays fast.
  const dir = await Deno.makeTempDir({ prefix: "spool_reader_" });
  const path = `${dir}/big.jsonl`;
  try {
    const frames = 80_000;
    {
      using file = await Deno.open(path, { write: true, create: true });
      const lines = [initLine()];
      for (let seq = 1; seq <= frames; seq++) {
        lines.push(
          frameLine(seq, {
            jsonrpc: "2.0",
            id: seq,
            method: "tools/call",
            params: { text: "p".repeat(200) },
          }),
        );
        if (lines.length === 5000) {
          await file.write(encoder.encode(lines.join("\n") + "\n"));
          lines.length = 0;
        }
      }
      if (lines.length > 0) await file.write(encoder.encode(lines.join("\n") + "\n"));
    }
    using reader = await TapeReader.open(path, { strict: true });
    let expected = 1;
    for await (const frame of reader.frames()) {
      assert.equal(frame.seq, expected);
      expected++;
    }
    assert.equal(expected, frames + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() ends an iteration in progress and releases its file", async () => {
  const lines = [initLine()];
  for (let seq = 1; seq <= 20_000; seq++) lines.push(frameLine(seq, { pad: "q".repeat(100) }));
  await withTape(lines.join("\n") + "\n", async (path) => {
    const reader = await TapeReader.open(path);
    let seen = 0;
    for await (const _ of reader.records()) {
      seen++;
      if (seen === 10) reader.close();
    }
    assert.ok(seen >= 10 && seen < 20_000, `read ${seen} records`);
    // A closed reader reads nothing more.
    let after = 0;
    for await (const _ of reader.records()) after++;
    assert.equal(after, 0);
  });
});

Deno.test("validateRecord checks the type tag and the fields each type needs", () => {
  assert.equal(
    validateRecord({ type: "frame", seq: 1, ts: 0, dir: "c2s", env: null }).type,
    "frame",
  );
  assert.equal(
    validateRecord({
      type: "checkpoint",
      checkpoint_at: "2026-01-01T00:00:00Z",
      seq: 0,
      stats: {},
    }).type,
    "checkpoint",
  );
  const refused: [unknown, RegExp, string][] = [
    [{ type: "frame", seq: 1, ts: 0, dir: "up", env: 1 }, /'dir'/, "bad-line"],
    [{ type: "frame", seq: "1", ts: 0, dir: "c2s", env: 1 }, /'seq'/, "bad-line"],
    [{ type: "frame", seq: 1, ts: 0, dir: "c2s" }, /'env'/, "bad-line"],
    [{ type: "correlation", id: "x", request_seq: 1, status: "ok" }, /'response_seq'/, "bad-line"],
    [{ type: "checkpoint", checkpoint_at: "x", seq: 1 }, /'stats'/, "bad-line"],
    [{ seq: 1 }, /no string 'type'/, "bad-line"],
    [{ type: "mystery" }, /Unknown record type 'mystery'/, "unknown-type"],
    ["frame", /not a JSON object/, "bad-line"],
  ];
  for (const [value, pattern, kind] of refused) {
    assert.throws(
      () => validateRecord(value),
      (e: unknown) => e instanceof RecordLineError && pattern.test(e.message) && e.kind === kind,
    );
  }
});

Deno.test("a first line over the limit is refused, not skipped for the next one", async () => {
  const huge = frameLine(1, { blob: "y".repeat(MAX_LINE_BYTES + 10) });
  for (const content of [huge + "\n" + initLine() + "\n", huge]) {
    await withTape(content, async (path) => {
      await assert.rejects(TapeReader.open(path), {
        name: "TapeFormatError",
        message: /^Not a tape: the first line is longer than the line limit in /,
      });
    });
  }
});

Deno.test("a last line over the limit, without its newline, is a bad line at its offset", () => {
  const warnings: TapeWarning[] = [];
  const parser = new RecordParser("t.jsonl", {
    maxLineBytes: 200,
    onWarning: (w) => warnings.push(w),
  });
  const head = initLine() + "\n" + frameLine(1) + "\n";
  assert.equal(parser.push(encoder.encode(head + "x".repeat(150))).length, 2);
  assert.equal(parser.push(encoder.encode("x".repeat(150))).length, 0);
  assert.equal(parser.pending, 300);
  assert.equal(parser.end(), false);
  assert.deepEqual(warnings.map((w) => [w.kind, w.line, w.offset]), [
    ["bad-line", 3, byteLength(head)],
  ]);
  assert.match(warnings[0]!.message, /^Line is longer than 200 bytes \(300\)/);
  assert.deepEqual([parser.line, parser.offset], [4, byteLength(head) + 300]);
});

Deno.test("a chunk longer than the limit still has its over-long lines skipped", () => {
  const warnings: TapeWarning[] = [];
  const parser = new RecordParser("t.jsonl", {
    maxLineBytes: 300,
    onWarning: (w) => warnings.push(w),
  });
  const lines = [initLine(), frameLine(1), "z".repeat(400), frameLine(2), ""];
  const records = parser.push(encoder.encode(lines.join("\n")));
  assert.deepEqual(records.map((r) => r.type === "frame" ? r.seq : r.type), ["init", 1, 2]);
  assert.deepEqual(warnings.map((w) => [w.kind, w.line, w.offset]), [
    ["bad-line", 3, offsetOfLine(lines, 3)],
  ]);
});

Deno.test("LineSplitter hands out lines or runs, within the limit, in order", () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const told: number[] = [];
  const splitter = new LineSplitter({ maxLineBytes: 5, onOversize: (n) => told.push(n) });
  const runs: string[] = [];
  const collect = (run: Uint8Array) => runs.push(decode(run));
  splitter.pushRuns(encoder.encode("ab\r\ncd"), collect);
  splitter.pushRuns(encoder.encode("e\ntoo long\nok\nlonger and"), collect);
  assert.equal(splitter.pending, 10, "a runaway line is counted, not kept");
  splitter.pushRuns(encoder.encode(" longer\nlast"), collect);
  assert.deepEqual(runs, ["ab\r\n", "cde\n", "ok\n"], "bytes as read, newlines and CR kept");
  assert.deepEqual(told, [8, 17]);
  assert.equal(decode(splitter.rest()!), "last");
  assert.equal(splitter.rest(), undefined);

  const lines = new LineSplitter({ maxLineBytes: 5, onOversize: (n) => told.push(n) });
  assert.deepEqual(lines.push(encoder.encode("a\r\nb\n123456\nc\r")).map(decode), ["a", "b"]);
  assert.equal(decode(lines.flush()!), "c", "a last line's CR is dropped too");
  lines.push(encoder.encode("1234567"));
  assert.equal(lines.flush(), undefined);
  assert.deepEqual(told, [8, 17, 6, 7]);
});
