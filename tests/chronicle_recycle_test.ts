/**
 * Tests of segment recycling: an `ipc` writer with retention reuses the
 * file of a segment retention let go as its next segment. Reuse really
 * happens (and only where it may); a recycled segment reads as all zero
 * until written; no reader, in this process or another, ever reads a
 * recycled file's old bytes as records, and one that still maps a retired
 * segment keeps reading its intact records; a writer killed at any moment
 * leaves a queue the next writer opens; after a machine restart a recycled
 * file that never reached the disk whole is a torn tail to an `ipc` writer
 * and damage to a `durable` one.
 *
 * Inodes tell a recycled file from a new one. The file system may give a
 * deleted file's inode number to a new file, so the tests keep every
 * segment file they look at open (a descriptor, no lock) until they end:
 * an inode seen again is then the same file.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  QueueDamageError,
  QueueIoError,
  QueueReader,
  QueueWriter,
  type QueueWriterOptions,
} from "../src/chronicle/mod.ts";
import {
  META,
  SEGMENT,
  SEGMENT_HEADER_SIZE,
  segmentName,
  SPARE_FILE,
} from "../src/chronicle/format.ts";
import { EAGAIN, ENOENT } from "../src/chronicle/libc.ts";
import { MappedFile } from "../src/chronicle/mapped_file.ts";
import { SegmentCache } from "../src/chronicle/segment_cache.ts";
import { SegmentRecycler } from "../src/chronicle/segment_recycler.ts";
import { seededRandom } from "./_seeded_random.ts";
import {
  collect,
  firstSeqOf,
  Lines,
  metaFirstSegment,
  payloadFor,
  payloadProblem,
  RunningHash,
  segmentLayout,
  segments,
  sleep,
  spawnFixture,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";

const SEGMENT_BYTES = 64 * 1024;
const END_TYPE = 65535;

const segPath = (dir: string, index: number) => `${dir}/${segmentName(index)}`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function appendNext(w: QueueWriter): void {
  const seq = w.lastSeq + 1;
  assert.equal(w.append(1, payloadFor(seq), BigInt(seq) * 1000n + 7n), seq);
}

/** Appends until the writer has rolled to segment `index`. */
function fillToSegment(w: QueueWriter, index: number): void {
  while (w.segmentIndex < index) appendNext(w);
}

/** Index of the first non-zero byte of `bytes` at or after `from`, or -1. */
function firstNonZero(bytes: Uint8Array, from = 0): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return i;
  return -1;
}

/**
 * Reads the whole queue from the earliest record, checking every payload
 * and that each seq follows the one before; returns the first and last seq.
 */
async function readAll(dir: string): Promise<{ first: number; last: number; lost: number }> {
  const r = await QueueReader.open(dir, { start: "earliest" });
  try {
    const m = r.next();
    assert.ok(m !== undefined, "the queue holds records");
    const first = m.seq;
    let last = first;
    assert.equal(payloadProblem(m.seq, m.payload), undefined);
    for (let n = r.next(); n !== undefined; n = r.next()) {
      assert.equal(n.seq, last + 1, `seq ${n.seq} follows seq ${last}`);
      assert.equal(payloadProblem(n.seq, n.payload), undefined);
      last = n.seq;
    }
    return { first, last, lost: r.lostRecords };
  } finally {
    r.close();
  }
}

/**
 * Segment files seen, each kept open so its inode number stays its own:
 * a file seen again under a new name is the same file, recycled.
 */
class Inodes implements Disposable {
  readonly #files = new Map<number, { index: number; file: Deno.FsFile }>();

  /**
   * Notes segment `index`'s file; returns the index it was first seen as
   * when it is a file seen before, else undefined.
   */
  see(dir: string, index: number): number | undefined {
    const file = Deno.openSync(segPath(dir, index));
    const ino = file.statSync().ino!;
    const known = this.#files.get(ino);
    if (known !== undefined) {
      file.close();
      return known.index;
    }
    this.#files.set(ino, { index, file });
    return undefined;
  }

  /** How many distinct files were seen. */
  get count(): number {
    return this.#files.size;
  }

  /** The inode of the file first seen as segment `index`. */
  inodeOf(index: number): number {
    for (const [ino, seen] of this.#files) if (seen.index === index) return ino;
    throw new Error(`segment ${index} was not seen`);
  }

  /** How many names the file first seen as segment `index` has now (0: deleted). */
  links(index: number): number {
    for (const seen of this.#files.values()) {
      if (seen.index === index) return seen.file.statSync().nlink!;
    }
    throw new Error(`segment ${index} was not seen`);
  }

  [Symbol.dispose](): void {
    for (const { file } of this.#files.values()) file.close();
  }
}

// 1. Reuse happens, and only where it may.

for (
  const variant of [
    { name: "an ipc writer recycles", options: {}, recycles: true },
    { name: "recycleSegments: false", options: { recycleSegments: false }, recycles: false },
    {
      name: "a durable writer never recycles",
      options: { durability: "durable", syncIntervalMs: 60_000 },
      recycles: false,
    },
  ] satisfies { name: string; options: QueueWriterOptions; recycles: boolean }[]
) {
  Deno.test(`over 20 rolls with maxSegments 2, ${variant.name}`, async () => {
    await withQueueDir(async (dir) => {
      using inodes = new Inodes();
      const w = await QueueWriter.open(dir, {
        segmentBytes: SEGMENT_BYTES,
        retention: { maxSegments: 2 },
        ...variant.options,
      });
      inodes.see(dir, 0);
      const reused: number[] = [];
      for (let index = 1; index <= 20; index++) {
        fillToSegment(w, index);
        if (inodes.see(dir, index) !== undefined) reused.push(index);
        assert.deepEqual(segments(dir), [Math.max(0, index - 1), index]);
        assert.equal(exists(`${dir}/${SPARE_FILE}`), variant.recycles && index >= 2);
      }
      if (variant.recycles) {
        assert.ok(inodes.count <= 4, `${inodes.count} distinct files for 21 segments`);
        assert.deepEqual(reused, Array.from({ length: 18 }, (_, i) => i + 3));
      } else {
        assert.equal(inodes.count, 21, "every segment is a new file");
        assert.deepEqual(reused, []);
        for (let index = 0; index < 19; index++) {
          assert.equal(inodes.links(index), 0, `segment ${index} is deleted`);
        }
      }
      for (let i = 0; i < 50; i++) appendNext(w);
      assert.deepEqual(await readAll(dir), {
        first: firstSeqOf(dir, 19),
        last: w.lastSeq,
        lost: 0,
      });
      w.close();
      assert.equal(exists(`${dir}/${SPARE_FILE}`), false, "close deletes the spare");
    });
  });
}

// 2. A recycled segment is all zero until written.

Deno.test("a segment prepared from the spare is all zero, and zero past the writer's end once started", async () => {
  await withQueueDir(async (dir) => {
    using inodes = new Inodes();
    const segmentBytes = 1024 * 1024;
    const w = await QueueWriter.open(dir, { segmentBytes, retention: { maxSegments: 2 } });
    for (let index = 0; index <= 3; index++) {
      fillToSegment(w, index);
      inodes.see(dir, index);
      if (index === 2) assert.ok(segmentLayout(segPath(dir, 1)).records.length > 1000);
    }
    // Segment 1 was full of records; the roll to 3 retired it as the spare.
    assert.equal(exists(segPath(dir, 1)), false);
    assert.equal(exists(`${dir}/${SPARE_FILE}`), true);
    assert.equal(inodes.links(1), 1, "segment 1's file lives on, as the spare");
    // Past half-way through segment 3 the writer places the spare as segment 4.
    while (!exists(segPath(dir, 4))) appendNext(w);
    assert.equal(w.segmentIndex, 3, "segment 4 is prepared before the roll");
    assert.equal(inodes.see(dir, 4), 1, "segment 4 is segment 1's file");
    assert.equal(exists(`${dir}/${SPARE_FILE}`), false);
    const prepared = Deno.readFileSync(segPath(dir, 4));
    assert.equal(prepared.length, segmentBytes);
    assert.equal(firstNonZero(prepared), -1, "the prepared segment is all zero");

    fillToSegment(w, 4);
    for (let i = 0; i < 100; i++) appendNext(w);
    const path = segPath(dir, 4);
    const layout = segmentLayout(path);
    assert.equal(layout.firstSeq, firstSeqOf(dir, 4));
    assert.equal(layout.records.at(-1)?.seq, w.lastSeq, "the walk reaches the last record");
    const bytes = Deno.readFileSync(path);
    const header = new DataView(bytes.buffer);
    assert.equal(header.getUint32(SEGMENT.index, true), 4, "the header names segment 4");
    assert.equal(firstNonZero(bytes, layout.end), -1, "nothing after the writer's end");
    w.close();
    assert.deepEqual(await readAll(dir), { first: firstSeqOf(dir, 3), last: w.lastSeq, lost: 0 });
  });
});

// 3. A reader in another process never sees stale bytes as records.

Deno.test("reader processes following the writer live through recycled rolls read every record intact", async () => {
  await withQueueDir(async (dir) => {
    const seed = Date.now() >>> 0;
    const random = seededRandom(seed);
    using inodes = new Inodes();
    // A reader lets a segment go once it has read it to its end, so a file
    // is free to recycle as soon as the readers are past it.
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 3 },
    });
    inodes.see(dir, 0);
    const strategies = ["futex", "backoff"];
    const readers = strategies.map((s) =>
      spawnFixture("chronicle_reader_child.ts", ["named", dir, s, `follower-${s}`, "100"])
    );
    const lines = readers.map((r) => new Lines(r.stdout));
    const errors = readers.map((r) => collect(r.stderr));
    for (const [i, l] of lines.entries()) assert.equal(await l.next(), "start 1", strategies[i]);
    let running = readers.length;
    const done = lines.map((l) => l.rest().finally(() => running--));
    const committed = (l: Lines) =>
      Number(l.seen.findLast((line) => line.startsWith("commit "))?.split(" ")[1] ?? 0);
    const expected = new RunningHash();
    let recycled = 0;
    while (w.segmentIndex < 80) {
      const burst = 1 + Math.floor(random() * 400);
      for (let i = 0; i < burst; i++) {
        const before = w.segmentIndex;
        appendNext(w);
        expected.addRecord(w.lastSeq, 1, BigInt(w.lastSeq) * 1000n + 7n, payloadFor(w.lastSeq));
        if (w.segmentIndex !== before && inodes.see(dir, w.segmentIndex) !== undefined) recycled++;
      }
      await sleep(random() < 0.5 ? 0 : 1);
      // Readers more than two segments behind would still map (lock) the
      // segments retention lets go: the writer waits for them to commit.
      while (running === readers.length && lines.some((l) => committed(l) < w.lastSeq - 1000)) {
        await sleep(1);
      }
    }
    const last = w.lastSeq + 1;
    assert.equal(w.append(END_TYPE, payloadFor(last), BigInt(last) * 1000n + 7n), last);
    expected.addRecord(last, END_TYPE, BigInt(last) * 1000n + 7n, payloadFor(last));
    for (const [i, reader] of readers.entries()) {
      const out = await done[i]!;
      const status = await reader.status;
      const context = `seed ${seed}, ${strategies[i]} reader: ${await errors[i]}`;
      assert.equal(status.code, 0, context);
      assert.equal(out.at(-1), `done ${last} ${expected.value}`, context);
      assert.equal(out[1], "first 1", context);
    }
    w.close();
    assert.ok(recycled >= 30, `seed ${seed}: ${recycled} of 80 rolls recycled a file`);
  });
});

Deno.test("a reader that keeps up does not stop recycling: it lets each segment go once read", async () => {
  await withQueueDir(async (dir) => {
    using inodes = new Inodes();
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 2 },
    });
    const r = await QueueReader.open(dir);
    inodes.see(dir, 0);
    let recycled = 0;
    let read = 0;
    while (w.segmentIndex < 60) {
      const before = w.segmentIndex;
      appendNext(w);
      for (let m = r.next(); m !== undefined; m = r.next()) {
        assert.equal(m.seq, ++read);
        assert.equal(payloadProblem(m.seq, m.payload), undefined);
      }
      if (w.segmentIndex !== before && inodes.see(dir, w.segmentIndex) !== undefined) recycled++;
    }
    assert.equal(r.lostRecords, 0);
    assert.equal(read, w.lastSeq);
    // Segments 0 and 1 are new files, and a reader still in a segment when
    // retention lets it go may cost one more; every other roll reuses one.
    assert.ok(recycled >= 55, `${recycled} of 60 rolls recycled a file`);
    r.close();
    w.close();
  });
});

// 4. A reader mapping a retired segment keeps its bytes.

Deno.test("a segment a reader still maps is deleted, not recycled, and the reader reads it intact", async () => {
  await withQueueDir(async (dir) => {
    using inodes = new Inodes();
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 2 },
    });
    for (let i = 0; i < 10; i++) appendNext(w);
    inodes.see(dir, 0);
    fillToSegment(w, 1);
    inodes.see(dir, 1);
    const lastOf0 = firstSeqOf(dir, 1) - 1;
    const r = await QueueReader.open(dir);
    for (let seq = 1; seq <= 5; seq++) assert.equal(r.next()?.seq, seq);
    for (let index = 2; index <= 5; index++) {
      fillToSegment(w, index);
      inodes.see(dir, index);
    }
    // The rolls to 4 and 5 recycled segments 1 and 2: recycling was on ...
    assert.equal(inodes.see(dir, 4), 1);
    assert.equal(inodes.see(dir, 5), 2);
    // ... but segment 0, which the reader maps, was deleted: its file has
    // no name, and is neither a segment nor the spare.
    assert.deepEqual(segments(dir), [4, 5]);
    assert.equal(inodes.links(0), 0, "segment 0's file is deleted");
    const seg0 = inodes.inodeOf(0);
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile) assert.notEqual(Deno.statSync(`${dir}/${e.name}`).ino, seg0, e.name);
    }
    // The reader goes on through segment 0's intact records, then falls
    // off to the earliest kept record, counting the ones it skipped.
    const earliest = firstSeqOf(dir, 4);
    const seqs: number[] = [];
    while (r.lostRecords === 0) {
      const m = r.next();
      assert.ok(m !== undefined, "records are there to read");
      assert.equal(payloadProblem(m.seq, m.payload), undefined);
      seqs.push(m.seq);
    }
    const before = seqs.slice(0, -1);
    assert.ok(before.length > 0, "the reader read on in segment 0 before it noticed");
    assert.deepEqual(before, Array.from({ length: before.length }, (_, i) => 6 + i));
    assert.ok(before.at(-1)! <= lastOf0, "those records are segment 0's");
    assert.equal(seqs.at(-1), earliest, "the jump lands on the earliest kept record");
    assert.equal(r.lostRecords, earliest - 6 - before.length);
    for (let m = r.next(); m !== undefined; m = r.next()) {
      assert.equal(m.seq, seqs.at(-1)! + 1);
      assert.equal(payloadProblem(m.seq, m.payload), undefined);
      seqs.push(m.seq);
    }
    assert.equal(seqs.at(-1), w.lastSeq);
    r.close();
    w.close();
  });
});

// 5. The recycler and the reader's side of the lock, unit by unit.

Deno.test("SegmentRecycler takes a free file as the spare, deletes a locked one, places and closes", async () => {
  await withQueueDir((dir) => {
    Deno.mkdirSync(dir);
    const size = 3 * 1024 * 1024;
    const old = new Uint8Array(size).fill(0xa5);
    const spare = `${dir}/${SPARE_FILE}`;
    const recycler = new SegmentRecycler(dir, size);

    // A reader's shared lock: the file is deleted, not taken.
    Deno.writeFileSync(segPath(dir, 0), old);
    const reader = MappedFile.open(segPath(dir, 0), { writable: false, sharedLock: true });
    assert.equal(recycler.retire(0), true, "dealt with");
    assert.equal(recycler.holding, false);
    assert.equal(exists(segPath(dir, 0)), false);
    assert.equal(exists(spare), false, "deleted");
    assert.equal(reader.bytes.every((b) => b === 0xa5), true, "the reader's bytes are untouched");
    reader.release();

    // No lock: the file becomes the spare, its header zeroed first.
    Deno.writeFileSync(segPath(dir, 1), old);
    assert.equal(recycler.retire(1), true);
    assert.equal(recycler.holding, true);
    assert.equal(exists(segPath(dir, 1)), false, "no segment name reaches it");
    const taken = Deno.readFileSync(spare);
    assert.equal(firstNonZero(taken), SEGMENT_HEADER_SIZE, "the header is zero at once");
    // The recycler holds it exclusively: a reader cannot lock it.
    assert.throws(
      () => MappedFile.open(spare, { writable: false, sharedLock: true }),
      (e) => e instanceof QueueIoError && e.errno === EAGAIN && e.path === spare,
    );
    // A second retired segment is left to the caller while a spare is held.
    Deno.writeFileSync(segPath(dir, 2), old);
    assert.equal(recycler.retire(2), false);
    assert.equal(exists(segPath(dir, 2)), true);
    // Zeroing goes from the front, a step at a time.
    recycler.zeroSome();
    const stepped = Deno.readFileSync(spare);
    const zeroTo = firstNonZero(stepped);
    assert.ok(zeroTo > SEGMENT_HEADER_SIZE, `zeroed to ${zeroTo}`);
    assert.equal(stepped.subarray(zeroTo).every((b) => b === 0xa5), true);

    // Placed: the spare is segment 7, all zero, and unlocked.
    const ino = Deno.statSync(spare).ino;
    assert.equal(recycler.place(7), true);
    assert.equal(recycler.holding, false);
    assert.equal(exists(spare), false);
    assert.equal(Deno.statSync(segPath(dir, 7)).ino, ino, "the same file");
    const placed = Deno.readFileSync(segPath(dir, 7));
    assert.equal(placed.length, size);
    assert.equal(firstNonZero(placed), -1, "all zero");
    MappedFile.open(segPath(dir, 7), { writable: false, sharedLock: true }).release();
    assert.equal(recycler.place(8), false, "nothing left to place");

    // Closing deletes a held spare; a spare left by a killed writer is cleared.
    assert.equal(recycler.retire(2), true);
    assert.equal(exists(spare), true);
    recycler.close();
    assert.equal(recycler.holding, false);
    assert.equal(exists(spare), false);
    Deno.writeFileSync(spare, old);
    SegmentRecycler.clear(dir);
    assert.equal(exists(spare), false);
  });
});

Deno.test("a reader's segment cache refuses a segment below the first kept, whatever file holds its name", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 3);
    w.close();
    // As a reader racing a recycling writer may find them: segment 1's
    // name on a file the writer has since started as segment 3 (opened
    // before the rename), and segment 0's name on its own intact file (a
    // writer killed before the rename).
    Deno.removeSync(segPath(dir, 1));
    Deno.linkSync(segPath(dir, 3), segPath(dir, 1));
    const cache = new SegmentCache(dir, 64, 8, () => 2);
    for (const index of [0, 1]) {
      assert.throws(
        () => cache.get(index),
        (e) =>
          e instanceof QueueIoError && e.errno === ENOENT && e.path === segPath(dir, index) &&
          /retention let it go/.test(e.message),
        `segment ${index}`,
      );
    }
    assert.equal(cache.get(2).segment.firstSeq, firstSeqOf(dir, 2));
    // A mapped segment is locked: a recycler must delete it, not take it.
    const recycler = new SegmentRecycler(dir, SEGMENT_BYTES);
    assert.equal(recycler.retire(2), true);
    assert.equal(recycler.holding, false);
    assert.equal(exists(`${dir}/${SPARE_FILE}`), false);
    cache.clear();
    // Unmapped, it is free again.
    assert.equal(recycler.retire(3), true);
    assert.equal(recycler.holding, true);
    recycler.close();
  });
});

// 6. A writer killed at any moment.

const KILL_SEGMENT_BYTES = 256 * 1024;
const KILL_OPTIONS: QueueWriterOptions = {
  segmentBytes: KILL_SEGMENT_BYTES,
  retention: { maxSegments: 2 },
};

function recycleWriter(mode: string, dir: string): Deno.ChildProcess {
  return spawnFixture("chronicle_recycle_writer.ts", [
    mode,
    dir,
    String(KILL_SEGMENT_BYTES),
    String(KILL_OPTIONS.retention!.maxSegments),
  ]);
}

/** Kills a child with SIGKILL and reads the rest of its output. */
async function kill(
  process: Deno.ChildProcess,
  lines: Lines,
  stderr: Promise<string>,
): Promise<void> {
  process.kill("SIGKILL");
  const status = await process.status;
  await lines.rest();
  assert.equal(status.signal, "SIGKILL", await stderr);
}

/**
 * Opens a writer as the next one after a kill would: it must find no spare
 * and everything published; appends one record and checks the queue.
 */
async function reopenAndCheck(dir: string, context: string, atLeast: number): Promise<number> {
  const w = await QueueWriter.open(dir, KILL_OPTIONS);
  assert.equal(exists(`${dir}/${SPARE_FILE}`), false, `${context}: the spare is cleared`);
  assert.ok(w.lastSeq >= atLeast, `${context}: reopened at ${w.lastSeq}, below ${atLeast}`);
  appendNext(w);
  const last = w.lastSeq;
  const first = firstSeqOf(dir, metaFirstSegment(dir));
  w.close();
  assert.deepEqual(await readAll(dir), { first, last, lost: 0 }, context);
  return last;
}

Deno.test("a recycling writer SIGKILLed 10 times at random moments leaves a queue the next writer opens", async () => {
  await withQueueDir(async (dir) => {
    const seed = Date.now() >>> 0;
    const random = seededRandom(seed);
    let last = 0;
    for (let run = 1; run <= 10; run++) {
      const context = `seed ${seed}, run ${run}`;
      const writer = recycleWriter("crash", dir);
      const lines = new Lines(writer.stdout);
      const stderr = collect(writer.stderr);
      const open = await lines.until("open ").catch(async (e) => {
        throw new Error(`${context}: ${e.message}: ${await stderr}`);
      });
      assert.equal(open, `open ${last}`, context);
      await sleep(20 + Math.floor(random() * 180));
      await kill(writer, lines, stderr);
      last = await reopenAndCheck(dir, context, last);
    }
    const first = metaFirstSegment(dir);
    assert.ok(first >= 10, `seed ${seed}: the writers rolled only to segment ${first + 1}`);
  });
});

Deno.test("a writer SIGKILLed holding a spare, or with the spare placed as its next segment", async () => {
  await withQueueDir(async (dir) => {
    // Holding a spare: its header is zero, the rest not yet.
    let writer = recycleWriter("spare", dir);
    let lines = new Lines(writer.stdout);
    let stderr = collect(writer.stderr);
    const stopped = Number((await lines.until("stopped ")).split(" ")[1]);
    const spare = Deno.readFileSync(`${dir}/${SPARE_FILE}`);
    assert.equal(firstNonZero(spare), SEGMENT_HEADER_SIZE, "a spare being zeroed");
    await kill(writer, lines, stderr);
    const last = await reopenAndCheck(dir, "killed holding a spare", stopped);
    assert.equal(last, stopped + 1, "every record published before the kill is kept");

    // The spare placed as the next segment, not started yet.
    writer = recycleWriter("placed", dir);
    lines = new Lines(writer.stdout);
    stderr = collect(writer.stderr);
    const [, seq, next] = (await lines.until("stopped ")).split(" ").map(Number);
    assert.equal(firstNonZero(Deno.readFileSync(segPath(dir, next!))), -1, "prepared: all zero");
    assert.equal(exists(`${dir}/${SPARE_FILE}`), false);
    await kill(writer, lines, stderr);
    const w = await QueueWriter.open(dir, KILL_OPTIONS);
    assert.equal(w.lastSeq, seq);
    assert.equal(w.segmentIndex, next! - 1);
    assert.equal(exists(segPath(dir, next!)), false, "the prepared segment is deleted");
    fillToSegment(w, next! + 2);
    w.close();
    assert.equal((await readAll(dir)).last, w.lastSeq);
  });
});

// 7. After a machine restart.

/**
 * A queue whose writer recycled segments and stopped in segment 5, with
 * stale bytes at segment 6: `copy` puts there a copy of sealed segment 3
 * (its header names segment 3), `zeroHeader` the same with its header
 * zeroed, as a recycled file whose zeroing or new header never reached
 * the disk. Returns the last seq.
 */
async function staleAboveActive(dir: string, kind: "copy" | "zeroHeader"): Promise<number> {
  using inodes = new Inodes();
  const w = await QueueWriter.open(dir, {
    segmentBytes: SEGMENT_BYTES,
    retention: { maxSegments: 3 },
  });
  for (let index = 0; index <= 5; index++) {
    fillToSegment(w, index);
    inodes.see(dir, index);
  }
  for (let i = 0; i < 20; i++) appendNext(w);
  assert.equal(inodes.see(dir, 5), 1, "segment 5 is a recycled file");
  const last = w.lastSeq;
  w.close();
  const stale = Deno.readFileSync(segPath(dir, 3));
  assert.equal(new DataView(stale.buffer).getUint32(SEGMENT.index, true), 3);
  if (kind === "zeroHeader") stale.fill(0, 0, SEGMENT_HEADER_SIZE);
  Deno.writeFileSync(segPath(dir, 6), stale);
  return last;
}

function flipBootId(dir: string): void {
  const meta = Deno.readFileSync(`${dir}/queue.meta`);
  meta[META.bootId] = meta[META.bootId]! ^ 0xff;
  Deno.writeFileSync(`${dir}/queue.meta`, meta);
}

for (const kind of ["copy", "zeroHeader"] as const) {
  const what = kind === "copy" ? "an older segment's header" : "a zero header over old records";
  // A durable writer opening a queue an ipc writer recycled before the
  // restart must not refuse it either.
  for (const durability of ["ipc", "durable"] as const) {
    Deno.test(`after a restart a${durability === "ipc" ? "n ipc" : " durable"} writer deletes a segment with ${what} above the active one`, async () => {
      await withQueueDir(async (dir) => {
        const last = await staleAboveActive(dir, kind);
        flipBootId(dir);
        const w = await QueueWriter.open(dir, { retention: { maxSegments: 3 }, durability });
        assert.equal(exists(segPath(dir, 6)), false, "the stale file is deleted");
        assert.equal(w.segmentIndex, 5);
        assert.equal(w.lastSeq, last);
        fillToSegment(w, 7);
        w.close();
        assert.deepEqual(await readAll(dir), {
          first: firstSeqOf(dir, 5),
          last: w.lastSeq,
          lost: 0,
        });
      });
    });
  }

  Deno.test(`without a restart, a segment with ${what} above the active one is damage`, async () => {
    await withQueueDir(async (dir) => {
      await staleAboveActive(dir, kind);
      const path = segPath(dir, 6);
      const before = Deno.readFileSync(path);
      const reason = kind === "copy"
        ? "says it is segment 3"
        : "segment header is zero, but the file holds data";
      await assert.rejects(
        QueueWriter.open(dir),
        (e) =>
          e instanceof QueueDamageError && e.path === path && e.message.includes(`'${path}'`) &&
          e.message.includes(reason),
      );
      assert.deepEqual(Deno.readFileSync(path), before, "the file is left as it was");
    });
  });
}

Deno.test("a recycling writer marks queue.meta version 3, which no later writer lowers; others leave 2", async () => {
  await withQueueDir(async (dir) => {
    const version = () =>
      new DataView(Deno.readFileSync(`${dir}/queue.meta`).buffer).getUint32(8, true);
    const plain = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    appendNext(plain);
    plain.close();
    assert.equal(version(), 2, "no retention: nothing is recycled");
    const off = await QueueWriter.open(dir, {
      retention: { maxSegments: 2 },
      recycleSegments: false,
    });
    off.close();
    assert.equal(version(), 2, "recycling turned off");
    const on = await QueueWriter.open(dir, { retention: { maxSegments: 2 } });
    assert.equal(version(), 3, "marked before the writer can recycle");
    on.close();
    const durable = await QueueWriter.open(dir, { durability: "durable" });
    appendNext(durable);
    durable.close();
    assert.equal(version(), 3, "stays marked");
    assert.deepEqual(await readAll(dir), { first: 1, last: 2, lost: 0 });
  });
});

Deno.test("segments that take longer than 10 s to fill are deleted, not recycled", async () => {
  await withQueueDir(async (dir) => {
    using inodes = new Inodes();
    // The writer times a segment's fill with performance.now(): here each
    // one seems to take 20 s, then, once the clock is honest again, not.
    const now = performance.now;
    let skew = 0;
    performance.now = () => now.call(performance) + skew;
    try {
      const w = await QueueWriter.open(dir, {
        segmentBytes: SEGMENT_BYTES,
        retention: { maxSegments: 2 },
      });
      for (let index = 1; index <= 8; index++) {
        skew += 20_000;
        fillToSegment(w, index);
        assert.equal(inodes.see(dir, index), undefined, `segment ${index} is a new file`);
      }
      assert.equal(exists(`${dir}/${SPARE_FILE}`), false);
      let recycled = 0;
      for (let index = 9; index <= 16; index++) {
        fillToSegment(w, index);
        if (inodes.see(dir, index) !== undefined) recycled++;
      }
      assert.ok(recycled >= 6, `${recycled} of 8 fast segments recycled`);
      w.close();
    } finally {
      performance.now = now;
    }
  });
});

Deno.test("SegmentRecycler deletes a retired file it cannot use, and never throws", async () => {
  await withQueueDir((dir) => {
    Deno.mkdirSync(dir, { recursive: true });
    const recycler = new SegmentRecycler(dir, SEGMENT_BYTES);
    // Not a segment of this queue's size: deleted, not taken.
    Deno.writeFileSync(segPath(dir, 0), new Uint8Array(4096).fill(1));
    assert.equal(recycler.retire(0), true);
    assert.equal(recycler.holding, false);
    assert.equal(exists(segPath(dir, 0)), false);
    assert.equal(exists(`${dir}/${SPARE_FILE}`), false);
    // Missing: left to the caller, which ignores a file already gone.
    assert.equal(recycler.retire(1), false);
    // Nothing held: placing makes nothing, and the writer creates a new file.
    assert.equal(recycler.place(2), false);
    assert.equal(exists(segPath(dir, 2)), false);
  });
});

Deno.test("after a restart, a queue no writer marked for recycling keeps a stale top segment as damage", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, durability: "durable" });
    fillToSegment(w, 2);
    appendNext(w);
    w.close();
    // A lost header over records, as storage trouble could leave it.
    const stale = Deno.readFileSync(segPath(dir, 1));
    stale.fill(0, 0, SEGMENT_HEADER_SIZE);
    Deno.writeFileSync(segPath(dir, 3), stale);
    flipBootId(dir);
    const path = segPath(dir, 3);
    await assert.rejects(
      QueueWriter.open(dir, { durability: "durable" }),
      (e) =>
        e instanceof QueueDamageError && e.path === path &&
        e.message.includes("segment header is zero, but the file holds data"),
    );
    assert.equal(exists(path), true, "nothing is deleted");
  });
});
