/**
 * The archive tap: how fast it copies a hot queue into a new archive, and
 * how long a record takes from its live append to being readable in the
 * archive.
 *
 * Throughput: a live queue of `SPOOL_TAP_RECORDS` (default 5M) records with
 * 64-byte payloads is written once, then copied into a fresh durable
 * archive, rounds interleaved, best round counted:
 * - a bare loop of `next()` and `appendCopy(m)`, no commit and no checks,
 *   into an `ipc` archive (and once with `append(typeId, payload,
 *   timestampNs)` instead, to show what the copy path saves), a `durable`
 *   one with the profile's default msync every 4096 records, and one
 *   written as the tap writes it (`ARCHIVE_WRITER_OPTIONS`): the last is
 *   the ceiling;
 * - `archiveTap({ once: true })` from `src/archive/`, as the program runs
 *   it (default commit every 4096 records and at the end);
 * - the same committing after every record, which shows what the commit
 *   policy costs.
 * Each timing covers opening, copying and closing (the final `msync`).
 *
 * Latency: a feeder process appends `SPOOL_TAP_LATENCY_RECORDS` (default
 * 10,000) records at `SPOOL_TAP_LATENCY_RATE` per second (default 2,000),
 * each carrying the wall-clock time of its append; the real `archive-tap`
 * program follows the live queue (futex wait) in its own process; this
 * process reads the archive with a futex wait too and subtracts. So each
 * sample is two cross-process wake-ups plus the copy.
 *
 * Run: `deno task bench archive_tap`. `SPOOL_BENCH_DIR` picks the directory
 * (default: the system temp dir).
 *
 * @module
 */

import { percentile, printTable, type Row } from "./_table.ts";
import { QueueReader, QueueWriter, type QueueWriterOptions } from "../src/chronicle/mod.ts";
import { ARCHIVE_WRITER_OPTIONS, archiveTap, lastSeqOf } from "../src/archive/mod.ts";
import { findProgram } from "../cli/manifest.ts";

const RECORDS = Number(Deno.env.get("SPOOL_TAP_RECORDS") ?? 5_000_000);
const LATENCY_RECORDS = Number(Deno.env.get("SPOOL_TAP_LATENCY_RECORDS") ?? 10_000);
const LATENCY_RATE = Number(Deno.env.get("SPOOL_TAP_LATENCY_RATE") ?? 2_000);
const ROUNDS = 3;
const PAYLOAD = 64;
const GOAL_RATE = 3_000_000;
/** Samples dropped at the start, while the JIT warms up. */
const WARMUP = 200;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The feeder, run as `archive_tap_bench.ts --feed <live> <count> <rate>`. */
async function feed(live: string, count: number, rate: number): Promise<void> {
  const w = await QueueWriter.open(live);
  const payload = new Uint8Array(PAYLOAD);
  const stamp = new Float64Array(payload.buffer, 0, 1);
  const start = performance.now();
  for (let i = 1; i <= count; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    stamp[0] = now();
    w.append(1, payload);
  }
  w.close();
}

if (Deno.args[0] === "--feed") {
  await feed(Deno.args[1]!, Number(Deno.args[2]), Number(Deno.args[3]));
  Deno.exit(0);
}

interface Timing {
  records: number;
  seconds: number;
}

async function bareCopy(
  live: string,
  archive: string,
  options: QueueWriterOptions,
  how: "appendCopy" | "append" = "appendCopy",
): Promise<Timing> {
  const t0 = performance.now();
  const r = await QueueReader.open(live, { start: "earliest" });
  const w = await QueueWriter.open(archive, { ...options, firstSeq: r.nextSeq });
  let records = 0;
  if (how === "append") {
    for (let m = r.next(); m !== undefined; m = r.next()) {
      w.append(m.typeId, m.payload, m.timestampNs);
      records++;
    }
  } else {
    for (let m = r.next(); m !== undefined; m = r.next()) {
      w.appendCopy(m);
      records++;
    }
  }
  w.close();
  r.close();
  return { records, seconds: (performance.now() - t0) / 1000 };
}

async function tapCopy(live: string, archive: string, commitEvery?: number): Promise<Timing> {
  const t0 = performance.now();
  const summary = await archiveTap({
    live,
    archive,
    start: "earliest",
    once: true,
    ...(commitEvery === undefined ? {} : { commitEvery }),
  });
  return { records: summary.copied, seconds: (performance.now() - t0) / 1000 };
}

const CEILING = "bare loop, archive as the tap writes it (ceiling)";
const TAP = "archiveTap once, commit every 4096 (default)";

async function throughput(dir: string): Promise<string> {
  const live = `${dir}/live`;
  const w = await QueueWriter.open(live);
  const payload = new Uint8Array(PAYLOAD).map((_, i) => (i * 31 + 7) & 0xff);
  for (let i = 0; i < RECORDS; i++) w.append(1 + (i & 7), payload);
  w.close();
  const cases: [string, (archive: string) => Promise<Timing>][] = [
    ["bare loop, archive 'ipc' (no msync)", (a) => bareCopy(live, a, { durability: "ipc" })],
    [
      "bare loop with append(), archive 'ipc'",
      (a) => bareCopy(live, a, { durability: "ipc" }, "append"),
    ],
    [
      "bare loop, archive 'durable', msync every 4096 (profile default)",
      (a) => bareCopy(live, a, { durability: "durable" }),
    ],
    [CEILING, (a) => bareCopy(live, a, ARCHIVE_WRITER_OPTIONS)],
    [TAP, (a) => tapCopy(live, a)],
    ["archiveTap once, commit after every record", (a) => tapCopy(live, a, 1)],
  ];
  const runs = new Map<string, Timing[]>(cases.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of cases) {
      const archive = `${dir}/archive`;
      const t = await run(archive);
      if (t.records !== RECORDS) throw new Error(`${name}: copied ${t.records} of ${RECORDS}`);
      runs.get(name)!.push(t);
      await Deno.remove(archive, { recursive: true });
    }
  }
  const best = (ts: Timing[]) => ts.reduce((a, t) => (t.seconds < a.seconds ? t : a));
  const ceiling = best(runs.get(CEILING)!);
  const rows: Row[] = cases.map(([name]) => {
    const t = best(runs.get(name)!);
    return {
      copy: name,
      records: t.records,
      "best s": t.seconds,
      "records/s": t.records / t.seconds,
      "ns/record": (t.seconds * 1e9) / t.records,
      "of ceiling": `${((ceiling.seconds / t.seconds) * 100).toFixed(0)}%`,
      "all rounds, M records/s": runs.get(name)!.map((r) =>
        (r.records / r.seconds / 1e6).toFixed(2)
      )
        .join(" / "),
    };
  });
  printTable(
    `Hot → archive copy, ${PAYLOAD}-byte payloads, durable archive, best of ${ROUNDS} (goal ≥ ${
      GOAL_RATE / 1e6
    }M records/s; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
    rows,
  );
  await Deno.remove(live, { recursive: true });
  const tap = best(runs.get(TAP)!);
  const rate = tap.records / tap.seconds;
  return `archiveTap: ${(rate / 1e6).toFixed(2)}M records/s, ${
    ((ceiling.seconds / tap.seconds) * 100).toFixed(0)
  }% of the bare loop; ${rate >= GOAL_RATE ? "goal met" : "goal NOT met"}`;
}

async function latency(dir: string): Promise<string> {
  const live = `${dir}/lat-live`;
  const archive = `${dir}/lat-archive`;
  // The live queue exists before the tap starts; the feeder continues it.
  (await QueueWriter.open(live)).close();
  const program = findProgram("archive-tap")!;
  const tap = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...program.permissions,
      new URL(`../${program.entry}`, import.meta.url).pathname,
      "--live",
      live,
      "--archive",
      archive,
      "--start",
      "earliest",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = tap.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("is new")) {
    const { value, done } = await stderr.read();
    if (done) throw new Error(`archive-tap ended: ${said}`);
    said += value;
  }
  const feeder = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      new URL(import.meta.url).pathname,
      "--feed",
      live,
      String(LATENCY_RECORDS),
      String(LATENCY_RATE),
    ],
    stdin: "null",
  }).spawn();
  // A reader opened before the archive's first segment exists would not see
  // it appear (the reader lists segments once), so wait for the first record.
  const archived = () => lastSeqOf(archive).catch(() => 0); // not there, or being created
  while ((await archived()) < 1) await sleep(1);
  const r = await QueueReader.open(archive, { waitStrategy: "futex" });
  const samples: number[] = [];
  const stamp = new Float64Array(1);
  while (samples.length < LATENCY_RECORDS) {
    const m = r.next();
    if (m === undefined) {
      await r.wait(1000);
      continue;
    }
    const t = now();
    new Uint8Array(stamp.buffer).set(m.payload.subarray(0, 8));
    samples.push((t - stamp[0]!) * 1000);
  }
  r.close();
  await feeder.status;
  tap.kill("SIGTERM");
  await tap.status;
  await stderr.cancel();
  const sorted = samples.slice(WARMUP).sort((a, b) => a - b);
  printTable(
    `Live append → readable in the archive: feeder, archive-tap and archive reader in three processes, futex waits, ${
      LATENCY_RATE.toLocaleString(
        "en-US",
      )
    } records/s`,
    [{
      samples: sorted.length,
      "p50 µs": percentile(sorted, 50),
      "p90 µs": percentile(sorted, 90),
      "p99 µs": percentile(sorted, 99),
      "p99.9 µs": percentile(sorted, 99.9),
      "max µs": sorted.at(-1)!,
    }],
  );
  return `latency: p50 ${percentile(sorted, 50).toFixed(0)} µs, p99 ${
    percentile(sorted, 99).toFixed(0)
  } µs`;
}

const base = Deno.env.get("SPOOL_BENCH_DIR");
const dir = await Deno.makeTempDir({ prefix: "spool-bench-tap-", ...(base ? { dir: base } : {}) });
try {
  const lines = [await throughput(dir), await latency(dir)];
  console.log(lines.join("\n"));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
