/**
 * Sealed stores (issue 14) against age, as a first-run user sees them:
 * every round in a fresh process, spool and age on the same bytes, in the
 * same run, on the same file system.
 *
 * The bytes: per payload size (512 B and 64 KiB by default: small records
 * show the per-record work, large ones the cipher alone), a plain file of
 * `SPOOL_SEALED_MIB` MiB of records framed exactly as a sealed segment's
 * plaintext holds them (24-byte frame header, then the payload; rising
 * seqs), written once and kept in the page cache. Throughput is that
 * file's size over wall time, for both sides.
 *
 * - **seal, spool**: a fresh process opens a new `SealedWriter` on a file
 *   store (`sealed:DIR`; default 1 MiB segments, group commit with
 *   `fdatasync`), reads the plain file 1 MiB at a time, appends each
 *   record, awaits `ready()` after each read, and closes. Timed from
 *   before `SealedWriter.open` (lock, run header, cipher workers starting)
 *   to after `close()` (the final segment committed and durable).
 * - **seal, age**: `age -e -r <recipient> -o <out> <plain file>`, timed
 *   from spawn to exit. age does not sync its output, so the row
 *   "age -e, then fdatasync" adds an `fdatasync` of `out` (taken right
 *   after age exits, which also keeps its dirty pages out of the next
 *   round): that is the durable equivalent of spool's row.
 * - **open, spool**: a fresh process opens the store its seal rounds left
 *   (page cache warm) with `SealedStream` and reads every record with
 *   `next()` and `wait()`, checking seqs and payload lengths; timed from
 *   before `SealedStream.open` to after the last record and `close()`.
 * - **open, age**: `age -d -i <key> -o /dev/null <out>`, spawn to exit.
 *
 * Spool runs with 0 cipher workers (sealing on the calling thread, as a
 * reference), 1 and 2. Systems alternate, in reverse every other round.
 * CPU is user + system time of every thread (from `/proc`, 10 ms
 * resolution): spool's child over the timed span, age's whole process
 * (reaped by a child of the bench, since reading `/proc` takes every
 * permission). "process s" is spool's whole child, Deno's start-up
 * included. The key is made by spool and handed to age as
 * files, so both open with the same X25519 identity. When `age` is not
 * installed its rows are left out, and the bench says so.
 *
 * Run: `deno task bench sealed`. `SPOOL_SEALED_MIB` (default 1024) sets
 * the plaintext per payload size; `SPOOL_SEALED_PAYLOADS` (default
 * `512,65536`) the payload sizes; `SPOOL_SEALED_WORKERS` (default `0,1,2`)
 * spool's worker counts; `SPOOL_SEALED_ROUNDS` (default 5) the rounds;
 * `SPOOL_BENCH_DIR` the directory (default: the system temp dir).
 *
 * @module
 */

import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import {
  generateIdentity,
  parseRecipient,
  readIdentityFile,
  SealedStream,
  SealedWriter,
} from "../src/sealed/mod.ts";
import { FRAME_HEADER_BYTES, FRAME_RECORD } from "../src/sealed/sealed_format.ts";

const MIB = 1 << 20;
/** Bytes read from the plain file at a time: the default segment size. */
const READ_BYTES = MIB;
const TYPE_ID = 1;
const BASE_NS = 1_700_000_000_000_000_000n;
const TICK_SECONDS = 0.01;

/** User + system CPU seconds of this process (all its threads) and of its reaped children. */
function cpuSeconds(): { self: number; children: number } {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Fields after the command name, which may hold spaces: state is field 3.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    const at = (field: number) => f[field - 3]!;
    return {
      self: (at(14) + at(15)) * TICK_SECONDS,
      children: (at(16) + at(17)) * TICK_SECONDS,
    };
  } catch {
    return { self: NaN, children: NaN };
  }
}

function frameBytes(payload: number): number {
  return FRAME_HEADER_BYTES + payload;
}

/** Frames per read: as many whole frames as fit 1 MiB, at least one. */
function framesPerRead(payload: number): number {
  return Math.max(1, Math.floor(READ_BYTES / frameBytes(payload)));
}

/** Removes `path` (and what it holds) when it exists. */
function remove(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function readFull(file: Deno.FsFile, into: Uint8Array): number {
  let got = 0;
  while (got < into.length) {
    const n = file.readSync(into.subarray(got));
    if (n === null || n === 0) break;
    got += n;
  }
  return got;
}

// ---------------------------------------------------------------- children

/** What one round measured. */
interface Round {
  /** Timed wall seconds. */
  seconds: number;
  /** User + system CPU seconds, every thread. */
  cpu: number;
  /** For `age -e`: wall seconds with the output's `fdatasync`; otherwise `seconds`. */
  synced: number;
}

/** A round as the bench sees it: with the child's whole life, spawn to exit. */
interface Timed extends Round {
  /** The child process, spawn to exit (Deno's start-up included). */
  process: number;
}

/** Writes `count` records of `payload` bytes, framed, to `path`, and syncs it. */
function writePlain(path: string, payload: number, count: number): void {
  const pool = new Uint8Array(MIB + payload);
  for (let at = 0; at < pool.length; at += 65536) {
    crypto.getRandomValues(pool.subarray(at, Math.min(pool.length, at + 65536)));
  }
  const per = framesPerRead(payload);
  const chunk = new Uint8Array(per * frameBytes(payload));
  const view = new DataView(chunk.buffer);
  using file = Deno.openSync(path, { write: true, create: true, truncate: true });
  for (let seq = 1; seq <= count;) {
    const n = Math.min(per, count - seq + 1);
    for (let i = 0; i < n; i++, seq++) {
      const at = i * frameBytes(payload);
      view.setUint32(at, payload, true);
      view.setUint16(at + 4, FRAME_RECORD, true);
      view.setUint16(at + 6, TYPE_ID, true);
      view.setBigUint64(at + 8, BigInt(seq), true);
      view.setBigInt64(at + 16, BASE_NS + BigInt(seq) * 1000n, true);
      const from = (seq * 7919) % MIB;
      chunk.set(pool.subarray(from, from + payload), at + FRAME_HEADER_BYTES);
    }
    const bytes = chunk.subarray(0, n * frameBytes(payload));
    for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
  }
  file.syncDataSync();
}

/** Seals the plain file's records into a new store in `dir`; seconds from open to closed. */
async function seal(
  workers: number,
  plain: string,
  dir: string,
  recipient: string,
  payload: number,
  count: number,
): Promise<number> {
  const t0 = performance.now();
  const writer = await SealedWriter.open({ kind: "file", dir }, {
    recipients: [parseRecipient(recipient, "bench")],
    stream: "bench",
    producer: "spool bench sealed",
    workers,
  });
  using file = Deno.openSync(plain, { read: true });
  const chunk = new Uint8Array(framesPerRead(payload) * frameBytes(payload));
  const view = new DataView(chunk.buffer);
  for (let got = readFull(file, chunk); got > 0; got = readFull(file, chunk)) {
    for (let at = 0; at < got;) {
      const length = view.getUint32(at, true);
      const start = at + FRAME_HEADER_BYTES;
      writer.append({
        seq: Number(view.getBigUint64(at + 8, true)),
        timestampNs: view.getBigInt64(at + 16, true),
        typeId: view.getUint16(at + 6, true),
        payload: chunk.subarray(start, start + length),
      });
      at = start + length;
    }
    await writer.ready();
  }
  await writer.close();
  const seconds = (performance.now() - t0) / 1000;
  if (writer.committedSeq !== count) {
    throw new Error(`Sealing committed seq '${writer.committedSeq}', expected '${count}'`);
  }
  return seconds;
}

/** Reads every record of the store in `dir`; seconds from open to the last record read. */
async function open(
  workers: number,
  dir: string,
  keyPath: string,
  payload: number,
  count: number,
): Promise<number> {
  const t0 = performance.now();
  const identities = await readIdentityFile(keyPath);
  const stream = await SealedStream.open({ kind: "file", dir }, {
    identities,
    identitySource: keyPath,
    workers,
  });
  let seq = 0;
  let bytes = 0;
  for (;;) {
    for (let m = stream.next(); m !== undefined; m = stream.next()) {
      if (m.seq !== ++seq) throw new Error(`Record seq '${m.seq}' where '${seq}' was due`);
      bytes += m.payload.length;
    }
    if (!await stream.wait()) break;
  }
  stream.close();
  const seconds = (performance.now() - t0) / 1000;
  if (seq !== count || bytes !== count * payload) {
    throw new Error(`Opening read '${seq}' records of '${bytes}' bytes, expected '${count}'`);
  }
  return seconds;
}

/**
 * Runs `age` with `args`; with `sync`, then `fdatasync`s that file. Its
 * wall seconds (and with the sync), and its CPU seconds.
 */
async function age(sync: string, args: string[]): Promise<Round> {
  const cpu0 = cpuSeconds().children;
  const t0 = performance.now();
  const out = await new Deno.Command("age", { args, stdout: "null", stderr: "piped" }).output();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds().children - cpu0;
  if (!out.success) {
    throw new Error(`age ${args[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  let synced = seconds;
  if (sync !== "-") {
    using file = Deno.openSync(sync, { read: true, write: true });
    file.syncDataSync();
    synced = (performance.now() - t0) / 1000;
  }
  return { seconds, cpu, synced };
}

/**
 * Runs as a child round, `sealed_bench.ts --child <op> …`, and prints its
 * {@linkcode Round}. Children run with every permission, which reading
 * `/proc` needs.
 */
async function child(args: string[]): Promise<void> {
  const [op, ...rest] = args;
  const n = (i: number) => Number(rest[i]);
  if (op === "age") {
    console.log(JSON.stringify(await age(rest[0]!, rest.slice(1))));
    return;
  }
  // A store the last round left goes first: unlinking 1 GiB is no part of sealing.
  if (op === "seal") remove(rest[2]!);
  const cpu0 = cpuSeconds().self;
  let seconds = 0;
  if (op === "plain") writePlain(rest[0]!, n(1), n(2));
  else if (op === "seal") seconds = await seal(n(0), rest[1]!, rest[2]!, rest[3]!, n(4), n(5));
  else if (op === "open") seconds = await open(n(0), rest[1]!, rest[2]!, n(3), n(4));
  else throw new TypeError(`Unknown child op '${op}'`);
  const round: Round = { seconds, cpu: cpuSeconds().self - cpu0, synced: seconds };
  console.log(JSON.stringify(round));
}

// ------------------------------------------------------------------ parent

/** One side of the comparison: a round of an op gives one or more rows, by name. */
interface System {
  seal(): Promise<Record<string, Timed>>;
  open(): Promise<Record<string, Timed>>;
}

const AGE_ROW = { seal: "age -e", open: "age -d" } as const;

const self = new URL(import.meta.url).pathname;

async function runChild(args: string[]): Promise<Timed> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--child", ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const process = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`Child round '${args.join(" ")}' failed`);
  return { ...JSON.parse(new TextDecoder().decode(out.stdout)) as Round, process };
}

async function ageInstalled(): Promise<boolean> {
  try {
    return (await new Deno.Command("age", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function envList(name: string, fallback: string): number[] {
  return (Deno.env.get(name) ?? fallback).split(",").map((s) => Number(s.trim()));
}

const mib = Number(Deno.env.get("SPOOL_SEALED_MIB") ?? 1024);
const payloads = envList("SPOOL_SEALED_PAYLOADS", "512,65536");
const workerCounts = envList("SPOOL_SEALED_WORKERS", "0,1,2");
const rounds = Number(Deno.env.get("SPOOL_SEALED_ROUNDS") ?? 5);
const base = Deno.env.get("SPOOL_BENCH_DIR");

async function parent(): Promise<void> {
  const haveAge = await ageInstalled();
  if (!haveAge) {
    console.log(
      "sealed: 'age' is not installed (Debian: apt-get install age), so its rows are left out",
    );
  }
  const dir = `${base ?? Deno.env.get("TMPDIR") ?? "/tmp"}/spool-sealed-bench-${Deno.pid}`;
  Deno.mkdirSync(dir, { recursive: true });
  const { identity, recipient } = await generateIdentity();
  const keyPath = `${dir}/key.txt`;
  Deno.writeTextFileSync(
    keyPath,
    `# spool sealed bench\n# public key: ${recipient}\n${identity}\n`,
  );
  const table: Row[] = [];
  try {
    for (const payload of payloads) {
      const count = Math.max(1, Math.floor(mib * MIB / frameBytes(payload)));
      const plain = `${dir}/plain-${payload}.bin`;
      await runChild(["plain", plain, String(payload), String(count)]);
      const plainMib = count * frameBytes(payload) / MIB;
      const common = [String(payload), String(count)];
      const spool = workerCounts.map((w): System => {
        const store = `${dir}/spool-${w}`;
        const name = `spool, ${
          w === 0 ? "inline (0 workers)" : `${w} worker${w === 1 ? "" : "s"}`
        }`;
        return {
          seal: async () => ({
            [name]: await runChild(["seal", String(w), plain, store, recipient, ...common]),
          }),
          open: async () => ({
            [name]: await runChild(["open", String(w), store, keyPath, ...common]),
          }),
        };
      });
      const aged = `${dir}/age-${payload}.age`;
      const age: System = {
        seal: async () => {
          remove(aged);
          const r = await runChild(["age", aged, "-e", "-r", recipient, "-o", aged, plain]);
          // Two rows: age's own run, and the same with its output made durable, as spool's is.
          return {
            [AGE_ROW.seal]: { ...r, process: r.seconds },
            "age -e, then fdatasync": { ...r, seconds: r.synced, process: r.synced },
          };
        },
        open: async () => {
          const r = await runChild(["age", "-", "-d", "-i", keyPath, "-o", "/dev/null", aged]);
          return { [AGE_ROW.open]: { ...r, process: r.seconds } };
        },
      };
      const systems = haveAge ? [...spool, age] : spool;
      for (const op of ["seal", "open"] as const) {
        // The rounds of each row; the first round runs the systems in order, so the rows are.
        const rows = new Map<string, Timed[]>();
        for (let i = 0; i < rounds; i++) {
          for (const s of i % 2 === 0 ? systems : [...systems].reverse()) {
            for (const [name, r] of Object.entries(await s[op]())) {
              if (!rows.has(name)) rows.set(name, []);
              rows.get(name)!.push(r);
            }
          }
        }
        const rate = (r: Timed) => plainMib / r.seconds;
        const peer = firstMedianBest((rows.get(AGE_ROW[op]) ?? []).map(rate));
        for (const name of rows.keys()) {
          const rs = rows.get(name)!;
          const r = firstMedianBest(rs.map(rate));
          table.push({
            payload: payload >= 1024 ? `${payload / 1024} KiB` : `${payload} B`,
            op,
            system: name,
            "first MiB/s": r.first,
            "median MiB/s": r.median,
            "best MiB/s": r.best,
            "CPU s, median": median(rs.map((x) => x.cpu)),
            "process s, median": median(rs.map((x) => x.process)),
            "÷ age, first": haveAge ? r.first / peer.first : "-",
            "÷ age, median": haveAge ? r.median / peer.median : "-",
          });
        }
      }
      Deno.removeSync(plain);
    }
  } finally {
    remove(dir);
  }
  const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  printTable(
    `Sealing and opening ${mib} MiB of records, spool${
      haveAge ? " and age" : ""
    }, a fresh process per round (${rounds} rounds; in ${
      base ?? "the system temp dir"
    }; ${navigator.hardwareConcurrency} cores; load average after: ${load})`,
    table,
  );
}

if (Deno.args[0] === "--child") await child(Deno.args.slice(1));
else await parent();
