/**
 * Warm start: the books at a random time in an archive of book events with
 * snapshots, beside a cold replay from the archive's start, and the memory
 * a replay needs as the archive grows.
 *
 * An archive of `EVENTS` synthetic L3 events (default 5M; 50M with
 * `--full` or `SPOOL_WARM_FULL=1`; any count with `SPOOL_WARM_EVENTS`) for
 * 4 markets, at most 2,000 resting orders each, removals hitting recent
 * orders as in real feeds (`_l3_archive.ts`, `picks: "recent"`), is
 * written once, and snapshots every
 * `EVENTS / 50` events are built for it with `buildSnapshots`, timed.
 * Then, for `QUERIES` seeded random times T, the books as of T are made:
 * - by `warmStart` in this process (`{ timestampNs: T + 1 }`, what
 *   `replay --final --to-time T` asks for): the first query is this
 *   process's first warm start; and at the seq of the snapshots each query
 *   used, which leaves nothing to replay: what restoring them costs;
 * - by `replay <queue> --book --final --json --to-time T` as a real
 *   process, timed from spawn to exit (Deno's start included);
 * - cold: `warmStart` with an empty snapshot store (a replay from seq 1),
 *   and the same `replay` process with the snapshot directory moved aside.
 * Cold queries are limited to `COLD_QUERIES` in the full run. The first
 * query's warm and cold books are compared (and the processes' output), so
 * a fast wrong answer cannot pass. A floor row times the same process
 * asked for the book at seq 1 (nothing to replay): what any query pays for
 * starting Deno and loading the program.
 *
 * Memory: a fresh process replays the first fifth of the
 * events and all of them (1M and 5M by default; a tenth, 5M and 50M, in the
 * full run) cold into a `BookSet`, sampling `/proc/self/status`
 * every 262,144 records: the peak resident set (VmHWM) and its anonymous
 * part (the heap: books, JIT) against its file part (mapped queue
 * segments, which the kernel can drop). The `replay --book --final
 * --to-seq N` process is measured from outside, by polling
 * `/proc/<pid>/status` from a child with every permission (Deno reads
 * `/proc` only then).
 *
 * Run: `deno task bench warm_start` (`-- --full` is not passed by
 * `bench/main.ts`: use `SPOOL_WARM_FULL=1`). `SPOOL_BENCH_DIR` picks the
 * directory (default: the system temp dir).
 *
 * @module
 */

import { median, printTable, type Row } from "./_table.ts";
import { seeded, writeL3Archive } from "./_l3_archive.ts";
import { QueueReader } from "../src/chronicle/mod.ts";
import { BookEvent } from "../src/book/book_event.ts";
import { BookSet } from "../src/book/book_set.ts";
import { buildSnapshots } from "../src/book/snapshot_taker.ts";
import { SnapshotStore } from "../src/book/snapshot_store.ts";
import { warmStart } from "../src/book/warm_start.ts";
import { findProgram } from "../cli/manifest.ts";

const FULL = Deno.args.includes("--full") || Deno.env.get("SPOOL_WARM_FULL") === "1";
const EVENTS = Number(Deno.env.get("SPOOL_WARM_EVENTS") ?? (FULL ? 50_000_000 : 5_000_000));
const SNAPSHOT_EVERY = EVENTS / 50;
const MARKETS = 4;
const RESTING_CAP = 2_000;
const QUERIES = 10;
const COLD_QUERIES = FULL ? 3 : QUERIES;
const MEMORY_COUNTS = [Math.round(EVENTS / (FULL ? 10 : 5)), EVENTS];
const GOAL_MS = 50;
const SAMPLE_EVERY = 262_144;

/** A count for titles: `5M`, `500k`. */
function millions(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`;
}

/** Peak and current resident memory from a `/proc/<pid>/status` text, in MiB. */
function memoryOf(status: string): { hwm: number; anon: number; file: number } {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return match === null ? NaN : Number(match[1]) / 1024;
  };
  return { hwm: field("VmHWM"), anon: field("RssAnon"), file: field("RssFile") };
}

function readStatus(pid: number | "self"): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return ""; // not Linux, or the process has ended
  }
}

/**
 * The memory child, run as `warm_start_bench.ts --memory <queue> <count>`
 * with every permission (Deno reads `/proc/self` only then): a cold replay
 * of the first `count` records, printing one JSON line.
 */
async function memoryChild(queue: string, count: number): Promise<void> {
  const reader = await QueueReader.open(queue, { start: "earliest" });
  const e = new BookEvent();
  const books = new BookSet();
  let anon = 0;
  let file = 0;
  const sample = () => {
    const m = memoryOf(readStatus("self"));
    anon = Math.max(anon, m.anon);
    file = Math.max(file, m.file);
  };
  const t0 = performance.now();
  let n = 0;
  while (n < count) {
    const m = reader.next();
    if (m === undefined) break;
    if (e.wrap(m)) books.apply(e);
    if (++n % SAMPLE_EVERY === 0) sample();
  }
  const seconds = (performance.now() - t0) / 1000;
  sample();
  reader.close();
  let orders = 0;
  for (const b of books.books()) orders += b.orderCount;
  const { hwm } = memoryOf(readStatus("self"));
  console.log(JSON.stringify({ records: n, seconds, orders, hwm, anon, file }));
}

if (Deno.args[0] === "--memory") {
  await memoryChild(Deno.args[1]!, Number(Deno.args[2]));
  Deno.exit(0);
}

const replayProgram = findProgram("replay")!;
const replayEntry = new URL(`../${replayProgram.entry}`, import.meta.url).pathname;

interface ProcessRun {
  ms: number;
  stdout: string;
  stderr: string;
}

const replayArgs = (queue: string, args: string[]) => [
  "run",
  ...replayProgram.permissions,
  replayEntry,
  queue,
  "--book",
  "--final",
  "--json",
  ...args,
];

/** Runs `replay <queue> --book --final --json` with `args`, timing it from spawn to exit. */
async function replayProcess(queue: string, args: string[]): Promise<ProcessRun> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: replayArgs(queue, args),
    stdin: "null",
  }).output();
  const ms = performance.now() - t0;
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) throw new Error(`replay ${args.join(" ")} failed: ${text(out.stderr)}`);
  return { ms, stdout: text(out.stdout), stderr: text(out.stderr) };
}

interface Peak {
  ms: number;
  hwm: number;
  code: number;
}

/**
 * The peak child, run as `warm_start_bench.ts --peak <deno args...>` with
 * every permission (Deno reads `/proc/<pid>` only then): runs Deno with
 * those arguments, polls the child's VmHWM, and prints one JSON line.
 */
async function peakChild(args: string[]): Promise<void> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let hwm = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      // The high-water mark only rises, so the last read before the exit is the peak.
      const m = memoryOf(readStatus(child.pid));
      if (Number.isFinite(m.hwm)) hwm = Math.max(hwm, m.hwm);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const status = await child.status;
  const ms = performance.now() - t0;
  running = false;
  await poll;
  const peak: Peak = { ms, hwm, code: status.code };
  console.log(JSON.stringify(peak));
}

if (Deno.args[0] === "--peak") {
  await peakChild(Deno.args.slice(1));
  Deno.exit(0);
}

/** Runs this file as a child with every permission and parses the line it prints. */
async function selfChild<T>(args: string[]): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", import.meta.filename!, ...args],
    stdin: "null",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench child '${args.join(" ")}' failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

/** The books as one comparable text: each market's order count, depths and top of book. */
function fingerprint(books: BookSet): string {
  return books.books().map((b) =>
    [b.venue, b.market, b.orderCount, b.depth(0), b.depth(1), b.bestBid(), b.bestAsk()].join(",")
  ).join(";");
}

function timingRow(what: string, ms: number[], extra: Row = {}): Row {
  return {
    "book at a random time T": what,
    queries: String(ms.length),
    "first ms": ms[0]!,
    "median ms": median(ms),
    "best ms": Math.min(...ms),
    ...extra,
  };
}

const base = Deno.env.get("SPOOL_BENCH_DIR");
const dir = await Deno.makeTempDir({ prefix: "spool-bench-warm-", ...(base ? { dir: base } : {}) });
const queue = `${dir}/archive/queue`;
const snapshots = SnapshotStore.forQueue(queue).root;
const hidden = `${dir}/snapshots-aside`;
try {
  const load = () => Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  const loadBefore = load();
  let t0 = performance.now();
  const archive = await writeL3Archive(queue, {
    events: EVENTS,
    markets: MARKETS,
    restingCap: RESTING_CAP,
    picks: "recent",
  });
  const writeSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const built = await buildSnapshots(queue, { everyEvents: SNAPSHOT_EVERY }, {
    onWarning: () => {},
  });
  const buildSeconds = (performance.now() - t0) / 1000;
  let snapshotBytes = 0;
  const files = SnapshotStore.forQueue(queue).list();
  for (const ref of files) snapshotBytes += Deno.statSync(ref.path).size;

  const rnd = seeded(7);
  const span = Number(archive.lastNs - archive.firstNs);
  const times = Array.from(
    { length: QUERIES },
    () => archive.firstNs + BigInt(Math.floor(rnd() * span)),
  );

  // Warm, in this process and as a real process.
  const warmMs: number[] = [];
  const warmReplayed: number[] = [];
  const snapshotSeqs: number[] = [];
  let warmPrint = "";
  for (const [i, t] of times.entries()) {
    const q0 = performance.now();
    const start = await warmStart(queue, { timestampNs: t + 1n }, { onWarning: () => {} });
    start.stream.close();
    warmMs.push(performance.now() - q0);
    warmReplayed.push(start.replayed);
    if (start.snapshots.length === 0) throw new Error(`No snapshot used at ${t}`);
    if (i === 0) warmPrint = fingerprint(start.books);
    snapshotSeqs.push(start.snapshots[0]!.seq);
  }
  // The same snapshots with nothing after them to replay: what restoring costs.
  const restoreMs: number[] = [];
  for (const seq of snapshotSeqs) {
    const q0 = performance.now();
    const start = await warmStart(queue, { seq }, { onWarning: () => {} });
    start.stream.close();
    restoreMs.push(performance.now() - q0);
    if (start.replayed !== 0) throw new Error(`Warm start at seq ${seq} replayed records`);
  }
  const floor: number[] = [];
  const procWarm: ProcessRun[] = [];
  for (const t of times) {
    floor.push((await replayProcess(queue, ["--to-seq", "1"])).ms);
    procWarm.push(await replayProcess(queue, ["--to-time", String(t)]));
  }
  if (!procWarm[0]!.stderr.includes("warm start")) {
    throw new Error(`replay did not warm start: ${procWarm[0]!.stderr}`);
  }

  // Cold: no snapshots.
  const coldMs: number[] = [];
  const empty = new SnapshotStore(`${dir}/no-snapshots`);
  for (const [i, t] of times.slice(0, COLD_QUERIES).entries()) {
    const q0 = performance.now();
    const start = await warmStart(queue, { timestampNs: t + 1n }, {
      store: empty,
      onWarning: () => {},
    });
    start.stream.close();
    coldMs.push(performance.now() - q0);
    if (i === 0 && fingerprint(start.books) !== warmPrint) {
      throw new Error(`Warm and cold books differ at ${t}`);
    }
  }
  Deno.renameSync(snapshots, hidden);
  const procCold: ProcessRun[] = [];
  const procMemory: Peak[] = [];
  try {
    for (const t of times.slice(0, COLD_QUERIES)) {
      procCold.push(await replayProcess(queue, ["--to-time", String(t)]));
    }
    for (const n of MEMORY_COUNTS) {
      const peak = await selfChild<Peak>(["--peak", ...replayArgs(queue, ["--to-seq", String(n)])]);
      if (peak.code !== 0) throw new Error(`replay --to-seq ${n} failed`);
      procMemory.push(peak);
    }
  } finally {
    Deno.renameSync(hidden, snapshots);
  }
  if (procCold[0]!.stdout !== procWarm[0]!.stdout) {
    throw new Error("replay printed different books warm and cold");
  }

  const warmMedian = median(warmMs);
  printTable(
    `Warm start vs cold replay: ${millions(EVENTS)}-event archive${
      FULL ? "" : " (default run; the goal's 50M with SPOOL_WARM_FULL=1)"
    }, ${MARKETS} markets, ≤ ${RESTING_CAP} resting orders each (removals mostly of recent orders), snapshots every ${
      millions(SNAPSHOT_EVERY)
    } events; goal ≤ ${GOAL_MS} ms (${Deno.build.os}, ${navigator.hardwareConcurrency} cores, load ${loadBefore})`,
    [
      timingRow("warmStart, in process", warmMs, {
        "records replayed (median)": median(warmReplayed),
        "cold ÷ warm (median)": median(coldMs) / warmMedian,
        // The part of a warm start that is not restoring, over the records it replays.
        "replay M records/s (medians)": median(warmReplayed) / (warmMedian - median(restoreMs)) /
          1000,
      }),
      timingRow("  of which restoring the snapshots (T at their seq)", restoreMs, {
        "records replayed (median)": "0",
      }),
      timingRow("replay --book --final --to-time T, a process", procWarm.map((r) => r.ms), {
        "cold ÷ warm (median)": median(procCold.map((r) => r.ms)) /
          median(procWarm.map((r) => r.ms)),
      }),
      timingRow("  the same process at seq 1 (start-up floor)", floor),
      timingRow("cold warmStart (no snapshots), in process", coldMs, {
        "records replayed (median)": "~T's seq",
      }),
      timingRow("cold replay --book --final --to-time T, a process", procCold.map((r) => r.ms)),
    ],
  );
  printTable("The archive and its snapshots", [{
    archive: `${millions(EVENTS)} events`,
    "write s": writeSeconds,
    "buildSnapshots s": buildSeconds,
    "build M events/s": built.records / buildSeconds / 1e6,
    "snapshot sets": String(built.sets),
    "snapshot files": files.length,
    "KiB per file": snapshotBytes / files.length / 1024,
  }]);

  const memory: Row[] = [];
  for (const [i, n] of MEMORY_COUNTS.entries()) {
    const m = await selfChild<
      { records: number; seconds: number; orders: number; hwm: number; anon: number; file: number }
    >(["--memory", queue, String(n)]);
    memory.push({
      "cold replay of": `${millions(n)} events`,
      how: "QueueReader + BookSet, a fresh process",
      "resting orders at end": m.orders,
      "peak RSS MiB (VmHWM)": m.hwm,
      "peak anon MiB": m.anon,
      "peak file-mapped MiB": m.file,
      "M events/s": m.records / m.seconds / 1e6,
    });
    memory.push({
      "cold replay of": `${millions(n)} events`,
      how: `replay --book --final --to-seq ${n}`,
      "peak RSS MiB (VmHWM)": procMemory[i]!.hwm,
      "wall s": procMemory[i]!.ms / 1000,
    });
  }
  printTable(
    `Memory of a replay as the archive grows (load ${load()})`,
    memory,
  );
  console.log(
    `warm start median ${warmMedian.toFixed(1)} ms in process, ${
      median(procWarm.map((r) => r.ms)).toFixed(0)
    } ms as a process (floor ${median(floor).toFixed(0)} ms); cold ${
      median(coldMs).toFixed(0)
    } ms; ${warmMedian <= GOAL_MS ? "goal met" : "goal NOT met"}`,
  );
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
