/**
 * Tests of the orchestration engine: backpressure from a slow consumer
 * (memory and queue storage), in-band events, cancellation (leaving the
 * loop, an AbortSignal, stop()), seeking a queue and refusing to seek a
 * pipe, typed source failures, and real child processes end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import {
  CancelledError,
  childProcessSource,
  Engine,
  EngineClosedError,
  type EngineItem,
  type EventItem,
  iterableSource,
  linesSource,
  messageToFrame,
  ProcessExitError,
  queueSource,
  queueStorage,
  SeekUnsupportedError,
  SourceError,
  type SourceInput,
  type Storage,
  tapeStorage,
  type TapeStorageWriter,
} from "../src/engine/mod.ts";
import type { StreamMessage } from "../src/stream/mod.ts";
import {
  type FrameInput,
  type FrameRecord,
  LineTooLongError,
  type TapeMeta,
  TapeWriter,
} from "../src/tape/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SEGMENT_BYTES = 1 << 20;
const BASE_NS = 1_700_000_000_000_000_000n;

function text(m: StreamMessage): string {
  return decoder.decode(m.payload);
}

function message(seq: number, payload: Uint8Array = encoder.encode(String(seq))): StreamMessage {
  return { seq, timestampNs: BASE_NS + BigInt(seq), typeId: 1, payload };
}

/** One word per item: `data:<payload>` or the event's name. */
function label(item: EngineItem): string {
  return item.kind === "data" ? `data:${text(item.message)}` : item.name;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether process `pid` is gone (reaped). SIGCONT does nothing to a process
 * that runs, and fails with ESRCH when there is none; reading `/proc` would
 * need `--allow-all`.
 */
function processGone(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

function denoEval(script: string): [string, string[]] {
  return [Deno.execPath(), ["eval", script]];
}

function pidOf(items: EngineItem[]): number {
  const spawn = items.find((i): i is EventItem => i.kind === "event" && i.name === "spawn");
  assert.ok(spawn, "no spawn event");
  return (spawn.detail as { pid: number }).pid;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool-engine-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A queue in `dir` of records 1..n: payload `r<seq>`, stamped BASE_NS + seq µs. */
async function writeQueue(dir: string, n: number): Promise<void> {
  const writer = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
  for (let seq = 1; seq <= n; seq++) {
    writer.append(3, encoder.encode(`r${seq}`), BASE_NS + BigInt(seq) * 1000n);
  }
  writer.close();
}

// ---------------------------------------------------------------- backpressure

/**
 * Runs `count` messages of 1 KiB from a generator that counts what it has
 * produced, through an engine, to a consumer that sleeps every 2000
 * messages. Returns how far the source ever got ahead of the consumer and
 * how much the process grew.
 */
async function slowConsumerRun(count: number, capacity: number) {
  const payload = new Uint8Array(1024);
  let produced = 0;
  async function* fast(): AsyncGenerator<StreamMessage> {
    for (let seq = 1; seq <= count; seq++) {
      produced++;
      yield message(seq, payload);
    }
  }
  const engine = new Engine(iterableSource(fast(), { name: "fast" }), {
    capacity,
    maxBytes: 1 << 30,
  });
  const rssBefore = Deno.memoryUsage().rss;
  let rssMax = rssBefore;
  let consumed = 0;
  let maxLead = 0;
  let outOfOrder = 0;
  for await (const item of engine) {
    if (item.kind !== "data") continue;
    consumed++;
    if (item.message.seq !== consumed) outOfOrder++;
    maxLead = Math.max(maxLead, produced - consumed);
    if (consumed % 2000 === 0) {
      await sleep(1);
      rssMax = Math.max(rssMax, Deno.memoryUsage().rss);
    }
  }
  return { engine, consumed, maxLead, outOfOrder, rssGrowth: rssMax - rssBefore };
}

Deno.test("engine: a slow consumer holds a fast source back, and memory stays bounded", async () => {
  const count = 300_000;
  const capacity = 256;
  const run = await slowConsumerRun(count, capacity);
  assert.equal(run.consumed, count);
  assert.equal(run.outOfOrder, 0);
  const stats = run.engine.stats;
  assert.ok(stats.highWater <= capacity, `high water ${stats.highWater} > ${capacity}`);
  assert.ok(stats.highWaterBytes <= capacity * 1024, `high water ${stats.highWaterBytes} bytes`);
  // The source itself never got further ahead than the buffer holds, plus
  // the one message the consumer has in hand.
  assert.ok(run.maxLead <= capacity + 1, `source ran ${run.maxLead} messages ahead`);
  assert.ok(stats.pauses > 0, "the source was never paused");
  assert.equal(stats.buffered, 0);
  assert.equal(stats.produced, count);
  // Holding what the source produced would take its 293 MiB of payload and
  // more; a bounded run grows by what the garbage collector lets pile up
  // (30 to 120 MiB measured).
  const limit = 256 * 1024 * 1024;
  assert.ok(run.rssGrowth < limit, `process grew ${(run.rssGrowth / 2 ** 20).toFixed(0)} MiB`);
});

Deno.test("engine: the backpressure measurement catches a source running ahead", async () => {
  // The same run with a capacity nothing reaches: the source races ahead
  // while the consumer sleeps, so the assertions above are not vacuous.
  const run = await slowConsumerRun(20_000, 1_000_000_000);
  assert.equal(run.consumed, 20_000);
  assert.ok(run.maxLead > 2_000, `source only ran ${run.maxLead} messages ahead`);
  assert.ok(run.engine.stats.highWater > 2_000);
  assert.equal(run.engine.stats.pauses, 0);
});

Deno.test("engine: with queue storage the writer runs at most the capacity ahead of the reader", async () => {
  await withDir(async (dir) => {
    const count = 20_000;
    const capacity = 128;
    let produced = 0;
    async function* fast(): AsyncGenerator<StreamMessage> {
      for (let seq = 1; seq <= count; seq++) {
        produced++;
        yield message(seq, encoder.encode(`m${seq}`));
      }
    }
    const storage = await queueStorage(`${dir}/q`, { segmentBytes: SEGMENT_BYTES });
    const engine = new Engine(iterableSource(fast()), { storage, capacity });
    let consumed = 0;
    let maxLead = 0;
    for await (const item of engine) {
      if (item.kind !== "data") continue;
      consumed++;
      // What the consumer reads is what the queue holds: the queue's seqs.
      assert.equal(item.message.seq, consumed);
      assert.equal(text(item.message), `m${consumed}`);
      assert.equal(item.message.timestampNs, BASE_NS + BigInt(consumed));
      maxLead = Math.max(maxLead, produced - consumed);
      if (consumed % 1000 === 0) await sleep(1);
    }
    assert.equal(consumed, count);
    assert.ok(engine.stats.highWater <= capacity, `high water ${engine.stats.highWater}`);
    assert.ok(maxLead <= capacity + 1, `source ran ${maxLead} ahead`);
    assert.ok(engine.stats.pauses > 0);
    // Everything stays in the queue, and the engine released its writer lock.
    const writer = await QueueWriter.open(`${dir}/q`);
    assert.equal(writer.lastSeq, count);
    writer.close();
  });
});

// ---------------------------------------------------------------- events

Deno.test("engine: events reach the consumer in order with the data", async () => {
  const inputs: SourceInput[] = [
    message(1),
    { kind: "event", name: "note", detail: 1 },
    message(2),
    message(3),
    { kind: "event", name: "note", detail: 2 },
    { kind: "event", name: "note", detail: 3 },
    message(4),
  ];
  const engine = new Engine(iterableSource(inputs, { name: "mixed" }), { capacity: 2 });
  const seen: string[] = [];
  for await (const item of engine) {
    seen.push(item.kind === "event" && item.name === "note" ? `note${item.detail}` : label(item));
    await sleep(0);
  }
  assert.deepEqual(seen, [
    "start",
    "data:1",
    "note1",
    "data:2",
    "data:3",
    "note2",
    "note3",
    "data:4",
    "eof",
  ]);
  assert.ok(engine.stats.highWater <= 2);
});

// ---------------------------------------------------------------- cancellation

Deno.test("engine: leaving the loop kills the child process and stops everything", async () => {
  const [cmd, args] = denoEval("while (true) console.log('x'.repeat(100))");
  const engine = new Engine(childProcessSource(cmd, args, { name: "yes" }), { capacity: 8 });
  const items: EngineItem[] = [];
  let data = 0;
  for await (const item of engine) {
    items.push(item);
    if (item.kind === "data" && ++data === 50) break;
  }
  const pid = pidOf(items);
  assert.ok(processGone(pid), `child ${pid} is still there`);
  assert.throws(() => engine[Symbol.asyncIterator](), EngineClosedError);
  await assert.rejects(engine.seek({ seq: 1 }), EngineClosedError);
});

Deno.test("engine: an aborted signal ends the iteration with CancelledError and kills the child", async () => {
  const [cmd, args] = denoEval("console.log('ready'); setTimeout(() => {}, 60_000)");
  const controller = new AbortController();
  const engine = new Engine(childProcessSource(cmd, args, { name: "idle" }), {
    signal: controller.signal,
  });
  const items: EngineItem[] = [];
  const error = await (async () => {
    try {
      for await (const item of engine) {
        items.push(item);
        // The consumer then waits for more, which never comes.
        if (item.kind === "data") setTimeout(() => controller.abort(new Error("enough")), 10);
      }
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(error instanceof CancelledError, `got ${error}`);
  assert.equal(error.source, "idle");
  assert.equal((error.cause as Error).message, "enough");
  assert.deepEqual(items.map(label), ["start", "spawn", "data:ready"]);
  assert.ok(processGone(pidOf(items)));
});

Deno.test("engine: a signal aborted before the start never starts the source", async () => {
  let started = false;
  const engine = new Engine(
    {
      name: "never",
      start() {
        started = true;
        return iterableSource([]).start();
      },
      close() {},
    },
    { signal: AbortSignal.abort() },
  );
  await assert.rejects(async () => {
    for await (const _ of engine) { /* nothing arrives */ }
  }, CancelledError);
  assert.equal(started, false);
});

Deno.test("engine: stop() ends the iteration normally and kills the child", async () => {
  const [cmd, args] = denoEval("console.log('ready'); setTimeout(() => {}, 60_000)");
  const engine = new Engine(childProcessSource(cmd, args));
  const items: EngineItem[] = [];
  for await (const item of engine) {
    items.push(item);
    if (item.kind === "data") setTimeout(() => engine.stop(), 10);
  }
  assert.deepEqual(items.map(label), ["start", "spawn", "data:ready"]);
  assert.ok(processGone(pidOf(items)));
  await engine.stop(); // idempotent
  assert.throws(() => engine[Symbol.asyncIterator](), EngineClosedError);
});

Deno.test("engine: stop() does not wait for a pull that never settles", async () => {
  let finished = false;
  async function* stuck(): AsyncGenerator<StreamMessage> {
    try {
      yield message(1);
      await new Promise(() => {}); // a producer that hangs for good
    } finally {
      finished = true;
    }
  }
  const engine = new Engine(iterableSource(stuck(), { name: "stuck" }));
  const seen: string[] = [];
  for await (const item of engine) {
    seen.push(label(item));
    if (item.kind === "data") setTimeout(() => engine.stop(), 10);
  }
  assert.deepEqual(seen, ["start", "data:1"]);
  // Its finally block cannot run while it hangs; nothing waits for it.
  assert.equal(finished, false);
});

Deno.test("engine: leaving the loop while a queue source waits for records closes its reader", async () => {
  await withDir(async (dir) => {
    await writeQueue(dir, 5);
    const reader = await QueueReader.open(dir);
    const engine = new Engine(queueSource(reader, { follow: true, pollMs: 20 }));
    let data = 0;
    for await (const item of engine) {
      if (item.kind === "data" && ++data === 5) {
        await sleep(30); // the source is now waiting at the end of the queue
        break;
      }
    }
    assert.equal(data, 5);
    assert.throws(() => reader.next(), /closed/);
  });
});

// ---------------------------------------------------------------- seek

Deno.test("engine: a seek by seq delivers the seek event, then data from the new position", async () => {
  await withDir(async (dir) => {
    await writeQueue(dir, 1000);
    const engine = new Engine(queueSource(await QueueReader.open(dir)), { capacity: 16 });
    const seen: string[] = [];
    for await (const item of engine) {
      seen.push(
        item.kind === "event" && item.name === "seek"
          ? `seek:${JSON.stringify(item.detail)}`
          : label(item),
      );
      if (seen.length === 11) await engine.seek({ seq: 500 });
    }
    // Nothing stale after the request: what was buffered was dropped.
    assert.equal(seen[11], 'seek:{"seq":500}');
    assert.deepEqual(seen.slice(0, 11), [
      "start",
      ...Array.from({ length: 10 }, (_, i) => `data:r${i + 1}`),
    ]);
    const after = seen.slice(12);
    // After: r500 to r1000 exactly, then the end.
    const expected = Array.from({ length: 501 }, (_, i) => `data:r${500 + i}`);
    assert.deepEqual(after, [...expected, "eof"]);
    assert.ok(engine.stats.highWater <= 16);
  });
});

Deno.test("engine: a seek by time goes to the first record at or after it", async () => {
  await withDir(async (dir) => {
    await writeQueue(dir, 300);
    const engine = new Engine(queueSource(await QueueReader.open(dir)));
    const seq: number[] = [];
    let seekSeen = false;
    for await (const item of engine) {
      if (item.kind === "event" && item.name === "seek") seekSeen = true;
      if (item.kind !== "data") continue;
      seq.push(item.message.seq);
      if (seq.length === 3) await engine.seek({ timestampNs: BASE_NS + 250_500n });
    }
    assert.ok(seekSeen);
    assert.deepEqual(seq, [1, 2, 3, ...Array.from({ length: 50 }, (_, i) => 251 + i)]);
  });
});

Deno.test("engine: a seek the source refuses rejects, and nothing is dropped", async () => {
  await withDir(async (dir) => {
    await writeQueue(dir, 100);
    const engine = new Engine(queueSource(await QueueReader.open(dir)), { capacity: 8 });
    const seq: number[] = [];
    for await (const item of engine) {
      if (item.kind !== "data") continue;
      seq.push(item.message.seq);
      if (seq.length === 5) await assert.rejects(engine.seek({ seq: 5000 }), RangeError);
    }
    assert.deepEqual(seq, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal(engine.stats.dropped, 0);
  });
});

Deno.test("engine: seeking a queue into queue storage stores the records from the new position", async () => {
  await withDir(async (dir) => {
    await writeQueue(`${dir}/from`, 200);
    const storage = await queueStorage(`${dir}/to`, { segmentBytes: SEGMENT_BYTES });
    const engine = new Engine(queueSource(await QueueReader.open(`${dir}/from`)), {
      storage,
      capacity: 8,
    });
    const seen: string[] = [];
    for await (const item of engine) {
      seen.push(label(item));
      if (seen.length === 4) await engine.seek({ seq: 150 });
    }
    assert.deepEqual(seen.slice(0, 5), ["start", "data:r1", "data:r2", "data:r3", "seek"]);
    assert.deepEqual(
      seen.slice(5),
      [...Array.from({ length: 51 }, (_, i) => `data:r${150 + i}`), "eof"],
    );
    assert.ok(engine.stats.dropped > 0);
  });
});

Deno.test("engine: a source that cannot seek refuses with SeekUnsupportedError", async () => {
  const [cmd, args] = denoEval("console.log('a')");
  for (
    const source of [
      childProcessSource(cmd, args, { name: "child" }),
      linesSource(new Blob(["a\n"]).stream(), { name: "pipe" }),
      iterableSource([message(1)], { name: "list" }),
    ]
  ) {
    const engine = new Engine(source);
    const seen: string[] = [];
    for await (const item of engine) {
      seen.push(label(item));
      if (item.kind === "data") {
        const error = await engine.seek({ seq: 1 }).catch((e) => e);
        assert.ok(error instanceof SeekUnsupportedError && error instanceof TypeError);
        assert.equal(error.source, source.name);
        assert.equal(error.message, `Source '${source.name}' cannot seek`);
      }
    }
    assert.ok(seen.includes("data:a") || seen.includes("data:1"), seen.join(" "));
    assert.equal(seen.at(-1), "eof");
  }
});

// ---------------------------------------------------------------- failures

async function drain(engine: Engine): Promise<{ items: EngineItem[]; error: unknown }> {
  const items: EngineItem[] = [];
  try {
    for await (const item of engine) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

Deno.test("engine: a child exiting non-zero fails with SourceError after all its output", async () => {
  const [cmd, args] = denoEval(
    "console.log('one'); console.log('two'); console.error('bad thing'); console.log('three'); Deno.exit(3)",
  );
  const engine = new Engine(childProcessSource(cmd, args, { name: "failing" }), { capacity: 2 });
  const { items, error } = await drain(engine);
  assert.ok(error instanceof SourceError, `got ${error}`);
  assert.equal(error.source, "failing");
  assert.ok(error.cause instanceof ProcessExitError);
  assert.equal(error.cause.code, 3);
  assert.equal(error.message, `Source 'failing' failed: Command '${cmd}' exited with status 3`);
  const labels = items.map(label);
  assert.deepEqual(labels.filter((l) => l.startsWith("data:")), [
    "data:one",
    "data:two",
    "data:three",
  ]);
  const stderr = items.filter((i): i is EventItem => i.kind === "event" && i.name === "stderr");
  assert.deepEqual(stderr.map((e) => e.detail), ["bad thing"]);
  const exit = items.at(-1) as EventItem;
  assert.equal(exit.name, "exit");
  assert.deepEqual(exit.detail, { code: 3, signal: null });
});

Deno.test("engine: a stream that errors fails with SourceError after the lines before it", async () => {
  const cause = new Error("disk gone");
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (++pulls === 1) controller.enqueue(encoder.encode("a\nb\nc"));
      else controller.error(cause);
    },
  });
  const { items, error } = await drain(new Engine(linesSource(stream, { name: "disk" })));
  assert.ok(error instanceof SourceError);
  assert.equal(error.cause, cause);
  assert.equal(error.message, "Source 'disk' failed: disk gone");
  // 'c' had no newline when the stream failed: it was never a whole line.
  assert.deepEqual(items.map(label), ["start", "data:a", "data:b"]);
});

Deno.test("engine: an iterable that throws fails after every message before it, even when buffered", async () => {
  async function* hundred(): AsyncGenerator<StreamMessage> {
    for (let seq = 1; seq <= 100; seq++) yield message(seq);
    throw new RangeError("out of numbers");
  }
  const engine = new Engine(iterableSource(hundred(), { name: "counter" }), { capacity: 8 });
  const seqs: number[] = [];
  const error = await (async () => {
    try {
      for await (const item of engine) {
        if (item.kind === "data") seqs.push(item.message.seq);
        if (seqs.length % 10 === 0) await sleep(1);
      }
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(error instanceof SourceError);
  assert.ok(error.cause instanceof RangeError);
  assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i + 1));
});

Deno.test("engine: a command that cannot start fails with SourceError", async () => {
  const { items, error } = await drain(new Engine(childProcessSource("spool-no-such-command")));
  assert.ok(error instanceof SourceError);
  assert.ok(error.cause instanceof Deno.errors.NotFound);
  assert.equal(error.source, "spool-no-such-command");
  assert.deepEqual(items, []);
});

Deno.test("engine: a storage write error ends the iteration with that error after what was stored", async () => {
  const failure = new Error("no space");
  const kept: string[] = [];
  let writes = 0;
  let closed = 0;
  const storage: Storage = {
    name: "tiny",
    writer: {
      write(m) {
        if (++writes === 3) throw failure;
        kept.push(text(m));
      },
      close: () => void closed++,
    },
    reader: {
      read: () => {
        const t = kept.shift();
        return t === undefined ? undefined : message(0, encoder.encode(t));
      },
      close: () => void closed++,
    },
  };
  const { items, error } = await drain(
    new Engine(iterableSource([1, 2, 3, 4].map((n) => message(n))), { storage }),
  );
  assert.equal(error, failure);
  assert.deepEqual(items.map(label), ["start", "data:1", "data:2"]);
  assert.equal(closed, 2);
});

Deno.test("engine: an engine has one consumer", async () => {
  const engine = new Engine(iterableSource([message(1)]));
  const first = engine[Symbol.asyncIterator]();
  assert.throws(() => engine[Symbol.asyncIterator](), {
    name: "TypeError",
    message: "Engine reading 'iterable' is already being iterated: it has one consumer",
  });
  assert.equal((await first.next()).value?.kind, "event");
  await first.return!();
  assert.throws(() => engine[Symbol.asyncIterator](), EngineClosedError);
});

Deno.test("engine: options are checked", () => {
  const source = iterableSource([]);
  assert.throws(() => new Engine(source, { capacity: 0 }), {
    name: "RangeError",
    message: "Option 'capacity' must be a whole number of at least 1, not '0'",
  });
  assert.throws(() => new Engine(source, { maxBytes: 1.5 }), RangeError);
});

// ---------------------------------------------------------------- child processes

Deno.test("engine: a real child process end to end, held back by its pipe", async () => {
  await withDir(async (dir) => {
    const marker = `${dir}/written`;
    // 1 MiB of output, far more than the pipe (64 KiB) and the engine hold.
    const [cmd, args] = denoEval(`
      const line = "y".repeat(1023);
      for (let i = 1; i <= 1024; i++) console.log(i + ":" + line.slice(String(i).length + 1));
      console.error("finished writing");
      Deno.writeTextFileSync(${JSON.stringify(marker)}, "done");
    `);
    // A short drain time: it must not cut the pipes while the engine is
    // paused with the child's last lines still in them.
    const source = childProcessSource(cmd, args, { name: "writer", typeId: 9, drainMs: 50 });
    const engine = new Engine(source, { capacity: 16 });
    const lines: string[] = [];
    const events: string[] = [];
    let checkedBlocked = false;
    for await (const item of engine) {
      if (item.kind === "event") {
        events.push(item.name === "stderr" ? `stderr:${item.detail}` : item.name);
        continue;
      }
      assert.equal(item.message.typeId, 9);
      assert.equal(item.message.payload.length, 1023);
      lines.push(text(item.message).split(":")[0]!);
      if (lines.length === 10) {
        // However long the consumer dawdles, the child cannot have written
        // everything: the engine stopped reading its pipe.
        await sleep(300);
        assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
        checkedBlocked = true;
      }
      // Near the end the child gets its last lines into the pipe and exits
      // while the consumer dawdles; none of them may be lost.
      if (lines.length === 924) await sleep(200);
    }
    assert.ok(checkedBlocked);
    assert.deepEqual(lines, Array.from({ length: 1024 }, (_, i) => String(i + 1)));
    assert.equal(Deno.readTextFileSync(marker), "done");
    assert.deepEqual(events, ["start", "spawn", "stderr:finished writing", "exit", "eof"]);
    assert.ok(engine.stats.highWater <= 16);
  });
});

Deno.test("engine: a child whose own child holds its pipes open still ends", async () => {
  const [cmd, args] = denoEval(`
    const grandchild = new Deno.Command(Deno.execPath(), {
      args: ["eval", "setTimeout(() => {}, 30_000)"],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    console.log(String(grandchild.pid));
    Deno.exit(0);
  `);
  const engine = new Engine(childProcessSource(cmd, args, { drainMs: 100 }));
  const { items, error } = await drain(engine);
  assert.equal(error, undefined);
  const data = items.find((i) => i.kind === "data");
  assert.ok(data?.kind === "data");
  const grandchild = Number(text(data.message));
  try {
    assert.ok(!processGone(grandchild), "the grandchild should still hold the pipe");
    assert.deepEqual(items.slice(-2).map(label), ["exit", "eof"]);
  } finally {
    Deno.kill(grandchild, "SIGKILL");
  }
});

// ---------------------------------------------------------------- tape storage

/** The frames of a tape as `[dir, env, flags]`, and the frame lines as written. */
async function tapeFrames(path: string): Promise<{ frames: unknown[][]; lines: string[] }> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) =>
    l.includes('"type":"frame"')
  );
  const frames = lines.map((l) => {
    const f = JSON.parse(l) as FrameRecord;
    return [f.dir, f.env, f.flags ?? []];
  });
  return { frames, lines };
}

/** A stand-in tape writer whose appends settle only when the test says so. */
function heldWriter() {
  const held: { frame: FrameInput; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const calls = { finalize: 0, fail: [] as unknown[] };
  const meta = {} as TapeMeta;
  let finalizeError: unknown;
  const writer: TapeStorageWriter = {
    path: "held.jsonl",
    append: (frame) =>
      new Promise<FrameRecord>((resolve, reject) => {
        held.push({ frame, resolve: () => resolve({} as FrameRecord), reject });
      }),
    finalize: () => {
      calls.finalize++;
      return finalizeError === undefined ? Promise.resolve(meta) : Promise.reject(finalizeError);
    },
    fail: (error) => {
      calls.fail.push(error);
      return Promise.resolve(meta);
    },
  };
  const failFinalize = (error: unknown) => (finalizeError = error);
  return { writer, held, calls, failFinalize };
}

/** Lets pending promise reactions (and the engine's stages) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await sleep(0);
}

Deno.test("tapeStorage: lines become frames of a real tape, read back in order; the close finalizes it", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir);
    const input = new Blob([
      '{"jsonrpc":"2.0","id":1,"method":"ping"}\nplain text\n  {"a": 1} \n',
    ]).stream();
    const engine = new Engine(linesSource(input, { name: "pipe" }), {
      storage: tapeStorage(writer),
    });
    const { items, error } = await drain(engine);
    assert.equal(error, undefined);
    assert.deepEqual(items.map(label), [
      "start",
      'data:{"jsonrpc":"2.0","id":1,"method":"ping"}',
      "data:plain text",
      'data:  {"a": 1} ',
      "eof",
    ]);
    assert.equal(writer.status, "finalized");
    assert.equal((await writer.finalize()).stats.frame_count, 3);
    const { frames, lines } = await tapeFrames(writer.path);
    assert.deepEqual(frames, [
      ["c2s", { jsonrpc: "2.0", id: 1, method: "ping" }, []],
      ["c2s", "plain text", ["text"]],
      ["c2s", { a: 1 }, []],
    ]);
    // The JSON text is written as it came, as the recorder writes it (one
    // rule, lineToFrame): only the whitespace around it is dropped.
    assert.ok(lines[0]!.includes(',"env":{"jsonrpc":"2.0","id":1,"method":"ping"},'), lines[0]);
    assert.ok(lines[2]!.includes(',"env":{"a": 1},'), lines[2]);
  });
});

Deno.test("tapeStorage: toFrame picks the frame; type 2 is server to client by default", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { durability: "buffered" });
    const messages = ["1", "skip", "3"].map((text, i) => ({
      seq: i + 1,
      timestampNs: 0n,
      typeId: 2,
      payload: encoder.encode(text),
    }));
    const seen: string[] = [];
    const engine = new Engine(iterableSource(messages), {
      storage: tapeStorage(writer, {
        toFrame: (m) => {
          seen.push(text(m));
          return text(m) === "skip" ? undefined : messageToFrame(m);
        },
      }),
    });
    const { error } = await drain(engine);
    assert.equal(error, undefined);
    assert.deepEqual(seen, ["1", "skip", "3"]);
    assert.deepEqual((await tapeFrames(writer.path)).frames, [["s2c", 1, []], ["s2c", 3, []]]);
  });
});

Deno.test("tapeStorage: a frame over the tape's limit goes to onRefused and the recording goes on", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { maxLineBytes: 200 });
    const refused: [LineTooLongError, FrameInput][] = [];
    const input = new Blob([`short\n${"x".repeat(150)}\nafter\n`]).stream();
    const engine = new Engine(linesSource(input), {
      storage: tapeStorage(writer, { onRefused: (error, frame) => refused.push([error, frame]) }),
    });
    const { error } = await drain(engine);
    assert.equal(error, undefined);
    assert.equal(refused.length, 1);
    assert.ok(refused[0]![0] instanceof LineTooLongError);
    assert.equal(refused[0]![1].env, "x".repeat(150));
    assert.equal(writer.status, "finalized");
    assert.deepEqual((await tapeFrames(writer.path)).frames, [
      ["c2s", "short", ["text"]],
      ["c2s", "after", ["text"]],
    ]);
  });
});

Deno.test("tapeStorage: without onRefused a refused frame fails the engine and the tape ends in error", async () => {
  await withDir(async (dir) => {
    const writer = await TapeWriter.create(dir, { maxLineBytes: 200 });
    const input = new Blob([`short\n${"x".repeat(150)}\nafter\n`]).stream();
    const { items, error } = await drain(
      new Engine(linesSource(input), { storage: tapeStorage(writer) }),
    );
    assert.ok(error instanceof LineTooLongError, `got ${error}`);
    assert.deepEqual(items.map(label), ["start", "data:short"]);
    assert.equal(writer.status, "error");
    assert.deepEqual((await tapeFrames(writer.path)).frames, [["c2s", "short", ["text"]]]);
  });
});

Deno.test("tapeStorage: each write waits for its append by default; a failed one fails the engine and ends the tape with fail", async () => {
  const { writer, held, calls } = heldWriter();
  const failure = new Error("no space");
  const engine = new Engine(iterableSource([1, 2, 3, 4].map((n) => message(n))), {
    storage: tapeStorage(writer),
  });
  const running = drain(engine);
  await settle();
  // One append out, and the source is not pulled past it.
  assert.equal(held.length, 1);
  assert.equal(engine.stats.produced, 1);
  held[0]!.resolve();
  await settle();
  assert.equal(held.length, 2);
  held[1]!.reject(failure);
  const { items, error } = await running;
  assert.equal(error, failure);
  assert.deepEqual(items.map(label), ["start", "data:1"]);
  assert.equal(held.length, 2);
  assert.equal(calls.finalize, 0);
  assert.deepEqual(calls.fail, [failure]);
});

Deno.test("tapeStorage: at most inFlight appends wait at once, and a failure is told at once", async () => {
  const { writer, held, calls } = heldWriter();
  const failure = new Error("no space");
  const told: unknown[] = [];
  const engine = new Engine(iterableSource([1, 2, 3, 4, 5, 6].map((n) => message(n))), {
    storage: tapeStorage(writer, { inFlight: 3, onFailure: (e) => told.push(e) }),
  });
  const running = drain(engine);
  await settle();
  assert.equal(held.length, 3);
  assert.equal(engine.stats.produced, 3);
  held[1]!.resolve();
  await settle();
  // One settled, so one more went out.
  assert.equal(held.length, 4);
  held[0]!.reject(failure);
  await Promise.resolve();
  assert.deepEqual(told, [failure]);
  let ended = false;
  running.then(() => (ended = true));
  await settle();
  // The engine has the error; its close waits for the appends still out.
  assert.equal(ended, false);
  assert.deepEqual(calls.fail, []);
  held.slice(2).forEach((h) => h.reject(failure));
  const { items, error } = await running;
  assert.equal(error, failure);
  assert.equal(items.filter((i) => i.kind === "data").length, 3);
  assert.deepEqual(calls.fail, [failure]);
  assert.equal(calls.finalize, 0);
  assert.deepEqual(told, [failure]);
});

Deno.test("tapeStorage: an append that fails after its write returned is thrown by the close", async () => {
  const { writer, held, calls } = heldWriter();
  const failure = new Error("no space");
  const engine = new Engine(iterableSource([message(1), message(2)]), {
    storage: tapeStorage(writer, { inFlight: 8 }),
  });
  const running = drain(engine);
  await settle();
  assert.equal(held.length, 2);
  held[0]!.resolve();
  held[1]!.reject(failure);
  const { items, error } = await running;
  assert.equal(error, failure);
  assert.deepEqual(items.map(label), ["start", "data:1", "data:2", "eof"]);
  assert.deepEqual(calls.fail, [failure]);
  assert.equal(calls.finalize, 0);
});

Deno.test("tapeStorage: a finalization that fails ends the iteration with its error", async () => {
  const { writer, held, calls, failFinalize } = heldWriter();
  const failure = new Error("cannot sync");
  failFinalize(failure);
  const running = drain(new Engine(iterableSource([message(1)]), { storage: tapeStorage(writer) }));
  await settle();
  held[0]!.resolve();
  const { items, error } = await running;
  assert.equal(error, failure);
  assert.deepEqual(items.map(label), ["start", "data:1", "eof"]);
  assert.equal(calls.finalize, 1);
});

Deno.test("tapeStorage: with appends in flight, fsync commits frames in groups", async () => {
  await withDir(async (dir) => {
    const lines = Array.from(
      { length: 200 },
      (_, i) => `{"jsonrpc":"2.0","method":"n","params":[${i}]}`,
    );
    const run = async (inFlight: number) => {
      const writer = await TapeWriter.create(dir, { durability: "fsync" });
      const input = new Blob([lines.join("\n") + "\n"]).stream();
      const engine = new Engine(linesSource(input), { storage: tapeStorage(writer, { inFlight }) });
      const { error } = await drain(engine);
      assert.equal(error, undefined);
      const meta = await writer.finalize();
      assert.equal(meta.stats.frame_count, 200);
      return meta.performance.syncs;
    };
    // One at a time, every frame waits for its own sync.
    assert.ok(await run(1) > 200);
    assert.ok(await run(64) < 100);
  });
});

Deno.test("tapeStorage: inFlight is checked", () => {
  const { writer } = heldWriter();
  assert.throws(() => tapeStorage(writer, { inFlight: 0 }), RangeError);
  assert.throws(() => tapeStorage(writer, { inFlight: 1.5 }), RangeError);
});

Deno.test("tapeStorage: a message starting with a byte order mark is recorded with it, as text", () => {
  const payload = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"id":1}')]);
  const frame = messageToFrame({ seq: 1, timestampNs: 0n, typeId: 1, payload });
  // With the mark, the line is not JSON: kept whole as the raw line of a text frame.
  assert.deepEqual(frame, { dir: "c2s", env: '\uFEFF{"id":1}', flags: ["text"] });
});
