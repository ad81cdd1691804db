import assert from "node:assert/strict";
import { initRecordJson, spawnProgram, waitFor } from "./_helpers.ts";
import { emptyStats } from "../src/tape/tape_stats.ts";
import { writeMetaAtomic } from "../src/tape/meta_file.ts";
import { type FollowOptions, followTape } from "../src/tape/tape_follower.ts";
import { TapeFormatError } from "../src/tape/tape_format_error.ts";
import { TapeOpenError, TapeReader, type TapeWarning } from "../src/tape/tape_reader.ts";
import type { FrameRecord, TapeMeta, TapeRecord } from "../src/tape/types.ts";
import { TapeWriter } from "../src/tape/tape_writer.ts";

const encoder = new TextEncoder();

function initLine(id = "t-1"): string {
  return initRecordJson(id) + "\n";
}

function frameLine(seq: number, text = "hello"): string {
  return JSON.stringify({
    type: "frame",
    seq,
    ts: seq,
    dir: seq % 2 ? "c2s" : "s2c",
    env: { jsonrpc: "2.0", id: seq, method: "echo", params: { text } },
  }) + "\n";
}

function finalLine(seq: number): string {
  return JSON.stringify({
    type: "checkpoint",
    checkpoint_at: "2026-11-22T03:01:00.000Z",
    seq,
    stats: {},
    final: true,
  }) + "\n";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows a tape in the background, collecting what it yields. */
class Follow {
  readonly records: TapeRecord[] = [];
  readonly warnings: TapeWarning[] = [];
  readonly controller = new AbortController();
  readonly done: Promise<unknown>;

  constructor(path: string, options: FollowOptions = {}) {
    const iterator = followTape(path, {
      pollIntervalMs: 50,
      signal: this.controller.signal,
      onWarning: (w) => this.warnings.push(w),
      ...options,
    });
    this.done = (async () => {
      for await (const record of iterator) this.records.push(record);
    })().then(() => undefined, (e) => e);
  }

  frames(): FrameRecord[] {
    return this.records.filter((r): r is FrameRecord => r.type === "frame");
  }

  seqs(): number[] {
    return this.frames().map((f) => f.seq);
  }

  /** Waits until `count` frames have been yielded. */
  async frameCount(count: number): Promise<void> {
    await waitFor(
      `${count} frames (have ${this.frames().length})`,
      () => this.frames().length >= count ? true : undefined,
    );
  }

  async stop(): Promise<unknown> {
    this.controller.abort();
    return await this.done;
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_follow_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function append(path: string, text: string | Uint8Array): Promise<void> {
  using file = await Deno.open(path, { append: true, create: true });
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

Deno.test("follow yields the existing records, then new ones as they are appended", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1) + frameLine(2));
    const follow = new Follow(path);
    await follow.frameCount(2);
    assert.equal(follow.records[0]!.type, "init");
    for (let seq = 3; seq <= 20; seq++) await append(path, frameLine(seq));
    await follow.frameCount(20);
    assert.equal(await follow.stop(), undefined);
    assert.deepEqual(follow.seqs(), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(follow.warnings, []);
  });
});

Deno.test("a line written in pieces is delivered once, whole, after its newline", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1));
    const follow = new Follow(path);
    await follow.frameCount(1);
    // Split inside a multi-byte character too: the pieces are bytes, not characters.
    const line = encoder.encode(frameLine(2, "naïve — 日本 🎉 text"));
    const cuts = [10, line.indexOf(0xe6) + 1, line.length - 1];
    let from = 0;
    for (const cut of cuts) {
      await append(path, line.subarray(from, cut));
      from = cut;
      // Give the follower time to see the partial line; it must hold it, not yield it.
      await sleep(120);
      assert.deepEqual(follow.seqs(), [1]);
    }
    await append(path, line.subarray(from));
    await follow.frameCount(2);
    await append(path, frameLine(3));
    await follow.frameCount(3);
    await follow.stop();
    assert.deepEqual(follow.seqs(), [1, 2, 3]);
    const env = follow.frames()[1]!.env as { params: { text: string } };
    assert.equal(env.params.text, "naïve — 日本 🎉 text");
    assert.deepEqual(follow.warnings, []);
  });
});

Deno.test("polling alone (no notifications) also follows, and split lines stay whole", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine());
    const follow = new Follow(path, { watch: false, pollIntervalMs: 10 });
    for (let seq = 1; seq <= 10; seq++) {
      const line = frameLine(seq);
      await append(path, line.slice(0, 7));
      await sleep(15);
      await append(path, line.slice(7));
    }
    await follow.frameCount(10);
    await follow.stop();
    assert.deepEqual(follow.seqs(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

Deno.test("follow reads a tape written by another process, every frame once and in order", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    const frames = 300;
    // The writer splits some lines across writes and pauses between bursts.
    const script = `
      const path = ${JSON.stringify(path)};
      const enc = new TextEncoder();
      const f = await Deno.open(path, { write: true, create: true, truncate: true });
      const write = async (s) => { const b = enc.encode(s); let w = 0; while (w < b.length) w += await f.write(b.subarray(w)); };
      await write(${JSON.stringify(initLine("child"))});
      for (let seq = 1; seq <= ${frames}; seq++) {
        const line = JSON.stringify({ type: "frame", seq, ts: seq, dir: "c2s", env: { id: seq, pad: "x".repeat(seq % 97) } }) + "\\n";
        if (seq % 7 === 0) {
          await write(line.slice(0, 13));
          await new Promise((r) => setTimeout(r, 3));
          await write(line.slice(13));
        } else {
          await write(line);
        }
        if (seq % 50 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      await write(${JSON.stringify(finalLine(frames))});
      f.close();
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // The follower may start before the writer has created the file.
    const follow = new Follow(path, { waitForFile: true });
    const status = await child.output();
    assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
    // The final checkpoint ends the follow by itself.
    assert.equal(await follow.done, undefined);
    assert.deepEqual(follow.seqs(), Array.from({ length: frames }, (_, i) => i + 1));
    assert.equal(follow.records.at(-1)!.type, "checkpoint");
    assert.equal(follow.records.filter((r) => r.type === "init").length, 1);
    assert.deepEqual(follow.warnings, []);
  });
});

Deno.test("a truncated tape is read again from its start, with a warning", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine("first") + frameLine(1) + frameLine(2) + frameLine(3));
    const follow = new Follow(path);
    await follow.frameCount(3);
    await Deno.writeTextFile(path, initLine("second") + frameLine(1));
    await follow.frameCount(4);
    await append(path, frameLine(2));
    await follow.frameCount(5);
    await follow.stop();
    assert.deepEqual(follow.seqs(), [1, 2, 3, 1, 2]);
    const inits = follow.records.filter((r) => r.type === "init");
    assert.deepEqual(inits.map((r) => r.type === "init" && r.tape_id), ["first", "second"]);
    assert.deepEqual(follow.warnings.map((w) => w.kind), ["truncated"]);
    assert.match(
      follow.warnings[0]!.message,
      /^Tape '.*t\.jsonl' was truncated after line 4 \(byte \d+\), reading it again from the start$/,
    );
  });
});

Deno.test("a replaced tape is read to its end, then the new file from its start", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine("old") + frameLine(1) + frameLine(2));
    const follow = new Follow(path);
    await follow.frameCount(2);
    // Like a log rotation: the new file is made aside and renamed over the old one.
    await Deno.writeTextFile(`${dir}/next.tmp`, initLine("new") + frameLine(1));
    await Deno.rename(`${dir}/next.tmp`, path);
    await follow.frameCount(3);
    await append(path, frameLine(2) + frameLine(3));
    await follow.frameCount(5);
    await follow.stop();
    assert.deepEqual(follow.seqs(), [1, 2, 1, 2, 3]);
    const inits = follow.records.filter((r) => r.type === "init");
    assert.deepEqual(inits.map((r) => r.type === "init" && r.tape_id), ["old", "new"]);
    assert.deepEqual(follow.warnings.map((w) => w.kind), ["replaced"]);
  });
});

Deno.test("a tape deleted and created again is followed into the new file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine("one") + frameLine(1));
    const follow = new Follow(path);
    await follow.frameCount(1);
    await Deno.remove(path);
    await sleep(100);
    await Deno.writeTextFile(path, initLine("two") + frameLine(1) + frameLine(2));
    await follow.frameCount(3);
    await follow.stop();
    assert.deepEqual(follow.seqs(), [1, 1, 2]);
    assert.ok(follow.warnings.some((w) => w.kind === "replaced"));
  });
});

Deno.test("following ends at the final checkpoint unless untilFinalized is false", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1));
    const follow = new Follow(path);
    await follow.frameCount(1);
    await append(path, frameLine(2) + finalLine(2));
    assert.equal(await follow.done, undefined);
    assert.deepEqual(follow.records.map((r) => r.type), ["init", "frame", "frame", "checkpoint"]);

    // Already finalized: reads to the end and stops.
    const again = new Follow(path);
    assert.equal(await again.done, undefined);
    assert.equal(again.records.length, 4);

    // Asked to keep going: it waits for more until aborted.
    const keep = new Follow(path, { untilFinalized: false });
    await waitFor("the final checkpoint", () => keep.records.length === 4 ? true : undefined);
    await append(path, frameLine(3));
    await keep.frameCount(3);
    assert.equal(await keep.stop(), undefined);
  });
});

Deno.test("following ends when the meta file says finalized and no data follows", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t-1.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1));
    const follow = new Follow(path);
    await follow.frameCount(1);
    const meta = metaFor("t-1", "recording");
    await writeMetaAtomic(`${dir}/t-1.meta.json`, meta);
    await append(path, frameLine(2));
    await follow.frameCount(2);
    // Records written just before the status changes are still delivered.
    await append(path, frameLine(3));
    await writeMetaAtomic(`${dir}/t-1.meta.json`, { ...meta, status: "finalized" });
    assert.equal(await follow.done, undefined);
    assert.deepEqual(follow.seqs(), [1, 2, 3]);
  });
});

Deno.test("abort stops a follow that is waiting, promptly and without leaks", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1));
    const follow = new Follow(path, { pollIntervalMs: 60_000 });
    await follow.frameCount(1);
    assert.equal(await follow.stop(), undefined);
    // An already aborted signal yields nothing.
    const records: TapeRecord[] = [];
    for await (const r of followTape(path, { signal: AbortSignal.abort() })) records.push(r);
    assert.deepEqual(records, []);
    // Breaking out of the loop also closes everything (the sanitizers check).
    for await (const r of followTape(path)) {
      assert.equal(r.type, "init");
      break;
    }
  });
});

Deno.test("a missing file fails at once, or is waited for with waitForFile", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/later.jsonl`;
    const error = await new Follow(path).done;
    assert.ok(error instanceof TapeOpenError);
    assert.equal(error.message, `Cannot open tape '${path}': no such file or directory`);

    const follow = new Follow(path, { waitForFile: true });
    await sleep(100);
    assert.equal(follow.records.length, 0);
    // The init line arrives in two pieces: it is not judged until it is whole.
    await append(path, initLine().slice(0, 20));
    await sleep(100);
    await append(path, initLine().slice(20) + frameLine(1));
    await follow.frameCount(1);
    await follow.stop();
    assert.equal(follow.records[0]!.type, "init");
  });
});

Deno.test("following a file that is not a tape fails with a format error", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/x.jsonl`;
    await Deno.writeTextFile(path, "just some text\n");
    const error = await new Follow(path).done;
    assert.ok(error instanceof TapeFormatError);
    assert.match(error.message, /^Not a tape: /);
  });
});

Deno.test("strict follow fails at a bad line after delivering the records before it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1));
    const follow = new Follow(path, { strict: true });
    await follow.frameCount(1);
    await append(path, frameLine(2) + "oops\n" + frameLine(3));
    const error = await follow.done;
    assert.ok(error instanceof TapeFormatError);
    assert.equal(error.line, 4);
    assert.deepEqual(follow.seqs(), [1, 2]);
  });
});

function metaFor(id: string, status: TapeMeta["status"]): TapeMeta {
  const now = new Date().toISOString();
  return {
    tape_id: id,
    name: id,
    description: "",
    tags: [],
    created_at: now,
    updated_at: now,
    finalized_at: status === "finalized" ? now : null,
    status,
    transport: "stdio",
    protocol_version: null,
    environment: {},
    stats: emptyStats(),
    performance: { durability: "flush", writes: 0, syncs: 0, max_batch: 0 },
  };
}

Deno.test("follow a TapeWriter recording in a child process until it is finalized", async () => {
  await withDir(async (dir) => {
    const tapeId = "20261122T031500Z-0badcafe";
    const frames = 120;
    const writerUrl = new URL("../src/tape/tape_writer.ts", import.meta.url).href;
    const script = `
      import { TapeWriter } from ${JSON.stringify(writerUrl)};
      const writer = await TapeWriter.create(${JSON.stringify(dir)}, {
        tapeId: ${JSON.stringify(tapeId)}, checkpointEveryFrames: 25,
      });
      for (let i = 1; i <= ${frames}; i++) {
        const env = i % 2 ? { jsonrpc: "2.0", id: i, method: "echo", params: { i } }
          : { jsonrpc: "2.0", id: i - 1, result: { i } };
        await writer.append({ dir: i % 2 ? "c2s" : "s2c", env });
        if (i % 30 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      await writer.finalize();
    `;
    const path = `${dir}/${tapeId}.jsonl`;
    const follow = new Follow(path, { waitForFile: true, strict: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const status = await child.output();
    assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
    assert.equal(await follow.done, undefined);
    assert.deepEqual(follow.seqs(), Array.from({ length: frames }, (_, i) => i + 1));
    const last = follow.records.at(-1)!;
    assert.ok(last.type === "checkpoint" && last.final === true);
    assert.equal(follow.records.filter((r) => r.type === "correlation").length, frames / 2);
    assert.deepEqual(follow.warnings, []);
  });
});

Deno.test("follow picks up where a reader stopped, without reading the tape again", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    const fourth = frameLine(4);
    await Deno.writeTextFile(
      path,
      initLine() + frameLine(1) + frameLine(2) + frameLine(3) + fourth.slice(0, 9),
    );
    using reader = await TapeReader.open(path, { onWarning: () => {} });
    const records = reader.frames();
    const seen: number[] = [];
    for await (const f of records) seen.push(f.seq);
    assert.deepEqual(seen, [1, 2, 3]);
    const position = records.position;
    const expected = new TextEncoder().encode(
      initLine() + frameLine(1) + frameLine(2) + frameLine(3),
    );
    assert.deepEqual(position, { offset: expected.length, line: 5, lastSeq: 3, finalized: false });

    const follow = new Follow(path, { from: position });
    await append(path, fourth.slice(9) + frameLine(5));
    await follow.frameCount(2);
    await follow.stop();
    assert.deepEqual(follow.records.map((r) => r.type), ["init", "frame", "frame"]);
    assert.deepEqual(follow.seqs(), [4, 5]);
    assert.deepEqual(follow.warnings, []);
  });
});

Deno.test("a partial line left in a replaced file is reported, never parsed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine("old") + frameLine(1) + frameLine(2).slice(0, 30));
    const follow = new Follow(path);
    await follow.frameCount(1);
    await Deno.writeTextFile(`${dir}/next.tmp`, initLine("new") + frameLine(1));
    await Deno.rename(`${dir}/next.tmp`, path);
    await follow.frameCount(2);
    await follow.stop();
    assert.deepEqual(follow.seqs(), [1, 1]);
    assert.deepEqual(follow.warnings.map((w) => [w.kind, w.line]), [
      ["partial-line", 3],
      ["replaced", 3],
    ]);
  });
});

Deno.test("following ends when the meta file says the recording failed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t-1.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1));
    await writeMetaAtomic(`${dir}/t-1.meta.json`, metaFor("t-1", "recording"));
    const follow = new Follow(path);
    await follow.frameCount(1);
    await writeMetaAtomic(`${dir}/t-1.meta.json`, {
      ...metaFor("t-1", "error"),
      error: "disk full",
    });
    assert.equal(await follow.done, undefined);
    assert.deepEqual(follow.seqs(), [1]);
  });
});

Deno.test("a follow from a position after the final checkpoint ends at once, meta or not", async () => {
  await withDir(async (dir) => {
    // No meta file: the final checkpoint is the only sign the tape is complete.
    const path = `${dir}/t-1.jsonl`;
    await Deno.writeTextFile(path, initLine() + frameLine(1) + finalLine(1));
    using reader = await TapeReader.open(path);
    const records = reader.records();
    for await (const _ of records) { /* read to the end */ }
    const position = records.position;
    assert.equal(position.finalized, true);

    const follow = new Follow(path, { from: position });
    let ended = false;
    follow.done.then(() => ended = true);
    try {
      await waitFor("the follow to end by itself", () => ended ? true : undefined);
    } finally {
      await follow.stop();
    }
    assert.deepEqual(follow.records, []);

    // Asked to keep going, it still follows from there.
    const keep = new Follow(path, { from: position, untilFinalized: false });
    await append(path, frameLine(2));
    await keep.frameCount(1);
    assert.equal(await keep.stop(), undefined);
    assert.deepEqual(keep.seqs(), [2]);
  });
});

Deno.test("tail -f on a finalized tape without its meta file prints and exits", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
    await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
    await writer.finalize();
    const path = `${dir}/copy.jsonl`;
    await Deno.copyFile(writer.path, path);
    await Deno.remove(writer.path);
    await Deno.remove(writer.metaPath);

    const child = spawnProgram("tail", [path, "-f", "-n", "1"]);
    await child.stdin.close();
    // Before the fix it never ended: kill it so the test fails instead of hanging.
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const out = await child.output();
    clearTimeout(killer);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.signal, null, "tail -f did not end by itself");
    assert.equal(out.code, 0, stderr);
    assert.match(new TextDecoder().decode(out.stdout), /response|result/);
  });
});

/** A `tail -f` child whose stdout and stderr are collected as they come. */
class TailChild {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #reading: Promise<unknown>;

  constructor(args: string[]) {
    this.child = spawnProgram("tail", args);
    this.child.stdin.close();
    const collect = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
    };
    this.#reading = Promise.all([
      collect(this.child.stdout, (t) => (this.stdout += t)),
      collect(this.child.stderr, (t) => (this.stderr += t)),
    ]);
  }

  /** Waits until stderr has `count` lines. */
  async stderrLines(count: number): Promise<string[]> {
    return await waitFor(`${count} lines on stderr (have: ${this.stderr})`, () => {
      const lines = this.stderr.split("\n").filter((l) => l !== "");
      return lines.length >= count ? lines : undefined;
    });
  }

  /** Waits until stdout shows `text`. */
  async shows(text: string): Promise<void> {
    await waitFor(
      `'${text}' on stdout (have: ${this.stdout})`,
      () => this.stdout.includes(text) ? true : undefined,
    );
  }

  /** Ends it with SIGTERM (which tail -f takes as a clean stop) and returns its status. */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    const status = await this.child.status;
    await this.#reading;
    return status;
  }
}

/** A tape being recorded (meta `recording`) with one frame, as `tail -f` follows it. */
async function recordingTape(dir: string): Promise<string> {
  const writer = await TapeWriter.create(dir, { durability: "flush" });
  await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "first_one" } });
  // Left open: the meta says recording, so tail -f waits for more.
  return writer.path;
}

for (
  const [how, replace] of [
    ["renamed over it", async (path: string, dir: string) => {
      await Deno.writeTextFile(`${dir}/notes.txt`, "just some notes\n");
      await Deno.rename(`${dir}/notes.txt`, path);
    }],
    ["written over it in place", async (path: string) => {
      await Deno.writeTextFile(path, "just some notes\n");
    }],
  ] as const
) {
  Deno.test(`tail -f: a tape replaced by a file that is not a tape (${how}) is said once and waited out`, async () => {
    await withDir(async (dir) => {
      const path = await recordingTape(dir);
      const tail = new TailChild([path, "-f", "-n", "5"]);
      try {
        await tail.shows("first_one");
        await replace(path, dir);
        const [line] = await tail.stderrLines(1);
        assert.match(
          line!,
          new RegExp(
            `^tail: warning: Tape '${path}' was replaced by a file that is not a tape after line \\d+ \\(byte \\d+\\); waiting for a tape at this path$`,
          ),
        );
        // Still there, still waiting: more of the same file is not told again.
        await append(path, "more notes\n");
        await sleep(600);
        assert.equal(tail.child.pid > 0, true);
        // A tape at the path again: followed from its start.
        await Deno.writeTextFile(`${dir}/next.tmp`, initLine("next") + frameLine(7, "second_one"));
        await Deno.rename(`${dir}/next.tmp`, path);
        // The human format shows the method: "echo".
        await tail.shows("echo");
      } finally {
        const status = await tail.stop();
        assert.equal(status.code, 0, tail.stderr);
      }
      const lines = tail.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.filter((l) => l.includes("not a tape")).length, 1, tail.stderr);
      assert.ok(lines.every((l) => l.startsWith("tail: warning: ")), tail.stderr);
    });
  });
}

Deno.test("tail -f: a deleted tape is said once and a tape made again at its path is followed", async () => {
  await withDir(async (dir) => {
    const path = await recordingTape(dir);
    const tail = new TailChild([path, "-f", "-n", "5"]);
    try {
      await tail.shows("first_one");
      await Deno.remove(path);
      const [line] = await tail.stderrLines(1);
      assert.match(
        line!,
        new RegExp(
          `^tail: warning: Tape '${path}' was deleted after line \\d+ \\(byte \\d+\\); waiting for a tape at this path$`,
        ),
      );
      await sleep(600);
      assert.equal(tail.stderr.split("\n").filter((l) => l !== "").length, 1, tail.stderr);
      await Deno.writeTextFile(path, initLine("again") + frameLine(3, "second_one"));
      // The human format shows the method: "echo".
      await tail.shows("echo");
    } finally {
      const status = await tail.stop();
      assert.equal(status.code, 0, tail.stderr);
    }
  });
});

Deno.test("follow: a replacement that is not a tape is one not-a-tape warning, and nothing is yielded from it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    await Deno.writeTextFile(path, initLine("old") + frameLine(1));
    const follow = new Follow(path);
    await follow.frameCount(1);
    await Deno.writeTextFile(path, "not a tape\n");
    await waitFor("a warning", () => follow.warnings.length > 0 ? true : undefined);
    await append(path, "still not a tape\n");
    await sleep(300);
    await Deno.remove(path);
    await waitFor("two warnings", () => follow.warnings.length > 1 ? true : undefined);
    await Deno.writeTextFile(path, initLine("new") + frameLine(1) + frameLine(2));
    await follow.frameCount(3);
    assert.equal(await follow.stop(), undefined);
    assert.deepEqual(follow.seqs(), [1, 1, 2]);
    assert.deepEqual(follow.warnings.map((w) => w.kind), ["not-a-tape", "deleted", "replaced"]);
  });
});
