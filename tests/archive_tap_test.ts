/**
 * The archive tap: the real `archive-tap` program copying real queues,
 * killed with SIGKILL at random moments while a producer process keeps
 * appending, stopped by signals, and refusing bad input; and the library
 * in-process for what a process cannot show (a gap opening while following).
 */

import assert from "node:assert/strict";
import { ROOT, runProgram, spawnProgram, testDirMaker, waitFor } from "./_helpers.ts";
import {
  fixture,
  Lines,
  payloadFor,
  payloadProblem,
  readRecords,
  sleep,
} from "./fixtures/chronicle_common.ts";
import {
  queueExists,
  QueueReader,
  QueueWriter,
  type QueueWriterOptions,
  ReaderOffset,
} from "../src/chronicle/mod.ts";
import {
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  SEGMENT_BYTES_MULTIPLE,
} from "../src/chronicle/queue_writer.ts";
import { ArchiveGapError, archiveTap, lastSeqOf, queueSeqRange } from "../src/archive/mod.ts";
import { findProgram } from "../cli/manifest.ts";

/** A fresh directory for one test. */
const testDir = await testDirMaker("spool-archive-tap-test-");

const SMALL: QueueWriterOptions = { segmentBytes: 64 * 1024 };

/** Appends `count` records, each derived from its seq (type, timestamp and payload). */
function appendRecords(w: QueueWriter, count: number): void {
  for (let i = 0; i < count; i++) {
    const seq = w.lastSeq + 1;
    w.append(seq & 0xffff, payloadFor(seq), BigInt(seq) * 1000n + 7n);
  }
}

/** A live queue of `count` records, closed. */
async function liveQueue(dir: string, count: number, options: QueueWriterOptions = {}) {
  const w = await QueueWriter.open(dir, { ...SMALL, ...options });
  appendRecords(w, count);
  w.close();
}

/** The archive holds exactly the live records from `fromSeq` on: same seq, type, time, payload. */
async function assertArchived(archive: string, live: string, fromSeq?: number): Promise<number> {
  const want = (await readRecords(live)).filter((r) => fromSeq === undefined || r.seq >= fromSeq);
  const got = await readRecords(archive);
  for (let i = 0; i < Math.min(want.length, got.length); i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (
      a.seq !== b.seq || a.typeId !== b.typeId || a.timestampNs !== b.timestampNs ||
      payloadProblem(a.seq, a.payload) !== undefined
    ) {
      assert.fail(
        `archive record ${i} is seq ${a.seq} type ${a.typeId} at ${a.timestampNs}, live has seq ${b.seq} type ${b.typeId} at ${b.timestampNs}; ${
          payloadProblem(a.seq, a.payload) ?? "payloads equal"
        }`,
      );
    }
    assert.deepEqual(a.payload, b.payload);
  }
  assert.equal(got.length, want.length, "archive and live hold as many records");
  return got.length;
}

/** The archive's last seq; undefined while it does not exist or is being created. */
async function archiveEnd(archive: string): Promise<number | undefined> {
  try {
    return queueExists(archive) ? await lastSeqOf(archive) : undefined;
  } catch {
    return undefined; // queue.meta not written yet
  }
}

function committed(live: string, name = "archive-tap"): number | undefined {
  return ReaderOffset.list(live).find((r) => r.name === name)?.committedSeq;
}

function stderrLines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** Waits for a spawned program to end and releases its pipes. */
async function finish(child: Deno.ChildProcess, stderr: Lines): Promise<Deno.CommandStatus> {
  await child.stdin.close().catch(() => {});
  const status = await child.status;
  await stderr.rest();
  await child.stdout.cancel();
  return status;
}

Deno.test("--once --start earliest copies every record with its seq, type, timestamp and payload", async () => {
  const dir = await testDir();
  await liveQueue(`${dir}/live`, 3000, { firstSeq: 1001 });
  const out = await runProgram("archive-tap", [
    ...["--live", `${dir}/live`, "--archive", `${dir}/archive`],
    ...["--start", "earliest", "--once", "--segment-bytes", "65536"],
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "");
  const lines = stderrLines(out.stderr);
  assert.equal(
    lines[0],
    `archive-tap: opened live queue '${dir}/live' at seq 1001 (start 'earliest'; it holds seqs 1001..4000)`,
  );
  assert.match(lines[1]!, /^archive-tap: archive queue '.*\/archive' is new/);
  assert.equal(
    lines[2],
    `archive-tap: created archive queue '${dir}/archive' starting at seq 1001`,
  );
  assert.match(
    lines.at(-1)!,
    /^archive-tap: copied 3,000 records \(seqs 1001\.\.4000\) in [\d.]+ s; archive '.*' ends at seq 4000$/,
  );
  assert.equal(await assertArchived(`${dir}/archive`, `${dir}/live`), 3000);
  assert.equal(committed(`${dir}/live`), 4000);
  // Several segments on both sides, so the copy crossed rolls.
  assert.ok(
    [...Deno.readDirSync(`${dir}/archive`)].filter((e) => e.name.endsWith(".seg")).length > 3,
  );
});

Deno.test("--start committed with nothing committed starts at the earliest; the next run copies only what is new", async () => {
  const dir = await testDir();
  const args = ["--live", `${dir}/live`, "--archive", `${dir}/archive`, "--once"];
  const w = await QueueWriter.open(`${dir}/live`, SMALL);
  appendRecords(w, 100);
  const first = await runProgram("archive-tap", [...args, "--start", "committed"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stderr,
    /at seq 1 \(start 'committed': reader 'archive-tap' has committed nothing, so from the earliest; it holds seqs 1\.\.100\)/,
  );
  assert.equal(committed(`${dir}/live`), 100);
  appendRecords(w, 50);
  const second = await runProgram("archive-tap", args); // committed is the default
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stderr,
    /at seq 101 \(start 'committed': reader 'archive-tap' committed seq 100;/,
  );
  assert.match(second.stderr, /copied 50 records \(seqs 101\.\.150\)/);
  w.close();
  assert.equal(await assertArchived(`${dir}/archive`, `${dir}/live`), 150);
  assert.equal(committed(`${dir}/live`), 150);
});

Deno.test("records archived but not committed (a kill between the two) are not copied again", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const w = await QueueWriter.open(live, SMALL);
  appendRecords(w, 200);
  const first = await runProgram("archive-tap", ["--live", live, "--archive", archive, "--once"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(committed(live), 200);
  appendRecords(w, 100);
  w.close();
  // The crash, by hand: seqs 201..260 reach the archive, the commit does not.
  const r = await QueueReader.open(live, { start: { seq: 201 } });
  const a = await QueueWriter.open(archive, { durability: "durable" });
  for (let m = r.next(); m !== undefined && m.seq <= 260; m = r.next()) {
    a.append(m.typeId, m.payload, m.timestampNs);
  }
  assert.equal(a.lastSeq, 260);
  a.close();
  r.close();
  assert.equal(committed(live), 200);

  const out = await runProgram("archive-tap", [
    ...["--live", live, "--archive", archive, "--start", "committed", "--once"],
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /reader 'archive-tap' committed seq 200;/);
  assert.match(out.stderr, /the archive already holds seqs 201\.\.260: going on from seq 261/);
  assert.match(out.stderr, /copied 40 records \(seqs 261\.\.300\)/);
  assert.equal(await assertArchived(archive, live), 300);
  assert.equal(committed(live), 300);
});

Deno.test("a commit ahead of the archive (a machine crash lost its unsynced end) is copied again", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  await liveQueue(live, 100);
  const args = ["--live", live, "--archive", archive, "--once"];
  assert.equal((await runProgram("archive-tap", args)).code, 0);
  await liveQueue(live, 100);
  // The offset reached the disk, records 101..150 of the archive did not.
  const offset = ReaderOffset.open(live, "archive-tap", false);
  offset.commit(150);
  offset.close();
  const out = await runProgram("archive-tap", args);
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stderr,
    /the archive ends at seq 100, before the committed position: copying again from seq 101/,
  );
  assert.match(out.stderr, /copied 100 records \(seqs 101\.\.200\)/);
  assert.equal(await assertArchived(archive, live), 200);
  assert.equal(committed(live), 200);
});

Deno.test("--start latest copies only records appended after it started; SIGINT stops it with status 0", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const w = await QueueWriter.open(live, SMALL);
  appendRecords(w, 100);
  const child = spawnProgram("archive-tap", [
    ...["--live", live, "--archive", archive, "--start", "latest"],
  ]);
  const stderr = new Lines(child.stderr);
  try {
    assert.match(
      await stderr.until("archive-tap: opened live queue"),
      /at seq 101 \(start 'latest'/,
    );
    await stderr.until("archive-tap: archive queue");
    appendRecords(w, 25);
    await waitFor(
      "the archive to reach seq 125",
      async () => (await archiveEnd(archive)) === 125 ? true : undefined,
    );
    child.kill("SIGINT");
  } finally {
    const status = await finish(child, stderr);
    assert.equal(status.code, 0, stderr.seen.join("\n"));
  }
  w.close();
  assert.match(
    stderr.seen.at(-1)!,
    /copied 25 records \(seqs 101\.\.125\) in .*, stopped by a signal;/,
  );
  assert.equal(await assertArchived(archive, live, 101), 25);
  assert.equal((await readRecords(archive))[0]!.seq, 101);
  assert.equal(committed(live), 125);
});

Deno.test("following a producer process: SIGTERM exits 0 with everything copied and committed", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const feed = spawnFeed(live, 50);
  const feedOut = new Lines(feed.stdout);
  await feedOut.until("open");
  const child = spawnProgram("archive-tap", ["--live", live, "--archive", archive]);
  const stderr = new Lines(child.stderr);
  let last: number;
  try {
    await stderr.until("archive-tap: opened live queue");
    await sleep(300);
    await feed.stdin.close();
    last = Number((await feedOut.until("last ")).slice(5));
    assert.equal((await feed.status).code, 0);
    await waitFor(
      `the archive to reach seq ${last}`,
      async () => (await archiveEnd(archive)) === last ? true : undefined,
    );
    child.kill("SIGTERM");
  } finally {
    await feedOut.cancel();
    await feed.stderr.cancel();
    const status = await finish(child, stderr);
    assert.equal(status.code, 0, stderr.seen.join("\n"));
  }
  assert.ok(last > 0);
  assert.match(
    stderr.seen.at(-1)!,
    new RegExp(`stopped by a signal; archive '.*' ends at seq ${last}$`),
  );
  assert.equal(await assertArchived(archive, live), last);
  assert.equal(committed(live), last);
});

Deno.test("following blocks in the futex, yet SIGTERM stops it promptly, mid-stream or idle, and nothing is lost", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const feed = spawnFeed(live, 20);
  const feedOut = new Lines(feed.stdout);
  await feedOut.until("open");
  const args = ["--live", live, "--archive", archive];
  /** SIGTERM, then the time until the tap has exited (status 0) and its last line. */
  const stop = async (child: Deno.ChildProcess, stderr: Lines) => {
    const sent = performance.now();
    child.kill("SIGTERM");
    // A tap that never notices fails the test instead of stalling it.
    const guard = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const status = await child.status;
    clearTimeout(guard);
    const ms = performance.now() - sent;
    await finish(child, stderr);
    assert.equal(status.code, 0, stderr.seen.join("\n"));
    assert.match(stderr.seen.at(-1)!, /, stopped by a signal; archive '.*' ends at seq \d+$/);
    return ms;
  };
  let last: number;
  try {
    // Mid-stream: the feed appends every few ms, so the tap never waits long.
    const child = spawnProgram("archive-tap", args);
    const stderr = new Lines(child.stderr);
    await waitFor(
      "the archive to pass seq 500",
      async () => (await archiveEnd(archive) ?? 0) > 500 || undefined,
    );
    const ms = await stop(child, stderr);
    assert.ok(ms < 2000, `stopped ${ms.toFixed(0)} ms after SIGTERM while copying`);
    const end = (await archiveEnd(archive))!;
    assert.equal(committed(live), end, "commits what the archive holds");
    const live1 = (await readRecords(live)).slice(0, end);
    const got = await readRecords(archive);
    assert.deepEqual(
      got.map((r) => [r.seq, r.typeId, r.timestampNs, r.payload]),
      live1.map((r) => [r.seq, r.typeId, r.timestampNs, r.payload]),
    );
    await feed.stdin.close();
    last = Number((await feedOut.until("last ")).slice(5));
    assert.equal((await feed.status).code, 0);
  } finally {
    await feed.stdin.close().catch(() => {});
    await feedOut.cancel();
    await feed.stderr.cancel();
  }
  // Idle: the tap catches up, then sits in the futex until the signal.
  const child = spawnProgram("archive-tap", args);
  const stderr = new Lines(child.stderr);
  await waitFor(
    `the archive to reach seq ${last}`,
    async () => (await archiveEnd(archive)) === last || undefined,
  );
  await sleep(300);
  const ms = await stop(child, stderr);
  assert.ok(ms < 2000, `stopped ${ms.toFixed(0)} ms after SIGTERM while idle`);
  assert.equal(await assertArchived(archive, live), last);
  assert.equal(committed(live), last);
});

function spawnFeed(live: string, maxBurst: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", fixture("archive_feed_child.ts"), live, "65536", String(maxBurst)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A small seeded generator, so a failing run can be repeated with its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s + Math.imul(s ^ (s >>> 7), 61);
    return ((s ^ (s >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

Deno.test("SIGKILLed at random moments while the live queue grows, the tap resumes with no loss and no duplicate", async () => {
  const seed = Number(Deno.env.get("ARCHIVE_TAP_SEED") ?? Date.now() % 1_000_000);
  const rand = random(seed);
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const feed = spawnFeed(live, 300);
  const feedOut = new Lines(feed.stdout);
  await feedOut.until("open");
  const args = ["--live", live, "--archive", archive, "--segment-bytes", "65536"];
  const ends: number[] = [];
  let resumedPastCommit = 0;
  try {
    for (let round = 0; round < 12; round++) {
      const child = spawnProgram("archive-tap", [...args, "--start", "committed"]);
      const stderr = new Lines(child.stderr);
      await stderr.until("archive-tap: opened live queue");
      // Half the kills land while it catches up on what came during its start.
      await sleep(Math.floor(rand() * (round % 2 === 0 ? 15 : 150)));
      child.kill("SIGKILL");
      const status = await finish(child, stderr);
      assert.equal(status.signal, "SIGKILL", `seed ${seed}, round ${round}: ${stderr.seen}`);
      if (stderr.seen.some((l) => l.includes("the archive already holds"))) resumedPastCommit++;
      ends.push(await archiveEnd(archive) ?? 0);
    }
    await feed.stdin.close();
  } finally {
    await feed.stdin.close().catch(() => {});
  }
  const last = Number((await feedOut.until("last ")).slice(5));
  await feedOut.cancel();
  await feed.stderr.cancel();
  assert.equal((await feed.status).code, 0);
  const out = await runProgram("archive-tap", [...args, "--start", "committed", "--once"]);
  assert.equal(out.code, 0, out.stderr);
  const copied = await assertArchived(archive, live);
  assert.equal(copied, last, `seed ${seed}`);
  const seqs = (await readRecords(archive)).map((r) => r.seq);
  assert.ok(seqs.every((s, i) => s === i + 1), `seed ${seed}: seqs run 1..${last} with no gap`);
  assert.equal(committed(live), last);
  // The kills landed while the tap was copying: the archive grew between them.
  assert.ok(new Set(ends).size >= 6, `seed ${seed}: archive ends per round ${ends}`);
  console.log(
    `seed ${seed}: ${last} records, ends ${
      ends.join(" ")
    }, ${resumedPastCommit} restarts found records past the commit`,
  );
});

Deno.test("--start latest on an archive that ends earlier is a gap: exit 1 with a hint; earliest fills it in", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const w = await QueueWriter.open(live, SMALL);
  appendRecords(w, 10);
  const args = ["--live", live, "--archive", archive, "--once"];
  assert.equal((await runProgram("archive-tap", [...args, "--start", "earliest"])).code, 0);
  appendRecords(w, 20);
  w.close();
  const out = await runProgram("archive-tap", [...args, "--start", "latest"]);
  assert.equal(out.code, 1, out.stderr);
  assert.equal(
    stderrLines(out.stderr).at(-1),
    `archive-tap: Archive '${archive}' cannot have a gap: seqs 11..30 are missing, as start 'latest' is at seq 31 of live queue '${live}'; the live queue still holds them: start at 'committed' or 'earliest' to copy them, or archive into a new directory`,
  );
  assert.equal(await lastSeqOf(archive), 10);
  const fill = await runProgram("archive-tap", [...args, "--start", "earliest"]);
  assert.equal(fill.code, 0, fill.stderr);
  assert.match(fill.stderr, /the archive already holds seqs 1\.\.10: going on from seq 11/);
  assert.equal(await assertArchived(archive, live), 30);
});

Deno.test("the tap does not hold back live retention; records deleted before it copied them are a gap: exit 1", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const w = await QueueWriter.open(live, { ...SMALL, retention: { maxSegments: 3 } });
  appendRecords(w, 300);
  const args = ["--live", live, "--archive", archive, "--once"];
  const first = await runProgram("archive-tap", args);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(committed(live), 300);
  // Many segments' worth more: retention deletes past the tap's commit.
  appendRecords(w, 6000);
  w.close();
  const range = await queueSeqRange(live);
  assert.ok(range.first > 301, `retention kept seqs ${range.first}..${range.last}`);
  assert.ok([...Deno.readDirSync(live)].filter((e) => e.name.endsWith(".seg")).length <= 4);

  const out = await runProgram("archive-tap", args);
  assert.equal(out.code, 1, out.stderr);
  assert.equal(
    stderrLines(out.stderr).at(-1),
    `archive-tap: Archive '${archive}' cannot have a gap: seqs 301..${
      range.first - 1
    } are missing, as live queue '${live}' no longer holds them (it starts at seq ${range.first}): its retention deleted them before the tap read them; to go on, archive into a new directory (this archive stays whole up to seq 300) and give live queue '${live}' a longer retention`,
  );
  assert.equal(await lastSeqOf(archive), 300, "nothing was appended past the gap");
  assert.equal(committed(live), 300);
});

Deno.test("an archive ahead of the live queue (the live queue was created again) is refused: exit 1", async () => {
  const dir = await testDir();
  await liveQueue(`${dir}/live`, 100);
  const args = ["--live", `${dir}/live`, "--archive", `${dir}/archive`, "--once"];
  assert.equal((await runProgram("archive-tap", args)).code, 0);
  await Deno.remove(`${dir}/live`, { recursive: true });
  await liveQueue(`${dir}/live`, 40);
  const out = await runProgram("archive-tap", [...args, "--start", "earliest"]);
  assert.equal(out.code, 1, out.stderr);
  assert.match(
    stderrLines(out.stderr).at(-1)!,
    /^archive-tap: Archive '.*' ends at seq 100 but live queue '.*' ends at seq 40: the archive holds records the live queue does not/,
  );
  assert.equal(await lastSeqOf(`${dir}/archive`), 100);
});

Deno.test("a record the archive cannot take stops the tap with what came before archived and committed", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const w = await QueueWriter.open(live, { segmentBytes: 256 * 1024 });
  appendRecords(w, 4);
  w.append(1, new Uint8Array(100_000).fill(9));
  appendRecords(w, 3);
  w.close();
  const out = await runProgram("archive-tap", [
    ...["--live", live, "--archive", `${dir}/archive`, "--once", "--segment-bytes", "65536"],
  ]);
  assert.equal(out.code, 1, out.stderr);
  const lines = stderrLines(out.stderr);
  assert.match(lines.at(-2)!, /stopped after copying 4 records \(seqs 1\.\.4\)/);
  assert.match(lines.at(-1)!, /^archive-tap: A record of 100024 bytes does not fit in a segment/);
  assert.equal(await lastSeqOf(`${dir}/archive`), 4);
  assert.equal(
    committed(live),
    4,
    "the commit names the last record archived, not the one refused",
  );
});

Deno.test("bus stream directories: the archive of a bus stream is a bus stream", async () => {
  const bus = await testDir();
  await liveQueue(`${bus}/live/quotes/queue`, 20);
  const out = await runProgram("archive-tap", [
    ...["--live", `${bus}/live/quotes`, "--archive", `${bus}/archive/quotes`, "--once"],
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(
    await assertArchived(`${bus}/archive/quotes/queue`, `${bus}/live/quotes/queue`),
    20,
  );
});

/** Runs the program, expecting one line on stderr and the given status. */
async function oneLine(args: string[], code: number): Promise<string> {
  const out = await runProgram("archive-tap", args);
  assert.equal(out.code, code, out.stderr);
  assert.equal(out.stdout, "");
  const lines = stderrLines(out.stderr);
  assert.equal(lines.length, 1, out.stderr);
  return lines[0]!;
}

Deno.test("bad input: one line on stderr, exit 2 for usage and 1 for the rest, nothing written", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  await liveQueue(live, 5);
  await Deno.symlink(live, `${dir}/link`);

  for (const archive of [live, `${dir}/link/`, `${dir}/./live`]) {
    assert.equal(
      await oneLine(["--live", live, "--archive", archive], 2),
      `archive-tap: Live queue '${live}' and archive '${archive}' are the same directory: the archive must be another queue`,
    );
  }
  assert.equal(committed(live), undefined, "no reader was opened on the live queue");

  assert.equal(
    await oneLine(["--live", `${dir}/nope`, "--archive", `${dir}/a`], 1),
    `archive-tap: Live queue '${dir}/nope' is not a spool queue (no such directory): pass the directory of a queue, or of a bus stream`,
  );
  await Deno.mkdir(`${dir}/other`);
  await Deno.writeTextFile(`${dir}/other/notes.txt`, "not a queue");
  assert.match(
    await oneLine(["--live", `${dir}/other`, "--archive", `${dir}/a`], 1),
    /^archive-tap: Live queue '.*\/other' is not a spool queue \(no 'queue\.meta' in it\)/,
  );
  assert.match(
    await oneLine(["--live", live, "--archive", `${dir}/other`], 1),
    /^archive-tap: Directory '.*\/other' is not a spool queue: it has no 'queue\.meta' \(found 'notes\.txt'\)$/,
  );
  assert.equal(await Deno.readTextFile(`${dir}/other/notes.txt`), "not a queue");

  assert.equal(
    await oneLine(["--live", live, "--archive", `${dir}/a`, "--start", "newest"], 2),
    "archive-tap: Option '--start <mode>' argument 'newest' is invalid: allowed choices are 'earliest', 'latest', 'committed' (see 'archive-tap --help')",
  );
  assert.equal(
    await oneLine(["--archive", `${dir}/a`], 2),
    "archive-tap: Required option '--live <queue>' not specified (see 'archive-tap --help')",
  );
  assert.equal(
    await oneLine(["--live", live], 2),
    "archive-tap: Required option '--archive <queue>' not specified (see 'archive-tap --help')",
  );
  assert.match(
    await oneLine(["--live", live, "--archive", `${dir}/a`, "--name", "no spaces"], 2),
    /^archive-tap: Reader name 'no spaces' is not valid/,
  );
  assert.ok(!queueExists(`${dir}/a`), "no archive was created");

  // An archive another process writes (this one): named with its pid.
  const held = await QueueWriter.open(`${dir}/held`, SMALL);
  try {
    assert.equal(
      await oneLine(["--live", live, "--archive", `${dir}/held`], 1),
      `archive-tap: Queue '${dir}/held' is already open for writing by pid ${Deno.pid}`,
    );
  } finally {
    held.close();
  }
});

Deno.test("--segment-bytes outside the queue's limits is a usage error naming the option and the range", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  await liveQueue(live, 3);
  const rule =
    `${MIN_SEGMENT_BYTES}..${MAX_SEGMENT_BYTES} and a multiple of ${SEGMENT_BYTES_MULTIPLE}`;
  assert.equal(rule, "65536..4294963200 and a multiple of 4096");
  for (const bytes of ["8589934592", "4294967296", "65535", "61440", "69633"]) {
    assert.equal(
      await oneLine(
        ["--live", live, "--archive", `${dir}/a`, "--once", "--segment-bytes", bytes],
        2,
      ),
      `archive-tap: Option '--segment-bytes <bytes>' argument '${bytes}' is invalid: expected ${rule}, got '${bytes}' (see 'archive-tap --help')`,
    );
  }
  assert.ok(!queueExists(`${dir}/a`), "no archive was created");
  assert.equal(committed(live), undefined, "no reader was opened on the live queue");

  const help = await runProgram("archive-tap", ["--help"]);
  assert.match(help.stdout.replace(/\s+/g, " "), new RegExp(`--segment-bytes <bytes> .*${rule}`));
  for (const doc of ["docs/archive-tap.md", "docs/cli.md"]) {
    assert.ok((await Deno.readTextFile(`${ROOT}${doc}`)).includes(rule), `${doc} gives the limits`);
  }

  const largest = await runProgram("archive-tap", [
    ...["--live", live, "--archive", `${dir}/max`, "--once"],
    ...["--segment-bytes", String(MAX_SEGMENT_BYTES)],
  ]);
  assert.equal(largest.code, 0, largest.stderr);
  await assertArchived(`${dir}/max`, live);
});

Deno.test("a file-system failure is one line in the tape module's wording, never 'os error'", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  await liveQueue(live, 3);
  await Deno.writeTextFile(`${dir}/file`, "not a directory");
  assert.equal(
    await oneLine(["--live", live, "--archive", `${dir}/file/q`, "--once"], 1),
    `archive-tap: Cannot access '${dir}/file/q': not a directory`,
  );
  const long = `${dir}/${"n".repeat(300)}/q`;
  assert.equal(
    await oneLine(["--live", long, "--archive", `${dir}/a`, "--once"], 1),
    `archive-tap: Cannot access '${long}': file name too long`,
  );
});

Deno.test("without --allow-ffi: one line saying so, exit 1", async () => {
  const dir = await testDir();
  await liveQueue(`${dir}/live`, 1);
  const program = findProgram("archive-tap")!;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...program.permissions.filter((p) => p !== "--allow-ffi"),
      `${ROOT}${program.entry}`,
      ...["--live", `${dir}/live`, "--archive", `${dir}/archive`, "--once"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.deepEqual(stderrLines(stderr), [
    "archive-tap: The chronicle maps memory through libc and needs FFI access: run with '--allow-ffi'",
  ]);
});

Deno.test("in-process: a gap opening while following stops the tap with everything before it committed", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const w = await QueueWriter.open(live, { ...SMALL, retention: { maxSegments: 2 } });
  appendRecords(w, 10);
  const lines: string[] = [];
  const stop = new AbortController();
  const tap = archiveTap({
    live,
    archive,
    start: "earliest",
    signal: stop.signal,
    log: { info: (l) => lines.push(l) },
    segmentBytes: 64 * 1024,
  });
  const failed = tap.then(() => undefined, (e: unknown) => e);
  try {
    await waitFor(
      "the tap to copy seq 10",
      async () => (await archiveEnd(archive)) === 10 ? true : undefined,
    );
    // No await in between: the tap only runs again once retention has
    // deleted the segment it was reading and several after it.
    appendRecords(w, 5000);
    const error = await failed;
    assert.ok(error instanceof ArchiveGapError, String(error));
    const end = await lastSeqOf(archive);
    assert.equal(error.missingFrom, end + 1);
    assert.ok(error.missingTo >= error.missingFrom);
    assert.match(
      error.message,
      /deleted them \(retention, [\d,]+ records lost\) before the tap read them/,
    );
    assert.equal(committed(live), end, "committed exactly what the archive holds");
    assert.match(lines.at(-1)!, /^stopped after copying [\d,]+ records \(seqs 1\.\./);
    const got = await readRecords(archive);
    assert.ok(
      got.every((r, i) => r.seq === i + 1 && payloadProblem(r.seq, r.payload) === undefined),
    );
  } finally {
    stop.abort();
    await failed;
    w.close();
  }
});

Deno.test("in-process: an aborted follow commits, closes both queues and says what it copied", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const w = await QueueWriter.open(live, SMALL);
  appendRecords(w, 7);
  const stop = new AbortController();
  const debug: string[] = [];
  const tap = archiveTap({
    live,
    archive: `${dir}/archive`,
    name: "backup",
    signal: stop.signal,
    log: { info: () => {}, debug: (l) => debug.push(l) },
  });
  await waitFor("seven records copied", () => debug.length === 7 ? true : undefined);
  stop.abort();
  const summary = await tap;
  w.close();
  assert.deepEqual(summary, {
    copied: 7,
    firstSeq: 1,
    lastSeq: 7,
    archiveLastSeq: 7,
    stoppedBy: "signal",
  });
  assert.equal(debug[2], "copied seq 3: type 3, 4 B, timestamp 3007 ns");
  assert.equal(committed(live, "backup"), 7);
  assert.equal(committed(live), undefined);
  // Both queues are closed: another writer can take the archive.
  (await QueueWriter.open(`${dir}/archive`)).close();
});
