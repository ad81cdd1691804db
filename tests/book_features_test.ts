/**
 * Tests of book features: the `--features` and `--every` parsers, exact
 * values on books built from encoded events by a BookSet, order-flow
 * imbalance on a hand-computed sequence, trades and VWAP, rows per batch,
 * per N events and per time bucket, the CSV and JSON lines, and the same
 * rows from a real queue read through the stream API.
 */

import assert from "node:assert/strict";
import { QueueWriter } from "../src/chronicle/mod.ts";
import { openStream } from "../src/stream/mod.ts";
import { BookEvent } from "../src/book/book_event.ts";
import { BookEventEncoder } from "../src/book/book_event_encoder.ts";
import { BOOK_FLAG, BOOK_KIND, SIDE } from "../src/book/book_protocol.ts";
import { BookSet } from "../src/book/book_set.ts";
import { FeatureComputer, type FeatureRow } from "../src/book/feature_computer.ts";
import { FeatureRowFormat } from "../src/book/feature_row_format.ts";
import {
  type FeatureSpec,
  parseEvery,
  parseFeatures,
  type RowEvery,
} from "../src/book/feature_spec.ts";

/** 2023-11-14T22:13:20Z: a whole second, so buckets start on it. */
const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

/** Encodes events, applies them to a BookSet and feeds a FeatureComputer, as a replay does. */
class Feed {
  readonly enc = new BookEventEncoder();
  readonly books = new BookSet();
  readonly rows: FeatureRow[] = [];
  readonly specs: FeatureSpec[];
  readonly computer: FeatureComputer;
  /** Where each event is also appended, when set. */
  writer: QueueWriter | undefined;
  readonly #event = new BookEvent();
  #seq = 0;

  constructor(features: string, every?: RowEvery) {
    this.specs = parseFeatures(features);
    this.computer = new FeatureComputer({
      features: this.specs,
      ...(every === undefined ? {} : { every }),
      onRow: (row) => this.rows.push(row),
    });
    this.enc.header.venue = 1;
    this.enc.header.market = 1;
    this.enc.header.exchangeNs = T0;
  }

  /**
   * Encodes one event with `make` (flagged BatchEnd unless `end` is false)
   * and feeds it as the message at the next seq.
   */
  send(
    make: (enc: BookEventEncoder) => Uint8Array,
    options: { end?: boolean; ns?: bigint; market?: number } = {},
  ): void {
    const h = this.enc.header;
    h.flags = options.end === false ? 0 : BOOK_FLAG.BatchEnd;
    if (options.ns !== undefined) h.exchangeNs = options.ns;
    if (options.market !== undefined) h.market = options.market;
    const payload = make(this.enc);
    this.writer?.append(this.enc.typeId, payload, h.exchangeNs);
    const e = this.#event;
    assert.ok(
      e.wrap({ seq: ++this.#seq, timestampNs: h.exchangeNs, typeId: this.enc.typeId, payload }),
    );
    this.computer.push(e, this.books.apply(e));
  }

  /** Each row's values by column name, missing values left out. */
  values(): Record<string, string>[] {
    return this.rows.map((r) => {
      const named: Record<string, string> = {};
      this.specs.forEach((s, i) => {
        const v = r.values[i];
        if (v !== undefined) named[s.column] = v;
      });
      return named;
    });
  }
}

Deno.test("parseFeatures reads names and imbalance depths, in the order given", () => {
  assert.deepEqual(
    parseFeatures("mid,spread,microprice,imbalance,ofi,vwap,trades").map((s) => s.column),
    [
      "mid",
      "spread",
      "microprice",
      "imbalance",
      "ofi",
      "vwap",
      "trades",
    ],
  );
  assert.deepEqual(parseFeatures(" imbalance:10 , imbalance , imbalance:2"), [
    { name: "imbalance", depth: 10, column: "imbalance_10" },
    { name: "imbalance", depth: 1, column: "imbalance" },
    { name: "imbalance", depth: 2, column: "imbalance_2" },
  ]);
  assert.deepEqual(parseFeatures("imbalance:1"), [{
    name: "imbalance",
    depth: 1,
    column: "imbalance",
  }]);
});

Deno.test("parseFeatures names the bad item and lists the valid features", () => {
  const valid = "valid features: mid, spread, microprice, imbalance[:N], ofi, vwap, trades";
  const cases: [string, ErrorConstructor, string][] = [
    ["mid,micro", RangeError, `Unknown feature 'micro'; ${valid}`],
    ["MID", RangeError, `Unknown feature 'MID'; ${valid}`],
    ["imbalance:0", RangeError, "Feature 'imbalance:0' needs at least 1 level"],
    ["imbalance:x", SyntaxError, "Feature 'imbalance:x' needs a whole number of levels after ':'"],
    ["imbalance:", SyntaxError, "Feature 'imbalance:' needs a whole number of levels after ':'"],
    [
      "imbalance:-2",
      SyntaxError,
      "Feature 'imbalance:-2' needs a whole number of levels after ':'",
    ],
    ["mid:2", SyntaxError, "Feature 'mid:2' takes no depth; only imbalance[:N] does"],
    ["", SyntaxError, `Feature list is empty; ${valid}`],
    ["mid,,spread", SyntaxError, `Feature list has an empty item; ${valid}`],
    ["mid,", SyntaxError, `Feature list has an empty item; ${valid}`],
    ["mid,spread,mid", SyntaxError, "Feature 'mid' is listed twice"],
    ["imbalance,imbalance:1", SyntaxError, "Feature 'imbalance:1' is listed twice"],
  ];
  for (const [list, type, message] of cases) {
    assert.throws(() => parseFeatures(list), (e: unknown) => {
      assert.ok(e instanceof type, `'${list}' throws ${type.name}`);
      assert.equal((e as Error).message, message);
      return true;
    });
  }
});

Deno.test("parseEvery reads durations in whole µs and event counts", () => {
  assert.deepEqual(parseEvery("1s"), { kind: "time", intervalUs: 1_000_000 });
  assert.deepEqual(parseEvery("100ms"), { kind: "time", intervalUs: 100_000 });
  assert.deepEqual(parseEvery("250us"), { kind: "time", intervalUs: 250 });
  assert.deepEqual(parseEvery("250µs"), { kind: "time", intervalUs: 250 });
  assert.deepEqual(parseEvery("5m"), { kind: "time", intervalUs: 300_000_000 });
  assert.deepEqual(parseEvery("1h"), { kind: "time", intervalUs: 3_600_000_000 });
  assert.deepEqual(parseEvery("1"), { kind: "events", count: 1 });
  assert.deepEqual(parseEvery("500"), { kind: "events", count: 500 });
  for (const bad of ["1.5s", "10ns", "s", "", "-1", "1 s", "1d", "ms100"]) {
    assert.throws(() => parseEvery(bad), SyntaxError, `'${bad}'`);
  }
  assert.throws(() => parseEvery("0"), RangeError);
  assert.throws(() => parseEvery("0ms"), /Every '0ms' must be at least 1/);
  assert.throws(() => parseEvery("9999999999999h"), /Every '9999999999999h' is too large/);
});

/** An L2 book: bids 100.50×300, 100.40×200, 100.30×100; asks 100.55×100, 100.60×400. */
function sendLevels(f: Feed): void {
  f.send((enc) => enc.instrument("ABC", 2, 0));
  f.send((enc) => enc.level(SIDE.Bid, 10_050, 300), { end: false });
  f.send((enc) => enc.level(SIDE.Bid, 10_040, 200), { end: false });
  f.send((enc) => enc.level(SIDE.Bid, 10_030, 100), { end: false });
  f.send((enc) => enc.level(SIDE.Ask, 10_055, 100), { end: false });
  f.send((enc) => enc.level(SIDE.Ask, 10_060, 400));
}

Deno.test("quote features of an L2 book are exact", () => {
  const f = new Feed("mid,spread,microprice,imbalance,imbalance:2,imbalance:3,imbalance:50");
  sendLevels(f);
  // One row per batch: the instrument's, then the five levels' as one.
  assert.deepEqual(f.rows.map((r) => r.seq), [1, 6]);
  assert.deepEqual(f.values(), [{}, {
    mid: "100.525",
    spread: "0.05",
    microprice: "100.537500", // (100.50 × 100 + 100.55 × 300) / 400
    imbalance: "0.500000", // (300 - 100) / 400
    imbalance_2: "0.000000", // (500 - 500) / 1000
    imbalance_3: "0.090909", // (600 - 500) / 1100
    imbalance_50: "0.090909", // only 3 levels
  }]);
  assert.deepEqual(
    { ...f.rows[1]!, values: undefined },
    { seq: 6, timestampNs: T0, venue: 1, market: 1, symbol: "ABC", values: undefined },
  );
});

Deno.test("quote features of an L3 book come from its orders", () => {
  const f = new Feed("mid,microprice,imbalance:2");
  f.send((enc) => enc.instrument("ABC", 2, 0));
  f.send((enc) => enc.order(BOOK_KIND.OrderAdd, SIDE.Bid, 1, 10_050, 100), { end: false });
  f.send((enc) => enc.order(BOOK_KIND.OrderAdd, SIDE.Bid, 2, 10_050, 200), { end: false });
  f.send((enc) => enc.order(BOOK_KIND.OrderAdd, SIDE.Bid, 3, 10_040, 200), { end: false });
  f.send((enc) => enc.order(BOOK_KIND.OrderAdd, SIDE.Ask, 4, 10_055, 100));
  f.send((enc) => enc.order(BOOK_KIND.OrderCancel, SIDE.Bid, 2, 10_050, 150));
  assert.deepEqual(f.values().slice(1), [
    { mid: "100.525", microprice: "100.537500", imbalance_2: "0.666667" }, // (500 - 100) / 600
    { mid: "100.525", microprice: "100.530000", imbalance_2: "0.555556" }, // bid 150: (350 - 100) / 450
  ]);
});

Deno.test("a missing side leaves prices empty; imbalance is then +1 or -1", () => {
  const f = new Feed("mid,spread,microprice,imbalance,ofi");
  f.send((enc) => enc.instrument("ABC", 2, 0));
  f.send((enc) => enc.level(SIDE.Bid, 10_050, 300));
  f.send((enc) => enc.level(SIDE.Bid, 10_050, 0));
  f.send((enc) => enc.level(SIDE.Ask, 10_055, 100));
  assert.deepEqual(f.values(), [
    { ofi: "0" },
    { imbalance: "1.000000", ofi: "300" },
    { ofi: "-300" },
    { imbalance: "-1.000000", ofi: "-100" },
  ]);
});

Deno.test("prices past 2^53 once scaled stay exact, and a crossed book has a negative spread", () => {
  const f = new Feed("mid,spread,microprice");
  f.send((enc) => enc.instrument("BTC-USD", 8, 8));
  // 65000.12345678 bid for 1 BTC, 65000.12345679 ask for 3 BTC.
  f.send((enc) => enc.level(SIDE.Bid, 6_500_012_345_678, 100_000_000), { end: false });
  f.send((enc) => enc.level(SIDE.Ask, 6_500_012_345_679, 300_000_000));
  f.send((enc) => enc.level(SIDE.Bid, 6_500_012_345_680, 100_000_000));
  assert.deepEqual(f.values().slice(1), [
    { mid: "65000.123456785", spread: "0.00000001", microprice: "65000.123456782500" },
    { mid: "65000.123456795", spread: "-0.00000001", microprice: "65000.123456797500" },
  ]);
});

Deno.test("order-flow imbalance follows a hand-computed sequence, one step per batch", () => {
  const f = new Feed("ofi");
  f.send((enc) => enc.instrument("ABC", 2, 1)); // sizes in tenths
  const steps: [(enc: BookEventEncoder) => Uint8Array, string][] = [
    // bid 100.00×5.0, ask 101.00×5.0 in one batch: the first quote steps 0
    [(enc) => enc.level(SIDE.Bid, 10_000, 50), ""],
    [(enc) => enc.level(SIDE.Ask, 10_100, 50), "0.0"],
    [(enc) => enc.level(SIDE.Bid, 10_000, 80), "3.0"], // bid size up at the same price: +q(n) - q(n-1)
    [(enc) => enc.level(SIDE.Ask, 10_100, 20), "3.0"], // ask size down: -r(n) + r(n-1)
    [(enc) => enc.level(SIDE.Bid, 10_050, 40), "4.0"], // better bid: +q(n)
    [(enc) => enc.level(SIDE.Bid, 10_050, 0), "-4.0"], // best bid gone, back to 100.00: -q(n-1)
    [(enc) => enc.level(SIDE.Ask, 10_080, 70), "-7.0"], // better ask: -r(n)
    [(enc) => enc.level(SIDE.Ask, 10_080, 0), "7.0"], // best ask gone: +r(n-1)
    [(enc) => enc.level(SIDE.Bid, 10_000, 0), "-8.0"], // bid side empty: -q(n-1)
    [(enc) => enc.level(SIDE.Bid, 9_900, 10), "1.0"], // bid side back: +q(n)
    [(enc) => enc.level(SIDE.Bid, 9_900, 25), "1.5"], // a new batch...
  ];
  for (const [make, expected] of steps) f.send(make, { end: expected !== "" });
  // ...with three events, of which only the end state counts: 2.5 -> 6.0 -> 3.0 is +0.5
  f.send((enc) => enc.level(SIDE.Bid, 9_900, 60), { end: false });
  f.send((enc) => enc.level(SIDE.Ask, 10_100, 20), { end: false });
  f.send((enc) => enc.level(SIDE.Bid, 9_900, 30));
  assert.deepEqual(
    f.values().map((v) => v.ofi),
    ["0.0", ...steps.map(([, expected]) => expected).filter((v) => v !== ""), "0.5"],
  );
});

Deno.test("trades and vwap count executions, hidden executions, trades and cross trades", () => {
  const f = new Feed("trades,vwap");
  f.send((enc) => enc.instrument("ABC", 2, 0));
  f.send((enc) => enc.order(BOOK_KIND.OrderAdd, SIDE.Ask, 7, 10_055, 500));
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 1, 10_050, 100));
  // One batch: a visible execution, a hidden one and a cancel, which is no trade.
  f.send((enc) => enc.order(BOOK_KIND.OrderExecute, SIDE.Ask, 7, 10_055, 200), { end: false });
  f.send((enc) => enc.order(BOOK_KIND.HiddenExecute, SIDE.Ask, 0, 10_060, 100), { end: false });
  f.send((enc) => enc.order(BOOK_KIND.OrderCancel, SIDE.Ask, 7, 10_055, 100));
  f.send((enc) => enc.trade(BOOK_KIND.CrossTrade, SIDE.None, 2, 10_000, 1_000));
  f.send((enc) => enc.status(3));
  assert.deepEqual(f.values(), [
    { trades: "0" },
    { trades: "0" },
    { trades: "1", vwap: "100.500000" },
    { trades: "2", vwap: "100.566667" }, // (100.55 × 200 + 100.60 × 100) / 300
    { trades: "1", vwap: "100.000000" },
    { trades: "0" },
  ]);
});

Deno.test("vwap stays exact when price × size passes 2^53", () => {
  const f = new Feed("vwap", { kind: "events", count: 3 });
  f.send((enc) => enc.instrument("BTC-USD", 8, 8));
  // 65000.00000001 × 1000 BTC and 65000.00000003 × 1000 BTC: products near 6.5e21.
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 1, 6_500_000_000_001, 100_000_000_000));
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 2, 6_500_000_000_003, 100_000_000_000));
  assert.deepEqual(f.values(), [{ vwap: "65000.000000020000" }]);
});

Deno.test("with --every N a market gets a row at the first batch end at or past N of its events", () => {
  const f = new Feed("trades", { kind: "events", count: 3 });
  f.send((enc) => enc.instrument("A", 0, 0), { market: 1 });
  f.send((enc) => enc.instrument("B", 0, 0), { market: 2 });
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 1, 10, 1), { market: 1, end: false });
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 2, 10, 1), { market: 1, end: false });
  assert.equal(f.rows.length, 0, "no row inside a batch");
  f.send((enc) => enc.level(SIDE.Bid, 9, 1), { market: 1 }); // market 1: events 2 to 5
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 3, 10, 1), { market: 2 });
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 4, 10, 1), { market: 2 });
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 5, 10, 1), { market: 1 });
  assert.deepEqual(f.rows.map((r) => [r.seq, r.market, r.symbol, r.values[0]]), [
    [5, 1, "A", "2"],
    [7, 2, "B", "2"],
  ]);
  f.computer.finish(); // market 1 has one event since its row
  assert.deepEqual(f.rows.slice(2).map((r) => [r.seq, r.market, r.timestampNs, r.values[0]]), [
    [8, 1, T0, "1"],
  ]);
  f.computer.finish();
  assert.equal(f.rows.length, 3, "finish twice writes nothing more");
});

Deno.test("time buckets are aligned, closed by the first event past them, and empty ones are skipped", () => {
  const f = new Feed("mid,trades,ofi", parseEvery("1s"));
  const at = (ms: bigint) => T0 + ms * MS;
  f.send((enc) => enc.instrument("ABC", 2, 0), { ns: at(200n) });
  f.send((enc) => enc.level(SIDE.Bid, 10_000, 5), { ns: at(300n), end: false });
  f.send((enc) => enc.level(SIDE.Ask, 10_010, 5), { ns: at(300n) });
  f.send((enc) => enc.level(SIDE.Bid, 10_000, 9), { ns: at(800n) });
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 1, 10_010, 2), { ns: at(999n) });
  assert.equal(f.rows.length, 0, "the bucket is open until an event past it arrives");
  // A batch straddling the boundary: its trade is stamped 999.5 ms but the batch ends past 1 s.
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 2, 10_010, 1), {
    ns: at(999n) + 500_000n,
    end: false,
  });
  assert.equal(f.rows.length, 0);
  f.send((enc) => enc.level(SIDE.Ask, 10_010, 2), { ns: at(2_100n) });
  assert.deepEqual(f.rows.map((r) => [r.seq, r.timestampNs, ...r.values]), [
    [5, at(1_000n), "100.050", "1", "4"],
  ]);
  // Stamped before the open bucket [2 s, 3 s): it joins that bucket.
  f.send((enc) => enc.level(SIDE.Bid, 10_000, 10), { ns: at(1_500n) });
  f.send((enc) => enc.level(SIDE.Bid, 10_005, 1), { ns: at(2_999n) });
  f.send((enc) => enc.level(SIDE.Bid, 10_005, 3), { ns: at(4_000n) });
  f.computer.finish();
  assert.deepEqual(f.rows.slice(1).map((r) => [r.seq, r.timestampNs, ...r.values]), [
    // the straddling batch's trade; ofi +3 (ask 5 -> 2 at 100.10), +1 (late bid 9 -> 10), +1 (better bid)
    [9, at(3_000n), "100.075", "1", "5"],
    [10, at(5_000n), "100.075", "0", "2"],
  ]);
});

Deno.test("a time bucket writes one row per market with a batch in it, in market order", () => {
  const f = new Feed("trades", parseEvery("100ms"));
  f.send((enc) => enc.instrument("B", 0, 0), { market: 2, ns: T0 + 10n * MS });
  f.send((enc) => enc.instrument("A", 0, 0), { market: 1, ns: T0 + 20n * MS });
  f.send((enc) => enc.instrument("C", 0, 0), { market: 3, ns: T0 + 150n * MS, end: false });
  f.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Bid, 1, 10, 1), {
    market: 2,
    ns: T0 + 160n * MS,
  });
  assert.deepEqual(f.rows.map((r) => [r.symbol, r.timestampNs]), [
    ["A", T0 + 100n * MS],
    ["B", T0 + 100n * MS],
  ]);
  f.computer.finish(); // market 3's batch never ended: it has no row
  assert.deepEqual(f.rows.slice(2).map((r) => [r.symbol, r.timestampNs, r.values[0]]), [
    ["B", T0 + 200n * MS, "1"],
  ]);
});

Deno.test("rows print as CSV with a header and as JSON lines, missing values empty or null", () => {
  const f = new Feed("mid,imbalance:2,vwap,trades");
  f.send((enc) => enc.instrument('Q,"X"', 2, 0));
  f.send((enc) => enc.level(SIDE.Bid, 10_050, 300));
  const format = new FeatureRowFormat(f.specs);
  assert.equal(
    format.csvHeader,
    "seq,timestamp_ns,venue,market,symbol,mid,imbalance_2,vwap,trades",
  );
  assert.deepEqual(f.rows.map((r) => format.csv(r)), [
    `1,${T0},1,1,"Q,""X""",,,,0`,
    `2,${T0},1,1,"Q,""X""",,1.000000,,0`,
  ]);
  const json = format.json(f.rows[1]!);
  assert.equal(
    json,
    `{"seq":2,"timestamp_ns":${T0},"venue":1,"market":1,"symbol":"Q,\\"X\\"",` +
      `"mid":null,"imbalance_2":1.000000,"vwap":null,"trades":0}`,
  );
  assert.deepEqual(JSON.parse(json).imbalance_2, 1);
});

Deno.test("rows from a real queue, read through the stream API, match rows fed in memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool-features-test-" });
  try {
    const memory = new Feed("mid,microprice,ofi,vwap,trades", parseEvery("2"));
    const writer = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
    memory.writer = writer;
    sendLevels(memory);
    memory.send((enc) => enc.trade(BOOK_KIND.Trade, SIDE.Ask, 1, 10_050, 50), { ns: T0 + MS });
    memory.send((enc) => enc.level(SIDE.Bid, 10_050, 250), { ns: T0 + MS });
    memory.computer.finish();
    writer.close();

    const rows: FeatureRow[] = [];
    const computer = new FeatureComputer({
      features: memory.specs,
      every: parseEvery("2"),
      onRow: (row) => rows.push(row),
    });
    const books = new BookSet();
    const e = new BookEvent();
    const stream = await openStream(dir);
    try {
      for (let m = stream.next(); m !== undefined; m = stream.next()) {
        if (e.wrap(m)) computer.push(e, books.apply(e));
      }
    } finally {
      stream.close();
    }
    computer.finish();
    assert.deepEqual(rows.map((r) => r.seq), [6, 8]);
    assert.deepEqual(rows, memory.rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
