/**
 * Issue 14's tamper requirements, proved through the real reader
 * (SealedStream over a file store, and a SQLite store where it is cheap):
 * every byte of a small store flipped, one at a time; segments and runs
 * reordered, duplicated, cut and spliced in from another store sealed to
 * the same recipient; and 100,000 mutated stores fed to the decoder. Each
 * must end with a sealed error, after exactly the records before the
 * damage, each as written, or with a clean read of a prefix of the store;
 * never another exception, a wrong record, a hang or unbounded memory.
 *
 * The fuzz drives the production decoder (StoreWalker, openRunHeader,
 * openSegment, FrameReader) directly on the calling thread, from memory:
 * SealedStream over a file costs milliseconds an input. Every 199th input
 * also goes through SealedStream from a file, and must end the same way.
 *
 * @module
 */

import assert from "node:assert/strict";
import { joinBytes, withTempDir } from "./_helpers.ts";
import { DatabaseSync } from "node:sqlite";
import type { StreamMessage } from "../src/stream/stream_message.ts";
import { generateIdentity, parseIdentity, parseRecipient } from "../src/sealed/age_keys.ts";
import { crc32c } from "../src/sealed/crc32c.ts";
import { openRunHeader, type RunHeader, type RunKeys } from "../src/sealed/run_header.ts";
import {
  type SealedDamage,
  SealedDamageError,
  SealedFormatError,
  SealedKeyError,
} from "../src/sealed/sealed_errors.ts";
import {
  FRAME_HEADER_BYTES,
  MAX_SEGMENT_PLAINTEXT,
  SEGMENT_HEADER_BYTES,
  SEGMENT_HEADER_SIGNED_BYTES,
} from "../src/sealed/sealed_format.ts";
import { openSealedSource } from "../src/sealed/sealed_sink.ts";
import { SealedStream } from "../src/sealed/sealed_stream.ts";
import { SealedWriter } from "../src/sealed/sealed_writer.ts";
import { openSegment, sealSegment } from "../src/sealed/segment_cipher.ts";
import { FrameReader } from "../src/sealed/segment_frames.ts";
import { decodeSegmentHeader, type SegmentHeader } from "../src/sealed/segment_header.ts";
import type { SealedLocation } from "../src/sealed/store_location.ts";
import { StoreLock } from "../src/sealed/store_lock.ts";
import { StoreWalker, type UnitSource } from "../src/sealed/store_scan.ts";
import { seededRandom } from "./_seeded_random.ts";

const keys = await generateIdentity();
const RECIPIENT = parseRecipient(keys.recipient, "tamper test");
const IDENTITY = parseIdentity(keys.identity, "tamper test");
const READER = { identities: [IDENTITY], identitySource: "tamper test identity", workers: 0 };

// Run 0 holds a metadata frame and seqs 1..7 and ends with a FINAL segment
// holding records; run 1 holds seqs 8..13 and ends with an empty FINAL one.
const RUN0_LAST = 7;
const LAST_SEQ = 13;
// About two records a segment, so each run has several segments.
const SEGMENT_BYTES = 80;
// A read of this small store takes milliseconds: one that has not ended
// after this long hangs.
const READ_DEADLINE_MS = 15_000;
const FUZZ_INPUTS = 100_000;
const DAMAGE: SealedDamage[] = [
  "torn",
  "checksum",
  "authentication",
  "order",
  "unfinished",
  "header",
];

// Every field of a record is a function of its seq, so a wrong one shows.
function record(seq: number): StreamMessage {
  const payload = new Uint8Array(6 + (seq * 5) % 11);
  for (let i = 0; i < payload.length; i++) payload[i] = (seq * 31 + i * 7) & 0xff;
  return {
    seq,
    // Negative for the first seqs: the sign of an i64 survives too.
    timestampNs: BigInt(seq) * 1_000_000_007n - 5_000_000_000n,
    typeId: (seq * 4099) % 65536,
    payload,
  };
}

function isOriginal(m: StreamMessage): boolean {
  if (!Number.isSafeInteger(m.seq) || m.seq < 1 || m.seq > LAST_SEQ) return false;
  const r = record(m.seq);
  return m.timestampNs === r.timestampNs && m.typeId === r.typeId &&
    m.payload.length === r.payload.length && m.payload.every((b, i) => b === r.payload[i]);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("sealed_tamper_test_", fn);

/** Writes the two runs with the real writer. */
async function buildStore(loc: SealedLocation): Promise<void> {
  const options = {
    recipients: [RECIPIENT],
    stream: "tamper",
    producer: "sealed_tamper_test",
    segmentBytes: SEGMENT_BYTES,
    flushMs: 0,
    workers: 0,
  };
  const first = await SealedWriter.open(loc, options);
  first.appendMetadata({ source: "sealed_tamper_test" });
  for (let seq = 1; seq <= RUN0_LAST; seq++) first.append(record(seq));
  await first.close();
  const second = await SealedWriter.open(loc, options);
  for (let seq = RUN0_LAST + 1; seq <= LAST_SEQ; seq++) second.append(record(seq));
  await second.flush();
  await second.close();
}

/** A unit of a pristine store: where it is, its bytes, and the seqs it holds. */
interface Unit {
  // Byte offset in a file store; ordinal in a SQLite store.
  offset: number;
  bytes: Uint8Array;
  run: number;
  // -1 for a run header.
  index: number;
  final: boolean;
  seqs: number[];
  header: RunHeader | undefined;
}

async function unitsOf(loc: SealedLocation): Promise<Unit[]> {
  const source = await openSealedSource(loc);
  try {
    const units: Unit[] = [];
    for (let u = source.walker.next(); u !== undefined; u = source.walker.next()) {
      units.push(
        u.kind === "run"
          ? {
            offset: u.offset,
            bytes: u.header.bytes,
            run: u.header.run,
            index: -1,
            final: false,
            seqs: [],
            header: u.header,
          }
          : {
            offset: u.offset,
            bytes: u.unit.slice(),
            run: u.run,
            index: u.header.index,
            final: u.header.final,
            seqs: u.header.dataFrames === 0 ? [] : range(u.header.firstSeq, u.header.lastSeq),
            header: undefined,
          },
      );
    }
    assert.equal(source.walker.endDamage(), undefined);
    return units;
  } finally {
    source.close();
  }
}

function seqsOf(units: Unit[]): number[] {
  return units.flatMap((u) => u.seqs);
}

/** What a read delivered, and how it ended. */
interface Outcome {
  seqs: number[];
  // Seqs delivered with a field unlike the original record's.
  wrong: number[];
  error: unknown;
}

/** Reads the whole store through SealedStream, failing the test if the read does not end. */
async function readThrough(loc: SealedLocation, what: string): Promise<Outcome> {
  const got: Outcome = { seqs: [], wrong: [], error: undefined };
  const read = async () => {
    let stream: SealedStream | undefined;
    try {
      stream = await SealedStream.open(loc, READER);
      for await (const m of stream) {
        if (!isOriginal(m)) got.wrong.push(m.seq);
        got.seqs.push(m.seq);
      }
    } catch (error) {
      got.error = error;
    } finally {
      stream?.close();
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: the read has not ended after ${READ_DEADLINE_MS} ms`)),
      READ_DEADLINE_MS,
    );
  });
  try {
    await Promise.race([read(), hang]);
  } finally {
    clearTimeout(timer);
  }
  return got;
}

/** How a read ended, by error kind and damage reason; any other exception fails the test. */
function outcomeName(error: unknown, what: string): string {
  if (error === undefined) return "clean";
  if (error instanceof SealedDamageError) return `damage ${error.reason}`;
  if (error instanceof SealedFormatError) return "format";
  if (error instanceof SealedKeyError) return "key";
  const shown = error instanceof Error ? error.stack : String(error);
  assert.fail(`${what}: ended with an error that is not a sealed one: ${shown}`);
}

/**
 * Checks that a read ended with a sealed error at `offset` (the damaged
 * unit), after exactly `seqs`, each as written; returns the outcome's name.
 */
function assertDetected(
  got: Outcome,
  expected: { seqs: number[]; offset: number },
  what: string,
): string {
  const name = outcomeName(got.error, what);
  assert.notEqual(name, "clean", `${what}: read cleanly`);
  assert.deepEqual(got.wrong, [], `${what}: delivered wrong records`);
  assert.deepEqual(got.seqs, expected.seqs, `${what}: not the records before the damage`);
  const e = got.error as Error;
  assert.ok(!e.message.includes("\n"), `${what}: a message of several lines: ${e.message}`);
  if (e instanceof SealedDamageError || e instanceof SealedFormatError) {
    assert.equal(e.offset, expected.offset, `${what}: ${e.message}`);
  }
  if (e instanceof SealedDamageError) {
    assert.equal(e.seq, expected.seqs.at(-1) ?? 0, `${what}: ${e.message}`);
  }
  return name;
}

function tally(counts: Map<string, number>, name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

/** Checks that each of `names` was an outcome at least once: each way of detecting damage is exercised. */
function assertSeen(counts: Map<string, number>, names: string[]): void {
  for (const name of names) {
    assert.ok(counts.has(name), `no flip ended as '${name}': ${JSON.stringify([...counts])}`);
  }
}

/** Builds the store at `loc` and checks it is the small two-run store the tests expect. */
async function pristine(loc: SealedLocation): Promise<Unit[]> {
  await buildStore(loc);
  const units = await unitsOf(loc);
  const runs = units.filter((u) => u.index === -1);
  assert.equal(runs.length, 2);
  for (const run of [0, 1]) {
    const segments = units.filter((u) => u.run === run && u.index >= 0);
    assert.ok(segments.length >= 3, `run ${run} has ${segments.length} segments`);
    assert.ok(segments.at(-1)!.final);
  }
  assert.ok(units.some((u) => u.final && u.seqs.length === 0), "no empty final segment");
  assert.deepEqual(seqsOf(units), range(1, LAST_SEQ));
  const got = await readThrough(loc, "pristine store");
  assert.deepEqual(got, { seqs: range(1, LAST_SEQ), wrong: [], error: undefined });
  return units;
}

/** The position in `units` of the unit holding byte `at` of a file store. */
function unitHolding(units: Unit[], at: number): number {
  return units.findLastIndex((u) => u.offset <= at);
}

function write(file: Deno.FsFile, at: number, bytes: Uint8Array): void {
  file.seekSync(at, Deno.SeekMode.Start);
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

/**
 * The unit's bytes with byte `at` XORed with `mask`; with `recrc`, its
 * CRC computed again, as anyone can, so only the AEAD stands in the way.
 */
function flipped(unit: Unit, at: number, mask: number, recrc: boolean): Uint8Array {
  const bytes = unit.bytes.slice();
  bytes[at] = bytes[at]! ^ mask;
  if (recrc) fixCrc(bytes, 0);
  return bytes;
}

// Bytes 52..56 of a segment hold its CRC.
function isCrc(unit: Unit, at: number): boolean {
  return unit.index >= 0 && at >= SEGMENT_HEADER_SIGNED_BYTES && at < SEGMENT_HEADER_BYTES;
}

Deno.test("every byte of a file store, flipped one at a time, is detected and never yields a wrong record", async () => {
  await withDir(async (dir) => {
    const loc = { kind: "file", dir: `${dir}/store` } as const;
    const units = await pristine(loc);
    const path = `${dir}/store/stream.sealed`;
    const size = (await Deno.stat(path)).size;
    assert.ok(size >= 1024 && size <= 2048, `${size} bytes`);
    using file = await Deno.open(path, { write: true });
    const passes = [
      { name: "XOR 1", mask: 0x01, recrc: false },
      { name: "XOR 255", mask: 0xff, recrc: false },
      // Every byte of every segment but its CRC, the CRC then made to match.
      { name: "XOR 1, CRC fixed", mask: 0x01, recrc: true },
    ];
    for (const pass of passes) {
      const counts = new Map<string, number>();
      for (const [k, unit] of units.entries()) {
        if (pass.recrc && unit.index === -1) continue;
        for (let at = 0; at < unit.bytes.length; at++) {
          if (pass.recrc && isCrc(unit, at)) continue;
          const what = `byte ${unit.offset + at} ${pass.name}`;
          write(file, unit.offset, flipped(unit, at, pass.mask, pass.recrc));
          const got = await readThrough(loc, what);
          write(file, unit.offset, unit.bytes);
          const before = { seqs: seqsOf(units.slice(0, k)), offset: unit.offset };
          tally(counts, assertDetected(got, before, what));
        }
      }
      if (pass.recrc) {
        // A segment changed anywhere, its CRC fixed, does not open, or its
        // header is out of range or out of place.
        assert.deepEqual(
          [...counts.keys()].sort(),
          ["damage authentication", "damage header", "damage order"],
        );
      } else {
        assert.equal([...counts.values()].reduce((a, b) => a + b), size);
        // A flipped version is a format error, a stanza one no identity
        // opens, a run header field its MAC, a segment its CRC (the last
        // unit's too: a whole unit is never a torn tail unless it ends in
        // zeros), a length its structure, and a run number the chain.
        assertSeen(counts, [
          "format",
          "key",
          "damage authentication",
          "damage checksum",
          "damage header",
          "damage order",
        ]);
        assert.equal(counts.get("damage torn"), undefined, "no flip reads as a torn tail");
      }
    }
    assert.deepEqual(await readThrough(loc, "restored store"), {
      seqs: range(1, LAST_SEQ),
      wrong: [],
      error: undefined,
    });
  });
});

// X25519 points of low order, little-endian: u = 0, 1, the two points of
// order 8, p - 1, and p and p + 1 unreduced; each also with the top bit
// set, which X25519 ignores.
const LOW_ORDER_POINTS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].flatMap((hex) => {
  const point = Uint8Array.from(hex.match(/../g)!, (byte) => parseInt(byte, 16));
  const high = point.slice();
  high[31] = high[31]! | 0x80;
  return [point, high];
});

Deno.test("a stanza whose share is a low-order point is a key error, never a crash", async () => {
  await withDir(async (dir) => {
    const loc = { kind: "file", dir: `${dir}/store` } as const;
    const units = await pristine(loc);
    const original = joinBytes(units.map((u) => u.bytes));
    for (const [k, unit] of units.entries()) {
      if (unit.header === undefined) continue;
      const v = new DataView(unit.bytes.buffer, unit.bytes.byteOffset);
      const producer = v.getUint16(96, true);
      const stream = v.getUint16(98 + producer, true);
      // The share follows the two texts, the stanza count and the stanza's type.
      const share = unit.offset + 100 + producer + stream + 1 + 1;
      for (const [i, point] of LOW_ORDER_POINTS.entries()) {
        const store = original.slice();
        store.set(point, share);
        await Deno.writeFile(`${loc.dir}/stream.sealed`, store);
        const what = `low-order point ${i} in run ${unit.run}`;
        const got = await readThrough(loc, what);
        const name = assertDetected(
          got,
          { seqs: seqsOf(units.slice(0, k)), offset: unit.offset },
          what,
        );
        assert.equal(name, "key", what);
      }
    }
  });
});

/** Opens the SQLite store for changing its rows; the reader opens it on its own. */
function openRows(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  db.exec("PRAGMA synchronous = OFF");
  return db;
}

function setUnit(db: DatabaseSync, run: number, index: number, bytes: Uint8Array): void {
  const changed = db.prepare("UPDATE spool_sealed_units SET unit = ? WHERE run = ? AND idx = ?")
    .run(bytes, run, index);
  assert.equal(Number(changed.changes), 1);
}

Deno.test("every byte of a SQLite store's units, flipped one at a time, is detected", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/store.db`;
    const loc = { kind: "sqlite", file, stream: undefined } as const;
    const units = await pristine(loc);
    const db = openRows(file);
    const counts = new Map<string, number>();
    const lastWire = new Set<string>();
    try {
      for (const [k, unit] of units.entries()) {
        for (let at = 0; at < unit.bytes.length; at++) {
          const flipped = unit.bytes.slice();
          flipped[at] = flipped[at]! ^ 0x01;
          setUnit(db, unit.run, unit.index, flipped);
          const what = `byte ${at} of unit ${k} (run ${unit.run}, index ${unit.index})`;
          const got = await readThrough(loc, what);
          setUnit(db, unit.run, unit.index, unit.bytes);
          const name = assertDetected(got, { seqs: seqsOf(units.slice(0, k)), offset: k }, what);
          tally(counts, name);
          if (k === units.length - 1 && at >= SEGMENT_HEADER_BYTES) lastWire.add(name);
        }
      }
    } finally {
      db.close();
    }
    const total = units.reduce((n, u) => n + u.bytes.length, 0);
    assert.equal([...counts.values()].reduce((a, b) => a + b), total);
    // Rows are whole: a bad CRC is damage even in the last row, never a torn tail.
    assert.deepEqual([...lastWire], ["damage checksum"]);
    assertSeen(counts, ["key", "damage authentication", "damage checksum", "damage header"]);
  });
});

/** A store made of units, and where and how its read must stop. */
interface Case {
  name: string;
  units: Unit[];
  // Position in `units` of the first unit the reader must refuse.
  stopsAt: number;
  reason: SealedDamage;
}

Deno.test("segments and runs reordered, duplicated or spliced in from another store are detected", async () => {
  await withDir(async (dir) => {
    const a = await pristine({ kind: "file", dir: `${dir}/a` });
    // Store B: the same records, sealed to the same recipient, in runs of its own.
    const b = await pristine({ kind: "file", dir: `${dir}/b` });
    const [run0, run1] = [0, 1].map((run) => a.filter((u) => u.run === run)) as [Unit[], Unit[]];
    const [bRun0, bRun1] = [0, 1].map((run) => b.filter((u) => u.run === run)) as [Unit[], Unit[]];
    const [h0, s0, s1, s2] = run0 as [Unit, Unit, Unit, Unit];
    const [h1, t0, t1] = run1 as [Unit, Unit, Unit];
    const final0 = run0.at(-1)!;
    const n0 = run0.length;
    const cases: Case[] = [
      // Reordered.
      {
        name: "segments 1 and 2 of run 0 swapped",
        units: [h0, s0, s2, s1, ...run0.slice(4), ...run1],
        stopsAt: 2,
        reason: "order",
      },
      {
        name: "run 0's final segment before its segment 1",
        units: [h0, s0, final0, ...run0.slice(2, -1), ...run1],
        stopsAt: 2,
        reason: "order",
      },
      // Same index and seqs that fit: only the header hash in the AEAD's data tells.
      {
        name: "segment 0 of run 1 in place of segment 0 of run 0",
        units: [h0, t0, ...run0.slice(2), ...run1],
        stopsAt: 1,
        reason: "authentication",
      },
      { name: "the runs swapped", units: [...run1, ...run0], stopsAt: 0, reason: "order" },
      // Duplicated.
      {
        name: "segment 1 of run 0 twice",
        units: [h0, s0, s1, s1, ...run0.slice(3), ...run1],
        stopsAt: 3,
        reason: "order",
      },
      {
        name: "run 0's final segment twice",
        units: [...run0, final0, ...run1],
        stopsAt: n0,
        reason: "order",
      },
      {
        name: "run 1's header twice",
        units: [...run0, h1, ...run1],
        stopsAt: n0 + 1,
        reason: "order",
      },
      { name: "run 1 twice", units: [...a, ...run1], stopsAt: a.length, reason: "order" },
      { name: "the whole store twice", units: [...a, ...a], stopsAt: a.length, reason: "order" },
      // Spliced in from store B.
      {
        name: "B's segment 1 of run 0 in place of A's",
        units: [h0, s0, bRun0[2]!, ...run0.slice(3), ...run1],
        stopsAt: 2,
        reason: "authentication",
      },
      {
        name: "B's segment 2 of run 1 inserted after A's segment 1",
        units: [...run0, h1, t0, t1, bRun1[3]!, ...run1.slice(3)],
        stopsAt: n0 + 3,
        reason: "authentication",
      },
      {
        name: "B's segment 2 of run 1 in place of A's",
        units: [...run0, h1, t0, t1, bRun1[3]!, ...run1.slice(4)],
        stopsAt: n0 + 3,
        reason: "authentication",
      },
      {
        name: "B's final segment after A's",
        units: [...a, bRun1.at(-1)!],
        stopsAt: a.length,
        reason: "order",
      },
      {
        name: "B's run 1 in place of A's",
        units: [...run0, ...bRun1],
        stopsAt: n0,
        reason: "order",
      },
      {
        name: "B's run 1 between A's runs",
        units: [...run0, ...bRun1, ...run1],
        stopsAt: n0,
        reason: "order",
      },
      { name: "B's run 1 after A's", units: [...a, ...bRun1], stopsAt: a.length, reason: "order" },
      { name: "B's run 0 after A's", units: [...a, ...bRun0], stopsAt: a.length, reason: "order" },
      { name: "B's store after A's", units: [...a, ...b], stopsAt: a.length, reason: "order" },
      // B's run 0 opens (anyone holding a recipient can write a run 0, as
      // the spec's security considerations say) and holds the same
      // records; the chain still refuses A's run 1 after it.
      {
        name: "B's run 0 in place of A's",
        units: [...bRun0, ...run1],
        stopsAt: n0,
        reason: "order",
      },
    ];
    const loc = { kind: "file", dir: `${dir}/c` } as const;
    await Deno.mkdir(loc.dir);
    for (const c of cases) {
      await Deno.writeFile(`${loc.dir}/stream.sealed`, joinBytes(c.units.map((u) => u.bytes)));
      const got = await readThrough(loc, c.name);
      const before = c.units.slice(0, c.stopsAt);
      const offset = before.reduce((n, u) => n + u.bytes.length, 0);
      assert.equal(
        assertDetected(got, { seqs: seqsOf(before), offset }, c.name),
        `damage ${c.reason}`,
        c.name,
      );
    }
  });
});

Deno.test("a file store cut at every byte reads every whole segment before the cut, then says it is torn or unfinished", async () => {
  await withDir(async (dir) => {
    const loc = { kind: "file", dir: `${dir}/store` } as const;
    const units = await pristine(loc);
    const path = `${dir}/store/stream.sealed`;
    const size = (await Deno.stat(path)).size;
    // The ends a cut cannot be told from: an empty store, and a store
    // ending with a FINAL segment (the spec's security considerations).
    const cleanAt = new Set([
      0,
      ...units.filter((u) => u.final).map((u) => u.offset + u.bytes.length),
    ]);
    const counts = new Map<string, number>();
    // Every boundary and a cut inside each unit, for the second pass.
    const sampled: number[] = [];
    using file = await Deno.open(path, { write: true });
    // From the end down, so each cut is one truncation.
    for (let cut = size; cut >= 0; cut--) {
      file.truncateSync(cut);
      const what = `cut at ${cut}`;
      const whole = units.filter((u) => u.offset + u.bytes.length <= cut);
      const got = await readThrough(loc, what);
      if (cleanAt.has(cut)) {
        assert.deepEqual(got, { seqs: seqsOf(whole), wrong: [], error: undefined }, what);
        tally(counts, "clean");
        continue;
      }
      const boundary = units.some((u) => u.offset === cut);
      const torn = !boundary;
      const name = assertDetected(got, {
        seqs: seqsOf(whole),
        offset: torn ? units[unitHolding(units, cut)]!.offset : cut,
      }, what);
      assert.equal(name, torn ? "damage torn" : "damage unfinished", what);
      tally(counts, name);
      if (boundary || cut === units[unitHolding(units, cut)]!.offset + 20) sampled.push(cut);
    }
    assert.equal(counts.get("clean"), 3);
    assert.equal(counts.get("damage unfinished"), units.length - 2);

    // While a writer holds the store, the same cuts are work in progress:
    // a clean end after the same records.
    const bytes = joinBytes(units.map((u) => u.bytes));
    const lock = StoreLock.acquire(`${dir}/store/writer.lock`);
    try {
      for (const cut of sampled) {
        await Deno.writeFile(path, bytes.subarray(0, cut));
        const whole = units.filter((u) => u.offset + u.bytes.length <= cut);
        const got = await readThrough(loc, `cut at ${cut}, writer holding the store`);
        assert.deepEqual(
          got,
          { seqs: seqsOf(whole), wrong: [], error: undefined },
          `cut at ${cut}`,
        );
      }
    } finally {
      lock.release();
    }
  });
});

/** Puts the rows of `units` back as the writer left them. */
function restoreRows(db: DatabaseSync, units: Unit[]): void {
  db.exec("DELETE FROM spool_sealed_units");
  const insert = db.prepare(
    "INSERT INTO spool_sealed_units (stream, run, idx, unit) VALUES ('default', ?, ?, ?)",
  );
  for (const u of units) insert.run(u.run, u.index, u.bytes);
}

Deno.test("a SQLite store's rows reordered, duplicated, spliced or cut off are detected", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/a.db`;
    const loc = { kind: "sqlite", file, stream: undefined } as const;
    const a = await pristine(loc);
    const b = await pristine({ kind: "file", dir: `${dir}/b` });
    const n0 = a.filter((u) => u.run === 0).length;
    const [, s0, s1, s2] = a as [Unit, Unit, Unit, Unit];
    const t0 = a[n0 + 1]!;
    const cases: {
      name: string;
      change: (db: DatabaseSync) => void;
      stopsAt: number;
      reason: SealedDamage;
    }[] = [
      {
        name: "segments 1 and 2 of run 0 swapped",
        change: (db) => {
          setUnit(db, 0, 1, s2.bytes);
          setUnit(db, 0, 2, s1.bytes);
        },
        stopsAt: 2,
        reason: "order",
      },
      {
        name: "segment 1 of run 0 in the row of segment 2",
        change: (db) => setUnit(db, 0, 2, s1.bytes),
        stopsAt: 3,
        reason: "order",
      },
      {
        name: "segment 0 of run 1 in the row of segment 0 of run 0",
        change: (db) => setUnit(db, 0, 0, t0.bytes),
        stopsAt: 1,
        reason: "authentication",
      },
      {
        name: "B's segment 0 of run 0 in A's row",
        change: (db) => setUnit(db, 0, 0, b[1]!.bytes),
        stopsAt: 1,
        reason: "authentication",
      },
      {
        name: "B's run 1 in A's rows",
        change: (db) => {
          for (const u of b.filter((u) => u.run === 1)) setUnit(db, u.run, u.index, u.bytes);
        },
        stopsAt: n0,
        reason: "order",
      },
      {
        name: "run 1 in the rows of a run 2",
        change: (db) => db.exec("UPDATE spool_sealed_units SET run = 2 WHERE run = 1"),
        stopsAt: n0,
        reason: "order",
      },
      {
        name: "a segment in a row after the final one",
        change: (db) =>
          db.prepare("INSERT INTO spool_sealed_units VALUES ('default', 1, ?, ?)").run(
            a.length - n0 - 1,
            s0.bytes,
          ),
        stopsAt: a.length,
        reason: "order",
      },
    ];
    const db = openRows(file);
    try {
      for (const c of cases) {
        c.change(db);
        const got = await readThrough(loc, c.name);
        restoreRows(db, a);
        const before = a.slice(0, c.stopsAt);
        assert.equal(
          assertDetected(got, { seqs: seqsOf(before), offset: c.stopsAt }, c.name),
          `damage ${c.reason}`,
          c.name,
        );
      }
      // Rows cut off from each unit on: unfinished, but for no rows at all
      // and for a cut after a FINAL segment, which cannot be told.
      for (let k = a.length; k >= 0; k--) {
        const what = `rows from ${k} on deleted`;
        if (k < a.length) {
          db.prepare("DELETE FROM spool_sealed_units WHERE (run, idx) >= (?, ?)").run(
            a[k]!.run,
            a[k]!.index,
          );
        }
        const got = await readThrough(loc, what);
        const seqs = seqsOf(a.slice(0, k));
        if (k === 0 || a[k - 1]!.final) {
          assert.deepEqual(got, { seqs, wrong: [], error: undefined }, what);
        } else {
          assert.equal(assertDetected(got, { seqs, offset: k }, what), "damage unfinished", what);
        }
      }
    } finally {
      db.close();
    }
  });
});

// ---------------------------------------------------------------- fuzz

/**
 * A file store's bytes held in memory, read as FileUnits reads a file: the
 * same positions, reads cut short at the end (so never larger than what
 * is there), a tearable end.
 */
class MemoryUnits implements UnitSource {
  readonly path: string;
  readonly tearable = true;
  bytes: Uint8Array = new Uint8Array(0);

  constructor(path: string) {
    this.path = path;
  }

  read(position: number, length: number): Uint8Array {
    return this.bytes.slice(position, position + length);
  }

  after(position: number, length: number): number {
    return position + length;
  }

  end(): number {
    return this.bytes.length;
  }

  zeroFrom(position: number): boolean {
    return this.bytes.subarray(position).every((b) => b === 0);
  }

  keyAt(): undefined {
    return undefined;
  }
}

/**
 * Reads `source` as SealedStream does with no writer holding the store:
 * the walk; each run header opened with the identity; each segment opened
 * (failing to open is damage, `authentication`), its frames checked, its
 * records handed out; at the end, the walk's end damage. `hung` is set
 * when the walk takes more steps than the store has room for units: each
 * unit passed is at least 72 bytes.
 */
async function decodeDirect(
  source: UnitSource,
  openKeys: (header: RunHeader, where: { offset: number; seq: number }) => Promise<RunKeys>,
): Promise<Outcome & { hung: boolean }> {
  const got = {
    seqs: [] as number[],
    wrong: [] as number[],
    error: undefined as unknown,
    hung: false,
  };
  const walker = new StoreWalker(source);
  let keys: RunKeys | undefined;
  try {
    for (let steps = 0; steps <= source.end() / 72 + 1; steps++) {
      const seqBefore = walker.state.lastSeq;
      const unit = walker.next();
      if (unit === undefined) {
        got.error = walker.endDamage();
        return got;
      }
      if (unit.kind === "run") {
        keys = await openKeys(unit.header, { offset: unit.offset, seq: seqBefore });
        continue;
      }
      const plaintext = openSegment(keys!.payloadKey, keys!.headerHash, unit.unit);
      if (plaintext === undefined) {
        got.error = new SealedDamageError(
          source.path,
          unit.offset,
          seqBefore,
          "authentication",
          `segment ${unit.header.index} of run ${unit.run} does not authenticate`,
        );
        return got;
      }
      const frames = new FrameReader(plaintext, unit.header, {
        path: source.path,
        offset: unit.offset,
        seq: seqBefore,
      });
      for (let n = 0, m = frames.next(); m !== undefined; m = frames.next()) {
        if (++n > unit.header.dataFrames) {
          got.hung = true;
          return got;
        }
        if (!isOriginal(m)) got.wrong.push(m.seq);
        got.seqs.push(m.seq);
      }
    }
    got.hung = true;
  } catch (error) {
    got.error = error;
  }
  return got;
}

// Values at the edges of the format's sizes (frame and segment headers,
// the fixed run header), of its integer widths, and of its caps.
const SMALL = [0, 1, 2, 15, 16, 17, 23, 24, 25, 55, 56, 57, 71, 72, 95, 96, 97, 255, 256];
const LARGE = [65535, 65536, 65537, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 2 ** 53 - 1, 2 ** 53];
const CAPS = [-1, 0, 1, 16, 17].map((d) => MAX_SEGMENT_PLAINTEXT + d);
const INTERESTING = [...SMALL, ...LARGE, ...CAPS].map(BigInt).concat([2n ** 64n - 1n]);

/** The mutations, each from a seeded generator, so a failing input can be made again. */
class Mutator {
  readonly #rand: () => number;
  readonly #a: Unit[];
  readonly #b: Unit[];
  readonly #keys: Map<number, RunKeys>;
  readonly #original: Uint8Array;

  /** Mutations of file store `a`, with units of store `b` to splice in and the keys of `a`'s runs. */
  constructor(seed: number, a: Unit[], b: Unit[], keys: Map<number, RunKeys>) {
    this.#rand = seededRandom(seed);
    this.#a = a;
    this.#original = joinBytes(a.map((u) => u.bytes));
    this.#b = b;
    this.#keys = keys;
  }

  int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A value other than `was` for a field of `width` bytes. */
  value(was: bigint, width: number): bigint {
    const r = this.#rand();
    const v = r < 0.5
      ? this.pick(INTERESTING)
      : r < 0.75
      ? was + BigInt(this.int(33) - 16)
      : BigInt(this.int(2 ** 32));
    const value = BigInt.asUintN(8 * width, v);
    return value === was ? value ^ 1n : value;
  }

  /**
   * 1 to 4 bytes, each XORed with 1 to 255; with `recrc`, half the time
   * every segment's CRC is made to match again.
   */
  flip(store: Uint8Array, recrc = false): Uint8Array {
    const out = store.slice();
    for (let i = 1 + this.int(4); i > 0 && out.length > 0; i--) {
      const at = this.int(out.length);
      out[at] = out[at]! ^ (1 + this.int(255));
    }
    if (recrc && this.int(2) === 0) {
      for (const u of this.#a) if (u.index >= 0) fixCrc(out, u.offset);
    }
    return out;
  }

  /** Random bytes, or a slice of the store, inserted anywhere. */
  insert(store: Uint8Array): Uint8Array {
    const at = this.int(store.length + 1);
    const from = this.int(store.length);
    const piece = this.int(2) === 0
      ? this.bytes(1 + this.int(64))
      : store.slice(from, from + 1 + this.int(300));
    return joinBytes([store.subarray(0, at), piece, store.subarray(at)]);
  }

  /** 1 to 300 bytes taken out anywhere. */
  delete(store: Uint8Array): Uint8Array {
    const at = this.int(store.length);
    return joinBytes([store.subarray(0, at), store.subarray(at + 1 + this.int(300))]);
  }

  truncate(store: Uint8Array): Uint8Array {
    return store.slice(0, this.int(store.length));
  }

  /** A length, count, index or seq field of a unit set to another value; a segment's CRC fixed half the time. */
  headerField(): Uint8Array {
    const unit = this.pick(this.#a);
    const store = this.#original.slice();
    const v = new DataView(store.buffer, unit.offset);
    let fields: [number, number][];
    if (unit.index === -1) {
      const p = v.getUint16(96, true);
      const s = v.getUint16(98 + p, true);
      fields = [[12, 4], [32, 4], [48, 4], [52, 4], [56, 8], [96, 2], [98 + p, 2], [
        100 + p + s,
        1,
      ]];
    } else {
      fields = [[4, 4], [8, 8], [16, 4], [20, 4], [24, 4], [28, 4], [32, 8], [40, 8], [48, 4]];
    }
    const [at, width] = this.pick(fields);
    const was = width === 8 ? v.getBigUint64(at, true) : BigInt(
      width === 4 ? v.getUint32(at, true) : width === 2 ? v.getUint16(at, true) : v.getUint8(at),
    );
    const value = this.value(was, width);
    if (width === 8) v.setBigUint64(at, value, true);
    else if (width === 4) v.setUint32(at, Number(value), true);
    else if (width === 2) v.setUint16(at, Number(value), true);
    else v.setUint8(at, Number(value));
    // Both lengths at once, so the header stays consistent and the unit's end moves.
    if (unit.index >= 0 && at === 20 && this.int(2) === 0) {
      v.setUint32(16, (Number(value) + 16) >>> 0, true);
    }
    if (unit.index >= 0 && this.int(2) === 0) fixCrc(store, unit.offset);
    return store;
  }

  /** Whole units deleted, repeated, swapped or moved, or one of store B's put in. */
  shuffle(): Uint8Array {
    const units = this.#a.slice();
    const i = this.int(units.length);
    const j = this.int(units.length);
    const op = this.int(6);
    if (op === 0) units.splice(i, 1);
    else if (op === 1) units.splice(j, 0, units[i]!);
    else if (op === 2) [units[i], units[j]] = [units[j]!, units[i]!];
    else if (op === 3) units.splice(j, 0, ...units.splice(i, 1));
    else if (op === 4) units[i] = this.pick(this.#b);
    else units.splice(j, 0, this.pick(this.#b));
    return joinBytes(units.map((u) => u.bytes));
  }

  /**
   * A segment opened with its run's key and sealed again, with its frames
   * changed, or with a count or seq of its header changed and its frames
   * as they were: what a holder of a recipient can write, which only the
   * checks of the frames against the header stand against. Returns the
   * store, the number of records before that segment (the only ones that
   * must be as written), and whether its header was changed (the read must
   * then stop at it).
   */
  reseal(): { store: Uint8Array; trusted: number; headerChanged: boolean } {
    const unit = this.pick(this.#a.filter((u) => u.index >= 0));
    const keys = this.#keys.get(unit.run)!;
    const header = decodeSegmentHeader(unit.bytes, "pristine", unit.offset);
    const fields: Omit<SegmentHeader, "wireLength" | "plaintextLength"> = { ...header };
    let text: Uint8Array = openSegment(keys.payloadKey, keys.headerHash, unit.bytes)!;
    const headerChanged = this.int(3) === 0;
    if (headerChanged) {
      const name = this.pick(["frameCount", "dataFrames", "firstSeq", "lastSeq"] as const);
      const was = fields[name];
      fields[name] = Math.max(0, was + this.pick([-2, -1, 1, 2]));
      if (fields[name] === was) fields[name] = was + 1;
    } else {
      const frames: number[] = [];
      for (let at = 0; at < text.length; at += FRAME_HEADER_BYTES + readU32(text, at)) {
        frames.push(at);
      }
      const frame = frames.length > 0 ? this.pick(frames) : 0;
      const v = new DataView(text.buffer, text.byteOffset);
      const op = this.int(7);
      if (op === 0 && text.length > 0) text = this.flip(text);
      else if (op === 1 && frames.length > 0) {
        v.setUint32(frame, Number(this.value(BigInt(readU32(text, frame)), 4)), true);
      } else if (op === 2 && frames.length > 0) {
        v.setUint16(frame + 4, this.pick([0, 1, 2, 3, 0xffff]), true);
      } else if (op === 3 && frames.length > 0) {
        v.setBigUint64(frame + 8, this.value(v.getBigUint64(frame + 8, true), 8), true);
      } else if (op === 4 && frames.length > 0) {
        v.setUint16(frame + 6, this.int(65536), true);
        v.setBigUint64(frame + 16, this.value(0n, 8), true);
      } else if (op === 5) text = text.slice(0, this.int(text.length + 1));
      else {
        text = joinBytes([
          text,
          this.int(2) === 0 ? this.bytes(1 + this.int(48)) : text.slice(frame),
        ]);
      }
    }
    const k = this.#a.indexOf(unit);
    const sealed = sealSegment(keys.payloadKey, keys.headerHash, fields, text);
    const store = joinBytes([
      ...this.#a.slice(0, k).map((u) => u.bytes),
      sealed,
      ...this.#a.slice(k + 1).map((u) => u.bytes),
    ]);
    return { store, trusted: seqsOf(this.#a.slice(0, k)).length, headerChanged };
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}

/** Sets the CRC of the segment at `at` to match the bytes its wire length claims, as far as there are any. */
function fixCrc(store: Uint8Array, at: number): void {
  const wire = Math.max(
    0,
    Math.min(readU32(store, at + 16), store.length - at - SEGMENT_HEADER_BYTES),
  );
  const start = at + SEGMENT_HEADER_BYTES;
  const crc = crc32c(
    store.subarray(at, at + SEGMENT_HEADER_SIGNED_BYTES),
    store.subarray(start, start + wire),
  );
  new DataView(store.buffer, store.byteOffset).setUint32(
    at + SEGMENT_HEADER_SIGNED_BYTES,
    crc,
    true,
  );
}

Deno.test("the decoder takes 100,000 mutated stores without a crash, a hang, a wrong record or unbounded memory", async () => {
  await withDir(async (dir) => {
    const a = await pristine({ kind: "file", dir: `${dir}/a` });
    const b = await pristine({ kind: "file", dir: `${dir}/b` });
    const sample = { kind: "file", dir: `${dir}/sample` } as const;
    await Deno.mkdir(sample.dir);
    const path = `${sample.dir}/stream.sealed`;
    const source = new MemoryUnits(path);
    // Rewritten in place, never truncated to nothing and closed: ext4 then
    // flushes it to the disk, which takes milliseconds.
    using file = await Deno.open(path, { write: true, createNew: true });
    const where = (at: { offset: number; seq: number }) => ({
      path,
      offset: at.offset,
      seq: at.seq,
      identitySource: READER.identitySource,
    });
    // The original run headers are opened once; any other goes through
    // openRunHeader (an X25519 each, the slowest step of the decoder).
    const known: { hash: Uint8Array; keys: RunKeys }[] = [];
    const keysByRun = new Map<number, RunKeys>();
    for (const u of a.filter((u) => u.header !== undefined)) {
      const keys = await openRunHeader(
        u.header!,
        [IDENTITY],
        where({ offset: 0, seq: 0 }),
      );
      known.push({ hash: u.header!.hash, keys });
      keysByRun.set(u.run, keys);
    }
    const openKeys = (header: RunHeader, at: { offset: number; seq: number }) => {
      const hit = known.find((k) => k.hash.every((x, i) => x === header.hash[i]));
      return hit !== undefined
        ? Promise.resolve(hit.keys)
        : openRunHeader(header, [IDENTITY], where(at));
    };
    const original = joinBytes(a.map((u) => u.bytes));
    const mutate = new Mutator(14, a, b, keysByRun);
    const kinds = [
      "flip",
      "insert",
      "delete",
      "truncate",
      "header field",
      "shuffle",
      "reseal",
    ] as const;
    const counts = new Map<string, number>();
    let rssMax = 0;
    let externalMax = 0;
    let compared = 0;
    for (let input = 0; input < FUZZ_INPUTS; input++) {
      const kind = kinds[input % kinds.length]!;
      let store: Uint8Array;
      let trusted = Infinity;
      let stopsAfter: number | undefined;
      if (kind === "flip") store = mutate.flip(original, true);
      else if (kind === "insert") store = mutate.insert(original);
      else if (kind === "delete") store = mutate.delete(original);
      else if (kind === "truncate") store = mutate.truncate(original);
      else if (kind === "header field") store = mutate.headerField();
      else if (kind === "shuffle") store = mutate.shuffle();
      else {
        const resealed = mutate.reseal();
        ({ store, trusted } = resealed);
        if (resealed.headerChanged) stopsAfter = trusted;
      }
      // A fifth of the inputs take a second, byte-level mutation.
      const second = mutate.int(5) === 0;
      if (second) {
        store = mutate.pick([mutate.flip, mutate.insert, mutate.delete, mutate.truncate]).call(
          mutate,
          store,
        );
      }
      const what = `fuzz input ${input} (${kind})`;
      source.bytes = store;
      const got = await decodeDirect(source, openKeys);
      // Buffers live outside the JS heap: one sized by a claimed length
      // (up to 64 MiB) shows here before it is collected.
      if (input % 10 === 0) externalMax = Math.max(externalMax, Deno.memoryUsage().external);
      assert.ok(!got.hung, `${what}: the decoder does not end`);
      tally(counts, `${kind}: ${outcomeName(got.error, what)}`);
      // Without the key, nothing but a prefix of what was written can be
      // read; with it, the records before the resealed segment still are.
      const prefix = got.seqs.findIndex((seq, i) => seq !== i + 1);
      const rising = got.seqs.every((seq, i) => i === 0 || seq > got.seqs[i - 1]!);
      if (
        !rising || (prefix !== -1 && prefix < trusted) || got.wrong.some((seq) => seq <= trusted)
      ) {
        assert.fail(`${what}: delivered seqs ${got.seqs}, wrong ${got.wrong}`);
      }
      // A header that disagrees with its frames stops the read at its segment.
      if (
        stopsAfter !== undefined && !second &&
        (!(got.error instanceof SealedDamageError) || got.seqs.length !== stopsAfter)
      ) {
        assert.fail(`${what}: ${got.error} after seqs ${got.seqs}`);
      }
      // A sample goes through the whole reader from a file, and must end the same way.
      if (input % 199 === 0) {
        file.seekSync(0, Deno.SeekMode.Start);
        for (let done = 0; done < store.length;) done += file.writeSync(store.subarray(done));
        file.truncateSync(store.length);
        const whole = await readThrough(sample, what);
        assert.deepEqual(
          { seqs: whole.seqs, wrong: whole.wrong, error: String(whole.error) },
          { seqs: got.seqs, wrong: got.wrong, error: String(got.error) },
          `${what}: SealedStream ends otherwise`,
        );
        compared++;
      }
      if (input % 1000 === 0) rssMax = Math.max(rssMax, Deno.memoryUsage().rss);
    }
    // Every length a header claims is capped (a segment at 64 MiB, a run
    // header at 64 KiB) and read only as far as the store holds bytes, so
    // the decoder never holds more than a few copies of a 2 KiB store. The
    // heap grows until V8 collects it: its cap is generous.
    assert.ok(externalMax < 32 * 2 ** 20, `external memory reached ${externalMax} bytes`);
    assert.ok(rssMax < 2 ** 30, `RSS reached ${rssMax} bytes`);
    assert.ok(compared >= 500);
    // Every ending is reached, each by several kinds of mutation.
    for (const name of ["clean", "format", "key", ...DAMAGE.map((reason) => `damage ${reason}`)]) {
      const by = kinds.filter((kind) => counts.has(`${kind}: ${name}`));
      assert.ok(by.length >= 2, `'${name}' came of ${by.length} kinds of mutation`);
    }
  });
});
