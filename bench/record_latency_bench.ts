/**
 * Added latency of `record` per message: a ping-pong client sends one
 * ~300-byte JSON-RPC request at a time to an echo server (`cat`, which adds
 * nothing of its own) and waits for it to come back, first directly, then
 * through `record -- cat` run with the manifest's flags. The p50 difference
 * is what recording costs a round trip (target ≤ 50 µs).
 *
 * Run: `deno task bench record_latency` (`--messages N`, `--warmup N` to change the counts).
 *
 * @module
 */

import { percentile, printTable, type Row } from "./_table.ts";
import { findProgram } from "../cli/manifest.ts";

const root = new URL("../", import.meta.url).pathname;

function intArg(name: string, fallback: number): number {
  const at = Deno.args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(Deno.args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`record_latency_bench: ${name} needs a positive whole number`);
    Deno.exit(2);
  }
  return value;
}

const MESSAGES = intArg("--messages", 5000);
const WARMUP = intArg("--warmup", 500);

function message(i: number): Uint8Array {
  const base = {
    jsonrpc: "2.0",
    id: i,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "", session: "bench-0001", attempt: 1 } },
  };
  const size = JSON.stringify(base).length + 1;
  base.params.arguments.text = "x".repeat(Math.max(0, 300 - size));
  return new TextEncoder().encode(JSON.stringify(base) + "\n");
}

interface Measured {
  rtts: number[];
  seconds: number;
}

/** Sends one message at a time and times its way back through the echo. */
async function pingPong(command: string, args: string[]): Promise<Measured> {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const rtts: number[] = [];
  let pending = 0;
  const started = performance.now();
  for (let i = 0; i < WARMUP + MESSAGES; i++) {
    const bytes = message(i);
    const t0 = performance.now();
    await writer.write(bytes);
    pending += bytes.length;
    while (pending > 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Echo server '${command}' ended early`);
      pending -= value.length;
    }
    if (i >= WARMUP) rtts.push((performance.now() - t0) * 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  await writer.close();
  reader.releaseLock();
  await child.stdout.cancel();
  const status = await child.status;
  if (!status.success) throw new Error(`'${command}' exited with ${status.code}`);
  return { rtts: rtts.sort((a, b) => a - b), seconds };
}

function row(name: string, m: Measured, base?: Measured): Row {
  const p50 = percentile(m.rtts, 50);
  const p99 = percentile(m.rtts, 99);
  return {
    path: name,
    "p50 µs": p50,
    "p99 µs": p99,
    "added p50 µs": base === undefined ? "" : p50 - percentile(base.rtts, 50),
    "added p99 µs": base === undefined ? "" : p99 - percentile(base.rtts, 99),
    "msgs/s": (WARMUP + MESSAGES) / m.seconds,
  };
}

/**
 * The same relay as `record` (stdin read into a buffer, child pipes as
 * streams, stdout written asynchronously) with no tape at all: separates
 * what Deno's stdio costs from what recording costs.
 */
const RELAY = `
const child = new Deno.Command("cat", { stdin: "piped", stdout: "piped" }).spawn();
const w = child.stdin.getWriter();
(async () => {
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await Deno.stdin.read(buf);
    if (n === null) break;
    await w.write(buf.subarray(0, n));
  }
  await w.close();
})();
for await (const c of child.stdout) {
  let o = 0;
  while (o < c.length) o += await Deno.stdout.write(c.subarray(o));
}
await child.status;
`;

const record = findProgram("record");
if (record === undefined) throw new Error("No 'record' program in the manifest");
const out = await Deno.makeTempDir({ prefix: "spool_record_bench_" });
try {
  const direct = await pingPong("cat", []);
  const rows: Row[] = [row("direct: cat", direct)];
  const relay = await pingPong(Deno.execPath(), ["eval", RELAY]);
  rows.push(row("Deno relay, no tape -- cat", relay, direct));
  for (const durability of ["flush", "buffered", "fsync"]) {
    const through = await pingPong(Deno.execPath(), [
      "run",
      ...record.permissions,
      `${root}${record.entry}`,
      "--out",
      `${out}/${durability}`,
      "--durability",
      durability,
      "--quiet",
      "--",
      "cat",
    ]);
    rows.push(row(`record --durability ${durability} -- cat`, through, direct));
  }
  printTable(
    `Round trip of one ~300-byte request, ${MESSAGES} messages after ${WARMUP} warm-up`,
    rows,
  );
} finally {
  await Deno.remove(out, { recursive: true });
}
