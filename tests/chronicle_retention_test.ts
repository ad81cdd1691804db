/**
 * Tests of chronicle retention: deleting the oldest sealed segments by
 * count, bytes and age; holding readers that block deletion until they
 * commit; non-holding readers that fall off to the earliest kept record;
 * deleted segments that no mapping keeps alive; and readers that retention
 * outruns between listing the segments and mapping one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueDamageError, QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { RECORD, SEGMENT_HEADER_SIZE, segmentName } from "../src/chronicle/format.ts";
import { readSegmentHeader } from "../src/chronicle/queue_files.ts";
import {
  firstSeqOf,
  metaFirstSegment,
  payloadFor,
  payloadProblem,
  segments,
  sleep,
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

/** Seek index files on disk, by segment index. */
function indexes(dir: string): number[] {
  return [...Deno.readDirSync(dir)]
    .map((e) => /^(\d{10})\.idx$/.exec(e.name)?.[1])
    .filter((n) => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
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

// --- Retention moving on between a reader's listing and its mapping ---

const segPath = (dir: string, index: number) => `${dir}/${segmentName(index)}`;

/**
 * Runs `roll` once, as this process is about to map `path` (MappedFile
 * stats a file before it opens it): retention then moves on after a
 * reader listed the segments and before it maps one, as a writer in
 * another process may at any moment. Disposing restores `Deno.statSync`
 * and checks that the mapping was tried.
 */
function rollBeforeMapping(path: string, roll: () => void): Disposable {
  const statSync = Deno.statSync;
  let armed = true;
  Deno.statSync = (p: string | URL): Deno.FileInfo => {
    if (armed && p === path && new Error().stack?.includes("mapped_file.ts")) {
      armed = false;
      roll();
    }
    return statSync(p);
  };
  return {
    [Symbol.dispose]() {
      Deno.statSync = statSync;
      assert.equal(armed, false, `something mapped '${path}'`);
    },
  };
}

function openWriter(dir: string, maxSegments: number): Promise<QueueWriter> {
  return QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, retention: { maxSegments } });
}

/** Appends records stamped `seq * 1000` ns until the writer has rolled to segment `index`. */
function fillStampedTo(w: QueueWriter, index: number): void {
  while (w.segmentIndex < index) {
    const seq = w.lastSeq + 1;
    assert.equal(w.append(1, payloadFor(seq), BigInt(seq) * 1000n), seq);
  }
}

Deno.test("a reader opened 'earliest' as retention lets its first listed segment go starts at the earliest kept record", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 2);
    fillToSegment(w, 1);
    fill(w, 5);
    let r: QueueReader;
    {
      using _ = rollBeforeMapping(segPath(dir, 0), () => fillToSegment(w, 3));
      r = await QueueReader.open(dir);
    }
    assert.deepEqual(segments(dir), [2, 3], "retention let 0 and 1 go as the reader mapped 0");
    assert.deepEqual(drain(r), range(firstSeqOf(dir, 2), w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a reader falling off as retention lets the earliest listed segment go lands on the earliest kept record", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 2);
    fill(w, 10);
    const r = await QueueReader.open(dir);
    assert.deepEqual(drain(r), range(1, 10));
    r.seek({ seq: 6 });
    fillToSegment(w, 3);
    assert.deepEqual(segments(dir), [2, 3]);
    const seqs: number[] = [];
    {
      // The reader lists [2, 3] when it falls off; 2 goes as it maps it.
      using _ = rollBeforeMapping(segPath(dir, 2), () => fillToSegment(w, 5));
      for (let i = 0; i < 300 && r.lostRecords === 0; i++) {
        const m = r.next();
        assert.ok(m !== undefined, "records are there to read");
        assert.equal(payloadProblem(m.seq, m.payload), undefined);
        seqs.push(m.seq);
      }
    }
    assert.deepEqual(segments(dir), [4, 5]);
    const earliest = firstSeqOf(dir, 4);
    assert.equal(seqs.at(-1), earliest, "the jump lands on the earliest kept record");
    const before = seqs.slice(0, -1);
    assert.deepEqual(before, range(6, 5 + before.length));
    assert.equal(r.lostRecords, earliest - 6 - before.length);
    assert.deepEqual(drain(r), range(earliest + 1, w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a reader that found no segment, as retention lets the first one go, starts at the earliest kept record", async () => {
  await withQueueDir(async (dir) => {
    // A queue with no segment yet: its writer made none it published to.
    (await openWriter(dir, 2)).close();
    Deno.removeSync(segPath(dir, 0));
    const r = await QueueReader.open(dir);
    assert.equal(r.next(), undefined);
    const w = await openWriter(dir, 2);
    fill(w, 3);
    {
      using _ = rollBeforeMapping(segPath(dir, 0), () => fillToSegment(w, 3));
      assert.equal(r.next()?.seq, firstSeqOf(dir, 2));
    }
    assert.deepEqual(segments(dir), [2, 3]);
    assert.deepEqual(drain(r), range(firstSeqOf(dir, 2) + 1, w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a reader opened 'latest' as retention lets the last listed segment go starts at the end", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 2);
    fillToSegment(w, 1);
    let r: QueueReader;
    {
      using _ = rollBeforeMapping(segPath(dir, 1), () => fillToSegment(w, 3));
      r = await QueueReader.open(dir, { start: "latest" });
    }
    assert.deepEqual(segments(dir), [2, 3]);
    assert.equal(r.nextSeq, w.lastSeq + 1);
    assert.equal(r.next(), undefined);
    fill(w, 1);
    assert.equal(r.next()?.seq, w.lastSeq);
    r.close();
    w.close();
  });
});

Deno.test("a named reader opened 'committed' as retention lets the last listed segment go starts at the earliest kept record", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 2);
    fill(w, 20);
    const first = await QueueReader.open(dir, { name: "late", holding: false });
    while (first.nextSeq <= 12) first.next();
    first.commit(); // committed 12
    first.close();
    fillToSegment(w, 1);
    let r: QueueReader;
    {
      // Finding the end, it maps the last segment listed: 1.
      using _ = rollBeforeMapping(segPath(dir, 1), () => fillToSegment(w, 3));
      r = await QueueReader.open(dir, { name: "late", holding: false });
    }
    assert.deepEqual(segments(dir), [2, 3]);
    const earliest = firstSeqOf(dir, 2);
    assert.equal(r.lostRecords, earliest - 13);
    assert.deepEqual(drain(r), range(earliest, w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a seek to a seq retention lets go as the reader maps its segment throws RangeError naming the earliest", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 2);
    fillToSegment(w, 3);
    const r = await QueueReader.open(dir); // lists [2, 3], maps 2
    const start = firstSeqOf(dir, 2);
    assert.equal(r.next()?.seq, start);
    const target = firstSeqOf(dir, 3) + 1;
    {
      using _ = rollBeforeMapping(segPath(dir, 3), () => fillToSegment(w, 5));
      assert.throws(
        () => r.seek({ seq: target }),
        (error) =>
          error instanceof RangeError &&
          error.message ===
            `Seq ${target} is no longer in queue '${dir}': the earliest is ${firstSeqOf(dir, 4)}`,
      );
    }
    // The reader stays where it was: its old mapping of 2 is intact.
    assert.equal(r.nextSeq, start + 1);
    assert.equal(r.next()?.seq, start + 1);
    r.close();
    w.close();
  });
});

Deno.test("a seek by time past a segment retention lets go as the reader maps it goes on with the next kept segment", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 2);
    fillStampedTo(w, 3);
    const r = await QueueReader.open(dir); // lists [2, 3], maps 2
    {
      using _ = rollBeforeMapping(segPath(dir, 3), () => fillStampedTo(w, 5));
      r.seek({ timestampNs: BigInt(firstSeqOf(dir, 3) + 1) * 1000n });
    }
    assert.deepEqual(segments(dir), [4, 5]);
    const earliest = firstSeqOf(dir, 4);
    assert.equal(r.next()?.seq, earliest, "the first kept record after the time");
    assert.deepEqual(drain(r), range(earliest + 1, w.lastSeq));
    r.close();
    w.close();
  });
});

Deno.test("a seek by time walks every segment started while it walked, though retention moved on", async () => {
  await withQueueDir(async (dir) => {
    const w = await openWriter(dir, 3);
    fillStampedTo(w, 3);
    const r = await QueueReader.open(dir); // lists [1, 2, 3]
    {
      // As the seek reaches 3, the writer starts 4 and lets 1 go: the listing
      // it takes after 3 is [2, 3, 4], and the walk goes on with 4.
      using _ = rollBeforeMapping(segPath(dir, 3), () => fillStampedTo(w, 4));
      r.seek({ timestampNs: 1n << 62n });
    }
    assert.deepEqual(segments(dir), [2, 3, 4]);
    assert.equal(r.nextSeq, w.lastSeq + 1, "past every record, at the end of 4");
    assert.equal(r.next(), undefined);
    r.close();
    w.close();
  });
});

Deno.test("a failed seek whose old segment retention let go meanwhile throws its own error, and the reader falls off", async () => {
  await withQueueDir(async (dir) => {
    // Ten segments kept; the seek by time walks 0 to 8, mapping 1 to 8, so
    // the reader's own segment 0 leaves its cache of eight.
    const w = await openWriter(dir, 10);
    fillStampedTo(w, 9);
    // Segment 8's first record carries a wrong seq: the seek meets damage there.
    const damaged = firstSeqOf(dir, 8);
    const file = Deno.openSync(segPath(dir, 8), { read: true, write: true });
    file.seekSync(SEGMENT_HEADER_SIZE + RECORD.seq, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(new BigUint64Array([BigInt(damaged + 1000)]).buffer));
    file.close();
    const r = await QueueReader.open(dir);
    assert.equal(r.next()?.seq, 1);
    {
      using _ = rollBeforeMapping(segPath(dir, 8), () => fillStampedTo(w, 10));
      assert.throws(
        () => r.seek({ timestampNs: BigInt(damaged + 1) * 1000n }),
        (error) => error instanceof QueueDamageError && error.seq === damaged,
      );
    }
    assert.deepEqual(segments(dir), range(1, 10), "retention let 0 go during the seek");
    assert.equal(r.nextSeq, 2, "the position is still the old one");
    // A second failed seek, from a reader with no segment mapped, keeps it too.
    assert.throws(() => r.seek({ seq: w.lastSeq + 100 }), RangeError);
    assert.equal(r.nextSeq, 2, "the position is still the old one after another failed seek");
    const earliest = firstSeqOf(dir, 1);
    assert.equal(r.next()?.seq, earliest, "the reader falls off to the earliest kept record");
    assert.equal(r.lostRecords, earliest - 2);
    r.close();
    w.close();
  });
});

Deno.test("a reader skips a segment file whose header names another segment", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 2);
    fill(w, 5);
    const last = w.lastSeq;
    w.close();
    // A sealed segment's bytes under an unused name above the active one,
    // as a restart may leave a recycled file whose new header never reached the disk.
    Deno.copyFileSync(segPath(dir, 0), segPath(dir, 3));
    const latest = await QueueReader.open(dir, { start: "latest" });
    assert.equal(latest.nextSeq, last + 1);
    latest.seek({ seq: last });
    assert.equal(latest.next()?.seq, last);
    assert.equal(latest.next(), undefined);
    latest.close();
    const earliest = await QueueReader.open(dir);
    assert.deepEqual(drain(earliest), range(1, last));
    earliest.close();
  });
});

Deno.test("readSegmentHeader reads a missing segment as undefined, and throws for any other failure", async () => {
  await withQueueDir((dir) => {
    Deno.mkdirSync(dir);
    assert.equal(readSegmentHeader(dir, 0), undefined);
    // A symbolic link to itself: stat fails with ELOOP, not ENOENT.
    Deno.symlinkSync(segmentName(0), segPath(dir, 0));
    assert.throws(() => readSegmentHeader(dir, 0), Deno.errors.FilesystemLoop);
  });
});
