/**
 * Engine throughput: what the orchestration engine costs per message, in
 * memory and through a chronicle queue, and how fast it reads a real child
 * process.
 *
 * - `baseline`: the consumer iterates the source's async generator
 *   directly, no engine: the floor the engine is measured against.
 * - `memory`: the same generator through an engine with memory storage
 *   (each message copied in, handed out).
 * - `queue`: the same through queue storage (appended to a queue in the
 *   temp dir, read back through a `QueueReader`).
 * - `child`: a `deno eval` child writing lines to its stdout as fast as it
 *   can, through an engine with memory storage.
 *
 * Every run uses capacity 1024; the consumer touches each payload's first
 * byte. Best of `ROUNDS`.
 *
 * Run: `deno task bench engine`. `SPOOL_ENGINE_SCALE` (default 1) scales
 * the message counts.
 *
 * @module
 */

import { printTable, type Row } from "./_table.ts";
import {
  childProcessSource,
  Engine,
  type EngineOptions,
  iterableSource,
  queueStorage,
} from "../src/engine/mod.ts";
import type { StreamMessage } from "../src/stream/mod.ts";

const ROUNDS = 3;
const SCALE = Number(Deno.env.get("SPOOL_ENGINE_SCALE") ?? 1);
const CAPACITY = 1024;

function scaled(n: number): number {
  return Math.max(1000, Math.round(n * SCALE));
}

async function* generate(count: number, size: number): AsyncGenerator<StreamMessage> {
  const payload = new Uint8Array(size).fill(7);
  for (let seq = 1; seq <= count; seq++) yield { seq, timestampNs: 0n, typeId: 1, payload };
}

interface Timing {
  messages: number;
  bytes: number;
  seconds: number;
}

async function baseline(count: number, size: number): Promise<Timing> {
  let bytes = 0;
  let messages = 0;
  const t0 = performance.now();
  for await (const m of generate(count, size)) {
    bytes += m.payload.length + m.payload[0]! * 0;
    messages++;
  }
  return { messages, bytes, seconds: (performance.now() - t0) / 1000 };
}

async function throughEngine(engine: Engine): Promise<Timing> {
  let bytes = 0;
  let messages = 0;
  const t0 = performance.now();
  for await (const item of engine) {
    if (item.kind !== "data") continue;
    bytes += item.message.payload.length + item.message.payload[0]! * 0;
    messages++;
  }
  return { messages, bytes, seconds: (performance.now() - t0) / 1000 };
}

async function best(run: () => Promise<Timing>): Promise<Timing> {
  let top: Timing | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const t = await run();
    if (top === undefined || t.seconds < top.seconds) top = t;
  }
  return top!;
}

function row(name: string, size: number, t: Timing): Row {
  return {
    run: name,
    "payload B": size,
    messages: t.messages,
    "msg/s": t.messages / t.seconds,
    "MB/s": t.bytes / t.seconds / 1e6,
  };
}

const rows: Row[] = [];
const dir = await Deno.makeTempDir({ prefix: "spool-engine-bench-" });
try {
  for (const size of [64, 1024]) {
    const count = scaled(size === 64 ? 1_000_000 : 500_000);
    const options: EngineOptions = { capacity: CAPACITY };
    rows.push(row("baseline", size, await best(() => baseline(count, size))));
    rows.push(
      row(
        "memory",
        size,
        await best(() => throughEngine(new Engine(iterableSource(generate(count, size)), options))),
      ),
    );
    let round = 0;
    rows.push(row(
      "queue",
      size,
      await best(async () =>
        throughEngine(
          new Engine(iterableSource(generate(count, size)), {
            ...options,
            storage: await queueStorage(`${dir}/q${size}-${round++}`),
          }),
        )
      ),
    ));
  }
  const lines = scaled(1_000_000);
  const script = `
    const line = "x".repeat(99) + "\\n";
    const block = new TextEncoder().encode(line.repeat(1000));
    for (let i = 0; i < ${lines / 1000}; i++) {
      let at = 0;
      while (at < block.length) at += Deno.stdout.writeSync(block.subarray(at));
    }
  `;
  rows.push(row(
    "child",
    99,
    await best(() =>
      throughEngine(
        new Engine(childProcessSource(Deno.execPath(), ["eval", script]), { capacity: CAPACITY }),
      )
    ),
  ));
} finally {
  await Deno.remove(dir, { recursive: true });
}
printTable(`Engine throughput (capacity ${CAPACITY}, best of ${ROUNDS})`, rows);
