/**
 * Chronicle one-way latency between processes: a writer process appends
 * records stamped with its `CLOCK_MONOTONIC` time (the chronicle's
 * `monotonicNs()`, one clock for every process on the host) and a reader
 * process subtracts that from its own reading as soon as `next()` returns
 * the record.
 *
 * - `busy`: the reader calls `r.next()` in a tight loop; the writer sends one
 *   record every 20 µs (busy-waiting between sends), 200,000 samples after a
 *   20,000-record warm-up.
 * - `futex`: the reader waits in `await r.wait()` (wait strategy `futex`:
 *   the futex runs on Deno's blocking thread pool, and the wake-up comes
 *   back through the event loop); one record every 1 ms, 10,000 samples
 *   after 500 of warm-up.
 * - `waitSync`: the same, with the reader blocked on its own thread in
 *   `r.waitSync()`.
 * - `archive-tap`: live append → readable in the archive. The writer appends
 *   to a live queue as in `futex`; the real `archive-tap` program follows it
 *   in its own process and copies each record (timestamp kept) into a durable
 *   archive; the reader follows the archive with `waitSync`. Each sample is
 *   two cross-process wake-ups plus the copy.
 * - `… on one core`: the same with every process of the round on CPU 0
 *   (`taskset -c 0`), so a wake-up never crosses to the other vCPU. On this
 *   VM waking a process on an idle vCPU costs ~40 µs at p50 whatever the
 *   program (a C pair of processes doing nothing but FUTEX_WAKE and
 *   FUTEX_WAIT: p50 43 µs, p99 69–97 µs across vCPUs; p50 5.8 µs, p99
 *   9–11 µs on one).
 *
 * After the samples of every mode but `busy` the writer goes quiet, and each
 * waiting process's CPU time (every thread's, from
 * `/proc/<pid>/task/<tid>/schedstat`, in ns) is read over 2 s: the reader's,
 * and for `archive-tap` the tap's too (it wakes every 50 ms to let a signal
 * in). Then the tap is stopped with SIGTERM and the time until it exits is
 * noted.
 *
 * - Redis XREAD BLOCK (a peer, for scale): one XADD every 1 ms from one
 *   process, a blocking XREAD loop in another, 5,000 samples.
 * - The machine's floor: one process alone spinning on `monotonicNs()` for
 *   3 s, noting every gap between two readings longer than 10 µs (time the
 *   process was not running: interrupts, the hypervisor, the runtime's own
 *   threads). A gap in the writer or the reader shows up in the latencies.
 *
 * Outside the modes on one core nothing is pinned: this VM has two cores, the
 * writer busy-waits on one and a busy reader spins on the other, so the
 * tails include whatever else the VM schedules. Each mode runs `ROUNDS` times, interleaved; every round
 * is printed, then each mode's first round, median round and best round by
 * p99, and the goals are judged on all three.
 *
 * Run: `deno task bench chronicle_latency`. `SPOOL_LATENCY_SCALE` (default
 * 1) scales the sample counts; `SPOOL_LATENCY_MODES` (default every mode,
 * comma-separated mode names as the rows give them, and `redis`) picks
 * some.
 *
 * @module
 */

import { median, percentile, printTable, type Row } from "./_table.ts";
import { isRunning, startRedis } from "./_services.ts";
import { monotonicNs, queueExists, QueueReader, QueueWriter } from "../src/chronicle/mod.ts";

const ROUNDS = 3;
const SCALE = Number(Deno.env.get("SPOOL_LATENCY_SCALE") ?? 1);
const TYPE_SAMPLE = 1;
const TYPE_STOP = 2;
const PAYLOAD = new Uint8Array(64).fill(7);
const IDLE_WINDOW_MS = 2000;
const HICCUP_SECONDS = 3;
const TAP_PROGRAM = new URL("../cli/archive_tap.ts", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How the reader waits: the four ways measured. */
type Wait = "busy" | "futex" | "waitSync" | "archive-tap";

interface Mode {
  /** What the rows say, and what `SPOOL_LATENCY_MODES` picks. */
  name: string;
  wait: Wait;
  /** Whether every process of the round runs on CPU 0 (`taskset -c 0`). */
  oneCore: boolean;
  intervalNs: number;
  warmup: number;
  samples: number;
}

const PACED = {
  intervalNs: 1_000_000,
  warmup: Math.round(500 * SCALE),
  samples: Math.round(10_000 * SCALE),
};
const MODES: Mode[] = [
  {
    name: "busy",
    wait: "busy",
    oneCore: false,
    intervalNs: 20_000,
    warmup: Math.round(20_000 * SCALE),
    samples: Math.round(200_000 * SCALE),
  },
  ...(["futex", "waitSync", "archive-tap"] as const).flatMap((wait) => [
    { name: wait, wait, oneCore: false, ...PACED },
    { name: `${wait} on one core`, wait, oneCore: true, ...PACED },
  ]),
];
const WANTED = Deno.env.get("SPOOL_LATENCY_MODES")?.split(",") ??
  [...MODES.map((m) => m.name), "redis"];
const REDIS = {
  intervalNs: 1_000_000,
  warmup: Math.round(200 * SCALE),
  samples: Math.round(5_000 * SCALE),
};

/** Latency percentiles in microseconds, as the reader process reports them. */
interface Stats {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

function stats(latNs: Float64Array): Stats {
  const sorted = Array.from(latNs).sort((a, b) => a - b);
  const us = (p: number) => percentile(sorted, p) / 1000;
  return {
    samples: sorted.length,
    p50: us(50),
    p90: us(90),
    p99: us(99),
    p999: us(99.9),
    max: sorted[sorted.length - 1]! / 1000,
  };
}

/** Busy-waits until the monotonic clock reaches `t`. */
function spinUntil(t: number): void {
  while (monotonicNs() < t) { /* spin */ }
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    reader.releaseLock();
  }
  return text.trim();
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return (await new Response(stream).text()).trim();
}

// ---- child processes -------------------------------------------------------

/** Writer child: paced appends, then "idle" on stdout, then a stop record after a line on stdin. */
async function writerMain(dir: string, mode: Mode): Promise<void> {
  const w = await QueueWriter.open(dir);
  const total = mode.warmup + mode.samples;
  let due = monotonicNs();
  for (let i = 0; i < total; i++) {
    due += mode.intervalNs;
    spinUntil(due);
    w.append(TYPE_SAMPLE, PAYLOAD, monotonicNs());
  }
  console.log("idle");
  await readLine(Deno.stdin.readable);
  w.append(TYPE_STOP, PAYLOAD, monotonicNs());
  w.close();
}

/** Waits until the archive queue exists and opens a reader on it: the tap creates it at the first record. */
async function openArchive(dir: string): Promise<QueueReader> {
  for (;;) {
    if (queueExists(dir)) {
      try {
        return await QueueReader.open(dir, { start: "earliest" });
      } catch {
        // queue.meta is being written
      }
    }
    await sleep(1);
  }
}

/** Reader child: "ready" on stdout, then latencies until the stop record, then JSON stats. */
async function readerMain(dir: string, mode: Mode): Promise<void> {
  console.log("ready");
  const r = mode.wait === "archive-tap" ? await openArchive(dir) : await QueueReader.open(dir, {
    start: "earliest",
    waitStrategy: mode.wait === "busy" ? "busy" : "futex",
  });
  const lat = new Float64Array(mode.samples);
  let n = 0;
  let seen = 0;
  const sample = (stampNs: bigint, now: number) => {
    if (seen++ >= mode.warmup && n < lat.length) lat[n++] = now - Number(stampNs);
  };
  if (mode.wait === "busy") {
    for (;;) {
      const m = r.next();
      if (m === undefined) continue;
      const now = monotonicNs();
      if (m.typeId === TYPE_STOP) break;
      sample(m.timestampNs, now);
    }
  } else if (mode.wait === "futex") {
    for (;;) {
      const m = r.next();
      if (m === undefined) {
        await r.wait();
        continue;
      }
      const now = monotonicNs();
      if (m.typeId === TYPE_STOP) break;
      sample(m.timestampNs, now);
    }
  } else {
    for (;;) {
      const m = r.next();
      if (m === undefined) {
        r.waitSync();
        continue;
      }
      const now = monotonicNs();
      if (m.typeId === TYPE_STOP) break;
      sample(m.timestampNs, now);
    }
  }
  r.close();
  console.log(JSON.stringify(stats(lat.subarray(0, n))));
}

/** Redis writer child: paced XADDs carrying the send time, then "idle", then a stop entry. */
async function redisWriterMain(port: number, key: string): Promise<void> {
  const { createClient } = await import("redis");
  const c = await createClient({ socket: { host: "127.0.0.1", port } }).connect();
  const total = REDIS.warmup + REDIS.samples;
  let due = monotonicNs();
  for (let i = 0; i < total; i++) {
    due += REDIS.intervalNs;
    spinUntil(due);
    await c.xAdd(key, "*", { t: String(monotonicNs()) });
  }
  await c.xAdd(key, "*", { stop: "1" });
  await c.quit();
}

/** Redis reader child: XREAD BLOCK loop from the stream's start, JSON stats at the stop entry. */
async function redisReaderMain(port: number, key: string): Promise<void> {
  const { createClient } = await import("redis");
  const c = await createClient({ socket: { host: "127.0.0.1", port } }).connect();
  const lat = new Float64Array(REDIS.samples);
  let n = 0;
  let seen = 0;
  let last = "0-0";
  console.log("ready");
  outer: for (;;) {
    const res = await c.xRead({ key, id: last }, { BLOCK: 0, COUNT: 100 });
    const now = monotonicNs();
    if (!Array.isArray(res)) continue;
    for (const stream of res as { messages: { id: string; message: Record<string, string> }[] }[]) {
      for (const entry of stream.messages) {
        last = entry.id;
        if (entry.message["stop"] !== undefined) break outer;
        const t = Number(entry.message["t"]);
        if (seen++ >= REDIS.warmup && n < lat.length) lat[n++] = now - t;
      }
    }
  }
  await c.quit();
  console.log(JSON.stringify(stats(lat.subarray(0, n))));
}

/** What the floor process saw: gaps between clock readings longer than 10 µs. */
interface Hiccups {
  seconds: number;
  over10us: number;
  over100us: number;
  over1ms: number;
  lostPct: number;
  maxUs: number;
}

/** Floor child: spins on the clock alone and reports the gaps as JSON. */
function hiccupMain(seconds: number): void {
  const end = monotonicNs() + seconds * 1e9;
  let prev = monotonicNs();
  const h: Hiccups = { seconds, over10us: 0, over100us: 0, over1ms: 0, lostPct: 0, maxUs: 0 };
  let lost = 0;
  let max = 0;
  for (;;) {
    const t = monotonicNs();
    const gap = t - prev;
    prev = t;
    if (gap > 10_000) {
      h.over10us++;
      if (gap > 100_000) h.over100us++;
      if (gap > 1_000_000) h.over1ms++;
      lost += gap;
      if (gap > max) max = gap;
    }
    if (t > end) break;
  }
  h.lostPct = (lost / (seconds * 1e9)) * 100;
  h.maxUs = max / 1000;
  console.log(JSON.stringify(h));
}

// ---- coordinator -----------------------------------------------------------

const self = new URL(import.meta.url).pathname;

/** `deno run --allow-all <args>`, on CPU 0 alone with `oneCore`. */
function denoCommand(args: string[], oneCore: boolean, options: Deno.CommandOptions) {
  const argv = [Deno.execPath(), "run", "--allow-all", ...args];
  const [command, ...rest] = oneCore ? ["taskset", "-c", "0", ...argv] : argv;
  return new Deno.Command(command!, { ...options, args: rest });
}

function spawnSelf(args: string[], stdin: "piped" | "null", oneCore = false): Deno.ChildProcess {
  return denoCommand([self, ...args], oneCore, { stdin, stdout: "piped", stderr: "inherit" })
    .spawn();
}

/** CPU time of every thread of a process so far, in ns (schedstat's first field). */
function cpuNs(pid: number): number {
  // Deno asks for --allow-all to read /proc directly; sh needs only --allow-run.
  const out = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/schedstat`],
    stdout: "piped",
  }).outputSync();
  return new TextDecoder().decode(out.stdout).trim().split("\n")
    .reduce((sum, line) => sum + Number(line.split(" ")[0]), 0);
}

/** What a chronicle round measured beside the latencies. */
interface Idle {
  /** The reader's CPU use while the writer is quiet, as a fraction of one core. */
  idleCpu: number;
  /** The same for the archive tap (`archive-tap` only). */
  tapIdleCpu?: number;
  /** From SIGTERM to the tap's exit, ms (`archive-tap` only). */
  tapStopMs?: number;
}

/** Reads a child's stdout up to its first line; returns the reader and what follows the line. */
async function firstLine(
  out: ReadableStreamDefaultReader<Uint8Array>,
): Promise<{ line: string; rest: string }> {
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await out.read();
    if (done) throw new Error(`Child exited before its first line (had '${text}')`);
    text += new TextDecoder().decode(value);
  }
  const at = text.indexOf("\n");
  return { line: text.slice(0, at), rest: text.slice(at + 1) };
}

/** One chronicle round: the reader's stats, and CPU use while the writer is idle. */
async function chronicleRound(mode: Mode): Promise<Stats & Idle> {
  const dir = await Deno.makeTempDir({ prefix: "spool-bench-latency-" });
  const live = `${dir}/live`;
  const archive = `${dir}/archive`;
  const children: Deno.ChildProcess[] = [];
  try {
    // Create the queue, so the reader (or the tap) can open it before the writer starts.
    (await QueueWriter.open(live)).close();
    const modeArg = JSON.stringify(mode);
    let tap: Deno.ChildProcess | undefined;
    if (mode.wait === "archive-tap") {
      tap = denoCommand(
        [TAP_PROGRAM, "--live", live, "--archive", archive, "--start", "earliest"],
        mode.oneCore,
        { stdin: "null", stdout: "null", stderr: "piped" },
      ).spawn();
      children.push(tap);
    }
    const tapErr = tap === undefined ? undefined : new Response(tap.stderr).text();
    const reader = spawnSelf(
      ["--reader", mode.wait === "archive-tap" ? archive : live, modeArg],
      "null",
      mode.oneCore,
    );
    children.push(reader);
    const readerOut = reader.stdout.getReader();
    const { rest: afterReady } = await firstLine(readerOut);
    const writer = spawnSelf(["--writer", live, modeArg], "piped", mode.oneCore);
    children.push(writer);
    if ((await readLine(writer.stdout)) !== "idle") throw new Error("Writer failed");
    await sleep(200);
    const watched = tap === undefined ? [reader] : [reader, tap];
    const c0 = watched.map((c) => cpuNs(c.pid));
    const t0 = performance.now();
    await sleep(IDLE_WINDOW_MS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = watched.map((c, i) => (cpuNs(c.pid) - c0[i]!) / 1e9 / seconds);
    const stdin = writer.stdin.getWriter();
    await stdin.write(new TextEncoder().encode("stop\n"));
    await stdin.close();
    if (!(await writer.status).success) throw new Error("Writer failed");
    let rest = afterReady;
    for (;;) {
      const { value, done } = await readerOut.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    if (!(await reader.status).success) throw new Error("Reader failed");
    const idle: Idle = { idleCpu: cpu[0]! };
    if (tap !== undefined) {
      const sent = performance.now();
      tap.kill("SIGTERM");
      const status = await tap.status;
      idle.tapStopMs = performance.now() - sent;
      if (status.code !== 0) throw new Error(`archive-tap failed: ${await tapErr}`);
      await tapErr;
      idle.tapIdleCpu = cpu[1]!;
    }
    return { ...(JSON.parse(rest.trim()) as Stats), ...idle };
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* exited */ }
    }
    await Deno.remove(dir, { recursive: true });
  }
}

/** One Redis round against a server on `port`. */
async function redisRound(port: number, key: string): Promise<Stats> {
  const reader = spawnSelf(["--redis-reader", String(port), key], "null");
  try {
    const out = reader.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await out.read();
      if (done) throw new Error("Redis reader exited before it was ready");
      text += new TextDecoder().decode(value);
    }
    await sleep(100);
    const writer = spawnSelf(["--redis-writer", String(port), key], "null");
    await readAll(writer.stdout);
    if (!(await writer.status).success) throw new Error("Redis writer failed");
    for (;;) {
      const { value, done } = await out.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    if (!(await reader.status).success) throw new Error("Redis reader failed");
    return JSON.parse(text.slice(text.indexOf("\n") + 1).trim()) as Stats;
  } finally {
    try {
      reader.kill("SIGKILL");
    } catch { /* exited */ }
  }
}

async function hiccupRound(): Promise<Hiccups> {
  const child = spawnSelf(["--hiccup", String(HICCUP_SECONDS)], "null");
  const text = await readAll(child.stdout);
  if (!(await child.status).success) throw new Error("Floor process failed");
  return JSON.parse(text) as Hiccups;
}

const pct = (fraction: number | undefined) =>
  fraction === undefined ? "-" : `${(fraction * 100).toFixed(2)}%`;

async function coordinator(): Promise<void> {
  const redis = WANTED.includes("redis") ? await startRedis() : undefined;
  const modes = MODES.filter((m) => WANTED.includes(m.name));
  try {
    const rounds: { name: string; round: number; s: Stats & Partial<Idle> }[] = [];
    const floors: Hiccups[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      floors.push(await hiccupRound());
      for (const mode of modes) {
        rounds.push({ name: `spool, ${mode.name}`, round, s: await chronicleRound(mode) });
      }
      if (redis !== undefined && isRunning(redis)) {
        rounds.push({
          name: "Redis XREAD BLOCK",
          round,
          s: await redisRound(redis.port, `latency-${round}`),
        });
      }
    }
    const rows: Row[] = rounds.map(({ name, round, s }) => ({
      reader: name,
      round: String(round),
      samples: s.samples,
      "p50 µs": s.p50,
      "p90 µs": s.p90,
      "p99 µs": s.p99,
      "p99.9 µs": s.p999,
      "max µs": s.max,
      "idle reader CPU": pct(s.idleCpu),
      "idle tap CPU": pct(s.tapIdleCpu),
      "tap stop ms": s.tapStopMs ?? "-",
    }));
    if (redis !== undefined && !isRunning(redis)) {
      rows.push({ reader: "Redis XREAD BLOCK", round: `unavailable: ${redis.unavailable}` });
    }
    printTable(
      `Chronicle one-way latency between processes, ${ROUNDS} interleaved rounds (busy: one record per 20 µs; the others: one per 1 ms; no pinning; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
      rows,
    );
    printTable(
      `Machine floor: one process alone spinning on the monotonic clock, ${HICCUP_SECONDS} s per round`,
      floors.map((h, i) => ({
        round: String(i + 1),
        "gaps > 10 µs": h.over10us.toLocaleString("en-US"),
        "gaps > 100 µs": h.over100us.toLocaleString("en-US"),
        "gaps > 1 ms": h.over1ms.toLocaleString("en-US"),
        "time lost": `${h.lostPct.toFixed(2)}%`,
        "longest gap µs": h.maxUs,
      })),
    );
    // Each mode's first round, median round and best round, by p99.
    const summary = modes.map((mode) => {
      const own = rounds.filter((r) => r.name === `spool, ${mode.name}`).map((r) => r.s);
      const p99s = own.map((s) => s.p99);
      const mid = median(p99s);
      return {
        mode,
        first: own[0]!,
        median: own.find((s) => s.p99 === mid)!,
        best: own.reduce((a, s) => (s.p99 < a.p99 ? s : a)),
      };
    });
    printTable(
      "First round, median round and best round by p99",
      summary.flatMap(({ mode, ...picked }) =>
        (["first", "median", "best"] as const).map((which) => ({
          reader: `spool, ${mode.name}`,
          round: which,
          "p50 µs": picked[which].p50,
          "p99 µs": picked[which].p99,
          "p99.9 µs": picked[which].p999,
          "idle reader CPU": pct(picked[which].idleCpu),
          "idle tap CPU": pct(picked[which].tapIdleCpu),
        }))
      ),
    );
    const yes = (ok: boolean) => (ok ? "met" : "NOT met");
    const goals: Record<Wait, [string, (s: Stats & Partial<Idle>) => boolean]> = {
      busy: ["p50 ≤ 0.5, p99 ≤ 1, p99.9 ≤ 5 µs", (s) => s.p50 <= 0.5 && s.p99 <= 1 && s.p999 <= 5],
      futex: ["wake p99 ≤ 30 µs", (s) => s.p99 <= 30],
      waitSync: [
        "wake p99 ≤ 30 µs, idle reader CPU < 0.1%",
        (s) => s.p99 <= 30 && (s.idleCpu ?? 1) < 0.001,
      ],
      "archive-tap": ["live append → readable in the archive p99 ≤ 100 µs", (s) => s.p99 <= 100],
    };
    console.log(
      summary.map(({ mode, first, median, best }) => {
        const [target, met] = goals[mode.wait];
        const p99s = [first, median, best].map((s) => s.p99.toFixed(1)).join(" / ");
        return `${mode.name}: p99 ${p99s} µs (first / median / best); ${target}: ` +
          `first ${yes(met(first))}, median ${yes(met(median))}, best ${yes(met(best))}`;
      }).join("\n"),
    );
  } finally {
    if (redis !== undefined && isRunning(redis)) await redis.stop();
  }
}

const [role, arg1, arg2] = Deno.args;
if (role === "--writer") await writerMain(arg1!, JSON.parse(arg2!) as Mode);
else if (role === "--reader") await readerMain(arg1!, JSON.parse(arg2!) as Mode);
else if (role === "--redis-writer") await redisWriterMain(Number(arg1), arg2!);
else if (role === "--hiccup") hiccupMain(Number(arg1));
else if (role === "--redis-reader") await redisReaderMain(Number(arg1), arg2!);
else await coordinator();
