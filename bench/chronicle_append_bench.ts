/**
 * Chronicle append throughput next to its peers, in the same run: a plain
 * file append, SQLite in WAL mode, Redis Streams and NATS JetStream (file
 * storage), each started fresh on loopback by `bench/_services.ts`.
 *
 * Every system stores the same records: seq, a timestamp read per record, a
 * type id and a 64- or 512-byte payload. The chronicle appends with its
 * default `ipc` durability (in the page cache and visible to every process
 * once `append` returns) with pre-faulting on, and again with it off. Only
 * the append loop is timed (and a peer's final flush), not opening or
 * closing. Each case runs `ROUNDS` times, systems interleaved (in reverse
 * every other round); files are deleted between rounds so the page cache's
 * dirty pages never pile up. The first round, the median and the best are
 * shown, and the ratios compare medians. Then the chronicle and the plain
 * file run again while another process keeps one core busy.
 *
 * Run: `deno task bench chronicle_append`. `SPOOL_BENCH_DIR` picks the
 * directory for the queue and the file peers (default: the system temp dir);
 * `SPOOL_APPEND_SCALE` (default 1) scales every record count.
 *
 * @module
 */

import { withBusyCore } from "./_busy_core.ts";
import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import {
  isRunning,
  serverPeer,
  type Service,
  startNats,
  startRedis,
  type Unavailable,
} from "./_services.ts";
import { openFileAppend } from "./peers/file_append.ts";
import { openNatsJetStream } from "./peers/nats_jetstream.ts";
import { isPeer, makePayload, type Peer, type Timing, type UnavailablePeer } from "./peers/peer.ts";
import { openRedisStreams } from "./peers/redis_streams.ts";
import { openSqliteWal } from "./peers/sqlite_wal.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";

const ROUNDS = 4;
const SCALE = Number(Deno.env.get("SPOOL_APPEND_SCALE") ?? 1);
const GOAL_RATE_64 = 10_000_000;
const GOAL_RATIO = 20;

/** Records per run, per payload size: spool and the file peer, then slower peers. */
const COUNTS: Record<number, { spool: number; file: number; sqlite: number; server: number }> = {
  64: { spool: 10_000_000, file: 10_000_000, sqlite: 1_000_000, server: 200_000 },
  512: { spool: 2_000_000, file: 2_000_000, sqlite: 500_000, server: 100_000 },
};

function scaled(n: number): number {
  return Math.max(1000, Math.round(n * SCALE));
}

/** Appends `count` records to a fresh queue in `dir`, timing the loop only. */
async function spoolAppend(
  dir: string,
  count: number,
  payloadBytes: number,
  prefault: boolean,
): Promise<Timing> {
  const queue = `${dir}/queue`;
  const writer = await QueueWriter.open(queue, { durability: "ipc", prefault });
  const payload = makePayload(payloadBytes);
  let seconds: number;
  try {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) writer.append(1, payload);
    seconds = (performance.now() - t0) / 1000;
    if (writer.lastSeq !== count) {
      throw new Error(`Queue ends at seq '${writer.lastSeq}', expected '${count}'`);
    }
  } finally {
    writer.close();
    await Deno.remove(queue, { recursive: true });
  }
  return { records: count, payloadBytes: count * payloadBytes, seconds };
}

interface Subject {
  name: string;
  method: string;
  kind: "spool" | "file" | "sqlite" | "server";
  run?: (count: number, payloadBytes: number) => Promise<Timing>;
  unavailable?: string;
}

function peerSubject(p: Peer | UnavailablePeer, kind: Subject["kind"]): Subject {
  if (!isPeer(p)) return { name: p.name, method: "-", kind, unavailable: p.unavailable };
  return { name: p.name, method: p.appendMethod, kind, run: (n, size) => p.append(n, size) };
}

const base = Deno.env.get("SPOOL_BENCH_DIR");
const dir = await Deno.makeTempDir({
  prefix: "spool-bench-chronicle-",
  ...(base ? { dir: base } : {}),
});
const services: (Service | Unavailable)[] = [];
const peers: Peer[] = [];
try {
  const redis = await startRedis();
  const nats = await startNats();
  services.push(redis, nats);
  const peerList = [
    openFileAppend(dir),
    openSqliteWal(dir),
    await serverPeer(redis, openRedisStreams, "Redis Streams"),
    await serverPeer(nats, openNatsJetStream, "NATS JetStream"),
  ];
  for (const p of peerList) if (isPeer(p)) peers.push(p);
  const kinds: Subject["kind"][] = ["file", "sqlite", "server", "server"];
  const subjects: Subject[] = [
    {
      name: "spool chronicle, prefault on",
      method: "QueueWriter.append, durability ipc",
      kind: "spool",
      run: (n, size) => spoolAppend(dir, n, size, true),
    },
    {
      name: "spool chronicle, prefault off",
      method: "QueueWriter.append, durability ipc",
      kind: "spool",
      run: (n, size) => spoolAppend(dir, n, size, false),
    },
    ...peerList.map((p, i) => peerSubject(p, kinds[i]!)),
  ];

  // Warm up the JIT on every path.
  for (const s of subjects) await s.run?.(s.kind === "server" ? 2000 : 100_000, 64);

  // Rates of every round, systems in reverse every other round: on this VM a run is faster
  // when the one before it has just freed the memory it needs (pages the host had taken back
  // are slow to fault in), so no system always follows the same one.
  const measure = async (list: Subject[], size: number) => {
    const rates = new Map<Subject, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of round % 2 === 0 ? list : [...list].reverse()) {
        if (s.run === undefined) continue;
        const t = await s.run(scaled(COUNTS[size]![s.kind]), size);
        rates.set(s, [...(rates.get(s) ?? []), t.records / t.seconds]);
      }
    }
    return rates;
  };
  const rows = (list: Subject[], rates: Map<Subject, number[]>, size: number): Row[] => {
    const spool = median(rates.get(subjects[0]!) ?? []);
    return list.map((s) => {
      const r = rates.get(s);
      if (r === undefined) return { system: s.name, how: `unavailable: ${s.unavailable ?? "?"}` };
      const { first, median: mid, best } = firstMedianBest(r);
      return {
        system: s.name,
        how: s.method,
        records: scaled(COUNTS[size]![s.kind]),
        "first M/s": first / 1e6,
        "median M/s": mid / 1e6,
        "best M/s": best / 1e6,
        "payload MB/s (median)": (mid * size) / 1e6,
        "spool ÷ peer (median)": s.kind === "spool" ? "-" : spool / mid,
      };
    });
  };

  const summary: string[] = [];
  const host = `${Deno.build.os}, ${navigator.hardwareConcurrency} cores`;
  for (const size of [64, 512]) {
    const idle = await measure(subjects, size);
    const goal = size === 64
      ? `goal ≥ ${GOAL_RATE_64 / 1e6}M records/s and ≥ ${GOAL_RATIO}× the fastest peer`
      : `goal ≥ ${GOAL_RATIO}× the fastest peer`;
    printTable(
      `Chronicle appends, ${size}-byte payloads, ${ROUNDS} rounds (${goal}; ${host})`,
      rows(subjects, idle, size),
    );
    const local = subjects.filter((s) => s.kind === "spool" || s.kind === "file");
    const busy = await withBusyCore(() => measure(local, size));
    printTable(
      `Chronicle appends, ${size}-byte payloads, another process keeping one core busy, ${ROUNDS} rounds (${host})`,
      rows(local, busy, size),
    );
    const spool = (rates: Map<Subject, number[]>) => median(rates.get(subjects[0]!) ?? []);
    const file = (rates: Map<Subject, number[]>) =>
      median(rates.get(subjects.find((s) => s.kind === "file")!) ?? []);
    summary.push(
      `${size} B, median: spool ${(spool(idle) / 1e6).toFixed(2)}M records/s, ` +
        `${(spool(idle) / file(idle)).toFixed(2)}× the plain file; other core busy ` +
        `${(spool(busy) / 1e6).toFixed(2)}M, ${
          (spool(busy) / file(busy)).toFixed(2)
        }× the plain file` +
        (size === 64
          ? `; ${spool(idle) >= GOAL_RATE_64 ? "rate goal met" : "rate goal NOT met"}`
          : ""),
    );
  }
  console.log(summary.join("\n"));
} finally {
  for (const p of peers) await p.close().catch(() => {});
  for (const s of services) if (isRunning(s)) await s.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
