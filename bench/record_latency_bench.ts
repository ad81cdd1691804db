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

/** One echo path kept running for the whole bench. */
interface EchoPath {
  name: string;
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  measured: Measured;
}

function startPath(name: string, command: string, args: string[]): EchoPath {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return {
    name,
    child,
    writer: child.stdin.getWriter(),
    reader: child.stdout.getReader(),
    measured: { rtts: [], seconds: 0 },
  };
}

/** Sends `count` messages one at a time and times each one's way back through the echo. */
async function pingPong(path: EchoPath, first: number, count: number, keep: boolean) {
  const started = performance.now();
  for (let i = first; i < first + count; i++) {
    const bytes = message(i);
    const t0 = performance.now();
    await path.writer.write(bytes);
    let pending = bytes.length;
    while (pending > 0) {
      const { value, done } = await path.reader.read();
      if (done) throw new Error(`Echo path '${path.name}' ended early`);
      pending -= value.length;
    }
    if (keep) path.measured.rtts.push((performance.now() - t0) * 1000);
  }
  if (keep) path.measured.seconds += (performance.now() - started) / 1000;
}

async function stopPath(path: EchoPath): Promise<void> {
  await path.writer.close();
  path.reader.releaseLock();
  await path.child.stdout.cancel();
  const status = await path.child.status;
  if (!status.success) throw new Error(`'${path.name}' exited with ${status.code}`);
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
    "msgs/s": m.rtts.length / m.seconds,
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
// Paths are measured in interleaved rounds so that all of them see the same
// machine: on a VM, how deeply idle vCPUs sleep moves every round trip by
// hundreds of microseconds from one minute to the next.
const ROUND = 100;
try {
  const paths = [
    startPath("direct: cat", "cat", []),
    startPath("Deno relay, no tape -- cat", Deno.execPath(), ["eval", RELAY]),
    ...["flush", "buffered", "fsync"].map((durability) =>
      startPath(`record --durability ${durability} -- cat`, Deno.execPath(), [
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
      ])
    ),
  ];
  for (const path of paths) await pingPong(path, 0, WARMUP, false);
  for (let sent = 0; sent < MESSAGES; sent += ROUND) {
    for (const path of paths) await pingPong(path, WARMUP + sent, ROUND, true);
  }
  for (const path of paths) await stopPath(path);
  for (const path of paths) path.measured.rtts.sort((a, b) => a - b);
  const direct = paths[0]!.measured;
  printTable(
    `Round trip of one ~300-byte request, ${MESSAGES} messages per path after ${WARMUP} warm-up, ` +
      `interleaved in rounds of ${ROUND}`,
    paths.map((p, i) => row(p.name, p.measured, i === 0 ? undefined : direct)),
  );
} finally {
  await Deno.remove(out, { recursive: true });
}
