/**
 * Tape read throughput: `TapeReader.records()` over a 256 MiB tape of
 * ~300-byte frames, side by side with `jq -c .` on the same file in the same
 * run, and with bare `JSON.parse` per line as the ceiling of what any reader
 * built on V8's JSON parser can reach on this machine.
 *
 * Run with `deno task bench tape_read`. The tape is made once by the real
 * `TapeWriter` and kept in `bench/.out/` (git-ignored).
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";
import { type FrameInput, TapeReader, TapeWriter } from "../src/tape/mod.ts";

const OUT = new URL(".out/", import.meta.url).pathname;
const MIB = 1024 * 1024;

/** Frames of a typical MCP session: requests with arguments, responses with content. */
function envelope(seq: number): FrameInput {
  const id = (seq + 1) >> 1;
  if (seq % 2 === 1) {
    return {
      dir: "c2s",
      env: {
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: {
          name: "search_docs",
          arguments: { query: `flaky test ${id} in the payments service`, limit: 10 },
        },
        _meta: { progressToken: `progress-${id}` },
      },
    };
  }
  return {
    dir: "s2c",
    env: {
      jsonrpc: "2.0",
      id,
      result: {
        content: [{
          type: "text",
          text: `Found ${id % 97} documents matching the query; ` +
            "the first is docs/runbook.md (updated 2026-11-20)",
        }],
        isError: false,
      },
    },
  };
}

/**
 * Makes (once) a tape of at least `bytes` bytes with the real writer and
 * returns its path. Kept under `bench/.out/<name>` so later runs reuse it.
 *
 * @example
 * ```ts ignore
 * import { ensureBenchTape } from "./tape_read_bench.ts";
 * console.log(await ensureBenchTape("read_16m.jsonl", 16 * 1024 * 1024));
 * ```
 */
export async function ensureBenchTape(name: string, bytes: number): Promise<string> {
  const path = `${OUT}${name}`;
  try {
    if ((await Deno.stat(path)).size >= bytes) return path;
  } catch {
    // Not made yet.
  }
  await Deno.mkdir(OUT, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: OUT, prefix: "gen_" });
  try {
    const writer = await TapeWriter.create(dir, {
      durability: "buffered",
      flushBytes: MIB,
      metaRefreshMs: 3_600_000,
    });
    let seq = 0;
    const check = 4096;
    const pending: Promise<unknown>[] = [];
    for (;;) {
      seq++;
      pending.push(writer.append(envelope(seq)));
      if (seq % check === 0) {
        await Promise.all(pending);
        pending.length = 0;
        if (writer.stats.bytes >= bytes) break;
      }
    }
    await Promise.all(pending);
    await writer.finalize();
    await Deno.rename(writer.path, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return path;
}

/** Reads the tape with TapeReader; returns seconds and records. */
async function readWithTapeReader(path: string): Promise<{ seconds: number; records: number }> {
  const start = performance.now();
  using reader = await TapeReader.open(path, { strict: true });
  let records = 1;
  for await (const _ of reader.records()) records++;
  return { seconds: (performance.now() - start) / 1000, records };
}

/** Decodes and JSON.parses every line, doing nothing else: the ceiling for any V8 reader. */
async function parseOnly(path: string): Promise<{ seconds: number; records: number }> {
  const start = performance.now();
  using file = await Deno.open(path);
  const buffer = new Uint8Array(MIB);
  const decoder = new TextDecoder();
  let records = 0;
  let rest = "";
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    const text = rest + decoder.decode(buffer.subarray(0, n), { stream: true });
    let pos = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", pos)) {
      JSON.parse(text.slice(pos, nl));
      records++;
      pos = nl + 1;
    }
    rest = text.slice(pos);
  }
  return { seconds: (performance.now() - start) / 1000, records };
}

async function ensureJq(): Promise<string> {
  const found = await which("jq");
  if (found !== undefined) return found;
  console.error("jq not found: installing it with apt-get");
  for (const args of [["update"], ["install", "-y", "jq"]]) {
    const status = await new Deno.Command("apt-get", { args, stdout: "null", stderr: "inherit" })
      .spawn().status;
    if (!status.success) throw new Error(`apt-get ${args.join(" ")} failed; install jq by hand`);
  }
  const installed = await which("jq");
  if (installed === undefined) throw new Error("jq is still not on PATH after apt-get install");
  return installed;
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const info = await Deno.stat(`${dir}/${name}`);
      if (info.isFile) return `${dir}/${name}`;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Runs `jq -c . <file> > /dev/null`; returns seconds. */
async function readWithJq(jq: string, path: string): Promise<number> {
  const start = performance.now();
  const status = await new Deno.Command(jq, {
    args: ["-c", ".", path],
    stdout: "null",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`jq exited with status ${status.code}`);
  return (performance.now() - start) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const sizeMiB = Number(Deno.env.get("SPOOL_BENCH_READ_MIB") ?? 256);
  const path = await ensureBenchTape(`read_${sizeMiB}m.jsonl`, sizeMiB * MIB);
  const bytes = (await Deno.stat(path)).size;
  const jq = await ensureJq();
  const jqVersion = new TextDecoder().decode(
    (await new Deno.Command(jq, { args: ["--version"] }).output()).stdout,
  ).trim();

  // One warm-up pass fills the page cache and the JIT; then two timed passes each.
  await readWithTapeReader(path);
  const reader: number[] = [];
  const parse: number[] = [];
  let records = 0;
  for (let i = 0; i < 2; i++) {
    const r = await readWithTapeReader(path);
    reader.push(r.seconds);
    records = r.records;
    parse.push((await parseOnly(path)).seconds);
  }
  // jq is slow enough that one pass over the same file is all the time budget allows.
  const jqSeconds = [await readWithJq(jq, path)];

  const mb = bytes / 1e6;
  const jqRate = mb / median(jqSeconds);
  const row = (name: string, seconds: number): Row => ({
    reader: name,
    "MB/s": mb / seconds,
    "records/s": records / seconds,
    seconds,
    "× jq": mb / seconds / jqRate,
  });
  console.log(
    `tape: ${path} — ${(bytes / MIB).toFixed(0)} MiB, ${
      records.toLocaleString("en-US")
    } records, ` +
      `${(bytes / records).toFixed(0)} bytes per line; ${jqVersion}; median of timed passes`,
  );
  printTable("Reading and parsing a tape", [
    row("TapeReader.records() (strict)", median(reader)),
    row("JSON.parse per line, nothing else", median(parse)),
    row(`jq -c . > /dev/null`, median(jqSeconds)),
  ]);
  console.log(`target: TapeReader ≥ 300 MB/s`);
}

if (import.meta.main) await main();
