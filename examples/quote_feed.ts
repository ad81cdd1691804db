/**
 * A small market-data feed: appends JSON quotes to a live chronicle queue,
 * one every `--pace` milliseconds, the way a feed handler publishes to a
 * bus. The queue is created when missing; a queue that already holds
 * records is continued, so the seqs go on.
 *
 * Run it: `deno run --allow-read --allow-write --allow-ffi examples/quote_feed.ts
 * .demo/bus/live/quotes/queue --count 20 --pace 25`
 *
 * @module
 */

import { QueueWriter } from "../src/chronicle/mod.ts";

/** Type id of a quote record; any other consumer may use its own numbering. */
const QUOTE = 1;

const [queue, ...rest] = Deno.args;
const option = (name: string, fallback: number): number => {
  const at = rest.indexOf(name);
  const value = at === -1 ? fallback : Number(rest[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`quote_feed: ${name} takes a whole number, got '${rest[at + 1]}'`);
    Deno.exit(2);
  }
  return value;
};
if (queue === undefined || queue.startsWith("-")) {
  console.error("usage: quote_feed.ts <queue-dir> [--count N] [--pace MS]");
  Deno.exit(2);
}
const count = option("--count", 20);
const paceMs = option("--pace", 25);

// Small segments: a demo queue should not preallocate 64 MiB.
const writer = await QueueWriter.open(queue, { segmentBytes: 1 << 20 });
const encoder = new TextEncoder();
const symbols = ["ACME", "GLOBEX", "INITECH"];
let price = 100_00;
// Said once the queue exists, so whoever waits on this line can open it.
console.error(
  `quote_feed: publishing ${count} quotes to '${queue}' from seq ${writer.lastSeq + 1}`,
);
try {
  for (let i = 0; i < count; i++) {
    // A deterministic walk, so every run shows the same quotes.
    price += ((i * 7919) % 11) - 5;
    const symbol = symbols[i % symbols.length]!;
    const quote = { sym: symbol, bid: price / 100, ask: (price + 2) / 100 };
    writer.append(QUOTE, encoder.encode(JSON.stringify(quote)));
    if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
  console.error(`quote_feed: done, last seq ${writer.lastSeq}`);
} finally {
  writer.close();
}
