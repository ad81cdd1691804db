/**
 * What the chronicle's damage detection costs (format 2): the CRC-32 of a
 * checksum block at several block sizes, and, on one real segment, the
 * reader's check-ahead (walking a block's headers and verifying its CRC)
 * beside the plain walk over the same records that a reader without
 * checksums would do. Both sides run in the same process, on the same
 * mapped bytes, in alternating order; every round is shown, first and
 * median beside best.
 *
 * Run: `deno task bench chronicle_checksum`. `SPOOL_BENCH_DIR` picks the
 * directory (default: the system temp dir).
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";
import { blockChecksum } from "../src/chronicle/block_checksum.ts";
import { Segment } from "../src/chronicle/segment.ts";

const ROUNDS = 7;
const SEGMENT_BYTES = 64 * 1024 * 1024;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function rounds(run: () => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) out.push(run());
  return out;
}

// CRC-32 of blocks of each size over 64 MiB of data, ns per block.
const data = new Uint8Array(SEGMENT_BYTES);
for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
const crcRows: Row[] = [];
for (const block of [4096, 16384, 65536]) {
  const times = rounds(() => {
    const t0 = performance.now();
    let x = 0;
    for (let at = 0; at + block <= data.length; at += block) {
      x ^= blockChecksum(data, at, at + block);
    }
    if (x === 0.5) console.log(x);
    return (performance.now() - t0) * 1e6 / (data.length / block);
  });
  const best = Math.min(...times);
  crcRows.push({
    "block": `${block / 1024} KiB`,
    "first ns/block": times[0]!,
    "median ns/block": median(times),
    "best ns/block": best,
    "GB/s (best)": block / best,
    "ns per 88 B record": best / (block / 88),
    "ns per 536 B record": best / (block / 536),
  });
}
printTable("CRC-32 (zlib's) of one checksum block", crcRows);

// The reader's check-ahead against a plain walk, on one full segment.
const base = Deno.env.get("SPOOL_BENCH_DIR") ?? Deno.env.get("TMPDIR") ?? "/tmp";
const rows: Row[] = [];
for (const size of [64, 512]) {
  const dir = Deno.makeTempDirSync({ dir: base, prefix: "spool-checksum-bench-" });
  try {
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    const payload = new Uint8Array(size).fill(7);
    while (w.segmentIndex === 0) w.append(1, payload, 1n);
    w.close();
    const segment = Segment.open(dir, 0, false);
    const first = segment.firstSeq;
    const records = segment.walk(64, first).records;
    const walk = () => {
      const t0 = performance.now();
      segment.walk(64, first);
      return (performance.now() - t0) * 1e6 / records;
    };
    const check = () => {
      const t0 = performance.now();
      let at = 64;
      let seq = first;
      for (;;) {
        const block = segment.checkBlock(at, seq, undefined);
        if (!block.verified || block.to === at + 8) break;
        at = block.to;
        seq = block.nextSeq;
      }
      return (performance.now() - t0) * 1e6 / records;
    };
    const walked: number[] = [];
    const checked: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        walked.push(walk());
        checked.push(check());
      } else {
        checked.push(check());
        walked.push(walk());
      }
    }
    rows.push({
      "payload": `${size} B`,
      "records": records,
      "plain walk ns/record (best)": Math.min(...walked),
      "check-ahead ns/record first": checked[0]!,
      "median": median(checked),
      "best": Math.min(...checked),
    });
    segment.file.release();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
printTable(
  "Reader check-ahead (header walk + CRC per 16 KiB block) on a full 64 MiB segment",
  rows,
);
