/**
 * Tests of the chronicle's seek index: a missing, garbage or wrong `.idx`
 * file never makes a seek wrong, and a writer reopened over a damaged index
 * of its active segment continues correctly and leaves a sound index.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import {
  payloadFor,
  payloadProblem,
  segmentLayout,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";

const SEGMENT_BYTES = 64 * 1024;
const SPACING = 8;
const BASE_NS = 1_700_000_000_000_000_000n;
const INDEX_HEADER = 64;
const ENTRY = 24;

/** Timestamps that go back and forth. */
function ts(seq: number): bigint {
  return BASE_NS + BigInt((seq * 7919) % 1000) * 1000n;
}

function fill(w: QueueWriter, count: number): void {
  for (let i = 0; i < count; i++) {
    const seq = w.lastSeq + 1;
    assert.equal(w.append(1, payloadFor(seq), ts(seq)), seq);
  }
}

function fillToSegment(w: QueueWriter, index: number): void {
  while (w.segmentIndex < index) fill(w, 1);
}

const name = (index: number, suffix: string) => `${String(index).padStart(10, "0")}.${suffix}`;

/** A queue of four segments plus some records, written and closed; returns its last seq. */
async function makeQueue(dir: string): Promise<number> {
  const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, indexSpacing: SPACING });
  fillToSegment(w, 3);
  fill(w, 100);
  const last = w.lastSeq;
  w.close();
  return last;
}

/** Every seq by seek, and a spread of times, against what a plain scan says. */
async function assertSeeksCorrect(dir: string, last: number): Promise<void> {
  const r = await QueueReader.open(dir);
  for (let seq = 1; seq <= last; seq++) {
    r.seek({ seq });
    const m = r.next();
    assert.equal(m?.seq, seq, `seek to seq ${seq}`);
    assert.equal(payloadProblem(seq, m.payload), undefined);
  }
  const stamps = Array.from({ length: last }, (_, i) => ts(i + 1));
  for (let k = 0; k <= 1000; k += 7) {
    const t = BASE_NS + BigInt(k) * 1000n - 1n;
    const i = stamps.findIndex((s) => s >= t);
    r.seek({ timestampNs: t });
    assert.equal(r.nextSeq, i === -1 ? last + 1 : i + 1, `seek to time +${k} µs`);
  }
  // And reading straight through still works.
  r.seek({ seq: 1 });
  let expected = 1;
  for (let m = r.next(); m !== undefined; m = r.next()) assert.equal(m.seq, expected++);
  assert.equal(expected, last + 1);
  r.close();
}

/** Rewrites the entries of an index file with `change(entries)`, keeping its header. */
function rewriteEntries(path: string, change: (entries: DataView, count: number) => void): void {
  const bytes = Deno.readFileSync(path);
  const view = new DataView(bytes.buffer, INDEX_HEADER);
  let count = 0;
  while (
    (count + 1) * ENTRY <= view.byteLength && view.getBigUint64(count * ENTRY + 8, true) !== 0n
  ) {
    count++;
  }
  assert.ok(count > 2, `index '${path}' has entries to damage`);
  change(view, count);
  Deno.writeFileSync(path, bytes);
}

/** Checks an index file entry by entry against its segment: entry i is record firstSeq + i·spacing. */
function assertIndexSound(dir: string, index: number): void {
  const seg = Deno.readFileSync(`${dir}/${name(index, "seg")}`);
  const segView = new DataView(seg.buffer);
  const firstSeq = Number(segView.getBigUint64(16, true));
  const idx = Deno.readFileSync(`${dir}/${name(index, "idx")}`);
  const view = new DataView(idx.buffer);
  assert.equal(new TextDecoder().decode(idx.subarray(0, 8)), "SPQIDX\0\0");
  assert.equal(view.getUint32(12, true), index);
  assert.equal(view.getUint32(16, true), SPACING);
  // Walk the segment's records to know where each one is.
  const offsets = new Map<number, number>();
  for (const record of segmentLayout(`${dir}/${name(index, "seg")}`).records) {
    offsets.set(record.seq, record.offset);
  }
  let entries = 0;
  for (let i = 0; INDEX_HEADER + (i + 1) * ENTRY <= idx.length; i++) {
    const at = INDEX_HEADER + i * ENTRY;
    const offset = Number(view.getBigUint64(at + 8, true));
    if (offset === 0) break;
    const seq = Number(view.getBigUint64(at, true));
    assert.equal(seq, firstSeq + i * SPACING, `entry ${i} of index ${index}`);
    assert.equal(offset, offsets.get(seq), `entry ${i} of index ${index} points at seq ${seq}`);
    entries++;
  }
  assert.equal(entries, Math.ceil(offsets.size / SPACING), `index ${index} covers its records`);
}

Deno.test("a deleted index of a sealed segment is rebuilt: every seek still lands", async () => {
  await withQueueDir(async (dir) => {
    const last = await makeQueue(dir);
    for (const i of [0, 1, 2]) Deno.removeSync(`${dir}/${name(i, "idx")}`);
    await assertSeeksCorrect(dir, last);
  });
});

Deno.test("an index overwritten with garbage or cut short is ignored", async () => {
  await withQueueDir(async (dir) => {
    const last = await makeQueue(dir);
    let seed = 12345;
    for (const i of [0, 1, 2, 3]) {
      const path = `${dir}/${name(i, "idx")}`;
      const size = Deno.statSync(path).size;
      if (i === 2) {
        Deno.truncateSync(path, 100);
      } else {
        const garbage = new Uint8Array(size).map(() =>
          (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24
        );
        Deno.writeFileSync(path, garbage);
      }
    }
    await assertSeeksCorrect(dir, last);
  });
});

for (
  const [what, change] of [
    [
      "offsets off by 8",
      (v: DataView, n: number) => {
        for (let i = 0; i < n; i++) {
          v.setBigUint64(i * ENTRY + 8, v.getBigUint64(i * ENTRY + 8, true) + 8n, true);
        }
      },
    ],
    [
      "seqs that do not match their records",
      (v: DataView, n: number) => {
        for (let i = 0; i < n; i++) {
          v.setBigUint64(i * ENTRY, v.getBigUint64(i * ENTRY, true) + 3n, true);
        }
      },
    ],
    [
      "offsets past the end of the segment",
      (v: DataView, n: number) => {
        for (let i = 0; i < n; i++) v.setBigUint64(i * ENTRY + 8, BigInt(SEGMENT_BYTES - 8), true);
      },
    ],
    [
      "each entry replaced by the next one (valid records, wrong places)",
      (v: DataView, n: number) => {
        for (let i = 0; i < n - 1; i++) {
          for (let b = 0; b < ENTRY; b += 8) {
            v.setBigUint64(i * ENTRY + b, v.getBigUint64((i + 1) * ENTRY + b, true), true);
          }
        }
      },
    ],
    [
      "entries in reverse order",
      (v: DataView, n: number) => {
        const copy = new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + n * ENTRY));
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < ENTRY; b += 8) {
            v.setBigUint64(i * ENTRY + b, copy.getBigUint64((n - 1 - i) * ENTRY + b, true), true);
          }
        }
      },
    ],
  ] as const
) {
  Deno.test(`an index with ${what} never makes a seek wrong`, async () => {
    await withQueueDir(async (dir) => {
      const last = await makeQueue(dir);
      for (const i of [0, 1, 2, 3]) rewriteEntries(`${dir}/${name(i, "idx")}`, change);
      await assertSeeksCorrect(dir, last);
    });
  });
}

for (const damage of ["deleted", "garbage", "entries off by 8", "last entry wrong"] as const) {
  Deno.test(`a writer reopened over an active segment's index (${damage}) continues correctly`, async () => {
    await withQueueDir(async (dir) => {
      const before = await makeQueue(dir);
      const path = `${dir}/${name(3, "idx")}`;
      if (damage === "deleted") {
        Deno.removeSync(path);
      } else if (damage === "garbage") {
        Deno.writeFileSync(path, new Uint8Array(Deno.statSync(path).size).fill(0x5a));
      } else if (damage === "entries off by 8") {
        rewriteEntries(path, (v, n) => {
          for (let i = 0; i < n; i++) {
            v.setBigUint64(i * ENTRY + 8, v.getBigUint64(i * ENTRY + 8, true) + 8n, true);
          }
        });
      } else {
        rewriteEntries(path, (v, n) => v.setBigUint64((n - 1) * ENTRY, 5n, true));
      }
      const w = await QueueWriter.open(dir);
      assert.equal(w.lastSeq, before);
      assert.equal(w.segmentIndex, 3);
      fill(w, 50);
      assertIndexSound(dir, 3);
      fillToSegment(w, 4);
      fill(w, 10);
      const last = w.lastSeq;
      w.close();
      for (const i of [0, 1, 2, 3, 4]) assertIndexSound(dir, i);
      await assertSeeksCorrect(dir, last);
    });
  });
}
