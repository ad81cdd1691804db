/**
 * The sealed store format's building blocks: age keys and key files, X25519
 * stanzas, run headers, segment sealing and frames, and the test vectors of
 * docs/sealed-format.md.
 */

import assert from "node:assert/strict";
import { hkdfSync } from "node:crypto";
import {
  encodeIdentity,
  encodeRecipient,
  generateIdentity,
  parseIdentity,
  parseRecipient,
  recipientOf,
  x25519,
} from "../src/sealed/age_keys.ts";
import {
  parseIdentityFile,
  parseRecipientsFile,
  readIdentityFile,
  readRecipientsFile,
} from "../src/sealed/key_files.ts";
import {
  createRunHeader,
  openRunHeader,
  parseRunHeader,
  type RunHeaderFields,
} from "../src/sealed/run_header.ts";
import { crc32c } from "../src/sealed/crc32c.ts";
import {
  SealedDamageError,
  SealedFormatError,
  SealedKeyError,
} from "../src/sealed/sealed_errors.ts";
import { MAX_SEGMENT_PLAINTEXT } from "../src/sealed/sealed_format.ts";
import { openSegment, sealSegment } from "../src/sealed/segment_cipher.ts";
import { FrameReader, SegmentBuilder } from "../src/sealed/segment_frames.ts";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  segmentChecksumOk,
  type SegmentHeader,
} from "../src/sealed/segment_header.ts";
import { unwrapFileKey, wrapFileKey } from "../src/sealed/x25519_stanza.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const counting = (n: number, from: number) => Uint8Array.from({ length: n }, (_, i) => from + i);
const text = (s: string) => new TextEncoder().encode(s);

function onPath(program: string): boolean {
  try {
    return new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
const HAS_AGE = onPath("age-keygen") && onPath("age");

async function run(cmd: string, args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

function fields(over: Partial<RunHeaderFields> = {}): RunHeaderFields {
  return {
    segmentBytes: 1 << 20,
    flushMs: 200,
    createdMs: 1_700_000_000_000,
    run: 0,
    prevCut: false,
    prevSegments: 0,
    prevHeaderHash: new Uint8Array(32),
    producer: "spool test",
    stream: "quotes",
    ...over,
  };
}

const WHERE = { path: "/s/stream.sealed", offset: 0, seq: 0, identitySource: "key.txt" };

// ---- age keys ---------------------------------------------------------------------------------

Deno.test("age keys: recipients and identities round trip, identities in either case", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  assert.deepEqual(parseRecipient(encodeRecipient(key), "r"), key);
  const identity = encodeIdentity(key);
  assert.match(identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
  assert.deepEqual(parseIdentity(identity, "i"), key);
  assert.deepEqual(parseIdentity(identity.toLowerCase(), "i"), key);
});

Deno.test("age keys: the public key is X25519 of the base point (RFC 7748 section 6.1)", async () => {
  const alice = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const bob = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  assert.equal(
    hex(await recipientOf(alice)),
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  );
  assert.equal(
    hex((await x25519(alice, await recipientOf(bob)))!),
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
  );
});

Deno.test("age keys: a generated identity matches its recipient", async () => {
  const { identity, recipient } = await generateIdentity();
  assert.deepEqual(
    await recipientOf(parseIdentity(identity, "new")),
    parseRecipient(recipient, "new"),
  );
  assert.notEqual((await generateIdentity()).identity, identity);
});

Deno.test("age keys: bad keys are refused, naming the source, never echoing a secret", () => {
  const secret = encodeIdentity(new Uint8Array(32).fill(9));
  const recipient = encodeRecipient(new Uint8Array(32).fill(9));
  const refuse = (f: () => unknown, source: string, message: RegExp) => {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof SealedKeyError);
      assert.equal(e.source, source);
      assert.match(e.message, message);
      assert.ok(!e.message.includes(secret.slice(16, 40)), "the secret key is not repeated");
      assert.ok(!e.message.toUpperCase().includes(secret.slice(16, 40)));
      return true;
    });
  };
  refuse(() => parseRecipient(secret, "--recipient"), "--recipient", /this is a secret key/);
  refuse(() => parseRecipient(secret.toLowerCase(), "--recipient"), "--recipient", /secret key/);
  refuse(() => parseRecipient("ssh-ed25519 AAAA", "r.txt:2"), "r.txt:2", /SSH keys/);
  refuse(() => parseRecipient("age1xyz", "--recipient"), "--recipient", /^Recipient 'age1xyz'/);
  refuse(() => parseIdentity(recipient, "id.txt:3"), "id.txt:3", /this is a recipient/);
  // One character changed: the checksum fails, and the message does not show the key.
  const typo = secret.slice(0, 30) + (secret[30] === "Q" ? "P" : "Q") + secret.slice(31);
  refuse(() => parseIdentity(typo, "id.txt:3"), "id.txt:3", /damaged/);
  refuse(() => parseIdentity("AGE-PLUGIN-YUBIKEY-1XYZ", "id.txt:1"), "id.txt:1", /plugin/);
  // Mixed case is not bech32; an identity of the wrong length is no key.
  refuse(() => parseIdentity(secret.slice(0, 20) + secret.slice(20).toLowerCase(), "i"), "i", /./);
  const short = encodeRecipient(new Uint8Array(32)).slice(0, -1);
  refuse(() => parseRecipient(short, "r"), "r", /not an age recipient/);
});

Deno.test({
  name: "age keys: age-keygen's keys parse, and age reads what spool's keys seal",
  ignore: !HAS_AGE,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const keyFile = `${dir}/key.txt`;
      await run("age-keygen", ["-o", keyFile]);
      const [secret, ...more] = await readIdentityFile(keyFile);
      assert.equal(more.length, 0);
      const printed = new TextDecoder().decode(await run("age-keygen", ["-y", keyFile])).trim();
      assert.equal(encodeRecipient(await recipientOf(secret!)), printed);

      // The other way: a spool-made pair works with age itself.
      const ours = await generateIdentity();
      const ourFile = `${dir}/ours.txt`;
      await Deno.writeTextFile(ourFile, `# made by spool\n${ours.identity}\n`);
      const printedOurs = new TextDecoder().decode(await run("age-keygen", ["-y", ourFile])).trim();
      assert.equal(printedOurs, ours.recipient);
      const sealed = await run("age", ["-e", "-r", ours.recipient], text("hello age"));
      assert.equal(
        new TextDecoder().decode(await run("age", ["-d", "-i", ourFile], sealed)),
        "hello age",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---- key files --------------------------------------------------------------------------------

Deno.test("key files: comments, blank lines, indentation and CRLF are ignored", () => {
  const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
  const identities = parseIdentityFile(
    `# created: 2024\r\n# public key: age1…\r\n\r\n  ${encodeIdentity(a)}  \r\n${
      encodeIdentity(b)
    }`,
    "key.txt",
  );
  assert.deepEqual(identities, [a, b]);
  const recipients = parseRecipientsFile(
    `\n# team\n${encodeRecipient(a)}\n\n${encodeRecipient(b)}\n`,
    "r",
  );
  assert.deepEqual(recipients, [a, b]);
});

Deno.test("key files: errors name the file and line; a file with no key is refused", async () => {
  const good = encodeIdentity(new Uint8Array(32).fill(1));
  assert.throws(() => parseIdentityFile(`# x\n${good}\nAGE-SECRET-KEY-1BAD\n`, "key.txt"), {
    name: "SealedKeyError",
    source: "key.txt:3",
    message: /^Identity in 'key.txt:3' is not an age identity/,
  });
  assert.throws(() => parseRecipientsFile("# only comments\n\n", "team.txt"), {
    name: "SealedKeyError",
    source: "team.txt",
    message: "The recipients file 'team.txt' holds no key: make one with 'age-keygen'",
  });
  assert.throws(() => parseIdentityFile("age-encryption.org/v1\n-> scrypt …\n", "key.age"), {
    message: /is encrypted with age: decrypt it first/,
  });
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readIdentityFile(`${dir}/missing.txt`), {
      name: "SealedKeyError",
      message: `Cannot read the identity file '${dir}/missing.txt': it does not exist`,
    });
    await assert.rejects(readRecipientsFile(dir), { message: /^Cannot read the recipients file/ });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- stanzas ----------------------------------------------------------------------------------

Deno.test("stanza: wraps for the recipient, opens for its identity only", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const fileKey = crypto.getRandomValues(new Uint8Array(32));
  const stanza = await wrapFileKey(fileKey, await recipientOf(secret));
  assert.equal(stanza.length, 81);
  assert.equal(stanza[0], 1);
  assert.deepEqual(await unwrapFileKey(stanza, secret), fileKey);
  assert.equal(await unwrapFileKey(stanza, crypto.getRandomValues(new Uint8Array(32))), undefined);
  // A fresh ephemeral key every time.
  assert.notDeepEqual(await wrapFileKey(fileKey, await recipientOf(secret)), stanza);
});

Deno.test("stanza: every flipped byte fails to open", async () => {
  const secret = new Uint8Array(32).fill(7);
  const stanza = await wrapFileKey(new Uint8Array(32).fill(3), await recipientOf(secret));
  for (let i = 0; i < stanza.length; i++) {
    const bad = stanza.slice();
    bad[i]! ^= 0x01;
    assert.equal(await unwrapFileKey(bad, secret), undefined, `byte ${i}`);
  }
});

Deno.test("stanza: a low-order recipient is refused", async () => {
  await assert.rejects(wrapFileKey(new Uint8Array(32), new Uint8Array(32)), {
    name: "SealedKeyError",
    message: /is not a usable X25519 key/,
  });
});

// ---- run header -------------------------------------------------------------------------------

Deno.test("run header: create, parse and open round trip every field", async () => {
  const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
  const f = fields({
    run: 3,
    prevCut: true,
    prevSegments: 2 ** 40,
    prevHeaderHash: new Uint8Array(32).fill(0xab),
    producer: "spool 0.1.0 archive-tap",
    stream: "cotações",
    flushMs: 0,
    segmentBytes: MAX_SEGMENT_PLAINTEXT,
  });
  const { header, keys } = await createRunHeader(f, [await recipientOf(a), await recipientOf(b)]);
  // A store holds more after the header; the parser takes its own copy of the header only.
  const store = new Uint8Array(header.bytes.length + 10);
  store.set(header.bytes);
  const parsed = parseRunHeader(store, "s", 0);
  store.fill(0);
  for (const k of Object.keys(f) as (keyof RunHeaderFields)[]) assert.deepEqual(parsed[k], f[k], k);
  assert.deepEqual(parsed.bytes, header.bytes);
  assert.equal(parsed.stanzas.length, 2);
  assert.equal(parsed.salt.length, 16);
  assert.equal(hex(parsed.hash), hex(keys.headerHash));
  // Either identity opens it, to the same keys.
  assert.deepEqual(await openRunHeader(parsed, [b], WHERE), keys);
  assert.deepEqual(await openRunHeader(parsed, [new Uint8Array(32).fill(5), a], WHERE), keys);
  // Each run has its own file key and salt.
  const again = await createRunHeader(f, [await recipientOf(a)]);
  assert.notDeepEqual(again.keys.payloadKey, keys.payloadKey);
  assert.notDeepEqual(again.header.salt, header.salt);
});

Deno.test("run header: a wrong identity is a key error naming the identities and the store", async () => {
  const { header } = await createRunHeader(fields({ run: 0 }), [
    await recipientOf(new Uint8Array(32).fill(1)),
  ]);
  await assert.rejects(openRunHeader(header, [new Uint8Array(32).fill(2)], WHERE), {
    name: "SealedKeyError",
    source: "key.txt",
    message:
      "No identity in 'key.txt' opens run 0 of '/s/stream.sealed' (its header at offset 0, after seq 0)",
  });
  await assert.rejects(openRunHeader(header, [], WHERE), { name: "SealedKeyError" });
});

Deno.test("run header: fields out of range are refused when written", async () => {
  const r = [await recipientOf(new Uint8Array(32).fill(1))];
  const refused = async (f: Partial<RunHeaderFields>, message: RegExp, recipients = r) =>
    await assert.rejects(createRunHeader(fields(f), recipients), { name: "RangeError", message });
  await refused({ segmentBytes: 0 }, /segment_bytes '0'/);
  await refused({ segmentBytes: MAX_SEGMENT_PLAINTEXT + 1 }, /segment_bytes/);
  await refused({ flushMs: 2 ** 32 }, /flush_ms/);
  await refused({ createdMs: -1 }, /created_ms/);
  await refused({ run: 1.5 }, /run '1.5'/);
  await refused({ prevHeaderHash: new Uint8Array(31) }, /not 32 bytes/);
  await refused({ prevCut: true }, /is run 0 and names a previous run/);
  await refused({ prevSegments: 1 }, /is run 0 and names a previous run/);
  await refused({ run: 1, prevSegments: 0 }, /follows a finished run that holds no segment/);
  await refused({}, /1 to 255 recipients, not '0'/, []);
  await refused({}, /not '256'/, Array(256).fill(r[0]));
  await refused({ producer: "x".repeat(65536) }, /at most 65535 bytes/);
  await refused({ producer: "x".repeat(65000), stream: "y".repeat(600) }, /more than '65536'/);
  // The largest count fits.
  const { header } = await createRunHeader(fields(), Array(255).fill(r[0]));
  assert.equal(parseRunHeader(header.bytes, "s", 0).stanzas.length, 255);
});

Deno.test("run header: structural faults are format errors naming the store and offset", async () => {
  const { header } = await createRunHeader(fields(), [
    await recipientOf(new Uint8Array(32).fill(1)),
  ]);
  const b = header.bytes;
  const refused = (bytes: Uint8Array, message: RegExp) =>
    assert.throws(() => parseRunHeader(bytes, "/s/stream.sealed", 4096), (e: unknown) => {
      assert.ok(e instanceof SealedFormatError);
      assert.equal(e.offset, 4096);
      assert.match(e.message, /^Run header at offset 4096 of '\/s\/stream.sealed' /);
      assert.match(e.message, message);
      return true;
    });
  const edit = (at: number, value: number, size: 1 | 2 | 4 = 1) => {
    const copy = b.slice();
    const v = new DataView(copy.buffer);
    if (size === 1) v.setUint8(at, value);
    else if (size === 2) v.setUint16(at, value, true);
    else v.setUint32(at, value, true);
    return copy;
  };
  assert.equal(b.length, 230);
  refused(b.subarray(0, b.length - 1), /is cut short: '229' of its '230' bytes/);
  refused(b.subarray(0, 10), /is cut short/);
  refused(edit(8, 2, 2), /version '2'/);
  refused(edit(10, 2, 2), /unknown AEAD '2'/);
  refused(edit(12, 70000, 4), /length of '70000'/);
  const longer = new Uint8Array(b.length + 1);
  longer.set(b);
  new DataView(longer.buffer).setUint32(12, b.length + 1, true);
  refused(longer, /'1' bytes left over before its MAC/);
  refused(edit(12, b.length - 1, 4), /does not fit its length/);
  refused(edit(52, 2, 4), /unknown run flags '2'/);
  refused(edit(52, 1, 4), /is run 0 and names a previous run/);
  refused(edit(32, 0, 4), /segment_bytes '0'/);
  refused(edit(96, 0xffff, 2), /does not fit/);
  refused(edit(98, 0xff), /producer that is not UTF-8/);
  const countAt = 96 + 2 + "spool test".length + 2 + "quotes".length;
  refused(edit(countAt, 0), /has no recipient stanza/);
  refused(edit(countAt, 2), /does not fit/);
  refused(edit(countAt + 1, 2), /stanza of unknown type '2'/);
  const huge = edit(40, 0);
  new DataView(huge.buffer).setBigUint64(40, 1n << 60n, true);
  refused(huge, /created_ms '-1'/);
});

Deno.test("run header: every flipped byte fails to parse or to open, never opens", async () => {
  const secret = new Uint8Array(32).fill(1);
  const { header, keys } = await createRunHeader(
    fields({ producer: "p", stream: "s" }),
    [await recipientOf(secret)],
  );
  const seen = { format: 0, key: 0, authentication: 0 };
  for (let i = 0; i < header.bytes.length; i++) {
    const bad = header.bytes.slice();
    bad[i]! ^= 0x40;
    let opened;
    try {
      opened = await openRunHeader(parseRunHeader(bad, "s", 0), [secret], WHERE);
    } catch (e) {
      if (e instanceof SealedFormatError) seen.format++;
      else if (e instanceof SealedKeyError) seen.key++;
      else if (e instanceof SealedDamageError && e.reason === "authentication") {
        seen.authentication++;
      } else throw e;
      continue;
    }
    assert.fail(
      `byte ${i} flipped still opens, to ${hex(opened.payloadKey)} (${hex(keys.payloadKey)})`,
    );
  }
  // Every kind of failure is reached: structure, stanza, and MAC.
  assert.ok(seen.format > 0 && seen.key > 0 && seen.authentication > 0, JSON.stringify(seen));
  assert.equal(seen.format + seen.key + seen.authentication, header.bytes.length);
});

Deno.test("run header: a MAC mismatch is damage naming the store, offset and seq", async () => {
  const secret = new Uint8Array(32).fill(1);
  const { header } = await createRunHeader(fields({ producer: "spool" }), [
    await recipientOf(secret),
  ]);
  const bad = header.bytes.slice();
  bad[98] = "S".charCodeAt(0); // still valid UTF-8: only the MAC can tell
  const where = { path: "/s/stream.sealed", offset: 8192, seq: 41, identitySource: "key.txt" };
  await assert.rejects(openRunHeader(parseRunHeader(bad, "s", 0), [secret], where), {
    name: "SealedDamageError",
    reason: "authentication",
    message:
      "Sealed store '/s/stream.sealed' is damaged at offset 8192, after seq 41: the header of run 0 does not authenticate",
  });
});

// ---- segment cipher ---------------------------------------------------------------------------

const KEY = new Uint8Array(32).fill(0x11);
const HASH = new Uint8Array(32).fill(0x22);
const H = { final: false, index: 5, frameCount: 1, dataFrames: 1, firstSeq: 10, lastSeq: 10 };

Deno.test("segment cipher: a 1 MiB segment and an empty final one round trip", () => {
  const plaintext = new Uint8Array(1 << 20);
  for (let i = 0; i < plaintext.length; i += 65536) {
    crypto.getRandomValues(plaintext.subarray(i, i + 65536));
  }
  const unit = sealSegment(KEY, HASH, H, plaintext);
  assert.equal(unit.length, 56 + plaintext.length + 16);
  assert.ok(segmentChecksumOk(unit));
  assert.deepEqual(decodeSegmentHeader(unit, "s", 0), {
    ...H,
    wireLength: plaintext.length + 16,
    plaintextLength: plaintext.length,
  });
  assert.notDeepEqual(unit.subarray(56, 56 + 64), plaintext.subarray(0, 64));
  const opened = openSegment(KEY, HASH, unit)!;
  assert.ok(opened.every((b, i) => b === plaintext[i]));
  // The plaintext owns its buffer, so it can be transferred to or from a Worker.
  assert.equal(opened.constructor, Uint8Array);
  assert.equal(opened.buffer.byteLength, opened.length);
  structuredClone(opened, { transfer: [opened.buffer] });

  const empty = sealSegment(KEY, HASH, {
    ...H,
    final: true,
    frameCount: 0,
    dataFrames: 0,
    firstSeq: 0,
    lastSeq: 0,
  }, new Uint8Array(0));
  assert.equal(empty.length, 72);
  assert.equal(openSegment(KEY, HASH, empty)?.length, 0);
});

Deno.test("segment cipher: the key, header hash, index and final flag all bind", () => {
  const unit = sealSegment(KEY, HASH, H, text("payload"));
  assert.equal(openSegment(new Uint8Array(32).fill(0x12), HASH, unit), undefined);
  assert.equal(openSegment(KEY, new Uint8Array(32), unit), undefined);
  // The same plaintext at another index or as final seals differently, and the nonce is
  // taken from the header: rewriting the header (with a valid CRC) fails.
  for (const change of [{ index: 6 }, { final: true }, { lastSeq: 11 }, { frameCount: 2 }]) {
    const moved = unit.slice();
    const h: SegmentHeader = { ...decodeSegmentHeader(unit, "s", 0), ...change };
    encodeSegmentHeader(h, moved, moved.subarray(56));
    assert.ok(segmentChecksumOk(moved));
    assert.equal(openSegment(KEY, HASH, moved), undefined, JSON.stringify(change));
  }
  assert.equal(openSegment(KEY, HASH, unit.subarray(0, unit.length - 1)), undefined);
  assert.equal(openSegment(KEY, HASH, unit.subarray(0, 60)), undefined);
  assert.throws(
    () => sealSegment(KEY, HASH, H, new Uint8Array(MAX_SEGMENT_PLAINTEXT + 1)),
    RangeError,
  );
});

Deno.test("segment cipher: every flipped byte fails the CRC, and with the CRC fixed, the tag", () => {
  const unit = sealSegment(KEY, HASH, H, text("a small segment"));
  for (let i = 0; i < unit.length; i++) {
    const bad = unit.slice();
    bad[i]! ^= 0x80;
    assert.equal(segmentChecksumOk(bad), false, `byte ${i}: CRC`);
    if (i >= 52 && i < 56) continue; // the CRC itself: nothing else changed
    // A forger recomputes the CRC over the flipped bytes; the tag still fails.
    const crc = crc32c(bad.subarray(0, 52), bad.subarray(56));
    new DataView(bad.buffer).setUint32(52, crc, true);
    assert.ok(segmentChecksumOk(bad));
    assert.equal(openSegment(KEY, HASH, bad), undefined, `byte ${i}: tag`);
  }
});

Deno.test("segment cipher: seals and opens inside a Worker", async () => {
  const url = new URL("../src/sealed/segment_cipher.ts", import.meta.url).href;
  // The handler is set before the import, so no message is lost while it loads.
  const code = `self.onmessage = async (e) => {
    const { sealSegment, openSegment } = await import(${JSON.stringify(url)});
    const { key, hash, h, plaintext } = e.data;
    const unit = sealSegment(key, hash, h, plaintext);
    const back = openSegment(key, hash, unit);
    self.postMessage({ unit, back }, [unit.buffer, back.buffer]);
  };`;
  const worker = new Worker(URL.createObjectURL(new Blob([code])), { type: "module" });
  try {
    const reply = await new Promise<MessageEvent>((resolve, reject) => {
      worker.onmessage = resolve;
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage({ key: KEY, hash: HASH, h: H, plaintext: text("from a worker") });
    });
    assert.deepEqual(reply.data.back, text("from a worker"));
    assert.deepEqual(openSegment(KEY, HASH, reply.data.unit), text("from a worker"));
  } finally {
    worker.terminate();
  }
});

// ---- frames -----------------------------------------------------------------------------------

function headerOf(b: SegmentBuilder, final = false, index = 0): SegmentHeader {
  return {
    final,
    index,
    wireLength: b.byteLength + 16,
    plaintextLength: b.byteLength,
    frameCount: b.frameCount,
    dataFrames: b.dataFrames,
    firstSeq: b.firstSeq,
    lastSeq: b.lastSeq,
  };
}

const AT = { path: "/s/stream.sealed", offset: 300, seq: 0 };

Deno.test("frames: records and metadata round trip through a growing builder", () => {
  const b = new SegmentBuilder(32);
  const payloads: Uint8Array[] = [];
  b.addMetadata({ source: "queue", n: 1 });
  for (let i = 0; i < 200; i++) {
    const p = crypto.getRandomValues(new Uint8Array((i * 37) % 500));
    payloads.push(p);
    b.addRecord(100 + 2 * i, BigInt(i) * -1_000_000_007n, i % 65536, p);
    p.fill(0); // the builder copied it
  }
  b.addMetadata({ end: true });
  const h = headerOf(b, true);
  assert.deepEqual([h.frameCount, h.dataFrames, h.firstSeq, h.lastSeq], [202, 200, 100, 498]);
  const plaintext = b.take();
  assert.equal(plaintext.length, h.plaintextLength);
  assert.equal(plaintext.buffer.byteLength, plaintext.length);
  assert.deepEqual([b.byteLength, b.frameCount, b.dataFrames, b.firstSeq, b.lastSeq], [
    0,
    0,
    0,
    0,
    0,
  ]);

  const r = new FrameReader(plaintext, h, { ...AT, seq: 99 });
  assert.deepEqual(r.metadata, [{ source: "queue", n: 1 }, { end: true }]);
  let first;
  for (let i = 0; i < 200; i++) {
    const m = r.next()!;
    first ??= m;
    assert.equal(m, first, "one message object is lent");
    assert.equal(m.seq, 100 + 2 * i);
    assert.equal(m.timestampNs, BigInt(i) * -1_000_000_007n);
    assert.equal(m.typeId, i);
    assert.equal(m.payload.length, (i * 37) % 500);
    assert.equal(m.payload.buffer, plaintext.buffer, "the payload is a view");
    assert.equal(m.payloadLength, m.payload.length);
    assert.equal(m.payloadOffset, m.payload.byteOffset);
    if (m.payloadLength! > 0) assert.equal(m.data!.getUint8(m.payloadOffset!), m.payload[0]);
  }
  assert.equal(r.next(), undefined);
  assert.equal(r.next(), undefined);
  // The sealed round trip gives the same frames.
  const again = new SegmentBuilder();
  again.addRecord(600, 0n, 1, text("x"));
  const unit = sealSegment(KEY, HASH, headerOf(again), again.take());
  const opened = openSegment(KEY, HASH, unit)!;
  const m = new FrameReader(opened, decodeSegmentHeader(unit, "s", 0), AT).next()!;
  assert.deepEqual([m.seq, m.typeId, new TextDecoder().decode(m.payload)], [600, 1, "x"]);
});

Deno.test("frames: the builder refuses what the format cannot hold", () => {
  const b = new SegmentBuilder();
  b.addRecord(5, 0n, 0, new Uint8Array(0));
  b.take();
  assert.throws(() => b.addRecord(5, 0n, 0, new Uint8Array(0)), {
    name: "RangeError",
    message: "Record seq '5' does not follow seq '5'",
  });
  assert.throws(() => b.addRecord(0.5, 0n, 0, new Uint8Array(0)), RangeError);
  assert.throws(() => b.addRecord(6, 0n, 65536, new Uint8Array(0)), /Type id '65536'/);
  assert.throws(() => b.addRecord(6, 1n << 63n, 0, new Uint8Array(0)), /does not fit 64 bits/);
  assert.throws(() => b.addMetadata([] as unknown as Record<string, unknown>), TypeError);
  b.addRecord(6, (1n << 63n) - 1n, 65535, new Uint8Array(0));
  assert.throws(
    () => b.addRecord(7, 0n, 0, new Uint8Array(MAX_SEGMENT_PLAINTEXT - 24 - 24 + 1)),
    { name: "RangeError", message: /would take the segment past '67108864' bytes/ },
  );
  assert.equal(b.frameCount, 1, "a refused record leaves nothing behind");
  b.addRecord(7, 0n, 0, text("ok"));
  assert.equal(b.lastSeq, 7);
});

Deno.test("frames: a plaintext that disagrees with its header is damage, before any record", () => {
  const b = new SegmentBuilder();
  b.addRecord(10, 1n, 1, text("ten"));
  b.addMetadata({ m: 1 });
  b.addRecord(11, 2n, 1, text("eleven"));
  const h = headerOf(b, false, 4);
  const good = b.take();
  const damage = (
    plaintext: Uint8Array,
    header: SegmentHeader,
    reason: string,
    detail: RegExp,
    seq = 9,
  ) =>
    assert.throws(() => new FrameReader(plaintext, header, { ...AT, seq }), (e: unknown) => {
      assert.ok(e instanceof SealedDamageError);
      assert.equal(e.reason, reason);
      assert.equal(e.offset, 300);
      assert.equal(e.seq, seq);
      assert.match(e.detail, /^segment 4 /);
      assert.match(e.detail, detail);
      return true;
    });
  const edited = (set: (v: DataView) => void) => {
    const copy = good.slice();
    set(new DataView(copy.buffer));
    return copy;
  };
  new FrameReader(good, h, { ...AT, seq: 9 });
  damage(good, { ...h, frameCount: 4 }, "header", /holds 3 frames, 2 records/);
  damage(good, { ...h, dataFrames: 1 }, "header", /not as its header says/);
  damage(good, { ...h, firstSeq: 9 }, "header", /seqs '10'..'11'/);
  damage(good, { ...h, lastSeq: 12 }, "header", /not as its header says/);
  damage(good, { ...h, plaintextLength: good.length + 1 }, "header", /opens to/);
  damage(good, h, "order", /record seq '10' after seq '10'/, 10);
  damage(
    good.subarray(0, 0),
    { ...h, plaintextLength: 0, frameCount: 0, dataFrames: 0, firstSeq: 0, lastSeq: 0 },
    "header",
    /is empty and not final/,
  );
  damage(
    good.subarray(0, 30),
    { ...h, plaintextLength: 30 },
    "header",
    /frame header cut short at byte 27/,
  );
  damage(
    edited((v) => v.setUint32(0, 1000, true)),
    h,
    "header",
    /frame at byte 0 longer than the segment/,
  );
  damage(edited((v) => v.setUint16(4, 3, true)), h, "header", /unknown kind '3' at byte 0/);
  damage(
    edited((v) => v.setBigUint64(8, 12n, true)),
    { ...h, firstSeq: 12 },
    "order",
    /seq '11' after seq '12'/,
  );
  const metaAt = 24 + 3;
  damage(
    edited((v) => v.setUint16(metaAt + 6, 1, true)),
    h,
    "header",
    /metadata frame at byte 27 with a type/,
  );
  damage(edited((v) => v.setUint8(metaAt + 24, 0x5b)), h, "header", /metadata that is not/);
  // An empty final segment is a clean stop.
  const stop = new FrameReader(new Uint8Array(0), {
    ...h,
    final: true,
    plaintextLength: 0,
    frameCount: 0,
    dataFrames: 0,
    firstSeq: 0,
    lastSeq: 0,
  }, AT);
  assert.equal(stop.next(), undefined);
});

// ---- test vectors -----------------------------------------------------------------------------

function docVectors(): Map<string, string> {
  const doc = Deno.readTextFileSync(`${ROOT}docs/sealed-format.md`);
  const block = doc.split("## Test vectors")[1]!.split("```text\n")[1]!.split("```")[0]!;
  const values = new Map<string, string>();
  let name = "";
  for (const line of block.split("\n")) {
    const item = /^(\w+)\s+= (\S+)$/.exec(line);
    if (item) values.set(name = item[1]!, item[2]!);
    else if (line.trim() !== "") values.set(name, values.get(name)! + line.trim());
  }
  return values;
}

Deno.test("test vectors: the code produces every value docs/sealed-format.md shows", async () => {
  const doc = docVectors();
  const identity = counting(32, 0x01);
  const ephemeralSecret = counting(32, 0x21);
  const fileKey = counting(32, 0x41);
  const salt = counting(16, 0x61);
  const recipient = await recipientOf(identity);
  const share = await recipientOf(ephemeralSecret);
  const shared = (await x25519(ephemeralSecret, recipient))!;
  const f = fields({ producer: "spool test vector" });
  const { header, keys } = await createRunHeader(f, [recipient], {
    fileKey,
    salt,
    ephemeralSecret,
  });
  const b = new SegmentBuilder();
  b.addMetadata({ source: "test" });
  b.addRecord(1, 1_700_000_000_000_000_000n, 7, text("hello"));
  b.addRecord(2, 1_700_000_000_000_001_000n, 7, text("world"));
  const h = headerOf(b, true);
  const plaintext = b.take();
  const segment = sealSegment(keys.payloadKey, keys.headerHash, h, plaintext);
  const hkdf = (ikm: Uint8Array, s: Uint8Array, info: string) =>
    hex(new Uint8Array(hkdfSync("sha256", ikm, s, info, 32)));
  const shareAndRecipient = new Uint8Array(64);
  shareAndRecipient.set(share);
  shareAndRecipient.set(recipient, 32);

  const computed: Record<string, string> = {
    identity_secret: hex(identity),
    identity: encodeIdentity(identity),
    recipient_key: hex(recipient),
    recipient: encodeRecipient(recipient),
    ephemeral_secret: hex(ephemeralSecret),
    share: hex(share),
    shared: hex(shared),
    wrap_key: hkdf(shared, shareAndRecipient, "spool-sealed/v1 X25519"),
    file_key: hex(fileKey),
    stanza: hex(header.stanzas[0]!),
    salt: hex(salt),
    mac_key: hkdf(fileKey, salt, "spool-sealed/v1 header"),
    payload_key: hex(keys.payloadKey),
    run_header: hex(header.bytes),
    header_hash: hex(header.hash),
    plaintext: hex(plaintext),
    nonce: "000000000000000000000001",
    segment: hex(segment),
  };
  assert.deepEqual([...doc.keys()], Object.keys(computed));
  for (const [name, value] of Object.entries(computed)) assert.equal(doc.get(name), value, name);

  // And the documented bytes open, as a reader that knows only the doc would open them.
  const parsed = parseRunHeader(unhex(doc.get("run_header")!), "vector", 0);
  const opened = await openRunHeader(parsed, [parseIdentity(doc.get("identity")!, "doc")], WHERE);
  assert.equal(hex(opened.payloadKey), doc.get("payload_key"));
  const unit = unhex(doc.get("segment")!);
  assert.ok(segmentChecksumOk(unit));
  assert.equal(hex(openSegment(opened.payloadKey, opened.headerHash, unit)!), doc.get("plaintext"));
});
