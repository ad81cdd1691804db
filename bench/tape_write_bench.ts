/**
 * Tape write throughput per durability, next to a plain file append of the
 * same lines in the same run.
 *
 * Frames are realistic ~300-byte JSON-RPC lines (requests, responses and
 * notifications, so the correlator works too). The peer writes the same
 * number of pre-serialized lines of the same size with the same durability
 * style: one write per 64 KiB (`buffered`), one write per line (`flush`),
 * one write plus one fdatasync per group of 64 lines (`fsync`, what a
 * perfect group commit of 64 writers would do).
 *
 * Run: `deno task bench tape_write`
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";
import {
  type FrameInput,
  type JsonValue,
  type TapeDurability,
  TapeWriter,
} from "../src/tape/mod.ts";

const CONCURRENT = 64;

/**
 * A tools/call session: three request/response pairs then two progress
 * notifications per eight frames, every request answered, ~300-byte lines.
 */
function makeFrames(count: number): FrameInput[] {
  const frames: FrameInput[] = [];
  for (let i = 0; i < count; i++) {
    const k = i & 7;
    const id = (i >> 3) * 3 + (k >> 1) + 1;
    let env: JsonValue;
    if (k >= 6) {
      env = {
        jsonrpc: "2.0",
        method: "notifications/progress",
        params: {
          progressToken: `call-${id}`,
          progress: i % 100,
          total: 100,
          message: "Scanning src/components/forms for identifiers that match the query",
        },
      };
    } else if (k % 2 === 0) {
      env = {
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: {
          name: "search_files",
          arguments: { query: `needle-${id}`, path: "src/components/forms", limit: 20 },
          cursor: null,
          _meta: { progressToken: `call-${id}` },
        },
      };
    } else {
      env = {
        jsonrpc: "2.0",
        id,
        result: {
          content: [{
            type: "text",
            text: `Found ${id % 17} matches in src/components/forms/list_view.tsx and 2 more files`,
          }],
          isError: false,
        },
      };
    }
    frames.push({ dir: k >= 6 || k % 2 === 1 ? "s2c" : "c2s", env });
  }
  return frames;
}

interface Result {
  frames: number;
  seconds: number;
  bytes: number;
  writes: number;
  syncs: number;
}

async function runSpool(
  dir: string,
  durability: TapeDurability,
  frames: FrameInput[],
  total: number,
  concurrency: number,
): Promise<Result> {
  const writer = await TapeWriter.create(dir, { durability });
  const per = Math.ceil(total / concurrency);
  const t0 = performance.now();
  if (concurrency === 1) {
    const n = frames.length;
    for (let i = 0; i < total; i++) await writer.append(frames[i % n]!);
    await writer.flush();
  } else {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        const n = frames.length;
        for (let i = 0; i < per; i++) await writer.append(frames[(w * per + i) % n]!);
      }),
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  const meta = await writer.finalize();
  const count = concurrency === 1 ? total : per * concurrency;
  return {
    frames: count,
    seconds,
    bytes: meta.stats.bytes,
    writes: meta.performance.writes,
    syncs: meta.performance.syncs,
  };
}

/** The same lines, pre-serialized, written straight to a file. */
async function runPlain(
  dir: string,
  durability: TapeDurability,
  lines: Uint8Array[],
  total: number,
): Promise<Result> {
  const path = `${dir}/plain-${durability}.jsonl`;
  const file = await Deno.open(path, { write: true, create: true, append: true });
  const batch = new Uint8Array(durability === "buffered" ? 64 * 1024 + 4096 : 1 << 20);
  let writes = 0;
  let syncs = 0;
  let bytes = 0;
  const n = lines.length;
  const t0 = performance.now();
  if (durability === "flush") {
    for (let i = 0; i < total; i++) {
      const line = lines[i % n]!;
      file.writeSync(line);
      bytes += line.length;
      writes++;
      // Same promise round trip the writer's callers pay.
      await undefined;
    }
  } else {
    const group = durability === "buffered" ? Infinity : CONCURRENT;
    let len = 0;
    let inGroup = 0;
    for (let i = 0; i < total; i++) {
      const line = lines[i % n]!;
      batch.set(line, len);
      len += line.length;
      bytes += line.length;
      inGroup++;
      if (len >= 64 * 1024 || inGroup >= group) {
        file.writeSync(batch.subarray(0, len));
        writes++;
        len = 0;
        inGroup = 0;
        if (durability === "fsync") {
          await file.syncData();
          syncs++;
        }
      }
    }
    if (len > 0) {
      file.writeSync(batch.subarray(0, len));
      writes++;
      if (durability === "fsync") {
        await file.syncData();
        syncs++;
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  file.close();
  return { frames: total, seconds, bytes, writes, syncs };
}

const cases: {
  durability: TapeDurability;
  total: number;
  concurrency: number;
  target: number;
  /** Frames carry `envJson` (the line as received), as `record` can pass them. */
  raw?: boolean;
}[] = [
  { durability: "buffered", total: 500_000, concurrency: 1, target: 500_000 },
  { durability: "buffered", total: 500_000, concurrency: 1, target: 500_000, raw: true },
  { durability: "flush", total: 200_000, concurrency: 1, target: 200_000 },
  { durability: "flush", total: 200_000, concurrency: 1, target: 200_000, raw: true },
  { durability: "flush", total: 200_000, concurrency: CONCURRENT, target: 200_000 },
  { durability: "fsync", total: 50_000, concurrency: CONCURRENT, target: 25_000 },
];
/** Each case runs this many times, alternating with its peer; the best run counts. */
const ROUNDS = 3;

const dir = await Deno.makeTempDir({ prefix: "spool-bench-" });
try {
  const frames = makeFrames(4096);
  const rawFrames = frames.map((f) => ({ ...f, envJson: JSON.stringify(f.env) }));
  // Lines as the writer produces them, for the peer: same sizes, same content.
  const sample = await TapeWriter.create(dir, { durability: "buffered", tapeId: "sample" });
  for (const f of frames) await sample.append(f);
  await sample.finalize();
  const encoder = new TextEncoder();
  const lines = (await Deno.readTextFile(`${dir}/sample.jsonl`))
    .split("\n")
    .filter((l) => l.includes('"type":"frame"'))
    .map((l) => encoder.encode(l + "\n"));
  await Deno.remove(`${dir}/sample.jsonl`);
  const avgLine = lines.reduce((sum, l) => sum + l.length, 0) / lines.length;

  // Warm up the JIT on every path before measuring.
  for (const c of cases) {
    await runSpool(dir, c.durability, frames, 20_000, c.concurrency);
    await runPlain(dir, c.durability, lines, 20_000);
  }

  const rows: Row[] = [];
  for (const c of cases) {
    let spool: Result | undefined;
    let plain: Result | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const input = c.raw ? rawFrames : frames;
      const s = await runSpool(dir, c.durability, input, c.total, c.concurrency);
      const p = await runPlain(dir, c.durability, lines, s.frames);
      if (spool === undefined || s.seconds < spool.seconds) spool = s;
      if (plain === undefined || p.seconds < plain.seconds) plain = p;
      // Keep the page cache and disk from filling up between rounds.
      for await (const entry of Deno.readDir(dir)) await Deno.remove(`${dir}/${entry.name}`);
    }
    const rate = spool!.frames / spool!.seconds;
    const peerRate = plain!.frames / plain!.seconds;
    rows.push({
      durability: c.durability,
      envelope: c.raw ? "envJson" : "object",
      writers: String(c.concurrency),
      frames: spool!.frames,
      "frames/s": rate,
      "MB/s": spool!.bytes / spool!.seconds / 1e6,
      "frames/write": spool!.frames / Math.max(1, spool!.writes),
      "frames/sync": c.durability === "fsync" ? spool!.frames / Math.max(1, spool!.syncs) : "-",
      "plain append frames/s": peerRate,
      "spool/plain": rate / peerRate,
      target: c.target,
      met: rate >= c.target ? "yes" : "NO",
    });
  }
  const where = `${Deno.build.os}, ${navigator.hardwareConcurrency} cores`;
  printTable(
    `Tape writes, ${Math.round(avgLine)}-byte frame lines, best of ${ROUNDS} (${where})`,
    rows,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
