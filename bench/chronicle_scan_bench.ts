/**
 * Chronicle scan throughput next to its peers' scans, in the same run.
 *
 * A queue of 64- or 512-byte records is written once, then read start to
 * end by a fresh `QueueReader` (a fresh mapping; the page cache is warm)
 * with a `next()` loop that reads each record's `seq`, `typeId` and
 * `payloadLength` (zero-copy: no payload view is made), again touching
 * `m.payload[0]`, which makes the payload view, so its cost shows, and again
 * reading that byte through `m.data` at `m.payloadOffset`, as a decoder that
 * makes no view per record does. The plain
 * file (length-prefixed records read in 1 MiB `readSync` chunks) holds the
 * same records and is scanned the same two ways, interleaved with the
 * chronicle round by round. The other peers (SQLite WAL, Redis Streams,
 * NATS JetStream) write their own copy of the records, then scan them,
 * reading each record's seq, length and first payload byte. There is no
 * warm-up pass: the first round is what a program's first scan sees. Only
 * the scan loop is timed; first round, median and best of `ROUNDS` are
 * shown, and the ratios compare medians.
 *
 * Run: `deno task bench chronicle_scan`. `SPOOL_BENCH_DIR` picks the
 * directory (default: the system temp dir); `SPOOL_SCAN_SCALE` (default 1)
 * scales every record count.
 *
 * @module
 */

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
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";

const ROUNDS = 5;
const SCALE = Number(Deno.env.get("SPOOL_SCAN_SCALE") ?? 1);
const GOAL_RATE = 30_000_000;

/** Records scanned, per payload size: spool and the plain file, then slower peers. */
const COUNTS: Record<number, { spool: number; sqlite: number; server: number }> = {
  64: { spool: 10_000_000, sqlite: 1_000_000, server: 200_000 },
  512: { spool: 2_000_000, sqlite: 500_000, server: 100_000 },
};

function scaled(n: number): number {
  return Math.max(1000, Math.round(n * SCALE));
}

/**
 * How a scan reads each record: its fields only, its first payload byte
 * through the payload view, or that byte through the segment's `DataView`.
 */
type Touch = "fields" | "view" | "data";

/** Scans the whole queue with a fresh reader, reading each record as `touch` says. */
async function spoolScan(queue: string, expected: number, touch: Touch): Promise<Timing> {
  const r = await QueueReader.open(queue, { start: "earliest" });
  let records = 0;
  let payloadBytes = 0;
  let checksum = 0;
  let seconds: number;
  try {
    const t0 = performance.now();
    if (touch === "view") {
      for (let m = r.next(); m !== undefined; m = r.next()) {
        checksum += m.seq + m.payload[0]!;
        payloadBytes += m.payloadLength;
        records++;
      }
    } else if (touch === "data") {
      for (let m = r.next(); m !== undefined; m = r.next()) {
        checksum += m.seq + m.data.getUint8(m.payloadOffset);
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
  const file = openFileAppend(dir);
  peers.push(file);
  const peerList: [Peer | UnavailablePeer, "sqlite" | "server"][] = [
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

    await file.append(spoolCount, size);

    const rows: Row[] = [];
    const row = (
      system: string,
      how: string,
      records: number,
      rates: number[],
      ratio: number | string,
    ): Row => {
      const { first, median: mid, best } = firstMedianBest(rates);
      return {
        system,
        how,
        records,
        "first M/s": first / 1e6,
        "median M/s": mid / 1e6,
        "best M/s": best / 1e6,
        "ns/record (median)": 1e9 / mid,
        "spool ÷ peer (median)": ratio,
      };
    };
    const rate = (t: Timing) => t.records / t.seconds;
    // The chronicle and the plain file, each read both ways, interleaved round by round.
    const spool = { plain: [] as number[], touched: [] as number[], data: [] as number[] };
    const flat = { plain: [] as number[], touched: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      spool.plain.push(rate(await spoolScan(queue, spoolCount, "fields")));
      flat.plain.push(rate(await file.scan(false)));
      spool.touched.push(rate(await spoolScan(queue, spoolCount, "view")));
      flat.touched.push(rate(await file.scan(true)));
      spool.data.push(rate(await spoolScan(queue, spoolCount, "data")));
    }
    await Deno.remove(queue, { recursive: true });
    const spoolRate = median(spool.plain);
    const spoolTouched = median(spool.touched);
    const spoolData = median(spool.data);
    rows.push(
      row("spool chronicle", "next(): seq, typeId, payloadLength", spoolCount, spool.plain, "-"),
    );
    rows.push(
      row(
        "spool chronicle",
        "next() and m.payload[0] (makes the view)",
        spoolCount,
        spool.touched,
        "-",
      ),
    );
    rows.push(
      row(
        "spool chronicle",
        "next() and m.data.getUint8(m.payloadOffset) (no view)",
        spoolCount,
        spool.data,
        "-",
      ),
    );
    rows.push(
      row(
        file.name,
        `${file.scanMethod}: seq, length, type`,
        spoolCount,
        flat.plain,
        spoolRate / median(flat.plain),
      ),
    );
    rows.push(
      row(
        file.name,
        `${file.scanMethod}: seq, length, payload[0]`,
        spoolCount,
        flat.touched,
        spoolTouched / median(flat.touched),
      ),
    );

    for (const [p, kind] of peerList) {
      if (!isPeer(p)) {
        rows.push({ system: p.name, how: `unavailable: ${p.unavailable}` });
        continue;
      }
      const count = scaled(counts[kind]);
      await p.append(count, size);
      const runs: number[] = [];
      for (let round = 0; round < ROUNDS; round++) runs.push(rate(await p.scan()));
      rows.push(row(p.name, p.scanMethod, count, runs, spoolTouched / median(runs)));
    }
    printTable(
      `Chronicle scans, ${size}-byte payloads, ${ROUNDS} rounds (goal ≥ ${
        GOAL_RATE / 1e6
      }M records/s and ≥ 1× the plain file; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
      rows,
    );
    summary.push(
      `${size} B, median: spool ${(spoolRate / 1e6).toFixed(2)}M records/s, ` +
        `${(spoolRate / median(flat.plain)).toFixed(2)}× the plain file; touching the payload ` +
        `${(spoolTouched / 1e6).toFixed(2)}M, ${
          (spoolTouched / median(flat.touched)).toFixed(2)
        }× ` +
        `the plain file; through m.data ${(spoolData / 1e6).toFixed(2)}M, ${
          (spoolData / median(flat.touched)).toFixed(2)
        }× the plain file; ${spoolRate >= GOAL_RATE ? "rate goal met" : "rate goal NOT met"}`,
    );
  }
  console.log(summary.join("\n"));
} finally {
  for (const p of peers) await p.close().catch(() => {});
  for (const s of services) if (isRunning(s)) await s.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
