/**
 * Appends then a scan, each round in a fresh process, as a program or a
 * CLI run sees them: a new V8, a new queue, a new mapping. With
 * `SPOOL_BASE_TREE` set to another checkout of spool (for example
 * `git worktree add /tmp/base <rev>`), that tree runs the same rounds,
 * alternating with this one, and the table shows both and the change, so a
 * format or code change is measured against what it replaced on the same
 * machine at the same time. First round, median and best are shown.
 *
 * Run: `deno task bench chronicle_fresh`. `SPOOL_BENCH_DIR` picks where the
 * queues go (default `/dev/shm`, so the disk is not measured);
 * `SPOOL_FRESH_ROUNDS` (default 5) sets the rounds per tree.
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";

const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const baseTree = Deno.env.get("SPOOL_BASE_TREE");
const dir = Deno.env.get("SPOOL_BENCH_DIR") ?? "/dev/shm";
const rounds = Number(Deno.env.get("SPOOL_FRESH_ROUNDS") ?? 5);
const COUNTS: Record<number, number> = { 64: 3_000_000, 512: 1_000_000 };

const trees = baseTree === undefined
  ? [["this tree", here]]
  : [["base", baseTree], ["this tree", here]];

async function round(root: string, size: number): Promise<{ append: number; scan: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${here}/bench/_fresh_child.ts`,
      root,
      String(size),
      String(COUNTS[size]),
      dir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`a round in '${root}' failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const rows: Row[] = [];
for (const size of [64, 512]) {
  const results = new Map<string, { append: number[]; scan: number[] }>();
  for (const [name] of trees) results.set(name!, { append: [], scan: [] });
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? trees : [...trees].reverse();
    for (const [name, root] of order) {
      const r = await round(root!, size);
      results.get(name!)!.append.push(r.append);
      results.get(name!)!.scan.push(r.scan);
    }
  }
  for (const measure of ["append", "scan"] as const) {
    const base = baseTree === undefined ? undefined : median(results.get("base")![measure]);
    for (const [name] of trees) {
      const values = results.get(name!)![measure];
      const row: Row = {
        "payload": `${size} B`,
        "measure": measure,
        "tree": name!,
        "first ns/record": values[0]!,
        "median": median(values),
        "best": Math.min(...values),
      };
      if (base !== undefined) {
        row["median vs base"] = `${((median(values) / base - 1) * 100).toFixed(1)}%`;
      }
      rows.push(row);
    }
  }
}
printTable(
  `Chronicle append then scan, a fresh process per round (${COUNTS[64]} × 64 B, ${
    COUNTS[512]
  } × 512 B; queues in ${dir}; ${rounds} rounds per tree)`,
  rows,
);
