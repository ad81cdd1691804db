/**
 * Sealed stores below the cipher: locations and their detection, the
 * single-writer lock (across real processes), the unit walk's torn-tail
 * and damage rules, the file and SQLite sinks and sources, and the modes
 * of what they create. Segments here carry random bytes for a wire: the
 * walk checks structure, checksums and order, which need no key.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { recipientOf } from "../src/sealed/age_keys.ts";
import { createRunHeader, type RunHeader } from "../src/sealed/run_header.ts";
import { SealedDamageError, SealedFormatError } from "../src/sealed/sealed_errors.ts";
import { RUN_MAGIC, SEGMENT_HEADER_BYTES, TAG_BYTES } from "../src/sealed/sealed_format.ts";
import { encodeSegmentHeader } from "../src/sealed/segment_header.ts";
import { openSealedSink, openSealedSource } from "../src/sealed/sealed_sink.ts";
import { FileSink } from "../src/sealed/file_store.ts";
import { SqliteSink } from "../src/sealed/sqlite_store.ts";
import {
  describeLocation,
  detectSealedStore,
  parseSealedLocation,
  type SealedLocation,
} from "../src/sealed/store_location.ts";
import { isWriterActive, SealedLockedError } from "../src/sealed/store_lock.ts";
import type { WalkedUnit } from "../src/sealed/store_scan.ts";
import { joinBytes, ROOT, withTempDir } from "./_helpers.ts";

// ---------------------------------------------------------------- building stores

const RECIPIENT = await recipientOf(crypto.getRandomValues(new Uint8Array(32)));

/** A unit with the key a SQLite store files it under. */
interface Unit {
  bytes: Uint8Array;
  run: number;
  index: number;
}

/** Builds the units of a store run by run, as a writer would. */
class StoreBuilder {
  readonly units: Unit[] = [];
  #run = -1;
  #header: RunHeader | undefined;
  #segments = 0;
  #final = false;
  #seq = 0;

  /** A new run chained to the last, PREV_CUT as the last run ended. */
  async run(overrides: { stream?: string } = {}): Promise<this> {
    const { header } = await createRunHeader({
      segmentBytes: 4096,
      flushMs: 0,
      createdMs: 1_700_000_000_000,
      run: this.#run + 1,
      prevCut: this.#header !== undefined && !this.#final,
      prevSegments: this.#header === undefined ? 0 : this.#segments,
      prevHeaderHash: this.#header?.hash ?? new Uint8Array(32),
      producer: "sealed_store_test",
      stream: overrides.stream ?? "test",
    }, [RECIPIENT]);
    this.#run++;
    this.#header = header;
    this.#segments = 0;
    this.#final = false;
    this.units.push({ bytes: header.bytes, run: this.#run, index: -1 });
    return this;
  }

  /** The next segment of the run, holding `records` seqs after the last. */
  segment(records = 2, final = false): this {
    const plaintextLength = 30 * records;
    const wire = crypto.getRandomValues(new Uint8Array(plaintextLength + TAG_BYTES));
    const bytes = new Uint8Array(SEGMENT_HEADER_BYTES + wire.length);
    bytes.set(wire, SEGMENT_HEADER_BYTES);
    encodeSegmentHeader(
      {
        final,
        index: this.#segments,
        wireLength: wire.length,
        plaintextLength,
        frameCount: records,
        dataFrames: records,
        firstSeq: records === 0 ? 0 : this.#seq + 1,
        lastSeq: records === 0 ? 0 : this.#seq + records,
      },
      bytes,
      wire,
    );
    this.#seq += records;
    this.units.push({ bytes, run: this.#run, index: this.#segments });
    this.#segments++;
    this.#final = final;
    return this;
  }

  /** Byte offset of unit `i` in a file store. */
  offsetOf(i: number): number {
    return this.units.slice(0, i).reduce((n, u) => n + u.bytes.length, 0);
  }
}

/** Run 0 finished (3 segments), run 1 cut after 2 segments: seqs 1..10. */
async function twoRuns(): Promise<StoreBuilder> {
  const b = await new StoreBuilder().run();
  b.segment().segment().segment(0, true);
  (await b.run()).segment(3).segment(3);
  return b;
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("sealed_store_test_", fn);

/** A file store in `dir/store` holding exactly `bytes`. */
function writeStore(dir: string, bytes: Uint8Array): string {
  Deno.mkdirSync(`${dir}/store`, { mode: 0o700 });
  Deno.writeFileSync(`${dir}/store/stream.sealed`, bytes, { mode: 0o600 });
  return `${dir}/store`;
}

/** Every unit a reader's walk passes, then what stopped it. */
async function walk(
  loc: SealedLocation,
): Promise<
  {
    units: WalkedUnit[];
    tornAt: number | undefined;
    end: SealedDamageError | undefined;
    error: unknown;
  }
> {
  const source = await openSealedSource(loc);
  const units: WalkedUnit[] = [];
  try {
    for (let u = source.walker.next(); u !== undefined; u = source.walker.next()) units.push(u);
    return {
      units,
      tornAt: source.walker.tornAt,
      end: source.walker.endDamage(),
      error: undefined,
    };
  } catch (error) {
    return { units, tornAt: undefined, end: undefined, error };
  } finally {
    source.close();
  }
}

function assertDamage(
  error: unknown,
  expected: { path: string; offset: number; seq: number; reason: string; detail: RegExp },
): void {
  assert.ok(error instanceof SealedDamageError, `expected damage, got ${error}`);
  assert.equal(error.path, expected.path);
  assert.equal(error.offset, expected.offset);
  assert.equal(error.seq, expected.seq);
  assert.equal(error.reason, expected.reason);
  assert.match(error.detail, expected.detail);
  assert.ok(
    error.message.startsWith(
      `Sealed store '${expected.path}' is damaged at offset ${expected.offset}, after seq ${expected.seq}: `,
    ),
    error.message,
  );
}

// ---------------------------------------------------------------- locations

Deno.test("locations parse from their text and name their store", () => {
  assert.deepEqual(parseSealedLocation("sealed:arch/q"), { kind: "file", dir: "arch/q" });
  assert.deepEqual(parseSealedLocation("sqlite:/a/b.db"), {
    kind: "sqlite",
    file: "/a/b.db",
    stream: undefined,
  });
  assert.deepEqual(parseSealedLocation("sqlite:/a#b.db#quotes"), {
    kind: "sqlite",
    file: "/a#b.db",
    stream: "quotes",
  });
  assert.equal(parseSealedLocation("arch/q"), undefined);
  assert.equal(parseSealedLocation("queue:arch/q"), undefined);
  assert.throws(() => parseSealedLocation("sealed:"), { name: "TypeError", message: /'sealed:'/ });
  assert.throws(() => parseSealedLocation("sqlite:"), { name: "TypeError", message: /no file/ });
  assert.throws(() => parseSealedLocation("sqlite:a.db#"), {
    name: "TypeError",
    message: /stream/,
  });
  assert.equal(describeLocation({ kind: "file", dir: "arch/q/" }), "arch/q/stream.sealed");
  assert.equal(describeLocation({ kind: "sqlite", file: "a.db", stream: "s" }), "a.db#s");
});

Deno.test("a sealed store is recognised by its first bytes, and nothing else is", async () => {
  await withDir(async (dir) => {
    const store = writeStore(dir, (await twoRuns()).units[0]!.bytes);
    assert.deepEqual(await detectSealedStore(store), { kind: "file", dir: store });
    assert.deepEqual(await detectSealedStore(`${store}/stream.sealed`), {
      kind: "file",
      dir: store,
    });

    // An empty stream.sealed is a store no run was written to yet.
    Deno.mkdirSync(`${dir}/empty`);
    Deno.writeFileSync(`${dir}/empty/stream.sealed`, new Uint8Array(0));
    assert.deepEqual(await detectSealedStore(`${dir}/empty`), {
      kind: "file",
      dir: `${dir}/empty`,
    });

    // A directory without it, or with other bytes in it, is not one.
    Deno.mkdirSync(`${dir}/other`);
    assert.equal(await detectSealedStore(`${dir}/other`), undefined);
    Deno.writeTextFileSync(`${dir}/other/stream.sealed`, '{"seq":1}\n');
    assert.equal(await detectSealedStore(`${dir}/other`), undefined);
    assert.equal(await detectSealedStore(`${dir}/other/stream.sealed`), undefined);
    assert.equal(await detectSealedStore(`${dir}/missing`), undefined);

    // A SQLite file is one only with the units table.
    (await SqliteSink.open(`${dir}/s.db`, "quotes")).close();
    assert.deepEqual(await detectSealedStore(`${dir}/s.db`), {
      kind: "sqlite",
      file: `${dir}/s.db`,
      stream: undefined,
    });
    assert.deepEqual(await detectSealedStore(`${dir}/s.db#quotes`), {
      kind: "sqlite",
      file: `${dir}/s.db`,
      stream: "quotes",
    });
    const db = new DatabaseSync(`${dir}/plain.db`);
    db.exec("CREATE TABLE t (x)");
    db.close();
    assert.equal(await detectSealedStore(`${dir}/plain.db`), undefined);
    assert.equal(await detectSealedStore(`${dir}/plain.db#quotes`), undefined);
  });
});

// ---------------------------------------------------------------- the lock

Deno.test("a second writer is refused until the first closes", async () => {
  await withDir(async (dir) => {
    const first = await FileSink.open(`${dir}/store`);
    assert.equal(isWriterActive(`${dir}/store/writer.lock`), true);
    await assert.rejects(FileSink.open(`${dir}/store`), (error: unknown) => {
      assert.ok(error instanceof SealedLockedError);
      assert.equal(error.path, `${dir}/store/writer.lock`);
      assert.equal(error.pid, Deno.pid);
      assert.match(error.message, /held by another writer \(pid \d+\)/);
      return true;
    });
    first.close();
    assert.equal(isWriterActive(`${dir}/store/writer.lock`), false);
    (await FileSink.open(`${dir}/store`)).close();

    const sqlite = await SqliteSink.open(`${dir}/s.db`, "a");
    // One writer per database file, whatever the stream.
    await assert.rejects(SqliteSink.open(`${dir}/s.db`, "b"), SealedLockedError);
    sqlite.close();
    (await SqliteSink.open(`${dir}/s.db`, "b")).close();
  });
});

/** A child process that opens a sink at `loc`, says "ready", and holds it until killed. */
async function holdingChild(loc: SealedLocation): Promise<Deno.ChildProcess> {
  const code = `
    import { openSealedSink } from "${ROOT}src/sealed/sealed_sink.ts";
    await openSealedSink(${JSON.stringify(loc)});
    console.log("ready");
    await new Promise(() => setInterval(() => {}, 1000));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    assert.ok(!done, "the child ended before it held the store");
    text += new TextDecoder().decode(value);
  }
  assert.equal(text, "ready\n");
  reader.releaseLock();
  await child.stdout.cancel();
  return child;
}

for (const kind of ["file", "sqlite"] as const) {
  Deno.test(`a ${kind} store held by a child process counts as active until it is killed`, async () => {
    await withDir(async (dir) => {
      const loc: SealedLocation = kind === "file"
        ? { kind, dir: `${dir}/store` }
        : { kind, file: `${dir}/s.db`, stream: undefined };
      const child = await holdingChild(loc);
      const source = await openSealedSource(loc);
      try {
        assert.equal(source.writerActive(), true);
        await assert.rejects(openSealedSink(loc), (error: unknown) => {
          assert.ok(error instanceof SealedLockedError);
          assert.equal(error.pid, kind === "file" ? child.pid : undefined);
          return true;
        });
        child.kill("SIGKILL");
        await child.status;
        // The kernel let go of the lock with the process.
        assert.equal(source.writerActive(), false);
        (await openSealedSink(loc)).close();
      } finally {
        source.close();
      }
    });
  });
}

// ---------------------------------------------------------------- the walk

Deno.test("a whole store walks unit by unit and tells its state", async () => {
  await withDir(async (dir) => {
    const b = await twoRuns();
    const store = writeStore(dir, joinBytes(b.units.map((u) => u.bytes)));
    const { units, tornAt, end, error } = await walk({ kind: "file", dir: store });
    assert.equal(error, undefined);
    assert.equal(tornAt, undefined);
    // Run 1 has no final segment: damage unless a writer is at work.
    assertDamage(end, {
      path: `${store}/stream.sealed`,
      offset: b.offsetOf(b.units.length),
      seq: 10,
      reason: "unfinished",
      detail: new RegExp(`^run 1 ends at offset ${b.offsetOf(b.units.length)} without its final`),
    });
    assert.deepEqual(
      units.map((u) => [u.kind, u.offset, u.kind === "segment" ? u.header.index : u.header.run]),
      b.units.map((
        u,
        i,
      ) => [u.index < 0 ? "run" : "segment", b.offsetOf(i), u.index < 0 ? u.run : u.index]),
    );
    const last = units.at(-1)!;
    assert.ok(last.kind === "segment");
    assert.equal(last.run, 1);
    assert.deepEqual(last.unit, b.units.at(-1)!.bytes);

    const sink = await FileSink.open(store);
    assert.equal(sink.state.runs, 2);
    assert.equal(sink.state.lastSeq, 10);
    assert.equal(sink.state.endOffset, b.offsetOf(b.units.length));
    assert.equal(sink.state.tornBytes, 0);
    assert.equal(sink.state.lastRun?.run, 1);
    assert.equal(sink.state.lastRun?.segments, 2);
    assert.equal(sink.state.lastRun?.final, false);
    assert.deepEqual(sink.state.lastRun?.header.bytes, b.units[4]!.bytes);
    sink.close();
  });
});

Deno.test("a torn tail stops the walk, and a writer reopening cuts it and keeps every committed unit", async () => {
  for (
    const [what, tear] of [
      ["a segment cut short", (u: Uint8Array) => u.subarray(0, u.length - 5)],
      ["a segment header cut short", (u: Uint8Array) => u.subarray(0, 20)],
      ["three bytes of a magic", (u: Uint8Array) => u.subarray(0, 3)],
      // What a machine crash leaves: the file's length written, its last blocks not.
      [
        "a segment ending in zeros",
        (u: Uint8Array) => u.map((x, i) => i >= Math.max(56, u.length - 512) ? 0 : x),
      ],
      ["zeros where a segment was", (u: Uint8Array) => new Uint8Array(u.length)],
    ] as const
  ) {
    await withDir(async (dir) => {
      const b = await twoRuns();
      const whole = b.units.slice(0, -1).map((u) => u.bytes);
      const torn = tear(b.units.at(-1)!.bytes);
      const store = writeStore(dir, joinBytes([...whole, torn]));
      const end = b.offsetOf(b.units.length - 1);

      const read = await walk({ kind: "file", dir: store });
      assert.equal(read.error, undefined, what);
      assert.equal(read.units.length, b.units.length - 1, what);
      assert.equal(read.tornAt, end, what);
      assertDamage(read.end, {
        path: `${store}/stream.sealed`,
        offset: end,
        seq: 7,
        reason: "torn",
        detail: new RegExp(`ends with ${torn.length} bytes of a unit cut short`),
      });

      const sink = await FileSink.open(store);
      assert.equal(sink.state.endOffset, end, what);
      assert.equal(sink.state.tornBytes, torn.length, what);
      assert.equal(sink.state.lastSeq, 7, what);
      assert.equal(sink.state.lastRun?.segments, 1, what);
      sink.close();
      assert.deepEqual(Deno.readFileSync(`${store}/stream.sealed`), joinBytes(whole), what);
    });
  }
});

Deno.test("a malformed run header is torn as the last unit and damage before others", async () => {
  const b = await twoRuns();
  const u = b.units.map((x) => x.bytes);
  // Run 1's stanza type: its length and magic still hold, its structure does not.
  const bad = u[4]!.slice();
  bad[bad.length - 32 - 81]! = 0;
  await withDir(async (dir) => {
    const store = writeStore(dir, joinBytes([...u.slice(0, 4), bad]));
    const read = await walk({ kind: "file", dir: store });
    assert.equal(read.error, undefined);
    assert.equal(read.tornAt, b.offsetOf(4));
    const sink = await FileSink.open(store);
    assert.equal(sink.state.tornBytes, bad.length);
    sink.close();
    assert.equal(Deno.statSync(`${store}/stream.sealed`).size, b.offsetOf(4));

    Deno.writeFileSync(`${store}/stream.sealed`, joinBytes([...u.slice(0, 4), bad, u[5]!]));
    assertDamage((await walk({ kind: "file", dir: store })).error, {
      path: `${store}/stream.sealed`,
      offset: b.offsetOf(4),
      seq: 4,
      reason: "header",
      detail: /^run header has a stanza of unknown type '0'/,
    });
  });
});

Deno.test("damage before the end is reported with the file, the unit's offset and the last seq", async () => {
  await withDir(async (dir) => {
    const b = await twoRuns();
    const bytes = joinBytes(b.units.map((u) => u.bytes));
    // A flipped bit in the wire of the second segment of run 0 (seqs 3..4).
    const at = b.offsetOf(2);
    bytes[at + SEGMENT_HEADER_BYTES + 7]! ^= 0x10;
    const store = writeStore(dir, bytes);
    const read = await walk({ kind: "file", dir: store });
    assert.equal(read.units.length, 2);
    assertDamage(read.error, {
      path: `${store}/stream.sealed`,
      offset: at,
      seq: 2,
      reason: "checksum",
      detail: /segment 1 fails its checksum/,
    });
    // A writer checks the checksums of the last run only (the runs before
    // it were checked by the writer after them): it resumes, and leaves
    // the damaged bytes as they are for readers to report.
    const sink = await FileSink.open(store);
    assert.equal(sink.state.runs, 2);
    sink.close();
    assert.deepEqual(Deno.readFileSync(`${store}/stream.sealed`), bytes);
  });
});

Deno.test("a writer refuses damage inside the last run, and leaves it as it is", async () => {
  await withDir(async (dir) => {
    const b = await twoRuns();
    const bytes = joinBytes(b.units.map((u) => u.bytes));
    // Segment 0 of run 1, with segment 1 after it: damage, not a torn tail.
    const at = b.offsetOf(5);
    bytes[at + SEGMENT_HEADER_BYTES + 3]! ^= 0x01;
    const store = writeStore(dir, bytes);
    await assert.rejects(FileSink.open(store), (error: unknown) => {
      assertDamage(error, {
        path: `${store}/stream.sealed`,
        offset: at,
        seq: 4,
        reason: "checksum",
        detail: /segment 0 fails its checksum/,
      });
      return true;
    });
    assert.deepEqual(Deno.readFileSync(`${store}/stream.sealed`), bytes);
    assert.equal(isWriterActive(`${store}/writer.lock`), false);
  });
});

Deno.test("reordered, duplicated, dropped and spliced units are each detected", async () => {
  const b = await twoRuns();
  const other = await twoRuns();
  (await b.run()).segment();
  const u = b.units.map((x) => x.bytes);
  const cases: [string, Uint8Array[], number, number, RegExp][] = [
    // name, units, index of the unit at fault, last seq before it, detail
    [
      "segments swapped",
      [u[0]!, u[2]!, u[1]!, ...u.slice(3)],
      1,
      0,
      /segment 1 of run 0 is where segment 0 belongs/,
    ],
    [
      "a segment repeated",
      [u[0]!, u[1]!, u[1]!, ...u.slice(2)],
      2,
      2,
      /segment 0 of run 0 is where segment 1 belongs/,
    ],
    [
      "a segment dropped",
      [u[0]!, u[2]!, ...u.slice(3)],
      1,
      0,
      /segment 1 of run 0 is where segment 0 belongs/,
    ],
    [
      "a segment after the final one",
      [...u.slice(0, 4), u[3]!],
      4,
      4,
      /follows the final segment of run 0/,
    ],
    [
      "a run header spliced from another store",
      [...u.slice(0, 4), other.units[4]!.bytes, ...u.slice(5)],
      4,
      4,
      /does not name the header of run 0/,
    ],
    ["a run repeated", [...u.slice(0, 4), u[0]!], 4, 4, /run 0 follows run 0/],
    [
      "a run header dropped",
      [...u.slice(0, 4), ...u.slice(5)],
      4,
      4,
      /follows the final segment of run 0/,
    ],
    [
      "the end of a run cut off before the next",
      [...u.slice(0, 3), ...u.slice(4)],
      3,
      4,
      /run 0 ends at offset \d+ without its final segment/,
    ],
    ["the first run header cut off", u.slice(1), 0, 0, /starts with a segment/],
    ["a store that starts with run 1", u.slice(4), 0, 0, /starts with run 1, not run 0/],
    [
      "the last segment of a cut run dropped",
      [...u.slice(0, 6), ...u.slice(7)],
      6,
      7,
      /run 2 says run 1 holds 2 segments, and it holds 1/,
    ],
  ];
  for (const [name, units, fault, seq, detail] of cases) {
    await withDir(async (dir) => {
      const store = writeStore(dir, joinBytes(units));
      const read = await walk({ kind: "file", dir: store });
      assert.equal(read.units.length, fault, name);
      assertDamage(read.error, {
        path: `${store}/stream.sealed`,
        offset: units.slice(0, fault).reduce((n, x) => n + x.length, 0),
        seq,
        reason: "order",
        detail,
      });
    });
  }
});

Deno.test("a run header must say how the run before it ended", async () => {
  // Run 1 claims a cut after run 0 finished: spliced or forged.
  const b = await new StoreBuilder().run();
  b.segment(1, true);
  const first = b.units.map((u) => u.bytes);
  const { header } = await createRunHeader({
    segmentBytes: 4096,
    flushMs: 0,
    createdMs: 0,
    run: 1,
    prevCut: true,
    prevSegments: 1,
    prevHeaderHash: (await import("node:crypto")).createHash("sha256").update(first[0]!).digest(),
    producer: "",
    stream: "test",
  }, [RECIPIENT]);
  await withDir(async (dir) => {
    const store = writeStore(dir, joinBytes([...first, header.bytes]));
    const read = await walk({ kind: "file", dir: store });
    assertDamage(read.error, {
      path: `${store}/stream.sealed`,
      offset: first[0]!.length + first[1]!.length,
      seq: 1,
      reason: "order",
      detail: /run 1 says run 0 was cut, and it ends with its final segment/,
    });
  });
});

Deno.test("seqs must rise across segments and runs", async () => {
  const b = await new StoreBuilder().run();
  b.segment(2).segment(2);
  const u = b.units.map((x) => x.bytes);
  // Segment 1 rebuilt to start at seq 2, inside segment 0's seqs.
  const wire = u[2]!.subarray(SEGMENT_HEADER_BYTES);
  const again = u[2]!.slice();
  encodeSegmentHeader(
    {
      final: false,
      index: 1,
      wireLength: wire.length,
      plaintextLength: wire.length - TAG_BYTES,
      frameCount: 2,
      dataFrames: 2,
      firstSeq: 2,
      lastSeq: 3,
    },
    again,
    wire,
  );
  await withDir(async (dir) => {
    const store = writeStore(dir, joinBytes([u[0]!, u[1]!, again]));
    const read = await walk({ kind: "file", dir: store });
    assertDamage(read.error, {
      path: `${store}/stream.sealed`,
      offset: u[0]!.length + u[1]!.length,
      seq: 2,
      reason: "order",
      detail: /starts at seq 2, not after 2/,
    });
  });
});

Deno.test("bytes that are not a sealed store, or of an unknown version, are a format error", async () => {
  await withDir(async (dir) => {
    const tape = writeStore(dir, new TextEncoder().encode('{"seq":1,"payload":"x"}\n'));
    const read = await walk({ kind: "file", dir: tape });
    assert.ok(read.error instanceof SealedFormatError);
    assert.match(read.error.message, /is not a sealed store/);

    const b = await twoRuns();
    const bytes = joinBytes(b.units.map((u) => u.bytes));
    bytes[b.offsetOf(4) + 8] = 2; // run 1's version
    Deno.writeFileSync(`${tape}/stream.sealed`, bytes);
    const newer = await walk({ kind: "file", dir: tape });
    assert.equal(newer.units.length, 4);
    assert.ok(newer.error instanceof SealedFormatError);
    assert.match(newer.error.message, /version '2'/);

    // Garbage between units is damage, named at its offset.
    const garbage = joinBytes([
      ...b.units.slice(0, 2).map((u) => u.bytes),
      new Uint8Array(9).fill(7),
      b.units[2]!.bytes,
    ]);
    Deno.writeFileSync(`${tape}/stream.sealed`, garbage);
    assertDamage((await walk({ kind: "file", dir: tape })).error, {
      path: `${tape}/stream.sealed`,
      offset: b.offsetOf(2),
      seq: 2,
      reason: "header",
      detail: /neither a run header nor a segment/,
    });
  });
});

// ---------------------------------------------------------------- sinks and sources

Deno.test("a file sink appends committed groups, and a reader follows them as they come", async () => {
  await withDir(async (dir) => {
    const b = await twoRuns();
    const loc: SealedLocation = { kind: "file", dir: `${dir}/store` };
    const sink = await openSealedSink(loc);
    assert.equal(sink.path, `${dir}/store/stream.sealed`);
    const source = await openSealedSource(loc);
    assert.equal(source.walker.next(), undefined);

    for (const u of b.units.slice(0, 3)) sink.add(u.bytes, u.run, u.index);
    // Nothing is in the file before the commit.
    assert.equal(Deno.statSync(`${dir}/store/stream.sealed`).size, 0);
    await sink.commit();
    const seen = [source.walker.next(), source.walker.next(), source.walker.next()];
    assert.deepEqual(seen.map((u) => u?.offset), [0, b.offsetOf(1), b.offsetOf(2)]);
    assert.equal(source.walker.next(), undefined);

    for (const u of b.units.slice(3)) sink.add(u.bytes, u.run, u.index);
    await Promise.all([sink.commit(), sink.commit()]);
    let more = 0;
    while (source.walker.next() !== undefined) more++;
    assert.equal(more, b.units.length - 3);
    assert.equal(source.walker.state.lastSeq, 10);
    source.close();
    sink.close();
    assert.throws(() => sink.add(new Uint8Array(1), 0, 0), { message: /is closed/ });
    assert.deepEqual(
      Deno.readFileSync(`${dir}/store/stream.sealed`),
      joinBytes(b.units.map((u) => u.bytes)),
    );
  });
});

Deno.test("a reader at a unit still being written waits for it, then goes on", async () => {
  await withDir(async (dir) => {
    const b = await new StoreBuilder().run();
    b.segment().segment(1, true);
    const [header, first, last] = b.units.map((u) => u.bytes) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const store = writeStore(dir, joinBytes([header, first.subarray(0, 40)]));
    const source = await openSealedSource({ kind: "file", dir: store });
    assert.equal(source.walker.next()?.kind, "run");
    assert.equal(source.walker.next(), undefined);
    assert.equal(source.walker.tornAt, header.length);
    assert.equal(source.walker.state.tornBytes, 40);

    using file = await Deno.open(`${store}/stream.sealed`, { append: true });
    await file.write(first.subarray(40));
    await file.write(last);
    assert.equal(source.walker.next()?.offset, header.length);
    assert.equal(source.walker.tornAt, undefined);
    assert.equal(source.walker.next()?.offset, header.length + first.length);
    assert.equal(source.walker.next(), undefined);
    // The run ended with its final segment: a clean end.
    assert.equal(source.walker.endDamage(), undefined);
    assert.equal(source.walker.state.lastRun?.final, true);
    assert.equal(source.walker.state.lastSeq, 3);
    source.close();
  });
});

Deno.test("a SQLite store round-trips units by (stream, run, index) and checks them as a file's", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/s.db`;
    const b = await twoRuns();
    const sink = await openSealedSink({ kind: "sqlite", file, stream: "quotes" });
    assert.equal(sink.path, `${file}#quotes`);
    for (const u of b.units.slice(0, 4)) sink.add(u.bytes, u.run, u.index);
    await sink.commit();
    for (const u of b.units.slice(4)) sink.add(u.bytes, u.run, u.index);
    await sink.commit();
    sink.close();

    const again = await SqliteSink.open(file, "quotes");
    assert.equal(again.state.runs, 2);
    assert.equal(again.state.lastSeq, 10);
    assert.equal(again.state.endOffset, b.units.length);
    assert.deepEqual(
      again.state.lastRun && [again.state.lastRun.run, again.state.lastRun.segments],
      [1, 2],
    );
    // A unit already there is never replaced; the sink takes no more after.
    again.add(b.units[1]!.bytes, 0, 0);
    await assert.rejects(again.commit(), /UNIQUE/);
    assert.throws(() => again.add(new Uint8Array(1), 2, -1), { message: /after a failed commit/ });
    again.close();

    const read = await walk({ kind: "sqlite", file, stream: undefined });
    assert.equal(read.error, undefined);
    assertDamage(read.end, {
      path: `${file}#quotes`,
      offset: 7,
      seq: 10,
      reason: "unfinished",
      detail: /^run 1 ends at unit 7 without its final segment/,
    });
    assert.deepEqual(read.units.map((u) => u.offset), b.units.map((_, i) => i));
    assert.deepEqual(
      read.units.map((u) => (u.kind === "segment" ? u.unit : u.header.bytes)),
      b.units.map((u) => u.bytes),
    );

    // A second stream: a reader must name one.
    const other = await SqliteSink.open(file, "trades");
    const c = await new StoreBuilder().run();
    other.add(c.units[0]!.bytes, 0, -1);
    await other.commit();
    other.close();
    await assert.rejects(
      openSealedSource({ kind: "sqlite", file, stream: undefined }),
      { name: "SealedFormatError", message: /holds streams 'quotes', 'trades': name one/ },
    );
    assert.equal((await walk({ kind: "sqlite", file, stream: "trades" })).units.length, 1);
    // A stream the file does not hold is a mistake, named with the ones it does.
    await assert.rejects(
      openSealedSource({ kind: "sqlite", file, stream: "qoutes" }),
      {
        name: "SealedFormatError",
        message: /holds no stream 'qoutes': it holds 'quotes', 'trades'/,
      },
    );

    // A changed byte, and a row filed under another key, are damage named by unit.
    const db = new DatabaseSync(file);
    const flipped = b.units[2]!.bytes.slice();
    flipped[60]! ^= 1;
    db.prepare(
      "UPDATE spool_sealed_units SET unit = ? WHERE stream = 'quotes' AND run = 0 AND idx = 1",
    )
      .run(flipped);
    db.close();
    assertDamage((await walk({ kind: "sqlite", file, stream: "quotes" })).error, {
      path: `${file}#quotes`,
      offset: 2,
      seq: 2,
      reason: "checksum",
      detail: /^unit 2 \(run 0, index 1\): segment 1 fails its checksum/,
    });
    const db2 = new DatabaseSync(file);
    db2.prepare(
      "UPDATE spool_sealed_units SET unit = ? WHERE stream = 'quotes' AND run = 0 AND idx = 1",
    )
      .run(b.units[2]!.bytes);
    db2.exec(
      "UPDATE spool_sealed_units SET idx = 7 WHERE stream = 'quotes' AND run = 1 AND idx = 1",
    );
    db2.close();
    assertDamage((await walk({ kind: "sqlite", file, stream: "quotes" })).error, {
      path: `${file}#quotes`,
      offset: 6,
      seq: 7,
      reason: "order",
      detail: /^unit 6 \(run 1, index 7\): holds segment 1 of run 1/,
    });
  });
});

Deno.test("a SQLite unit cut short or with bytes after it is damage, never a torn tail", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/s.db`;
    const b = await twoRuns();
    const sink = await SqliteSink.open(file, undefined);
    for (const u of b.units.slice(0, 2)) sink.add(u.bytes, u.run, u.index);
    sink.add(b.units[2]!.bytes.subarray(0, 80), 0, 1);
    await sink.commit();
    sink.close();
    const loc: SealedLocation = { kind: "sqlite", file, stream: "default" };
    assertDamage((await walk(loc)).error, {
      path: `${file}#default`,
      offset: 2,
      seq: 2,
      reason: "torn",
      detail: /^unit 2 \(run 0, index 1\): the unit is cut short/,
    });
    const db = new DatabaseSync(file);
    db.prepare("UPDATE spool_sealed_units SET unit = ? WHERE idx = 1").run(
      joinBytes([b.units[2]!.bytes, new Uint8Array(1)]),
    );
    db.close();
    assertDamage((await walk(loc)).error, {
      path: `${file}#default`,
      offset: 2,
      seq: 2,
      reason: "header",
      detail: /more bytes than its header says/,
    });
  });
});

// ---------------------------------------------------------------- modes

Deno.test("stores are created 0600 in directories created 0700, and nothing existing is widened", async () => {
  await withDir(async (dir) => {
    const mode = (path: string) => Deno.statSync(path).mode! & 0o777;
    (await FileSink.open(`${dir}/new/store`)).close();
    assert.equal(mode(`${dir}/new`), 0o700);
    assert.equal(mode(`${dir}/new/store`), 0o700);
    assert.equal(mode(`${dir}/new/store/stream.sealed`), 0o600);
    assert.equal(mode(`${dir}/new/store/writer.lock`), 0o600);

    const sqlite = await SqliteSink.open(`${dir}/db/s.db`, undefined);
    sqlite.add((await new StoreBuilder().run()).units[0]!.bytes, 0, -1);
    await sqlite.commit();
    assert.equal(mode(`${dir}/db`), 0o700);
    assert.equal(mode(`${dir}/db/s.db`), 0o600);
    assert.equal(mode(`${dir}/db/s.db-wal`), 0o600);
    sqlite.close();

    // What exists keeps its mode, narrower or wider.
    Deno.mkdirSync(`${dir}/old`);
    Deno.chmodSync(`${dir}/old`, 0o750);
    Deno.writeFileSync(`${dir}/old/stream.sealed`, new Uint8Array(0));
    Deno.chmodSync(`${dir}/old/stream.sealed`, 0o640);
    Deno.writeFileSync(`${dir}/old/writer.lock`, new Uint8Array(0));
    Deno.chmodSync(`${dir}/old/writer.lock`, 0o640);
    Deno.writeFileSync(`${dir}/old.db`, new Uint8Array(0));
    Deno.chmodSync(`${dir}/old.db`, 0o644);
    (await FileSink.open(`${dir}/old`)).close();
    (await SqliteSink.open(`${dir}/old.db`, undefined)).close();
    assert.equal(mode(`${dir}/old`), 0o750);
    assert.equal(mode(`${dir}/old/stream.sealed`), 0o640);
    assert.equal(mode(`${dir}/old/writer.lock`), 0o640);
    assert.equal(mode(`${dir}/old.db`), 0o644);

    // A store that starts as RUN_MAGIC's prefix is still a store.
    Deno.writeFileSync(`${dir}/old/stream.sealed`, RUN_MAGIC.subarray(0, 2));
    const sink = await FileSink.open(`${dir}/old`);
    assert.equal(sink.state.tornBytes, 2);
    sink.close();
    assert.equal(Deno.statSync(`${dir}/old/stream.sealed`).size, 0);
  });
});

Deno.test("a run header whose length is damaged is never taken for a torn tail to cut", async () => {
  await withDir(async (dir) => {
    const b = await twoRuns();
    const original = joinBytes(b.units.map((u) => u.bytes));
    const at = b.offsetOf(4); // run 1's header, with its two segments after it
    // Every single-bit flip of header_len that makes it claim more than the file holds.
    let flips = 0;
    for (let bit = 0; bit < 32; bit++) {
      const bytes = original.slice();
      bytes[at + 12 + (bit >> 3)]! ^= 1 << (bit & 7);
      const claimed = new DataView(bytes.buffer).getUint32(at + 12, true);
      if (at + claimed <= bytes.length || claimed > 65536) continue;
      const store = writeStore(`${dir}`, bytes);
      await assert.rejects(FileSink.open(store), (error: unknown) => {
        assert.ok(error instanceof SealedDamageError, String(error));
        assert.equal(error.reason, "header");
        assert.equal(error.offset, at);
        return true;
      });
      // Nothing was cut: run 1's committed segments are all still there.
      assert.deepEqual(Deno.readFileSync(`${store}/stream.sealed`), bytes);
      Deno.removeSync(store, { recursive: true });
      flips++;
    }
    assert.ok(flips >= 4, `${flips} flips tested`);
  });
});

Deno.test("a whole last segment failing its checksum is damage, and no writer cuts it", async () => {
  await withDir(async (dir) => {
    const b = await twoRuns();
    const bytes = joinBytes(b.units.map((u) => u.bytes));
    const end = b.offsetOf(b.units.length - 1);
    // A flipped bit: rot or tampering of what may be committed, not a tear.
    bytes[end + 70]! ^= 1;
    const store = writeStore(dir, bytes);
    const read = await walk({ kind: "file", dir: store });
    assert.equal(read.units.length, b.units.length - 1);
    assertDamage(read.error, {
      path: `${store}/stream.sealed`,
      offset: end,
      seq: 7,
      reason: "checksum",
      detail: /fails its checksum/,
    });
    await assert.rejects(FileSink.open(store), SealedDamageError);
    assert.deepEqual(Deno.readFileSync(`${store}/stream.sealed`), bytes);
  });
});
