import assert from "node:assert/strict";
import { writeMetaAtomic } from "../src/tape/meta_file.ts";
import { TapeDirectory } from "../src/tape/tape_directory.ts";
import { TapeWriter } from "../src/tape/tape_writer.ts";
import { TapeOpenError, type TapeWarning } from "../src/tape/tape_reader.ts";
import type { TapeMeta, TapeRecord } from "../src/tape/types.ts";
import { waitFor } from "./_helpers.ts";

function initLine(id: string, createdAt: string): string {
  return JSON.stringify({
    type: "init",
    version: 1,
    tape_id: id,
    session_id: "s",
    created_at: createdAt,
    protocol_version: null,
  }) + "\n";
}

function frameLine(seq: number): string {
  return JSON.stringify({ type: "frame", seq, ts: seq, dir: "c2s", env: { id: seq } }) + "\n";
}

function checkpointLine(seq: number, final: boolean): string {
  return JSON.stringify({
    type: "checkpoint",
    checkpoint_at: "2026-11-22T05:00:00.000Z",
    seq,
    protocol_version: "2025-06-18",
    stats: {
      frame_count: seq,
      duration_ms: seq,
      bytes: 0,
      last_seq: seq,
      message_counts: { request: seq, notification: 0, response: 0, error: 0, message: 0, text: 0 },
      errors: 0,
      correlations: 0,
      checkpoints: 1,
    },
    ...(final ? { final: true } : {}),
  }) + "\n";
}

function metaFor(id: string, createdAt: string, extra: Partial<TapeMeta> = {}): TapeMeta {
  return {
    tape_id: id,
    name: `name-${id}`,
    description: "",
    tags: [],
    created_at: createdAt,
    updated_at: createdAt,
    finalized_at: null,
    status: "recording",
    transport: "stdio",
    protocol_version: null,
    environment: {},
    stats: {
      frame_count: 1,
      duration_ms: 1,
      bytes: 10,
      last_seq: 1,
      message_counts: { request: 1, notification: 0, response: 0, error: 0, message: 0, text: 0 },
      errors: 0,
      correlations: 0,
      checkpoints: 0,
    },
    performance: { durability: "flush", writes: 1, syncs: 0, max_batch: 1 },
    ...extra,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_dir_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Three tapes with meta files, one without, one broken meta, one non-tape. */
async function populate(dir: string): Promise<void> {
  const tapes: [string, string][] = [
    ["20261122T010000Z-aaaaaaaa", "2026-11-22T01:00:00.000Z"],
    ["20261122T030000Z-cccccccc", "2026-11-22T03:00:00.000Z"],
    ["20261122T020000Z-bbbbbbbb", "2026-11-22T02:00:00.000Z"],
  ];
  for (const [id, at] of tapes) {
    await Deno.writeTextFile(`${dir}/${id}.jsonl`, initLine(id, at) + frameLine(1));
    await writeMetaAtomic(`${dir}/${id}.meta.json`, metaFor(id, at));
  }
  // No meta file: listed from its init record and last checkpoint.
  const bare = "20261122T040000Z-dddddddd";
  await Deno.writeTextFile(
    `${dir}/${bare}.jsonl`,
    initLine(bare, "2026-11-22T04:00:00.000Z") + frameLine(1) + frameLine(2) +
      checkpointLine(2, true) + '{"type":"fra',
  );
  // A meta file that is not valid: the tape itself is used.
  const broken = "20261122T000000Z-eeeeeeee";
  await Deno.writeTextFile(`${dir}/${broken}.jsonl`, initLine(broken, "2026-11-22T00:00:00.000Z"));
  await Deno.writeTextFile(`${dir}/${broken}.meta.json`, "{ half");
  // Not tapes at all, and a writer's temporary meta file.
  await Deno.writeTextFile(`${dir}/notes.jsonl`, "hello\n");
  await Deno.writeTextFile(`${dir}/readme.txt`, "hello\n");
  await Deno.writeTextFile(`${dir}/.x.meta.json.0a1b2c3d.tmp`, "{");
}

Deno.test("list returns every tape newest first, with or without a meta file", async () => {
  await withDir(async (dir) => {
    await populate(dir);
    const warnings: TapeWarning[] = [];
    const tapes = new TapeDirectory(dir, { onWarning: (w) => warnings.push(w) });
    const list = await tapes.list();
    assert.deepEqual(list.map((m) => m.tape_id), [
      "20261122T040000Z-dddddddd",
      "20261122T030000Z-cccccccc",
      "20261122T020000Z-bbbbbbbb",
      "20261122T010000Z-aaaaaaaa",
      "20261122T000000Z-eeeeeeee",
    ]);
    assert.equal(list[1]!.name, "name-20261122T030000Z-cccccccc");
    const bare = list[0]!;
    assert.equal(bare.status, "finalized");
    assert.equal(bare.finalized_at, "2026-11-22T05:00:00.000Z");
    assert.equal(bare.stats.frame_count, 2);
    assert.equal(bare.protocol_version, "2025-06-18");
    assert.equal(bare.stats.bytes, (await Deno.stat(`${dir}/${bare.tape_id}.jsonl`)).size);
    // Nothing on the tape says how it was carried or written: no invented values.
    assert.equal(bare.transport, "unknown");
    assert.equal(bare.rebuilt, true);
    assert.equal(list[1]!.rebuilt, undefined);
    assert.equal(list[4]!.status, "recording");
    assert.equal(list[4]!.stats.frame_count, 0);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.some((w) => w.path.endsWith("eeeeeeee.meta.json")));
    assert.ok(warnings.some((w) => /^Not a tape.*notes\.jsonl.*, not listed$/.test(w.message)));
    const entries = await tapes.entries();
    assert.equal(entries[0]!.path, `${dir}/20261122T040000Z-dddddddd.jsonl`);
  });
});

Deno.test("a rebuilt meta takes the transport a frame names", async () => {
  await withDir(async (dir) => {
    const id = "20261122T060000Z-ffffffff";
    const frame = JSON.stringify({
      type: "frame",
      seq: 1,
      ts: 1,
      dir: "c2s",
      env: { id: 1 },
      transport: "websocket",
    });
    await Deno.writeTextFile(
      `${dir}/${id}.jsonl`,
      initLine(id, "2026-11-22T06:00:00.000Z") + frame + "\n",
    );
    const [meta] = await new TapeDirectory(dir).list();
    assert.equal(meta!.transport, "websocket");
    assert.equal(meta!.rebuilt, true);
    assert.equal(meta!.status, "recording");
  });
});

Deno.test("list of a missing directory is one clear error; an empty one is empty", async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await new TapeDirectory(dir).list(), []);
    await assert.rejects(
      new TapeDirectory(`${dir}/nope`).list(),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message === `Cannot list tapes in '${dir}/nope': no such file or directory`,
    );
  });
});

Deno.test("resolve accepts an id, an id prefix, a name, a .jsonl path or a .meta.json path", async () => {
  await withDir(async (dir) => {
    await populate(dir);
    const warnings: TapeWarning[] = [];
    const tapes = new TapeDirectory(dir, { onWarning: (w) => warnings.push(w) });
    const id = "20261122T020000Z-bbbbbbbb";
    const path = `${dir}/${id}.jsonl`;
    assert.equal(await tapes.resolve(id), path);
    assert.equal(await tapes.resolve("20261122T02"), path);
    assert.equal(await tapes.resolve(`name-${id}`), path);
    assert.equal(await tapes.resolve(path), path);
    assert.equal(await tapes.resolve(`${dir}/${id}.meta.json`), path);
    assert.equal(await tapes.resolve(`${id}.jsonl`), path);
    await assert.rejects(
      tapes.resolve("20261122T0"),
      (e: unknown) =>
        e instanceof TypeError && /^Tape '20261122T0' is ambiguous in '/.test(e.message),
    );
    await assert.rejects(
      tapes.resolve("nothing-like-it"),
      (e: unknown) =>
        e instanceof TapeOpenError &&
        e.message ===
          `Cannot open tape 'nothing-like-it': no tape with that id or name in '${dir}'`,
    );
    await assert.rejects(
      tapes.resolve(dir),
      (e: unknown) =>
        e instanceof TapeOpenError && e.message === `Cannot open tape '${dir}': is a directory`,
    );
    // Looking a tape up says nothing about the files that are not tapes.
    assert.deepEqual(warnings, []);
    await assert.rejects(
      tapes.resolve(`${dir}/missing.jsonl`),
      (e: unknown) =>
        e instanceof TapeOpenError &&
        e.message === `Cannot open tape '${dir}/missing.jsonl': no such file or directory`,
    );
  });
});

Deno.test("resolve reports why a path cannot be used, not just 'no such file'", async () => {
  await withDir(async (dir) => {
    await populate(dir);
    const tapes = new TapeDirectory(dir);
    const good = `${dir}/20261122T020000Z-bbbbbbbb.jsonl`;
    const cases: [string, string, string][] = [
      ["a tape used as a directory", `${good}/x.jsonl`, "not a directory"],
      ["a name too long", `${dir}/${"a".repeat(300)}.jsonl`, "file name too long"],
      ["a symlink loop", `${dir}/loop1.jsonl`, "too many levels of symbolic links"],
    ];
    await Deno.symlink(`${dir}/loop2.jsonl`, `${dir}/loop1.jsonl`);
    await Deno.symlink(`${dir}/loop1.jsonl`, `${dir}/loop2.jsonl`);
    for (const [what, path, reason] of cases) {
      const error = await tapes.resolve(path).then(() => undefined, (e) => e);
      assert.ok(error instanceof TapeOpenError, `${what}: got ${error}`);
      assert.equal(error.message, `Cannot open tape '${path}': ${reason}`, what);
      assert.equal(error.failure, "other", what);
    }
    // Opening by such a path says the same.
    await assert.rejects(
      tapes.open(`${good}/x.jsonl`),
      (e: unknown) => e instanceof TapeOpenError && e.message.endsWith(": not a directory"),
    );
  });
});

Deno.test("open reads a tape while it is still being written", async () => {
  await withDir(async (dir) => {
    const id = "20261122T030000Z-cccccccc";
    const path = `${dir}/${id}.jsonl`;
    await Deno.writeTextFile(path, initLine(id, "2026-11-22T03:00:00.000Z"));
    using writer = await Deno.open(path, { append: true });
    const encoder = new TextEncoder();
    await writer.write(encoder.encode(frameLine(1) + frameLine(2) + '{"type":"frame","se'));
    const warnings: TapeWarning[] = [];
    using reader = await new TapeDirectory(dir).open(id, { onWarning: (w) => warnings.push(w) });
    const seqs: number[] = [];
    for await (const f of reader.frames()) seqs.push(f.seq);
    assert.deepEqual(seqs, [1, 2]);
    assert.deepEqual(warnings.map((w) => w.kind), ["partial-line"]);
    // The writer carries on unhindered.
    await writer.write(encoder.encode('q":3,"ts":3,"dir":"c2s","env":3}\n'));
    const again: number[] = [];
    for await (const f of reader.frames()) again.push(f.seq);
    assert.deepEqual(again, [1, 2, 3]);
  });
});

Deno.test("follow by id delivers a recording live and ends when it is finalized", async () => {
  await withDir(async (dir) => {
    const id = "20261122T030000Z-cccccccc";
    const path = `${dir}/${id}.jsonl`;
    const tapes = new TapeDirectory(dir);
    const records: TapeRecord[] = [];
    const done = (async () => {
      for await (const r of tapes.follow(id, { waitForFile: true, pollIntervalMs: 50 })) {
        records.push(r);
      }
    })();
    await Deno.writeTextFile(path, initLine(id, "2026-11-22T03:00:00.000Z") + frameLine(1));
    await waitFor("frame 1", () => records.length >= 2 ? true : undefined);
    await Deno.writeTextFile(path, frameLine(2) + checkpointLine(2, true), { append: true });
    await done;
    assert.deepEqual(records.map((r) => r.type), ["init", "frame", "frame", "checkpoint"]);
  });
});

Deno.test("list and open tapes made by TapeWriter, finalized and still recording", async () => {
  await withDir(async (dir) => {
    const done = await TapeWriter.create(dir, {
      name: "done",
      tapeId: "20261122T010000Z-00000001",
    });
    await done.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
    await done.finalize();
    const live = await TapeWriter.create(dir, {
      name: "live",
      tapeId: "20261122T020000Z-00000002",
    });
    try {
      await live.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
      const tapes = new TapeDirectory(dir);
      const list = await tapes.list();
      assert.deepEqual(list.map((m) => [m.name, m.status]), [
        ["live", "recording"],
        ["done", "finalized"],
      ]);
      using reader = await tapes.open("live", { strict: true });
      const frames = [];
      for await (const f of reader.frames()) frames.push(f);
      assert.equal(frames.length, 1);
      assert.equal(frames[0]!.env && (frames[0]!.env as { method: string }).method, "ping");
      assert.equal(await tapes.resolve(done.metaPath), done.path);
    } finally {
      await live.finalize();
    }
  });
});
