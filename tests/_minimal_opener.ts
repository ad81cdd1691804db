/**
 * A second, minimal opener of sealed stores, written from docs/sealed-format.md alone (nothing
 * under src/sealed/), so that the tests cross-check spool's writer and reader against the spec.
 * It holds the whole store in memory, checks every rule the spec gives a reader, and throws on the
 * first violation: it returns records only from a store that opens whole.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  timingSafeEqual,
} from "node:crypto";
import { bech32 } from "bech32";

/** A record of a store, as the minimal opener reads it. */
export interface OpenedRecord {
  seq: number;
  timestampNs: bigint;
  typeId: number;
  payload: Uint8Array;
}

/** Everything a store holds, as the minimal opener reads it. */
export interface OpenedStore {
  records: OpenedRecord[];
  /** The metadata frames' JSON objects, in store order. */
  metadata: unknown[];
  /** Whole run headers read. */
  runs: number;
  /** `unfinished` when the last run has no FINAL segment or the store ends in a torn unit. */
  end: "clean" | "unfinished";
}

const RUN_MAGIC = [0x89, 0x53, 0x50, 0x4c, 0x53, 0x45, 0x41, 0x4c];
const SEGMENT_MAGIC = [0x53, 0x53, 0x45, 0x47];
const SEGMENT_HEADER = 56;
const MAX_PLAINTEXT = 64 * 1024 * 1024;
const MAX_NUMBER = 2 ** 53;
const PKCS8_X25519 = "302e020100300506032b656e04220420";
const SPKI_X25519 = "302a300506032b656e032100";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What the opener knows of the run it is in. */
interface Run {
  number: number;
  hash: Uint8Array;
  payloadKey: Uint8Array;
  segments: number;
  final: boolean;
}

function damage(offset: number, reason: string, detail: string): never {
  throw new RangeError(`Sealed store damaged (${reason}) at offset ${offset}: ${detail}`);
}

function startsWith(bytes: Uint8Array, at: number, magic: number[]): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

function u64(view: DataView, at: number, offset: number, field: string): number {
  const value = view.getBigUint64(at, true);
  if (value >= BigInt(MAX_NUMBER)) damage(offset, "header", `'${field}' is 2^53 or more`);
  return Number(value);
}

const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string) =>
  new Uint8Array(hkdfSync("sha256", ikm, salt, info, 32));
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

// The Castagnoli table, reflected polynomial 0x82F63B78.
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});

function crc32c(...parts: Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) {
    for (const byte of part) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array) {
  const body = sealed.subarray(0, sealed.length - 16);
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  decipher.setAAD(ad, { plaintextLength: body.length });
  decipher.setAuthTag(sealed.subarray(body.length));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    return undefined;
  }
}

// X25519 keys as DER: the fixed PKCS #8 and SPKI prefixes, then the 32 raw bytes.
const der = (prefix: string, raw: Uint8Array) => Buffer.concat([Buffer.from(prefix, "hex"), raw]);
const privateKey = (secret: Uint8Array) =>
  createPrivateKey({ key: der(PKCS8_X25519, secret), format: "der", type: "pkcs8" });

/** X25519(secret, point); undefined for an all-zero result: the stanza is not for `secret`. */
function x25519(secret: Uint8Array, point: Uint8Array): Uint8Array | undefined {
  const publicKey = createPublicKey({ key: der(SPKI_X25519, point), format: "der", type: "spki" });
  try {
    const shared = new Uint8Array(diffieHellman({ privateKey: privateKey(secret), publicKey }));
    return shared.some((b) => b !== 0) ? shared : undefined;
  } catch {
    return undefined; // OpenSSL itself refuses an all-zero result
  }
}

/** X25519(secret, 9): the recipient public key. */
function recipientOf(secret: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKey(secret)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** The X25519 secrets of an age identity file; errors name the line, never its text. */
function parseIdentityFile(text: string): Uint8Array[] {
  const secrets: Uint8Array[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    // bech32 forbids mixed case; a whole line in either case is accepted.
    if (line === line.toLowerCase() || line === line.toUpperCase()) {
      try {
        const { prefix, words } = bech32.decode(line.toLowerCase(), 1023);
        const secret = new Uint8Array(bech32.fromWords(words));
        if (prefix === "age-secret-key-" && secret.length === 32) return void secrets.push(secret);
      } catch { /* reported below, without the line's text */ }
    }
    throw new TypeError(`Identity file line ${i + 1} is not an age X25519 identity`);
  });
  if (secrets.length === 0) throw new TypeError("Identity file holds no identity");
  return secrets;
}

/** Checks a whole run header (steps 2 to 5 of the spec's list) and derives its keys. */
function openRunHeader(h: Uint8Array, offset: number, secrets: Uint8Array[], prev?: Run): Run {
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const macAt = h.length - 32;
  const segmentBytes = view.getUint32(32, true);
  if (segmentBytes < 1 || segmentBytes > MAX_PLAINTEXT) damage(offset, "header", "segment_bytes");
  const number = view.getUint32(48, true);
  const flags = view.getUint32(52, true);
  if (flags & ~1) damage(offset, "header", "unknown run flag");
  const prevSegments = u64(view, 56, offset, "prev_segments");
  const prevHash = h.subarray(64, 96);
  let at = 96;
  for (const field of ["producer", "stream"]) {
    const size = at + 2 <= macAt ? view.getUint16(at, true) : Infinity;
    if (at + 2 + size > macAt) damage(offset, "header", `'${field}' overruns the header`);
    try {
      utf8.decode(h.subarray(at + 2, at + 2 + size));
    } catch {
      damage(offset, "header", `'${field}' is not UTF-8`);
    }
    at += 2 + size;
  }
  const count = at < macAt ? h[at]! : 0;
  if (count < 1 || at + 1 + 81 * count + 32 !== h.length) {
    damage(offset, "header", "header_len does not match its fields");
  }
  const stanzas = Array.from(
    { length: count },
    (_, i) => h.subarray(at + 1 + 81 * i, at + 82 + 81 * i),
  );
  if (stanzas.some((s) => s[0] !== 1)) damage(offset, "header", "unknown stanza type");
  const zeroHash = prevHash.every((b) => b === 0);
  if (number === 0 && (flags !== 0 || prevSegments !== 0 || !zeroHash)) {
    damage(offset, "header", "run 0 names a previous run");
  }
  let fileKey: Uint8Array | undefined;
  for (const stanza of stanzas) {
    for (const secret of secrets) {
      const share = stanza.subarray(1, 33);
      const shared = x25519(secret, share);
      if (!shared) continue;
      const salt = Buffer.concat([share, recipientOf(secret)]);
      const wrapKey = hkdf(shared, salt, "spool-sealed/v1 X25519");
      fileKey ??= aeadOpen(wrapKey, new Uint8Array(12), stanza.subarray(33), new Uint8Array());
    }
  }
  if (!fileKey) throw new TypeError(`No identity opens run ${number} at offset ${offset}`);
  const salt = h.subarray(16, 32);
  const mac = createHmac("sha256", hkdf(fileKey, salt, "spool-sealed/v1 header"))
    .update(h.subarray(0, macAt)).digest();
  if (!sameBytes(mac, h.subarray(macAt))) damage(offset, "authentication", "run header MAC");
  const chained = prev === undefined ? number === 0 : number === prev.number + 1 &&
    sameBytes(prevHash, prev.hash) && prevSegments === prev.segments &&
    ((flags & 1) === 1) === !prev.final;
  if (!chained) damage(offset, "order", `run ${number} does not follow the previous run`);
  return {
    number,
    hash: new Uint8Array(createHash("sha256").update(h).digest()),
    payloadKey: hkdf(fileKey, salt, "spool-sealed/v1 payload"),
    segments: 0,
    final: false,
  };
}

/** Walks a segment's plaintext; checks it against its header and the last seq before it. */
function readFrames(plain: Uint8Array, head: DataView, offset: number, lastSeq: number) {
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const records: OpenedRecord[] = [];
  const metadata: unknown[] = [];
  let at = 0;
  let frames = 0;
  while (at < plain.length) {
    if (at + 24 > plain.length) damage(offset, "frames", "a frame header overruns the plaintext");
    const size = view.getUint32(at, true);
    const kind = view.getUint16(at + 4, true);
    const typeId = view.getUint16(at + 6, true);
    const seq = view.getBigUint64(at + 8, true);
    const timestampNs = view.getBigInt64(at + 16, true);
    if (at + 24 + size > plain.length) damage(offset, "frames", "a frame overruns the plaintext");
    const payload = plain.slice(at + 24, at + 24 + size);
    if (kind === 1) {
      const last = records.at(-1)?.seq ?? lastSeq;
      if (seq >= BigInt(MAX_NUMBER) || seq <= BigInt(last)) {
        damage(offset, "order", `record seq '${seq}' does not follow seq '${last}'`);
      }
      records.push({ seq: Number(seq), timestampNs, typeId, payload });
    } else if (kind === 2) {
      if (typeId !== 0 || seq !== 0n || timestampNs !== 0n) {
        damage(offset, "frames", "metadata frame fields");
      }
      let json: unknown;
      try {
        json = JSON.parse(utf8.decode(payload));
      } catch { /* not JSON: refused below */ }
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        damage(offset, "frames", "a metadata frame is not a JSON object");
      }
      metadata.push(json);
    } else {
      damage(offset, "frames", `unknown frame kind '${kind}'`);
    }
    at += 24 + size;
    frames++;
  }
  const first = records[0]?.seq ?? 0;
  const last = records.at(-1)?.seq ?? 0;
  if (
    frames !== head.getUint32(24, true) || records.length !== head.getUint32(28, true) ||
    first !== Number(head.getBigUint64(32, true)) || last !== Number(head.getBigUint64(40, true))
  ) damage(offset, "frames", "the segment header does not match its frames");
  return { records, metadata };
}

/** The header length a run header's P, S and N give, when `bytes` reaches them. */
function fieldsLength(bytes: Uint8Array): number | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length < 98) return undefined;
  const p = v.getUint16(96, true);
  if (bytes.length < 100 + p) return undefined;
  const s = v.getUint16(98 + p, true);
  if (bytes.length < 101 + p + s) return undefined;
  return 96 + 2 + p + 2 + s + 1 + 81 * bytes[100 + p + s]! + 32;
}

/** Checks and opens the segment at the start of `bytes`; undefined when it is torn. */
function openSegment(bytes: Uint8Array, offset: number, run: Run | undefined, lastSeq: number) {
  if (bytes.length < SEGMENT_HEADER) return undefined;
  const head = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER);
  const flags = head.getUint32(4, true);
  const index = u64(head, 8, offset, "index");
  const [wireLen, plainLen, frames, dataFrames] = [16, 20, 24, 28].map((o) =>
    head.getUint32(o, true)
  );
  const firstSeq = u64(head, 32, offset, "first_seq");
  const lastOfSegment = u64(head, 40, offset, "last_seq");
  const final = (flags & 1) === 1;
  // The header's structure comes before the torn test, so a changed wire_len is damage. A first
  // seq of 0 is the spec's mark of a segment without records.
  if (
    (flags & ~1) !== 0 || wireLen !== plainLen! + 16 || plainLen! > MAX_PLAINTEXT ||
    dataFrames! > frames! || firstSeq > lastOfSegment || head.getUint32(48, true) !== 0 ||
    (dataFrames === 0 ? lastOfSegment !== 0 : firstSeq === 0) || (!final && frames === 0)
  ) damage(offset, "header", "segment header fields out of range");
  const size = SEGMENT_HEADER + wireLen!;
  if (bytes.length < size) return undefined;
  const headBytes = bytes.subarray(0, 52);
  const wire = bytes.subarray(SEGMENT_HEADER, size);
  if (crc32c(headBytes, wire) !== head.getUint32(52, true)) {
    // The last unit: a torn tail, when its last 512 bytes (its wire, if shorter) are zeros.
    const tail = wire.subarray(Math.max(0, wire.length - 512));
    if (bytes.length === size && tail.length > 0 && tail.every((b) => b === 0)) return undefined;
    damage(offset, "checksum", "segment CRC32C");
  }
  if (!run || run.final || index !== run.segments) {
    damage(offset, "order", `segment ${index} is out of place`);
  }
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(3, BigInt(index), false);
  nonce[11] = final ? 1 : 0;
  const plain = aeadOpen(run.payloadKey, nonce, wire, Buffer.concat([run.hash, headBytes]));
  if (!plain) damage(offset, "authentication", `segment ${index} of run ${run.number}`);
  const opened = readFrames(plain, head, offset, lastSeq);
  run.segments++;
  run.final = final;
  return { size, ...opened };
}

/**
 * Opens a whole `stream.sealed` with X25519 secrets or the text of an age identity file.
 *
 * @throws {RangeError} on damage of any kind (naming the offset); {@link TypeError} when no
 * identity opens a run; {@link SyntaxError} for a version or algorithm it does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSealedFile } from "./_minimal_opener.ts";
 * await assert.rejects(openSealedFile(new TextEncoder().encode("not a store"), []), RangeError);
 * ```
 */
export function openSealedFile(
  bytes: Uint8Array,
  identities: Uint8Array[] | string,
): Promise<OpenedStore> {
  // A promise, as the brief's API has it; every check runs synchronously inside, throws reject it.
  return new Promise((resolve) => resolve(openStore(bytes, identities)));
}

function openStore(bytes: Uint8Array, identities: Uint8Array[] | string): OpenedStore {
  const secrets = typeof identities === "string" ? parseIdentityFile(identities) : identities;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: OpenedStore = { records: [], metadata: [], runs: 0, end: "clean" };
  let run: Run | undefined;
  let lastSeq = 0;
  let torn = false;
  let at = 0;
  while (at < bytes.length && !torn) {
    const rest = bytes.length - at;
    if (startsWith(bytes, at, RUN_MAGIC)) {
      if (rest < 16) torn = true;
      else {
        if (view.getUint16(at + 8, true) !== 1 || view.getUint16(at + 10, true) !== 1) {
          throw new SyntaxError(`Not a sealed store this reader knows, at offset ${at}`);
        }
        const size = view.getUint32(at + 12, true);
        if (size < 96 || size > 65536) damage(at, "header", `header_len '${size}'`);
        if (rest < size) {
          // Torn only when the fields that are there agree with header_len.
          const fields = fieldsLength(bytes.subarray(at));
          if (fields !== undefined && fields !== size) {
            damage(at, "header", `header_len '${size}' against fields of '${fields}'`);
          }
          torn = true;
        } else {
          run = openRunHeader(bytes.subarray(at, at + size), at, secrets, run);
          out.runs++;
          at += size;
        }
      }
    } else if (startsWith(bytes, at, SEGMENT_MAGIC)) {
      const segment = openSegment(bytes.subarray(at), at, run, lastSeq);
      if (!segment) torn = true;
      else {
        segment.records.forEach((r) => out.records.push(r));
        out.metadata.push(...segment.metadata);
        lastSeq = out.records.at(-1)?.seq ?? lastSeq;
        at += segment.size;
      }
    } else if (
      rest < 8 &&
      [RUN_MAGIC, SEGMENT_MAGIC].some((m) => m.slice(0, rest).every((b, i) => bytes[at + i] === b))
    ) {
      torn = true;
    } else {
      damage(at, "order", "neither a run header nor a segment");
    }
  }
  if (torn || (run !== undefined && !run.final)) out.end = "unfinished";
  return out;
}
