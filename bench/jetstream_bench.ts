/**
 * The JetStream tier (issue 15): archive-tap into a JetStream stream beside a
 * plain async publisher of the same records (goal: the tap at 80% or more of
 * the plain publisher), and reading the stream back through `openStream`
 * beside a bare ordered consumer.
 *
 * For each of R1 (one local `nats-server -js`) and R3 (three local nodes,
 * `tests/_nats_cluster.ts`) and each payload size (64 B, 1 KiB), a live
 * queue of N records (type ids 1–8, timestamps of their append) is written
 * once with `QueueWriter`. Then, in each round, cases alternating (in
 * reverse every other round):
 * - **archiveTap**: `archiveTap({ live, archive: "nats://…/STREAM", start:
 *   "earliest", once: true, replicas })` from `src/archive/`, in this
 *   process, timed from the call (connect, stream check, last message) to
 *   its return (every ack in, connection closed);
 * - **plain publisher**: a bare `QueueReader` over the same live queue and
 *   `jetstream(nc).publish()` of each record with the headers the tap sends
 *   (`Spool-Seq`, `Spool-Timestamp-Ns`, `Spool-Type-Id`, `Nats-Msg-Id`
 *   `<live id>:<seq>`) and the tap's window of 1024 acks outstanding,
 *   timed from connect to the last ack and close;
 * - **core publish**: the client's ceiling, the same records, headers and
 *   window through `nc.publish()` with a reply subject under one inbox
 *   subscription (no request, timer or promise per record);
 * - **read back**, on the stream the tap just wrote: `openStream("nats://…")`
 *   with `next()`/`wait()`; `jetstream(nc).consumers.get(STREAM)` (an
 *   ordered consumer) with `consume()`; and that consumer also reading the
 *   `Spool-*` headers, as `openStream` does. Each from open to the last
 *   message, each touching every payload.
 * Before each publishing round the stream is deleted and created again
 * (file storage, the replicas, the tap's 2-minute duplicate window), so
 * rounds are independent and stream creation is not timed. Every round's
 * stream is checked to hold exactly N messages.
 *
 * Once per configuration, after the rounds, the real program
 * `deno run -A cli/archive_tap.ts --live L --archive nats://… --once
 * --start earliest --replicas R` copies into a deleted stream (it creates
 * it): a user's view, Deno's start-up and the stream's creation included.
 *
 * CPU: user + system seconds of this process (the client side) and of the
 * `nats-server` processes, over each timed span (10 ms resolution).
 *
 * Run: `deno task bench jetstream` (about 2 minutes on 2 cores).
 * `SPOOL_JS_ROUNDS` (default 5), `SPOOL_JS_RECORDS_R1` and
 * `SPOOL_JS_RECORDS_R3` (records per round, default 40,000 and 20,000),
 * `SPOOL_JS_PAYLOADS` (comma-separated sizes, default `64,1024`),
 * `SPOOL_JS_REPLICAS` (`1,3`), `SPOOL_BENCH_DIR` (the live queues' directory,
 * default the system temp dir). Without `nats-server` the bench prints
 * "unavailable" rows and exits 0; a step that hangs for 2 minutes ends it
 * with status 1, its servers stopped.
 *
 * @module
 */

import process from "node:process";
import {
  connect,
  createInbox,
  headers,
  type MsgHdrs,
  type NatsConnection,
} from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { firstMedianBest, median, printTable, type Row } from "./_table.ts";
import { type QueueMessage, QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { archiveTap } from "../src/archive/mod.ts";
import { openStream } from "../src/stream/mod.ts";
import { SEQ_HEADER, TIMESTAMP_HEADER, TYPE_HEADER } from "../src/nats/jetstream_target.ts";
import { natsServerPath, startNatsServer } from "../tests/_nats_server.ts";
import { startNatsCluster } from "../tests/_nats_cluster.ts";

const env = (name: string) => Deno.env.get(name);
const list = (text: string) => text.split(",").map(Number);
const ROUNDS = Number(env("SPOOL_JS_ROUNDS") ?? 5);
const PAYLOADS = list(env("SPOOL_JS_PAYLOADS") ?? "64,1024");
const REPLICAS = list(env("SPOOL_JS_REPLICAS") ?? "1,3");
const RECORDS: Record<number, number> = {
  1: Number(env("SPOOL_JS_RECORDS_R1") ?? 40_000),
  3: Number(env("SPOOL_JS_RECORDS_R3") ?? 20_000),
};
/** The tap's window: publishes awaiting their ack (`openJetStreamTarget`'s default). */
const WINDOW = 1024;
/** The tap's duplicate window for a stream it creates. */
const DUPLICATE_WINDOW_NS = 120_000 * 1_000_000;
/** Messages a consumer holds ahead of the reader, as `JetStreamStream` asks. */
const HIGH_WATER = 4096;
const STREAM = "SPOOL_BENCH";
const SUBJECT = `spool.${STREAM}`;
/** The live queue's directory name: the first half of every `Nats-Msg-Id`. */
const LIVE_ID = "feed";
const GOAL = 0.8;
const encoder = new TextEncoder();
/** Progress on stderr, so a slow round shows where it is. */
const say = (line: string) => Deno.stderr.writeSync(encoder.encode(`jetstream: ${line}\n`));
const TICK_SECONDS = 0.01;
/** A step taking longer than this is stuck: the bench fails. */
const STEP_LIMIT_MS = 120_000;

/** One timed span. */
interface Timing {
  records: number;
  seconds: number;
  /** CPU seconds of this process (the client). */
  clientCpu: number;
  /** CPU seconds of every nats-server process. */
  serverCpu: number;
}

/** The servers of one configuration: where to connect, their pids, how to stop them. */
interface Servers {
  /** `nats://127.0.0.1:PORT` of the node clients connect to. */
  url: string;
  /** `127.0.0.1:PORT`, as the client's `servers` takes it. */
  hostPort: string;
  /** The nats-server processes, for their CPU time; empty when `ps` could not tell. */
  pids: number[];
  stop(): Promise<void>;
}

/** User + system CPU seconds of this process, all its threads. */
function clientCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

// The bench runs without --allow-all, which Deno asks for to read /proc:
// `ps` and `cat` read it for the bench.
async function output(command: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout);
  } catch {
    return "";
  }
}

/** User + system CPU seconds of processes `pids` together; NaN when unknown. */
async function serversCpu(pids: number[]): Promise<number> {
  if (pids.length === 0) return NaN;
  const stats = (await output("cat", pids.map((pid) => `/proc/${pid}/stat`))).trim().split("\n");
  if (stats.length !== pids.length) return NaN;
  return stats.reduce((sum, stat) => {
    // Fields after the command name, which may hold spaces: state is field 3.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return sum + (f[14 - 3]! + f[15 - 3]!) * TICK_SECONDS;
  }, 0);
}

/** Pids of the nats-server processes listening on `ports` (their `-p PORT` argument). */
async function serverPids(ports: number[]): Promise<number[]> {
  const pids: number[] = [];
  for (const line of (await output("ps", ["-eo", "pid=,args="])).split("\n")) {
    const args = line.trim().split(/\s+/);
    const port = Number(args[args.indexOf("-p") + 1]);
    if (args[1]?.endsWith("nats-server") && ports.includes(port)) pids.push(Number(args[0]));
  }
  return pids.length === ports.length ? pids : [];
}

/**
 * Times `run`, with the CPU this process and the servers spent meanwhile.
 * A step that hangs fails the bench, naming it, rather than holding it forever.
 */
async function timed(
  servers: Servers,
  what: string,
  run: () => Promise<number>,
): Promise<Timing> {
  say(what);
  const s0 = await serversCpu(servers.pids);
  const c0 = clientCpu();
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no end after ${STEP_LIMIT_MS / 1000} s`)),
      STEP_LIMIT_MS,
    );
  });
  try {
    const records = await Promise.race([run(), stuck]);
    const seconds = (performance.now() - t0) / 1000;
    const client = clientCpu() - c0;
    return { records, seconds, clientCpu: client, serverCpu: await serversCpu(servers.pids) - s0 };
  } finally {
    clearTimeout(timer);
  }
}

async function startServers(replicas: number): Promise<Servers> {
  if (replicas === 1) {
    const server = await startNatsServer();
    return {
      url: server.url,
      hostPort: `127.0.0.1:${server.port}`,
      pids: await serverPids([server.port]),
      stop: server.stop,
    };
  }
  const cluster = await startNatsCluster();
  const first = cluster.nodes[0]!;
  return {
    // One seed: the client learns the other nodes from it.
    url: first.url,
    hostPort: `127.0.0.1:${first.port}`,
    pids: await serverPids(cluster.nodes.map((n) => n.port)),
    stop: cluster.stop,
  };
}

/** Writes the live queue the publishers copy: type ids 1–8, the append's timestamp. */
async function fillLive(live: string, count: number, payloadBytes: number): Promise<void> {
  const w = await QueueWriter.open(live);
  const payload = new Uint8Array(payloadBytes).map((_, i) => (i * 31 + 7) & 0xff);
  for (let i = 0; i < count; i++) {
    payload[0] = i & 0xff;
    w.append(1 + (i & 7), payload);
  }
  w.close();
}

async function withConnection<T>(
  hostPort: string,
  use: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  // As connectNats connects: async traces would build an Error per request.
  const nc = await connect({ servers: hostPort, noAsyncTraces: true });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

/** Deletes the bench stream; creates it again as the tap would, unless `create` is false. */
async function freshStream(hostPort: string, replicas: number, create = true): Promise<void> {
  await withConnection(hostPort, async (nc) => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM).catch(() => false);
    if (!create) return;
    await jsm.streams.add({
      name: STREAM,
      subjects: [SUBJECT],
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window: DUPLICATE_WINDOW_NS,
    });
  });
}

async function storedMessages(hostPort: string): Promise<number> {
  return await withConnection(hostPort, async (nc) => {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(STREAM)).state.messages;
  });
}

async function tapRound(servers: Servers, live: string, replicas: number): Promise<number> {
  const summary = await archiveTap({
    live,
    archive: `${servers.url}/${STREAM}`,
    start: "earliest",
    once: true,
    replicas,
  });
  return summary.copied;
}

/** Publishes awaiting their ack, at most `WINDOW` of them, as the tap keeps them. */
class AckWindow {
  #outstanding = 0;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  readonly acked = (): void => {
    this.#outstanding--;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };

  readonly failed = (error: Error): void => {
    this.#failure ??= error;
    this.acked();
  };

  /** Counts one publish; true when the window is full. */
  sent(): boolean {
    return ++this.#outstanding >= WINDOW;
  }

  /** Waits until the window has room. */
  room(): Promise<void> {
    return this.#until(() => this.#outstanding < WINDOW);
  }

  /** Waits for every ack. */
  drained(): Promise<void> {
    return this.#until(() => this.#outstanding === 0);
  }

  async #until(done: () => boolean): Promise<void> {
    while (this.#failure === undefined && !done()) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#failure !== undefined) throw this.#failure;
  }
}

/**
 * Reads the live queue with a bare `QueueReader` and hands each record, with
 * the headers the tap sends but `Nats-Msg-Id`, to `publish`; at most
 * `WINDOW` publishes await their ack.
 */
async function publishLive(
  live: string,
  window: AckWindow,
  publish: (m: QueueMessage, h: MsgHdrs, msgId: string) => void,
): Promise<number> {
  const reader = await QueueReader.open(live, { start: "earliest" });
  let published = 0;
  try {
    for (let m = reader.next(); m !== undefined; m = reader.next()) {
      const h = headers();
      h.set(SEQ_HEADER, String(m.seq));
      h.set(TIMESTAMP_HEADER, String(m.timestampNs));
      h.set(TYPE_HEADER, String(m.typeId));
      publish(m, h, `${LIVE_ID}:${m.seq}`);
      published++;
      // As the tap drains: no await until the window is full.
      if (window.sent()) await window.room();
    }
    await window.drained();
  } finally {
    reader.close();
  }
  return published;
}

/** The plain publisher: `jetstream(nc).publish()`, one request and its ack promise per record. */
async function plainRound(servers: Servers, live: string): Promise<number> {
  return await withConnection(servers.hostPort, async (nc) => {
    const js = jetstream(nc, { timeout: 5000 });
    const window = new AckWindow();
    return await publishLive(live, window, (m, h, msgId) => {
      // The client keeps the bytes until they are written: the lent payload is copied.
      js.publish(SUBJECT, m.payload.slice(), { msgID: msgId, headers: h })
        .then(window.acked, window.failed);
    });
  });
}

/**
 * The client's ceiling: core `nc.publish()` with a reply subject under one
 * inbox subscription that counts the acks, so no request, timer or promise
 * per record. Same headers, same window.
 */
async function coreRound(servers: Servers, live: string): Promise<number> {
  return await withConnection(servers.hostPort, async (nc) => {
    const window = new AckWindow();
    const inbox = createInbox();
    nc.subscribe(`${inbox}.*`, {
      callback: (error, m) => {
        // An ack is `{"stream":…}`; a refusal `{"error":…}` or an empty 503.
        if (error !== null) window.failed(error);
        else if (m.data[2] === 0x73) window.acked();
        else window.failed(new Error(`Publish '${m.subject}' refused: '${m.string()}'`));
      },
    });
    return await publishLive(live, window, (m, h, msgId) => {
      h.set("Nats-Msg-Id", msgId);
      nc.publish(SUBJECT, m.payload.slice(), { reply: `${inbox}.${m.seq}`, headers: h });
    });
  });
}

let sink = 0;

/** `openStream` on the stream, `next()` and `wait()`, touching each payload and reading each field. */
async function openStreamRead(servers: Servers, expect: number): Promise<number> {
  const stream = await openStream(`${servers.url}/${STREAM}`);
  let n = 0;
  try {
    for (;;) {
      const m = stream.next();
      if (m !== undefined) {
        // The timestamp too: a reader that makes it only when asked must pay for it here.
        sink = (sink + m.seq + m.typeId + Number(m.timestampNs & 0xffn) +
          m.payload[m.payload.length - 1]!) | 0;
        n++;
      } else if (!await stream.wait()) break;
    }
  } finally {
    stream.close();
  }
  if (n !== expect) throw new Error(`openStream read '${n}' messages, expected '${expect}'`);
  return n;
}

/**
 * A bare ordered consumer: `consume()` with the reader's high-water mark,
 * touching each payload; with `parse`, also reading the three `Spool-*`
 * headers as `openStream` does, to tell that cost from the stream's own.
 */
async function bareRead(servers: Servers, expect: number, parse: boolean): Promise<number> {
  return await withConnection(servers.hostPort, async (nc) => {
    const consumer = await jetstream(nc).consumers.get(STREAM);
    const messages = await consumer.consume({ max_messages: HIGH_WATER });
    let n = 0;
    for await (const m of messages) {
      const data = m.data;
      sink = (sink + m.seq + data[data.length - 1]!) | 0;
      if (parse) {
        const h = m.headers!;
        sink = (sink + Number(h.get(SEQ_HEADER)) + Number(h.get(TYPE_HEADER)) +
          Number(BigInt(h.get(TIMESTAMP_HEADER)) & 0xffn)) | 0;
      }
      if (++n >= expect) break;
    }
    messages.stop();
    return n;
  });
}

/** One round of the real program, start-up included; the stream is created by it. */
async function programRound(
  servers: Servers,
  live: string,
  replicas: number,
  records: number,
): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../cli/archive_tap.ts", import.meta.url).pathname,
      "--live",
      live,
      "--archive",
      `${servers.url}/${STREAM}`,
      "--once",
      "--start",
      "earliest",
      "--replicas",
      String(replicas),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`archive-tap failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return records;
}

interface Case {
  name: string;
  /** The case its ratio is taken against. */
  peer: string | undefined;
  run: () => Promise<number>;
  timings: Timing[];
}

const TAP = "archiveTap, once";
const PLAIN = "plain async publisher, js.publish()";
const CORE = "core publish, one ack subscription";
const PROGRAM = "archive-tap program, start-up included";
const OPEN_STREAM = "openStream, next()/wait()";
const BARE = "bare ordered consumer, consume()";
const BARE_PARSED = "bare consumer + Spool-* headers read";

const payloadName = (bytes: number) => bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;

function rowOf(replicas: number, payload: number, c: Case, cases: Case[]): Row {
  const r = firstMedianBest(c.timings.map((t) => t.records / t.seconds));
  const peer = cases.find((p) => p.name === c.peer);
  const p = peer && firstMedianBest(peer.timings.map((t) => t.records / t.seconds));
  const several = c.timings.length > 1;
  // The program runs once, in its own process: its round against the peer's median.
  const program = c.name === PROGRAM;
  return {
    replicas: `R${replicas}`,
    payload: payloadName(payload),
    case: c.name,
    records: c.timings[0]?.records ?? 0,
    "first rec/s": r.first,
    "median rec/s": several ? r.median : "-",
    "best rec/s": several ? r.best : "-",
    "median s": median(c.timings.map((t) => t.seconds)),
    "client CPU s": program ? "-" : median(c.timings.map((t) => t.clientCpu)),
    // NaN when `ps` or `cat` could not tell.
    "server CPU s": median(c.timings.map((t) => t.serverCpu)) || "-",
    "÷ peer, first": p === undefined ? "-" : r.first / (program ? p.median : p.first),
    "÷ peer, median": p === undefined || program ? "-" : r.median / p.median,
  };
}

async function measure(
  servers: Servers,
  root: string,
  replicas: number,
  payload: number,
): Promise<{ rows: Row[]; summary: string }> {
  const records = RECORDS[replicas] ?? RECORDS[1]!;
  const live = `${root}/r${replicas}-${payload}/${LIVE_ID}`;
  await fillLive(live, records, payload);
  const make = (name: string, peer: string | undefined, run: () => Promise<number>): Case => ({
    name,
    peer,
    run,
    timings: [],
  });
  const tap = make(TAP, PLAIN, () => tapRound(servers, live, replicas));
  const publishers = [
    tap,
    make(PLAIN, undefined, () => plainRound(servers, live)),
    make(CORE, PLAIN, () => coreRound(servers, live)),
  ];
  const readers = [
    make(OPEN_STREAM, BARE, () => openStreamRead(servers, records)),
    make(BARE, undefined, () => bareRead(servers, records, false)),
    make(BARE_PARSED, BARE, () => bareRead(servers, records, true)),
  ];
  const program = make(PROGRAM, PLAIN, () => programRound(servers, live, replicas, records));
  const check = async (what: string) => {
    const held = await storedMessages(servers.hostPort);
    if (held !== records) throw new Error(`${what}: stream holds '${held}' of '${records}'`);
  };
  const label = `R${replicas} ${payloadName(payload)}`;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating, in reverse every other round: no case always runs first.
    const order = <T>(xs: T[]) => round % 2 === 1 ? [...xs].reverse() : xs;
    for (const c of order(publishers)) {
      await freshStream(servers.hostPort, replicas);
      c.timings.push(await timed(servers, `${label} round ${round + 1}: ${c.name}`, c.run));
      await check(c.name);
      if (c !== tap) continue;
      // Read back what the tap just wrote, every way.
      for (const r of order(readers)) {
        r.timings.push(await timed(servers, `${label} round ${round + 1}: ${r.name}`, r.run));
      }
    }
  }
  await freshStream(servers.hostPort, replicas, false);
  program.timings.push(await timed(servers, `${label}: ${program.name}`, program.run));
  await check(program.name);
  await Deno.remove(live, { recursive: true });
  const cases = [...publishers, program, ...readers];
  const rows = cases.map((c) => rowOf(replicas, payload, c, cases));
  const ratio = (name: string) => Number(rows.find((r) => r.case === name)!["÷ peer, median"]);
  const summary = `${label}: tap ÷ plain ${ratio(TAP).toFixed(2)} (median), ${
    ratio(TAP) >= GOAL ? "goal met" : "goal NOT met"
  }; openStream ÷ bare consumer ${ratio(OPEN_STREAM).toFixed(2)}`;
  return { rows, summary };
}

function unavailableRows(replicas: number, why: string): Row[] {
  return PAYLOADS.map((payload) => ({
    replicas: `R${replicas}`,
    payload: payloadName(payload),
    case: `unavailable: ${why}`,
  }));
}

const root = await Deno.makeTempDir({
  prefix: "spool-bench-jetstream-",
  ...(env("SPOOL_BENCH_DIR") === undefined ? {} : { dir: env("SPOOL_BENCH_DIR")! }),
});
const running = new Set<Servers>();
// Ctrl-C: stop every server before leaving, as `finally` would.
const onSignal = async () => {
  await Promise.all([...running].map((s) => s.stop().catch(() => {})));
  await Deno.remove(root, { recursive: true }).catch(() => {});
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);
const rows: Row[] = [];
const summaries: string[] = [];
let version = "nats-server missing";
let failure: unknown;
try {
  if (natsServerPath !== undefined) {
    const out = await new Deno.Command(natsServerPath, { args: ["--version"] }).output();
    version = new TextDecoder().decode(out.stdout).trim();
  }
  for (const replicas of REPLICAS) {
    if (natsServerPath === undefined) {
      rows.push(...unavailableRows(replicas, "no nats-server"));
      continue;
    }
    let servers: Servers;
    try {
      servers = await startServers(replicas);
    } catch (e) {
      rows.push(...unavailableRows(replicas, (e as Error).message));
      continue;
    }
    running.add(servers);
    try {
      for (const payload of PAYLOADS) {
        const measured = await measure(servers, root, replicas, payload);
        rows.push(...measured.rows);
        summaries.push(measured.summary);
      }
    } finally {
      running.delete(servers);
      await servers.stop();
    }
  }
} catch (error) {
  failure = error;
} finally {
  await Deno.remove(root, { recursive: true }).catch(() => {});
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
}
if (failure !== undefined) {
  // A stuck step may still hold a connection open: leave without waiting for it.
  console.error(`jetstream: ${failure instanceof Error ? failure.message : failure}`);
  Deno.exit(1);
}
const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
printTable(
  `JetStream: archive-tap beside a plain publisher (÷ peer: ÷ plain), openStream beside a bare ordered consumer (÷ peer: ÷ bare); ${ROUNDS} rounds; ${version}, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, load average after ${load}`,
  rows,
);
for (const s of summaries) console.log(s);
if (sink === 42) console.log("");
