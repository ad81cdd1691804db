/**
 * A writer reopening a queue never issues a seq twice and never writes over
 * bytes it cannot account for; readers tell the end of the data from a tail
 * that was zeroed or torn, while the writer is alive too. After a machine
 * restart (a different boot id in `queue.meta`) a torn tail is cut back to
 * its last block whose checksum holds, as the durability profiles promise.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueDamageError, QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { META } from "../src/chronicle/format.ts";
import { QueueMeta } from "../src/chronicle/queue_meta.ts";
import {
  patch,
  payloadFor,
  readUntilError,
  segmentLayout,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";

const SEGMENT_BYTES = 256 * 1024;
const seg0 = (dir: string) => `${dir}/0000000000.seg`;

async function writeQueue(dir: string, count: number): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
  for (let seq = 1; seq <= count; seq++) w.append(1, payloadFor(seq));
  w.close();
}

Deno.test("a zeroed tail (the last records gone entirely): readers and the writer both see it", async () => {
  await withQueueDir(async (dir) => {
    await writeQueue(dir, 300);
    const layout = segmentLayout(seg0(dir));
    const cut = layout.records.find((r) => r.seq === 290)!.offset;
    patch(seg0(dir), cut, new Uint8Array(layout.end - cut));
    const r = await QueueReader.open(dir);
    const { seqs, error } = readUntilError(r);
    r.close();
    assert.ok(error instanceof QueueDamageError, String(error));
    assert.match(error.message, /writer published up to seq 300/);
    assert.ok(seqs.length < 290 && seqs.every((s, i) => s === i + 1));
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueDamageError && e.seq === 290 && e.offset === cut &&
        /published up to seq 300/.test(e.message),
    );
  });
});

Deno.test("non-zero bytes after the last record: the writer refuses and writes nothing over them", async () => {
  await withQueueDir(async (dir) => {
    await writeQueue(dir, 50);
    const end = segmentLayout(seg0(dir)).end;
    const stray = end + 4096;
    patch(seg0(dir), stray, new TextEncoder().encode("stray"));
    const before = Deno.readFileSync(seg0(dir));
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueDamageError && e.offset === end && e.seq === 51 &&
        e.message.includes(`non-zero bytes at offset ${stray}`),
    );
    assert.deepEqual(Deno.readFileSync(seg0(dir)), before);
  });
});

Deno.test("a record header zeroed under a live writer: a following reader reports it instead of waiting", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    for (let seq = 1; seq <= 10; seq++) w.append(1, payloadFor(seq));
    const r = await QueueReader.open(dir);
    assert.deepEqual(readUntilError(r).seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let seq = 11; seq <= 20; seq++) w.append(1, payloadFor(seq));
    const at = segmentLayout(seg0(dir)).records.find((x) => x.seq === 11)!.offset;
    patch(seg0(dir), at, new Uint8Array(4));
    assert.equal(await r.wait(1000), true, "damage is something to read, not a reason to wait");
    const { seqs, error } = readUntilError(r);
    assert.deepEqual(seqs, []);
    assert.ok(error instanceof QueueDamageError && error.seq === 11, String(error));
    r.close();
    w.close();
  });
});

Deno.test("a zeroed end marker and a zeroed segment header are damage, not the end", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: 65536 });
    let seq = 0;
    while (w.segmentIndex < 2) w.append(1, payloadFor(++seq));
    w.close();
    const marker = segmentLayout(seg0(dir)).endOffset!;
    patch(seg0(dir), marker, new Uint8Array(8));
    const r = await QueueReader.open(dir);
    const { error } = readUntilError(r);
    r.close();
    assert.ok(error instanceof QueueDamageError, String(error));
    assert.ok(error.message.includes(`end marker at offset ${marker} is zero`), error.message);

    const one = `${dir}/0000000001.seg`;
    const firstOfOne = segmentLayout(one).firstSeq;
    patch(seg0(dir), marker, new Uint8Array([0, 0, 0, 0x20]));
    patch(one, 0, new Uint8Array(8));
    const s = await QueueReader.open(dir);
    const read = readUntilError(s);
    s.close();
    assert.equal(read.seqs.length, firstOfOne - 1);
    assert.ok(
      read.error instanceof QueueDamageError && read.error.path === one &&
        read.error.seq === firstOfOne && /segment header is zero/.test(read.error.message),
      String(read.error),
    );
    await assert.rejects(QueueWriter.open(dir), QueueDamageError);
  });
});

Deno.test("after a machine restart a torn tail is cut back to the last verified block", async () => {
  await withQueueDir(async (dir) => {
    // A writer killed without closing leaves records after its last checksum frame.
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    for (let seq = 1; seq <= 400; seq++) w.append(1, payloadFor(seq));
    const layout = segmentLayout(seg0(dir));
    const lastFrame = layout.frames.at(-1)!;
    const torn = layout.records.at(-3)!;
    assert.ok(torn.offset > lastFrame.offset, "records follow the last frame");
    // Keep the pages as a crash would and let go of the lock without closing.
    const meta = Deno.readFileSync(`${dir}/queue.meta`);
    const segment = Deno.readFileSync(seg0(dir));
    w.close();
    // The torn tail: a record whose header made it to disk but not its body.
    segment.fill(0, torn.offset + 24, torn.offset + 40);
    segment.fill(0, layout.end);
    // Another boot id: the machine restarted since the queue was written.
    meta[META.bootId] = meta[META.bootId]! ^ 0xff;
    Deno.writeFileSync(`${dir}/queue.meta`, meta);
    Deno.writeFileSync(seg0(dir), segment);

    const again = await QueueWriter.open(dir);
    assert.equal(again.lastSeq, lastFrame.nextSeq - 1, "cut back to the last verified block");
    assert.equal(again.append(1, payloadFor(lastFrame.nextSeq)), lastFrame.nextSeq);
    again.close();
    const r = await QueueReader.open(dir);
    const { seqs, error } = readUntilError(r);
    r.close();
    assert.equal(error, undefined);
    assert.equal(seqs.length, lastFrame.nextSeq);
  });
});

Deno.test("the same torn tail without a restart is damage: the writer refuses", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    for (let seq = 1; seq <= 400; seq++) w.append(1, payloadFor(seq));
    w.close();
    const layout = segmentLayout(seg0(dir));
    const frame = layout.frames.at(-2)!;
    // A byte inside a closed block: its checksum no longer holds.
    const victim = layout.records.find((r) => r.offset > frame.blockStart + 100)!;
    patch(seg0(dir), victim.offset + 30, new Uint8Array([0xee]));
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueDamageError && e.offset === frame.blockStart &&
        /fails its checksum/.test(e.message),
    );
  });
});

/** A version 1 queue as spool 0.1 wrote it, built byte by byte from the version 1 layout. */
function writeVersion1Queue(dir: string, count: number): void {
  Deno.mkdirSync(dir, { recursive: true });
  const meta = new Uint8Array(4096);
  const mv = new DataView(meta.buffer);
  meta.set(new TextEncoder().encode("SPQMETA\0"), 0);
  mv.setUint32(8, 1, true);
  mv.setBigUint64(16, BigInt(SEGMENT_BYTES), true);
  mv.setUint32(24, 64, true);
  Deno.writeFileSync(`${dir}/queue.meta`, meta);
  const seg = new Uint8Array(SEGMENT_BYTES);
  const sv = new DataView(seg.buffer);
  seg.set(new TextEncoder().encode("SPQSEG\0\0"), 0);
  sv.setUint32(8, 1, true);
  sv.setBigUint64(16, 1n, true);
  sv.setBigUint64(32, BigInt(SEGMENT_BYTES), true);
  let at = 64;
  for (let seq = 1; seq <= count; seq++) {
    const payload = payloadFor(seq);
    sv.setUint32(at, payload.length, true);
    sv.setUint16(at + 4, 1, true);
    sv.setBigUint64(at + 8, BigInt(seq), true);
    sv.setBigUint64(at + 16, BigInt(seq), true);
    seg.set(payload, at + 24);
    at += (24 + payload.length + 7) & ~7;
  }
  Deno.writeFileSync(seg0(dir), seg);
}

Deno.test("a version 1 queue is read as it is, and a writer upgrades it and goes on", async () => {
  await withQueueDir(async (dir) => {
    writeVersion1Queue(dir, 500);
    const r = await QueueReader.open(dir);
    const first = readUntilError(r);
    r.close();
    assert.equal(first.error, undefined);
    assert.equal(first.seqs.length, 500);

    const w = await QueueWriter.open(dir);
    assert.equal(w.lastSeq, 500);
    let seq = 500;
    while (w.segmentIndex < 2) w.append(1, payloadFor(++seq));
    w.close();
    assert.equal(new DataView(Deno.readFileSync(`${dir}/queue.meta`).buffer).getUint32(8, true), 2);
    // The version 1 segment was continued without checksum frames; the new ones have them.
    assert.equal(segmentLayout(seg0(dir)).frames.length, 0);
    assert.ok(segmentLayout(`${dir}/0000000001.seg`).frames.length > 0);
    const again = await QueueReader.open(dir);
    const all = readUntilError(again);
    again.close();
    assert.equal(all.error, undefined);
    assert.equal(all.seqs.length, seq);
  });
});

// The reader loads the published seq between its look at the header word and
// its look at the seal: making the writer roll right there is the race.
function rollDuringReaderLook(roll: () => void): () => void {
  const getter = Object.getOwnPropertyDescriptor(QueueMeta.prototype, "publishedSeq")!;
  let pending: (() => void) | undefined = roll;
  Object.defineProperty(QueueMeta.prototype, "publishedSeq", {
    ...getter,
    get(this: QueueMeta) {
      const run = pending;
      pending = undefined;
      run?.();
      return getter.get!.call(this);
    },
  });
  return () => Object.defineProperty(QueueMeta.prototype, "publishedSeq", getter);
}

for (const emptyBlock of [false, true]) {
  Deno.test(`a roll between a caught-up reader's look and its check of the seal is not damage (${emptyBlock ? "the marker where it looked" : "a frame where it looked"})`, async () => {
    await withQueueDir(async (dir) => {
      const w = await QueueWriter.open(dir, { segmentBytes: 65536, prefault: false });
      for (let seq = 1; seq <= 10; seq++) w.append(1, payloadFor(seq));
      if (emptyBlock) w.sync(); // the block is closed: the marker goes where the reader waits
      const r = await QueueReader.open(dir);
      // Up to the end, without a look past it: the next look is the reader's first there.
      for (let seq = 1; seq <= 10; seq++) assert.equal(r.next()?.seq, seq);
      const restore = rollDuringReaderLook(() => w.append(1, new Uint8Array(65_400)));
      try {
        const { seqs, error } = readUntilError(r);
        assert.equal(error, undefined, String(error));
        assert.ok(w.segmentIndex === 1 && seqs.length <= 1, `segment ${w.segmentIndex}, ${seqs}`);
      } finally {
        restore();
        r.close();
        w.close();
      }
    });
  });
}

/** Copies of a queue's files as a crash would leave them, taken while its writer is open. */
function crashImage(dir: string): Map<string, Uint8Array> {
  const image = new Map<string, Uint8Array>();
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile) image.set(entry.name, Deno.readFileSync(`${dir}/${entry.name}`));
  }
  return image;
}

function restoreAfterRestart(dir: string, image: Map<string, Uint8Array>): void {
  const meta = image.get("queue.meta")!;
  meta[META.bootId] = meta[META.bootId]! ^ 0xff; // another boot
  for (const [name, bytes] of image) Deno.writeFileSync(`${dir}/${name}`, bytes);
}

Deno.test("after a restart a torn record whose seq never reached the disk is cut too", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    for (let seq = 1; seq <= 400; seq++) w.append(1, payloadFor(seq));
    const layout = segmentLayout(seg0(dir));
    const image = crashImage(dir);
    w.close();
    const torn = layout.records.at(-3)!;
    image.get("0000000000.seg")!.fill(0, torn.offset + 8, torn.offset + 16);
    restoreAfterRestart(dir, image);
    const again = await QueueWriter.open(dir);
    assert.equal(again.lastSeq, layout.frames.at(-1)!.nextSeq - 1);
    again.close();
  });
});

Deno.test("after a restart an unsealed segment before a written one is sealed, not refused", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: 65536 });
    let seq = 0;
    while (w.segmentIndex < 1) w.append(1, payloadFor(++seq));
    for (let i = 0; i < 20; i++) w.append(1, payloadFor(++seq));
    w.sync();
    const image = crashImage(dir);
    w.close();
    // Segment 0's header page, with its seal, never reached the disk.
    image.get("0000000000.seg")!.fill(0, 40, 56);
    restoreAfterRestart(dir, image);
    const again = await QueueWriter.open(dir);
    assert.equal(again.lastSeq, seq);
    again.close();
    const r = await QueueReader.open(dir);
    const { seqs, error } = readUntilError(r);
    r.close();
    assert.equal(error, undefined);
    assert.equal(seqs.length, seq);
  });
});

Deno.test("durable: after a restart a block that was synced and fails its checksum is damage, not a cut", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, durability: "durable" });
    for (let seq = 1; seq <= 400; seq++) w.append(1, payloadFor(seq));
    w.sync();
    const image = crashImage(dir);
    w.close();
    const layout = segmentLayout(seg0(dir));
    const victim = layout.records[10]!;
    const segment = image.get("0000000000.seg")!;
    segment[victim.offset + 30] = segment[victim.offset + 30]! ^ 0xff;
    restoreAfterRestart(dir, image);
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueDamageError && e.offset === 64 && /synced to disk/.test(e.message),
    );
  });
});

Deno.test("a writer killed while writing a segment's header leaves it prepared, not damaged", async () => {
  await withQueueDir(async (dir) => {
    await writeQueue(dir, 10);
    // Preallocated, version word stored, magic word not yet.
    const half = new Uint8Array(SEGMENT_BYTES);
    new DataView(half.buffer).setUint32(8, 2, true);
    Deno.writeFileSync(`${dir}/0000000001.seg`, half);
    const w = await QueueWriter.open(dir);
    assert.equal(w.lastSeq, 10);
    assert.equal(w.segmentIndex, 0);
    w.close();
  });
});

Deno.test("a claim word no writer stores is damage, and the writer wipes nothing", async () => {
  await withQueueDir(async (dir) => {
    await writeQueue(dir, 50);
    const end = segmentLayout(seg0(dir)).end;
    // A claim as long as the whole segment: wiping it would zero everything after.
    patch(seg0(dir), end, new Uint8Array([0xff, 0xff, 0xff, 0x9f]));
    const before = Deno.readFileSync(seg0(dir));
    await assert.rejects(
      QueueWriter.open(dir),
      (e: unknown) =>
        e instanceof QueueDamageError && e.offset === end && /no writer's claim/.test(e.message),
    );
    assert.deepEqual(Deno.readFileSync(seg0(dir)), before);
  });
});

Deno.test("a reader spinning at its end finds a header zeroed there within a thousand or so looks", async () => {
  await withQueueDir(async (dir) => {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    for (let seq = 1; seq <= 10; seq++) w.append(1, payloadFor(seq));
    const r = await QueueReader.open(dir);
    assert.equal(readUntilError(r).seqs.length, 10); // and one look at the end
    for (let seq = 11; seq <= 20; seq++) w.append(1, payloadFor(seq));
    const at = segmentLayout(seg0(dir)).records.find((x) => x.seq === 11)!.offset;
    patch(seg0(dir), at, new Uint8Array(4));
    let looks = 0;
    let error: unknown;
    for (; looks < 5000 && error === undefined; looks++) {
      try {
        assert.equal(r.next(), undefined);
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof QueueDamageError && error.seq === 11, String(error));
    assert.ok(looks <= 1025, `${looks} looks`);
    r.close();
    w.close();
  });
});
