/**
 * Appends and scans as a program or a CLI run sees them: every round in a
 * fresh process (a new V8, a new mapping), the chronicle and a plain file
 * side by side in the same run, on the same file system.
 *
 * Per payload size (64 and 512 bytes): appends to a new queue and to a new
 * plain file (`bench/peers/file_append.ts`), on an idle machine and again
 * while another process keeps one core busy; then cold scans of what the
 * last round wrote (fresh process, fresh mapping, page cache warm), reading
 * each record's seq, type id and length, and again touching its first
 * payload byte. Systems alternate, in reverse every other round. First
 * round, median and best are shown, and each against the plain file's
 * median.
 *
 * Then, per payload size, appends of a long-running writer with retention,
 * in steady state (idle and with a core busy): a queue keeping 2 segments
 * of 64 MiB that recycles the segments retention lets go, the same without
 * recycling, and a plain file rotating to a new file every 64 MiB and
 * deleting all but the newest 2. Each round first appends, untimed, until
 * 3 rolls happened, then times the same count as the appends above; and
 * once more (idle) with 4 s of quiet between the two, as a bursty source
 * has.
 *
 * With `SPOOL_BASE_TREE` set to another checkout of spool (for example
 * `git worktree add /tmp/base <rev>`), that tree's chronicle runs the same
 * rounds too, so a change is measured against what it replaced on the same
 * machine at the same time. In steady state it is asked to recycle, which a
 * tree from before recycling ignores.
 *
 * Run: `deno task bench chronicle_fresh`. `SPOOL_BENCH_DIR` picks where the
 * queues go (default: the system temp dir); `SPOOL_FRESH_ROUNDS` (default 5)
 * sets the rounds; `SPOOL_FRESH_SCALE` (default 1) scales the record counts;
 * `SPOOL_FRESH_ONLY=steady` runs the steady state appends alone.
 *
 * @module
 */

import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import { withBusyCore } from "./_busy_core.ts";

const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const baseTree = Deno.env.get("SPOOL_BASE_TREE");
const rounds = Number(Deno.env.get("SPOOL_FRESH_ROUNDS") ?? 5);
const scale = Number(Deno.env.get("SPOOL_FRESH_SCALE") ?? 1);
const COUNTS: Record<number, number> = { 64: 3_000_000, 512: 1_000_000 };
const only = Deno.env.get("SPOOL_FRESH_ONLY");
if (only !== undefined && only !== "steady") {
  console.error(`chronicle_fresh: SPOOL_FRESH_ONLY '${only}' is unknown; use 'steady' or unset it`);
  Deno.exit(2);
}

interface System {
  name: string;
  kind: "spool" | "file";
  tree: string;
  /** Steady state: whether the queue recycles its segments. */
  recycle?: boolean;
}

// The plain file, which the rows compare against, comes last.
const systems: System[] = [
  ...(baseTree === undefined ? [] : [{ name: "spool (base tree)", kind: "spool", tree: baseTree }]),
  { name: "spool", kind: "spool", tree: here },
  { name: "plain file", kind: "file", tree: here },
] as System[];
const steadySystems: System[] = [
  ...(baseTree === undefined
    ? []
    : [{ name: "spool (base tree)", kind: "spool", tree: baseTree, recycle: true }]),
  { name: "spool, recycled", kind: "spool", tree: here, recycle: true },
  { name: "spool, no recycling", kind: "spool", tree: here, recycle: false },
  { name: "plain file, rotated", kind: "file", tree: here },
] as System[];

const base = Deno.env.get("SPOOL_BENCH_DIR");
// The children (run with -A) create and delete everything under it: the bench task's own
// permissions do not reach /dev/shm.
const dir = `${base ?? Deno.env.get("TMPDIR") ?? "/tmp"}/spool-fresh-bench-${Deno.pid}`;

function workDir(s: System): string {
  return `${dir}/${s.tree === here ? s.kind : "base"}`;
}

async function child(s: System, args: string[]): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${here}/bench/_fresh_child.ts`, s.tree, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`a round of '${s.name}' failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).rate;
}

// Rates of every round of each system, systems in reverse every other round.
async function measure(
  list: System[],
  run: (s: System) => Promise<number>,
): Promise<Map<System, number[]>> {
  const rates = new Map<System, number[]>(list.map((s) => [s, []]));
  for (let i = 0; i < rounds; i++) {
    for (const s of i % 2 === 0 ? list : [...list].reverse()) {
      rates.get(s)!.push(await run(s));
    }
  }
  return rates;
}

function rows(list: System[], size: number, what: string, rates: Map<System, number[]>): Row[] {
  const plain = median(rates.get(list.at(-1)!)!);
  return list.map((s) => {
    const r = firstMedianBest(rates.get(s)!);
    return {
      payload: `${size} B`,
      measure: what,
      system: s.name,
      "first M/s": r.first / 1e6,
      "median M/s": r.median / 1e6,
      "best M/s": r.best / 1e6,
      "÷ file, first": r.first / plain,
      "÷ file, median": r.median / plain,
    };
  });
}

// Rows of `run` on an idle machine, then while another process keeps one core busy.
async function idleAndBusy(
  list: System[],
  size: number,
  what: string,
  run: (s: System) => Promise<number>,
): Promise<Row[]> {
  return [
    ...rows(list, size, what, await measure(list, run)),
    ...rows(list, size, `${what}, other core busy`, await withBusyCore(() => measure(list, run))),
  ];
}

const table: Row[] = [];
try {
  for (const size of [64, 512]) {
    const count = Math.max(1000, Math.round(COUNTS[size]! * scale));
    const args = (op: string, s: System, flag: boolean) => {
      return [op, s.kind, String(size), String(count), workDir(s), flag ? "1" : "0"];
    };
    if (only === undefined) {
      const append = (s: System) => child(s, args("append", s, false));
      table.push(...await idleAndBusy(systems, size, "append", append));
      for (const touch of [false, true]) {
        const scan = (s: System) => child(s, args("scan", s, touch));
        const what = touch ? "cold scan, m.payload[0]" : "cold scan";
        table.push(...rows(systems, size, what, await measure(systems, scan)));
      }
    }
    // After the scans, which read what the appends left: a steady round deletes it.
    const steady = (s: System) => child(s, args("steady", s, s.recycle === true));
    table.push(...await idleAndBusy(steadySystems, size, "steady append", steady));
    const pause = (s: System) => child(s, args("pause", s, s.recycle === true));
    const paused = await measure(steadySystems, pause);
    table.push(...rows(steadySystems, size, "steady append after 4 s quiet", paused));
  }
} finally {
  await child(systems.at(-1)!, ["clean", "file", "0", "0", dir]);
}
printTable(
  `Chronicle and a plain file, a fresh process per round (${COUNTS[64]! * scale} × 64 B, ${
    COUNTS[512]! * scale
  } × 512 B; steady: 2 segments or files of 64 MiB kept; in ${
    base ?? "the system temp dir"
  }; ${rounds} rounds; ${navigator.hardwareConcurrency} cores)`,
  table,
);
