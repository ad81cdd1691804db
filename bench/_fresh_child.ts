/**
 * One fresh-process round for `chronicle_fresh_bench.ts`: appends records
 * to a new queue or plain file (replacing what `dir` held), or scans one a
 * round before wrote, timing the loop, and prints one JSON line
 * `{ "rate": records per second }`; `clean` deletes `dir`. The
 * chronicle is imported from the tree given as the first argument, so two
 * trees (before and after a change) run the same code.
 *
 * Usage: `_fresh_child.ts <tree> <append|scan|clean> <spool|file> <payload bytes> <count> <dir> [touch]`,
 * where `touch` (`1`) makes a scan read each record's first payload byte.
 *
 * @module
 */

import { appendFile, scanFile } from "./peers/file_append.ts";
import { makePayload } from "./peers/peer.ts";

const [root, op, system, sizeText, countText, dir, touchText] = Deno.args as [
  string,
  "append" | "scan" | "clean",
  "spool" | "file",
  string,
  string,
  string,
  string | undefined,
];
const size = Number(sizeText);
const count = Number(countText);
const touch = touchText === "1";

async function spool(): Promise<number> {
  const { QueueReader, QueueWriter } = await import(`${root}/src/chronicle/mod.ts`);
  const queue = `${dir}/queue`;
  if (op === "append") {
    const writer = await QueueWriter.open(queue);
    const payload = makePayload(size);
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
  if (touch) {
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

function file(): number {
  const path = `${dir}/plain.bin`;
  const t = op === "append" ? appendFile(path, count, size) : scanFile(path, count, touch);
  return t.records / t.seconds;
}

if (op === "append") {
  // A new queue and file every round, so dirty pages never pile up.
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  Deno.mkdirSync(dir, { recursive: true });
}
if (op === "clean") {
  Deno.removeSync(dir, { recursive: true });
  console.log(JSON.stringify({ rate: 0 }));
} else {
  console.log(JSON.stringify({ rate: system === "spool" ? await spool() : file() }));
}
