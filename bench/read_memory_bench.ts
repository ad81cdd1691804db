/**
 * Peak memory while reading a large tape: a child process reads every record
 * of a 1 GiB tape with `TapeReader` and reports its peak resident set size
 * (`VmHWM` from `/proc/self/status`), next to the peak of a child that only
 * starts the runtime and loads the reader. The tape is made for the run in
 * `bench/.out/` and deleted afterwards.
 *
 * Run with `deno task bench read_memory`.
 *
 * @module
 */

import { printTable } from "./_table.ts";
import { TapeReader } from "../src/tape/mod.ts";

const OUT = new URL(".out/", import.meta.url).pathname;
const MIB = 1024 * 1024;
const SIZE_MIB = Number(Deno.env.get("SPOOL_BENCH_MEMORY_MIB") ?? 1024);

/** What a child reports. */
interface ChildReport {
  records: number;
  seconds: number;
  peakKiB: number;
}

function peakKiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
}

/**
 * Writes a tape of `bytes` bytes shaped like the writer's output: ~300-byte
 * request and response frames, a correlation per pair, a checkpoint every
 * 1000 frames and a final one. Built from templates: a gigabyte through
 * the real writer would take most of the time budget.
 */
async function makeTape(path: string, bytes: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const created = new Date().toISOString();
  let text = JSON.stringify({
    type: "init",
    version: 1,
    tape_id: "20261122T000000Z-0000feed",
    session_id: "bench",
    created_at: created,
    protocol_version: "2025-06-18",
  }) + "\n";
  let written = 0;
  let seq = 0;
  const stats = (last: number) =>
    `{"frame_count":${last},"duration_ms":${last},"bytes":${written},"last_seq":${last},` +
    `"message_counts":{"request":${last >> 1},"notification":0,"response":${last >> 1},` +
    `"error":0,"message":0,"text":0},"errors":0,"correlations":${last >> 1},"checkpoints":${
      Math.floor(last / 1000)
    }}`;
  while (written + text.length < bytes) {
    seq++;
    const id = (seq + 1) >> 1;
    const ts = (seq * 0.731).toFixed(3);
    if (seq % 2 === 1) {
      text += `{"type":"frame","seq":${seq},"ts":${ts},"dir":"c2s","env":{"jsonrpc":"2.0",` +
        `"id":${id},"method":"tools/call","params":{"name":"search_docs","arguments":{"query":` +
        `"flaky test ${id} in the payments service","limit":10},"_meta":{"progressToken":` +
        `"progress-${id}"}}},"action":"request","correlation_id":"c2s-${id}"}\n`;
    } else {
      text += `{"type":"frame","seq":${seq},"ts":${ts},"dir":"s2c","env":{"jsonrpc":"2.0",` +
        `"id":${id},"result":{"content":[{"type":"text","text":"Found ${id % 97} documents ` +
        `matching the query; the first is docs/runbook.md (updated 2026-11-20)"}],` +
        `"isError":false}},"action":"response","correlation_id":"c2s-${id}"}\n` +
        `{"type":"correlation","id":"c2s-${id}","request_seq":${seq - 1},"response_seq":${seq},` +
        `"request_ts":${ts},"response_ts":${ts},"rtt_ms":0.731,"status":"ok","method":"tools/call"}\n`;
    }
    if (seq % 1000 === 0) {
      text += `{"type":"checkpoint","checkpoint_at":"${created}","seq":${seq},"stats":${
        stats(seq)
      }}\n`;
    }
    if (text.length > MIB) {
      written += await writeAll(file, encoder.encode(text));
      text = "";
    }
  }
  text += `{"type":"checkpoint","checkpoint_at":"${created}","seq":${seq},"stats":${
    stats(seq)
  },"final":true}\n`;
  await writeAll(file, encoder.encode(text));
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<number> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
  return written;
}

/** In the child: read the whole tape, then report. */
async function child(path: string | undefined): Promise<void> {
  const start = performance.now();
  let records = 0;
  if (path !== undefined) {
    using reader = await TapeReader.open(path, { strict: true });
    for await (const _ of reader.records()) records++;
  }
  const report: ChildReport = {
    records,
    seconds: (performance.now() - start) / 1000,
    peakKiB: peakKiB(),
  };
  console.log(JSON.stringify(report));
}

async function runChild(path?: string): Promise<ChildReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    // No V8 tuning, as the programs run. --allow-all only because Deno guards /proc/self.
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      "--child",
      ...(path ? [path] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`reader process failed with status ${out.code}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as ChildReport;
}

async function main(): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  const path = `${OUT}memory_${SIZE_MIB}m.jsonl`;
  try {
    await makeTape(path, SIZE_MIB * MIB);
    const bytes = (await Deno.stat(path)).size;
    const baseline = await runChild();
    const read = await runChild(path);
    const mib = (kib: number) => kib / 1024;
    console.log(
      `tape: ${(bytes / MIB).toFixed(0)} MiB, ${read.records.toLocaleString("en-US")} records`,
    );
    printTable("Peak memory (VmHWM) of a reading process", [
      { process: "runtime + reader loaded, nothing read", "peak MiB": mib(baseline.peakKiB) },
      {
        process: `TapeReader.records() over the whole tape`,
        "peak MiB": mib(read.peakKiB),
        "read MB/s": bytes / 1e6 / read.seconds,
      },
    ]);
    console.log("target: ≤ 64 MiB while reading a 1 GiB tape");
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") await child(Deno.args[1]);
  else await main();
}
