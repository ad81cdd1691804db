/**
 * The run header: what starts each writer session's run in a sealed store.
 * It names the format, the writer's policy and the run's place in the
 * chain of runs, wraps the run's random file key for every recipient, and
 * ends with an HMAC under a key derived from that file key. Its SHA-256 is
 * bound into every segment of the run.
 *
 * Layout (little-endian; `docs/sealed-format.md` is normative):
 *
 * | off | size | field |
 * |---|---|---|
 * | 0 | 8 | magic `\x89SPLSEAL` |
 * | 8 | 2 | version 1 |
 * | 10 | 2 | aead 1 (ChaCha20-Poly1305) |
 * | 12 | 4 | header_len, MAC included |
 * | 16 | 16 | salt |
 * | 32 | 4 | segment_bytes |
 * | 36 | 4 | flush_ms |
 * | 40 | 8 | created_ms |
 * | 48 | 4 | run |
 * | 52 | 4 | run_flags (bit 0 PREV_CUT) |
 * | 56 | 8 | prev_segments |
 * | 64 | 32 | prev_header_hash |
 * | 96 | 2+P | producer (u16 length, UTF-8) |
 * | . | 2+S | stream (u16 length, UTF-8) |
 * | . | 1 | stanza count N |
 * | . | 81·N | stanzas |
 * | . | 32 | HMAC-SHA256 of all bytes before it |
 *
 * @module
 */

import { createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { SealedDamageError, SealedFormatError, SealedKeyError } from "./sealed_errors.ts";
import {
  AEAD_CHACHA20_POLY1305,
  FORMAT_VERSION,
  MAC_BYTES,
  MAX_RUN_HEADER_BYTES,
  MAX_SEGMENT_PLAINTEXT,
  PREV_CUT,
  RUN_HEADER_FIXED_BYTES,
  RUN_MAGIC,
  STANZA_BYTES,
  STANZA_X25519,
} from "./sealed_format.ts";
import { runHeaderLength } from "./store_unit.ts";
import { unwrapFileKey, wrapFileKey } from "./x25519_stanza.ts";

/** The fields a writer chooses for a run header. */
export interface RunHeaderFields {
  /** Target plaintext bytes per segment (policy, informative): 1 to 64 MiB. */
  segmentBytes: number;
  /** Longest a record waits before its segment is cut (policy, informative); 0 for none. */
  flushMs: number;
  /** When the run began, in ms since the Unix epoch. */
  createdMs: number;
  /** The run's number: 0 for a store's first, the previous plus 1 after. */
  run: number;
  /** The previous run has no final segment, and this one goes on after its committed segments. */
  prevCut: boolean;
  /** Segments the previous run holds; 0 for run 0. */
  prevSegments: number;
  /** SHA-256 of the previous run's whole header; 32 zero bytes for run 0. */
  prevHeaderHash: Uint8Array;
  /** The program that wrote the run, such as `spool 0.1.0 archive-tap`. */
  producer: string;
  /** The stream's name. */
  stream: string;
}

/** A run header: its fields, its exact bytes and their parts. */
export interface RunHeader extends RunHeaderFields {
  /** The whole header, MAC included. */
  bytes: Uint8Array;
  /** The run's 16-byte salt. */
  salt: Uint8Array;
  /** The 81-byte recipient stanzas. */
  stanzas: Uint8Array[];
  /** SHA-256 of `bytes`: the header hash bound into every segment, and the next run's `prevHeaderHash`. */
  hash: Uint8Array;
}

/** What opening a run header yields: all a reader needs to open its segments. */
export interface RunKeys {
  /** The ChaCha20-Poly1305 key of the run's segments. */
  payloadKey: Uint8Array;
  /** SHA-256 of the run header, the first part of every segment's associated data. */
  headerHash: Uint8Array;
}

/**
 * Fixed secrets for {@linkcode createRunHeader}, FOR TEST VECTORS ONLY: a
 * writer that fixes any of them can repeat a (key, nonce) pair and loses
 * all secrecy.
 */
export interface RunHeaderTestSecrets {
  /** The 32-byte file key, instead of a random one. */
  fileKey?: Uint8Array;
  /** The 16-byte salt, instead of a random one. */
  salt?: Uint8Array;
  /** The ephemeral X25519 secret of every stanza, instead of a random one each. */
  ephemeralSecret?: Uint8Array;
}

const SALT_BYTES = 16;
const FILE_KEY_BYTES = 32;
const HASH_BYTES = 32;
const MAX_STANZAS = 255;
const MAX_U32 = 0xffff_ffff;
const MAX_TEXT_BYTES = 0xffff;
const HEADER_INFO = "spool-sealed/v1 header";
const PAYLOAD_INFO = "spool-sealed/v1 payload";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function hkdf(fileKey: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", fileKey, salt, info, 32));
}

function headerMac(fileKey: Uint8Array, salt: Uint8Array, signed: Uint8Array): Uint8Array {
  return createHmac("sha256", hkdf(fileKey, salt, HEADER_INFO)).update(signed).digest();
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** What is wrong with `f`, or `undefined`; shared by the writer and the parser. */
function fieldProblem(f: RunHeaderFields): string | undefined {
  const whole = (n: number, max: number) => Number.isSafeInteger(n) && n >= 0 && n <= max;
  if (!whole(f.segmentBytes, MAX_SEGMENT_PLAINTEXT) || f.segmentBytes === 0) {
    return `has segment_bytes '${f.segmentBytes}', not 1 to '${MAX_SEGMENT_PLAINTEXT}'`;
  }
  if (!whole(f.flushMs, MAX_U32)) return `has flush_ms '${f.flushMs}' out of range`;
  if (!whole(f.createdMs, Number.MAX_SAFE_INTEGER)) {
    return `has created_ms '${f.createdMs}' out of range`;
  }
  if (!whole(f.run, MAX_U32)) return `has run '${f.run}' out of range`;
  if (!whole(f.prevSegments, Number.MAX_SAFE_INTEGER)) {
    return `has prev_segments '${f.prevSegments}' out of range`;
  }
  if (!(f.prevHeaderHash instanceof Uint8Array) || f.prevHeaderHash.length !== HASH_BYTES) {
    return "has a prev_header_hash that is not 32 bytes";
  }
  if (f.run === 0 && (f.prevCut || f.prevSegments !== 0 || !isZero(f.prevHeaderHash))) {
    return "is run 0 and names a previous run";
  }
  if (f.run > 0 && !f.prevCut && f.prevSegments === 0) {
    return "follows a finished run that holds no segment";
  }
  return undefined;
}

/**
 * Builds the header of a new run for `recipients` (X25519 public keys):
 * a fresh random file key and salt, one stanza per recipient, and the MAC.
 * Returns the header and the keys the run's segments are sealed with.
 *
 * @param testSecrets For test vectors only; see {@linkcode RunHeaderTestSecrets}.
 * @throws {RangeError} when a field is out of range, there are not 1 to 255
 *   recipients, or the header would pass 65536 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientOf } from "./age_keys.ts";
 * import { createRunHeader, openRunHeader, parseRunHeader } from "./run_header.ts";
 * const secret = crypto.getRandomValues(new Uint8Array(32));
 * const fields = {
 *   segmentBytes: 1 << 20, flushMs: 200, createdMs: 1_700_000_000_000, run: 0, prevCut: false,
 *   prevSegments: 0, prevHeaderHash: new Uint8Array(32), producer: "spool", stream: "quotes",
 * };
 * const { header, keys } = await createRunHeader(fields, [await recipientOf(secret)]);
 * const parsed = parseRunHeader(header.bytes, "s", 0);
 * assert.equal(parsed.stream, "quotes");
 * const where = { path: "s", offset: 0, seq: 0, identitySource: "id.txt" };
 * assert.deepEqual(await openRunHeader(parsed, [secret], where), keys);
 * ```
 */
export async function createRunHeader(
  fields: RunHeaderFields,
  recipients: Uint8Array[],
  testSecrets: RunHeaderTestSecrets = {},
): Promise<{ header: RunHeader; keys: RunKeys }> {
  const problem = fieldProblem(fields);
  if (problem !== undefined) throw new RangeError(`The run header ${problem}`);
  if (recipients.length < 1 || recipients.length > MAX_STANZAS) {
    throw new RangeError(
      `A run is sealed for 1 to ${MAX_STANZAS} recipients, not '${recipients.length}'`,
    );
  }
  const producer = utf8.encode(fields.producer);
  const stream = utf8.encode(fields.stream);
  if (producer.length > MAX_TEXT_BYTES || stream.length > MAX_TEXT_BYTES) {
    throw new RangeError(`The producer and stream names are at most ${MAX_TEXT_BYTES} bytes`);
  }
  const length = RUN_HEADER_FIXED_BYTES + 2 + producer.length + 2 + stream.length + 1 +
    STANZA_BYTES * recipients.length + MAC_BYTES;
  if (length > MAX_RUN_HEADER_BYTES) {
    throw new RangeError(
      `The run header would be '${length}' bytes, more than '${MAX_RUN_HEADER_BYTES}'`,
    );
  }
  const fileKey = testSecrets.fileKey ?? crypto.getRandomValues(new Uint8Array(FILE_KEY_BYTES));
  const salt = testSecrets.salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  if (fileKey.length !== FILE_KEY_BYTES || salt.length !== SALT_BYTES) {
    throw new RangeError("A test file key is 32 bytes and a test salt 16");
  }
  const stanzas = await Promise.all(
    recipients.map((r) => wrapFileKey(fileKey, r, testSecrets.ephemeralSecret)),
  );

  const bytes = new Uint8Array(length);
  const v = new DataView(bytes.buffer);
  bytes.set(RUN_MAGIC, 0);
  v.setUint16(8, FORMAT_VERSION, true);
  v.setUint16(10, AEAD_CHACHA20_POLY1305, true);
  v.setUint32(12, length, true);
  bytes.set(salt, 16);
  v.setUint32(32, fields.segmentBytes, true);
  v.setUint32(36, fields.flushMs, true);
  v.setBigUint64(40, BigInt(fields.createdMs), true);
  v.setUint32(48, fields.run, true);
  v.setUint32(52, fields.prevCut ? PREV_CUT : 0, true);
  v.setBigUint64(56, BigInt(fields.prevSegments), true);
  bytes.set(fields.prevHeaderHash, 64);
  let at = RUN_HEADER_FIXED_BYTES;
  for (const text of [producer, stream]) {
    v.setUint16(at, text.length, true);
    bytes.set(text, at + 2);
    at += 2 + text.length;
  }
  bytes[at++] = stanzas.length;
  for (const stanza of stanzas) {
    bytes.set(stanza, at);
    at += STANZA_BYTES;
  }
  bytes.set(headerMac(fileKey, salt, bytes.subarray(0, at)), at);

  const header = parseRunHeader(bytes, "new run header", 0);
  return {
    header,
    keys: { payloadKey: hkdf(fileKey, salt, PAYLOAD_INFO), headerHash: header.hash },
  };
}

/**
 * Reads the run header at the start of `bytes` (which may run on past it),
 * checking its structure: magic, version, algorithm, every field's range,
 * and that its lengths and stanza count fill header_len exactly. The MAC
 * needs a key, so {@linkcode openRunHeader} checks it. The result holds a
 * copy of the header's bytes.
 *
 * @param path The store, for errors.
 * @param offset The header's byte offset in the store, for errors.
 * @throws {SealedFormatError} for anything wrong, naming `path` and `offset`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRunHeader } from "./run_header.ts";
 * assert.throws(() => parseRunHeader(new Uint8Array(200), "/s/stream.sealed", 0), {
 *   name: "SealedFormatError",
 *   message: "Run header at offset 0 of '/s/stream.sealed' has no sealed store magic",
 * });
 * ```
 */
export function parseRunHeader(bytes: Uint8Array, path: string, offset: number): RunHeader {
  const bad = (what: string) =>
    new SealedFormatError(`Run header at offset ${offset} of '${path}' ${what}`, path, offset);
  const length = runHeaderLength(bytes, path, offset);
  if (bytes.length < length) {
    throw bad(`is cut short: '${bytes.length}' of its '${length}' bytes`);
  }
  const own = bytes.slice(0, length);
  const v = new DataView(own.buffer);
  const end = length - MAC_BYTES;
  let at = RUN_HEADER_FIXED_BYTES;
  const take = (n: number): Uint8Array => {
    if (at + n > end) throw bad(`does not fit its length of '${length}' bytes`);
    at += n;
    return own.subarray(at - n, at);
  };
  const text = (what: string): string => {
    const n = take(2);
    const body = take(n[0]! | (n[1]! << 8));
    try {
      return strictUtf8.decode(body);
    } catch {
      throw bad(`has a ${what} that is not UTF-8`);
    }
  };
  const u64 = (at: number): number => {
    const n = v.getBigUint64(at, true);
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(n);
  };

  const flags = v.getUint32(52, true);
  if ((flags & ~PREV_CUT) !== 0) throw bad(`has unknown run flags '${flags}'`);
  const producer = text("producer");
  const stream = text("stream name");
  const count = take(1)[0]!;
  if (count === 0) throw bad("has no recipient stanza");
  const stanzas: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const stanza = take(STANZA_BYTES);
    if (stanza[0] !== STANZA_X25519) throw bad(`has a stanza of unknown type '${stanza[0]}'`);
    stanzas.push(stanza);
  }
  if (at !== end) throw bad(`has '${end - at}' bytes left over before its MAC`);

  const header: RunHeader = {
    segmentBytes: v.getUint32(32, true),
    flushMs: v.getUint32(36, true),
    createdMs: u64(40),
    run: v.getUint32(48, true),
    prevCut: (flags & PREV_CUT) !== 0,
    prevSegments: u64(56),
    prevHeaderHash: own.subarray(64, 96),
    producer,
    stream,
    bytes: own,
    salt: own.subarray(16, 32),
    stanzas,
    hash: sha256(own),
  };
  const problem = fieldProblem(header);
  if (problem !== undefined) throw bad(problem);
  return header;
}

/**
 * Opens a parsed run header with the first of `identities` (X25519
 * secrets) that unwraps one of its stanzas, checks its MAC, and returns the
 * run's keys.
 *
 * @param where The store, the header's offset, the last seq delivered
 *   before it, and where the identities came from, for errors.
 * @throws {SealedKeyError} when no identity opens any stanza.
 * @throws {SealedDamageError} (reason `authentication`) when the MAC does not match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientOf } from "./age_keys.ts";
 * import { createRunHeader, openRunHeader } from "./run_header.ts";
 * const fields = {
 *   segmentBytes: 4096, flushMs: 0, createdMs: 0, run: 0, prevCut: false,
 *   prevSegments: 0, prevHeaderHash: new Uint8Array(32), producer: "", stream: "s",
 * };
 * const { header } = await createRunHeader(fields, [await recipientOf(new Uint8Array(32).fill(1))]);
 * const where = { path: "/s/stream.sealed", offset: 0, seq: 0, identitySource: "id.txt" };
 * await assert.rejects(openRunHeader(header, [new Uint8Array(32).fill(2)], where), {
 *   name: "SealedKeyError",
 *   message: "No identity in 'id.txt' opens run 0 of '/s/stream.sealed' (its header at offset 0, after seq 0)",
 * });
 * ```
 */
export async function openRunHeader(
  header: RunHeader,
  identities: Uint8Array[],
  where: { path: string; offset: number; seq: number; identitySource: string },
): Promise<RunKeys> {
  let fileKey: Uint8Array | undefined;
  search: for (const identity of identities) {
    for (const stanza of header.stanzas) {
      fileKey = await unwrapFileKey(stanza, identity);
      if (fileKey !== undefined) break search;
    }
  }
  if (fileKey === undefined) {
    throw new SealedKeyError(
      `No identity in '${where.identitySource}' opens run ${header.run} of '${where.path}' ` +
        `(its header at offset ${where.offset}, after seq ${where.seq})`,
      where.identitySource,
    );
  }
  const end = header.bytes.length - MAC_BYTES;
  const mac = headerMac(fileKey, header.salt, header.bytes.subarray(0, end));
  if (!timingSafeEqual(mac, header.bytes.subarray(end))) {
    throw new SealedDamageError(
      where.path,
      where.offset,
      where.seq,
      "authentication",
      `the header of run ${header.run} does not authenticate`,
    );
  }
  return { payloadKey: hkdf(fileKey, header.salt, PAYLOAD_INFO), headerHash: header.hash };
}
