/**
 * Cross-checks the sealed format: a minimal opener written from docs/sealed-format.md alone
 * (tests/_minimal_opener.ts) opens the spec's test vectors, and stores that spool's real writer
 * makes, to the records appended and to what spool's real reader gives; and it refuses a changed
 * byte.
 */

import assert from "node:assert/strict";
import { createCipheriv, createHash, createHmac } from "node:crypto";
import { bech32 } from "bech32";
import { crc32 } from "hash-wasm";
import {
  generateIdentity,
  parseIdentity,
  parseRecipient,
  SealedDamageError,
  SealedStream,
  SealedWriter,
} from "../src/sealed/mod.ts";
import { type OpenedRecord, type OpenedStore, openSealedFile } from "./_minimal_opener.ts";
import { seededRandom } from "./_seeded_random.ts";

const SPEC = new URL("../docs/sealed-format.md", import.meta.url);
const text = new TextEncoder();

/** The `name = hex` values of the spec's test vector block, continuation lines joined. */
async function specVectors(): Promise<Map<string, string>> {
  const doc = await Deno.readTextFile(SPEC);
  const block = doc.split("## Test vectors")[1]?.split("```text\n")[1]?.split("```")[0];
  assert.ok(block, "the spec has a test vector block");
  const values = new Map<string, string>();
  let name = "";
  for (const line of block.split("\n")) {
    const named = line.match(/^(\w+)\s*=\s*(\S+)$/);
    if (named) values.set(name = named[1]!, named[2]!);
    else if (line.trim()) values.set(name, values.get(name)! + line.trim());
  }
  return values;
}

const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

function vector(values: Map<string, string>, name: string): string {
  const value = values.get(name);
  assert.ok(value, `the spec gives '${name}'`);
  return value;
}

/** The offsets and sizes of a store's units, from the clear header fields. */
function units(bytes: Uint8Array): { at: number; size: number; segment: boolean }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let at = 0; at < bytes.length;) {
    const segment = bytes[at] === 0x53;
    const size = segment ? 56 + view.getUint32(at + 16, true) : view.getUint32(at + 12, true);
    out.push({ at, size, segment });
    at += size;
  }
  return out;
}

/** A copy of `bytes` with one byte changed, and the segment CRC at `crcAt` made right again. */
async function withByteFlipped(bytes: Uint8Array, at: number, crcAt?: number) {
  const copy = bytes.slice();
  copy[at]! ^= 0x40;
  if (crcAt !== undefined) {
    const wireLen = new DataView(copy.buffer).getUint32(crcAt + 16, true);
    const covered = new Uint8Array([
      ...copy.subarray(crcAt, crcAt + 52),
      ...copy.subarray(crcAt + 56, crcAt + 56 + wireLen),
    ]);
    const crc = parseInt(await crc32(covered, 0x82f63b78), 16);
    new DataView(copy.buffer).setUint32(crcAt + 52, crc, true);
  }
  return copy;
}

Deno.test("the spec's test vectors open with the minimal opener to the records it names", async () => {
  const v = await specVectors();
  const identity = vector(v, "identity");
  const decoded = bech32.decode(identity.toLowerCase(), 1023);
  assert.equal(decoded.prefix, "age-secret-key-");
  assert.deepEqual(bech32.fromWords(decoded.words), [...fromHex(vector(v, "identity_secret"))]);
  const recipient = bech32.decode(vector(v, "recipient"), 1023);
  assert.deepEqual(bech32.fromWords(recipient.words), [...fromHex(vector(v, "recipient_key"))]);

  const header = fromHex(vector(v, "run_header"));
  const segment = fromHex(vector(v, "segment"));
  const store = new Uint8Array([...header, ...segment]);
  assert.equal(store.length, 408);
  const expected: OpenedStore = {
    records: [
      { seq: 1, timestampNs: 1700000000000000000n, typeId: 7, payload: text.encode("hello") },
      { seq: 2, timestampNs: 1700000000000001000n, typeId: 7, payload: text.encode("world") },
    ],
    metadata: [{ source: "test" }],
    runs: 1,
    end: "clean",
  };
  assert.deepEqual(await openSealedFile(store, [fromHex(vector(v, "identity_secret"))]), expected);
  const identityFile = `# created: by hand\n# public key: ${
    vector(v, "recipient")
  }\n\n  ${identity}  \n`;
  assert.deepEqual(await openSealedFile(store, identityFile), expected);
  assert.deepEqual(await openSealedFile(store, identity.toLowerCase()), expected);

  // The parts of the vector store are the vectors: the stanza sits in the header, the wire is
  // as long as the plaintext and its tag.
  assert.ok(vector(v, "run_header").includes(vector(v, "stanza")));
  assert.equal(segment.length, 56 + fromHex(vector(v, "plaintext")).length + 16);
  // The header alone is a run without its FINAL segment.
  assert.deepEqual(await openSealedFile(header, identityFile), {
    ...expected,
    records: [],
    metadata: [],
    end: "unfinished",
  });
});

Deno.test("the minimal opener refuses the vector store for a key it is not sealed to", async () => {
  const v = await specVectors();
  const store = fromHex(vector(v, "run_header") + vector(v, "segment"));
  await assert.rejects(openSealedFile(store, [new Uint8Array(32).fill(9)]), TypeError);
  const mixedCase = vector(v, "identity").replace("AGE", "age");
  await assert.rejects(openSealedFile(store, mixedCase), /line 1 is not an age X25519 identity/);
  await assert.rejects(openSealedFile(store, "# nothing\n"), /no identity/);
});

Deno.test("every changed byte of the vector store fails it or leaves it unfinished and empty", async () => {
  const v = await specVectors();
  const header = fromHex(vector(v, "run_header"));
  const secrets = [fromHex(vector(v, "identity_secret"))];
  // The header alone too, where only its MAC (not a segment's ad) can find a change.
  for (const store of [fromHex(vector(v, "run_header") + vector(v, "segment")), header]) {
    for (let at = 0; at < store.length; at++) {
      let opened: OpenedStore;
      try {
        opened = await openSealedFile(await withByteFlipped(store, at), secrets);
      } catch (error) {
        assert.ok(error instanceof Error, `byte ${at}`);
        continue;
      }
      // A changed byte of the header is always an error (a header_len grown past the end
      // of the store disagrees with the header's own fields); one of the last unit, the
      // segment, never reads as a torn tail (its wire does not end in zeros), so no
      // change anywhere goes unnoticed.
      assert.fail(`byte ${at} changed unnoticed: ${JSON.stringify(opened.end)}`);
    }
  }
});

interface Session {
  records: number;
  metadata?: Record<string, unknown>;
  /** `abort`: flush, append records that are never cut, then abort: a run without FINAL. */
  end: "close" | "abort";
  workers: 0 | 1 | 2;
  segmentBytes?: number;
}

/** Writes `sessions` with the real writer; gives the records that each must hold afterwards. */
async function writeStore(dir: string, recipients: Uint8Array[], sessions: Session[]) {
  const random = seededRandom(sessions.length * 1000 + sessions[0]!.records);
  const committed: OpenedRecord[] = [];
  const metadata: unknown[] = [];
  for (const session of sessions) {
    const writer = await SealedWriter.open({ kind: "file", dir }, {
      recipients,
      stream: "x",
      producer: "test",
      workers: session.workers,
      flushMs: 0,
      ...(session.segmentBytes ? { segmentBytes: session.segmentBytes } : {}),
    });
    assert.equal(writer.lastSeq, committed.at(-1)?.seq ?? 0);
    if (session.metadata) {
      writer.appendMetadata(session.metadata);
      metadata.push(session.metadata);
    }
    for (let i = 0; i < session.records; i++) {
      const seq = (committed.at(-1)?.seq ?? 0) + 1 + Math.floor(random() * 3);
      const payload = Uint8Array.from({ length: Math.floor(random() * 600) }, () => random() * 256);
      const timestampNs = BigInt(Math.floor(random() * 2 ** 52)) * 1000n - 2n ** 60n;
      const record = { seq, timestampNs, typeId: Math.floor(random() * 65536), payload };
      writer.append(record);
      committed.push({ ...record, payload: payload.slice() });
    }
    if (session.end === "close") await writer.close();
    else {
      await writer.flush();
      writer.append({
        seq: committed.at(-1)!.seq + 1,
        timestampNs: 0n,
        typeId: 1,
        payload: new Uint8Array(9),
      });
      await writer.abort();
    }
  }
  return { committed, metadata };
}

/** Every record the real reader gives, and the error it ends with, if any. */
async function readReal(dir: string, secret: Uint8Array) {
  const stream = await SealedStream.open({ kind: "file", dir }, {
    identities: [secret],
    identitySource: "test",
    workers: 0,
  });
  const records: OpenedRecord[] = [];
  let error: unknown;
  try {
    for await (const m of stream) {
      records.push({
        seq: m.seq,
        timestampNs: m.timestampNs,
        typeId: m.typeId,
        payload: m.payload.slice(),
      });
    }
  } catch (e) {
    error = e;
  } finally {
    stream.close();
  }
  return { records, error };
}

const cases: { name: string; sessions: Session[]; runs: number }[] = [
  { name: "an empty store", sessions: [{ records: 0, end: "close", workers: 0 }], runs: 1 },
  { name: "one record", sessions: [{ records: 1, end: "close", workers: 1 }], runs: 1 },
  {
    name: "many records over many segments",
    sessions: [{
      records: 400,
      metadata: { source: "many" },
      end: "close",
      workers: 2,
      segmentBytes: 4096,
    }],
    runs: 1,
  },
  {
    name: "several runs",
    sessions: [
      { records: 50, end: "close", workers: 0, segmentBytes: 4096 },
      { records: 0, end: "close", workers: 1 },
      { records: 80, metadata: { run: 2 }, end: "close", workers: 2, segmentBytes: 4096 },
    ],
    runs: 3,
  },
  {
    name: "an aborted run, then a PREV_CUT run",
    sessions: [
      { records: 60, end: "abort", workers: 1, segmentBytes: 4096 },
      { records: 30, end: "close", workers: 0, segmentBytes: 4096 },
    ],
    runs: 2,
  },
];

for (const { name, sessions, runs } of cases) {
  Deno.test(`the minimal opener reads what the real writer wrote, as the real reader does: ${name}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { identity, recipient } = await generateIdentity();
      const { committed, metadata } = await writeStore(
        dir,
        [parseRecipient(recipient, "r")],
        sessions,
      );
      const bytes = await Deno.readFile(`${dir}/stream.sealed`);
      const opened = await openSealedFile(bytes, identity);
      assert.deepEqual(opened, { records: committed, metadata, runs, end: "clean" });
      const real = await readReal(dir, parseIdentity(identity, "i"));
      assert.equal(real.error, undefined);
      assert.deepEqual(real.records, opened.records);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("the minimal opener and the real reader agree on a run aborted at the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { identity, recipient } = await generateIdentity();
    const session: Session = { records: 40, end: "abort", workers: 0, segmentBytes: 4096 };
    const { committed } = await writeStore(dir, [parseRecipient(recipient, "r")], [session]);
    const opened = await openSealedFile(await Deno.readFile(`${dir}/stream.sealed`), identity);
    assert.deepEqual(opened, { records: committed, metadata: [], runs: 1, end: "unfinished" });
    const real = await readReal(dir, parseIdentity(identity, "i"));
    assert.ok(
      real.error instanceof SealedDamageError && real.error.reason === "unfinished",
      String(real.error),
    );
    assert.deepEqual(real.records, committed);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store sealed for two recipients opens with either identity alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keys = [await generateIdentity(), await generateIdentity()];
    const recipients = keys.map((k) => parseRecipient(k.recipient, "r"));
    const sessions: Session[] = [
      { records: 30, end: "close", workers: 2, segmentBytes: 4096 },
      { records: 30, end: "close", workers: 0, segmentBytes: 4096 },
    ];
    const { committed } = await writeStore(dir, recipients, sessions);
    const bytes = await Deno.readFile(`${dir}/stream.sealed`);
    for (const { identity } of keys) {
      const secret = parseIdentity(identity, "i");
      const opened = await openSealedFile(bytes, [secret]);
      assert.deepEqual(opened, { records: committed, metadata: [], runs: 2, end: "clean" });
      assert.deepEqual((await readReal(dir, secret)).records, committed);
    }
    const stranger = await generateIdentity();
    await assert.rejects(openSealedFile(bytes, stranger.identity), /No identity opens run 0/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a changed byte in a segment's wire fails the minimal opener at that segment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { identity, recipient } = await generateIdentity();
    const session: Session = { records: 200, end: "close", workers: 1, segmentBytes: 4096 };
    await writeStore(dir, [parseRecipient(recipient, "r")], [session]);
    const path = `${dir}/stream.sealed`;
    const bytes = await Deno.readFile(path);
    const segments = units(bytes).filter((u) => u.segment);
    assert.ok(segments.length > 6, `${segments.length} segments`);
    const target = segments[3]!;
    const before = await openSealedFile(bytes.subarray(0, target.at), identity);
    assert.equal(before.end, "unfinished");
    const inWire = target.at + 56 + Math.floor((target.size - 56) / 2);

    // The CRC finds the change, in a segment with more data after it.
    const rotted = await withByteFlipped(bytes, inWire);
    await assert.rejects(
      openSealedFile(rotted, identity),
      new RegExp(`\\(checksum\\) at offset ${target.at}:`),
    );
    // With the CRC made right, the tag finds it; the real reader gives exactly the records before.
    const tampered = await withByteFlipped(bytes, inWire, target.at);
    await assert.rejects(
      openSealedFile(tampered, identity),
      new RegExp(`\\(authentication\\) at offset ${target.at}:`),
    );
    await Deno.writeFile(path, tampered);
    const real = await readReal(dir, parseIdentity(identity, "i"));
    assert.ok(real.error instanceof SealedDamageError, String(real.error));
    assert.equal(real.error.reason, "authentication");
    assert.equal(real.error.offset, target.at);
    assert.equal(real.error.seq, before.records.at(-1)!.seq);
    assert.deepEqual(real.records, before.records);

    // In the last unit, a CRC mismatch is damage too, unless the unit ends in zeros (a
    // machine crash's unwritten blocks): then it is a torn tail, and gives no record.
    const last = segments.at(-2)!;
    const lastUnit = bytes.subarray(0, last.at + last.size);
    await assert.rejects(
      openSealedFile(await withByteFlipped(lastUnit, last.at + 60), identity),
      new RegExp(`\\(checksum\\) at offset ${last.at}:`),
    );
    const zeroed = lastUnit.slice();
    zeroed.fill(0, Math.max(last.at + 56, zeroed.length - 512));
    const opened = await openSealedFile(zeroed, identity);
    const upToLast = await openSealedFile(bytes.subarray(0, last.at), identity);
    assert.deepEqual(opened, { ...upToLast, end: "unfinished" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("units moved, dropped or repeated fail the minimal opener and the real reader alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { identity, recipient } = await generateIdentity();
    const sessions: Session[] = [
      { records: 60, end: "close", workers: 0, segmentBytes: 4096 },
      { records: 60, end: "abort", workers: 0, segmentBytes: 4096 },
      { records: 60, end: "close", workers: 0, segmentBytes: 4096 },
    ];
    await writeStore(dir, [parseRecipient(recipient, "r")], sessions);
    const path = `${dir}/stream.sealed`;
    const bytes = await Deno.readFile(path);
    const all = units(bytes);
    const headers = all.filter((u) => !u.segment).map((u) => all.indexOf(u));
    assert.equal(headers.length, 3);
    const [h1, h2] = [headers[1]!, headers[2]!];
    const run0 = all.slice(1, h1);
    assert.ok(run0.length >= 4, `run 0 has ${run0.length} segments`);
    const unitBytes = (u: { at: number; size: number }) => bytes.subarray(u.at, u.at + u.size);
    const store = (list: typeof all) => new Uint8Array(list.flatMap((u) => [...unitBytes(u)]));
    const mutations: [string, typeof all][] = [
      ["a segment dropped", all.toSpliced(2, 1)],
      ["two segments swapped", all.toSpliced(2, 2, all[3]!, all[2]!)],
      ["a segment repeated", all.toSpliced(2, 0, all[2]!)],
      ["run 0's FINAL segment dropped", all.toSpliced(h1 - 1, 1)],
      ["a segment after a FINAL segment", all.toSpliced(h1, 0, all[1]!)],
      ["the cut run 1 dropped", all.toSpliced(h1, h2 - h1)],
      ["run 0 dropped", all.slice(h1)],
      ["runs 1 and 2 swapped", [...all.slice(0, h1), ...all.slice(h2), ...all.slice(h1, h2)]],
      ["run 0 repeated at the end", [...all, ...all.slice(0, h1)]],
    ];
    const secret = parseIdentity(identity, "i");
    for (const [what, list] of mutations) {
      const changed = store(list);
      const offset = list.findIndex((u, i) => u !== all[i]);
      const at = list.slice(0, offset).reduce((sum, u) => sum + u.size, 0);
      await assert.rejects(
        openSealedFile(changed, [secret]),
        new RegExp(`\\(order\\) at offset ${at}:`),
        what,
      );
      const before = await openSealedFile(changed.subarray(0, at), [secret]);
      await Deno.writeFile(path, changed);
      const real = await readReal(dir, secret);
      assert.ok(real.error instanceof SealedDamageError, `${what}: ${real.error}`);
      assert.deepEqual([real.error.reason, real.error.offset], ["order", at], what);
      assert.deepEqual(real.records, before.records, what);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A frame to seal; every field left out is 0 (a record unless `kind` says otherwise). */
interface Frame {
  kind?: number;
  typeId?: number;
  seq?: number;
  timestampNs?: bigint;
  payload?: Uint8Array;
}

/** Header fields a case sets to something other than what the frames say. */
type SegmentPatch = Partial<
  Record<"flags" | "frames" | "dataFrames" | "firstSeq" | "lastSeq", number>
>;

/** Builds units under the spec's vector keys, so a case can seal what a writer never would. */
async function vectorSealer() {
  const v = await specVectors();
  const payloadKey = fromHex(vector(v, "payload_key"));
  const macKey = fromHex(vector(v, "mac_key"));
  /** The vector run header with its chain fields changed and its MAC made again. */
  const runHeader = (
    run: number,
    flags: number,
    prevSegments: number,
    prevHash: Uint8Array,
    edit = (_view: DataView) => {},
  ) => {
    const h = fromHex(vector(v, "run_header"));
    const view = new DataView(h.buffer);
    view.setUint32(48, run, true);
    view.setUint32(52, flags, true);
    view.setBigUint64(56, BigInt(prevSegments), true);
    h.set(prevHash, 64);
    edit(view);
    h.set(
      createHmac("sha256", macKey).update(h.subarray(0, h.length - 32)).digest(),
      h.length - 32,
    );
    return h;
  };
  /** A segment sealed for the run whose header is `header`. */
  const segment = async (
    header: Uint8Array,
    index: number,
    final: boolean,
    frames: Frame[],
    patch: SegmentPatch = {},
    trailing: Uint8Array = new Uint8Array(),
  ) => {
    const parts = frames.flatMap((f) => {
      const head = new DataView(new ArrayBuffer(24));
      head.setUint32(0, f.payload?.length ?? 0, true);
      head.setUint16(4, f.kind ?? 1, true);
      head.setUint16(6, f.typeId ?? 0, true);
      head.setBigUint64(8, BigInt(f.seq ?? 0), true);
      head.setBigInt64(16, f.timestampNs ?? 0n, true);
      return [...new Uint8Array(head.buffer), ...(f.payload ?? [])];
    });
    const plaintext = new Uint8Array([...parts, ...trailing]);
    const seqs = frames.filter((f) => (f.kind ?? 1) === 1).map((f) => f.seq ?? 0);
    const unit = new Uint8Array(56 + plaintext.length + 16);
    const view = new DataView(unit.buffer);
    unit.set(text.encode("SSEG"));
    view.setUint32(4, patch.flags ?? (final ? 1 : 0), true);
    view.setBigUint64(8, BigInt(index), true);
    view.setUint32(16, plaintext.length + 16, true);
    view.setUint32(20, plaintext.length, true);
    view.setUint32(24, patch.frames ?? frames.length, true);
    view.setUint32(28, patch.dataFrames ?? seqs.length, true);
    view.setBigUint64(32, BigInt(patch.firstSeq ?? seqs[0] ?? 0), true);
    view.setBigUint64(40, BigInt(patch.lastSeq ?? seqs.at(-1) ?? 0), true);
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(3, BigInt(index));
    nonce[11] = final ? 1 : 0;
    const cipher = createCipheriv("chacha20-poly1305", payloadKey, nonce, { authTagLength: 16 });
    const hash = createHash("sha256").update(header).digest();
    cipher.setAAD(new Uint8Array([...hash, ...unit.subarray(0, 52)]), {
      plaintextLength: plaintext.length,
    });
    unit.set(
      new Uint8Array([...cipher.update(plaintext), ...cipher.final(), ...cipher.getAuthTag()]),
      56,
    );
    const crc = await crc32(
      new Uint8Array([...unit.subarray(0, 52), ...unit.subarray(56)]),
      0x82f63b78,
    );
    view.setUint32(52, parseInt(crc, 16), true);
    return unit;
  };
  const header0 = fromHex(vector(v, "run_header"));
  const hash0 = createHash("sha256").update(header0).digest();
  return { v, runHeader, segment, header0, hash0 };
}

Deno.test("a segment sealed from the spec's formulas is the spec's vector segment", async () => {
  const { v, segment, header0 } = await vectorSealer();
  const sealed = await segment(header0, 0, true, [
    { kind: 2, payload: text.encode('{"source":"test"}') },
    { seq: 1, typeId: 7, timestampNs: 1700000000000000000n, payload: text.encode("hello") },
    { seq: 2, typeId: 7, timestampNs: 1700000000000001000n, payload: text.encode("world") },
  ]);
  assert.deepEqual(sealed, fromHex(vector(v, "segment")));
});

Deno.test("sealed segments that break a frame or chain rule fail both openers at that unit", async () => {
  const { v, runHeader, segment, header0, hash0 } = await vectorSealer();
  const secret = fromHex(vector(v, "identity_secret"));
  const rec = (seq: number): Frame => ({ seq, typeId: 3, payload: text.encode(`r${seq}`) });
  const meta = (json: string, f: Frame = {}): Frame => ({
    ...f,
    kind: 2,
    payload: text.encode(json),
  });
  const first = await segment(header0, 0, false, [rec(1)]);
  /** Run 0 of one FINAL segment: its units. */
  const only = async (
    frames: Frame[],
    patch?: SegmentPatch,
    trailing?: Uint8Array,
  ) => [header0, await segment(header0, 0, true, frames, patch, trailing)];
  const cut = runHeader(1, 1, 1, hash0);
  const zeros = new Uint8Array(32);
  const cases: [string, Uint8Array[], "header" | "frames" | "order" | "clean"][] = [
    ["every rule kept", [header0, first, await segment(header0, 1, true, [rec(5)])], "clean"],
    [
      "a seq repeated across segments",
      [header0, first, await segment(header0, 1, true, [rec(1)])],
      "order",
    ],
    [
      "seqs falling within a segment",
      await only([rec(2), rec(1)], { firstSeq: 1, lastSeq: 2 }),
      "order",
    ],
    ["a segment after the FINAL one", [
      ...await only([rec(1)]),
      await segment(header0, 1, false, [rec(2)]),
    ], "order"],
    ["a record seq 0", await only([rec(0)]), "header"],
    ["a metadata frame with a seq", await only([meta("{}", { seq: 4 })]), "frames"],
    ["a metadata frame holding an array", await only([meta("[1]")]), "frames"],
    ["a metadata frame that is not JSON", await only([meta("{")]), "frames"],
    ["an unknown frame kind", await only([{ kind: 3 }]), "frames"],
    ["a frame_count the frames do not fill", await only([rec(1)], { frames: 2 }), "frames"],
    ["a last_seq the frames do not say", await only([rec(1), rec(2)], { lastSeq: 3 }), "frames"],
    ["bytes after the last frame", await only([rec(1)], {}, new Uint8Array(3)), "frames"],
    [
      "an empty segment that is not FINAL",
      [header0, await segment(header0, 0, false, [])],
      "header",
    ],
    ["an unknown segment flag", await only([rec(1)], { flags: 3 }), "header"],
    ["run 0 flagged PREV_CUT", [runHeader(0, 1, 0, zeros)], "header"],
    ["an unknown run flag", [header0, first, runHeader(1, 5, 1, hash0)], "header"],
    ["segment_bytes 0", [runHeader(0, 0, 0, zeros, (h) => h.setUint32(32, 0, true))], "header"],
    ["a stanza of type 2", [runHeader(0, 0, 0, zeros, (h) => h.setUint8(124, 2))], "header"],
    [
      "a producer cut short",
      [runHeader(0, 0, 0, zeros, (h) => h.setUint16(96, 300, true))],
      "header",
    ],
    [
      "a cut run, then a PREV_CUT run",
      [header0, first, cut, await segment(cut, 0, true, [])],
      "clean",
    ],
    [
      "a cut run, then a run without PREV_CUT",
      [header0, first, runHeader(1, 0, 1, hash0)],
      "order",
    ],
    ["a finished run, then a PREV_CUT run", [...await only([rec(1)]), cut], "order"],
    ["a PREV_CUT run counting no segment", [header0, first, runHeader(1, 1, 0, hash0)], "order"],
    [
      "a run naming another hash",
      [header0, first, runHeader(1, 1, 1, hash0.toReversed())],
      "order",
    ],
    ["a run numbered 2 after run 0", [header0, first, runHeader(2, 1, 1, hash0)], "order"],
  ];
  const dir = await Deno.makeTempDir();
  try {
    for (const [what, list, expected] of cases) {
      const bytes = new Uint8Array(list.flatMap((u) => [...u]));
      const at = bytes.length - list.at(-1)!.length;
      await Deno.writeFile(`${dir}/stream.sealed`, bytes);
      const real = await readReal(dir, secret);
      if (expected === "clean") {
        const opened = await openSealedFile(bytes, [secret]);
        assert.equal(opened.end, "clean", what);
        assert.equal(real.error, undefined, what);
        assert.deepEqual(real.records, opened.records, what);
        continue;
      }
      const pattern = new RegExp(`\\(${expected}\\) at offset ${at}:`);
      await assert.rejects(openSealedFile(bytes, [secret]), pattern, what);
      const before = await openSealedFile(bytes.subarray(0, at), [secret]);
      assert.ok(real.error instanceof SealedDamageError, `${what}: ${real.error}`);
      assert.deepEqual([real.error.offset, real.records], [at, before.records], what);
      // The spec names the kind of damage for the chain and for seqs; it leaves the kind of a
      // frame's or a header field's damage open.
      if (expected === "order") assert.equal(real.error.reason, "order", what);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
