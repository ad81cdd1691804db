/**
 * The stream module: one reader API over tapes and queues, location
 * detection, the bus layout, and fan-in merge (with a property test over
 * random inputs).
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueWriter } from "../src/chronicle/mod.ts";
import {
  busQueuePath,
  copyMessage,
  isCommittable,
  isSyncWaitable,
  isWaitConfigurable,
  jsonRecordLine,
  listBusStreams,
  locateStream,
  MergedStream,
  openStream,
  parseJsonRecord,
  payloadText,
  StreamLocationError,
  type StreamMessage,
  type StreamReader,
  TAPE_TYPE_C2S,
  TAPE_TYPE_S2C,
  TapeStream,
} from "../src/stream/mod.ts";
import { TapeWriter } from "../src/tape/mod.ts";
import { ROOT } from "./_helpers.ts";
import { withQueueDir } from "./fixtures/chronicle_common.ts";
import { AWKWARD_PAYLOADS } from "./fixtures/awkward_payloads.ts";
import { seededRandom } from "./_seeded_random.ts";

const FIXTURE = `${ROOT}tests/fixtures/replay_session.jsonl`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function drain(reader: StreamReader): Promise<StreamMessage[]> {
  const out: StreamMessage[] = [];
  for await (const m of reader) out.push(copyMessage(m));
  return out;
}

/** A queue in `dir` holding `payloads` stamped `ts[i]`. */
async function queueOf(dir: string, ts: bigint[], tag = "m"): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 64 * 1024 });
  ts.forEach((t, i) => w.append(i % 3, encoder.encode(`${tag}${i}`), t));
  w.close();
}

Deno.test("openStream reads a queue's records with seq, time, type and payload", async () => {
  await withQueueDir(async (dir) => {
    await queueOf(dir, [10n, 20n, 30n]);
    const stream = await openStream(dir);
    assert.equal(stream.kind, "queue");
    const got = await drain(stream);
    stream.close();
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
    assert.deepEqual(got.map((m) => m.timestampNs), [10n, 20n, 30n]);
    assert.deepEqual(got.map((m) => m.typeId), [0, 1, 2]);
    assert.deepEqual(got.map((m) => decoder.decode(m.payload)), ["m0", "m1", "m2"]);
    const last = await openStream(`${dir}/queue.meta`, { last: 2 });
    assert.deepEqual((await drain(last)).map((m) => m.seq), [2, 3]);
    last.close();
  });
});

Deno.test("openStream reads a tape's frames as messages, exact envelope text", async () => {
  const stream = await openStream(FIXTURE);
  assert.equal(stream.kind, "tape");
  const got = await drain(stream);
  stream.close();
  const frames = Deno.readTextFileSync(FIXTURE).trim().split("\n").map((l) => JSON.parse(l))
    .filter((r) => r.type === "frame");
  assert.equal(got.length, frames.length);
  const epoch = BigInt(Date.parse("2026-11-22T03:00:00.000Z")) * 1_000_000n;
  got.forEach((m, i) => {
    const f = frames[i];
    assert.equal(m.seq, f.seq);
    assert.equal(m.typeId, f.dir === "c2s" ? TAPE_TYPE_C2S : TAPE_TYPE_S2C);
    assert.equal(m.timestampNs, epoch + BigInt(Math.round(f.ts * 1e6)));
    assert.deepEqual(JSON.parse(decoder.decode(m.payload)), f.env);
  });
  const last = await openStream(FIXTURE, { last: 3 });
  assert.deepEqual((await drain(last)).map((m) => m.seq), frames.slice(-3).map((f) => f.seq));
  last.close();
});

Deno.test("a tape stream's next() hands out every frame read ahead, from open on, without a wait in between", async () => {
  const frames = Deno.readTextFileSync(FIXTURE).trim().split("\n").map((l) => JSON.parse(l))
    .filter((r) => r.type === "frame");
  const stream = await TapeStream.open(FIXTURE);
  const seqs: number[] = [];
  for (let m = stream.next(); m !== undefined; m = stream.next()) seqs.push(m.seq);
  assert.deepEqual(seqs, frames.map((f) => f.seq), "open read the whole small tape ahead");
  assert.equal(await stream.wait(), false, "nothing is left for a wait");
  stream.close();

  const again = await TapeStream.open(FIXTURE);
  assert.equal(again.next()?.seq, frames[0].seq);
  assert.equal(await again.wait(), true, "a wait with messages read ahead returns at once");
  const rest: number[] = [];
  for (let m = again.next(); m !== undefined; m = again.next()) rest.push(m.seq);
  assert.deepEqual(rest, frames.slice(1).map((f) => f.seq));
  assert.equal(again.next(), undefined);
  assert.equal(await again.wait(), false, "the end of the tape");
  again.close();

  const last = await TapeStream.open(FIXTURE, { last: 3 });
  assert.deepEqual(
    [last.next()?.seq, last.next()?.seq, last.next()?.seq],
    frames.slice(-3).map((f) => f.seq),
  );
  assert.equal(last.next(), undefined);
  assert.equal(await last.wait(), false);
  last.close();
});

Deno.test("a tape with more frames than one read-ahead is handed out whole and in order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = await TapeWriter.create(dir);
    const n = 1000;
    for (let i = 1; i <= n; i++) {
      await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: i, method: "ping" } });
    }
    await writer.finalize();
    const stream = await TapeStream.open(writer.path);
    const seqs: number[] = [];
    let waits = 0;
    for (;;) {
      const m = stream.next();
      if (m !== undefined) seqs.push(m.seq);
      else if (await stream.wait()) waits++;
      else break;
    }
    stream.close();
    assert.deepEqual(seqs, Array.from({ length: n }, (_, i) => i + 1));
    assert.ok(waits < n / 10, `${waits} waits for ${n} frames`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("commit and the wait strategy are capabilities: a named queue reader commits, tapes and merges do neither", async () => {
  await withQueueDir(async (dir) => {
    await queueOf(dir, [10n, 20n, 30n]);
    const named = await openStream(dir, { name: "audit" });
    assert.ok(isCommittable(named));
    assert.equal(named.name, "audit");
    assert.equal(named.next()?.seq, 1);
    named.commit();
    named.close();
    const resumed = await openStream(dir, { name: "audit" });
    assert.equal(resumed.next()?.seq, 2, "resumes after the committed message");
    assert.ok(isWaitConfigurable(resumed));
    assert.ok(isSyncWaitable(resumed));
    resumed.setWaitStrategy("yield");
    assert.equal(resumed.waitStrategy, "yield");
    assert.throws(() => resumed.setWaitStrategy("sleep" as "busy"), TypeError);
    resumed.close();

    const anonymous = await openStream(dir);
    assert.equal(isCommittable(anonymous), false, "an anonymous reader has nowhere to commit");
    const tape = await openStream(FIXTURE);
    assert.equal(isCommittable(tape), false);
    assert.equal(isWaitConfigurable(tape), false);
    assert.equal(isSyncWaitable(tape), false);
    assert.equal("commit" in tape || "setWaitStrategy" in tape || "waitSync" in tape, false);
    const merged = new MergedStream([anonymous, tape]);
    assert.equal(isCommittable(merged), false);
    assert.equal(isWaitConfigurable(merged), false);
    assert.equal(isSyncWaitable(merged), false);
    merged.close();
  });
});

Deno.test("a queue stream's waitSync waits on the calling thread when following, and answers at once otherwise", async () => {
  await withQueueDir(async (dir) => {
    await queueOf(dir, [10n]);
    const followed = await openStream(dir, { follow: true });
    const once = await openStream(dir);
    try {
      assert.ok(isSyncWaitable(followed) && isSyncWaitable(once));
      assert.equal(followed.waitSync(0), true);
      assert.equal(followed.next()?.seq, 1);
      assert.equal(once.next()?.seq, 1);
      // Past the frame that closed the block at the writer's close.
      assert.equal(followed.next(), undefined);
      assert.equal(once.next(), undefined);
      const started = performance.now();
      assert.equal(followed.waitSync(30), false, "nothing new yet");
      assert.ok(performance.now() - started >= 30, "not before the timeout");
      const notFollowing = performance.now();
      assert.equal(once.waitSync(10_000), false, "the end of what is there is the end");
      assert.ok(performance.now() - notFollowing < 1000, "at once");
      const w = await QueueWriter.open(dir);
      w.append(1, new Uint8Array(4), 20n);
      w.close();
      assert.equal(followed.waitSync(10_000), true);
      assert.equal(followed.next()?.seq, 2);
      assert.equal(once.waitSync(0), true, "not following, it says whether one is there");
    } finally {
      followed.close();
      once.close();
    }
  });
});

Deno.test("a followed tape hands out frames as they are recorded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = await TapeWriter.create(dir);
    await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
    const stream = await TapeStream.open(writer.path, { follow: true });
    assert.equal(await stream.wait(5000), true);
    assert.equal(stream.next()?.seq, 1);
    assert.equal(stream.next(), undefined);
    assert.equal(await stream.wait(50), false, "nothing new yet");
    await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
    assert.equal(await stream.wait(5000), true);
    const m = stream.next()!;
    assert.equal(m.seq, 2);
    assert.equal(m.typeId, TAPE_TYPE_S2C);
    await writer.finalize();
    assert.equal(await stream.wait(5000), false, "the follow ends with the recording");
    stream.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a location that is neither a tape nor a queue is a StreamLocationError naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${dir}/notes.txt`, "hello\n");
    for (
      const [location, text] of [
        [dir, "neither a queue nor a bus stream"],
        [`${dir}/notes.txt`, "neither a tape nor a queue"],
        [`${dir}/missing`, "No tape or queue"],
      ] as const
    ) {
      await assert.rejects(openStream(location), (e: unknown) => {
        assert.ok(e instanceof StreamLocationError, String(e));
        assert.ok(e.message.includes(`'${location}'`), e.message);
        assert.ok(e.message.includes(text), e.message);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bus layout puts streams under live/ and archive/, and discovery lists them", async () => {
  const root = await Deno.makeTempDir();
  try {
    assert.deepEqual(listBusStreams(root), []);
    await queueOf(busQueuePath(root, "live", "quotes"), [1n]);
    await queueOf(busQueuePath(root, "live", "trades"), [1n]);
    await queueOf(busQueuePath(root, "archive", "quotes"), [1n]);
    Deno.mkdirSync(`${root}/live/empty-dir`);
    assert.deepEqual(listBusStreams(root), [
      { name: "quotes", tier: "live", queue: `${root}/live/quotes/queue` },
      { name: "trades", tier: "live", queue: `${root}/live/trades/queue` },
      { name: "quotes", tier: "archive", queue: `${root}/archive/quotes/queue` },
    ]);
    // A bus stream directory opens as its queue.
    assert.deepEqual(await locateStream(`${root}/live/quotes`), {
      kind: "queue",
      path: `${root}/live/quotes/queue`,
    });
    assert.throws(() => busQueuePath(root, "live", "../x"), TypeError);
    assert.throws(() => busQueuePath(root, "hot" as "live", "x"), TypeError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** An in-memory source lending one reused object, like a queue does. */
function lendingSource(items: StreamMessage[], name: string): StreamReader {
  let i = 0;
  const view = { seq: 0, timestampNs: 0n, typeId: 0, payload: new Uint8Array(0) };
  return {
    location: name,
    kind: "queue",
    next() {
      const m = items[i];
      if (m === undefined) {
        view.seq = -1; // a stale borrowed view would show this
        return undefined;
      }
      i++;
      Object.assign(view, m);
      return view;
    },
    wait: () => Promise.resolve(i < items.length),
    close() {},
    [Symbol.dispose]() {},
    async *[Symbol.asyncIterator]() {},
  };
}

Deno.test("merge order: timestamp, then source order, then each source's own order (200 random cases)", async () => {
  for (let run = 0; run < 200; run++) {
    const random = seededRandom(run + 1);
    const k = 1 + Math.floor(random() * 5);
    const inputs: StreamMessage[][] = [];
    for (let s = 0; s < k; s++) {
      const n = Math.floor(random() * 30);
      let t = BigInt(Math.floor(random() * 5));
      const items: StreamMessage[] = [];
      for (let j = 0; j < n; j++) {
        // Small steps, often zero: many ties within and across sources.
        t += BigInt(Math.floor(random() * 3));
        items.push({ seq: j + 1, timestampNs: t, typeId: s, payload: encoder.encode(`${s}:${j}`) });
      }
      inputs.push(items);
    }
    const owned = run % 2 === 0;
    const merged = new MergedStream(inputs.map((items, s) => lendingSource(items, `s${s}`)), {
      owned,
    });
    const out: string[] = [];
    for await (const m of merged) out.push(`${m.timestampNs}|${decoder.decode(m.payload)}`);
    // The expected order: a stable sort of all inputs by timestamp, sources in order.
    const expected = inputs.flat().map((m, order) => ({ m, order }))
      .sort((a, b) =>
        a.m.timestampNs < b.m.timestampNs
          ? -1
          : a.m.timestampNs > b.m.timestampNs
          ? 1
          : a.order - b.order
      )
      .map(({ m }) => `${m.timestampNs}|${decoder.decode(m.payload)}`);
    assert.deepEqual(out, expected, `run ${run}, ${k} sources, owned ${owned}`);
  }
});

Deno.test("a zero-copy merge over queues lends each view until the next call; an owned one keeps them", async () => {
  await withQueueDir(async (base) => {
    const a = `${base}-a`;
    const b = `${base}-b`;
    await queueOf(a, [1n, 3n, 5n, 7n], "a");
    await queueOf(b, [2n, 3n, 4n, 9n], "b");
    try {
      const open = async () => [await openStream(a), await openStream(b)];
      const zero = new MergedStream(await open());
      const seen: string[] = [];
      for await (const m of zero) seen.push(`${m.timestampNs}${decoder.decode(m.payload)}`);
      zero.close();
      assert.deepEqual(seen, ["1a0", "2b0", "3a1", "3b1", "4b2", "5a2", "7a3", "9b3"]);

      const owned = new MergedStream(await open(), { owned: true });
      const kept: StreamMessage[] = [];
      for (let m = owned.next();; m = owned.next()) {
        if (m !== undefined) kept.push(m);
        else if (!await owned.wait()) break;
      }
      owned.close();
      assert.deepEqual(kept.map((m) => decoder.decode(m.payload)), [
        "a0",
        "b0",
        "a1",
        "b1",
        "b2",
        "a2",
        "a3",
        "b3",
      ]);
    } finally {
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    }
  });
});

Deno.test("a merge of a tape and a queue reads both to their ends", async () => {
  await withQueueDir(async (dir) => {
    const epoch = BigInt(Date.parse("2026-11-22T03:00:00.000Z")) * 1_000_000n;
    // Between the tape's first frame (10 ms) and the rest.
    await queueOf(dir, [epoch + 10_500_000n, epoch + 10_000_000_000n], "q");
    const merged = new MergedStream([await openStream(FIXTURE), await openStream(dir)], {
      owned: true,
    });
    const got = await drain(merged);
    merged.close();
    const tapeFrames = Deno.readTextFileSync(FIXTURE).split("\n").filter((l) =>
      l.includes('"type":"frame"')
    ).length;
    assert.equal(got.length, tapeFrames + 2);
    assert.equal(decoder.decode(got[1]!.payload), "q0");
    assert.equal(decoder.decode(got.at(-1)!.payload), "q1");
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1]!.timestampNs <= got[i]!.timestampNs);
  });
});

Deno.test("a JSON record line gives back every payload byte for byte, a leading BOM included", () => {
  for (const [i, payload] of AWKWARD_PAYLOADS.entries()) {
    const line = jsonRecordLine({ seq: i + 1, timestampNs: 5n, typeId: 3, payload });
    const back = parseJsonRecord(line);
    assert.deepEqual(back.payload, payload, `payload ${i}`);
    assert.equal(back.seq, i + 1);
  }
  const bom = payloadText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]));
  assert.deepEqual(bom, { encoding: "utf8", text: "\uFEFFA" });
  assert.equal(payloadText(new Uint8Array([0xef, 0xbb, 0xbf, 0xff])).encoding, "base64");
  assert.equal(payloadText(new Uint8Array([0x61, 0x00])).text, "a\0");
});

Deno.test("a followed tape's new frames carry the envelope exactly as recorded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = await TapeWriter.create(dir);
    const stream = await TapeStream.open(writer.path, { follow: true });
    assert.equal(await stream.wait(50), false, "nothing yet");
    const envJson = '{"jsonrpc":"2.0","id":12345678901234567891,"result":{"x":1.0,"y":1e2}}';
    await writer.append({ dir: "s2c", env: JSON.parse(envJson), envJson });
    assert.equal(await stream.wait(5000), true);
    assert.equal(decoder.decode(stream.next()!.payload), envJson);
    await writer.finalize();
    assert.equal(await stream.wait(5000), false);
    stream.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a tape stream closed while a wait is reading resolves that wait false and hands out nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = await TapeWriter.create(dir, { durability: "buffered" });
    for (let i = 1; i <= 2000; i++) {
      await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: i, method: "ping" } });
    }
    await writer.finalize();
    for (const follow of [false, true]) {
      const stream = await TapeStream.open(writer.path, { follow });
      if (!follow) assert.ok(stream.next() !== undefined, "open read ahead");
      // Everything read ahead is taken, so the next wait reads the file.
      while (stream.next() !== undefined) continue;
      const waiting = stream.wait();
      stream.close();
      assert.equal(await waiting, false, `follow ${follow}`);
      assert.equal(stream.next(), undefined, `follow ${follow}`);
      assert.equal(await stream.wait(), false, `follow ${follow}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
