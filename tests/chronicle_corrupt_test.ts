/**
 * Tests of the chronicle against damaged files and bad input: directories
 * that are not queues, bad magics, newer versions, corrupt record headers,
 * reader offsets past the end, a missing `--allow-ffi` and a full disk.
 * Every error names the file at fault, and every record before the damage
 * is still delivered.
 *
 * @module
 */

import assert from "node:assert/strict";
import { canMountTmpfs, withTmpfs } from "./_helpers.ts";
import {
  QueueDamageError,
  QueueFormatError,
  QueueIoError,
  QueueReader,
  QueueWriter,
} from "../src/chronicle/mod.ts";
import {
  blockOf,
  fixture,
  patch,
  payloadFor,
  readUntilError,
  segmentLayout,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";

const SEGMENT_BYTES = 64 * 1024;

function fill(w: QueueWriter, count: number): void {
  for (let i = 0; i < count; i++) {
    const seq = w.lastSeq + 1;
    assert.equal(w.append(1, payloadFor(seq)), seq);
  }
}

function fillToSegment(w: QueueWriter, index: number): void {
  while (w.segmentIndex < index) fill(w, 1);
}

const segPath = (dir: string, index: number) => `${dir}/${String(index).padStart(10, "0")}.seg`;

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

/** Offset of record `seq` in segment `index`, from the record sizes (payloadFor lengths). */
function recordOffset(dir: string, index: number, seq: number): number {
  const record = segmentLayout(segPath(dir, index)).records.find((r) => r.seq === seq);
  assert.ok(record, `seq ${seq} is in segment ${index}`);
  return record.offset;
}

function firstSeqOf(dir: string, index: number): number {
  return Number(new DataView(Deno.readFileSync(segPath(dir, index)).buffer).getBigUint64(16, true));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A closed queue of three segments and some; returns its last seq. */
async function makeQueue(dir: string): Promise<number> {
  const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
  fillToSegment(w, 2);
  fill(w, 40);
  const last = w.lastSeq;
  w.close();
  return last;
}

Deno.test("a directory holding other files is not a queue, for the writer and the reader", async () => {
  await withQueueDir(async (dir) => {
    Deno.mkdirSync(dir);
    Deno.writeTextFileSync(`${dir}/notes.txt`, "mine");
    const isNotAQueue = (e: unknown) =>
      e instanceof QueueFormatError && e.path === dir && e.message.includes(`'${dir}'`) &&
      e.message.includes("not a spool queue");
    await assert.rejects(QueueWriter.open(dir), isNotAQueue);
    await assert.rejects(QueueReader.open(dir), isNotAQueue);
    // Nothing was created in someone else's directory.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["notes.txt"]);
  });
});

Deno.test("a file where the queue directory should be is refused", async () => {
  await withQueueDir(async (dir) => {
    Deno.writeTextFileSync(dir, "not a directory");
    const isFile = (e: unknown) =>
      e instanceof QueueFormatError && e.path === dir && e.message.includes(`'${dir}' is a file`);
    await assert.rejects(QueueWriter.open(dir), isFile);
    await assert.rejects(QueueReader.open(dir), isFile);
    assert.equal(Deno.readTextFileSync(dir), "not a directory");
  });
});

Deno.test("a reader on a missing directory or one with no queue.meta is refused", async () => {
  await withQueueDir(async (dir) => {
    await assert.rejects(
      QueueReader.open(dir),
      (e: unknown) => e instanceof QueueFormatError && e.path === dir,
    );
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound, "the reader created nothing");
    Deno.mkdirSync(dir);
    await assert.rejects(QueueReader.open(dir), QueueFormatError);
  });
});

Deno.test("a segment with a bad magic is refused, naming it", async () => {
  await withQueueDir(async (dir) => {
    const last = await makeQueue(dir);
    const path = segPath(dir, 1);
    patch(path, 0, new TextEncoder().encode("GARBAGE!"));
    const isBadMagic = (e: unknown) =>
      e instanceof QueueFormatError && e.path === path && e.offset === 0 &&
      e.message.includes(`'${path}'`) && e.message.includes("bad magic");
    // A reader following the queue delivers all of segment 0, then stops at segment 1.
    const r = await QueueReader.open(dir);
    const { seqs, error } = readUntilError(r);
    assert.deepEqual(seqs, range(1, firstSeqOf(dir, 1) - 1));
    assert.ok(isBadMagic(error), `got ${error}`);
    assert.throws(() => r.next(), isBadMagic, "it does not skip the damaged segment");
    r.close();
    // Seeking into it fails the same way; the segments around it still work.
    const s = await QueueReader.open(dir, { start: { seq: firstSeqOf(dir, 2) } });
    assert.equal(s.next()?.seq, firstSeqOf(dir, 2));
    assert.throws(() => s.seek({ seq: firstSeqOf(dir, 1) + 3 }), isBadMagic);
    s.close();
    // The writer refuses a damaged active segment.
    patch(segPath(dir, 2), 0, new TextEncoder().encode("GARBAGE!"));
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) => e instanceof QueueFormatError && e.path === segPath(dir, 2),
    );
    assert.ok(last > 0);
  });
});

Deno.test("files of a newer format version are refused, naming them", async () => {
  await withQueueDir(async (dir) => {
    await makeQueue(dir);
    // A segment.
    const path = segPath(dir, 0);
    patch(path, 8, u32(3));
    await assert.rejects(
      QueueReader.open(dir),
      (e: unknown) =>
        e instanceof QueueFormatError && e.path === path && e.offset === 8 &&
        e.message.includes(`'${path}'`) && e.message.includes("version 3"),
    );
    patch(path, 8, u32(2));
    // A reader offset file.
    const reader = await QueueReader.open(dir, { name: "audit" });
    reader.next();
    reader.commit();
    reader.close();
    const offsetPath = `${dir}/readers/audit.offset`;
    patch(offsetPath, 8, u32(3));
    await assert.rejects(
      QueueReader.open(dir, { name: "audit" }),
      (e: unknown) =>
        e instanceof QueueFormatError && e.path === offsetPath && e.message.includes("version 3"),
    );
    patch(offsetPath, 8, u32(2));
    // The queue's metadata, for the writer and the reader.
    const metaPath = `${dir}/queue.meta`;
    // Version 3 is a queue whose writer recycles segments; 4 is unknown.
    patch(metaPath, 8, u32(4));
    const newer = (e: unknown) =>
      e instanceof QueueFormatError && e.path === metaPath && e.message.includes("version 4");
    await assert.rejects(QueueWriter.open(dir), newer);
    await assert.rejects(QueueReader.open(dir), newer);
    patch(metaPath, 0, new TextEncoder().encode("NOTMETA!"));
    await assert.rejects(
      QueueReader.open(dir),
      (e: unknown) =>
        e instanceof QueueFormatError && e.path === metaPath && e.message.includes("bad magic"),
    );
  });
});

type Damage = (offset: number) => [at: number, bytes: Uint8Array];
const recordDamage: [what: string, damage: Damage, why: string][] = [
  ["a length that runs past the end", (o) => [o, u32(0x1fff_ffff)], "runs past"],
  ["a wrong seq", (o) => [o + 8, u64(999_999)], "fails its checksum"],
  ["impossible flags", (o) => [o, u32(0x6000_0010)], "impossible header word 0x60000010"],
];
for (const [what, damage, why] of recordDamage) {
  Deno.test(`a record with ${what} mid-segment: every record before its block, then QueueDamageError`, async () => {
    await withQueueDir(async (dir) => {
      const last = await makeQueue(dir);
      const bad = firstSeqOf(dir, 1) + 17;
      const offset = recordOffset(dir, 1, bad);
      const [at, bytes] = damage(offset);
      const path = segPath(dir, 1);
      const block = blockOf(path, offset);
      patch(path, at, bytes);
      const isCorrupt = (e: unknown) =>
        e instanceof QueueDamageError && e.path === path && e.offset === block.offset &&
        e.seq === block.seq && e.message.includes(`'${path}'`) &&
        (why === "fails its checksum" || e.message.includes(`offset ${offset}`)) &&
        e.message.includes(why);
      const r = await QueueReader.open(dir);
      const { seqs, error } = readUntilError(r);
      // The block holding the damage cannot be verified: it is held back whole.
      assert.ok(
        block.seq <= bad && block.seq > bad - 400,
        `block of seq ${bad} starts at ${block.seq}`,
      );
      assert.deepEqual(seqs, range(1, block.seq - 1));
      assert.ok(isCorrupt(error), `got ${error}`);
      // It stays at the damage rather than skipping past it.
      assert.throws(() => r.next(), isCorrupt);
      r.close();
      // Records after the damaged segment are still reachable by seek.
      const after = await QueueReader.open(dir, { start: { seq: firstSeqOf(dir, 2) } });
      assert.deepEqual(readUntilError(after).seqs, range(firstSeqOf(dir, 2), last));
      after.close();
    });
  });
}

Deno.test("a flipped byte anywhere in a sealed segment's blocks: every record before its block, then QueueDamageError", async () => {
  await withQueueDir(async (dir) => {
    await makeQueue(dir);
    const path = segPath(dir, 1);
    const layout = segmentLayout(path);
    assert.ok(layout.endOffset !== undefined && layout.frames.length >= 3, "segment 1 is sealed");
    // Bytes at each block's start, either side of its first 16 KiB (where a
    // reader of a sealed segment takes the checksum in two parts), and at
    // its end, in every block, the short last one included.
    for (const frame of layout.frames) {
      const start = frame.blockStart;
      const block = blockOf(path, start);
      const spots = [start + 12, start + 16 * 1024 - 1, start + 16 * 1024, frame.offset - 1]
        .filter((at) => at < frame.offset);
      for (const at of spots) {
        const before = Deno.readFileSync(path).subarray(at, at + 1).slice();
        patch(path, at, new Uint8Array([before[0]! ^ 0x40]));
        const r = await QueueReader.open(dir);
        const { seqs, error } = readUntilError(r);
        r.close();
        patch(path, at, before);
        assert.deepEqual(seqs, range(1, block.seq - 1), `byte ${at} of the block at ${start}`);
        assert.ok(
          error instanceof QueueDamageError && error.path === path && error.offset === start &&
            error.seq === block.seq && error.message.includes("fails its checksum"),
          `byte ${at} of the block at ${start}: got ${error}`,
        );
      }
    }
  });
});

Deno.test("a writer refuses an active segment whose last record is corrupt", async () => {
  await withQueueDir(async (dir) => {
    const last = await makeQueue(dir);
    const offset = recordOffset(dir, 2, last);
    patch(segPath(dir, 2), offset, u32(0x1fff_ffff));
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueFormatError && e.path === segPath(dir, 2) && e.offset === offset,
    );
    // Nothing was wiped: the reader still gets every record before the damaged block.
    const r = await QueueReader.open(dir);
    const { seqs, error } = readUntilError(r);
    assert.deepEqual(seqs, range(1, blockOf(segPath(dir, 2), offset).seq - 1));
    assert.ok(error instanceof QueueDamageError);
    r.close();
  });
});

Deno.test("a reader offset past the end of the queue is refused, naming the offset file", async () => {
  await withQueueDir(async (dir) => {
    const last = await makeQueue(dir);
    const r = await QueueReader.open(dir, { name: "audit" });
    r.next();
    r.commit();
    r.close();
    const path = `${dir}/readers/audit.offset`;
    patch(path, 16, u64(last + 5));
    const pastEnd = (e: unknown) =>
      e instanceof QueueFormatError && e.path === path && e.message.includes(`'${path}'`) &&
      e.message.includes(`seq ${last + 5}`);
    await assert.rejects(QueueReader.open(dir, { name: "audit" }), pastEnd);
    await assert.rejects(QueueReader.open(dir, { name: "audit", start: "committed" }), pastEnd);
    // Exactly at the end is fine: the reader waits for the next record.
    patch(path, 16, u64(last));
    const atEnd = await QueueReader.open(dir, { name: "audit" });
    assert.equal(atEnd.next(), undefined);
    atEnd.close();
    // An offset file that is not one is refused too.
    patch(path, 0, new TextEncoder().encode("JUNKJUNK"));
    await assert.rejects(
      QueueReader.open(dir, { name: "audit" }),
      (e: unknown) => e instanceof QueueFormatError && e.path === path,
    );
  });
});

for (const [script, mode] of [["writer", "open"], ["reader", "open"]] as const) {
  Deno.test(`a ${script} without --allow-ffi fails with FfiUnavailableError`, async () => {
    await withQueueDir(async (dir) => {
      if (script === "reader") await makeQueue(dir);
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          fixture(`chronicle_${script}_child.ts`),
          mode,
          dir,
          ...(script === "reader" ? ["backoff"] : []),
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.notEqual(out.code, 0);
      assert.equal(new TextDecoder().decode(out.stdout), "");
      assert.ok(stderr.includes("FfiUnavailableError"), stderr);
      assert.ok(stderr.includes("--allow-ffi"), stderr);
    });
  });
}

Deno.test({
  name:
    "a full disk at a roll is QueueIoError naming the segment; nothing before it is lost (needs root for a tmpfs)",
  // A real full disk needs a tiny file system: a tmpfs, which only root may mount.
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    // 640 KiB: metadata, lock, one 256 KiB segment and its index, and a 128 KiB filler
    // leave no room for a second segment until the filler goes.
    await withTmpfs("640k", async (mountPoint) => {
      const dir = `${mountPoint}/q`;
      const w = await QueueWriter.open(dir, { segmentBytes: 256 * 1024 });
      Deno.writeFileSync(`${mountPoint}/filler`, new Uint8Array(128 * 1024));
      const next = segPath(dir, 1);
      let failure: unknown;
      for (let i = 0; i < 10_000 && failure === undefined; i++) {
        try {
          fill(w, 1);
        } catch (error) {
          failure = error;
        }
      }
      assert.ok(failure instanceof QueueIoError, `got ${failure}`);
      assert.equal(failure.path, next);
      assert.equal(failure.errno, 28);
      assert.ok(failure.message.includes(`'${next}'`), failure.message);
      assert.ok(failure.message.includes("no space left on device"), failure.message);
      assert.equal(w.segmentIndex, 0);
      const before = w.lastSeq;
      assert.ok(before > 1000);
      // Still full: the next append fails the same way and appends nothing.
      assert.throws(() => fill(w, 1), QueueIoError);
      assert.equal(w.lastSeq, before);
      // Every record before the failure is readable.
      const r = await QueueReader.open(dir);
      const { seqs, error } = readUntilError(r);
      assert.equal(error, undefined);
      assert.deepEqual(seqs, range(1, before));
      // Space freed: the same writer rolls and goes on with no gap.
      Deno.removeSync(`${mountPoint}/filler`);
      fill(w, 50);
      assert.equal(w.segmentIndex, 1);
      assert.deepEqual(readUntilError(r).seqs, range(before + 1, before + 50));
      r.close();
      w.close();
      // And a writer reopened later continues too.
      const again = await QueueWriter.open(dir);
      assert.equal(again.lastSeq, before + 50);
      again.close();
    });
  },
});
