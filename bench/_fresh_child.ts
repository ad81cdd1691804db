/**
 * One fresh-process round for `chronicle_fresh_bench.ts`: appends records
 * to a new queue or plain file (replacing what `dir` held), or scans one a
 * round before wrote, timing the loop, and prints one JSON line
 * `{ "rate": records per second }`; `clean` deletes `dir`. The
 * chronicle is imported from the tree given as the first argument, so two
 * trees (before and after a change) run the same code.
 *
 * `steady` appends as a long-running writer with retention does: the queue
 * keeps 2 segments of 64 MiB (its default size), or the plain file starts a
 * new file every 64 MiB and keeps 2. Untimed, it appends until 3 rolls
 * happened, so segments or files are being let go at every roll; then it
 * times `count` appends and deletes `dir`. `pause` does the same with 4 s
 * of quiet between the two, as a bursty source has: long enough for this
 * VM to hand the memory of deleted files back to its host, so that pages
 * allocated afterwards are slow to fault in again.
 *
 * Usage: `_fresh_child.ts <tree> <append|steady|pause|scan|clean> <spool|file> <payload bytes> <count> <dir> [flag]`,
 * where `flag` (`1`) makes a scan read each record's first payload byte,
 * and makes a steady queue recycle its segments (`recycleSegments`).
 *
 * @module
 */

import { appendFile, FileAppender, scanFile } from "./peers/file_append.ts";
import { makePayload } from "./peers/peer.ts";

const [root, op, system, sizeText, countText, dir, flagText] = Deno.args as [
  string,
  "append" | "steady" | "pause" | "scan" | "clean",
  "spool" | "file",
  string,
  string,
  string,
  string | undefined,
];
const size = Number(sizeText);
const count = Number(countText);
const flag = flagText === "1";

// Steady state: segments (files) kept, their size, and rolls before timing.
const KEEP = 2;
const FILE_BYTES = 64 * 1024 * 1024;
const WARM_ROLLS = 3;
const steady = op === "steady" || op === "pause";
// The VM's balloon reports free memory to the host after about 2 s.
const quiet = () => new Promise((resolve) => setTimeout(resolve, op === "pause" ? 4000 : 0));

async function spool(): Promise<number> {
  const { QueueReader, QueueWriter } = await import(`${root}/src/chronicle/mod.ts`);
  const queue = `${dir}/queue`;
  if (op === "append" || steady) {
    const writer = await QueueWriter.open(
      queue,
      steady ? { retention: { maxSegments: KEEP }, recycleSegments: flag } : {},
    );
    const payload = makePayload(size);
    if (steady) {
      const first = writer.segmentIndex;
      while (writer.segmentIndex < first + WARM_ROLLS) writer.append(1, payload);
      await quiet();
    }
    const t0 = performance.now();
    for (let i = 0; i < count; i++) writer.append(1, payload);
    const seconds = (performance.now() - t0) / 1000;
    writer.close();
    return count / seconds;
  }
  const reader = await QueueReader.open(queue, { start: "earliest" });
  let records = 0;
  let checksum = 0;
  const t0 = performance.now();
  if (flag) {
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      checksum += m.seq + m.payload[0]!;
      records++;
    }
  } else {
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      checksum += m.seq + m.typeId + m.payloadLength;
      records++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  reader.close();
  if (records !== count || checksum === 0) {
    throw new Error(`Chronicle scan read '${records}' records, expected '${count}'`);
  }
  return count / seconds;
}

async function file(): Promise<number> {
  const path = `${dir}/plain.bin`;
  if (steady) {
    using out = new FileAppender(path, size, { fileBytes: FILE_BYTES, keep: KEEP });
    while (out.rotations < WARM_ROLLS) out.write(1);
    out.flush();
    await quiet();
    const t = out.timed(count);
    return t.records / t.seconds;
  }
  const t = op === "append" ? appendFile(path, count, size) : scanFile(path, count, flag);
  return t.records / t.seconds;
}

function remove(): void {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

if (op === "append" || steady) {
  // A new queue and file every round, so dirty pages never pile up.
  remove();
  Deno.mkdirSync(dir, { recursive: true });
}
if (op === "clean") {
  remove();
  console.log(JSON.stringify({ rate: 0 }));
} else {
  const rate = system === "spool" ? await spool() : await file();
  // Nothing scans a steady run: its pages go before another system's round.
  if (steady) remove();
  console.log(JSON.stringify({ rate }));
}
