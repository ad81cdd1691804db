/**
 * Tests of the Tardis imports (`src/import/tardis_*.ts`): committed CSV
 * fixtures, plain and gzip, imported into real queues, read back and
 * replayed into books; and every kind of bad row.
 */

import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";
import { readRecords, type StoredRecord } from "./fixtures/chronicle_common.ts";
import {
  BOOK_FLAG,
  BOOK_KIND,
  BOOK_KIND_NAMES,
  BookEvent,
  SIDE,
  type Side,
} from "../src/book/mod.ts";
import { BookSet } from "../src/book/book_set.ts";
import { ImportError, InputBytes } from "../src/import/mod.ts";
import { QueueContinuityError } from "../src/import/import_error.ts";
import { decimalsOf, scaleDecimal } from "../src/import/decimal_scale.ts";
import { importTardisBook, TardisBookRecords } from "../src/import/tardis_book_import.ts";
import { importTardisTrades, TRADE_INFERENCE_ROWS } from "../src/import/tardis_trades_import.ts";
import { tardisCountsLine } from "../src/import/tardis_counts.ts";

const FIXTURES = `${ROOT}tests/fixtures/tardis`;
const BOOK_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";
const TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount";
const work = await Deno.makeTempDir({ prefix: "spool-tardis-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));
let dirs = 0;

function fresh(name: string): string {
  return `${work}/${++dirs}-${name}`;
}

function writeCsv(name: string, lines: string[]): string {
  const path = fresh(name);
  Deno.writeTextFileSync(path, lines.map((l) => `${l}\n`).join(""));
  return path;
}

const FLAG_NAMES: [number, string][] = [
  [BOOK_FLAG.SnapshotBegin, "begin"],
  [BOOK_FLAG.SnapshotEnd, "end"],
  [BOOK_FLAG.BatchEnd, "batch"],
];
const SIDE_NAMES = ["bid", "ask", "none"];

/** Each stored event as one readable line. */
function describe(records: StoredRecord[]): string[] {
  const e = new BookEvent();
  return records.map((r) => {
    assert.equal(e.wrapBytes(r.payload), true);
    assert.equal(r.typeId, 0x4200 + e.kind);
    // The chronicle's timestamp is the exchange's.
    assert.equal(r.timestampNs, e.exchangeNs);
    const flags = FLAG_NAMES.filter(([bit]) => (e.flags & bit) !== 0).map(([, n]) => n);
    const head = `${BOOK_KIND_NAMES[e.kind]} v${e.venue} m${e.market}`;
    const tail = flags.length === 0 ? "" : ` [${flags.join(",")}]`;
    switch (e.kind) {
      case BOOK_KIND.Instrument:
        return `${head} ${e.symbol} ${e.priceDecimals}/${e.sizeDecimals}${tail}`;
      case BOOK_KIND.Level:
        return `${head} ${SIDE_NAMES[e.side]} ${e.price} ${e.size}${tail}`;
      case BOOK_KIND.Trade:
        return `${head} ${SIDE_NAMES[e.side]} #${e.id} ${e.price} ${e.size}${tail}`;
      default:
        return `${head}${tail}`;
    }
  });
}

type Ladder = { bids: [number, number][]; asks: [number, number][] };

function ladder(books: BookSet, venue: number, market: number): Ladder {
  const book = books.book(venue, market);
  assert.ok(book !== undefined, `no book for market ${market}`);
  const side = (s: Side) =>
    Array.from(
      { length: book.depth(s) },
      (_, i) => [book.price(s, i)!, book.size(s, i)] as [number, number],
    );
  return { bids: side(SIDE.Bid), asks: side(SIDE.Ask) };
}

/** Replays the records into books; the ladder of the event's market after each batch. */
function replay(records: StoredRecord[]): { books: BookSet; batches: [number, Ladder][] } {
  const books = new BookSet();
  const e = new BookEvent();
  const batches: [number, Ladder][] = [];
  for (const r of records) {
    e.wrapBytes(r.payload);
    books.apply(e);
    if (e.kind !== BOOK_KIND.Instrument && (e.flags & BOOK_FLAG.BatchEnd) !== 0) {
      batches.push([e.market, ladder(books, e.venue, e.market)]);
    }
  }
  return { books, batches };
}

/** The import's error, after checking it is an ImportError. */
async function importFails(run: Promise<unknown>): Promise<ImportError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ImportError, `expected an ImportError, got ${error}`);
  return error;
}

Deno.test("decimal text scales to exact integers, never through a float", () => {
  const cases: [string, number, number][] = [
    ["6443.25", 2, 644325],
    ["0.1", 1, 1],
    ["0.3", 15, 300_000_000_000_000],
    ["1.005", 3, 1005], // 1.005 * 1000 is 1004.9999999999999 as a float
    ["4.35", 2, 435], // 4.35 * 100 is 434.99999999999994 as a float
    ["1e-7", 8, 10],
    ["2.5E+3", 0, 2500],
    ["100e-2", 0, 1],
    ["-12.5", 1, -125],
    ["0.010", 2, 1],
    ["90071992547409.91", 2, Number.MAX_SAFE_INTEGER],
  ];
  for (const [text, decimals, want] of cases) {
    assert.equal(scaleDecimal(text, decimals), want, text);
  }
  assert.equal(decimalsOf("0.010"), 2);
  assert.equal(decimalsOf("1e-7"), 7);
  assert.equal(decimalsOf("1500"), 0);
  assert.throws(() => scaleDecimal("6443.125", 2), /has 3 decimals, more than 2/);
  assert.throws(() => scaleDecimal("90071992547409.92", 2), /past 2\^53-1/);
  for (const bad of ["", "1,5", "1.2.3", "abc", "1e", "NaN", " 1"]) {
    assert.throws(() => scaleDecimal(bad, 2), SyntaxError, bad);
  }
});

Deno.test("incremental_book_L2: batches, snapshots clearing the book, exact scaling", async () => {
  const to = fresh("q");
  const summary = await importTardisBook(`${FIXTURES}/book_one.csv`, { to });
  const records = await readRecords(to);
  // Decimals are the first batch's (the snapshot): 2 for prices, 3 for sizes.
  assert.deepEqual(describe(records), [
    "instrument v1 m1 BTCUSDT 2/3 [batch]",
    "clear v1 m1 [begin]",
    "level v1 m1 ask 640250 3",
    "level v1 m1 ask 640175 2250",
    "level v1 m1 bid 640010 1500",
    "level v1 m1 bid 639900 10000 [end,batch]",
    "level v1 m1 bid 640010 0",
    "level v1 m1 bid 640050 700 [batch]",
    "level v1 m1 ask 640175 3000 [batch]",
    "clear v1 m1 [begin]",
    "level v1 m1 bid 639000 4000",
    "level v1 m1 ask 639525 5000 [end,batch]",
    "level v1 m1 ask 639525 6000 [batch]",
  ]);
  assert.equal(summary.records, 13);
  assert.deepEqual(summary.counts.events, { instrument: 1, clear: 2, level: 10 });
  assert.equal(summary.counts.skippedBeforeSnapshot, 2);
  assert.equal(summary.counts.rows, 12);
  assert.match(tardisCountsLine(summary.counts), /; 2 rows before the first snapshot skipped$/);

  // Timestamps: µs to ns, exchange and receive apart.
  const e = new BookEvent();
  e.wrapBytes(records[2]!.payload);
  assert.equal(e.exchangeNs, 1585699200000000000n);
  assert.equal(e.receiveNs, 1585699200000500000n);

  // The book after each batch, from a real replay of the queue.
  const { batches } = replay(records);
  const snapshot: Ladder = {
    bids: [[640010, 1500], [639900, 10000]],
    asks: [[640175, 2250], [640250, 3]],
  };
  assert.deepEqual(batches, [
    [1, snapshot],
    [1, { bids: [[640050, 700], [639900, 10000]], asks: snapshot.asks }],
    [1, { bids: [[640050, 700], [639900, 10000]], asks: [[640175, 3000], [640250, 3]] }],
    // The second snapshot replaces everything before it.
    [1, { bids: [[639000, 4000]], asks: [[639525, 5000]] }],
    [1, { bids: [[639000, 4000]], asks: [[639525, 6000]] }],
  ]);
});

Deno.test("incremental_book_L2: gzip imports the same as plain", async () => {
  const plain = fresh("plain");
  const gz = fresh("gz");
  const a = await importTardisBook(`${FIXTURES}/book_one.csv`, { to: plain });
  const b = await importTardisBook(`${FIXTURES}/book_one.csv.gz`, { to: gz });
  assert.deepEqual(await readRecords(gz), await readRecords(plain));
  assert.deepEqual(b.counts, a.counts);
});

Deno.test("incremental_book_L2: two symbols are two markets, each with its instrument first", async () => {
  const to = fresh("q");
  const summary = await importTardisBook(`${FIXTURES}/book_two.csv`, { to, venue: 7 });
  const records = await readRecords(to);
  assert.deepEqual(describe(records), [
    "instrument v7 m1 BTC-PERPETUAL 1/0 [batch]",
    "clear v7 m1 [begin]",
    "level v7 m1 bid 64000 100",
    "level v7 m1 ask 64005 200 [end,batch]",
    "instrument v7 m2 ETH-PERPETUAL 2/0 [batch]",
    "clear v7 m2 [begin]",
    "level v7 m2 bid 13005 5",
    "level v7 m2 ask 13010 7 [end,batch]",
    "level v7 m1 bid 64000 0 [batch]",
    "level v7 m2 ask 13015 1 [batch]",
  ]);
  assert.equal(summary.counts.skippedBeforeSnapshot, 1); // ETH's row before its snapshot
  const { books } = replay(records);
  assert.deepEqual(ladder(books, 7, 1), { bids: [], asks: [[64005, 200]] });
  assert.deepEqual(ladder(books, 7, 2), { bids: [[13005, 5]], asks: [[13010, 7], [13015, 1]] });
  assert.equal(books.book(7, 2)?.symbol, "ETH-PERPETUAL");
});

Deno.test("incremental_book_L2: symbols asked for are numbered in that order; others are counted", async () => {
  const to = fresh("q");
  const summary = await importTardisBook(`${FIXTURES}/book_two.csv`, {
    to,
    symbols: ["ETH-PERPETUAL"],
    priceDecimals: 4,
    sizeDecimals: 1,
  });
  assert.deepEqual(describe(await readRecords(to)), [
    "instrument v1 m1 ETH-PERPETUAL 4/1 [batch]",
    "clear v1 m1 [begin]",
    "level v1 m1 bid 1300500 50",
    "level v1 m1 ask 1301000 70 [end,batch]",
    "level v1 m1 ask 1301500 10 [batch]",
  ]);
  assert.equal(summary.counts.otherSymbolRows, 3);
  assert.match(tardisCountsLine(summary.counts), /; 3 rows of other symbols skipped/);
});

Deno.test("incremental_book_L2: a later value with more decimals names the option to pass", async () => {
  const path = writeCsv("more.csv", [
    BOOK_HEADER,
    "x,A,10,10,true,bid,100.5,1",
    "x,A,20,20,false,bid,100.25,1",
  ]);
  const error = await importFails(importTardisBook(path, { to: fresh("q") }));
  assert.equal(error.line, 3);
  assert.match(
    error.message,
    new RegExp(
      `^'${path}' line 3: Price '100.25' has 2 decimals, more than the 1 inferred for 'A' from its first rows: ` +
        `import into a new queue with '--price-decimals 2' or more; 3 records were imported`,
    ),
  );
  const given = await importFails(importTardisBook(path, { to: fresh("q"), sizeDecimals: 0 }));
  assert.equal(given.line, 3);
  const sized = writeCsv("sized.csv", [BOOK_HEADER, "x,A,10,10,true,bid,100,1.5"]);
  const error2 = await importFails(importTardisBook(sized, { to: fresh("q"), sizeDecimals: 0 }));
  assert.match(
    error2.message,
    /line 2: Amount '1\.5' has 1 decimals, more than '--size-decimals 0': import into a new queue with '--size-decimals 1' or more; nothing was imported/,
  );
});

Deno.test("incremental_book_L2: each kind of bad row is one error naming the file and the line", async () => {
  const good = ["x,A,10,11,true,bid,100.5,1", "x,A,10,11,true,ask,101,2"];
  const cases: [string[], number, RegExp][] = [
    [
      ["exchange,symbol,timestamp,price"],
      1,
      /Header has no 'local_timestamp', 'is_snapshot', 'side', 'amount'/,
    ],
    [[TRADES_HEADER, ...good], 1, /Header has no 'is_snapshot'/],
    [
      [BOOK_HEADER, ...good, "x,A,20,21,false,bid,100.5"],
      4,
      /Row has 7 fields but the header has 8/,
    ],
    [
      [BOOK_HEADER, ...good, "x,A,20,21,maybe,bid,100.5,1"],
      4,
      /'is_snapshot' is 'maybe', not 'true' or 'false'/,
    ],
    [
      [BOOK_HEADER, ...good, "x,A,20,21,false,middle,100.5,1"],
      4,
      /'side' is 'middle', not 'bid' or 'ask'/,
    ],
    [
      [BOOK_HEADER, ...good, "x,A,2020-04-01,21,false,bid,100.5,1"],
      4,
      /'timestamp' is '2020-04-01', not microseconds/,
    ],
    [
      [BOOK_HEADER, ...good, "x,A,20,,false,bid,100.5,1"],
      4,
      /'local_timestamp' is '', not microseconds/,
    ],
    [
      [BOOK_HEADER, ...good, "x,A,20,21,false,bid,1O0.5,1"],
      4,
      /Price '1O0\.5' is not a decimal number/,
    ],
    [[BOOK_HEADER, ...good, "x,A,20,21,false,bid,100.5,-1"], 4, /Amount '-1' is negative/],
    [
      [BOOK_HEADER, ...good, "x,A,20,21,false,bid,100.5,1e400"],
      4,
      /Amount '1e400' at 0 decimals is past 2\^53-1/,
    ],
    [
      [BOOK_HEADER, good[0]!, "x,A,10,11,true,ask,101,1e-20"],
      3,
      /Amount '1e-20' has 20 decimals; a book event holds at most 18/,
    ],
    [
      [BOOK_HEADER, ...good, "x,,20,21,false,bid,100.5,1"],
      4,
      /Symbol '' must be 1 to 255 bytes of UTF-8/,
    ],
    [
      [BOOK_HEADER, ...good, "x,A,20,21,false,bid,99999999999999999,1"],
      4,
      /Price '99999999999999999' at 1 decimals is past 2\^53-1/,
    ],
  ];
  for (const [lines, line, reason] of cases) {
    const path = writeCsv("bad.csv", lines);
    const error = await importFails(importTardisBook(path, { to: fresh("q") }));
    assert.equal(error.line, line, reason.source);
    assert.match(error.message, new RegExp(`^'${path}' line ${line}: `), reason.source);
    assert.match(error.message, reason);
    assert.doesNotMatch(error.message, /\n/);
  }
  const empty = writeCsv("empty.csv", []);
  const error = await importFails(importTardisBook(empty, { to: fresh("q") }));
  assert.match(
    error.message,
    /line 1: Input is empty: a Tardis incremental_book_L2 file starts with its header/,
  );
});

Deno.test("incremental_book_L2: a stopped import ends at a batch and resumes from the line it names", async () => {
  const rows = [
    "x,A,10,11,true,bid,100.5,1",
    "x,A,10,11,true,ask,101,2",
    "x,A,20,21,false,bid,100.5,3",
    "x,A,30,31,false,bid,100,4",
    "x,A,30,31,false,ask,101.5,5",
    "x,A,40,41,false,ask,101,0",
  ];
  const whole = fresh("whole");
  await importTardisBook(writeCsv("good.csv", [BOOK_HEADER, ...rows]), { to: whole });
  // Line 6 is bad: the batch of lines 5 and 6 is not written.
  const broken = [BOOK_HEADER, ...rows.slice(0, 4), "x,A,30,31,false,ask,101.5,five", rows[5]!];
  const to = fresh("q");
  const error = await importFails(importTardisBook(writeCsv("broken.csv", broken), { to }));
  assert.equal(error.line, 6);
  assert.equal(error.imported, 5); // instrument, clear, two levels, one level
  const resume = Number(/re-run with '--from-line (\d+)' to resume$/.exec(error.message)?.[1]);
  assert.equal(resume, 5);
  const fixed = writeCsv("fixed.csv", [BOOK_HEADER, ...rows]);
  const rest = await importTardisBook(fixed, { to, fromLine: resume });
  assert.equal(rest.records, 3);
  assert.equal(rest.counts.rows, 3);
  assert.deepEqual(await readRecords(to), await readRecords(whole));
});

Deno.test("incremental_book_L2: time going back is counted, or an error with strict", async () => {
  const path = writeCsv("back.csv", [
    BOOK_HEADER,
    "x,A,10,11,true,bid,100,1",
    "x,A,30,31,false,bid,100,2",
    "x,A,20,32,false,bid,100,3",
  ]);
  const summary = await importTardisBook(path, { to: fresh("q") });
  assert.equal(summary.counts.backwardTimes, 1);
  const error = await importFails(importTardisBook(path, { to: fresh("q"), strict: true }));
  assert.equal(error.line, 4);
  assert.match(
    error.message,
    /'timestamp' 20 is earlier than 30 of the row before for 'A' \('--strict'\)/,
  );
});

Deno.test("incremental_book_L2: records and counts without a queue", async () => {
  async function* lines() {
    yield BOOK_HEADER;
    yield "x,A,10,11,true,bid,100,1";
    yield "x,A,20,21,false,sell,101,2"; // buy and sell name the sides too
  }
  const book = new TardisBookRecords(lines(), { venue: 2 });
  const kinds: number[] = [];
  const e = new BookEvent();
  for await (const r of book) {
    e.wrapBytes(r.payload);
    kinds.push(e.kind);
    if (e.kind === BOOK_KIND.Level && r.line === 3) assert.equal(e.side, SIDE.Ask);
  }
  assert.deepEqual(kinds, [
    BOOK_KIND.Instrument,
    BOOK_KIND.Clear,
    BOOK_KIND.Level,
    BOOK_KIND.Level,
  ]);
  assert.equal(book.counts.rows, 2);
  assert.throws(() => new TardisBookRecords(lines(), { priceDecimals: 19 }), RangeError);
  assert.throws(() => new TardisBookRecords(lines(), { fromLine: 0 }), RangeError);
});

Deno.test("trades: sides, ids, exact sizes, each trade its own batch", async () => {
  const to = fresh("q");
  const summary = await importTardisTrades(`${FIXTURES}/trades.csv`, { to });
  const records = await readRecords(to);
  // XBTUSD: prices in 2 decimals, sizes in 7 (1e-7), from its rows among the first.
  assert.deepEqual(describe(records), [
    "instrument v1 m1 XBTUSD 2/7 [batch]",
    "trade v1 m1 bid #25547787 644350 2000000000 [batch]",
    "trade v1 m1 ask #0 644325 1 [batch]",
    "instrument v1 m2 ETHUSD 2/1 [batch]",
    "trade v1 m2 none #77 13005 25 [batch]",
    "trade v1 m1 ask #25547789 644300 15000000000 [batch]",
  ]);
  assert.equal(summary.counts.tradeIdsNotNumeric, 1);
  assert.deepEqual(summary.counts.events, { instrument: 2, trade: 4 });
  assert.match(
    tardisCountsLine(summary.counts),
    /; 1 trade id not a number up to 2\^53-1, written as 0/,
  );
  const e = new BookEvent();
  e.wrapBytes(records[1]!.payload);
  assert.equal(e.exchangeNs, 1585699200245000000n);
  assert.equal(e.receiveNs, 1585699200355897000n);
  // Trades leave the book as it is.
  const { books } = replay(records);
  assert.deepEqual(ladder(books, 1, 1), { bids: [], asks: [] });

  const gz = fresh("gz");
  await importTardisTrades(`${FIXTURES}/trades.csv.gz`, { to: gz });
  assert.deepEqual(await readRecords(gz), records);
});

Deno.test("trades: decimals come from the first rows; a later value with more is an error", async () => {
  const rows = Array.from(
    { length: TRADE_INFERENCE_ROWS },
    (_, i) => `x,A,${1000 + i},${1000 + i},${i + 1},buy,${100 + (i % 4) * 0.25},1`,
  );
  const path = writeCsv("many.csv", [TRADES_HEADER, ...rows, "x,A,5000,5000,9,sell,100.125,1"]);
  const to = fresh("q");
  const error = await importFails(importTardisTrades(path, { to }));
  assert.equal(error.line, TRADE_INFERENCE_ROWS + 2);
  assert.match(error.message, /Price '100\.125' has 3 decimals, more than the 2 inferred for 'A'/);
  assert.equal(error.imported, TRADE_INFERENCE_ROWS + 1);
  const bad = writeCsv("side.csv", [TRADES_HEADER, "x,A,1,1,1,bid,100,1"]);
  const sideError = await importFails(importTardisTrades(bad, { to: fresh("q") }));
  assert.match(sideError.message, /line 2: 'side' is 'bid', not 'buy', 'sell' or 'unknown'/);
});

Deno.test("a damaged gzip file is an error naming it, after the rows before the damage", async () => {
  const bytes = Deno.readFileSync(`${FIXTURES}/book_one.csv.gz`);
  const path = fresh("cut.csv.gz");
  Deno.writeFileSync(path, bytes.subarray(0, bytes.length - 6));
  const error = await importFails(importTardisBook(path, { to: fresh("q") }));
  assert.match(error.message, new RegExp(`^Cannot read '${path}': damaged gzip data \\(`));
  assert.equal(error.line, undefined);
  assert.ok(error.imported > 0, "the rows read before the damage are imported");
});

Deno.test("the vendor seq of each event is its row's line; an instrument or clear a row causes has the line before", async () => {
  const book = fresh("book");
  await importTardisBook(`${FIXTURES}/book_one.csv`, { to: book });
  const trades = fresh("trades");
  await importTardisTrades(`${FIXTURES}/trades.csv`, { to: trades });
  const e = new BookEvent();
  const seqs = async (queue: string) =>
    (await readRecords(queue)).map((r) => (e.wrapBytes(r.payload), `${e.kind}@${e.vendorSeq}`));
  // Lines 2 and 3 come before the first snapshot (line 4); the second snapshot starts at line 11.
  const [i, c, l] = [BOOK_KIND.Instrument, BOOK_KIND.Clear, BOOK_KIND.Level];
  assert.deepEqual(await seqs(book), [
    `${i}@3`,
    `${c}@3`,
    ...[4, 5, 6, 7, 8, 9, 10].map((n) => `${l}@${n}`),
    `${c}@10`,
    ...[11, 12, 13].map((n) => `${l}@${n}`),
  ]);
  const t = BOOK_KIND.Trade;
  assert.deepEqual(await seqs(trades), [
    `${i}@1`,
    `${t}@2`,
    `${t}@3`,
    `${i}@3`,
    `${t}@4`,
    `${t}@5`,
  ]);
});

/** The error `importing` rejects with, which must be a QueueContinuityError. */
async function refusal(importing: Promise<unknown>): Promise<QueueContinuityError> {
  const error = await importing.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof QueueContinuityError, `expected a refusal, got ${error}`);
  return error;
}

Deno.test("a resume run twice, a file imported twice, or a resume of another kind is refused; a later day goes on", async () => {
  const rows = Deno.readTextFileSync(`${FIXTURES}/book_one.csv`).split("\n");
  const to = fresh("q");
  const path = writeCsv(
    "book.csv",
    rows.map((r, i) => i === 7 ? r.replace(/,bid,[^,]*,/, ",bid,x,") : r),
  );
  const stopped = await importFails(importTardisBook(path, { to }));
  assert.match(stopped.message, /re-run with '--from-line 8' to resume$/);
  Deno.copyFileSync(`${FIXTURES}/book_one.csv`, path);
  const early = await refusal(importTardisBook(path, { to, fromLine: 7 }));
  assert.equal(
    early.message,
    `Queue '${to}' already holds line 7 of the input (the vendor seq of its last event): ` +
      "'--from-line 7' would import line 7 again; resume with '--from-line 8'",
  );
  await importTardisBook(path, { to, fromLine: 8 });
  const held = await readRecords(to);
  const again = await refusal(importTardisBook(path, { to, fromLine: 8 }));
  assert.match(again.message, /would import lines 8\.\.13 again; resume with '--from-line 14'$/);
  const whole = await refusal(importTardisBook(path, { to }));
  assert.equal(
    whole.message,
    `Queue '${to}' already holds records up to 2020-04-01T00:00:00.400000000Z and the input starts ` +
      "at 2020-04-01T00:00:00.000000000Z: import it into a new queue, or resume the import that " +
      "stopped after line 13 with '--from-line 14'",
  );
  const trades = await refusal(importTardisTrades(`${FIXTURES}/trades.csv`, { to, fromLine: 14 }));
  assert.match(
    trades.message,
    /ends with a level event that a 'tardis-trades' import does not write/,
  );
  assert.deepEqual(await readRecords(to), held, "nothing was written");
  // The next day, every time a day later, goes on after it.
  const day = 86_400_000_000;
  const next = writeCsv("next.csv", [
    BOOK_HEADER,
    ...rows.slice(1).filter((r) => r !== "").map((r) => {
      const f = r.split(",");
      f[2] = String(Number(f[2]) + day);
      f[3] = String(Number(f[3]) + day);
      return f.join(",");
    }),
  ]);
  const second = await importTardisBook(next, { to });
  assert.equal(second.seqs?.first, held.length + 1);
});

Deno.test("a from-line past the end is an error naming the file and its line count", async () => {
  const to = fresh("q");
  for (
    const [run, file, lines] of [
      [importTardisBook, `${FIXTURES}/book_one.csv`, 13],
      [importTardisTrades, `${FIXTURES}/trades.csv.gz`, 5],
    ] as const
  ) {
    const error = await importFails(run(file, { to, fromLine: lines + 1 }));
    assert.equal(
      error.message,
      `'${file}' line ${lines}: From line '${lines + 1}' is past the end of the file, which has ` +
        `${lines} lines; nothing was imported into '${to}'`,
    );
  }
});

Deno.test("gzip of two members, as pigz, bgzip and cat a.gz b.gz write, imports as the plain file", async () => {
  const two = `${FIXTURES}/book_one_two_members.csv.gz`;
  // The fixture is two members: the web's DecompressionStream refuses the second.
  const web = Deno.openSync(two).readable.pipeThrough(new DecompressionStream("gzip"));
  await assert.rejects(new Response(web).arrayBuffer());
  const bytes = await InputBytes.open(two);
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of bytes) text += decoder.decode(chunk, { stream: true });
  assert.equal(text, Deno.readTextFileSync(`${FIXTURES}/book_one.csv`));
  const [plain, gz] = [fresh("plain"), fresh("two")];
  const a = await importTardisBook(`${FIXTURES}/book_one.csv`, { to: plain });
  const b = await importTardisBook(two, { to: gz });
  assert.deepEqual(await readRecords(gz), await readRecords(plain));
  assert.deepEqual(b.counts, a.counts);
});

Deno.test("a last line without a newline is warned of, and with strict is an error naming the file and line", async () => {
  const rows = [
    BOOK_HEADER,
    "x,A,10,11,true,bid,100.5,1",
    "x,A,10,11,true,ask,101,2",
    "x,A,20,21,false,bid,100.5,3",
    "x,A,30,31,false,ask,101,12",
  ];
  // The last row cut in its amount, '12' read as '1', and no newline after it.
  const path = fresh("cut.csv");
  Deno.writeTextFileSync(path, rows.join("\n").slice(0, -1));
  const warnings: string[] = [];
  const onWarning = (w: string) => warnings.push(w);
  const summary = await importTardisBook(path, { to: fresh("q"), onWarning });
  assert.equal(summary.counts.rows, 4);
  const reason = "is the last and has no newline: the file may be cut short";
  assert.deepEqual(warnings, [
    `'${path}' line 5 ${reason}; it was imported ('--strict' refuses it)`,
  ]);
  const to = fresh("strict");
  const error = await importFails(importTardisBook(path, { to, strict: true, onWarning }));
  assert.equal(error.line, 5);
  assert.equal(
    error.message,
    `'${path}' line 5: Line 5 ${reason} ('--strict'); 4 records were imported into '${to}' (seq 1..4): ` +
      "fix the input and re-run with '--from-line 4' to resume",
  );
  assert.equal(warnings.length, 1, "strict does not warn");
  // Trades likewise, gzip too; a file that ends with a newline says nothing.
  const trades = fresh("trades.csv.gz");
  const text = Deno.readTextFileSync(`${FIXTURES}/trades.csv`).slice(0, -1);
  const gz = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  Deno.writeFileSync(trades, new Uint8Array(await new Response(gz).arrayBuffer()));
  const cut = await importFails(importTardisTrades(trades, { to: fresh("q"), strict: true }));
  assert.match(cut.message, /line 5: Line 5 is the last and has no newline/);
  warnings.length = 0;
  await importTardisTrades(`${FIXTURES}/trades.csv`, { to: fresh("q"), onWarning });
  assert.deepEqual(warnings, []);
});
