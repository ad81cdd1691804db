/**
 * `record --seal-to`: both ways of recording (`--stdin` and the stdio
 * proxy) seal into a store, as real child processes; what the store holds
 * reads back through `replay --json` as the same recording made as a tape
 * reads through the stream API, with its metadata frames first and last,
 * and nothing of it in clear on disk.
 */

import assert from "node:assert/strict";
import { generateIdentity, parseIdentity, parseRecipient } from "../src/sealed/age_keys.ts";
import { openRunHeader, type RunKeys } from "../src/sealed/run_header.ts";
import { openSealedSource } from "../src/sealed/sealed_sink.ts";
import { openSegment } from "../src/sealed/segment_cipher.ts";
import { FrameReader } from "../src/sealed/segment_frames.ts";
import { SealedWriter } from "../src/sealed/sealed_writer.ts";
import { SealedStream } from "../src/sealed/sealed_stream.ts";
import type { SealedLocation } from "../src/sealed/store_location.ts";
import { openStream } from "../src/stream/open_stream.ts";
import { tapeEpochNs } from "../src/stream/tape_message.ts";
import {
  type RecordingEnd,
  type RecordingInit,
  SealedRecording,
} from "../src/proxy/sealed_recording.ts";
import { metaPathFor, readMeta } from "../src/tape/meta_file.ts";
import type { TapeMeta } from "../src/tape/types.ts";
import { canMountTmpfs, programArgv, withTmpfs } from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const KEYS = await generateIdentity();
const RECIPIENT = KEYS.recipient;

/** A string every recorded payload but one holds: it must never be on disk in clear. */
const MARKER = "pineapple-7731";

/** What is recorded: JSON whose spelling must survive, text, a blank line, and a redacted secret. */
const INPUT = [
  `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"client":"${MARKER}"}}`,
  `{"jsonrpc":"2.0","method":"notifications/note","params":{"n":1.0,"big":12345678901234567890}}`,
  "",
  `${MARKER} as plain text, é ✓`,
  `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"secret":"hunter2","tag":"${MARKER}"}}`,
  `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`,
].join("\n") + "\n";

const REDACT = ["--redact", "$.params.secret"];

/** `record` run as the manifest runs it. */
const RECORD_ARGV = programArgv("record");

/** A server that echoes what it was sent once its stdin ends, then answers `initialize`. */
const ECHO_SERVER = [
  "sh",
  "-c",
  `x=$(cat); printf '%s\\n' "$x"; ` +
  `printf '%s\\n' '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}'`,
];

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `record` as the manifest runs it, in `cwd`, with `stdin` written and closed. */
async function runRecord(args: string[], stdin: string, cwd: string): Promise<Output> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RECORD_ARGV, ...args],
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writing = (async () => {
    const w = child.stdin.getWriter();
    await w.write(encoder.encode(stdin));
    await w.close();
  })().catch(() => {
    // A record that stops before reading its input (an error) closes the pipe: the exit status says so.
  });
  const [out] = await Promise.all([child.output(), writing]);
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function runProgramIn(name: string, args: string[], cwd: string): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...programArgv(name), ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_record_sealed_test_" });
  try {
    await Deno.writeTextFile(`${dir}/id.key`, `${KEYS.identity}\n`);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr.trimEnd(), pattern);
  assert.equal(stderr.trimEnd().split("\n").length, 1, `expected one line, got: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(dir, `${name}/`));
    else found.push(name);
  }
  return found.sort();
}

function contains(bytes: Uint8Array, text: string): boolean {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

interface Message {
  seq: number;
  timestamp_ns: number;
  type_id: number;
  encoding: string;
  payload: string;
}

/** `replay STORE --json --identity id.key`, parsed. */
async function replaySealed(store: string, cwd: string): Promise<Message[]> {
  const out = await runProgramIn("replay", [store, "--json", "--identity", "id.key"], cwd);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Message);
}

/** The same recording made as a tape, as the stream API reads it: seq, type id, payload. */
async function tapeMessages(path: string): Promise<[number, number, string][]> {
  const reader = await openStream(path);
  const found: [number, number, string][] = [];
  try {
    for await (const m of reader) found.push([m.seq, m.typeId, decoder.decode(m.payload)]);
  } finally {
    reader.close();
  }
  return found;
}

/** The only tape recorded in `dir`: its messages and meta, read before `dir` is removed. */
async function onlyTape(
  dir: string,
): Promise<{ messages: [number, number, string][]; meta: TapeMeta }> {
  const tapes = (await filesUnder(dir)).filter((name) => name.endsWith(".jsonl"));
  assert.equal(tapes.length, 1, tapes.join(", "));
  const path = `${dir}/${tapes[0]}`;
  const tape = { messages: await tapeMessages(path), meta: await readMeta(metaPathFor(path)) };
  await Deno.remove(dir, { recursive: true });
  return tape;
}

/** The metadata frames of every run of a store, opened with the test's identity. */
async function storeMetadata(location: SealedLocation): Promise<Record<string, unknown>[][]> {
  const source = await openSealedSource(location);
  const identity = parseIdentity(KEYS.identity, "test");
  const runs: Record<string, unknown>[][] = [];
  let keys: RunKeys | undefined;
  let seq = 0;
  try {
    for (let unit = source.walker.next(); unit !== undefined; unit = source.walker.next()) {
      const where = { path: source.path, offset: unit.offset, seq, identitySource: "test" };
      if (unit.kind === "run") {
        keys = await openRunHeader(unit.header, [identity], where);
        runs.push([]);
        continue;
      }
      const plaintext = openSegment(keys!.payloadKey, keys!.headerHash, unit.unit);
      assert.ok(plaintext !== undefined, `segment at ${unit.offset} opens`);
      const frames = new FrameReader(plaintext, unit.header, where);
      runs.at(-1)!.push(...frames.metadata);
      if (unit.header.dataFrames > 0) seq = unit.header.lastSeq;
    }
  } finally {
    source.close();
  }
  return runs;
}

/** The two metadata frames of a run that holds one recording. */
function recordingFrames(
  run: Record<string, unknown>[] | undefined,
): [RecordingInit, RecordingEnd] {
  assert.equal(run?.length, 2, JSON.stringify(run));
  const [init, end] = run as unknown as [RecordingInit, RecordingEnd];
  assert.equal(init.type, "init");
  assert.equal(end.type, "end");
  return [init, end];
}

function closingLine(stderr: string, frames: number, path: string, run: number): string {
  const m = new RegExp(`^record: tape (\\S+) sealed: ${frames} frames → (.+), run ${run}$`)
    .exec(stderr.trimEnd());
  assert.ok(m !== null, `closing line: ${stderr}`);
  assert.equal(m[2], path);
  return m[1]!;
}

/**
 * Checks a sealed recording against the same input recorded as a tape:
 * the same messages, the metadata frames' facts and stats against the
 * tape's meta, timestamps from `created_at` on.
 */
function assertSameRecording(
  sealed: Message[],
  tape: [number, number, string][],
  meta: TapeMeta,
  [init, end]: [RecordingInit, RecordingEnd],
  tapeId: string,
): void {
  assert.deepEqual(sealed.map((m) => [m.seq, m.type_id, m.payload]), tape);
  assert.ok(sealed.every((m) => m.encoding === "utf8"));
  assert.equal(init.version, 1);
  assert.equal(init.tape_id, tapeId);
  assert.match(init.session_id, /^[0-9a-f-]{36}$/);
  assert.equal(init.first_seq, 1);
  // A name not given is the recording's own id, as a tape's is.
  assert.equal(init.name, meta.name === meta.tape_id ? tapeId : meta.name);
  for (const key of ["description", "tags", "transport"] as const) {
    assert.deepEqual(init[key], meta[key], key);
  }
  assert.deepEqual(init.environment.command, meta.environment.command);
  assert.equal(typeof init.environment.pid, "number");
  const epoch = tapeEpochNs(init.created_at);
  let last = epoch;
  for (const m of sealed) {
    assert.ok(BigInt(m.timestamp_ns) >= last, `timestamp of seq ${m.seq} goes on`);
    last = BigInt(m.timestamp_ns);
  }
  assert.equal(end.tape_id, tapeId);
  assert.equal(end.session_id, init.session_id);
  assert.equal(end.status, "finalized");
  assert.equal(end.protocol_version, meta.protocol_version);
  assert.deepEqual(end.stats.message_counts, meta.stats.message_counts);
  assert.equal(end.stats.frame_count, meta.stats.frame_count);
  assert.equal(end.stats.errors, meta.stats.errors);
  assert.deepEqual(end.stats.frames_by_dir, {
    c2s: tape.filter(([, type]) => type === 1).length,
    s2c: tape.filter(([, type]) => type === 2).length,
  });
  assert.equal(end.stats.first_seq, 1);
  assert.equal(end.stats.last_seq, tape.length);
  assert.equal(
    end.stats.payload_bytes,
    tape.reduce((n, [, , payload]) => n + encoder.encode(payload).length, 0),
  );
}

/** Nothing but the store's two files was written, and no payload is in them in clear. */
async function assertNothingInClear(dir: string, store: string[]): Promise<void> {
  const files = (await filesUnder(dir)).filter((name) => name !== "id.key");
  assert.deepEqual(files, store.sort());
  for (const name of files) {
    const bytes = await Deno.readFile(`${dir}/${name}`);
    assert.ok(!contains(bytes, MARKER), `'${name}' holds a payload in clear`);
    assert.ok(!contains(bytes, "tools/list"), `'${name}' holds a method in clear`);
  }
}

// ------------------------------------------------------------------ recording

Deno.test("record --stdin --seal-to: what replay shows is what the tape holds, sealed", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/plain`);
    const plain = await runRecord(
      ["--stdin", "--out", "tapes", "--name", "demo", "--tag", "a", "--tag", "b", ...REDACT],
      INPUT,
      `${dir}/plain`,
    );
    assert.equal(plain.code, 0, plain.stderr);
    const tape = await onlyTape(`${dir}/plain`);

    const sealed = await runRecord(
      [
        "--stdin",
        "--seal-to",
        "sealed:vault",
        "--recipient",
        RECIPIENT,
        "--name",
        "demo",
        "--tag",
        "a",
        "--tag",
        "b",
        ...REDACT,
      ],
      INPUT,
      dir,
    );
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.equal(sealed.stdout, "");
    const tapeId = closingLine(sealed.stderr, 5, "vault/stream.sealed", 0);
    // No tape directory, no tape, no meta file: only the store.
    await assertNothingInClear(dir, ["vault/stream.sealed", "vault/writer.lock"]);

    const messages = await replaySealed("sealed:vault", dir);
    assertSameRecording(
      messages,
      tape.messages,
      tape.meta,
      recordingFrames((await storeMetadata({ kind: "file", dir: `${dir}/vault` }))[0]),
      tapeId,
    );
    // Redaction happened before sealing; every other line kept its spelling.
    assert.match(messages[3]!.payload, /"secret":"\[REDACTED\]"/);
    assert.equal(messages[1]!.payload, INPUT.split("\n")[1]);
    // Three requests were never answered: counted as a tape counts their timeouts.
    assert.equal(tape.meta.stats.errors, 3);
  });
});

Deno.test("record --seal-to DIR -- server: both directions sealed, as the tape of the same exchange", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/plain`);
    const plain = await runRecord(["--out", "tapes", "--", ...ECHO_SERVER], INPUT, `${dir}/plain`);
    assert.equal(plain.code, 0, plain.stderr);
    const tape = await onlyTape(`${dir}/plain`);

    await Deno.writeTextFile(`${dir}/keys.txt`, `# the vault\n${RECIPIENT}\n`);
    // A bare directory is a sealed:DIR store.
    const sealed = await runRecord(
      ["--seal-to", "vault", "--recipients-file", "keys.txt", "--", ...ECHO_SERVER],
      INPUT,
      dir,
    );
    assert.equal(sealed.code, 0, sealed.stderr);
    // The client got what the server said, as without sealing.
    assert.equal(sealed.stdout, plain.stdout);
    assert.ok(sealed.stdout.includes(MARKER));
    const tapeId = closingLine(sealed.stderr, 11, "vault/stream.sealed", 0);
    await Deno.remove(`${dir}/keys.txt`);
    await assertNothingInClear(dir, ["vault/stream.sealed", "vault/writer.lock"]);

    const [init, end] = recordingFrames(
      (await storeMetadata({ kind: "file", dir: `${dir}/vault` }))[0],
    );
    assertSameRecording(
      await replaySealed("vault", dir),
      tape.messages,
      tape.meta,
      [init, end],
      tapeId,
    );
    assert.deepEqual(init.environment.command, ECHO_SERVER);
    assert.equal(end.protocol_version, "2025-06-18");
  });
});

Deno.test("record --seal-to sqlite: a second recording is a new run after the store's last seq", async () => {
  await withTempDir(async (dir) => {
    const args = ["--stdin", "--seal-to", "sqlite:vault.db#mcp", "--recipient", RECIPIENT];
    const first = await runRecord(args, INPUT, dir);
    assert.equal(first.code, 0, first.stderr);
    closingLine(first.stderr, 5, "vault.db#mcp", 0);
    const second = await runRecord([...args, "--name", "again"], '{"again":true}\n', dir);
    assert.equal(second.code, 0, second.stderr);
    const secondId = closingLine(second.stderr, 1, "vault.db#mcp", 1);

    const messages = await replaySealed("sqlite:vault.db", dir);
    assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
    assert.equal(messages[5]!.payload, '{"again":true}');
    const runs = await storeMetadata({ kind: "sqlite", file: `${dir}/vault.db`, stream: "mcp" });
    assert.equal(runs.length, 2);
    const [init, end] = recordingFrames(runs[1]);
    assert.equal(init.tape_id, secondId);
    assert.equal(init.name, "again");
    assert.equal(init.first_seq, 6);
    assert.deepEqual([end.stats.first_seq, end.stats.last_seq], [6, 6]);
    // The database and whatever SQLite keeps beside it (a journal): no tape, nothing in clear.
    const files = (await filesUnder(dir)).filter((name) => name !== "id.key");
    assert.ok(files.every((name) => name.startsWith("vault.db")), files.join(", "));
    for (const name of files) {
      assert.ok(!contains(await Deno.readFile(`${dir}/${name}`), MARKER), `'${name}' in clear`);
    }
  });
});

Deno.test("record --stdin --seal-to from a directory: one line, exit 1, the end frame says error", async () => {
  await withTempDir(async (dir) => {
    const result = await new Deno.Command("sh", {
      args: ["-c", 'dir="$1"; shift; exec "$@" < "$dir"', "sh", dir, Deno.execPath(), ...[
        ...RECORD_ARGV,
        ...["--stdin", "--seal-to", `${dir}/vault`, "--recipient", RECIPIENT],
      ]],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = decoder.decode(result.stderr);
    assert.equal(result.code, 1, stderr);
    assertOneLine(
      stderr,
      new RegExp(
        `^record: Cannot read standard input: is a directory; tape '${dir}/vault/stream.sealed' ` +
          "is marked 'error': redirect a file of lines or pipe them into 'record --stdin'$",
      ),
    );
    const [init, end] = recordingFrames(
      (await storeMetadata({ kind: "file", dir: `${dir}/vault` }))[0],
    );
    assert.equal(init.first_seq, 1);
    assert.equal(end.status, "error");
    assert.equal(end.error, "Cannot read standard input: is a directory");
    assert.equal(end.stats.frame_count, 0);
    // The run ended cleanly: a reader finds no damage, and no record.
    const replay = await runProgramIn(
      "replay",
      [`sealed:${dir}/vault`, "--json", "--identity", "id.key"],
      dir,
    );
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.stdout, "");
  });
});

// ------------------------------------------------------------------ failures

Deno.test("a store another writer holds: one line naming its lock, exit 1, the server not served", async () => {
  await withTempDir(async (dir) => {
    const location = { kind: "file", dir: `${dir}/vault` } as const;
    const holder = await SealedWriter.open(location, {
      recipients: [parseRecipient(RECIPIENT, "test")],
      stream: "held",
      producer: "record_sealed_test",
      workers: 0,
    });
    try {
      const result = await runRecord(
        ["--seal-to", "vault", "--recipient", RECIPIENT, "--", ...ECHO_SERVER],
        INPUT,
        dir,
      );
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      assertOneLine(
        result.stderr,
        new RegExp(
          "^record: Sealed store lock 'vault/writer.lock' is held by another writer \\(pid \\d+\\)$",
        ),
      );
    } finally {
      await holder.close();
    }
  });
});

Deno.test({
  name: "a full disk under the store fails the recording like a tape's (needs a tmpfs)",
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    const line = `{"jsonrpc":"2.0","method":"fill","params":{"pad":"${MARKER.repeat(8)}"}}\n`;
    for (const durability of ["flush", "buffered"]) {
      await withTmpfs("256k", async (mount) => {
        await Deno.writeTextFile(`${mount}/id.key`, `${KEYS.identity}\n`);
        const result = await runRecord(
          ["--stdin", "--seal-to", "vault", "--recipient", RECIPIENT, "--durability", durability],
          line.repeat(4000),
          mount,
        );
        assert.equal(result.code, 1, `${durability}: ${result.stderr}`);
        assertOneLine(
          result.stderr,
          new RegExp(
            "^record: Cannot write sealed store 'vault/stream.sealed': no space left on device; " +
              "recording stopped, the rest of standard input is read and dropped$",
          ),
        );
        // What was committed reads back in order from seq 1, then the cut run is reported.
        const replay = await runProgramIn(
          "replay",
          ["vault", "--json", "--identity", "id.key"],
          mount,
        );
        assert.equal(replay.code, 1, durability);
        assert.match(replay.stderr, /without its final segment/);
        const seqs = replay.stdout.split("\n").filter((l) => l !== "").map((l) =>
          JSON.parse(l).seq
        );
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), durability);
        const bytes = await Deno.readFile(`${mount}/vault/stream.sealed`);
        assert.ok(!contains(bytes, MARKER), `${durability}: a payload in clear`);
      });
    }
  },
});

Deno.test("usage errors of --seal-to: one line, exit 2, nothing created", async () => {
  await withTempDir(async (dir) => {
    const cases: [string[], RegExp][] = [
      [
        ["--seal-to", "vault", "--recipient", RECIPIENT, "--out", "tapes"],
        /^record: Options '--seal-to' and '--out' exclude each other/,
      ],
      [["--seal-to", "vault"], /^record: Option '--seal-to' needs '--recipient age1…' or/],
      [
        ["--seal-to", "vault", "--recipient", "age1notakey"],
        /^record: Recipient 'age1notakey' in '--recipient' is not an age recipient/,
      ],
      [
        ["--seal-to", "vault", "--recipient", KEYS.identity],
        /^record: Recipient in '--recipient' is not an age recipient: this is a secret key/,
      ],
      [["--recipient", RECIPIENT], /^record: Option '--recipient' applies to '--seal-to'$/],
      [["--recipients-file", "k"], /^record: Option '--recipients-file' applies to '--seal-to'$/],
      [["--seal-to", "sealed:", "--recipient", RECIPIENT], /^record: Location 'sealed:' names no/],
      [["--seal-to", "sqlite:x.db#", "--recipient", RECIPIENT], /names no stream after '#'/],
    ];
    for (const [i, [args, pattern]] of cases.entries()) {
      // Both modes parse alike: the proxy's is tried for the first few only.
      const modes = i < 3 ? [["--stdin"], ["--", ...ECHO_SERVER]] : [["--stdin"]];
      for (const mode of modes) {
        const all = mode[0] === "--stdin" ? [...mode, ...args] : [...args, ...mode];
        const result = await runRecord(all, INPUT, dir);
        assert.equal(result.code, 2, `${all.join(" ")}: ${result.stderr}`);
        assertOneLine(result.stderr, pattern);
        assert.equal(result.stdout, "");
        assert.ok(!result.stderr.includes(KEYS.identity), "a secret key in an error");
      }
    }
    assert.deepEqual(await filesUnder(dir), ["id.key"]);
  });
});

// ------------------------------------------------------------------ the writer itself

Deno.test("SealedRecording: each record's timestamp is created_at plus the frame's ts, seqs as a tape's", async () => {
  await withTempDir(async (dir) => {
    const location = { kind: "file", dir: `${dir}/vault` } as const;
    const recording = await SealedRecording.open(location, {
      recipients: [parseRecipient(RECIPIENT, "test")],
      durability: "buffered",
      workers: 0,
    });
    const frames = [];
    for (let i = 0; i < 50; i++) {
      frames.push(await recording.append({ dir: i % 2 ? "s2c" : "c2s", env: { i } }));
    }
    frames.push(await recording.append({ dir: "s2c", env: "a text line", flags: ["text"] }));
    const meta = await recording.finalize();
    assert.deepEqual(frames.map((f) => f.seq), frames.map((_, i) => i + 1));
    const epoch = tapeEpochNs(meta.created_at);
    const stream = await SealedStream.open(location, {
      identities: [parseIdentity(KEYS.identity, "test")],
      identitySource: "test",
      workers: 0,
    });
    const read: [number, bigint, number, string][] = [];
    for await (const m of stream) {
      read.push([m.seq, m.timestampNs, m.typeId, decoder.decode(m.payload)]);
    }
    stream.close();
    assert.deepEqual(
      read,
      frames.map((f) => [
        f.seq,
        epoch + BigInt(Math.round(f.ts * 1_000_000)),
        f.dir === "c2s" ? 1 : 2,
        typeof f.env === "string" ? f.env : JSON.stringify(f.env),
      ]),
    );
    await assert.rejects(recording.append({ dir: "c2s", env: {} }), TypeError);
  });
});

Deno.test("SealedRecording: a message over the limit is refused and the recording goes on", async () => {
  await withTempDir(async (dir) => {
    const location = { kind: "file", dir: `${dir}/vault` } as const;
    const recording = await SealedRecording.open(location, {
      recipients: [parseRecipient(RECIPIENT, "test")],
      maxLineBytes: 16,
      workers: 0,
    });
    await assert.rejects(recording.append({ dir: "c2s", env: "x".repeat(17), flags: ["text"] }), {
      name: "LineTooLongError",
    });
    assert.equal(
      (await recording.append({ dir: "c2s", env: "x".repeat(16), flags: ["text"] })).seq,
      1,
    );
    assert.equal((await recording.finalize()).stats.frame_count, 1);
  });
});
