/**
 * LOBSTER import throughput (goal ≥ 1M vendor events/s), beside its peers
 * in the same run, and where its time goes.
 *
 * Input: a synthetic level-10 day of 50,000 messages from the tests'
 * generator (`tests/_lobster_day.ts`: every event type, orders placed
 * before the window, and an orderbook file computed by an independent
 * reference book) is tiled to `MESSAGES` lines (default 500k; 10M with
 * `--full` or `SPOOL_LOBSTER_FULL=1`; any count with
 * `SPOOL_LOBSTER_MESSAGES`). Each copy's times follow the copy before and
 * its order ids are its own, so the file reads as one long day; each copy
 * starts from the vendor's book, not the one the copy before left, so its
 * first rows need corrections, as a day joined from pieces would.
 *
 * Cases, each a fresh process for its first round (what a user's
 * `import` sees, JIT and all) and then `ROUNDS` rounds in this process:
 * - `importLobster` to a new queue, as the program runs it (`ipc` writer,
 *   synced at the end);
 * - its phases: the two CSV files parsed (`LobsterCsv`, nothing else);
 *   the records made (parse, encode, the import's book and the continuity
 *   check against every orderbook row) and dropped; the records appended
 *   by a bare `QueueWriter`, then synced (the sync timed apart);
 * - the peer: `importJsonlFile` of the same queue's records as JSON lines
 *   (what `replay --json` prints of it), the tool's own plain import.
 * If present, the real GOOG day (`../shared/data/lobster/`, level 1,
 * 49,482 events) is imported too, in this process only.
 *
 * Rates count vendor events (message lines); the record rate counts queue
 * records (events, corrections, and the Instrument and Clear that start
 * the queue). Ratios compare medians.
 *
 * Run: `deno task bench lobster_import`. `SPOOL_BENCH_DIR` picks the
 * directory (default: the system temp dir).
 *
 * @module
 */

import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import { lobsterDay } from "../tests/_lobster_day.ts";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { jsonRecordLine } from "../src/stream/mod.ts";
import { importJsonlFile } from "../src/import/jsonl_import.ts";
import { LobsterCsv } from "../src/import/lobster_csv.ts";
import { importLobster, LobsterImport } from "../src/import/lobster_import.ts";

const FULL = Deno.args.includes("--full") || Deno.env.get("SPOOL_LOBSTER_FULL") === "1";
const MESSAGES = Number(
  Deno.env.get("SPOOL_LOBSTER_MESSAGES") ?? (FULL ? 10_000_000 : 500_000),
);
const DAY_MESSAGES = 50_000;
/** Levels of the orderbook files: 10, the synthetic day, and 1, as the GOOG sample. */
const LEVEL_COUNTS = [10, 1];
const ROUNDS = 3;
const GOAL_RATE = 1_000_000;
const ID_STRIDE = 100_000_000;

type Case = "import" | "parse" | "records" | "append" | "jsonl";

interface Timing {
  seconds: number;
  /** Vendor events read. */
  messages: number;
  /** Queue records made. */
  records: number;
  /** Part of `seconds` spent in the final sync, when timed apart. */
  syncSeconds?: number;
}

/** Runs one case on the message file at `path` (or, for `jsonl`, the JSON lines file), into `work`. */
async function runCase(how: Case, path: string, work: string): Promise<Timing> {
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(work, { recursive: true });
  const queue = `${work}/queue`;
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  switch (how) {
    case "import": {
      const s = await importLobster(path, { to: queue });
      return { seconds: seconds(), messages: s.lobster.messages, records: s.records };
    }
    case "parse": {
      const messages = await LobsterCsv.open(path, 6);
      const rows = await LobsterCsv.open(path.replace("_message_", "_orderbook_"), 4 * 1000);
      let n = 0;
      let sum = 0;
      for (;;) {
        let more = messages.next();
        let row = rows.next();
        // Both awaited together, so neither read is left pending when the loop ends.
        if (typeof more !== "boolean" || typeof row !== "boolean") {
          [more, row] = await Promise.all([more, row]);
        }
        if (!more || !row) break;
        sum += messages.values[0]! + rows.values[0]!;
        n++;
      }
      messages.close();
      rows.close();
      if (sum === 0) throw new Error("Nothing parsed");
      return { seconds: seconds(), messages: n, records: 0 };
    }
    case "records":
    case "append": {
      const lobster = await LobsterImport.open(path);
      const writer = how === "append" ? await QueueWriter.open(queue) : undefined;
      let records = 0;
      let bytes = 0;
      for await (const r of lobster) {
        if (writer !== undefined) writer.append(r.typeId, r.payload, r.timestampNs);
        else bytes += r.payload.length;
        records++;
      }
      let syncSeconds: number | undefined;
      if (writer !== undefined) {
        const s0 = performance.now();
        writer.sync();
        syncSeconds = (performance.now() - s0) / 1000;
        writer.close();
      } else if (bytes === 0) {
        throw new Error("No records made");
      }
      const t: Timing = { seconds: seconds(), messages: lobster.counts().messages, records };
      if (syncSeconds !== undefined) t.syncSeconds = syncSeconds;
      return t;
    }
    case "jsonl": {
      const s = await importJsonlFile(path, { to: queue });
      return { seconds: seconds(), messages: s.records, records: s.records };
    }
  }
}

if (Deno.args[0] === "--child") {
  const [, how, path, work] = Deno.args as [string, Case, string, string];
  console.log(JSON.stringify(await runCase(how, path, work)));
  Deno.exit(0);
}

/** Writes all of `bytes` (a write may take only part of a large buffer). */
function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
}

/** Tiles one day's files to `messages` lines: times shifted past the copy before, ids per copy. */
function tile(
  day: { messages: string; orderbook: string },
  levels: number,
  messages: number,
  dir: string,
): string {
  const lines = day.messages.trimEnd().split("\n").map((l) => l.split(","));
  const rows = day.orderbook.trimEnd().split("\n");
  const lastSeconds = Number(lines.at(-1)![0]!.split(".")[0]);
  const firstSeconds = Number(lines[0]![0]!.split(".")[0]);
  const stride = lastSeconds - firstSeconds + 1;
  const name = `${dir}/SYN_2013-01-15_34200000_57600000_`;
  const path = `${name}message_${levels}.csv`;
  const out = Deno.openSync(path, { write: true, create: true, truncate: true });
  const book = Deno.openSync(`${name}orderbook_${levels}.csv`, {
    write: true,
    create: true,
    truncate: true,
  });
  const encoder = new TextEncoder();
  const rowsText = encoder.encode(rows.join("\n") + "\n");
  try {
    for (let copy = 0, written = 0; written < messages; copy++) {
      const take = Math.min(lines.length, messages - written);
      const text: string[] = [];
      for (let i = 0; i < take; i++) {
        const [time, type, id, size, price, direction] = lines[i]!;
        const [whole, fraction] = time!.split(".");
        const shifted = `${Number(whole) + copy * stride}.${fraction}`;
        const ownId = id === "0" ? id : String(Number(id) + copy * ID_STRIDE);
        text.push(`${shifted},${type},${ownId},${size},${price},${direction}`);
      }
      writeAll(out, encoder.encode(text.join("\n") + "\n"));
      writeAll(
        book,
        take === lines.length ? rowsText : encoder.encode(rows.slice(0, take).join("\n") + "\n"),
      );
      written += take;
    }
  } finally {
    out.close();
    book.close();
  }
  return path;
}

/** Writes the queue's records as JSON lines, as `replay --json` prints them. */
async function toJsonLines(queue: string, path: string): Promise<number> {
  const reader = await QueueReader.open(queue, { start: "earliest" });
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let n = 0;
  let chunk: string[] = [];
  for (let m = reader.next(); m !== undefined; m = reader.next()) {
    chunk.push(jsonRecordLine(m));
    if (++n % 65_536 === 0) {
      writeAll(file, encoder.encode(chunk.join("\n") + "\n"));
      chunk = [];
    }
  }
  if (chunk.length > 0) writeAll(file, encoder.encode(chunk.join("\n") + "\n"));
  file.close();
  reader.close();
  return n;
}

async function fresh(how: Case, path: string, work: string): Promise<Timing> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      import.meta.filename!,
      "--child",
      how,
      path,
      work,
    ],
    stdin: "null",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Child '${how}' failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as Timing;
}

/** Runs every case on a synthetic day at `levels` levels in `dir`, prints its table, and returns its summary. */
async function levelBench(dir: string, levels: number): Promise<string> {
  const loadBefore = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  const at = `${dir}/level-${levels}`;
  await Deno.mkdir(at);
  const day = lobsterDay({ seed: 21, messages: DAY_MESSAGES, levels, ordersBeforeWindow: 2000 });
  const path = tile(day, levels, MESSAGES, at);
  const inputBytes = Deno.statSync(path).size +
    Deno.statSync(path.replace("_message_", "_orderbook_")).size;
  const work = `${at}/work`;
  // The JSON lines peer imports exactly the records the LOBSTER import writes.
  const summary = await importLobster(path, { to: `${at}/queue` });
  const jsonl = `${at}/records.jsonl`;
  await toJsonLines(`${at}/queue`, jsonl);
  await Deno.remove(`${at}/queue`, { recursive: true });

  const cases: [Case, string, string][] = [
    ["import", "importLobster to a new queue (ipc, synced at the end)", path],
    ["parse", "phase: parse both CSV files only (LobsterCsv)", path],
    ["records", "phase: + encode, book, continuity check (records dropped)", path],
    ["append", "phase: + bare QueueWriter.append, then sync", path],
    ["jsonl", "peer: importJsonlFile of the same records as JSON lines", jsonl],
  ];
  const runs = new Map<Case, Timing[]>(cases.map(([c]) => [c, []]));
  for (const [c, , input] of cases) runs.get(c)!.push(await fresh(c, input, work));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [c, , input] of cases) runs.get(c)!.push(await runCase(c, input, work));
  }
  const importMedian = median(runs.get("import")!.map((t) => t.messages / t.seconds));
  const rows: Row[] = cases.map(([c, name]) => {
    const ts = runs.get(c)!;
    const rates = ts.map((t) => t.messages / t.seconds);
    const { first: f, median: mid, best } = firstMedianBest(rates);
    const t = ts[ts.length - 1]!;
    const syncs = ts.filter((x) => x.syncSeconds !== undefined).map((x) => x.syncSeconds! * 1000);
    return {
      case: name,
      events: t.messages,
      records: t.records === 0 ? "-" : t.records,
      "first M/s (fresh process)": f / 1e6,
      "median M/s": mid / 1e6,
      "best M/s": best / 1e6,
      "ns/event (median)": 1e9 / mid,
      "sync ms (median)": syncs.length > 0 ? median(syncs) : "",
      "import ÷ case (median)": c === "import" ? "-" : importMedian / mid,
    };
  });
  printTable(
    `LOBSTER import, synthetic level-${levels} day tiled to ${
      MESSAGES.toLocaleString("en-US")
    } events (${(inputBytes / 2 ** 20).toFixed(0)} MiB of CSV, ${
      summary.lobster.book.corrections.toLocaleString("en-US")
    } corrections), fresh process then ${ROUNDS} rounds; goal ≥ ${
      GOAL_RATE / 1e6
    }M events/s (${Deno.build.os}, ${navigator.hardwareConcurrency} cores, load ${loadBefore})`,
    rows,
  );
  await Deno.remove(at, { recursive: true });
  const fr = runs.get("import")![0]!;
  return `level ${levels}: importLobster median ${(importMedian / 1e6).toFixed(2)}M events/s, ` +
    `first (fresh process) ${(fr.messages / fr.seconds / 1e6).toFixed(2)}M; ` +
    `${importMedian >= GOAL_RATE ? "goal met" : "goal NOT met"}`;
}

const base = Deno.env.get("SPOOL_BENCH_DIR");
const dir = await Deno.makeTempDir({
  prefix: "spool-bench-lobster-",
  ...(base ? { dir: base } : {}),
});
try {
  const lines: string[] = [];
  for (const levels of LEVEL_COUNTS) lines.push(await levelBench(dir, levels));
  const work = `${dir}/work`;
  const goog = new URL(
    "../../shared/data/lobster/GOOG_2012-06-21_34200000_57600000_message_1.csv",
    import.meta.url,
  ).pathname;
  try {
    Deno.statSync(goog);
    const rates: number[] = [];
    let t: Timing | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      t = await runCase("import", goog, work);
      rates.push(t.messages / t.seconds);
    }
    const { first: f, median: mid, best } = firstMedianBest(rates);
    printTable("LOBSTER import of the real GOOG day (level 1), in this process", [{
      file: "GOOG 2012-06-21, level 1",
      events: t!.messages,
      records: t!.records,
      "first M/s": f / 1e6,
      "median M/s": mid / 1e6,
      "best M/s": best / 1e6,
    }]);
    lines.push(`real GOOG day, level 1: ${(mid / 1e6).toFixed(2)}M events/s`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  console.log(lines.join("\n"));
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
