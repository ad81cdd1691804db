/**
 * Tests of the tape writer and the meta file: durability modes, sequence
 * contiguity, checkpoints, atomic meta, reopen after a crash (simulated and
 * a real SIGKILL), oversize lines, a full disk and finalize.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TapeWriter } from "../src/tape/tape_writer.ts";
import { LineTooLongError, TapeWriteError } from "../src/tape/tape_write_errors.ts";
import { metaPathFor, readMeta, writeMetaAtomic } from "../src/tape/meta_file.ts";
import { TapeFormatError } from "../src/tape/tape_format_error.ts";
import { TapeReader } from "../src/tape/tape_reader.ts";
import type {
  CheckpointRecord,
  CorrelationRecord,
  FrameRecord,
  InitRecord,
  TapeDurability,
  TapeMeta,
  TapeRecord,
} from "../src/tape/types.ts";
import { canMountTmpfs, evalInChild, ROOT, waitFor, withTmpfs } from "./_helpers.ts";

type AnyRecord = TapeRecord & Record<string, unknown>;

/** Reads a tape the simplest way there is: one JSON.parse per line. */
async function readTape(path: string): Promise<AnyRecord[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text === "" || text.endsWith("\n"), `tape '${path}' ends with a partial line`);
  return text.split("\n").slice(0, -1).map((line) => JSON.parse(line) as AnyRecord);
}

function framesOf(records: AnyRecord[]): FrameRecord[] {
  return records.filter((r) => r.type === "frame") as FrameRecord[];
}

function assertContiguous(frames: FrameRecord[], from = 1): void {
  frames.forEach((f, i) => assert.equal(f.seq, from + i, `frame ${i} has seq ${f.seq}`));
}

function request(id: number | string, method = "tools/call") {
  return { jsonrpc: "2.0", id, method, params: { name: "echo" } };
}

function response(id: number | string) {
  return { jsonrpc: "2.0", id, result: { content: [] } };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool-writer-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("create writes the init record and a recording meta file", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(`${dir}/nested/tapes`, {
      name: "session",
      description: "a test",
      tags: ["a", "b"],
    });
    assert.match(writer.tapeId, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.equal(writer.path, `${dir}/nested/tapes/${writer.tapeId}.jsonl`);
    assert.equal(writer.metaPath, `${dir}/nested/tapes/${writer.tapeId}.meta.json`);
    const init = (await readTape(writer.path))[0] as InitRecord;
    assert.equal(init.type, "init");
    assert.equal(init.version, 1);
    assert.equal(init.tape_id, writer.tapeId);
    assert.equal(init.protocol_version, null);
    assert.match(init.session_id, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(init.created_at)));
    const meta = await readMeta(writer.metaPath);
    assert.equal(meta.status, "recording");
    assert.equal(meta.name, "session");
    assert.equal(meta.description, "a test");
    assert.deepEqual(meta.tags, ["a", "b"]);
    assert.equal(meta.created_at, init.created_at);
    assert.equal(meta.finalized_at, null);
    assert.equal(meta.transport, "stdio");
    assert.equal(meta.performance.durability, "flush");
    assert.equal(meta.environment.pid, Deno.pid);
    await writer.finalize();
  });
});

Deno.test("create refuses to overwrite a tape and unsafe ids", async () => {
  await withDir(async (dir) => {
    const first = await TapeWriter.create(dir, { tapeId: "fixed" });
    await assert.rejects(
      TapeWriter.create(dir, { tapeId: "fixed" }),
      (e: unknown) =>
        e instanceof TapeWriteError && e.path === `${dir}/fixed.jsonl` &&
        e.message === `Cannot create tape '${dir}/fixed.jsonl': file exists`,
    );
    await assert.rejects(TapeWriter.create(dir, { tapeId: "../x" }), TypeError);
    await assert.rejects(
      TapeWriter.create(dir, { durability: "lazy" as TapeDurability }),
      TypeError,
    );
    await assert.rejects(TapeWriter.create(dir, { checkpointEveryFrames: 0 }), RangeError);
    await first.finalize();
  });
});

for (const durability of ["buffered", "flush", "fsync"] as const) {
  Deno.test(`${durability}: frames are contiguous and in call order on disk`, async () => {
    await withDir(async (dir) => {
      const writer = await TapeWriter.create(dir, { durability, checkpointEveryFrames: 7 });
      const sequential: FrameRecord[] = [];
      for (let i = 0; i < 20; i++) {
        sequential.push(
          await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", method: `m${i}` } }),
        );
      }
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) => writer.append({ dir: "s2c", env: { n: i } })),
      );
      assert.deepEqual(sequential.map((f) => f.seq), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.deepEqual(burst.map((f) => f.seq), Array.from({ length: 30 }, (_, i) => i + 21));
      const meta = await writer.finalize();
      const frames = framesOf(await readTape(writer.path));
      assertContiguous(frames);
      assert.equal(frames.length, 50);
      // The written time is exactly the one the caller got back.
      assert.deepEqual(frames.slice(0, 20).map((f) => f.ts), sequential.map((f) => f.ts));
      assert.deepEqual(frames.slice(20).map((f) => f.ts), burst.map((f) => f.ts));
      // Call order is disk order: the burst's envelopes appear as they were appended.
      assert.deepEqual(frames.slice(20).map((f) => (f.env as { n: number }).n), [
        ...Array(30).keys(),
      ]);
      assert.equal(meta.stats.frame_count, 50);
      assert.equal(meta.stats.last_seq, 50);
      assert.equal(meta.stats.bytes, (await Deno.stat(writer.path)).size);
      assert.equal(meta.performance.durability, durability);
      assert.ok(meta.performance.writes >= 1);
      if (durability === "fsync") assert.ok(meta.performance.syncs >= 1);
    });
  });
}

Deno.test("flush: an acknowledged frame is already in the file", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { durability: "flush" });
    for (let i = 1; i <= 5; i++) {
      const frame = await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", method: "tick", i } });
      // Read through a separate handle, as another process would.
      const frames = framesOf(await readTape(writer.path));
      assert.equal(frames.at(-1)?.seq, frame.seq);
    }
    await writer.finalize();
  });
});

Deno.test("flush: appends made in the same tick share one write", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { durability: "flush" });
    await Promise.all(Array.from({ length: 40 }, (_, i) => writer.append({ dir: "c2s", env: i })));
    const meta = await writer.finalize();
    // The first is written at once, the 39 made after it in the same tick together.
    assert.equal(meta.performance.max_batch, 39);
    // init, the first frame, the other 39, and finalize's checkpoint.
    assert.equal(meta.performance.writes, 4);
    assertContiguous(framesOf(await readTape(writer.path)));
  });
});

Deno.test("fsync: concurrent appenders share fdatasync calls (group commit)", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { durability: "fsync" });
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; i < 10; i++) await writer.append({ dir: "c2s", env: { w, i } });
      }),
    );
    const meta = await writer.finalize();
    assert.equal(meta.stats.frame_count, 320);
    assert.ok(meta.performance.syncs < 320 / 4, `${meta.performance.syncs} syncs for 320 frames`);
    assert.ok(meta.performance.max_batch >= 16, `max batch ${meta.performance.max_batch}`);
    assertContiguous(framesOf(await readTape(writer.path)));
  });
});

Deno.test("buffered: frames reach the file on the interval, on flush() and by size", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, {
      durability: "buffered",
      flushIntervalMs: 20,
      flushBytes: 4096,
    });
    await writer.append({ dir: "c2s", env: "first", flags: ["text"] });
    await waitFor("the interval flush", async () => {
      const frames = framesOf(await readTape(writer.path));
      return frames.length === 1 ? true : undefined;
    });
    await writer.append({ dir: "c2s", env: "second", flags: ["text"] });
    await writer.flush();
    assert.equal(framesOf(await readTape(writer.path)).length, 2);
    // Well past flushBytes without waiting for the timer.
    for (let i = 0; i < 100; i++) await writer.append({ dir: "s2c", env: "x".repeat(100) });
    await Promise.resolve();
    assert.ok(framesOf(await readTape(writer.path)).length >= 40);
    await writer.finalize();
    assert.equal(framesOf(await readTape(writer.path)).length, 102);
  });
});

Deno.test("frames carry action, flags, transport and correlation ids", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { transport: "stdio" });
    const req = await writer.append({ dir: "c2s", env: request(1) });
    const note = await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", method: "note" } });
    const text = await writer.append({ dir: "s2c", env: "not json", flags: ["text"] });
    const red = await writer.append({
      dir: "s2c",
      env: response(1),
      flags: ["redacted"],
      transport: "sse",
    });
    assert.equal(req.action, "request");
    assert.equal(req.correlation_id, "c2s-1");
    assert.equal(note.action, "notification");
    assert.equal(note.correlation_id, undefined);
    assert.equal(text.action, "text");
    assert.equal(red.action, "response");
    assert.equal(red.correlation_id, "c2s-1");
    await writer.finalize();
    const records = await readTape(writer.path);
    const frames = framesOf(records);
    assert.deepEqual(frames[3], {
      type: "frame",
      seq: 4,
      ts: red.ts,
      dir: "s2c",
      env: response(1),
      action: "response",
      transport: "sse",
      correlation_id: "c2s-1",
      flags: ["redacted"],
    });
    assert.deepEqual(Object.keys(records[5]!), [
      "type",
      "id",
      "request_seq",
      "response_seq",
      "request_ts",
      "response_ts",
      "rtt_ms",
      "status",
      "method",
    ]);
    assert.ok(frames.every((f, i) => i === 0 || f.ts >= frames[i - 1]!.ts));
  });
});

Deno.test("a response is followed by its correlation record, in both directions", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    await writer.append({ dir: "c2s", env: request(1, "initialize") });
    await writer.append({ dir: "s2c", env: request(1, "sampling/createMessage") });
    await new Promise((r) => setTimeout(r, 5));
    await writer.append({ dir: "c2s", env: response(1) });
    await writer.append({
      dir: "s2c",
      env: { jsonrpc: "2.0", id: 1, result: { protocolVersion: "2025-06-18" } },
    });
    await writer.append({ dir: "s2c", env: response(99) });
    assert.equal(writer.protocolVersion, "2025-06-18");
    const meta = await writer.finalize();
    const records = await readTape(writer.path);
    const types = records.map((r) => r.type);
    assert.deepEqual(types, [
      "init",
      "frame",
      "frame",
      "frame",
      "correlation",
      "frame",
      "correlation",
      "frame",
      "checkpoint",
    ]);
    const server = records[4] as CorrelationRecord;
    assert.equal(server.id, "s2c-2");
    assert.equal(server.request_seq, 2);
    assert.equal(server.response_seq, 3);
    assert.equal(server.method, "sampling/createMessage");
    assert.equal(server.status, "ok");
    const frames = framesOf(records);
    assert.equal(server.rtt_ms, Math.round((frames[2]!.ts - frames[1]!.ts) * 1000) / 1000);
    assert.ok(server.rtt_ms! >= 4, `rtt ${server.rtt_ms}`);
    const client = records[6] as CorrelationRecord;
    assert.equal(client.id, "c2s-1");
    assert.equal(client.response_seq, 4);
    assert.equal(frames[4]!.correlation_id, undefined, "an unmatched response gets no id");
    assert.equal(meta.protocol_version, "2025-06-18");
    assert.equal((records.at(-1) as CheckpointRecord).protocol_version, "2025-06-18");
    assert.equal(meta.stats.correlations, 2);
    assert.equal(meta.stats.errors, 0);
  });
});

Deno.test("the protocol version comes only from a recorded initialize response", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { checkpointEveryFrames: 2 });
    await writer.append({ dir: "c2s", env: request(1, "initialize") });
    await writer.append({
      dir: "s2c",
      env: { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Unsupported" } },
    });
    assert.equal(writer.protocolVersion, null);
    await writer.append({ dir: "c2s", env: request(2, "other") });
    await writer.append({
      dir: "s2c",
      env: { jsonrpc: "2.0", id: 2, result: { protocolVersion: "made-up" } },
    });
    assert.equal(writer.protocolVersion, null);
    await writer.append({ dir: "c2s", env: request(3, "initialize") });
    await writer.append({
      dir: "s2c",
      env: { jsonrpc: "2.0", id: 3, result: { protocolVersion: "2025-03-26" } },
    });
    const meta = await writer.finalize();
    assert.equal(meta.protocol_version, "2025-03-26");
    const records = await readTape(writer.path);
    assert.equal((records[0] as InitRecord).protocol_version, null);
    const checkpoints = records.filter((r) => r.type === "checkpoint") as CheckpointRecord[];
    assert.deepEqual(checkpoints.map((c) => c.protocol_version), [
      null,
      null,
      "2025-03-26",
      "2025-03-26",
    ]);
    assert.equal(meta.stats.errors, 1);
  });
});

Deno.test("checkpoints come every N frames and record exact stats", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { checkpointEveryFrames: 10 });
    for (let i = 1; i <= 35; i++) await writer.append({ dir: "c2s", env: { i } });
    await writer.finalize();
    const text = await Deno.readTextFile(writer.path);
    const lines = text.split("\n").slice(0, -1);
    let offset = 0;
    const seen: { seq: number; final: boolean }[] = [];
    for (const line of lines) {
      const record = JSON.parse(line) as AnyRecord;
      if (record.type === "checkpoint") {
        const checkpoint = record as CheckpointRecord;
        seen.push({ seq: checkpoint.seq, final: checkpoint.final === true });
        assert.equal(checkpoint.stats.bytes, offset, "stats.bytes is where the checkpoint starts");
        assert.equal(checkpoint.stats.frame_count, checkpoint.seq);
        assert.equal(checkpoint.stats.checkpoints, seen.length);
      }
      offset += new TextEncoder().encode(line).length + 1;
    }
    assert.deepEqual(seen, [
      { seq: 10, final: false },
      { seq: 20, final: false },
      { seq: 30, final: false },
      { seq: 35, final: true },
    ]);
    assert.equal(lines.at(-1)!.includes('"final":true'), true);
  });
});

Deno.test("checkpoints come every N ms while frames arrive, not while idle", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { checkpointEveryMs: 25 });
    const countCheckpoints = async () =>
      (await readTape(writer.path)).filter((r) => r.type === "checkpoint").length;
    await writer.append({ dir: "c2s", env: { n: 1 } });
    await waitFor("a timed checkpoint", async () => (await countCheckpoints()) >= 1 || undefined);
    // Nothing new: idle intervals add no checkpoints.
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await countCheckpoints(), 1);
    await writer.append({ dir: "c2s", env: { n: 2 } });
    await waitFor("a second checkpoint", async () => (await countCheckpoints()) >= 2 || undefined);
    await writer.finalize();
    const checkpoints = (await readTape(writer.path)).filter((r) =>
      r.type === "checkpoint"
    ) as CheckpointRecord[];
    assert.deepEqual(checkpoints.map((c) => c.seq), [1, 2, 2]);
  });
});

Deno.test("meta is refreshed at most every metaRefreshMs, and on status changes", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { metaRefreshMs: 60_000 });
    for (let i = 0; i < 20; i++) await writer.append({ dir: "c2s", env: { i } });
    assert.equal((await readMeta(writer.metaPath)).stats.frame_count, 0);
    await writer.setStatus("paused");
    let meta = await readMeta(writer.metaPath);
    assert.equal(meta.status, "paused");
    assert.equal(meta.stats.frame_count, 20);
    await writer.setStatus("recording");
    assert.equal((await readMeta(writer.metaPath)).status, "recording");
    await writer.finalize();
    meta = await readMeta(writer.metaPath);
    assert.equal(meta.status, "finalized");
    assert.ok(meta.finalized_at !== null);
  });
});

Deno.test("meta always parses while the writer rewrites it in a loop", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { metaRefreshMs: 1, durability: "buffered" });
    let running = true;
    let reads = 0;
    let lastCount = 0;
    const reader = (async () => {
      while (running) {
        const meta = JSON.parse(await Deno.readTextFile(writer.metaPath)) as TapeMeta;
        assert.equal(meta.tape_id, writer.tapeId);
        assert.ok(meta.stats.frame_count >= lastCount, "meta never goes backwards");
        lastCount = meta.stats.frame_count;
        reads++;
      }
    })();
    for (let i = 0; i < 400; i++) {
      await writer.append({ dir: "c2s", env: { i, pad: "p".repeat(500) } });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await writer.finalize();
    running = false;
    await reader;
    assert.ok(reads > 10, `only ${reads} reads`);
    assert.ok(lastCount > 0, "the reader saw refreshed meta");
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(leftovers, [`${writer.tapeId}.jsonl`, `${writer.tapeId}.meta.json`]);
  });
});

Deno.test("writeMetaAtomic replaces the file; readMeta names bad files", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    const meta = await writer.finalize();
    const path = `${dir}/copy.meta.json`;
    await writeMetaAtomic(path, meta);
    await writeMetaAtomic(path, { ...meta, name: "renamed" });
    assert.equal((await readMeta(path)).name, "renamed");
    assert.equal(metaPathFor(`${dir}/x.jsonl`), `${dir}/x.meta.json`);
    await assert.rejects(
      readMeta(`${dir}/missing.meta.json`),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message === `Cannot read tape meta '${dir}/missing.meta.json': no such file or directory`,
    );
    await Deno.writeTextFile(`${dir}/bad.meta.json`, "{ not json");
    await assert.rejects(readMeta(`${dir}/bad.meta.json`), SyntaxError);
    await Deno.writeTextFile(`${dir}/other.meta.json`, '{"hello": 1}');
    await assert.rejects(
      readMeta(`${dir}/other.meta.json`),
      (e: unknown) => e instanceof SyntaxError && e.message.includes("is not a tape meta file"),
    );
  });
});

Deno.test("an oversize frame is refused with LineTooLongError and the tape goes on", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    await writer.append({ dir: "c2s", env: request(1) });
    const huge = "x".repeat(10 * 1024 * 1024);
    await assert.rejects(
      writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: huge } }),
      (e: unknown) =>
        e instanceof LineTooLongError && e instanceof RangeError &&
        e.path === writer.path && e.maxLineBytes === 10 * 1024 * 1024 &&
        e.byteLength > 10 * 1024 * 1024 &&
        e.message ===
          `Frame refused by tape '${writer.path}': its line is ${e.byteLength} bytes, over the limit of 10485760`,
    );
    // The refused response did not consume a seq nor answer the request.
    const next = await writer.append({ dir: "s2c", env: response(1) });
    assert.equal(next.seq, 2);
    assert.equal(next.correlation_id, "c2s-1");
    const meta = await writer.finalize();
    assert.equal(meta.stats.frame_count, 2);
    const records = await readTape(writer.path);
    assertContiguous(framesOf(records));
    assert.ok((await Deno.stat(writer.path)).size < 10_000);
  });
});

Deno.test("the line limit is counted in UTF-8 bytes, correlation id included", async () => {
  await withDir(async (dir) => {
    const limit = 1000;
    const writer = await TapeWriter.create(dir, { maxLineBytes: limit });
    // Two-byte characters, one more per frame, until the limit is crossed.
    let refused: LineTooLongError | undefined;
    for (let n = 300; refused === undefined; n++) {
      const env = { jsonrpc: "2.0", id: n, method: "m", params: "é".repeat(n) };
      await writer.append({ dir: "c2s", env }).catch((e) => {
        assert.ok(e instanceof LineTooLongError, String(e));
        refused = e;
      });
    }
    await writer.finalize();
    const sizes = (await Deno.readTextFile(writer.path)).split("\n").slice(1, -2)
      .map((line) => new TextEncoder().encode(line).length);
    const largest = Math.max(...sizes);
    assert.ok(largest <= limit, `a ${largest}-byte line was written`);
    assert.ok(largest >= limit - 8, `the largest line written has only ${largest} bytes`);
    assert.ok(refused!.byteLength > limit);
    assert.ok(refused!.byteLength <= largest + 8);
  });
});

Deno.test("envJson is written as given instead of serializing env again", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    const raw = '{ "jsonrpc": "2.0", "id": 3, "method": "ping" }';
    const frame = await writer.append({ dir: "c2s", env: JSON.parse(raw), envJson: raw });
    assert.equal(frame.action, "request");
    assert.equal(frame.correlation_id, "c2s-1");
    await assert.rejects(
      writer.append({ dir: "c2s", env: {}, envJson: '{\n"a": 1}' }),
      (e: unknown) => e instanceof TypeError && e.message.includes("line break"),
    );
    await assert.rejects(
      writer.append({ dir: "c2s", env: "x", envJson: '"x"', flags: ["text"] }),
      TypeError,
    );
    await writer.finalize();
    const line = (await Deno.readTextFile(writer.path)).split("\n")[1]!;
    assert.ok(line.includes(`"env":${raw},`), line);
    assert.deepEqual(framesOf(await readTape(writer.path))[0]!.env, JSON.parse(raw));
  });
});

Deno.test("bad frames are refused with TypeError and consume no seq", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    await assert.rejects(writer.append({ dir: "up" as "c2s", env: 1 }), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(writer.append({ dir: "c2s", env: cyclic as never }), TypeError);
    await assert.rejects(writer.append({ dir: "c2s", env: undefined as never }), TypeError);
    await assert.rejects(writer.append({ dir: "c2s", env: 1, flags: [1 as never] }), TypeError);
    assert.equal((await writer.append({ dir: "c2s", env: 1 })).seq, 1);
    await writer.finalize();
  });
});

Deno.test("finalize times out unanswered requests and ends the tape", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    await writer.append({ dir: "c2s", env: request(1, "slow") });
    await writer.append({ dir: "s2c", env: request("s-1", "roots/list") });
    await writer.append({ dir: "c2s", env: request(2, "fast") });
    await writer.append({ dir: "s2c", env: response(2) });
    const meta = await writer.finalize();
    assert.equal(await writer.finalize(), meta, "finalize twice gives the same meta");
    const records = await readTape(writer.path);
    const correlations = records.filter((r) => r.type === "correlation") as CorrelationRecord[];
    assert.deepEqual(
      correlations.map((c) => [c.id, c.status, c.response_seq, c.rtt_ms, c.method]),
      [
        ["c2s-3", "ok", 4, correlations[0]!.rtt_ms, "fast"],
        ["c2s-1", "timeout", null, null, "slow"],
        ["s2c-2", "timeout", null, null, "roots/list"],
      ],
    );
    const last = records.at(-1) as CheckpointRecord;
    assert.equal(last.type, "checkpoint");
    assert.equal(last.final, true);
    assert.equal(last.seq, 4);
    assert.equal(last.stats.errors, 2);
    assert.equal(last.stats.correlations, 3);
    assert.equal(meta.status, "finalized");
    assert.equal(writer.status, "finalized");
    // The final checkpoint's stats are the meta's, but for the bytes of the checkpoint itself.
    assert.deepEqual({ ...meta.stats, bytes: 0 }, { ...last.stats, bytes: 0 });
    assert.equal(meta.stats.bytes, (await Deno.stat(writer.path)).size);
    assert.equal((await readMeta(writer.metaPath)).status, "finalized");
    await assert.rejects(
      writer.append({ dir: "c2s", env: 1 }),
      (e: unknown) => e instanceof TypeError && e.message.includes("finalized"),
    );
    await assert.rejects(writer.setStatus("paused"), TypeError);
  });
});

for (const durability of ["buffered", "flush", "fsync"] as const) {
  Deno.test(`${durability}: appends made before finalize land before the final checkpoint`, async () => {
    await withDir(async (dir) => {
      const writer = await TapeWriter.create(dir, { durability });
      const before = Array.from({ length: 10 }, (_, i) => writer.append({ dir: "c2s", env: i }));
      const ending = writer.finalize();
      const after = assert.rejects(writer.append({ dir: "c2s", env: "late" }), TypeError);
      assert.deepEqual(
        (await Promise.all(before)).map((f) => f.seq),
        [...Array(10).keys()].map((i) => i + 1),
      );
      await after;
      const meta = await ending;
      assert.equal(meta.stats.frame_count, 10);
      const records = await readTape(writer.path);
      assertContiguous(framesOf(records));
      assert.equal(framesOf(records).length, 10);
      assert.equal((records.at(-1) as CheckpointRecord).final, true);
    });
  });
}

Deno.test("reopen removes meta temp files a killed writer left behind", async () => {
  await withDir(async (dir) => {
    const first = await TapeWriter.create(dir, { tapeId: "t" });
    await first.fail(new Error("killed"));
    const stale = `${dir}/.t.meta.json.0badc0de.tmp`;
    await Deno.writeTextFile(stale, '{"half":');
    const other = `${dir}/.u.meta.json.0badc0de.tmp`;
    await Deno.writeTextFile(other, "{}");
    const writer = await TapeWriter.reopen(first.path);
    await writer.finalize();
    await assert.rejects(Deno.stat(stale), Deno.errors.NotFound);
    assert.ok((await Deno.stat(other)).isFile, "another tape's temp file is not touched");
  });
});

Deno.test("fail marks the tape error and keeps what was written", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { durability: "buffered" });
    await writer.append({ dir: "c2s", env: request(1) });
    const meta = await writer.fail(new Error("server vanished"));
    assert.equal(meta.status, "error");
    assert.equal(meta.error, "server vanished");
    assert.equal(meta.stats.frame_count, 1);
    const onDisk = await readMeta(writer.metaPath);
    assert.equal(onDisk.status, "error");
    assert.equal(onDisk.error, "server vanished");
    assertContiguous(framesOf(await readTape(writer.path)));
    await assert.rejects(writer.append({ dir: "c2s", env: 1 }), TypeError);
  });
});

Deno.test("reopen trims a partial last line and continues the seq without a gap", async () => {
  await withDir(async (dir) => {
    const first = await TapeWriter.create(dir, { checkpointEveryFrames: 3 });
    await first.append({ dir: "c2s", env: request(1, "initialize") });
    await first.append({
      dir: "s2c",
      env: { jsonrpc: "2.0", id: 1, result: { protocolVersion: "2025-06-18" } },
    });
    await first.append({ dir: "c2s", env: request(2, "tools/list") });
    await first.append({ dir: "c2s", env: "plain text", flags: ["text"] });
    await first.fail(new Error("killed"));
    const intact = (await Deno.stat(first.path)).size;
    // What a writer killed half way through a write leaves behind.
    await Deno.writeTextFile(first.path, '{"type":"frame","seq":5,"ts":12.5,"dir":"s2c","en', {
      append: true,
    });

    const writer = await TapeWriter.reopen(first.path, { name: "again" });
    assert.equal((await Deno.stat(first.path)).size, intact, "partial line trimmed");
    assert.equal(writer.tapeId, first.tapeId);
    assert.equal(writer.protocolVersion, "2025-06-18");
    assert.equal(writer.stats.frame_count, 4);
    assert.equal(writer.stats.bytes, intact);
    assert.equal((await readMeta(writer.metaPath)).status, "recording");
    const answer = await writer.append({ dir: "s2c", env: response(2) });
    assert.equal(answer.seq, 5);
    assert.equal(answer.correlation_id, "c2s-3", "requests open before the crash still match");
    assert.ok(answer.ts >= 0);
    await writer.append({ dir: "c2s", env: request(3) });
    const meta = await writer.finalize();

    const records = await readTape(first.path);
    const frames = framesOf(records);
    assertContiguous(frames);
    assert.equal(frames.length, 6);
    assert.ok(frames.every((f, i) => i === 0 || f.ts >= frames[i - 1]!.ts), "ts never goes back");
    assert.equal(records.filter((r) => r.type === "init").length, 1);
    assert.equal(meta.name, "again");
    assert.equal(meta.stats.frame_count, 6);
    assert.equal(meta.stats.last_seq, 6);
    assert.equal(meta.stats.correlations, 3);
    assert.equal(meta.stats.errors, 1);
    assert.equal(meta.stats.message_counts.text, 1);
    assert.equal(meta.protocol_version, "2025-06-18");
    assert.equal(meta.stats.bytes, (await Deno.stat(first.path)).size);
  });
});

Deno.test("reopen writes the correlation record a killed writer did not", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/handmade.jsonl`;
    const lines = [
      {
        type: "init",
        version: 1,
        tape_id: "handmade",
        session_id: "s",
        created_at: new Date().toISOString(),
        protocol_version: null,
      },
      { type: "frame", seq: 1, ts: 1, dir: "c2s", env: request(7), action: "request" },
      { type: "frame", seq: 2, ts: 3.5, dir: "s2c", env: response(7), action: "response" },
    ];
    await Deno.writeTextFile(path, lines.map((l) => JSON.stringify(l) + "\n").join("") + '{"ty');
    const writer = await TapeWriter.reopen(path);
    assert.equal(writer.tapeId, "handmade");
    await writer.finalize();
    const records = await readTape(path);
    assert.deepEqual(records[3], {
      type: "correlation",
      id: "c2s-1",
      request_seq: 1,
      response_seq: 2,
      request_ts: 1,
      response_ts: 3.5,
      rtt_ms: 2.5,
      status: "ok",
      method: "tools/call",
    });
    assert.equal((records.at(-1) as CheckpointRecord).final, true);
  });
});

Deno.test("reopen counts only what a lenient reader reads", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/damaged.jsonl`;
    const lines = [
      JSON.stringify({
        type: "init",
        version: 1,
        tape_id: "damaged",
        session_id: "s",
        created_at: new Date().toISOString(),
        protocol_version: null,
      }),
      JSON.stringify({ type: "frame", seq: 1, ts: 1, dir: "c2s", env: request(7) }),
      // No ts: a reader skips it, so it counts for nothing.
      JSON.stringify({ type: "frame", seq: 2, dir: "s2c", env: response(8) }),
      "not json",
      JSON.stringify({ type: "gossip", seq: 9 }),
      JSON.stringify({ type: "frame", seq: 2, ts: 2, dir: "s2c", env: response(7) }),
    ];
    const complete = lines.map((l) => l + "\n").join("");
    await Deno.writeTextFile(path, complete + '{"type":"fr');
    const warnings: string[] = [];
    using reader = await TapeReader.open(path, { onWarning: (w) => warnings.push(w.kind) });
    const readable = await Array.fromAsync(reader.frames());

    const writer = await TapeWriter.reopen(path);
    assert.equal(writer.stats.frame_count, readable.length);
    assert.equal(writer.stats.last_seq, 2);
    assert.equal(writer.stats.message_counts.response, 1);
    assert.ok(writer.stats.bytes > new TextEncoder().encode(complete).length, "+ its correlation");
    assert.equal((await writer.append({ dir: "c2s", env: request(8) })).seq, 3);
    await writer.finalize();
    const text = await Deno.readTextFile(path);
    assert.ok(text.startsWith(complete), "the partial line is trimmed, the rest kept as it was");
    const appended = text.slice(complete.length).split("\n").slice(0, -1);
    assert.deepEqual(
      appended.map((l) => JSON.parse(l) as AnyRecord).filter((r) => r.type === "correlation")
        .map((r) => [r.id, r.status]),
      [["c2s-1", "ok"], ["c2s-3", "timeout"]],
    );
    assert.deepEqual(warnings, ["bad-line", "bad-line", "unknown-type", "partial-line"]);
  });
});

Deno.test("a reopened tape keeps its command and names the process that carries it on", async () => {
  await withDir(async (dir) => {
    const first = await TapeWriter.create(dir, {
      environment: { command: ["server", "--port", "0"], pid: 1, cwd: "/elsewhere" },
    });
    assert.deepEqual((await readMeta(first.metaPath)).environment.pid, 1);
    await first.fail(new Error("killed"));
    const writer = await TapeWriter.reopen(first.path);
    const meta = await writer.finalize();
    assert.deepEqual(meta.environment.command, ["server", "--port", "0"]);
    assert.equal(meta.environment.pid, Deno.pid);
    assert.equal(meta.environment.cwd, Deno.cwd());
    assert.equal(meta.environment.os, Deno.build.os);
  });
});

Deno.test("reopen refuses finalized tapes, non-tapes and missing files", async () => {
  await withDir(async (dir) => {
    const done = await TapeWriter.create(dir);
    await done.finalize();
    await assert.rejects(
      TapeWriter.reopen(done.path),
      (e: unknown) => e instanceof TypeError && e.message.includes("it is finalized"),
    );
    await Deno.writeTextFile(`${dir}/notes.jsonl`, '{"hello":"world"}\n');
    await assert.rejects(TapeWriter.reopen(`${dir}/notes.jsonl`), TapeFormatError);
    await assert.rejects(
      TapeWriter.reopen(`${dir}/none.jsonl`),
      (e: unknown) =>
        e instanceof TapeWriteError &&
        e.message === `Cannot open tape '${dir}/none.jsonl': no such file or directory`,
    );
  });
});

Deno.test("reopen refuses a tape of a newer format version and leaves it alone", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/future.jsonl`;
    const text = '{"type":"init","version":99,"tape_id":"future","session_id":"s",' +
      '"created_at":"2026-11-22T03:00:00.000Z","protocol_version":null}\n' +
      '{"type":"frame","seq":1,"ts":1,"dir":"c2s","env":1}\n{"type":"fr';
    await Deno.writeTextFile(path, text);
    await assert.rejects(
      TapeWriter.reopen(path),
      (e: unknown) =>
        e instanceof TapeFormatError &&
        e.message.startsWith("Unsupported tape version '99' (this reader knows 1) in "),
    );
    // Not trimmed, not appended to, no meta file made.
    assert.equal(await Deno.readTextFile(path), text);
    await assert.rejects(Deno.stat(`${dir}/future.meta.json`), Deno.errors.NotFound);
  });
});

Deno.test("a SIGKILLed flush writer loses no acknowledged frame; reopen continues", async () => {
  await withDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        `${ROOT}tests/fixtures/writer_child.ts`,
        dir,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let path = "";
    let acked = 0;
    let buffered = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    while (acked < 400) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("path ")) path = line.slice(5);
        else acked = Math.max(acked, Number(line));
      }
    }
    child.kill("SIGKILL");
    const status = await child.status;
    await reader.cancel();
    assert.equal(status.signal, "SIGKILL");
    assert.ok(acked >= 400, `only ${acked} frames acknowledged`);

    // Every acknowledged frame is on disk, complete and parseable.
    const text = await Deno.readTextFile(path);
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    const records = complete.split("\n").slice(0, -1).map((l) => JSON.parse(l) as AnyRecord);
    const frames = framesOf(records);
    assertContiguous(frames);
    assert.ok(frames.length >= acked, `${frames.length} frames on disk, ${acked} acknowledged`);

    const writer = await TapeWriter.reopen(path);
    const next = await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", method: "after" } });
    assert.equal(next.seq, frames.length + 1);
    await writer.finalize();
    const all = framesOf(await readTape(path));
    assertContiguous(all);
    assert.equal(all.at(-1)!.seq, next.seq);
  });
});

Deno.test({
  name:
    "a full disk gives TapeWriteError and leaves only complete records (needs root for a tmpfs)",
  // A real full disk needs a tiny file system: a tmpfs, which only root may mount.
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    await withTmpfs("256k", async (dir) => {
      const writer = await TapeWriter.create(dir);
      // Freed after the failure, so the meta file can be written again.
      await Deno.writeFile(`${dir}/filler`, new Uint8Array(32 * 1024));
      let failure: unknown;
      let ok = 0;
      for (let i = 0; i < 1000 && failure === undefined; i++) {
        try {
          await writer.append({ dir: "s2c", env: { i, pad: "z".repeat(3000) } });
          ok++;
        } catch (error) {
          failure = error;
        }
      }
      assert.ok(failure instanceof TapeWriteError, `got ${failure}`);
      assert.equal(failure.path, writer.path);
      assert.equal(
        failure.message,
        `Cannot write tape '${writer.path}': no space left on device`,
      );
      // The writer stays stopped: no frame could land after a hole.
      await assert.rejects(writer.append({ dir: "c2s", env: 1 }), TapeWriteError);
      await Deno.remove(`${dir}/filler`);
      // Finalize after a failure still ends the tape: file closed, meta status error.
      await assert.rejects(writer.finalize(), (e) => e === failure);
      assert.equal(writer.status, "error");
      const onDisk = await readMeta(writer.metaPath);
      assert.equal(onDisk.status, "error");
      assert.equal(onDisk.error, failure.message);
      await assert.rejects(writer.finalize(), (e) => e === failure);
      // Best effort: the meta file may not fit on the full disk either.
      const meta = await writer.fail(failure);
      assert.equal(meta.status, "error");
      assert.equal(meta.error, failure.message);
      assert.equal(meta.stats.frame_count, ok);
      const frames = framesOf(await readTape(writer.path));
      assertContiguous(frames);
      assert.equal(frames.length, ok);
      // Only possible once nothing holds a file there: finalize closed the tape.
      const umount = await new Deno.Command("umount", { args: [dir], stderr: "piped" }).output();
      assert.ok(umount.success, new TextDecoder().decode(umount.stderr));
    });
  },
});

Deno.test({
  name:
    "fsync: an append queued behind a failing group commit leaves finalize able to end the tape (needs root for a tmpfs)",
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    await withTmpfs("256k", async (dir) => {
      // The frame cannot fit on the disk, so its commit fails; the second append comes
      // after 0 to 10 microtask turns, so one of them lands while the commit yields to
      // let appenders join. Run in a child: the failure this guards against is finalize
      // spinning in microtasks forever, which no timer in this process could interrupt.
      const script = `
          import { TapeWriter } from "${ROOT}src/tape/tape_writer.ts";
          const ends = [];
          for (let turns = 0; turns <= 10; turns++) {
            const writer = await TapeWriter.create(Deno.args[0] + "/t" + turns, { durability: "fsync" });
            const failing = writer.append({ dir: "c2s", env: "z".repeat(300 * 1024), flags: ["text"] });
            for (let i = 0; i < turns; i++) await null;
            const behind = writer.append({ dir: "c2s", env: 2 });
            const errors = await Promise.all([failing, behind].map((p) => p.then(() => "ok", (e) => e.name)));
            const meta = await writer.finalize().catch((e) => writer.fail(e));
            ends.push(errors.join(",") + ":" + meta.status);
          }
          console.log(ends.join(" "));
        `;
      const out = await evalInChild(script, [dir], 60_000);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.signal, null, `the child never ended: finalize waited forever. ${stderr}`);
      assert.equal(out.code, 0, stderr);
      assert.equal(
        new TextDecoder().decode(out.stdout).trim(),
        Array(11).fill("TapeWriteError,TapeWriteError:error").join(" "),
      );
    });
  },
});
