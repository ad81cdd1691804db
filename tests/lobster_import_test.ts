/**
 * The LOBSTER import: the round trip on a real excerpt (GOOG, 2012-06-21)
 * and on a synthetic level-10 day, the time rule, file names, the CSV
 * reader, and bad lines.
 */

import assert from "node:assert/strict";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { BookEvent } from "../src/book/book_event.ts";
import { BOOK_FLAG, BOOK_KIND } from "../src/book/book_protocol.ts";
import type { BookStatsJson } from "../src/book/book_stats.ts";
import { lobsterRow } from "../src/book/lobster_row.ts";
import { OrderBook } from "../src/book/order_book.ts";
import { replayBooks } from "../src/book/book_replay.ts";
import { ImportError, QueueContinuityError } from "../src/import/import_error.ts";
import { LobsterCsv } from "../src/import/lobster_csv.ts";
import { lobsterFiles, parseLobsterFileName } from "../src/import/lobster_file_name.ts";
import { importLobster, lobsterCountsLine, LobsterImport } from "../src/import/lobster_import.ts";
import { newYorkMidnightNs, secondsToNs } from "../src/import/new_york_time.ts";
import { importTardisTrades } from "../src/import/tardis_trades_import.ts";
import { isoTimeNs } from "../src/stream/message_line.ts";
import { lobsterDay, writeLobsterDay } from "./_lobster_day.ts";
import { runProgram } from "./_helpers.ts";
import { readRecords } from "./fixtures/chronicle_common.ts";

const FIXTURES = new URL("./fixtures/lobster/", import.meta.url).pathname;
const GOOG = `${FIXTURES}GOOG_2012-06-21_34200000_34630000_message_1.csv`;
const SHARED = new URL("../../shared/data/lobster/", import.meta.url).pathname;
const GOOG_DAY = `${SHARED}GOOG_2012-06-21_34200000_57600000_message_1.csv`;
const haveSharedDay = (() => {
  try {
    return Deno.statSync(GOOG_DAY).isFile;
  } catch {
    return false;
  }
})();

/** What a replay of the queue gives: the book as a LOBSTER row after each batch, and the counts. */
interface Replayed {
  rows: string[];
  stats: BookStatsJson;
  records: number;
  firstTimestampNs: bigint | undefined;
}

/** Replays a queue into a fresh book, a row after every event flagged BatchEnd. */
async function replayRows(queue: string, depth: number): Promise<Replayed> {
  const reader = await QueueReader.open(queue, { start: "earliest" });
  const e = new BookEvent();
  const book = new OrderBook(1, 1);
  const rows: string[] = [];
  let records = 0;
  let firstTimestampNs: bigint | undefined;
  try {
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      records++;
      firstTimestampNs ??= m.timestampNs;
      e.wrapAt(m.data, m.payloadOffset, m.payloadLength);
      book.apply(e);
      if ((e.flags & BOOK_FLAG.BatchEnd) !== 0) rows.push(lobsterRow(book, depth));
    }
  } finally {
    reader.close();
  }
  return { rows, stats: book.stats.toJSON(), records, firstTimestampNs };
}

function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((line) => line !== "");
}

function orderbookOf(messagePath: string): string {
  return messagePath.replace("_message_", "_orderbook_");
}

/** The ImportError an import stops with. */
async function importError(importing: Promise<unknown>): Promise<ImportError> {
  try {
    await importing;
  } catch (error) {
    assert.ok(error instanceof ImportError, String(error));
    return error;
  }
  throw new assert.AssertionError({ message: "The import did not stop" });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool-lobster-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the GOOG excerpt round-trips: replaying the import gives the orderbook file row for row", async () => {
  await withDir(async (dir) => {
    const summary = await importLobster(GOOG, { to: `${dir}/q` });
    const want = lines(orderbookOf(GOOG));
    assert.equal(want.length, 2000);
    const replayed = await replayRows(`${dir}/q`, 1);
    assert.equal(replayed.rows.length, want.length);
    for (let i = 0; i < want.length; i++) assert.equal(replayed.rows[i], want[i], `row ${i + 1}`);
    // The book the import kept saw exactly what the queue holds.
    assert.deepEqual(replayed.stats, summary.lobster.book);
    assert.equal(replayed.records, summary.records);
    // One event per message plus the instrument, the clear and the corrections.
    const c = summary.lobster;
    assert.equal(c.messages, 2000);
    assert.equal(summary.records, 2000 + 2 + c.book.corrections);
    assert.ok(c.correctedRows > 0, "orders from before the window need corrections");
    assert.equal(c.book.kinds.order_add, 983);
    assert.equal(c.book.kinds.order_delete, 629);
    assert.equal(c.book.kinds.order_execute, 179);
    assert.equal(c.book.kinds.hidden_execute, 209);
    assert.equal(c.book.kinds.level, c.book.corrections);
    assert.ok(c.book.unknownIds > 0);
    // 34200.015105074 s after midnight, New York summer time (UTC-4).
    assert.equal(replayed.firstTimestampNs, 1340251200000000000n + 34200015105074n);
  });
});

Deno.test("the GOOG excerpt round-trips through replayBooks byte for byte", async () => {
  await withDir(async (dir) => {
    await importLobster(GOOG, { to: `${dir}/q` });
    let got = "";
    const decoder = new TextDecoder();
    const out = {
      write: (
        p: Uint8Array,
      ) => (got += decoder.decode(p, { stream: true }), Promise.resolve(p.length)),
    };
    await replayBooks({ locations: [`${dir}/q`], depth: 1, format: "lobster", out });
    assert.equal(got, Deno.readTextFileSync(orderbookOf(GOOG)));
  });
});

Deno.test({
  name: "the whole GOOG day round-trips (when ../shared/data/lobster is there)",
  ignore: !haveSharedDay,
  async fn() {
    await withDir(async (dir) => {
      const summary = await importLobster(GOOG_DAY, { to: `${dir}/q` });
      assert.equal(summary.lobster.messages, 49482);
      const want = lines(orderbookOf(GOOG_DAY));
      const replayed = await replayRows(`${dir}/q`, 1);
      assert.equal(replayed.rows.length, 49482);
      for (let i = 0; i < want.length; i++) assert.equal(replayed.rows[i], want[i], `row ${i + 1}`);
      assert.deepEqual(replayed.stats, summary.lobster.book);
    });
  },
});

Deno.test("a synthetic level-10 day with orders from before the window round-trips", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({ seed: 13, messages: 12000, levels: 10, ordersBeforeWindow: 400 });
    const path = writeLobsterDay(dir, day, 10);
    const summary = await importLobster(path, { to: `${dir}/q` });
    const replayed = await replayRows(`${dir}/q`, 10);
    const want = lines(orderbookOf(path));
    assert.equal(replayed.rows.length, 12000);
    for (let i = 0; i < want.length; i++) assert.equal(replayed.rows[i], want[i], `row ${i + 1}`);
    const c = summary.lobster;
    assert.equal(c.levels, 10);
    // The first row shows the book from before the window; later ones levels rising into view.
    assert.ok(c.correctedRows > 1, `corrected rows: ${c.correctedRows}`);
    assert.ok(c.book.unknownIds > 0);
    const kinds = c.book.kinds;
    const [, adds, cancels, deletes, executions, hidden, crosses, halts] = day.types;
    assert.deepEqual(
      [kinds.order_add, kinds.order_cancel, kinds.order_delete, kinds.order_execute],
      [adds, cancels, deletes, executions],
    );
    assert.deepEqual([kinds.hidden_execute, kinds.cross_trade, kinds.status], [
      hidden,
      crosses,
      halts,
    ]);
    assert.ok(adds! > 0 && cancels! > 0 && crosses! > 0 && halts! > 0);
  });
});

Deno.test("a synthetic day whose book and messages disagree round-trips, levels removed and trimmed", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({
      seed: 5,
      messages: 4000,
      levels: 3,
      ordersBeforeWindow: 20,
      silentRemovals: 0.03,
    });
    const path = writeLobsterDay(dir, day, 3, "THIN");
    const summary = await importLobster(path, { to: `${dir}/q` });
    const replayed = await replayRows(`${dir}/q`, 3);
    const want = lines(orderbookOf(path));
    for (let i = 0; i < want.length; i++) assert.equal(replayed.rows[i], want[i], `row ${i + 1}`);
    assert.equal(replayed.rows.length, want.length);
    // Orders the vendor dropped without a message are taken out by corrections.
    assert.ok(summary.lobster.book.trimmedOrders > 0);
    assert.deepEqual(replayed.stats, summary.lobster.book);
  });
});

Deno.test("a day the messages explain in full needs no correction, and passes strict", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({ seed: 3, messages: 3000, levels: 10, ordersBeforeWindow: 0 });
    const path = writeLobsterDay(dir, day, 10);
    const summary = await importLobster(path, { to: `${dir}/q`, strict: true });
    assert.equal(summary.lobster.correctedRows, 0);
    assert.equal(summary.lobster.book.corrections, 0);
    assert.equal(summary.lobster.book.unknownIds, 0);
    const replayed = await replayRows(`${dir}/q`, 10);
    assert.deepEqual(replayed.rows, lines(orderbookOf(path)));
  });
});

Deno.test("strict makes an order id from before the window an error", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({ seed: 13, messages: 500, levels: 10, ordersBeforeWindow: 400 });
    const path = writeLobsterDay(dir, day, 10);
    const error = await importError(importLobster(path, { to: `${dir}/q`, strict: true }));
    assert.match(
      error.message,
      /line \d+: Order id '\d+' is not in the book: it was placed before the window or never \('strict'\)/,
    );
  });
});

Deno.test("a time earlier than the line before is counted, and an error with strict", async () => {
  await withDir(async (dir) => {
    const name = `${dir}/XYZ_2013-07-01_34200000_57600000_`;
    Deno.writeTextFileSync(
      `${name}message_1.csv`,
      "34200.5,1,1,100,1000000,1\n34200.25,1,2,100,1000100,-1\n",
    );
    Deno.writeTextFileSync(
      `${name}orderbook_1.csv`,
      "9999999999,0,1000000,100\n1000100,100,1000000,100\n",
    );
    const summary = await importLobster(`${name}message_1.csv`, { to: `${dir}/q` });
    assert.equal(summary.lobster.backwardTimes, 1);
    assert.equal(summary.backwardTimestamps, 1);
    assert.match(lobsterCountsLine(summary.lobster), /; 1 time earlier than the line before$/);
    await assert.rejects(
      importLobster(`${name}message_1.csv`, { to: `${dir}/q2`, strict: true }),
      (e: Error) => {
        assert.ok(e instanceof ImportError);
        assert.equal(e.line, 2);
        assert.match(
          e.message,
          /line 2: Time 34200\.250000000 s is earlier than 34200\.500000000 s on the line before \('strict'\)/,
        );
        return true;
      },
    );
  });
});

Deno.test("New York midnight follows daylight saving time: winter, summer and the changeover days", () => {
  // Winter: EST, UTC-5. Summer: EDT, UTC-4.
  assert.equal(newYorkMidnightNs("2012-01-03"), BigInt(Date.UTC(2012, 0, 3, 5)) * 1_000_000n);
  assert.equal(newYorkMidnightNs("2012-06-21"), BigInt(Date.UTC(2012, 5, 21, 4)) * 1_000_000n);
  // The clocks change at 02:00: midnight of the changeover day keeps the old offset.
  assert.equal(newYorkMidnightNs("2012-03-11"), BigInt(Date.UTC(2012, 2, 11, 5)) * 1_000_000n);
  assert.equal(newYorkMidnightNs("2012-03-12"), BigInt(Date.UTC(2012, 2, 12, 4)) * 1_000_000n);
  assert.equal(newYorkMidnightNs("2012-11-04"), BigInt(Date.UTC(2012, 10, 4, 4)) * 1_000_000n);
  assert.equal(newYorkMidnightNs("2012-11-05"), BigInt(Date.UTC(2012, 10, 5, 5)) * 1_000_000n);
  // Before 2007 summer time began in April and ended in late October.
  assert.equal(newYorkMidnightNs("2006-03-20"), BigInt(Date.UTC(2006, 2, 20, 5)) * 1_000_000n);
  assert.equal(newYorkMidnightNs("2006-10-30"), BigInt(Date.UTC(2006, 9, 30, 5)) * 1_000_000n);
  // Before 1987 the time-zone database answers.
  assert.equal(newYorkMidnightNs("1980-07-01"), BigInt(Date.UTC(1980, 6, 1, 4)) * 1_000_000n);
  for (const bad of ["2012-02-30", "2012-6-21", "20120621", ""]) {
    assert.throws(() => newYorkMidnightNs(bad), RangeError, bad);
  }
});

Deno.test("the daylight-saving rule agrees with the time-zone database on every day from 1987 to 2040", () => {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  for (let t = Date.UTC(1987, 0, 1); t < Date.UTC(2041, 0, 1); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const local = format.formatToParts(Number(newYorkMidnightNs(date) / 1_000_000n));
    const part = (type: string) => local.find((p) => p.type === type)?.value;
    assert.equal(
      `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`,
      `${date} 00:00`,
    );
  }
});

Deno.test("seconds after midnight are read exactly as integer nanoseconds", () => {
  assert.equal(secondsToNs("34200.015105074"), 34_200_015_105_074);
  assert.equal(secondsToNs("57599.999999999"), 57_599_999_999_999);
  assert.equal(secondsToNs("0.000000001"), 1);
  assert.equal(secondsToNs("34200.1"), 34_200_100_000_000);
  for (const bad of ["34200.0151050741", "-1", "1e3", "abc", "34200.", ""]) {
    assert.throws(() => secondsToNs(bad), SyntaxError, bad);
  }
});

Deno.test("LOBSTER file names give the ticker, date, window and levels, and the orderbook beside", () => {
  assert.deepEqual(parseLobsterFileName("/d/BRK_A_2013-01-15_34200000_57600000_orderbook_50.csv"), {
    ticker: "BRK_A",
    date: "2013-01-15",
    startMs: 34200000,
    endMs: 57600000,
    kind: "orderbook",
    levels: 50,
  });
  for (const name of ["GOOG_message_1.csv", "GOOG_2012-06-21_34200000_57600000_message_0.csv"]) {
    assert.equal(parseLobsterFileName(name), undefined, name);
  }
  assert.deepEqual(lobsterFiles("/d/GOOG_2012-06-21_34200000_57600000_message_1.csv"), {
    messagePath: "/d/GOOG_2012-06-21_34200000_57600000_message_1.csv",
    orderbookPath: "/d/GOOG_2012-06-21_34200000_57600000_orderbook_1.csv",
    symbol: "GOOG",
    date: "2012-06-21",
    levels: 1,
  });
  // Options win over the name, and make up for a name that says nothing.
  const given = lobsterFiles("day.csv", {
    symbol: "GOOG.O",
    date: "2012-06-22",
    orderbook: "/x/GOOG_2012-06-22_0_1_orderbook_5.csv",
  });
  assert.deepEqual(given, {
    messagePath: "day.csv",
    orderbookPath: "/x/GOOG_2012-06-22_0_1_orderbook_5.csv",
    symbol: "GOOG.O",
    date: "2012-06-22",
    levels: 5,
  });
  assert.equal(
    lobsterFiles("day.csv", { symbol: "X", date: "2012-06-22", orderbook: "b.csv" }).levels,
    undefined,
  );
  assert.throws(() => lobsterFiles("day.csv", { symbol: "X" }), {
    name: "RangeError",
    message:
      "'day.csv' is not named TICKER_DATE_START_END_message_N.csv: give the date ('--date'), the orderbook file ('--orderbook')",
  });
  assert.throws(
    () => lobsterFiles("GOOG_2012-06-21_34200000_57600000_message_1.csv", { date: "2012-06-31" }),
    {
      name: "RangeError",
      message: "Date '2012-06-31' is not a calendar date in the form YYYY-MM-DD",
    },
  );
});

Deno.test("an orderbook file found by options, with levels from its first row, round-trips", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({ seed: 21, messages: 800, levels: 5, ordersBeforeWindow: 100 });
    Deno.writeTextFileSync(`${dir}/messages.csv`, day.messages);
    Deno.writeTextFileSync(`${dir}/book.csv`, day.orderbook);
    const summary = await importLobster(`${dir}/messages.csv`, {
      to: `${dir}/q`,
      symbol: "SYN",
      date: "2013-01-15",
      orderbook: `${dir}/book.csv`,
    });
    assert.equal(summary.lobster.levels, 5);
    assert.deepEqual((await replayRows(`${dir}/q`, 5)).rows, lines(`${dir}/book.csv`));
  });
});

Deno.test("the CSV reader gives the same rows whatever the chunking, CRLF and a last line without newline too", async () => {
  const text = Deno.readTextFileSync(GOOG).split("\n").slice(0, 300).join("\r\n");
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    Deno.writeTextFileSync(path, text);
    const want = text.split("\r\n");
    for (const bufferBytes of [64, 67, 1024]) {
      const csv = new LobsterCsv(await Deno.open(path), path, 6, bufferBytes);
      const got: string[] = [];
      while (await csv.next()) {
        assert.equal(csv.problem, undefined);
        assert.equal(csv.fieldCount, 6);
        const d = csv.decimals[0]!;
        const t = String(csv.values[0]);
        got.push([`${t.slice(0, -d)}.${t.slice(-d)}`, ...csv.values.slice(1)].join(","));
      }
      csv.close();
      assert.deepEqual(got, want, `buffer of ${bufferBytes} bytes`);
      assert.equal(csv.bytesRead, new TextEncoder().encode(text).length);
    }
    Deno.writeTextFileSync(path, "1,2\n" + "9".repeat(100) + "\n");
    const csv = new LobsterCsv(await Deno.open(path), path, 6, 64);
    assert.equal(await csv.next(), true);
    await assert.rejects(async () => await csv.next(), {
      name: "InputLineError",
      message: `Line 2 of '${path}' is longer than 64 bytes`,
    });
    csv.close();
  } finally {
    await Deno.remove(path);
  }
});

/** A small valid day to spoil: 40 messages at 2 levels. */
function smallDay(dir: string): string {
  const day = lobsterDay({ seed: 9, messages: 40, levels: 2, ordersBeforeWindow: 10 });
  return writeLobsterDay(dir, day, 2, "BAD");
}

function spoil(path: string, line: number, replace: (text: string) => string | undefined): void {
  const all = Deno.readTextFileSync(path).split("\n");
  const text = replace(all[line - 1]!);
  if (text === undefined) all.splice(line - 1, 1);
  else all[line - 1] = text;
  Deno.writeTextFileSync(path, all.join("\n"));
}

function withField(text: string, index: number, value: string): string {
  const fields = text.split(",");
  fields[index] = value;
  return fields.join(",");
}

const BAD_LINES: {
  name: string;
  file: "message" | "orderbook";
  line: number;
  spoil: (text: string) => string | undefined;
  reason: (orderbook: string) => string;
}[] = [
  {
    name: "a field that is not a number",
    file: "message",
    line: 7,
    spoil: (t) => withField(t, 2, "12x4"),
    reason: () => "Field 3 '12x4' is not a number",
  },
  {
    name: "a message line with a column missing",
    file: "message",
    line: 7,
    spoil: (t) => t.slice(0, t.lastIndexOf(",")),
    reason: () =>
      "Message line has 5 fields, expected 6 (time, type, order id, size, price, direction)",
  },
  {
    name: "an unknown event type",
    file: "message",
    line: 7,
    spoil: (t) => t.replace(/^([^,]+),\d,/, "$1,8,"),
    reason: () => "Event type '8' is not one of 1 to 7",
  },
  {
    name: "an orderbook line with a column too many",
    file: "orderbook",
    line: 7,
    spoil: (t) => `${t},1`,
    reason: (ob) =>
      `Orderbook file '${ob}' line 7: it has 9 fields, expected 8 (2 levels of ask price, ask size, bid price, bid size)`,
  },
  {
    name: "an orderbook field that is not a number",
    file: "orderbook",
    line: 7,
    spoil: (t) => t.replace(/^\d+/, "abc"),
    reason: (ob) => `Orderbook file '${ob}' line 7: field 1 'abc' is not a number`,
  },
  {
    name: "an orderbook with a line fewer than the messages",
    file: "orderbook",
    line: 40,
    spoil: () => undefined,
    reason: (ob) => `Orderbook file '${ob}' has no line 40: it ends before the message file`,
  },
  {
    name: "an orderbook with a line more than the messages",
    file: "orderbook",
    line: 41,
    spoil: () => "9999999999,0,-9999999999,0,9999999999,0,-9999999999,0\n",
    reason: (ob) =>
      `Orderbook file '${ob}' has more lines than the message file: line 41 has no message`,
  },
];

for (const bad of BAD_LINES) {
  Deno.test(`${bad.name} stops the import with one line naming the file and line, and how to resume`, async () => {
    await withDir(async (dir) => {
      const path = smallDay(dir);
      const ob = orderbookOf(path);
      const good = lines(ob);
      spoil(bad.file === "message" ? path : ob, bad.line, bad.spoil);
      const e = await importError(importLobster(path, { to: `${dir}/q` }));
      assert.equal(e.line, bad.line);
      const before = Math.min(bad.line - 1, 40);
      const imported = await replayRows(`${dir}/q`, 2);
      assert.equal(e.imported, imported.records);
      const records = imported.records === 1 ? "1 record was" : `${imported.records} records were`;
      assert.equal(
        e.message,
        `'${path}' line ${bad.line}: ${
          bad.reason(ob)
        }; ${records} imported into '${dir}/q' (seq 1..${imported.records}): fix the input and re-run with '--from-line ${
          before + 1
        }' to resume`,
      );
      assert.ok(!e.message.includes("\n"));
      // Everything before the bad line is in the queue, whole.
      assert.deepEqual(imported.rows, good.slice(0, before));
    });
  });
}

Deno.test("an import stopped by a bad line resumes from that line into the same queue", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({ seed: 17, messages: 600, levels: 10, ordersBeforeWindow: 200 });
    const path = writeLobsterDay(dir, day, 10);
    spoil(path, 301, (t) => withField(t, 2, "oops"));
    const error = await importError(importLobster(path, { to: `${dir}/q` }));
    assert.match(error.message, /: fix the input and re-run with '--from-line 301' to resume$/);
    writeLobsterDay(dir, day, 10);
    const summary = await importLobster(path, { to: `${dir}/q`, fromLine: 301 });
    assert.equal(summary.lobster.messages, 300);
    // The lines before 301 rebuilt the import's book: every row matches, as without the stop.
    const replayed = await replayRows(`${dir}/q`, 10);
    assert.deepEqual(replayed.rows, lines(orderbookOf(path)));
  });
});

Deno.test("a missing orderbook file or a bad option is refused before the queue is touched", async () => {
  await withDir(async (dir) => {
    const path = smallDay(dir);
    Deno.removeSync(orderbookOf(path));
    await assert.rejects(importLobster(path, { to: `${dir}/q` }), {
      name: "InputFileError",
      message: `Cannot read '${orderbookOf(path)}': no such file or directory`,
    });
    await assert.rejects(LobsterImport.open(path, { fromLine: 0 }), RangeError);
    await assert.rejects(LobsterImport.open(path, { market: -1 }), RangeError);
    assert.throws(() => Deno.statSync(`${dir}/q`), Deno.errors.NotFound);
  });
});

Deno.test("every message type maps to its event, with the side and the halt status", async () => {
  await withDir(async (dir) => {
    const name = `${dir}/ALL_2013-01-15_34200000_57600000_`;
    Deno.writeTextFileSync(
      `${name}message_1.csv`,
      [
        "34200.1,1,1,100,1000000,1",
        "34200.2,1,2,50,1000100,-1",
        "34200.3,2,1,30,1000000,1",
        "34200.4,4,2,10,1000100,-1",
        "34200.5,5,0,7,1000050,1",
        "34200.6,6,99,500,1000050,-1",
        "34200.7,7,0,0,-1,-1",
        "34200.8,7,0,0,0,-1",
        "34200.9,7,0,0,1,-1",
        "34201,3,1,70,1000000,1",
        "",
      ].join("\n"),
    );
    Deno.writeTextFileSync(
      `${name}orderbook_1.csv`,
      [
        "9999999999,0,1000000,100",
        "1000100,50,1000000,100",
        "1000100,50,1000000,70",
        "1000100,40,1000000,70",
        "1000100,40,1000000,70",
        "1000100,40,1000000,70",
        "1000100,40,1000000,70",
        "1000100,40,1000000,70",
        "1000100,40,1000000,70",
        "1000100,40,-9999999999,0",
        "",
      ].join("\n"),
    );
    const lobster = await LobsterImport.open(`${name}message_1.csv`);
    const e = new BookEvent();
    const seen: unknown[] = [];
    const statuses: number[] = [];
    for await (const r of lobster) {
      e.wrapBytes(r.payload);
      if (e.kind === BOOK_KIND.Status) statuses.push(e.status);
      else if (e.kind >= BOOK_KIND.Level && e.kind <= BOOK_KIND.CrossTrade) {
        seen.push([r.line, e.kind, e.side, e.id, e.price, e.size, e.flags, e.vendorSeq]);
      }
    }
    const end = BOOK_FLAG.BatchEnd;
    assert.deepEqual(seen, [
      [1, BOOK_KIND.OrderAdd, 0, 1, 1000000, 100, end, 1],
      [2, BOOK_KIND.OrderAdd, 1, 2, 1000100, 50, end, 2],
      [3, BOOK_KIND.OrderCancel, 0, 1, 1000000, 30, end, 3],
      [4, BOOK_KIND.OrderExecute, 1, 2, 1000100, 10, end, 4],
      [5, BOOK_KIND.HiddenExecute, 0, 0, 1000050, 7, end, 5],
      [6, BOOK_KIND.CrossTrade, 2, 99, 1000050, 500, end, 6],
      [10, BOOK_KIND.OrderDelete, 0, 1, 1000000, 70, end, 10],
    ]);
    assert.deepEqual(statuses, [1, 2, 3]); // halted, quoting, trading
    assert.equal(lobster.counts().correctedRows, 0);
    assert.equal(
      lobsterCountsLine(lobster.counts()),
      "10 vendor events at 1 level; 0 corrections on 0 rows; 0 unknown order ids",
    );
  });
});

/** The GOOG excerpt's two files copied into `dir`, to spoil and mend; the message file's path. */
function googCopy(dir: string): string {
  const name = GOOG.slice(GOOG.lastIndexOf("/") + 1);
  Deno.copyFileSync(GOOG, `${dir}/${name}`);
  Deno.copyFileSync(orderbookOf(GOOG), `${dir}/${orderbookOf(name)}`);
  return `${dir}/${name}`;
}

/** The GOOG excerpt imported into `queue` up to line 999: line 1000 is bad, as the message says. */
async function stopAtLine1000(path: string, queue: string): Promise<void> {
  spoil(path, 1000, (t) => withField(t, 3, "1x0"));
  const e = await importError(importLobster(path, { to: queue }));
  assert.match(e.message, /: fix the input and re-run with '--from-line 1000' to resume$/);
  Deno.copyFileSync(GOOG, path);
}

/** The error `importing` rejects with, which must be a QueueContinuityError. */
async function refusal(importing: Promise<unknown>): Promise<QueueContinuityError> {
  const error = await importing.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof QueueContinuityError, `expected a refusal, got ${error}`);
  return error;
}

Deno.test("a resumed import writes, record for record and byte for byte, what an uninterrupted one does", async () => {
  await withDir(async (dir) => {
    const path = googCopy(dir);
    const whole = await importLobster(GOOG, { to: `${dir}/whole` });
    await stopAtLine1000(path, `${dir}/q`);
    const resumed = await importLobster(path, { to: `${dir}/q`, fromLine: 1000 });
    const [got, want] = await Promise.all([readRecords(`${dir}/q`), readRecords(`${dir}/whole`)]);
    assert.equal(got.length, want.length);
    // seq, type id, timestamp and payload of each: the lines before 1000 rebuilt the import's
    // book, so the resume writes no new instrument or clear and the same corrections.
    for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `record ${i + 1}`);
    // The resume counts what it wrote, from line 1000 on.
    assert.equal(resumed.lobster.messages, 1001);
    assert.equal(resumed.lobster.book.events, resumed.records);
    assert.ok(resumed.lobster.book.corrections < whole.lobster.book.corrections);
    assert.deepEqual((await replayRows(`${dir}/q`, 1)).stats, whole.lobster.book);
  });
});

Deno.test("a resume that does not follow the queue's last line is refused, naming the line that does", async () => {
  await withDir(async (dir) => {
    const path = googCopy(dir);
    const q = `${dir}/q`;
    await stopAtLine1000(path, q);
    const stopped = await readRecords(q);
    const held =
      `Queue '${q}' already holds line 999 of the input (the vendor seq of its last event)`;
    const ends = `Queue '${q}' ends at line 999 of the input (the vendor seq of its last event)`;
    const cases: [number, string][] = [
      [1, `${held}: '--from-line 1' would import lines 1..999 again`],
      [999, `${held}: '--from-line 999' would import line 999 again`],
      [1001, `${ends}: '--from-line 1001' would leave out line 1000`],
      [1500, `${ends}: '--from-line 1500' would leave out lines 1000..1499`],
    ];
    for (const [fromLine, reason] of cases) {
      const e = await refusal(importLobster(path, { to: q, fromLine }));
      assert.equal(e.message, `${reason}; resume with '--from-line 1000'`);
      assert.deepEqual([e.queue, e.lastLine, e.resumeLine], [q, 999, 1000]);
    }
    assert.deepEqual(await readRecords(q), stopped, "nothing was written");
    // The resume the message names goes; run again, it is refused.
    await importLobster(path, { to: q, fromLine: 1000 });
    const done = await readRecords(q);
    const again = await refusal(importLobster(path, { to: q, fromLine: 1000 }));
    assert.equal(
      again.message,
      `Queue '${q}' already holds line 2000 of the input (the vendor seq of its last event): ` +
        "'--from-line 1000' would import lines 1000..2000 again; resume with '--from-line 2001'",
    );
    assert.deepEqual(await readRecords(q), done, "nothing was written twice");
  });
});

Deno.test("a whole import into a queue that holds records must start after the last of them", async () => {
  await withDir(async (dir) => {
    const q = `${dir}/q`;
    await importLobster(GOOG, { to: q });
    const held = await readRecords(q);
    const e = await refusal(importLobster(GOOG, { to: q }));
    const last = held.at(-1)!.timestampNs;
    assert.equal(
      e.message,
      `Queue '${q}' already holds records up to ${isoTimeNs(last)} and the input starts at ` +
        `2012-06-21T13:30:00.015105074Z: import it into a new queue, or resume the import that ` +
        `stopped after line 2000 with '--from-line 2001'`,
    );
    assert.deepEqual(await readRecords(q), held);
    // A later day goes into the same queue; the earlier one, after it, does not.
    const days = `${dir}/days`;
    const day = lobsterDay({ seed: 9, messages: 40, levels: 2, ordersBeforeWindow: 10 });
    const monday = writeLobsterDay(dir, day, 2, "SYN", "2013-01-14");
    const tuesday = writeLobsterDay(dir, day, 2, "SYN", "2013-01-15");
    const first = await importLobster(monday, { to: days });
    const second = await importLobster(tuesday, { to: days });
    assert.equal(second.seqs?.first, first.records + 1);
    await refusal(importLobster(monday, { to: days }));
  });
});

Deno.test("a resume into a queue that another kind of import wrote is refused", async () => {
  await withDir(async (dir) => {
    const q = `${dir}/q`;
    await importTardisTrades(new URL("./fixtures/tardis/trades.csv", import.meta.url).pathname, {
      to: q,
    });
    const e = await refusal(importLobster(GOOG, { to: q, fromLine: 8 }));
    assert.equal(
      e.message,
      `Queue '${q}' ends with a trade event that a 'lobster' import does not write (vendor seq 5): ` +
        "'--from-line' resumes an import in the queue it stopped in; import into a new queue",
    );
  });
});

Deno.test("a from-line past the end of the files is an error naming the file and its length", async () => {
  await withDir(async (dir) => {
    for (const fromLine of [2001, 5000]) {
      const e = await importError(importLobster(GOOG, { to: `${dir}/q`, fromLine }));
      assert.equal(
        e.message,
        `'${GOOG}' line 2000: From line '${fromLine}' is past the end of the file, which has 2000 lines; ` +
          `nothing was imported into '${dir}/q'`,
      );
    }
    assert.throws(() => Deno.statSync(`${dir}/q`), Deno.errors.NotFound);
  });
});

Deno.test("a last line without a newline is warned of, and with strict is an error naming the file and line", async () => {
  await withDir(async (dir) => {
    const day = lobsterDay({ seed: 3, messages: 40, levels: 1, ordersBeforeWindow: 0 });
    const path = writeLobsterDay(dir, day, 1);
    const ob = orderbookOf(path);
    // The orderbook's last line cut in its last field, the bid size: '…,90' is read as '…,9'.
    const text = Deno.readTextFileSync(ob);
    assert.match(text, /,90\n$/);
    Deno.writeTextFileSync(ob, text.slice(0, -2));
    const warnings: string[] = [];
    const summary = await importLobster(path, {
      to: `${dir}/q`,
      onWarning: (w) => warnings.push(w),
    });
    assert.equal(summary.lobster.messages, 40);
    const reason =
      `Orderbook file '${ob}' line 40 is its last and has no newline: the file may be cut short`;
    assert.deepEqual(warnings, [`${reason}; it was imported ('--strict' refuses it)`]);
    const e = await importError(importLobster(path, { to: `${dir}/strict`, strict: true }));
    assert.equal(e.line, 40);
    assert.match(
      e.message,
      new RegExp(
        `^'${path}' line 40: ${
          RegExp.escape(reason)
        } \\('strict'\\); \\d+ records were imported .*'--from-line 40' to resume$`,
      ),
    );
    assert.deepEqual((await replayRows(`${dir}/strict`, 1)).rows, lines(ob).slice(0, 39));
    // The message file likewise; a file that ends in a newline says nothing.
    Deno.writeTextFileSync(ob, text);
    Deno.writeTextFileSync(path, Deno.readTextFileSync(path).slice(0, -1));
    warnings.length = 0;
    await importLobster(path, { to: `${dir}/q2`, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(warnings, [
      `Message file '${path}' line 40 is its last and has no newline: the file may be cut short; it was imported ('--strict' refuses it)`,
    ]);
    warnings.length = 0;
    await importLobster(GOOG, { to: `${dir}/q3`, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(warnings, []);
  });
});

Deno.test("import --from-line run twice exits 1 with one line naming the line to resume from; a cut file warns", async () => {
  await withDir(async (dir) => {
    const path = googCopy(dir);
    const q = `${dir}/q`;
    await stopAtLine1000(path, q);
    const args = ["--to", q, "--format", "lobster", path, "--from-line", "1000"];
    const first = await runProgram("import", args);
    assert.equal(first.code, 0, first.stderr);
    const second = await runProgram("import", args);
    assert.equal(second.code, 1);
    assert.equal(
      second.stderr,
      `import: Queue '${q}' already holds line 2000 of the input (the vendor seq of its last event): ` +
        "'--from-line 1000' would import lines 1000..2000 again; resume with '--from-line 2001'\n",
    );
    const past = await runProgram("import", [...args.slice(0, -1), "2001"]);
    assert.equal(past.code, 1);
    assert.match(
      past.stderr,
      /^import: '.*' line 2000: From line '2001' is past the end of the file, which has 2000 lines; nothing was imported into '.*'\n$/,
    );
    // The warning channel: the program's stderr.
    Deno.writeTextFileSync(path, Deno.readTextFileSync(path).slice(0, -1));
    const cut = await runProgram("import", ["--to", `${dir}/cut`, "--format", "lobster", path]);
    assert.equal(cut.code, 0, cut.stderr);
    assert.match(
      cut.stderr,
      /^import: warning: Message file '.*' line 2000 is its last and has no newline: the file may be cut short; it was imported \('--strict' refuses it\)\n/,
    );
  });
});

Deno.test("a queue that ends inside a line's batch resumes at that line: the records already there are not written twice, and the rest of the batch is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool_lobster_partial_" });
  try {
    await importLobster(GOOG, { to: `${dir}/whole` });
    const whole = await readRecords(`${dir}/whole`);
    // A queue cut inside a batch: the first records of a line whose batch has several.
    const e = new BookEvent();
    const cut = whole.findIndex((r, i) => {
      e.wrapBytes(r.payload);
      return i > 5 && (e.flags & BOOK_FLAG.BatchEnd) === 0 && e.vendorSeq > 1;
    });
    assert.ok(cut > 0, "the excerpt has a batch of several records");
    e.wrapBytes(whole[cut]!.payload);
    const line = e.vendorSeq;
    const w = await QueueWriter.open(`${dir}/cut`);
    for (const r of whole.slice(0, cut + 1)) w.append(r.typeId, r.payload, r.timestampNs);
    w.close();
    // The line after it would leave out the rest of the batch: refused, naming the line.
    await assert.rejects(
      importLobster(GOOG, { to: `${dir}/cut`, fromLine: line + 1 }),
      (error: unknown) => {
        assert.ok(error instanceof QueueContinuityError);
        assert.match(
          error.message,
          new RegExp(`ends inside the batch of line ${line} .*resume with '--from-line ${line}'`),
        );
        return true;
      },
    );
    // That line: its records already there are skipped, the rest written, and the queue ends
    // up record for record as the import that never stopped.
    const resumed = await importLobster(GOOG, { to: `${dir}/cut`, fromLine: line });
    assert.ok(resumed.skipped > 0);
    assert.deepEqual(await readRecords(`${dir}/cut`), whole);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
