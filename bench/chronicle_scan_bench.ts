/**
 * Chronicle scan throughput next to its peers' scans, in the same run.
 *
 * A queue of 64- or 512-byte records is written once, then read start to
 * end by a fresh `QueueReader` with a `next()` loop that reads each record's
 * `seq`, `typeId` and `payloadLength` (zero-copy: no payload view is made),
 * and again touching `m.payload[0]`, which makes the payload view, so its
 * cost shows. Peers (plain file, SQLite WAL, Redis Streams, NATS JetStream)
 * write their own copy of the records, then scan them, reading each record's
 * seq, length and first payload byte. Everything is in the page cache or the
 * server's memory; only the scan loop is timed; best of `ROUNDS`.
 *
 * Run: `deno task bench chronicle_scan`. `SPOOL_BENCH_DIR` picks the
 * directory (default: the system temp dir); `SPOOL_SCAN_SCALE` (default 1)
 * scales every record count.
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";
import { isRunning, type Service, startNats, startRedis, type Unavailable } from "./_services.ts";
import { openFileAppend } from "./peers/file_append.ts";
import { openNatsJetStream } from "./peers/nats_jetstream.ts";
import { isPeer, makePayload, type Peer, type Timing, type UnavailablePeer } from "./peers/peer.ts";
import { openRedisStreams } from "./peers/redis_streams.ts";
import { openSqliteWal } from "./peers/sqlite_wal.ts";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";

const ROUNDS = 3;
const SCALE = Number(Deno.env.get("SPOOL_SCAN_SCALE") ?? 1);
const GOAL_RATE = 30_000_000;

/** Records scanned, per payload size: spool and the file peer, then slower peers. */
const COUNTS: Record<number, { spool: number; file: number; sqlite: number; server: number }> = {
  64: { spool: 10_000_000, file: 10_000_000, sqlite: 1_000_000, server: 200_000 },
  512: { spool: 2_000_000, file: 2_000_000, sqlite: 500_000, server: 100_000 },
};

function scaled(n: number): number {
  return Math.max(1000, Math.round(n * SCALE));
}

/** Scans the whole queue with a fresh reader; `view` also touches the payload view. */
async function spoolScan(queue: string, expected: number, view: boolean): Promise<Timing> {
  const r = await QueueReader.open(queue, { start: "earliest" });
  let records = 0;
  let payloadBytes = 0;
  let checksum = 0;
  let seconds: number;
  try {
    const t0 = performance.now();
    if (view) {
      for (let m = r.next(); m !== undefined; m = r.next()) {
        checksum += m.seq + m.payload[0]!;
        payloadBytes += m.payloadLength;
        records++;
      }
    } else {
      for (let m = r.next(); m !== undefined; m = r.next()) {
        checksum += m.seq + m.typeId;
        payloadBytes += m.payloadLength;
        records++;
      }
    }
    seconds = (performance.now() - t0) / 1000;
  } finally {
    r.close();
  }
  if (records !== expected || checksum === 0) {
    throw new Error(`Chronicle scan read '${records}' records, expected '${expected}'`);
  }
  return { records, payloadBytes, seconds };
}

async function serverPeer(
  service: Service | Unavailable,
  open: (s: Service) => Promise<Peer>,
  label: string,
): Promise<Peer | UnavailablePeer> {
  if (!isRunning(service)) return { name: label, unavailable: service.unavailable };
  try {
    return await open(service);
  } catch (e) {
    return { name: label, unavailable: `client failed: ${(e as Error).message}` };
  }
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
  const peerList: [Peer | UnavailablePeer, "file" | "sqlite" | "server"][] = [
    [openFileAppend(dir), "file"],
    [openSqliteWal(dir), "sqlite"],
    [await serverPeer(redis, openRedisStreams, "Redis Streams"), "server"],
    [await serverPeer(nats, openNatsJetStream, "NATS JetStream"), "server"],
  ];
  for (const [p] of peerList) if (isPeer(p)) peers.push(p);

  const summary: string[] = [];
  for (const size of [64, 512]) {
    const counts = COUNTS[size]!;
    const queue = `${dir}/queue-${size}`;
    const spoolCount = scaled(counts.spool);
    const writer = await QueueWriter.open(queue);
    const payload = makePayload(size);
    for (let i = 0; i < spoolCount; i++) writer.append(1, payload);
    writer.close();

    const rows: Row[] = [];
    const best = (runs: Timing[]) =>
      runs.reduce((a, t) => (t.records / t.seconds > a.records / a.seconds ? t : a));
    // Warm-up pass, then the measured rounds, the two spool loops interleaved.
    await spoolScan(queue, spoolCount, false);
    await spoolScan(queue, spoolCount, true);
    const plain: Timing[] = [];
    const viewed: Timing[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plain.push(await spoolScan(queue, spoolCount, false));
      viewed.push(await spoolScan(queue, spoolCount, true));
    }
    const spoolBest = best(plain);
    const spoolRate = spoolBest.records / spoolBest.seconds;
    const row = (system: string, how: string, t: Timing, ratio: number | string): Row => ({
      system,
      how,
      records: t.records,
      "records/s": t.records / t.seconds,
      "payload MB/s": t.payloadBytes / t.seconds / 1e6,
      "ns/record": (t.seconds * 1e9) / t.records,
      "spool ÷ peer": ratio,
    });
    rows.push(row("spool chronicle", "next(): seq, typeId, payloadLength", spoolBest, "-"));
    rows.push(
      row("spool chronicle", "next() and m.payload[0] (makes the view)", best(viewed), "-"),
    );
    await Deno.remove(queue, { recursive: true });

    let fastest: { name: string; rate: number } | undefined;
    for (const [p, kind] of peerList) {
      if (!isPeer(p)) {
        rows.push({ system: p.name, how: `unavailable: ${p.unavailable}` });
        continue;
      }
      await p.append(scaled(counts[kind]), size);
      await p.scan();
      const runs: Timing[] = [];
      for (let round = 0; round < ROUNDS; round++) runs.push(await p.scan());
      const t = best(runs);
      const rate = t.records / t.seconds;
      if (fastest === undefined || rate > fastest.rate) fastest = { name: p.name, rate };
      rows.push(row(p.name, p.scanMethod, t, spoolRate / rate));
    }
    printTable(
      `Chronicle scans, ${size}-byte payloads, best of ${ROUNDS} (goal ≥ ${
        GOAL_RATE / 1e6
      }M records/s; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
      rows,
    );
    summary.push(
      `${size} B: spool ${(spoolRate / 1e6).toFixed(2)}M records/s` +
        (fastest
          ? `, ${(spoolRate / fastest.rate).toFixed(2)}× the fastest peer (${fastest.name})`
          : "") +
        `; ${spoolRate >= GOAL_RATE ? "goal met" : "goal NOT met"}`,
    );
  }
  console.log(summary.join("\n"));
} finally {
  for (const p of peers) await p.close().catch(() => {});
  for (const s of services) if (isRunning(s)) await s.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
