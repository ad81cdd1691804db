/**
 * The damage matrix: a generated queue is damaged in each way a disk or an
 * operator can damage it (zeroed ranges, a zeroed record header, truncation,
 * deletion, a directory or a FIFO in place of a segment) at its first, a
 * middle and its last (active) segment. The real programs then read it:
 * `replay` delivers every record before the damage (byte for byte, none
 * invented), exits 1 and names the file, the offset and the seq in one line;
 * `archive-tap --once` copies exactly those records and fails the same way;
 * `import` refuses to append to a queue whose damage its cheap checks see,
 * and leaves it byte for byte as it was.
 *
 * Where a record is zeroed inside a checksum block, the block's records
 * cannot be verified, so delivery stops at the start of that block: the
 * expected count comes from the block layout read from the file by
 * `segmentLayout`, which follows docs/chronicle-format.md, not src/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueWriter } from "../src/chronicle/mod.ts";
import { runProgram } from "./_helpers.ts";
import {
  blockOf,
  patch,
  payloadFor,
  payloadProblem,
  type SegmentLayout,
  segmentLayout,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";

const SEGMENT_BYTES = 256 * 1024;
const LAST = 4; // the active segment
const POSITIONS = [["first", 0], ["middle", 2], ["last", LAST]] as const;

const segPath = (dir: string, index: number) => `${dir}/${String(index).padStart(10, "0")}.seg`;

/** A queue of four sealed segments and an active one half full; returns its last seq. */
async function generate(dir: string): Promise<number> {
  const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
  try {
    const append = () => {
      const seq = w.lastSeq + 1;
      w.append(seq % 7, payloadFor(seq), BigInt(seq) * 1_000_000n);
    };
    while (w.segmentIndex < LAST) append();
    for (let i = 0; i < 800; i++) append();
    return w.lastSeq;
  } finally {
    w.close();
  }
}

function zero(path: string, offset: number, length: number): void {
  patch(path, offset, new Uint8Array(length));
}

/** What a damage did: where readers must stop, and whether a writer's cheap checks see it. */
interface Expected {
  /** Path the error names. */
  path: string;
  /** Offset the error names. */
  offset: number;
  /** Seq the error names: the first record not delivered. */
  seq: number;
  /** Records delivered: 1 .. delivered. */
  delivered: number;
  /** Whether `import` must refuse the queue. */
  writerRefuses: boolean;
  /**
   * Whether the end of the queue can still be found: `tail -n` counts back
   * from it, so without it tail delivers nothing before naming the damage.
   */
  endFound: boolean;
}

type Damage = (dir: string, index: number) => Promise<Expected> | Expected;

function firstSeq(dir: string, index: number): number {
  return segmentLayout(segPath(dir, index)).firstSeq;
}

// Zeroed bytes in a segment: readers stop at the start of the block they are
// in; a writer sees it only in the active segment, which it reads on open.
function zeroedAt(where: (layout: SegmentLayout) => [offset: number, length: number]): Damage {
  return (dir, index) => {
    const path = segPath(dir, index);
    const [offset, length] = where(segmentLayout(path));
    const block = blockOf(path, offset);
    zero(path, offset, length);
    return {
      path,
      offset: block.offset,
      seq: block.seq,
      delivered: block.seq - 1,
      writerRefuses: index === LAST,
      endFound: true,
    };
  };
}

// Segment-level damage: the segment is unreadable, so readers stop at its
// first record. When even its header is gone from the first segment, a
// reader names the first seq it can see, after the damage.
function segmentGone(
  offset: number,
  headerKept: boolean,
  act: (path: string) => Promise<void> | void,
): Damage {
  return async (dir, index) => {
    const path = segPath(dir, index);
    const seq = index === 0 && !headerKept ? firstSeq(dir, 1) : firstSeq(dir, index);
    await act(path);
    const delivered = index === 0 ? 0 : seq - 1;
    // A listed last segment that cannot be opened hides the end; a missing
    // one, or one that is not a file, leaves the one before it as the end.
    const endFound = index !== LAST || !headerKept;
    return { path, offset, seq, delivered, writerRefuses: true, endFound };
  };
}

const DAMAGES: [string, Damage][] = [
  [
    "a zeroed range",
    zeroedAt((layout) => {
      // Starts inside a record, not at a boundary, and spans several blocks.
      return [layout.records[Math.floor(layout.records.length / 2)]!.offset + 13, 40_000];
    }),
  ],
  ["a zeroed record header", zeroedAt((layout) => [layout.records[100]!.offset, 4])],
  ["truncation", segmentGone(32, true, (path) => Deno.truncateSync(path, SEGMENT_BYTES / 2))],
  ["deletion", segmentGone(0, false, (path) => Deno.removeSync(path))],
  [
    "a directory in its place",
    segmentGone(0, false, (path) => {
      Deno.removeSync(path);
      Deno.mkdirSync(path);
    }),
  ],
  [
    "a FIFO in its place",
    segmentGone(0, false, async (path) => {
      Deno.removeSync(path);
      const made = await new Deno.Command("mkfifo", { args: [path] }).output();
      assert.equal(made.code, 0);
    }),
  ],
];

/** Checks JSON record lines: seqs 1..n in order, each payload exactly what was written. */
function assertDelivered(stdout: string, n: number, context: string): void {
  const lines = stdout.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, n, `${context}: records delivered`);
  lines.forEach((line, i) => {
    const record = JSON.parse(line);
    assert.equal(record.seq, i + 1, context);
    const payload = record.encoding === "base64"
      ? Uint8Array.from(atob(record.payload), (c) => c.charCodeAt(0))
      : new TextEncoder().encode(record.payload);
    assert.equal(payloadProblem(record.seq, payload), undefined, context);
  });
}

function assertOneLine(stderr: string, program: string, e: Expected, context: string): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${context}: one line, got ${stderr}`);
  const line = lines[0]!;
  assert.ok(line.startsWith(`${program}: `), `${context}: ${line}`);
  assert.ok(
    line.includes(`'${e.path}' is damaged at offset ${e.offset}, seq ${e.seq}: `),
    `${context}: expected file '${e.path}', offset ${e.offset}, seq ${e.seq} in: ${line}`,
  );
  assert.ok(!/\n\s+at /.test(stderr), `${context}: no stack trace`);
}

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (!entry.isFile || entry.name === "writer.lock") {
      out.set(entry.name, entry.isDirectory ? "dir" : "other");
      continue;
    }
    const bytes = Deno.readFileSync(path);
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
    out.set(entry.name, `${bytes.length}:${h}`);
  }
  return out;
}

for (const [what, damage] of DAMAGES) {
  for (const [where, index] of POSITIONS) {
    Deno.test(`damage matrix: ${what} at the ${where} segment`, async () => {
      await withQueueDir(async (root) => {
        const dir = `${root}/q`;
        const last = await generate(dir);
        const e = await damage(dir, index);
        assert.ok(e.delivered < last, "the damage is before the end");
        const context = `${what} at segment ${index}`;

        const replay = await runProgram("replay", [dir, "--json"]);
        assert.equal(replay.code, 1, `${context}: ${replay.stderr}`);
        assertOneLine(replay.stderr, "replay", e, `${context}, replay`);
        assertDelivered(replay.stdout, e.delivered, `${context}, replay`);

        // tail reading the whole queue meets the same damage, after the same records.
        const tail = await runProgram("tail", [dir, "-n", String(last), "--json"]);
        assert.equal(tail.code, 1, `${context}: ${tail.stderr}`);
        assertOneLine(tail.stderr, "tail", e, `${context}, tail`);
        const tailed = tail.stdout.split("\n").filter((l) => l !== "").length;
        assert.equal(tailed, e.endFound ? e.delivered : 0, `${context}, tail`);

        const archive = `${root}/archive`;
        const tap = await runProgram("archive-tap", [
          "--live",
          dir,
          "--archive",
          archive,
          "--once",
        ]);
        assert.equal(tap.code, 1, `${context}: ${tap.stderr}`);
        const tapError = tap.stderr.trimEnd().split("\n").filter((l) =>
          l.includes("is damaged at")
        );
        assert.equal(tapError.length, 1, `${context}, archive-tap: ${tap.stderr}`);
        assertOneLine(tapError[0]!, "archive-tap", e, `${context}, archive-tap`);
        if (e.delivered > 0) {
          const copied = await runProgram("replay", [archive, "--json"]);
          assert.equal(copied.code, 0, copied.stderr);
          assertDelivered(copied.stdout, e.delivered, `${context}, archive`);
        }

        if (e.writerRefuses) {
          const before = snapshot(dir);
          const line = '{"seq":1,"timestamp_ns":1,"type_id":1,"encoding":"utf8","payload":"x"}\n';
          const imported = await runProgram("import", ["--to", dir], { stdin: line });
          assert.equal(imported.code, 1, `${context}: ${imported.stdout}${imported.stderr}`);
          const lines = imported.stderr.trimEnd().split("\n");
          assert.equal(lines.length, 1, `${context}, import: ${imported.stderr}`);
          assert.match(lines[0]!, /^import: .*damaged at offset \d+, seq \d+: /);
          assert.ok(lines[0]!.includes(dir), lines[0]);
          assert.deepEqual(snapshot(dir), before, `${context}: import changed nothing`);
        }
      });
    });
  }
}

Deno.test("damage matrix: an undamaged queue reads whole and ends cleanly", async () => {
  await withQueueDir(async (root) => {
    const dir = `${root}/q`;
    const last = await generate(dir);
    const replay = await runProgram("replay", [dir, "--json"]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.stderr, "");
    assertDelivered(replay.stdout, last, "undamaged");
  });
});
