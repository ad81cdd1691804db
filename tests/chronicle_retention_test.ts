/**
 * Tests of chronicle retention: deleting the oldest sealed segments by
 * count, bytes and age; holding readers that block deletion until they
 * commit; non-holding readers that fall off to the earliest kept record;
 * and deleted segments that no mapping keeps alive.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { META } from "../src/chronicle/format.ts";
import { payloadFor, payloadProblem, sleep, withQueueDir } from "./fixtures/chronicle_common.ts";

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

/** Segment indexes on disk. */
function segments(dir: string): number[] {
  return [...Deno.readDirSync(dir)]
    .map((e) => /^(\d{10})\.seg$/.exec(e.name)?.[1])
    .filter((n) => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Seek index files on disk, by segment index. */
function indexes(dir: string): number[] {
  return [...Deno.readDirSync(dir)]
    .map((e) => /^(\d{10})\.idx$/.exec(e.name)?.[1])
    .filter((n) => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function firstSeqOf(dir: string, index: number): number {
  const bytes = Deno.readFileSync(`${dir}/${String(index).padStart(10, "0")}.seg`);
  return Number(new DataView(bytes.buffer).getBigUint64(16, true));
}

function metaFirstSegment(dir: string): number {
  const bytes = Deno.readFileSync(`${dir}/queue.meta`);
  return new DataView(bytes.buffer).getUint32(META.firstSegment, true);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Reads to the end, checking every payload; returns the seqs. */
function drain(r: QueueReader): number[] {
  const seqs: number[] = [];
  for (let m = r.next(); m !== undefined; m = r.next()) {
    assert.equal(payloadProblem(m.seq, m.payload), undefined);
    seqs.push(m.seq);
  }
  return seqs;
}

/**
 * Lines of this process's /proc/<pid>/maps naming a deleted file of the queue.
 * Read through `cat`, since Deno grants /proc/self only with --allow-all.
 */
// Whether this process still maps the file with inode `ino`, now deleted:
// by inode, since a writer that recycles segments renames a retired file
// before it deletes it.
function mapsDeleted(ino: number): boolean {
  return deletedMappings("").some((line) => line.split(/\s+/)[4] === String(ino));
}

function deletedMappings(dir: string): string[] {
  const out = new Deno.Command("cat", { args: [`/proc/${Deno.pid}/maps`] }).outputSync();
  assert.ok(out.success, "reading this process's memory map");
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) =>
    line.includes(dir) && line.endsWith("(deleted)")
  );
}

Deno.test("maxSegments keeps the newest segments, deleting the oldest at each roll", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 3 },
    });
    for (let index = 1; index <= 6; index++) {
      fillToSegment(w, index);
      const kept = range(Math.max(0, index - 2), index);
      assert.deepEqual(segments(dir), kept, `after the roll to segment ${index}`);
      assert.deepEqual(indexes(dir), kept, "each segment's index goes with it");
      assert.equal(metaFirstSegment(dir), kept[0]);
    }
    fill(w, 10);
    const r = await QueueReader.open(dir);
    assert.deepEqual(drain(r), range(firstSeqOf(dir, 4), w.lastSeq));
    assert.equal(r.lostRecords, 0);
    r.close();
    w.close();
  });
});

Deno.test("maxBytes deletes the oldest segments while the files exceed it", async () => {
  await withQueueDir(async (dir) => {
    // Exactly two segments' worth is not over the limit: two stay.
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxBytes: 2 * SEGMENT_BYTES },
    });
    fillToSegment(w, 1);
    assert.deepEqual(segments(dir), [0, 1]);
    fillToSegment(w, 5);
    assert.deepEqual(segments(dir), [4, 5]);
    w.close();
    // A limit just over three segments keeps three.
    const again = await QueueWriter.open(dir, { retention: { maxBytes: 3 * SEGMENT_BYTES + 100 } });
    fillToSegment(again, 7);
    assert.deepEqual(segments(dir), [5, 6, 7]);
    const r = await QueueReader.open(dir);
    assert.deepEqual(drain(r), range(firstSeqOf(dir, 5), again.lastSeq));
    r.close();
    again.close();
  });
});

Deno.test("maxAgeMs deletes segments sealed longer ago than the limit", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxAgeMs: 500 },
    });
    fillToSegment(w, 3);
    // Nothing is old yet.
    assert.deepEqual(w.applyRetention(), { deleted: [] });
    assert.deepEqual(segments(dir), [0, 1, 2, 3]);
    await sleep(700);
    // The roll to 4 deletes 0, 1 and 2 (sealed before the pause), not 3 (sealed just now).
    fillToSegment(w, 4);
    assert.deepEqual(segments(dir), [3, 4]);
    await sleep(700);
    // Between rolls, applyRetention does the same; the active segment always stays.
    assert.deepEqual(w.applyRetention(), { deleted: [3] });
    assert.deepEqual(segments(dir), [4]);
    assert.deepEqual(w.applyRetention(), { deleted: [] });
    const r = await QueueReader.open(dir);
    assert.deepEqual(drain(r), range(firstSeqOf(dir, 4), w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a holding reader blocks deletion until it commits past a segment", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 2 },
    });
    fill(w, 1);
    const slow = await QueueReader.open(dir, { name: "slow" }); // holding by default
    fillToSegment(w, 3);
    assert.deepEqual(segments(dir), [0, 1, 2, 3], "the rolls deleted nothing");
    assert.deepEqual(w.applyRetention(), { deleted: [], heldBy: "slow" });
    // Read all of segment 0 and one record of segment 1; commit.
    const lastOf0 = firstSeqOf(dir, 1) - 1;
    while (slow.nextSeq <= lastOf0 + 1) slow.next();
    slow.commit();
    assert.deepEqual(w.applyRetention(), { deleted: [0], heldBy: "slow" });
    assert.deepEqual(segments(dir), [1, 2, 3]);
    // Committed, then closed: the position still holds segment 1.
    slow.close();
    fillToSegment(w, 4);
    assert.deepEqual(segments(dir), [1, 2, 3, 4]);
    // Reopened, it resumes right after its commit, reads everything and commits.
    const resumed = await QueueReader.open(dir, { name: "slow" });
    assert.deepEqual(drain(resumed), range(lastOf0 + 2, w.lastSeq));
    assert.equal(resumed.lostRecords, 0);
    resumed.commit();
    // The next roll deletes what the reader no longer needs.
    const from = resumed.nextSeq;
    fillToSegment(w, 5);
    assert.deepEqual(segments(dir), [4, 5]);
    assert.deepEqual(drain(resumed), range(from, w.lastSeq));
    assert.equal(resumed.lostRecords, 0);
    resumed.close();
    w.close();
  });
});

for (const kind of ["a named, non-holding", "an anonymous"] as const) {
  Deno.test(`${kind} reader does not block retention and falls off to the earliest kept record`, async () => {
    await withQueueDir(async (dir) => {
      const w = await QueueWriter.open(dir, {
        segmentBytes: SEGMENT_BYTES,
        retention: { maxSegments: 2 },
      });
      fill(w, 10);
      const r = await QueueReader.open(
        dir,
        kind === "an anonymous" ? {} : { name: "tail", holding: false, start: "earliest" },
      );
      assert.deepEqual(drain(r).slice(0, 5), [1, 2, 3, 4, 5]);
      r.seek({ seq: 6 });
      if (kind !== "an anonymous") r.commit();
      const segment0 = Deno.statSync(`${dir}/0000000000.seg`).ino!;
      fillToSegment(w, 5);
      assert.deepEqual(segments(dir), [4, 5], "the reader held nothing back");
      assert.equal(w.applyRetention().heldBy, undefined);
      // The reader still maps the deleted segment 0 (so this check can fail) ...
      assert.ok(mapsDeleted(segment0), "the reader maps segment 0 before it moves on");
      // ... and moves on within a bounded number of calls: the records it gets
      // before the jump are the intact ones that followed its position.
      const earliest = firstSeqOf(dir, 4);
      const seqs: number[] = [];
      for (let i = 0; i < 300 && r.lostRecords === 0; i++) {
        const m = r.next();
        assert.ok(m !== undefined, "records are there to read");
        assert.equal(payloadProblem(m.seq, m.payload), undefined);
        seqs.push(m.seq);
      }
      assert.equal(seqs.at(-1), earliest, "the jump lands on the earliest kept record");
      const before = seqs.slice(0, -1);
      assert.deepEqual(before, range(6, 5 + before.length));
      assert.equal(r.lostRecords, earliest - 6 - before.length);
      assert.ok(r.lostRecords > 0);
      // No mapping keeps a deleted segment (or its index) alive any more.
      assert.deepEqual(deletedMappings(dir), []);
      assert.deepEqual(drain(r), range(earliest + 1, w.lastSeq));
      r.close();
      w.close();
    });
  });
}

Deno.test("a reader waiting at the end of a deleted segment continues at the earliest kept record", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 2 },
    });
    fillToSegment(w, 1);
    const lastOf0 = firstSeqOf(dir, 1) - 1;
    const r = await QueueReader.open(dir, { waitStrategy: "futex" });
    // Caught up to the end marker of segment 0.
    r.seek({ seq: lastOf0 });
    assert.equal(r.next()?.seq, lastOf0);
    fillToSegment(w, 4);
    assert.deepEqual(segments(dir), [3, 4]);
    assert.equal(await r.wait(0), true);
    const earliest = firstSeqOf(dir, 3);
    const m = r.next();
    assert.equal(m?.seq, earliest, "next() returns the earliest kept record at once");
    assert.equal(r.lostRecords, earliest - lastOf0 - 1);
    assert.deepEqual(deletedMappings(dir), []);
    assert.deepEqual(drain(r), range(earliest + 1, w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a named reader starting 'committed' behind retention starts at the earliest kept record", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 2 },
    });
    fill(w, 20);
    const r = await QueueReader.open(dir, { name: "late", holding: false });
    while (r.nextSeq <= 12) r.next();
    r.commit(); // committed 12
    r.close();
    fillToSegment(w, 4);
    const earliest = firstSeqOf(dir, 3);
    const again = await QueueReader.open(dir, { name: "late", holding: false });
    assert.equal(again.lostRecords, earliest - 13);
    assert.deepEqual(drain(again), range(earliest, w.lastSeq));
    again.close();
    w.close();
  });
});

Deno.test("segments a reader mapped for earlier seeks are unmapped once retention deletes them", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 3 },
    });
    fillToSegment(w, 2);
    const r = await QueueReader.open(dir);
    // Seeks into segments 0 and 1 leave them mapped while the reader sits in 2.
    r.seek({ seq: 1 });
    assert.equal(r.next()?.seq, 1);
    r.seek({ seq: firstSeqOf(dir, 1) });
    assert.equal(r.next()?.seq, firstSeqOf(dir, 1));
    r.seek({ seq: firstSeqOf(dir, 2) });
    const read = w.lastSeq;
    assert.deepEqual(drain(r), range(firstSeqOf(dir, 2), read));
    const segment0 = Deno.statSync(`${dir}/0000000000.seg`).ino!;
    fillToSegment(w, 4);
    assert.deepEqual(segments(dir), [2, 3, 4]);
    assert.ok(mapsDeleted(segment0), "segment 0 is still mapped before the reader looks");
    assert.deepEqual(drain(r), range(read + 1, w.lastSeq), "nothing lost: the reader was ahead");
    assert.equal(r.lostRecords, 0);
    assert.deepEqual(deletedMappings(dir), []);
    r.close();
    w.close();
  });
});
