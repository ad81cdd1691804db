/**
 * Chronicle random seeks in a large queue: by seq (`r.seek({ seq })`) and by
 * timestamp (`r.seek({ timestampNs })`), each followed by the `next()` that
 * reads the record sought, timed together with the `CLOCK_MONOTONIC` clock.
 * `ROUNDS` rounds, each with a freshly opened reader and no warm-up, so the
 * first round shows what a program's first seeks see; the p99 of the first
 * round, the median and the best are summed up at the end.
 *
 * The queue holds 100M records of 8-byte payloads (32 bytes each on disk,
 * ~3.2 GB) in 1 GiB segments, stamped by the writer with the wall clock as
 * it appends; it is built once, read back from the page cache, and deleted
 * at the end (also on failure). Seq and timestamp seeks alternate, uniformly
 * at random over the whole queue; the very first seek of each round (which
 * maps a segment and its index) is shown on its own. Every 1,000 seeks the
 * loop lets the event loop turn (untimed), as a real program's would.
 *
 * Run: `deno task bench chronicle_seek`. `SPOOL_SEEK_RECORDS` shrinks the
 * queue for a quick run (e.g. `SPOOL_SEEK_RECORDS=5000000`);
 * `SPOOL_BENCH_DIR` picks where it goes (default: the system temp dir; the
 * free space there is checked first).
 *
 * @module
 */

import { median, percentile, printTable, type Row } from "./_table.ts";
import { monotonicNs, QueueReader, QueueWriter } from "../src/chronicle/mod.ts";

const RECORDS = Number(Deno.env.get("SPOOL_SEEK_RECORDS") ?? 100_000_000);
const SEEKS = Number(Deno.env.get("SPOOL_SEEK_COUNT") ?? 100_000);
const SEGMENT_BYTES = 1024 * 1024 * 1024;
const RECORD_BYTES = 32;
const GOAL_US = 20;
const ROUNDS = 3;

/** Free bytes on the file system holding `dir`, from `df`; undefined when df fails. */
function freeBytes(dir: string): number | undefined {
  try {
    const out = new Deno.Command("df", { args: ["-B1", "--output=avail", dir], stdout: "piped" })
      .outputSync();
    const n = Number(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1));
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A deterministic xorshift generator, so every run seeks the same places. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function summary(label: string, us: number[], extra: Row = {}): Row {
  const sorted = [...us].sort((a, b) => a - b);
  return {
    seek: label,
    samples: sorted.length.toLocaleString("en-US"),
    "p50 µs": percentile(sorted, 50),
    "p90 µs": percentile(sorted, 90),
    "p99 µs": percentile(sorted, 99),
    "max µs": sorted[sorted.length - 1]!,
    "mean µs": sorted.reduce((a, b) => a + b, 0) / sorted.length,
    ...extra,
  };
}

/** Builds the queue in `dir` and measures; runs in a child so a crash cannot leave the queue behind. */
async function measure(dir: string): Promise<void> {
  const queue = `${dir}/queue`;
  const payload = new Uint8Array(8);
  const payloadWords = new Uint32Array(payload.buffer);
  const w = await QueueWriter.open(queue, { segmentBytes: SEGMENT_BYTES });
  const tb = performance.now();
  for (let i = 1; i <= RECORDS; i++) {
    payloadWords[0] = i;
    w.append(1, payload);
  }
  const buildSeconds = (performance.now() - tb) / 1000;
  w.close();
  let segments = 0;
  let bytes = 0;
  for (const e of Deno.readDirSync(queue)) {
    if (e.name.endsWith(".seg")) segments++;
    bytes += Deno.statSync(`${queue}/${e.name}`).size;
  }

  const r = await QueueReader.open(queue, { start: "earliest" });
  try {
    const first = r.next()!;
    const firstTs = first.timestampNs;
    r.seek({ seq: RECORDS });
    const lastTs = r.next()!.timestampNs;
    r.close();

    const rand = random(20261122);
    const span = Number(lastTs - firstTs);
    const rows: Row[] = [];
    const p99s: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const reader = await QueueReader.open(queue, { start: "earliest" });
      try {
        // The first seek of a freshly opened reader, on its own.
        const target = 1 + Math.floor(rand() * RECORDS);
        const c0 = monotonicNs();
        reader.seek({ seq: target });
        const coldSeq = reader.next()?.seq;
        const coldUs = (monotonicNs() - c0) / 1000;
        if (coldSeq !== target) throw new Error(`Seek to '${target}' read '${coldSeq}'`);
        const seqUs: number[] = [];
        const tsUs: number[] = [];
        for (let i = 0; i < SEEKS; i++) {
          // Let the event loop turn now and then, untimed, as any Deno program's does: a
          // released segment mapping is only unmapped by a finalizer, which runs there.
          if (i % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
          const seq = 1 + Math.floor(rand() * RECORDS);
          let t0 = monotonicNs();
          reader.seek({ seq });
          let m = reader.next();
          seqUs.push((monotonicNs() - t0) / 1000);
          if (m?.seq !== seq) throw new Error(`Seek to seq '${seq}' read '${m?.seq}'`);

          const ts = firstTs + BigInt(Math.floor(rand() * span));
          t0 = monotonicNs();
          reader.seek({ timestampNs: ts });
          m = reader.next();
          tsUs.push((monotonicNs() - t0) / 1000);
          if (m === undefined || m.timestampNs < ts) {
            throw new Error(`Seek to time '${ts}' read a record stamped before it`);
          }
        }
        rows.push(
          summary("by seq, then next()", seqUs, { round: String(round) }),
          summary("by timestamp, then next()", tsUs, { round: String(round) }),
          summary("first seek after open (one)", [coldUs], { round: String(round) }),
        );
        const p99 = (us: number[]) => percentile([...us].sort((a, b) => a - b), 99);
        p99s.push(Math.max(p99(seqUs), p99(tsUs)));
      } finally {
        reader.close();
      }
    }
    printTable(
      `Chronicle random seeks in ${RECORDS.toLocaleString("en-US")} records of 8-byte payloads ` +
        `(${(bytes / 1e9).toFixed(2)} GB on disk in ${segments} segment(s) of ${
          SEGMENT_BYTES / 2 ** 30
        } GiB; ${ROUNDS} rounds, a fresh reader each; ` +
        `goal ≤ ${GOAL_US} µs; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
      rows,
    );
    const mid = median(p99s);
    console.log(
      `built in ${buildSeconds.toFixed(1)} s (${(RECORDS / buildSeconds / 1e6).toFixed(2)}M ` +
        `records/s); p99 of either seek, first round ${p99s[0]!.toFixed(2)} µs, median ` +
        `${mid.toFixed(2)} µs, best ${Math.min(...p99s).toFixed(2)} µs: ` +
        `${mid <= GOAL_US ? "goal met" : "goal NOT met"} (median round)`,
    );
  } finally {
    r.close();
  }
}

if (Deno.args[0] === "--in") {
  await measure(Deno.args[1]!);
} else {
  const base = Deno.env.get("SPOOL_BENCH_DIR") ?? Deno.env.get("TMPDIR") ?? "/tmp";
  const need = RECORDS * RECORD_BYTES + 2 * SEGMENT_BYTES;
  const free = freeBytes(base);
  if (free !== undefined && free < need) {
    console.log(
      `bench: chronicle_seek needs ${(need / 1e9).toFixed(1)} GB free in '${base}' but ` +
        `${
          (free / 1e9).toFixed(1)
        } GB are; set SPOOL_SEEK_RECORDS lower or SPOOL_BENCH_DIR elsewhere`,
    );
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "spool-bench-seek-", dir: base });
  try {
    const status = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-run",
        "--allow-env",
        "--allow-ffi",
        new URL(import.meta.url).pathname,
        "--in",
        dir,
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) {
      console.error(
        `bench: chronicle_seek's measuring process failed (${
          status.signal ?? `status ${status.code}`
        })`,
      );
      Deno.exitCode = 1;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
