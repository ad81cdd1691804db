/**
 * Follow latency: how long after a frame is written `followTape` yields it.
 * A writer appends frames at a steady rate, each carrying the wall-clock time
 * (`performance.timeOrigin + performance.now()`, sub-millisecond and
 * comparable across processes) at which it was handed to the writer; the
 * follower subtracts that from the time it yields the frame.
 *
 * Writers: the real `TapeWriter` (durability `flush`) in another process, as
 * `record` and `tail -f` run; the same in the follower's own process; and
 * plain appends of ready-made lines from another process, which leaves only
 * the follower's own share of the delay.
 *
 * Run with `deno task bench follow_latency`.
 *
 * @module
 */

import { percentile, printTable, type Row } from "./_table.ts";
import { followTape, TapeWriter } from "../src/tape/mod.ts";

const OUT = new URL(".out/", import.meta.url).pathname;
const RATE = Number(Deno.env.get("SPOOL_BENCH_FOLLOW_RATE") ?? 1000);
const SECONDS = Number(Deno.env.get("SPOOL_BENCH_FOLLOW_SECONDS") ?? 4);
/** Samples dropped at the start, while the JIT warms up. */
const WARMUP = 200;

const now = () => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function envelope(seq: number) {
  return {
    jsonrpc: "2.0",
    id: seq,
    method: "tools/call",
    params: { name: "search_docs", arguments: { query: `flaky test ${seq}`, limit: 10 } },
    t: now(),
  };
}

/**
 * Appends `count` frames at `rate` per second, each stamped with the time it
 * is handed over, then ends the tape with a final checkpoint. Runs in this
 * process or in a child started as `follow_latency_bench.ts --writer …`.
 */
async function writeFrames(
  mode: "writer" | "raw",
  dir: string,
  tapeId: string,
  count: number,
  rate: number,
): Promise<void> {
  const start = performance.now();
  const pace = async (seq: number) => {
    const wait = start + (seq * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
  };
  if (mode === "writer") {
    const writer = await TapeWriter.create(dir, { tapeId, durability: "flush" });
    for (let seq = 1; seq <= count; seq++) {
      await pace(seq);
      await writer.append({ dir: "c2s", env: envelope(seq) });
    }
    await writer.finalize();
    return;
  }
  const encoder = new TextEncoder();
  using file = await Deno.open(`${dir}/${tapeId}.jsonl`, { write: true, create: true });
  const write = async (record: unknown) => {
    const bytes = encoder.encode(JSON.stringify(record) + "\n");
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  };
  const createdAt = new Date().toISOString();
  await write({
    type: "init",
    version: 1,
    tape_id: tapeId,
    session_id: "s",
    created_at: createdAt,
    protocol_version: null,
  });
  for (let seq = 1; seq <= count; seq++) {
    await pace(seq);
    const ts = performance.now() - start;
    await write({ type: "frame", seq, ts, dir: "c2s", env: envelope(seq) });
  }
  await write({ type: "checkpoint", checkpoint_at: createdAt, seq: count, stats: {}, final: true });
}

/**
 * The floor under any follower on this machine: a bare `Deno.watchFs` loop
 * that reads and parses what each notification brings, with none of the
 * follower's bookkeeping (no partial lines, checks or replacement handling).
 */
async function bareWatch(path: string, latencies: number[], count: number): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  using watcher = Deno.watchFs(dir);
  let file: Deno.FsFile | undefined;
  const buffer = new Uint8Array(256 * 1024);
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const _ of watcher) {
      file ??= await Deno.open(path).catch(() => undefined);
      if (file === undefined) continue;
      for (let n = file.readSync(buffer); n !== null; n = file.readSync(buffer)) {
        const lines = (rest + decoder.decode(buffer.subarray(0, n))).split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          const record = JSON.parse(line);
          if (record.type === "frame") latencies.push(now() - record.env.t);
        }
      }
      if (latencies.length >= count) return;
    }
  } finally {
    file?.close();
  }
}

async function scenario(
  name: string,
  mode: "writer" | "raw",
  inProcess: boolean,
  follower: "followTape" | "bare" = "followTape",
): Promise<Row> {
  const dir = await Deno.makeTempDir({ dir: OUT, prefix: "follow_" });
  try {
    const tapeId = `20261122T000000Z-${mode === "writer" ? "0000beef" : "0000cafe"}`;
    const path = `${dir}/${tapeId}.jsonl`;
    const count = RATE * SECONDS;
    const latencies: number[] = [];
    const following = follower === "bare" ? bareWatch(path, latencies, count) : (async () => {
      for await (const record of followTape(path, { waitForFile: true, strict: true })) {
        if (record.type !== "frame") continue;
        latencies.push(now() - (record.env as { t: number }).t);
      }
    })();
    if (inProcess) {
      await writeFrames(mode, dir, tapeId, count, RATE);
    } else {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-sys",
          new URL(import.meta.url).pathname,
          "--writer",
          mode,
          dir,
          tapeId,
          String(count),
          String(RATE),
        ],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`writer process failed with status ${out.code}`);
    }
    await following;
    if (latencies.length !== count) {
      throw new Error(`followed ${latencies.length} of ${count} frames`);
    }
    const sorted = latencies.slice(WARMUP).sort((a, b) => a - b);
    return {
      writer: name,
      follower: follower === "bare" ? "bare watchFs loop (floor)" : "followTape",
      frames: sorted.length,
      "p50 ms": percentile(sorted, 50),
      "p99 ms": percentile(sorted, 99),
      "p99.9 ms": percentile(sorted, 99.9),
      "max ms": sorted.at(-1)!,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  const rows = [
    await scenario("TapeWriter (flush), other process", "writer", false),
    await scenario("TapeWriter (flush), same process", "writer", true),
    await scenario("plain appends, other process", "raw", false),
    await scenario("plain appends, other process", "raw", false, "bare"),
  ];
  console.log(
    `${RATE} frames/s for ${SECONDS} s per writer; first ${WARMUP} frames left out (warm-up)`,
  );
  printTable("Follow latency, write to yield", rows);
  console.log("target: p99 ≤ 2 ms");
}

if (import.meta.main) {
  if (Deno.args[0] === "--writer") {
    const [, mode, dir, tapeId, count, rate] = Deno.args;
    await writeFrames(mode as "writer" | "raw", dir!, tapeId!, Number(count), Number(rate));
  } else {
    await main();
  }
}
