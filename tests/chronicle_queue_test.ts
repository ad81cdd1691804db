/**
 * Unit tests of the chronicle queue: appending and reading, segment rolls,
 * reopening, start positions, seeking by seq and by time, wait strategies,
 * the single-writer lock and option checking.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  QueueClosedError,
  QueueFormatError,
  QueueLockedError,
  type QueueMessage,
  QueueReader,
  QueueWriter,
  type WaitStrategy,
} from "../src/chronicle/mod.ts";
import { META } from "../src/chronicle/format.ts";
import { waitFor } from "./_helpers.ts";
import {
  fixture,
  Lines,
  patch,
  payloadFor,
  payloadProblem,
  segmentLayout,
  sleep,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";
import { seededRandom } from "./_seeded_random.ts";

const SEGMENT_BYTES = 64 * 1024;
const BASE_NS = 1_700_000_000_000_000_000n;

/** A record as read, copied out of the reader's reused view. */
interface Seen {
  seq: number;
  typeId: number;
  timestampNs: bigint;
  payload: Uint8Array;
}

function copy(m: QueueMessage): Seen {
  return { seq: m.seq, typeId: m.typeId, timestampNs: m.timestampNs, payload: m.payload.slice() };
}

function readAll(r: QueueReader): Seen[] {
  const out: Seen[] = [];
  for (let m = r.next(); m !== undefined; m = r.next()) out.push(copy(m));
  return out;
}

/** Appends records with `payloadFor(seq)`, type 1 and timestamp `ts(seq)`, until `count` more. */
function fill(w: QueueWriter, count: number, ts = (seq: number) => BASE_NS + BigInt(seq)): void {
  for (let i = 0; i < count; i++) {
    const seq = w.lastSeq + 1;
    assert.equal(w.append(1, payloadFor(seq), ts(seq)), seq);
  }
}

/** Appends until the writer is in segment `index`. */
function fillToSegment(w: QueueWriter, index: number, ts?: (seq: number) => bigint): void {
  while (w.segmentIndex < index) fill(w, 1, ts);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function assertRecords(seen: Seen[], from: number, to: number): void {
  assert.deepEqual(
    seen.map((s) => s.seq),
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
  );
  for (const s of seen) assert.equal(payloadProblem(s.seq, s.payload), undefined);
}

function segmentFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".seg")).sort();
}

/** First seq written in a segment file's header (u64 at byte 16). */
function headerFirstSeq(dir: string, name: string): number {
  const bytes = Deno.readFileSync(`${dir}/${name}`);
  return Number(new DataView(bytes.buffer).getBigUint64(16, true));
}

Deno.test("append and next round-trip payload bytes, type ids and timestamps", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    const random = seededRandom(7);
    const written: Seen[] = [];
    const stamps: (bigint | number)[] = [
      1_700_000_000_123_456_789n,
      1_700_000_000_000_000_000n,
      12_345,
      0n,
      2n ** 64n - 1n,
      2 ** 32,
    ];
    for (let i = 0; i < 40; i++) {
      const payload = new Uint8Array(1 + Math.floor(random() * 300));
      for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(random() * 256);
      const typeId = [0, 1, 65535, 4242][i % 4]!;
      const stamp = stamps[i % stamps.length]!;
      const seq = w.append(typeId, payload, stamp);
      assert.equal(seq, i + 1);
      written.push({ seq, typeId, timestampNs: BigInt(stamp), payload: payload.slice() });
      // The writer copied the payload: changing the caller's buffer changes nothing.
      payload.fill(0xee);
    }
    assert.equal(w.lastSeq, 40);
    const r = await QueueReader.open(dir);
    assert.deepEqual(readAll(r), written);
    assert.equal(r.next(), undefined);
    r.close();
    w.close();
  });
});

Deno.test("a record without a timestamp is stamped with the wall clock now", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    const before = BigInt(Date.now() - 50) * 1_000_000n;
    for (let i = 0; i < 100; i++) w.append(1, payloadFor(i + 1));
    const after = BigInt(Date.now() + 50) * 1_000_000n;
    const r = await QueueReader.open(dir);
    const seen = readAll(r);
    assert.equal(seen.length, 100);
    let previous = 0n;
    for (const s of seen) {
      assert.ok(
        s.timestampNs >= before && s.timestampNs <= after,
        `seq ${s.seq} stamped ${s.timestampNs}, not in [${before}, ${after}]`,
      );
      assert.ok(s.timestampNs >= previous, `seq ${s.seq} stamped before the record ahead of it`);
      previous = s.timestampNs;
    }
    r.close();
    w.close();
  });
});

Deno.test("next returns one reused view of the mapped segment, valid until the next call", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 3);
    const r = await QueueReader.open(dir);
    const first = r.next()!;
    assert.equal(first.seq, 1);
    assert.equal(first.payloadLength, payloadFor(1).length);
    const payload = first.payload;
    assert.deepEqual(payload, payloadFor(1));
    // Zero-copy: the payload views the whole mapped segment, not a copy of the record.
    assert.equal(payload.buffer.byteLength, SEGMENT_BYTES);
    const second = r.next()!;
    assert.equal(second, first, "the same object is handed out again");
    assert.equal(first.seq, 2, "the earlier message now shows the next record");
    assert.deepEqual(first.payload, payloadFor(2));
    r.close();
    w.close();
  });
});

Deno.test("an empty payload or a bad type id is a RangeError and the queue goes on", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 2);
    // A header word of 0 means "nothing written yet", so a record carries at least one byte.
    assert.throws(() => w.append(5, new Uint8Array(0)), RangeError);
    for (const typeId of [-1, 65536, 1.5, Number.NaN]) {
      assert.throws(() => w.append(typeId, payloadFor(3)), RangeError, String(typeId));
    }
    assert.equal(w.lastSeq, 2);
    assert.equal(w.append(5, new Uint8Array([42])), 3);
    fill(w, 1);
    const r = await QueueReader.open(dir);
    const seen = readAll(r);
    assert.deepEqual(seen.map((s) => [s.seq, s.payload.length]), [[1, 2], [2, 3], [3, 1], [4, 5]]);
    assert.deepEqual(seen[2]!.payload, new Uint8Array([42]));
    r.close();
    w.close();
    // Nothing half-written was left behind: a reopened writer continues at 5.
    const again = await QueueWriter.open(dir);
    assert.equal(again.lastSeq, 4);
    again.close();
  });
});

Deno.test("a payload too big for a segment is a RangeError and the queue goes on", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 5);
    // 64 B segment header, 32 B kept for the last checksum frame and the
    // end marker, 24 B record header.
    const largest = SEGMENT_BYTES - 64 - 32 - 24;
    assert.throws(
      () => w.append(1, new Uint8Array(largest + 1)),
      (e: unknown) => e instanceof RangeError && e.message.includes(`'${dir}'`),
    );
    assert.throws(() => w.append(1, new Uint8Array(1 << 20)), RangeError);
    assert.equal(w.lastSeq, 5);
    const big = new Uint8Array(largest).map((_, i) => i & 255);
    assert.equal(w.append(9, big), 6);
    fill(w, 5);
    const r = await QueueReader.open(dir);
    const seen = readAll(r);
    assert.deepEqual(seen.map((s) => s.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(seen[5]!.payload, big);
    assert.equal(seen[5]!.typeId, 9);
    for (const s of seen) {
      if (s.seq !== 6) assert.equal(payloadProblem(s.seq, s.payload), undefined);
    }
    r.close();
    w.close();
  });
});

Deno.test("records roll over several segments with contiguous seqs", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, indexSpacing: 8 });
    const r = await QueueReader.open(dir);
    // A reader following along crosses each roll as it happens.
    const live: Seen[] = [];
    while (w.segmentIndex < 5) {
      fill(w, 37);
      live.push(...readAll(r));
    }
    assertRecords(live, 1, w.lastSeq);
    const names = segmentFiles(dir);
    assert.deepEqual(names, [0, 1, 2, 3, 4, 5].map((i) => `000000000${i}.seg`));
    // Each segment starts right after the one before ends.
    const firsts = names.map((n) => headerFirstSeq(dir, n));
    assert.equal(firsts[0], 1);
    for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i]! > firsts[i - 1]!);
    for (const n of names) assert.equal(Deno.statSync(`${dir}/${n}`).size, SEGMENT_BYTES);
    r.close();
    const fresh = await QueueReader.open(dir);
    const all = readAll(fresh);
    assertRecords(all, 1, w.lastSeq);
    // Segment boundaries as the files say are where the reader crossed them.
    for (const first of firsts) assert.equal(all[first - 1]!.seq, first);
    fresh.close();
    w.close();
  });
});

Deno.test("a reopened writer continues the seq with no gap", async () => {
  await withQueueDir(async (dir) => {
    let expected = 0;
    for (let round = 0; round < 4; round++) {
      const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
      assert.equal(w.lastSeq, expected);
      fill(w, 150 + round * 100);
      expected = w.lastSeq;
      w.close();
    }
    assert.ok(segmentFiles(dir).length >= 3);
    const r = await QueueReader.open(dir);
    assertRecords(readAll(r), 1, expected);
    r.close();
  });
});

Deno.test("start 'earliest' and 'latest'", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    const empty = await QueueReader.open(dir, { start: "latest" });
    assert.equal(empty.next(), undefined);
    fillToSegment(w, 2);
    fill(w, 10);
    const last = w.lastSeq;
    const earliest = await QueueReader.open(dir, { start: "earliest" });
    const latest = await QueueReader.open(dir, { start: "latest" });
    assert.equal(latest.nextSeq, last + 1);
    assert.equal(latest.next(), undefined);
    fill(w, 2);
    assertRecords(readAll(latest), last + 1, last + 2);
    assertRecords(readAll(earliest), 1, last + 2);
    // A reader opened on an empty queue sees the first records once written.
    assertRecords(readAll(empty), 1, last + 2);
    for (const r of [empty, earliest, latest]) r.close();
    w.close();
  });
});

Deno.test("start 'committed' resumes a named reader right after its commit", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 3);
    const last = w.lastSeq;
    // Nothing committed yet: from the earliest record (the default start of a named reader).
    const audit = await QueueReader.open(dir, { name: "audit" });
    assert.equal(audit.name, "audit");
    assert.equal(audit.next()?.seq, 1);
    // Commit in the middle of a later segment.
    while (audit.nextSeq <= 700) audit.next();
    audit.commit();
    audit.next();
    audit.next();
    audit.close();
    const other = await QueueReader.open(dir, { name: "other", start: "committed" });
    assert.equal(other.next()?.seq, 1, "each named reader has its own position");
    other.next();
    other.commit();
    other.close();
    const resumed = await QueueReader.open(dir, { name: "audit", start: "committed" });
    assert.equal(resumed.nextSeq, 701);
    assertRecords(readAll(resumed), 701, last);
    resumed.commit();
    resumed.close();
    // Committed everything: resumes at the end and sees only what comes next.
    const atEnd = await QueueReader.open(dir, { name: "audit" });
    assert.equal(atEnd.next(), undefined);
    fill(w, 1);
    assert.equal(atEnd.next()?.seq, last + 1);
    atEnd.close();
    const otherAgain = await QueueReader.open(dir, { name: "other" });
    assert.equal(otherAgain.next()?.seq, 3);
    otherAgain.close();
    w.close();
  });
});

Deno.test("start { seq } and { timestampNs } with bigint and number", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    // Timestamps 1000 ns apart, far beyond 2^53 as bigints.
    fillToSegment(w, 3, (seq) => BASE_NS + BigInt(seq) * 1000n);
    const last = w.lastSeq;
    const bySeq = await QueueReader.open(dir, { start: { seq: 500 } });
    assertRecords(readAll(bySeq), 500, last);
    bySeq.close();
    const byTime = await QueueReader.open(dir, { start: { timestampNs: BASE_NS + 300_500n } });
    assert.equal(byTime.next()?.seq, 301);
    byTime.close();
    const exact = await QueueReader.open(dir, { start: { timestampNs: BASE_NS + 300_000n } });
    assert.equal(exact.next()?.seq, 300);
    exact.close();
    // A number timestamp, exact as a double, before everything: the first record.
    const early = await QueueReader.open(dir, { start: { timestampNs: 1.6e18 } });
    assert.equal(early.next()?.seq, 1);
    early.close();
    // After everything: positioned at the end, sees the next record.
    const late = await QueueReader.open(dir, { start: { timestampNs: BASE_NS * 2n } });
    assert.equal(late.next(), undefined);
    fill(w, 1, () => BASE_NS * 3n);
    assert.equal(late.next()?.seq, last + 1);
    late.close();
    w.close();
  });
});

/** Timestamps that go back and forth: 0 to 999 µs after BASE_NS in a scrambled order. */
function scrambledTs(seq: number): bigint {
  return BASE_NS + BigInt((seq * 7919) % 1000) * 1000n;
}

/** The seq `seek({ timestampNs })` must land on: the first record stamped at or after `t`. */
function firstAtOrAfter(stamps: bigint[], t: bigint): number {
  const i = stamps.findIndex((s) => s >= t);
  return i === -1 ? stamps.length + 1 : i + 1;
}

Deno.test("seek by time finds the first record stamped at or after it, timestamps unordered", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, indexSpacing: 4 });
    fillToSegment(w, 4, scrambledTs);
    fill(w, 50, scrambledTs);
    const stamps = Array.from({ length: w.lastSeq }, (_, i) => scrambledTs(i + 1));
    const r = await QueueReader.open(dir);
    const targets = new Set<bigint>([BASE_NS - 1n, BASE_NS + 10_000_000n]);
    for (const s of stamps) for (const d of [-1n, 0n, 1n]) targets.add(s + d);
    for (const t of targets) {
      r.seek({ timestampNs: t });
      const expected = firstAtOrAfter(stamps, t);
      assert.equal(r.nextSeq, expected, `seek to ${t - BASE_NS} ns after base`);
      const m = r.next();
      if (expected > stamps.length) {
        assert.equal(m, undefined);
      } else {
        assert.equal(m?.seq, expected);
        assert.equal(m.timestampNs, stamps[expected - 1]);
      }
    }
    // A start position by time behaves the same.
    const t = stamps[700]! + 1n;
    const started = await QueueReader.open(dir, { start: { timestampNs: t } });
    assert.equal(started.next()?.seq, firstAtOrAfter(stamps, t));
    started.close();
    r.close();
    w.close();
  });
});

for (const spacing of [1, 8, 64]) {
  Deno.test(`seek reaches every seq of a multi-segment queue (index spacing ${spacing})`, async () => {
    await withQueueDir(async (dir) => {
      const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, indexSpacing: spacing });
      fillToSegment(w, 3);
      fill(w, 77);
      const last = w.lastSeq;
      const r = await QueueReader.open(dir);
      // Forwards, backwards and in a scrambled order.
      const order = Array.from({ length: last }, (_, i) => i + 1);
      const random = seededRandom(spacing);
      const scrambled = order.slice().sort(() => random() - 0.5);
      for (const seq of [...order, ...order.slice().reverse(), ...scrambled]) {
        r.seek({ seq });
        assert.equal(r.nextSeq, seq);
        const m = r.next();
        assert.equal(m?.seq, seq);
        assert.equal(payloadProblem(seq, m.payload), undefined);
        if (seq < last) assert.equal(r.next()?.seq, seq + 1);
      }
      // One past the last record is the end: nothing yet, then the next record.
      r.seek({ seq: last + 1 });
      assert.equal(r.next(), undefined);
      fill(w, 1);
      assert.equal(r.next()?.seq, last + 1);
      r.close();
      w.close();
    });
  });
}

Deno.test("seeking before the earliest record or past the end is a RangeError", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      retention: { maxSegments: 2 },
    });
    const r = await QueueReader.open(dir);
    // In an empty queue seq 1 is the end (where the first record will be), seq 2 is past it.
    r.seek({ seq: 1 });
    assert.throws(() => r.seek({ seq: 2 }), RangeError, "an empty queue has no seq 2");
    fillToSegment(w, 4);
    fill(w, 3);
    const earliest = headerFirstSeq(dir, segmentFiles(dir)[0]!);
    assert.ok(earliest > 1, "retention deleted the first segments");
    const last = w.lastSeq;
    assert.throws(
      () => r.seek({ seq: earliest - 1 }),
      (e: unknown) => e instanceof RangeError && e.message.includes(`the earliest is ${earliest}`),
    );
    assert.throws(() => r.seek({ seq: 1 }), RangeError);
    assert.throws(() => r.seek({ seq: last + 2 }), RangeError);
    assert.throws(() => r.seek({ seq: last + 1000 }), RangeError);
    await assert.rejects(QueueReader.open(dir, { start: { seq: earliest - 1 } }), RangeError);
    await assert.rejects(QueueReader.open(dir, { start: { seq: last + 2 } }), RangeError);
    // A failed seek leaves the reader where it was.
    r.seek({ seq: earliest + 1 });
    assert.throws(() => r.seek({ seq: last + 2 }), RangeError);
    assert.equal(r.nextSeq, earliest + 1);
    assert.equal(r.next()?.seq, earliest + 1);
    r.seek({ seq: earliest });
    assertRecords(readAll(r), earliest, last);
    r.close();
    w.close();
  });
});

for (const strategy of ["yield", "backoff", "futex"] as const) {
  Deno.test(`wait '${strategy}' wakes for a record appended by a timer in this process`, async () => {
    await withQueueDir(async (dir) => {
      const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
      const r = await QueueReader.open(dir, { start: "latest", waitStrategy: strategy });
      assert.equal(r.waitStrategy, strategy);
      assert.equal(await r.wait(20), false, "nothing to read yet");
      for (let round = 0; round < 3; round++) {
        const timer = setTimeout(() => fill(w, 1), 30);
        try {
          assert.equal(await r.wait(10_000), true);
        } finally {
          clearTimeout(timer);
        }
        assert.equal(r.next()?.seq, round + 1);
        assert.equal(r.next(), undefined);
      }
      // Across a segment roll too: the reader waits at the end of a full segment.
      fillToSegment(w, 1);
      assertRecords(readAll(r), 4, w.lastSeq);
      const from = w.lastSeq + 1;
      const timer = setTimeout(() => fillToSegment(w, 2), 30);
      try {
        assert.equal(await r.wait(10_000), true);
      } finally {
        clearTimeout(timer);
      }
      assertRecords(readAll(r), from, w.lastSeq);
      r.close();
      w.close();
    });
  });
}

Deno.test("wait times out with false under every strategy", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 2);
    const r = await QueueReader.open(dir);
    for (const strategy of ["busy", "yield", "backoff", "futex"] as const) {
      r.setWaitStrategy(strategy);
      fill(w, 1);
      assert.equal(await r.wait(0), true, "records are waiting");
      readAll(r);
      assert.equal(await r.wait(30), false, strategy);
      assert.equal(await r.wait(0), false, strategy);
    }
    r.close();
    w.close();
  });
});

Deno.test("a futex waiter deregisters whether woken or timed out", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    const r = await QueueReader.open(dir, { waitStrategy: "futex" });
    const waiters = () => {
      const bytes = Deno.readFileSync(`${dir}/queue.meta`);
      return new DataView(bytes.buffer).getInt32(META.waiters, true);
    };
    const pending = r.wait(10_000);
    await sleep(20);
    assert.equal(waiters(), 1, "the blocked reader is registered");
    fill(w, 1);
    assert.equal(await pending, true);
    assert.equal(waiters(), 0);
    readAll(r);
    assert.equal(await r.wait(20), false);
    assert.equal(waiters(), 0);
    r.close();
    w.close();
  });
});

for (const strategy of ["busy", "yield", "backoff", "futex"] as const) {
  Deno.test(`wait '${strategy}' wakes for records from a writer in another process`, async () => {
    await withQueueDir(async (dir) => {
      (await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES })).close();
      const r = await QueueReader.open(dir, { waitStrategy: strategy as WaitStrategy });
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          fixture("chronicle_writer_child.ts"),
          "append",
          dir,
          "300",
          "50",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      try {
        let seen = 0;
        while (seen < 300) {
          const m = r.next();
          if (m === undefined) {
            assert.equal(await r.wait(30_000), true, `no record after seq ${seen}`);
            continue;
          }
          assert.equal(m.seq, ++seen);
          assert.equal(m.typeId, seen);
          assert.equal(m.timestampNs, BigInt(seen) * 1000n + 7n);
          assert.equal(payloadProblem(seen, m.payload), undefined);
        }
      } finally {
        const out = await child.output();
        assert.equal(out.code, 0);
        assert.equal(new TextDecoder().decode(out.stdout).trim(), "last 300");
        r.close();
      }
    });
  });
}

function writerChild(mode: string, dir: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", fixture("chronicle_writer_child.ts"), mode, dir],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

Deno.test("a second writer in this process is refused, naming this pid", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 3);
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueLockedError && e.pid === Deno.pid && e.path === dir &&
        e.message === `Queue '${dir}' is already open for writing by pid ${Deno.pid}`,
    );
    // The refusal did not disturb the writer that holds the queue.
    fill(w, 1);
    assert.equal(w.lastSeq, 4);
    w.close();
  });
});

Deno.test("the writer lock works across processes and dies with its holder", async () => {
  await withQueueDir(async (dir) => {
    // A child holds the queue: this process is refused, naming the child.
    const holder = writerChild("hold", dir);
    const lines = new Lines(holder.stdout);
    try {
      assert.equal(await lines.next(), "ready");
      await assert.rejects(
        QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES }),
        (e: unknown) => e instanceof QueueLockedError && e.pid === holder.pid,
      );
      holder.kill("SIGKILL");
      assert.equal((await holder.status).signal, "SIGKILL");
    } finally {
      await lines.cancel();
      await holder.stdin.close().catch(() => {});
    }
    // The kernel dropped the dead holder's lock: no stale-lock wait.
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 1);
    // This process holds the queue: a child is refused, naming this process.
    const tried = writerChild("try", dir);
    await tried.stdin.close();
    const out = await tried.output();
    assert.equal(out.code, 0);
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(result.name, "QueueLockedError");
    assert.equal(result.pid, Deno.pid);
    assert.equal(result.path, dir);
    w.close();
    // Once closed, a child gets in.
    const after = writerChild("try", dir);
    await after.stdin.close();
    const opened = await after.output();
    assert.deepEqual(JSON.parse(new TextDecoder().decode(opened.stdout)), { opened: true });
  });
});

Deno.test("close lets the next writer in; a closed writer or reader refuses work", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 2);
    w.close();
    w.close(); // twice is fine
    assert.throws(() => w.append(1, payloadFor(3)), QueueClosedError);
    assert.throws(() => w.applyRetention(), QueueClosedError);
    const next = await QueueWriter.open(dir);
    assert.equal(next.lastSeq, 2);
    fill(next, 1);
    const r = await QueueReader.open(dir, { name: "n" });
    r.close();
    assert.throws(() => r.next(), QueueClosedError);
    assert.throws(() => r.commit(), QueueClosedError);
    assert.throws(() => r.seek({ seq: 1 }), QueueClosedError);
    await assert.rejects(r.wait(10), QueueClosedError);
    next.close();
  });
});

Deno.test("commit on an anonymous reader is a TypeError", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 1);
    const r = await QueueReader.open(dir);
    r.next();
    assert.throws(() => r.commit(), TypeError);
    assert.equal(r.name, undefined);
    assert.equal(Deno.readDirSync(dir).some((e) => e.name === "readers"), false);
    r.close();
    w.close();
  });
});

Deno.test("bad options are RangeErrors and TypeErrors and leave no queue behind", async () => {
  await withQueueDir(async (dir) => {
    const bad: [Record<string, unknown>, ErrorConstructor][] = [
      [{ segmentBytes: 1000 }, RangeError],
      [{ segmentBytes: 64 * 1024 + 0.5 }, RangeError],
      [{ segmentBytes: 2 ** 40 }, RangeError],
      [{ indexSpacing: 0 }, RangeError],
      [{ indexSpacing: 1.5 }, RangeError],
      [{ syncEveryRecords: 0 }, RangeError],
      [{ rollIntervalMs: 0 }, RangeError],
      [{ syncIntervalMs: -5 }, RangeError],
      [{ rollIntervalMs: Number.NaN }, RangeError],
      [{ durability: "fsync" }, TypeError],
    ];
    for (const [options, type] of bad) {
      await assert.rejects(QueueWriter.open(dir, options), type, JSON.stringify(options));
    }
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 1);
    const badReader: [Record<string, unknown>, ErrorConstructor][] = [
      [{ waitStrategy: "spin" }, TypeError],
      [{ start: "middle" }, TypeError],
      [{ start: { offset: 3 } }, TypeError],
      [{ start: { seq: 0 } }, RangeError],
      [{ start: { seq: 1.5 } }, RangeError],
      [{ start: { timestampNs: -1 } }, RangeError],
      [{ start: { timestampNs: "soon" } }, RangeError],
      [{ start: "committed" }, TypeError],
      [{ name: "../escape" }, TypeError],
      [{ name: "" }, TypeError],
    ];
    for (const [options, type] of badReader) {
      await assert.rejects(QueueReader.open(dir, options), type, JSON.stringify(options));
    }
    assert.equal(Deno.readDirSync(dir).some((e) => e.name === "readers"), false);
    const r = await QueueReader.open(dir);
    assert.throws(() => r.setWaitStrategy("sleep" as WaitStrategy), TypeError);
    assert.throws(() => r.seek({ seq: -1 }), RangeError);
    assert.equal(r.waitStrategy, "backoff");
    assert.equal(r.next()?.seq, 1);
    r.close();
    w.close();
  });
});

// What a writer killed at an awkward moment leaves behind, made by hand so
// each case is certain to be tested (the SIGKILL test hits them by chance).

const segName = (index: number) => `${String(index).padStart(10, "0")}.seg`;

/** Offset just after the last record of segment `index`, by walking its headers. */
function endOffset(dir: string, index: number): number {
  return segmentLayout(`${dir}/${segName(index)}`).end;
}

Deno.test("a record claimed but never published is invisible and wiped on reopen", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 1);
    fill(w, 20);
    const last = w.lastSeq;
    w.close();
    // A claim (NOT_COMPLETE and a length of 150) with a header and half a payload of junk.
    const offset = endOffset(dir, 1);
    const claim = new Uint8Array(24 + 150).fill(0x01);
    const view = new DataView(claim.buffer);
    view.setUint32(0, 0x8000_0000 | 150, true);
    view.setBigUint64(8, BigInt(last + 1), true);
    patch(`${dir}/${segName(1)}`, offset, claim.subarray(0, 24 + 75));
    const r = await QueueReader.open(dir);
    assertRecords(readAll(r), 1, last);
    assert.equal(r.next(), undefined, "a claim is not a record");
    const again = await QueueWriter.open(dir);
    assert.equal(again.lastSeq, last);
    // A short record where the claim was: the junk after it must be gone.
    assert.equal(again.append(1, new Uint8Array([7, 7, 7])), last + 1);
    assert.deepEqual(readAll(r).map((s) => [s.seq, [...s.payload]]), [[last + 1, [7, 7, 7]]]);
    assert.equal(r.next(), undefined);
    fill(again, 5);
    assert.deepEqual(readAll(r).map((s) => s.seq), range(last + 2, last + 6));
    r.close();
    again.close();
  });
});

Deno.test("a writer killed mid-roll: the next segment started, the old one never sealed", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 1);
    fill(w, 30);
    const last = w.lastSeq;
    w.close();
    // Segment 2 started (header written) at seq last + 1; segment 1 has no end marker.
    const header = new Uint8Array(SEGMENT_BYTES);
    const view = new DataView(header.buffer);
    header.set(new TextEncoder().encode("SPQSEG\0\0"), 0);
    view.setUint32(8, 1, true);
    view.setUint32(12, 2, true);
    view.setBigUint64(16, BigInt(last + 1), true);
    view.setBigUint64(24, BigInt(Date.now()) * 1_000_000n, true);
    view.setBigUint64(32, BigInt(SEGMENT_BYTES), true);
    Deno.writeFileSync(`${dir}/${segName(2)}`, header);
    const r = await QueueReader.open(dir);
    assertRecords(readAll(r), 1, last);
    const again = await QueueWriter.open(dir);
    assert.equal(again.lastSeq, last);
    assert.equal(again.segmentIndex, 2);
    fill(again, 3);
    // The reader waiting at the end of segment 1 crosses into segment 2.
    assertRecords(readAll(r), last + 1, last + 3);
    r.close();
    again.close();
  });
});

Deno.test("a writer killed while preparing the next segment: the empty file is dropped", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 1);
    fill(w, 30);
    const last = w.lastSeq;
    w.close();
    for (const leftover of [new Uint8Array(SEGMENT_BYTES), new Uint8Array(0)]) {
      // Preallocated but never started, or created but never preallocated.
      Deno.writeFileSync(`${dir}/${segName(2)}`, leftover);
      const r = await QueueReader.open(dir, { start: "latest" });
      assert.equal(r.nextSeq, w.lastSeq + 1);
      const again = await QueueWriter.open(dir);
      assert.equal(again.segmentIndex, 1);
      assert.equal(again.lastSeq, last);
      assert.deepEqual(segmentFiles(dir), [segName(0), segName(1)]);
      again.close();
      r.close();
    }
    const r = await QueueReader.open(dir);
    assertRecords(readAll(r), 1, last);
    r.close();
  });
});

Deno.test("a queue whose creation was cut short is created again by the next writer", async () => {
  await withQueueDir(async (dir) => {
    Deno.mkdirSync(dir);
    Deno.writeFileSync(`${dir}/queue.meta`, new Uint8Array(4096));
    await assert.rejects(
      QueueReader.open(dir),
      (e: unknown) => e instanceof QueueFormatError && e.message.includes("never finished"),
    );
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fill(w, 3);
    const r = await QueueReader.open(dir);
    assertRecords(readAll(r), 1, 3);
    r.close();
    w.close();
  });
});

Deno.test("rollIntervalMs rolls by time and durable writes sync; both keep every record", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, {
      segmentBytes: SEGMENT_BYTES,
      rollIntervalMs: 50,
      durability: "durable",
      syncEveryRecords: 7,
      syncIntervalMs: 20,
    });
    fill(w, 3);
    const r = await QueueReader.open(dir, { waitStrategy: "futex" });
    assertRecords(readAll(r), 1, 3);
    // An idle writer rolls on its own once the segment is old enough.
    await waitFor("a roll by time", () => w.segmentIndex >= 1 ? true : undefined);
    fill(w, 20);
    w.sync();
    assertRecords(readAll(r), 4, 23);
    w.close();
    assert.ok(segmentFiles(dir).length >= 2);
    const again = await QueueWriter.open(dir, { durability: "durable" });
    assert.equal(again.lastSeq, 23);
    again.close();
    r.close();
  });
});

/** Number of mappings in this process (read through `cat`: Deno grants /proc/self only with --allow-all). */
function mappingCount(): number {
  const out = new Deno.Command("cat", { args: [`/proc/${Deno.pid}/maps`] }).outputSync();
  assert.ok(out.success, "reading this process's memory map");
  return new TextDecoder().decode(out.stdout).trim().split("\n").length;
}

Deno.test("seeking to and fro across many segments unmaps what it leaves", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 19);
    fill(w, 50);
    const starts = range(0, 19).map((i) => headerFirstSeq(dir, segmentFiles(dir)[i]!));
    const r = await QueueReader.open(dir);
    const before = mappingCount();
    // Every seek lands in a segment the reader let go of a while ago, in a
    // loop that never yields to the event loop (where finalizers run).
    for (let i = 0; i < 3000; i++) {
      const seq = starts[(i * 7) % 20]! + (i % 50);
      r.seek({ seq });
      assert.equal(r.next()?.seq, seq);
    }
    const grown = mappingCount() - before;
    assert.ok(grown < 100, `the reader holds ${grown} more mappings after 3,000 seeks`);
    r.close();
    w.close();
  });
});

Deno.test("a payload kept past its segment being unmapped reads zeros instead of crashing", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    fillToSegment(w, 19);
    const starts = range(0, 19).map((i) => headerFirstSeq(dir, segmentFiles(dir)[i]!));
    const r = await QueueReader.open(dir);
    const kept = r.next()!.payload;
    assert.equal(payloadProblem(1, kept), undefined);
    // Visit every other segment: segment 0 falls out of the reader's maps.
    for (const seq of starts.slice(1)) {
      r.seek({ seq });
      assert.equal(r.next()?.seq, seq);
    }
    assert.ok(kept.every((b) => b === 0), "the view now shows anonymous zero pages");
    r.close();
    w.close();
  });
});

Deno.test("a queue created with firstSeq numbers its records from there, across segments and reopening", async () => {
  await withQueueDir(async (dir) => {
    let w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, firstSeq: 1000 });
    assert.equal(w.lastSeq, 999);
    assert.equal(w.append(1, payloadFor(1000)), 1000);
    w.close();
    // Ignored once the queue exists.
    w = await QueueWriter.open(dir, { firstSeq: 5 });
    assert.equal(w.lastSeq, 1000);
    fillToSegment(w, 2);
    const last = w.lastSeq;
    const r = await QueueReader.open(dir);
    assertRecords(readAll(r), 1000, last);
    r.seek({ seq: 1000 });
    assert.equal(r.next()?.seq, 1000);
    assert.throws(() => r.seek({ seq: 999 }), RangeError);
    r.close();
    w.close();
    await assert.rejects(QueueWriter.open(`${dir}-2`, { firstSeq: 0 }), RangeError);
  });
});

Deno.test("appendCopy copies type, timestamp and payload of every length, across rolls", async () => {
  await withQueueDir(async (dir) => {
    const live = await QueueWriter.open(`${dir}/live`, { segmentBytes: SEGMENT_BYTES });
    // 1 to 400 bytes: word-copied short payloads, bulk-copied long ones, and every tail length.
    for (let seq = 1; seq <= 400; seq++) {
      live.append(
        seq % 7,
        new Uint8Array(seq).map((_, i) => (seq * 31 + i) & 255),
        BigInt(seq) * 1000n + 1n,
      );
    }
    const archive = await QueueWriter.open(`${dir}/archive`, {
      segmentBytes: SEGMENT_BYTES,
      firstSeq: 1,
    });
    const reader = await QueueReader.open(`${dir}/live`);
    let copied = 0;
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      assert.equal(archive.appendCopy(m), m.seq);
      copied++;
    }
    // A message that is not a queue reader's view goes through append.
    const payload = new Uint8Array([1, 2, 3]);
    const own = {
      seq: 0,
      typeId: 9,
      timestampNs: 5n,
      payloadLength: 3,
      payload,
      data: new DataView(payload.buffer),
      payloadOffset: 0,
    };
    assert.equal(archive.appendCopy(own), 401);
    reader.close();
    assert.equal(copied, 400);
    assert.ok(archive.segmentIndex > 0, "the copy rolled to another segment");
    archive.close();
    live.close();

    const back = await QueueReader.open(`${dir}/archive`);
    try {
      for (let seq = 1; seq <= 400; seq++) {
        const m = back.next();
        assert.ok(m !== undefined, `record ${seq} is there`);
        assert.equal(m.seq, seq);
        assert.equal(m.typeId, seq % 7);
        assert.equal(m.timestampNs, BigInt(seq) * 1000n + 1n);
        assert.deepEqual([...m.payload], [
          ...new Uint8Array(seq).map((_, i) => (seq * 31 + i) & 255),
        ]);
      }
      const last = back.next();
      assert.ok(last !== undefined);
      assert.deepEqual([last.typeId, last.timestampNs, [...last.payload]], [9, 5n, [1, 2, 3]]);
      assert.equal(back.next(), undefined);
    } finally {
      back.close();
    }
  });
});

Deno.test("a number timestamp past 2^53 (or negative, or fractional) is refused; nothing is appended", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    for (const stamp of [1.7e18, 2 ** 53, -1, 1.5, NaN]) {
      assert.throws(
        () => w.append(1, payloadFor(1), stamp),
        (e: unknown) => e instanceof RangeError && /pass a bigint/.test(e.message),
      );
    }
    assert.equal(w.lastSeq, 0);
    assert.equal(w.append(1, payloadFor(1), 2 ** 53 - 1), 1);
    assert.equal(w.append(1, payloadFor(2), 1_700_000_000_000_000_001n), 2);
    w.close();
    const r = await QueueReader.open(dir);
    assert.equal(r.next()?.timestampNs, 2n ** 53n - 1n);
    assert.equal(r.next()?.timestampNs, 1_700_000_000_000_000_001n);
    r.close();
  });
});

Deno.test("readers, writers and streams close at the end of a using block", async () => {
  await withQueueDir(async (dir) => {
    {
      using w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
      w.append(1, payloadFor(1));
    }
    // The lock went with the writer: another opens at once.
    const again = await QueueWriter.open(dir);
    again.close();
    let kept: QueueReader;
    {
      using r = await QueueReader.open(dir);
      kept = r;
      assert.equal(r.next()?.seq, 1);
    }
    assert.throws(() => kept.next(), QueueClosedError);
    const { openStream } = await import("../src/stream/mod.ts");
    let stream: Awaited<ReturnType<typeof openStream>>;
    {
      using s = await openStream(dir);
      stream = s;
      assert.equal(s.next()?.seq, 1);
    }
    assert.throws(() => stream.next(), QueueClosedError);
  });
});
