/**
 * The sealed pipeline end to end: SealedWriter (segmenter, cipher pool,
 * ordered writer, sink) into a file or SQLite store, and SealedStream (walk,
 * cipher pool, ordered output) back out, including resumes after an abort
 * and after SIGKILL, a cipher worker that dies, following, wrong keys,
 * tampering and `last`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateIdentity, parseIdentity, parseRecipient } from "../src/sealed/age_keys.ts";
import { CipherPool, CipherWorkerError } from "../src/sealed/cipher_pool.ts";
import { crc32c } from "../src/sealed/crc32c.ts";
import { SealedDamageError, SealedKeyError } from "../src/sealed/sealed_errors.ts";
import { SEGMENT_HEADER_BYTES, SEGMENT_HEADER_SIGNED_BYTES } from "../src/sealed/sealed_format.ts";
import { openSealedSource } from "../src/sealed/sealed_sink.ts";
import { SealedStream, type SealedStreamOptions } from "../src/sealed/sealed_stream.ts";
import { SealedWriter, type SealedWriterOptions } from "../src/sealed/sealed_writer.ts";
import type { SealedLocation } from "../src/sealed/store_location.ts";
import type { WalkedUnit } from "../src/sealed/store_scan.ts";
import { ROOT } from "./_helpers.ts";

const encoder = new TextEncoder();
const keys = await generateIdentity();
const recipient = parseRecipient(keys.recipient, "test");
const identity = parseIdentity(keys.identity, "test");

// Each record's payload is a function of its seq, so a wrong plaintext shows.
function payloadOf(seq: number): Uint8Array {
  return encoder.encode(`r${seq}`.repeat(seq % 7 + 1));
}

function record(seq: number, payload = payloadOf(seq)) {
  return { seq, timestampNs: BigInt(seq) * 1000n, typeId: seq % 3, payload };
}

function writerOptions(extra: Partial<SealedWriterOptions> = {}): SealedWriterOptions {
  return { recipients: [recipient], stream: "test", producer: "sealed_pipeline_test", ...extra };
}

function readerOptions(extra: Partial<SealedStreamOptions> = {}): SealedStreamOptions {
  return { identities: [identity], identitySource: "test identity", ...extra };
}

async function withStores(
  run: (store: SealedLocation, kind: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await run({ kind: "file", dir: `${dir}/store` }, "file");
    await run({ kind: "sqlite", file: `${dir}/store.db`, stream: "quotes" }, "sqlite");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function withFileStore(run: (store: SealedLocation, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await run({ kind: "file", dir: `${dir}/store` }, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function write(
  store: SealedLocation,
  from: number,
  to: number,
  options: Partial<SealedWriterOptions> = {},
): Promise<SealedWriter> {
  const w = await SealedWriter.open(store, writerOptions({ workers: 0, ...options }));
  for (let seq = from; seq <= to; seq++) {
    w.append(record(seq));
    if (seq % 16 === 0) await w.ready();
  }
  await w.close();
  return w;
}

interface Read {
  seqs: number[];
  error: Error | undefined;
}

// Reads the whole store, checking every record against its seq.
async function read(
  store: SealedLocation,
  options: Partial<SealedStreamOptions> = {},
): Promise<Read> {
  const stream = await SealedStream.open(store, readerOptions({ workers: 0, ...options }));
  const seqs: number[] = [];
  let error: Error | undefined;
  try {
    for await (const m of stream) {
      assert.deepEqual(m.payload, payloadOf(m.seq), `payload of seq ${m.seq}`);
      assert.equal(m.timestampNs, BigInt(m.seq) * 1000n);
      assert.equal(m.typeId, m.seq % 3);
      seqs.push(m.seq);
    }
  } catch (e) {
    error = e as Error;
  }
  // The error is thrown once: after it the stream has ended.
  assert.equal(await stream.wait(0), false);
  stream.close();
  return { seqs, error };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

async function units(store: SealedLocation): Promise<WalkedUnit[]> {
  const source = await openSealedSource(store);
  const out: WalkedUnit[] = [];
  try {
    for (let u = source.walker.next(); u !== undefined; u = source.walker.next()) out.push(u);
  } finally {
    source.close();
  }
  return out;
}

function segments(walked: WalkedUnit[]) {
  return walked.flatMap((u) => u.kind === "segment" ? [u] : []);
}

Deno.test("a cipher pool fails every job in flight, and every job after, when a worker is terminated", async () => {
  const pool = new CipherPool(2);
  const key = new Uint8Array(32).fill(1), hash = new Uint8Array(32).fill(2);
  const fields = { final: false, index: 0, frameCount: 1, dataFrames: 1, firstSeq: 1, lastSeq: 1 };
  // A job the worker throws on fails alone.
  await assert.rejects(pool.seal(key, hash, fields, new Uint8Array((64 << 20) + 1)), RangeError);
  const unit = await pool.seal(key, hash, fields, new Uint8Array([1, 2, 3]));
  assert.deepEqual(await pool.open(key, hash, unit), new Uint8Array([1, 2, 3]));
  const inFlight = Array.from(
    { length: 8 },
    () => pool.seal(key, hash, fields, new Uint8Array(1 << 16)),
  );
  assert.equal(pool.inFlight, 8);
  pool.terminateWorker(1);
  const failure = {
    name: "CipherWorkerError",
    message: "Cipher worker 1 stopped: it was terminated",
  };
  for (const job of inFlight) await assert.rejects(job, failure);
  await assert.rejects(pool.seal(key, hash, fields, new Uint8Array(1)), failure);
  assert.equal(pool.signal.aborted, true);
  assert.equal(pool.inFlight, 0);
  assert.throws(() => pool.terminateWorker(2), RangeError);
  pool.close();
});

Deno.test("records round-trip through every sink with 0, 1 and 2 workers", async () => {
  await withStores(async (base, kind) => {
    for (const workers of [0, 1, 2]) {
      const store: SealedLocation = base.kind === "file"
        ? { kind: "file", dir: `${base.dir}${workers}` }
        : { ...base, stream: `quotes${workers}` };
      const w = await write(store, 1, 600, { workers, segmentBytes: 2048, flushMs: 0 });
      assert.equal(w.committedSeq, 600);
      const walked = await units(store);
      assert.ok(segments(walked).length > 10, `${kind}: many segments`);
      assert.equal(segments(walked).at(-1)?.header.final, true);
      const got = await read(store, { workers });
      assert.equal(got.error, undefined, `${kind} with ${workers} workers`);
      assert.deepEqual(got.seqs, range(1, 600), `${kind} with ${workers} workers`);
    }
  });
});

Deno.test("a writer closed with no records leaves one run with an empty final segment", async () => {
  await withStores(async (store) => {
    const w = await SealedWriter.open(store, writerOptions({ workers: 1 }));
    assert.equal(w.lastSeq, 0);
    await w.close();
    const walked = await units(store);
    assert.deepEqual(walked.map((u) => u.kind), ["run", "segment"]);
    const [segment] = segments(walked);
    assert.equal(segment?.header.final, true);
    assert.equal(segment?.header.plaintextLength, 0);
    assert.deepEqual(await read(store, { workers: 1 }), { seqs: [], error: undefined });
  });
});

Deno.test("a record larger than the segment size makes a segment of its own", async () => {
  await withStores(async (store) => {
    const big = (seq: number) => new Uint8Array(5000).fill(seq);
    const w = await SealedWriter.open(store, writerOptions({ workers: 2, segmentBytes: 1024 }));
    for (let seq = 1; seq <= 30; seq++) w.append(record(seq, seq % 3 === 0 ? big(seq) : undefined));
    await w.close();
    const sizes = segments(await units(store)).map((s) => s.header.plaintextLength);
    assert.ok(sizes.every((n) => n <= 1024 || n === 24 + 5000), `sizes ${sizes}`);
    assert.equal(sizes.filter((n) => n === 24 + 5000).length, 10);
    const stream = await SealedStream.open(store, readerOptions({ workers: 2 }));
    const seqs: number[] = [];
    for await (const m of stream) {
      assert.deepEqual(m.payload, m.seq % 3 === 0 ? big(m.seq) : payloadOf(m.seq));
      seqs.push(m.seq);
    }
    stream.close();
    assert.deepEqual(seqs, range(1, 30));
  });
});

Deno.test("flushMs cuts a segment for a record that waits, so each commits on its own", async () => {
  await withStores(async (store) => {
    const w = await SealedWriter.open(store, writerOptions({ workers: 1, flushMs: 2 }));
    for (let seq = 1; seq <= 20; seq++) {
      w.append(record(seq));
      // Nothing cuts the segment but the timer.
      while (w.committedSeq < seq) await new Promise((r) => setTimeout(r, 1));
    }
    await w.close();
    const counts = segments(await units(store)).map((s) => s.header.dataFrames);
    assert.deepEqual(counts, [...range(1, 20).map(() => 1), 0]);
    assert.deepEqual((await read(store)).seqs, range(1, 20));
  });
});

Deno.test("a writer resumes after an abort in a new run, and never reuses a seq", async () => {
  await withStores(async (store) => {
    const first = await SealedWriter.open(store, writerOptions({ workers: 1, segmentBytes: 512 }));
    for (let seq = 1; seq <= 100; seq++) first.append(record(seq));
    await first.flush();
    for (let seq = 101; seq <= 110; seq++) first.append(record(seq)); // never committed
    await first.abort();
    assert.equal(first.committedSeq, 100);

    const second = await SealedWriter.open(store, writerOptions({ workers: 0 }));
    assert.equal(second.run, 1);
    assert.equal(second.lastSeq, 100);
    assert.throws(() => second.append(record(100)), {
      name: "RangeError",
      message: "Record seq '100' does not follow seq '100'",
    });
    for (let seq = 101; seq <= 150; seq++) second.append(record(seq));
    await second.close();

    const walked = await units(store);
    const runs = walked.flatMap((u) => u.kind === "run" ? [u.header] : []);
    assert.deepEqual(runs.map((h) => [h.run, h.prevCut]), [[0, false], [1, true]]);
    assert.deepEqual(await read(store), { seqs: range(1, 150), error: undefined });
  });
});

Deno.test("a writer killed with SIGKILL is resumed, and the store holds every seq once", async () => {
  await withFileStore(async (store, dir) => {
    const script = `${dir}/writer.ts`;
    await Deno.writeTextFile(
      script,
      `import { SealedWriter } from "${ROOT}src/sealed/sealed_writer.ts";
import { parseRecipient } from "${ROOT}src/sealed/age_keys.ts";
const [storeDir, recipient] = Deno.args;
const w = await SealedWriter.open({ kind: "file", dir: storeDir }, {
  recipients: [parseRecipient(recipient, "argument")], stream: "test", producer: "child",
  workers: 1, segmentBytes: 300, flushMs: 0,
});
for (let seq = w.lastSeq + 1; ; seq++) {
  const payload = new TextEncoder().encode(("r" + seq).repeat(seq % 7 + 1));
  w.append({ seq, timestampNs: BigInt(seq) * 1000n, typeId: seq % 3, payload });
  await w.ready();
  if (seq % 25 === 0) {
    await w.flush();
    console.log(w.committedSeq);
  }
}
`,
    );
    let resumedAt = 0;
    for (let kill = 0; kill < 2; kill++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `--config=${ROOT}deno.json`,
          script,
          (store as { dir: string }).dir,
          keys.recipient,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      let committed = 0;
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (committed < resumedAt + 100) {
        const { value, done } = await lines.read();
        assert.equal(done, false, "the child stopped early");
        text += value;
        const numbers = text.split("\n").filter((l) => l !== "").map(Number);
        committed = numbers.at(-1) ?? 0;
      }
      child.kill("SIGKILL");
      await lines.cancel();
      assert.equal((await child.status).signal, "SIGKILL");

      const w = await SealedWriter.open(store, writerOptions({ workers: 0 }));
      assert.ok(w.lastSeq >= committed, `resumes at ${w.lastSeq}, after ${committed} committed`);
      assert.equal(w.run, 2 * kill + 1);
      resumedAt = w.lastSeq + 10;
      for (let seq = w.lastSeq + 1; seq <= resumedAt; seq++) w.append(record(seq));
      await w.close();
    }
    assert.deepEqual(await read(store, { workers: 2 }), {
      seqs: range(1, resumedAt),
      error: undefined,
    });
  });
});

Deno.test("a cipher worker terminated mid-run fails the writer once, and what was committed reads", async () => {
  await withStores(async (store) => {
    const pool = new CipherPool(1);
    const w = await SealedWriter.open(store, writerOptions({ pool, segmentBytes: 256 }));
    for (let seq = 1; seq <= 50; seq++) w.append(record(seq));
    await w.flush();
    for (let seq = 51; seq <= 200; seq++) w.append(record(seq)); // several segments in flight
    pool.terminateWorker(0);
    const failure = {
      name: "CipherWorkerError",
      message: "Cipher worker 0 stopped: it was terminated",
    };
    await assert.rejects(w.flush(), failure);
    assert.throws(() => w.append(record(201)), CipherWorkerError);
    await w.close(); // the error was thrown already
    pool.close();
    const committed = w.committedSeq;
    assert.ok(committed >= 50 && committed < 200, `committed ${committed}`);

    // No writer holds the store: the run without its final segment is damage, after every record.
    const got = await read(store);
    assert.deepEqual(got.seqs, range(1, committed));
    assert.ok(got.error instanceof SealedDamageError);
    assert.equal(got.error.reason, "unfinished");
    assert.equal(got.error.seq, committed);

    await write(store, committed + 1, committed + 5);
    assert.deepEqual(await read(store), { seqs: range(1, committed + 5), error: undefined });
  });
});

Deno.test("a run in progress reads cleanly while its writer holds the store", async () => {
  await withStores(async (store) => {
    const w = await SealedWriter.open(store, writerOptions({ workers: 1, segmentBytes: 256 }));
    for (let seq = 1; seq <= 40; seq++) w.append(record(seq));
    await w.flush();
    assert.deepEqual(await read(store, { workers: 1 }), { seqs: range(1, 40), error: undefined });
    await w.abort();
    const after = await read(store, { workers: 1 });
    assert.deepEqual(after.seqs, range(1, 40));
    assert.equal((after.error as SealedDamageError).reason, "unfinished");
  });
});

Deno.test("a following stream sees segments committed after it opened", async () => {
  await withStores(async (store) => {
    const w = await SealedWriter.open(store, writerOptions({ workers: 1, segmentBytes: 256 }));
    for (let seq = 1; seq <= 10; seq++) w.append(record(seq));
    await w.flush();
    const stop = new AbortController();
    const stream = await SealedStream.open(
      store,
      readerOptions({ workers: 1, follow: true, signal: stop.signal }),
    );
    const seqs: number[] = [];
    for await (const m of stream) {
      assert.deepEqual(m.payload, payloadOf(m.seq));
      seqs.push(m.seq);
      if (m.seq === 10) {
        for (let seq = 11; seq <= 30; seq++) w.append(record(seq));
        await w.flush();
      }
      if (m.seq === 30) {
        await w.close();
        await write(store, 31, 35); // a later writer's run, followed too
      }
      if (m.seq === 35) stop.abort();
    }
    stream.close();
    assert.deepEqual(seqs, range(1, 35));
  });
});

Deno.test("a store no identity opens fails with SealedKeyError naming the identity source", async () => {
  await withStores(async (store) => {
    await write(store, 1, 10);
    const other = parseIdentity((await generateIdentity()).identity, "other");
    const got = await read(store, { identities: [other], identitySource: "other.txt" });
    assert.deepEqual(got.seqs, []);
    assert.ok(got.error instanceof SealedKeyError);
    assert.match(
      got.error.message,
      /^No identity in 'other\.txt' opens run 0 of '.+' \(its header at offset 0, after seq 0\)$/,
    );
  });
});

// Flips a byte of the wire of segment `index` of the only run, then fixes its
// CRC, so only the AEAD tag can tell.
async function tamper(store: SealedLocation, index: number, fixCrc: boolean) {
  const { dir } = store as { dir: string };
  const segment = segments(await units(store))[index]!;
  const path = `${dir}/stream.sealed`;
  const bytes = await Deno.readFile(path);
  const unit = bytes.subarray(segment.offset, segment.offset + segment.unit.length);
  unit[SEGMENT_HEADER_BYTES + 3]! ^= 0x40;
  if (fixCrc) {
    const crc = crc32c(
      unit.subarray(0, SEGMENT_HEADER_SIGNED_BYTES),
      unit.subarray(SEGMENT_HEADER_BYTES),
    );
    new DataView(unit.buffer, unit.byteOffset).setUint32(SEGMENT_HEADER_SIGNED_BYTES, crc, true);
  }
  await Deno.writeFile(path, bytes);
  return segment;
}

Deno.test("a tampered segment: every record before it, none from it, then an authentication error", async () => {
  await withFileStore(async (store) => {
    await write(store, 1, 300, { segmentBytes: 512 });
    const victim = await tamper(store, 5, true);
    for (const workers of [0, 2]) {
      const got = await read(store, { workers });
      assert.deepEqual(got.seqs, range(1, victim.header.firstSeq - 1));
      assert.ok(got.error instanceof SealedDamageError);
      assert.equal(got.error.reason, "authentication");
      assert.equal(got.error.offset, victim.offset);
      assert.equal(got.error.seq, victim.header.firstSeq - 1);
      assert.match(got.error.message, /segment 5 of run 0 does not authenticate$/);
    }
  });
});

Deno.test("a segment failing its checksum before the end is damage, not a torn tail", async () => {
  await withFileStore(async (store) => {
    await write(store, 1, 300, { segmentBytes: 512 });
    const victim = await tamper(store, 3, false);
    const got = await read(store);
    assert.deepEqual(got.seqs, range(1, victim.header.firstSeq - 1));
    assert.equal((got.error as SealedDamageError).reason, "checksum");
  });
});

Deno.test("last reads only the last records, without opening the segments before them", async () => {
  await withStores(async (store) => {
    await write(store, 1, 300, { segmentBytes: 512 });
    assert.deepEqual((await read(store, { last: 5 })).seqs, range(296, 300));
    assert.deepEqual((await read(store, { last: 0, workers: 1 })).seqs, []);
    assert.deepEqual((await read(store, { last: 1000 })).seqs, range(1, 300));
    if (store.kind === "file") {
      // A segment passed over is never opened, so its tampering goes unseen.
      await tamper(store, 1, true);
      assert.deepEqual(await read(store, { last: 50, workers: 2 }), {
        seqs: range(251, 300),
        error: undefined,
      });
    }
  });
});
