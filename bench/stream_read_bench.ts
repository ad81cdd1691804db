/**
 * The stream API's cost: a queue read through `openStream` next to the same
 * queue read with `QueueReader` directly (goal: under 10% overhead), and a
 * fan-in merge of 4 queues, zero-copy and owned.
 *
 * Every reader touches each message the same way (seq, type id, first
 * payload byte, timestamp), so the comparison is of the plumbing, not of
 * what a consumer does. The queues (64-byte payloads, 5M records; 4 × 1M
 * for the merge, timestamps interleaved) are written once and read from
 * the page cache; each case runs `ROUNDS` times, alternating, and the best
 * round counts.
 *
 * Run: `deno task bench stream_read`. `SPOOL_STREAM_SCALE` (default 1)
 * scales the record counts.
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { MergedStream, openStream, type StreamMessage } from "../src/stream/mod.ts";

const SCALE = Number(Deno.env.get("SPOOL_STREAM_SCALE") ?? 1);
const RECORDS = Math.round(5_000_000 * SCALE);
const PER_SOURCE = Math.round(1_000_000 * SCALE);
const SOURCES = 4;
const ROUNDS = 5;
const GOAL_OVERHEAD = 0.10;

let sink = 0;
function touch(m: StreamMessage): void {
  sink = (sink + m.seq + m.typeId + m.payload[0]! + Number(m.timestampNs & 0xffn)) | 0;
}

async function fill(dir: string, count: number, ts: (i: number) => bigint): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 256 * 1024 * 1024, prefault: false });
  const payload = new Uint8Array(64);
  for (let i = 0; i < count; i++) {
    payload[0] = i & 0xff;
    w.append(1, payload, ts(i));
  }
  w.close();
}

/** Seconds for one pass of `read`, which returns how many messages it saw. */
async function timed(read: () => Promise<number>, expect: number): Promise<number> {
  const t0 = performance.now();
  const n = await read();
  const s = (performance.now() - t0) / 1000;
  if (n !== expect) throw new Error(`Read ${n} messages, expected ${expect}`);
  return s;
}

const root = await Deno.makeTempDir({ prefix: "spool-bench-stream-" });
try {
  const single = `${root}/single`;
  await fill(single, RECORDS, (i) => BigInt(i));
  const merged = Array.from({ length: SOURCES }, (_, s) => `${root}/source-${s}`);
  for (const [s, dir] of merged.entries()) {
    await fill(dir, PER_SOURCE, (i) => BigInt(i * SOURCES + s));
  }

  const cases: Record<string, { records: number; run: () => Promise<number> }> = {
    "QueueReader.next(), direct": {
      records: RECORDS,
      run: async () => {
        const r = await QueueReader.open(single);
        let n = 0;
        for (let m = r.next(); m !== undefined; m = r.next()) {
          touch(m);
          n++;
        }
        r.close();
        return n;
      },
    },
    "openStream, next()": {
      records: RECORDS,
      run: async () => {
        const s = await openStream(single);
        let n = 0;
        for (let m = s.next(); m !== undefined; m = s.next()) {
          touch(m);
          n++;
        }
        s.close();
        return n;
      },
    },
    "openStream, for await": {
      records: RECORDS,
      run: async () => {
        const s = await openStream(single);
        let n = 0;
        for await (const m of s) {
          touch(m);
          n++;
        }
        s.close();
        return n;
      },
    },
    [`merge of ${SOURCES} queues, zero-copy, next()`]: {
      records: PER_SOURCE * SOURCES,
      run: async () => {
        const m = new MergedStream(await Promise.all(merged.map((d) => openStream(d))));
        let n = 0;
        for (;;) {
          const msg = m.next();
          if (msg !== undefined) {
            touch(msg);
            n++;
          } else if (!await m.wait()) break;
        }
        m.close();
        return n;
      },
    },
    [`merge of ${SOURCES} queues, owned, for await`]: {
      records: PER_SOURCE * SOURCES,
      run: async () => {
        const m = new MergedStream(await Promise.all(merged.map((d) => openStream(d))), {
          owned: true,
        });
        let n = 0;
        for await (const msg of m) {
          touch(msg);
          n++;
        }
        m.close();
        return n;
      },
    },
  };

  const best: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, c] of Object.entries(cases)) {
      const s = await timed(c.run, c.records);
      best[name] = Math.min(best[name] ?? Infinity, s);
    }
  }
  const direct = best["QueueReader.next(), direct"]!;
  const rows: Row[] = Object.entries(cases).map(([name, c]) => {
    const s = best[name]!;
    return {
      reader: name,
      records: c.records.toLocaleString("en-US"),
      "M records/s": c.records / s / 1e6,
      "ns/record": (s / c.records) * 1e9,
      "vs direct": c.records === RECORDS ? `${((s / direct - 1) * 100).toFixed(1)}%` : "",
    };
  });
  printTable(
    `Reading 64-byte records through the stream API (best of ${ROUNDS}; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
    rows,
  );
  const overhead = best["openStream, next()"]! / direct - 1;
  console.log(
    `stream API overhead with next(): ${(overhead * 100).toFixed(1)}% (goal < ${
      GOAL_OVERHEAD * 100
    }%): ${overhead < GOAL_OVERHEAD ? "goal met" : "goal NOT met"} (checksum ${sink})`,
  );
} finally {
  await Deno.remove(root, { recursive: true });
}
