/**
 * Multi-process tests of the chronicle with real child processes: one
 * writer and several readers following it, and a writer SIGKILLed again and
 * again (and a reader once) while a named reader follows: no record lost,
 * torn, duplicated or rewritten, and the reader resumes right after its
 * last commit.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { waitFor } from "./_helpers.ts";
import {
  collect,
  Lines,
  payloadFor,
  payloadProblem,
  RunningHash,
  sleep,
  spawnFixture,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";
import { seededRandom } from "./_seeded_random.ts";

const SEGMENT_BYTES = 64 * 1024;
const END_TYPE = 65535;

async function createQueue(dir: string): Promise<void> {
  (await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES })).close();
}

Deno.test("three reader processes follow a writer process, byte for byte", async () => {
  await withQueueDir(async (dir) => {
    const count = 20_000;
    await createQueue(dir);
    const strategies = ["futex", "backoff", "futex"];
    const readers = strategies.map((s) =>
      spawnFixture("chronicle_reader_child.ts", ["follow", dir, s, String(count)])
    );
    const readerLines = readers.map((r) => new Lines(r.stdout));
    const readerErrors = readers.map((r) => collect(r.stderr));
    // Every reader is open and waiting before the writer starts.
    for (const lines of readerLines) assert.equal(await lines.next(), "ready");
    const writer = spawnFixture("chronicle_writer_child.ts", ["stream", dir, String(count)]);
    const [writerOut, writerErr] = await Promise.all([
      new Lines(writer.stdout).rest(),
      collect(writer.stderr),
    ]);
    const writerStatus = await writer.status;
    assert.equal(writerStatus.code, 0, writerErr);
    assert.deepEqual(writerOut, [`last ${count}`]);
    const expected = new RunningHash();
    for (let seq = 1; seq <= count; seq++) {
      expected.addRecord(seq, seq & 0xffff, BigInt(seq) * 1000n + 7n, payloadFor(seq));
    }
    for (let i = 0; i < readers.length; i++) {
      const out = await readerLines[i]!.rest();
      const status = await readers[i]!.status;
      assert.equal(status.code, 0, `${strategies[i]} reader: ${await readerErrors[i]}`);
      assert.deepEqual(out, ["ready", `done ${count} ${expected.value}`], strategies[i]);
    }
  });
});

/** A reader child and everything it printed so far. */
class ReaderRun {
  readonly process: Deno.ChildProcess;
  readonly lines: Lines;
  readonly stderr: Promise<string>;
  readonly finished: Promise<void>;

  constructor(dir: string) {
    this.process = spawnFixture("chronicle_reader_child.ts", [
      "named",
      dir,
      "futex",
      "follower",
      "200",
    ]);
    this.lines = new Lines(this.process.stdout);
    this.stderr = collect(this.process.stderr);
    this.finished = this.lines.rest().then(() => {});
  }

  line(prefix: string): string | undefined {
    return this.lines.seen.find((l) => l.startsWith(prefix));
  }

  lastLine(prefix: string): string | undefined {
    return this.lines.seen.findLast((l) => l.startsWith(prefix));
  }
}

function committedOnDisk(dir: string): number {
  const bytes = Deno.readFileSync(`${dir}/readers/follower.offset`);
  return Number(new DataView(bytes.buffer).getBigUint64(16, true));
}

Deno.test("a writer SIGKILLed 15 times and a reader once: every record once, whole, in order", async () => {
  await withQueueDir(async (dir) => {
    const seed = Date.now() >>> 0;
    const next = seededRandom(seed);
    const context = `seed ${seed}`;
    await createQueue(dir);
    let reader = new ReaderRun(dir);
    const firstReader = reader;
    await waitFor("the reader to start", () => reader.line("start "));
    assert.equal(reader.line("start "), "start 1");

    const KILLS = 15;
    const opens: (number | undefined)[] = [];
    let readerKill: { committed: number; lastPrinted: number } | undefined;
    for (let run = 1; run <= KILLS; run++) {
      const writer = spawnFixture("chronicle_writer_child.ts", ["crash", dir, String(run)]);
      const lines = new Lines(writer.stdout);
      const stderr = collect(writer.stderr);
      const delay = 20 + Math.floor(next() * 180);
      if (run % 4 === 2) {
        // From the spawn: may land in start-up or in the writer's recovery.
        await sleep(delay);
      } else {
        const open = await lines.until("open ").catch(async (e) => {
          throw new Error(`${context}, run ${run}: ${e.message}: ${await stderr}`);
        });
        assert.ok(open.startsWith("open "));
        await sleep(delay);
      }
      writer.kill("SIGKILL");
      const status = await writer.status;
      const out = await lines.rest();
      assert.equal(status.signal, "SIGKILL", `${context}, run ${run}: ${await stderr}`);
      const open = out.find((l) => l.startsWith("open "));
      opens[run] = open === undefined ? undefined : Number(open.slice(5));

      if (run === 8) {
        // Kill the reader mid-way; it restarts from its committed position.
        await waitFor("the reader to commit", () => reader.line("commit "));
        reader.process.kill("SIGKILL");
        assert.equal((await reader.process.status).signal, "SIGKILL");
        await reader.finished;
        const lastPrinted = Number(reader.lastLine("commit ")!.split(" ")[1]);
        const committed = committedOnDisk(dir);
        assert.ok(committed >= lastPrinted, `${context}: committed ${committed} < ${lastPrinted}`);
        readerKill = { committed, lastPrinted };
        reader = new ReaderRun(dir);
        await waitFor("the restarted reader to start", () => reader.line("start "));
        assert.equal(reader.line("start "), `start ${committed + 1}`, context);
      }
    }

    // A last writer appends a known tail and closes.
    const tail = spawnFixture("chronicle_writer_child.ts", ["tail", dir, "500", String(KILLS + 1)]);
    const [tailOut, tailErr] = await Promise.all([
      new Lines(tail.stdout).rest(),
      collect(tail.stderr),
    ]);
    assert.equal((await tail.status).code, 0, tailErr);
    const tailOpen = Number(tailOut.find((l) => l.startsWith("open "))!.slice(5));
    opens[KILLS + 1] = tailOpen;
    const last = Number(tailOut.find((l) => l.startsWith("last "))!.slice(5));
    assert.equal(last, tailOpen + 501);

    // The reader reaches the end marker on its own.
    await reader.finished;
    const readerStatus = await reader.process.status;
    assert.equal(readerStatus.code, 0, `${context}: ${await reader.stderr}`);

    // The queue as it stands: seqs 1..last, each payload whole, runs in order.
    const types: number[] = [];
    const stamps: bigint[] = [];
    const r = await QueueReader.open(dir);
    for (let m = r.next(); m !== undefined; m = r.next()) {
      assert.equal(m.seq, types.length + 1, context);
      assert.equal(payloadProblem(m.seq, m.payload), undefined, context);
      types.push(m.typeId);
      stamps.push(m.timestampNs);
    }
    r.close();
    assert.equal(types.length, last, context);
    assert.ok(last > 1000, `${context}: the writers got to write (${last} records)`);
    assert.equal(types.at(-1), END_TYPE);
    // Each writer found exactly where the one before was killed: the records of
    // run k are the seqs after its `open`, and nothing it published was lost or
    // written over by a later run.
    for (let seq = 2; seq < last; seq++) {
      assert.ok(types[seq - 1]! >= types[seq - 2]!, `${context}: seq ${seq} out of run order`);
    }
    for (let run = 1; run <= KILLS + 1; run++) {
      const open = opens[run];
      if (open === undefined) continue;
      const before = types.filter((t) => t < run).length;
      assert.equal(open, before, `${context}: run ${run} opened at ${open}`);
    }

    const hashOf = (from: number, to: number) => {
      const h = new RunningHash();
      for (let seq = from; seq <= to; seq++) {
        h.addRecord(seq, types[seq - 1]!, stamps[seq - 1]!, payloadFor(seq));
      }
      return h.value;
    };
    // What the first reader saw, up to its last printed commit, is what is in the queue.
    assert.ok(readerKill !== undefined);
    const printed = firstReader.lastLine("commit ")!.split(" ");
    assert.equal(firstReader.line("first "), "first 1");
    assert.equal(Number(printed[2]), hashOf(1, Number(printed[1])), context);
    // The restarted reader began exactly after the commit and saw the rest, to the end.
    const first = readerKill.committed + 1;
    assert.equal(reader.line("first "), `first ${first}`, context);
    assert.equal(reader.lastLine("done "), `done ${last} ${hashOf(first, last)}`, context);
  });
});
