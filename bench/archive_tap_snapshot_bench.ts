/**
 * What `archive-tap --snapshot-every` costs: the same live queue of book
 * events copied into a new archive with and without snapshots (goal: at
 * most 15% slower).
 *
 * A live queue of `RECORDS` synthetic L3 events (default 3M; any count with
 * `SPOOL_TAP_SNAPSHOT_RECORDS`) for 4 markets, at most 2,000 resting
 * orders each, removals hitting recent orders as in real feeds
 * (`_l3_archive.ts`, `picks: "recent"`), is written once. Each round copies it
 * with `archiveTap({ once: true })`, as the program runs it, into a fresh
 * archive, timing open, copy and close:
 * - without snapshots;
 * - with `snapshotEvery: { everyEvents: 100_000 }` (the snapshot files are
 *   written, fsynced and renamed as in production);
 * - with a plan that never comes due, so the tap keeps the books but
 *   writes no file: it splits the cost into keeping the books and writing
 *   the snapshots.
 * Cases are interleaved round by round; the first round, median and best
 * of `ROUNDS` are shown, and the slowdown compares medians. A second
 * table times one set of snapshots (every market's book after the first
 * 100,000 events) written with and without fsync: what each set costs the
 * tap's only thread.
 *
 * Run: `deno task bench archive_tap_snapshot`. `SPOOL_BENCH_DIR` picks the
 * directory (default: the system temp dir).
 *
 * @module
 */

import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import { writeL3Archive } from "./_l3_archive.ts";
import { archiveTap } from "../src/archive/mod.ts";
import type { SnapshotPlan } from "../src/book/snapshot_planner.ts";
import { SnapshotStore } from "../src/book/snapshot_store.ts";
import { SnapshotWriter } from "../src/book/snapshot_writer.ts";
import { warmStart } from "../src/book/warm_start.ts";

const RECORDS = Number(Deno.env.get("SPOOL_TAP_SNAPSHOT_RECORDS") ?? 3_000_000);
const EVERY = 100_000;
const ROUNDS = 5;
const GOAL_SLOWDOWN = 0.15;

interface Case {
  name: string;
  plan: SnapshotPlan | undefined;
}

const PLAIN = "archiveTap once, no snapshots";
const SNAPSHOTS = `archiveTap once, --snapshot-every ${EVERY}`;
const CASES: Case[] = [
  { name: PLAIN, plan: undefined },
  { name: SNAPSHOTS, plan: { everyEvents: EVERY } },
  {
    name: "archiveTap once, books kept, no file (a plan never due)",
    plan: { everyEvents: 2 ** 52 },
  },
];

const base = Deno.env.get("SPOOL_BENCH_DIR");
const dir = await Deno.makeTempDir({
  prefix: "spool-bench-tap-snapshot-",
  ...(base ? { dir: base } : {}),
});
try {
  const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  const live = `${dir}/live`;
  await writeL3Archive(live, { events: RECORDS, markets: 4, restingCap: 2_000, picks: "recent" });
  const rates = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
  const sets = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CASES) {
      const archive = `${dir}/archive/queue`;
      const t0 = performance.now();
      const summary = await archiveTap({
        live,
        archive,
        start: "earliest",
        once: true,
        ...(c.plan === undefined ? {} : { snapshotEvery: c.plan }),
      });
      const seconds = (performance.now() - t0) / 1000;
      if (summary.copied !== RECORDS) {
        throw new Error(`${c.name}: copied ${summary.copied} of ${RECORDS}`);
      }
      rates.get(c.name)!.push(RECORDS / seconds);
      sets.set(c.name, SnapshotStore.forQueue(archive).list().length);
      await Deno.remove(`${dir}/archive`, { recursive: true });
    }
  }
  const plain = median(rates.get(PLAIN)!);
  const rows: Row[] = CASES.map((c) => {
    const { first, median: mid, best } = firstMedianBest(rates.get(c.name)!);
    return {
      copy: c.name,
      records: RECORDS,
      "snapshot files": String(sets.get(c.name)),
      "first M/s": first / 1e6,
      "median M/s": mid / 1e6,
      "best M/s": best / 1e6,
      "ns/record (median)": 1e9 / mid,
      "slower than no snapshots (median)": c.plan === undefined
        ? "-"
        : `${((plain / mid - 1) * 100).toFixed(1)}%`,
    };
  });
  printTable(
    `archive-tap with and without snapshots: ${
      RECORDS.toLocaleString("en-US")
    } L3 book events, 4 markets, ${ROUNDS} rounds interleaved; goal ≤ ${
      GOAL_SLOWDOWN * 100
    }% slower (${Deno.build.os}, ${navigator.hardwareConcurrency} cores, load ${load})`,
    rows,
  );
  const setRows: Row[] = [];
  {
    const start = await warmStart(live, { seq: EVERY }, {
      store: new SnapshotStore(`${dir}/none`),
      onWarning: () => {},
    });
    start.stream.close();
    const books = start.books.books();
    for (const sync of [true, false]) {
      const writer = new SnapshotWriter(new SnapshotStore(`${dir}/sets`), { sync });
      const ms: number[] = [];
      for (let i = 1; i <= 10; i++) {
        const t0 = performance.now();
        const stamp = { seq: i, timestampNs: 0n, marketCount: books.length, recordCrc: 0 };
        for (const book of books) writer.write(book, stamp);
        ms.push(performance.now() - t0);
      }
      await Deno.remove(`${dir}/sets`, { recursive: true });
      setRows.push({
        "one set of snapshots": sync
          ? "written, fsynced, renamed (production)"
          : "written, renamed, no fsync",
        markets: String(books.length),
        sets: String(ms.length),
        "first ms": ms[0]!,
        "median ms": median(ms),
        "best ms": Math.min(...ms),
        "tap records the median set costs": Math.round((median(ms) / 1000) * plain),
      });
    }
  }
  printTable("Where a set of snapshots goes", setRows);
  const slowdown = plain / median(rates.get(SNAPSHOTS)!) - 1;
  console.log(
    `--snapshot-every ${EVERY}: ${(slowdown * 100).toFixed(1)}% slower; ${
      slowdown <= GOAL_SLOWDOWN ? "goal met" : "goal NOT met"
    }`,
  );
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
