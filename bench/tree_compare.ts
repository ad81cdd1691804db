/**
 * This tree's queue writer or reader beside another checkout's, in one
 * process, alternating which goes first each round, so machine noise hits
 * both alike. For before-and-after checks of a change to the hot path:
 *
 * ```sh
 * git worktree add /tmp/base <rev>
 * SPOOL_BASE_TREE=/tmp/base deno run -A bench/tree_compare.ts scan 64 5000000
 * SPOOL_BASE_TREE=/tmp/base deno run -A bench/tree_compare.ts append 512 1000000
 * ```
 *
 * Not a `*_bench.ts`: `deno task bench` has no other tree to compare with.
 *
 * @module
 */

import * as here from "../src/chronicle/mod.ts";
import { firstMedianBest } from "./_table.ts";

type Chronicle = typeof here;

const [mode = "scan", sizeArg = "64", countArg = "5000000"] = Deno.args;
const baseTree = Deno.env.get("SPOOL_BASE_TREE");
if (baseTree === undefined || (mode !== "scan" && mode !== "append")) {
  console.error("usage: SPOOL_BASE_TREE=<checkout> tree_compare.ts scan|append [bytes] [count]");
  Deno.exit(2);
}
const base: Chronicle = await import(`${baseTree}/src/chronicle/mod.ts`);
const size = Number(sizeArg);
const count = Number(countArg);
const ROUNDS = 6;
const payload = new Uint8Array(size).fill(7);

async function append(q: Chronicle): Promise<number> {
  const dir = Deno.makeTempDirSync();
  const writer = await q.QueueWriter.open(dir);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) writer.append(1, payload);
  const ms = performance.now() - t0;
  writer.close();
  Deno.removeSync(dir, { recursive: true });
  return count / ms / 1000;
}

async function scan(q: Chronicle, dir: string, touch: boolean): Promise<number> {
  const reader = await q.QueueReader.open(dir);
  let seen = 0;
  let sum = 0;
  const t0 = performance.now();
  for (let m = reader.next(); m !== undefined; m = reader.next()) {
    seen++;
    if (touch) sum += m.payload[0]!;
  }
  const ms = performance.now() - t0;
  reader.close();
  if (seen !== count || (touch && sum !== 7 * count)) throw new Error(`Read ${seen} of ${count}`);
  return count / ms / 1000;
}

async function compare(label: string, run: (q: Chronicle) => Promise<number>): Promise<void> {
  const rates = { base: [] as number[], here: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["base", "here"] as const) : (["here", "base"] as const);
    for (const side of order) rates[side].push(await run(side === "base" ? base : here));
  }
  const cells = (rates: number[]) => {
    const { first, median, best } = firstMedianBest(rates);
    return `${first.toFixed(2)} | ${median.toFixed(2)} | ${best.toFixed(2)}`;
  };
  console.log(`| ${label} | ${cells(rates.base)} | ${cells(rates.here)} |`);
}

console.log(
  `${mode}, ${count} × ${size} B, M records/s, ${ROUNDS} rounds each (base ${baseTree})\n`,
);
console.log(
  "| measure | base first | base median | base best | here first | here median | here best |",
);
console.log("|---|--:|--:|--:|--:|--:|--:|");
if (mode === "append") {
  await compare("append", append);
} else {
  const dir = Deno.makeTempDirSync();
  const writer = await here.QueueWriter.open(dir);
  for (let i = 0; i < count; i++) writer.append(1, payload);
  writer.close();
  await compare("scan, next()", (q) => scan(q, dir, false));
  await compare("scan, m.payload[0]", (q) => scan(q, dir, true));
  Deno.removeSync(dir, { recursive: true });
}
