/**
 * Order-book throughput: (a) L2 level updates applied to an `OrderBook`,
 * and (b) L3 replay of an archive queue through `BookEvent` and `BookSet`,
 * each beside the limit it cannot beat in the same run.
 *
 * (a) 5M level events are encoded once into memory, as a feed handler's
 * buffer would hold them: 90% within 10 ticks of the mid price, the rest up
 * to 300 ticks away, 10% of them removals; the mid drifts a tick every 100
 * events or so, removing the level it crosses and the one that leaves the
 * 300-tick window, so each side holds about 300 levels. Each round decodes them
 * in place (`wrapAt`) and applies them to a fresh book; the limit is the
 * same loop decoding every field and applying nothing.
 *
 * (b) 4M synthetic L3 events for 8 markets (`_l3_archive.ts`: one market
 * takes half of them, as busy names do in an exchange feed; about 45% adds,
 * 35% deletes, 7% partial cancels, 8% executions, 5% trades, up to 8,000
 * orders resting per market, most near the top) are appended to a
 * temporary queue, twice: once with deletes, cancels and executions
 * hitting any resting order alike (`uniform`: the worst case for a book's
 * caches) and once hitting mostly the orders added last (`recent`: as in
 * real feeds, where 97% of them hit one of the 4 newest resting orders in
 * the committed LOBSTER excerpt). A generator, not the excerpt looped:
 * its 2,000 messages hold one market with a few hundred orders, and
 * looping them would replay the same ids into a book that never grows.
 * Then, in the same process, each round opens a fresh `QueueReader` and
 * replays each whole queue: `next()`, `BookEvent.wrap` (zero-copy: no
 * payload view), `BookSet.apply`. Beside it, the raw queue scan reading
 * each record's seq, type id and length (the peer: no book can replay
 * faster than the queue delivers), and the scan with every field decoded
 * but no book.
 *
 * Only the loops are timed. There is no warm-up pass: the first round is
 * what a program's first replay sees; first round, median and best of
 * `ROUNDS` are shown, and the ratios compare medians.
 *
 * Run: `deno task bench book`. `SPOOL_BENCH_DIR` picks the directory
 * (default: the system temp dir); `SPOOL_BOOK_SCALE` (default 1) scales
 * the event counts.
 *
 * @module
 */

import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import { seeded, writeL3Archive } from "./_l3_archive.ts";
import { QueueReader } from "../src/chronicle/mod.ts";
import { BookEvent } from "../src/book/book_event.ts";
import { BookEventEncoder } from "../src/book/book_event_encoder.ts";
import { BOOK_FLAG, PRICED_EVENT_SIZE, SIDE, type Side } from "../src/book/book_protocol.ts";
import { BookSet } from "../src/book/book_set.ts";
import { OrderBook } from "../src/book/order_book.ts";

const ROUNDS = 5;
const SCALE = Number(Deno.env.get("SPOOL_BOOK_SCALE") ?? 1);
const L2_EVENTS = Math.max(10_000, Math.round(5_000_000 * SCALE));
const L3_EVENTS = Math.max(10_000, Math.round(4_000_000 * SCALE));
const MARKETS = 8;
const GOAL_RATE = 10_000_000;

/** A tick distance from the top of book: 90% within 10 ticks, the rest up to 300. */
function ticksAway(rnd: () => number): number {
  return rnd() < 0.9 ? Math.floor(rnd() * 10) : 10 + Math.floor(rnd() * 290);
}

/** L2 level events, encoded back to back, with a mid price that drifts. */
function l2Events(count: number): DataView {
  const rnd = seeded(1);
  const enc = new BookEventEncoder();
  enc.header.venue = 1;
  enc.header.market = 1;
  enc.header.flags = BOOK_FLAG.BatchEnd;
  const bytes = new Uint8Array(count * PRICED_EVENT_SIZE);
  // Bids rest at mid - 299 .. mid, asks at mid + 1 .. mid + 300.
  let mid = 1_000_000;
  // Removals owed when the mid moves: the level it crossed, and the one that left the window.
  const owed: [Side, number][] = [];
  for (let i = 0; i < count; i++) {
    let side: Side;
    let price: number;
    let size = 0;
    const move = rnd();
    if (owed.length > 0) {
      [side, price] = owed.pop()!;
    } else if (move < 0.01) {
      if (move < 0.005) {
        mid++;
        owed.push([SIDE.Bid, mid - 300]);
        [side, price] = [SIDE.Ask, mid];
      } else {
        mid--;
        owed.push([SIDE.Ask, mid + 301]);
        [side, price] = [SIDE.Bid, mid + 1];
      }
    } else {
      side = rnd() < 0.5 ? SIDE.Bid : SIDE.Ask;
      const away = ticksAway(rnd);
      price = side === SIDE.Bid ? mid - away : mid + 1 + away;
      size = rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * 2000);
    }
    enc.header.exchangeNs = BigInt(i);
    bytes.set(enc.level(side, price, size), i * PRICED_EVENT_SIZE);
  }
  return new DataView(bytes.buffer);
}

let sink = 0;

/** Rate of one pass applying every in-memory L2 event to a fresh book (or only decoding them). */
function l2Round(data: DataView, count: number, apply: boolean): number {
  const e = new BookEvent();
  const book = new OrderBook(1, 1);
  const t0 = performance.now();
  if (apply) {
    for (let i = 0; i < count; i++) {
      e.wrapAt(data, i * PRICED_EVENT_SIZE, PRICED_EVENT_SIZE);
      book.apply(e);
    }
  } else {
    for (let i = 0; i < count; i++) {
      e.wrapAt(data, i * PRICED_EVENT_SIZE, PRICED_EVENT_SIZE);
      sink += e.kind + e.flags + e.side + e.price + e.size;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  sink += book.depth(SIDE.Bid);
  return count / seconds;
}

type QueueCase = "scan" | "decode" | "replay";

/** Rate of one pass over the queue with a fresh reader: a raw scan, a decode, or a replay into books. */
async function queueRound(dir: string, count: number, how: QueueCase): Promise<number> {
  const reader = await QueueReader.open(dir, { start: "earliest" });
  const e = new BookEvent();
  const books = new BookSet();
  let seen = 0;
  let seconds: number;
  try {
    const t0 = performance.now();
    if (how === "scan") {
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        sink += m.seq + m.typeId + m.payloadLength;
        seen++;
      }
    } else if (how === "decode") {
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        if (e.wrap(m)) sink += e.market + e.kind + e.flags + e.side + e.id + e.price + e.size;
        seen++;
      }
    } else {
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        if (e.wrap(m)) books.apply(e);
        seen++;
      }
    }
    seconds = (performance.now() - t0) / 1000;
  } finally {
    reader.close();
  }
  if (seen !== count) throw new Error(`Read ${seen} events, expected ${count}`);
  if (how === "replay" && books.stats.unknownIds !== 0) {
    throw new Error(`Replay met ${books.stats.unknownIds} unknown order ids, expected none`);
  }
  return count / seconds;
}

function row(what: string, how: string, events: number, rates: number[], ratio: string): Row {
  const { first, median: mid, best } = firstMedianBest(rates);
  return {
    what,
    how,
    events,
    "first M/s": first / 1e6,
    "median M/s": mid / 1e6,
    "best M/s": best / 1e6,
    "ns/event (median)": 1e9 / mid,
    "÷ limit (median)": ratio,
  };
}

const base = Deno.env.get("SPOOL_BENCH_DIR");
const dir = await Deno.makeTempDir({ prefix: "spool-bench-book-", ...(base ? { dir: base } : {}) });
try {
  const where = `${Deno.build.os}, ${navigator.hardwareConcurrency} cores`;

  const l2 = l2Events(L2_EVENTS);
  const l2Rates = { apply: [] as number[], decode: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    l2Rates.apply.push(l2Round(l2, L2_EVENTS, true));
    l2Rates.decode.push(l2Round(l2, L2_EVENTS, false));
  }
  const l2Ratio = (median(l2Rates.apply) / median(l2Rates.decode)).toFixed(2);
  printTable(
    `L2 level updates, in memory, ${ROUNDS} rounds (goal ≥ ${GOAL_RATE / 1e6}M/s; ${where})`,
    [
      row("OrderBook", "wrapAt + apply (level events)", L2_EVENTS, l2Rates.apply, l2Ratio),
      row("limit", "wrapAt + read every field, no book", L2_EVENTS, l2Rates.decode, "-"),
    ],
  );

  const workloads = ["uniform", "recent"] as const;
  type Rates = Record<QueueCase, number[]>;
  const l3Rates = new Map<string, Rates>();
  for (const picks of workloads) {
    await writeL3Archive(`${dir}/${picks}`, {
      events: L3_EVENTS,
      markets: MARKETS,
      restingCap: 8_000,
      picks,
    });
    l3Rates.set(picks, { replay: [], decode: [], scan: [] });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const picks of workloads) {
      const rates = l3Rates.get(picks)!;
      for (const how of ["replay", "scan", "decode"] as const) {
        rates[how].push(await queueRound(`${dir}/${picks}`, L3_EVENTS, how));
      }
    }
  }
  const load = Deno.loadavg()[0]!.toFixed(2);
  const summary: string[] = [];
  for (const picks of workloads) {
    const rates = l3Rates.get(picks)!;
    const scanRate = median(rates.scan);
    const ratio = (r: number[]) => (median(r) / scanRate).toFixed(2);
    printTable(
      `L3 replay from an archive queue, ${picks} picks, ${MARKETS} markets, ${ROUNDS} rounds ` +
        `(goal ≥ ${GOAL_RATE / 1e6}M/s; ${where}, load ${load})`,
      [
        row("BookSet", "next + wrap + apply", L3_EVENTS, rates.replay, ratio(rates.replay)),
        row(
          "decode",
          "next + wrap + read every field",
          L3_EVENTS,
          rates.decode,
          ratio(rates.decode),
        ),
        row("raw scan (limit)", "next: seq, typeId, length", L3_EVENTS, rates.scan, "-"),
      ],
    );
    const m = median(rates.replay);
    summary.push(
      `L3 replay (${picks}) ${(m / 1e6).toFixed(2)}M events/s, ${
        ratio(rates.replay)
      }× the raw scan ` +
        `(${m >= GOAL_RATE ? "goal met" : "goal NOT met"})`,
    );
  }
  const l2Median = median(l2Rates.apply);
  console.log(
    `L2 ${(l2Median / 1e6).toFixed(2)}M updates/s (${
      l2Median >= GOAL_RATE ? "goal met" : "goal NOT met"
    }); ${summary.join("; ")}`,
  );
  if (sink === 0.5) console.log(sink); // keeps the loops' reads observable
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
