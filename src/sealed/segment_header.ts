/**
 * The segment header: what a segment holds, in clear, and the CRC32C that
 * tells a torn or rotted segment from a tampered one without a key. Its
 * first 52 bytes are also the AEAD's associated data, so no field can be
 * changed without the segment failing to open.
 *
 * @module
 */

import { crc32c } from "./crc32c.ts";
import { SealedFormatError } from "./sealed_errors.ts";
import {
  MAX_SEGMENT_PLAINTEXT,
  SEGMENT_FINAL,
  SEGMENT_HEADER_BYTES,
  SEGMENT_HEADER_SIGNED_BYTES,
  SEGMENT_MAGIC,
  TAG_BYTES,
} from "./sealed_format.ts";

/** The fields of a segment header. */
export interface SegmentHeader {
  /** The last segment of its run. */
  final: boolean;
  /** Position in its run: 0, 1, 2… */
  index: number;
  /** Bytes of the wire: the ciphertext and its tag. */
  wireLength: number;
  /** Bytes of the plaintext: the frames. */
  plaintextLength: number;
  /** Frames in the plaintext. */
  frameCount: number;
  /** Record frames among them. */
  dataFrames: number;
  /** Seq of the first record; 0 when there is none. */
  firstSeq: number;
  /** Seq of the last record; 0 when there is none. */
  lastSeq: number;
}

/**
 * Writes `h` into `into[0, 56)`, with the CRC32C of the header and `wire`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSegmentHeader, encodeSegmentHeader, segmentChecksumOk } from "./segment_header.ts";
 * const wire = new Uint8Array(16 + 3);
 * const unit = new Uint8Array(56 + wire.length);
 * unit.set(wire, 56);
 * const h = { final: true, index: 4, wireLength: 19, plaintextLength: 3, frameCount: 1, dataFrames: 1, firstSeq: 9, lastSeq: 9 };
 * encodeSegmentHeader(h, unit, wire);
 * assert.deepEqual(decodeSegmentHeader(unit, "s", 0), h);
 * assert.ok(segmentChecksumOk(unit));
 * unit[60] = 1;
 * assert.equal(segmentChecksumOk(unit), false);
 * ```
 */
export function encodeSegmentHeader(h: SegmentHeader, into: Uint8Array, wire: Uint8Array): void {
  const v = new DataView(into.buffer, into.byteOffset, SEGMENT_HEADER_BYTES);
  into.set(SEGMENT_MAGIC, 0);
  v.setUint32(4, h.final ? SEGMENT_FINAL : 0, true);
  v.setBigUint64(8, BigInt(h.index), true);
  v.setUint32(16, h.wireLength, true);
  v.setUint32(20, h.plaintextLength, true);
  v.setUint32(24, h.frameCount, true);
  v.setUint32(28, h.dataFrames, true);
  v.setBigUint64(32, BigInt(h.firstSeq), true);
  v.setBigUint64(40, BigInt(h.lastSeq), true);
  v.setUint32(48, 0, true);
  v.setUint32(
    SEGMENT_HEADER_SIGNED_BYTES,
    crc32c(into.subarray(0, SEGMENT_HEADER_SIGNED_BYTES), wire),
    true,
  );
}

function field(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(n);
}

/**
 * Reads the header at the start of `bytes` (at least 56 bytes), checking
 * that its fields are in range; the CRC is checked by
 * {@linkcode segmentChecksumOk} once the wire is read too.
 *
 * @throws {SealedFormatError} when the magic, a flag or a length is wrong; `path` and `offset` name the unit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSegmentHeader } from "./segment_header.ts";
 * assert.throws(() => decodeSegmentHeader(new Uint8Array(56), "/s/stream.sealed", 96), {
 *   name: "SealedFormatError",
 *   message: "Segment at offset 96 of '/s/stream.sealed' has no 'SSEG' magic",
 * });
 * ```
 */
export function decodeSegmentHeader(
  bytes: Uint8Array,
  path: string,
  offset: number,
): SegmentHeader {
  const bad = (what: string) =>
    new SealedFormatError(`Segment at offset ${offset} of '${path}' ${what}`, path, offset);
  if (bytes.length < SEGMENT_HEADER_BYTES) throw bad("is shorter than its header");
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    if (bytes[i] !== SEGMENT_MAGIC[i]) throw bad("has no 'SSEG' magic");
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  const flags = v.getUint32(4, true);
  if ((flags & ~SEGMENT_FINAL) !== 0) throw bad(`has unknown flags '${flags}'`);
  const h: SegmentHeader = {
    final: (flags & SEGMENT_FINAL) !== 0,
    index: field(v, 8),
    wireLength: v.getUint32(16, true),
    plaintextLength: v.getUint32(20, true),
    frameCount: v.getUint32(24, true),
    dataFrames: v.getUint32(28, true),
    firstSeq: field(v, 32),
    lastSeq: field(v, 40),
  };
  if (h.index < 0) throw bad("has an index of 2^53 or more");
  if (h.firstSeq < 0 || h.lastSeq < 0) throw bad("has a seq of 2^53 or more");
  if (h.plaintextLength > MAX_SEGMENT_PLAINTEXT) {
    throw bad(
      `claims '${h.plaintextLength}' plaintext bytes, more than '${MAX_SEGMENT_PLAINTEXT}'`,
    );
  }
  if (h.wireLength !== h.plaintextLength + TAG_BYTES) {
    throw bad(`has wire length '${h.wireLength}' for '${h.plaintextLength}' plaintext bytes`);
  }
  if (h.dataFrames > h.frameCount) throw bad("has more data frames than frames");
  if ((h.dataFrames === 0) !== (h.firstSeq === 0 && h.lastSeq === 0) || h.firstSeq > h.lastSeq) {
    throw bad(`has seqs '${h.firstSeq}'..'${h.lastSeq}' for '${h.dataFrames}' records`);
  }
  if (v.getUint32(48, true) !== 0) throw bad("has a reserved field that is not zero");
  return h;
}

/**
 * Whether the CRC32C in the header of `unit` (header then wire, exactly)
 * matches the bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentChecksumOk } from "./segment_header.ts";
 * assert.equal(segmentChecksumOk(new Uint8Array(72)), false);
 * ```
 */
export function segmentChecksumOk(unit: Uint8Array): boolean {
  const v = new DataView(unit.buffer, unit.byteOffset, SEGMENT_HEADER_BYTES);
  const stored = v.getUint32(SEGMENT_HEADER_SIGNED_BYTES, true);
  return stored === crc32c(
    unit.subarray(0, SEGMENT_HEADER_SIGNED_BYTES),
    unit.subarray(SEGMENT_HEADER_BYTES),
  );
}

/**
 * The AEAD nonce of a segment: its index as 11 big-endian bytes, then 1 for
 * a final segment and 0 otherwise, so a segment moved to another index, or
 * a run cut before its final segment, fails to open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentNonce } from "./segment_header.ts";
 * assert.deepEqual([...segmentNonce(258, true)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1]);
 * ```
 */
export function segmentNonce(index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  let n = BigInt(index);
  for (let i = 10; i >= 0 && n > 0n; i--) {
    nonce[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/**
 * The AEAD's associated data for a segment: the hash of its run's header,
 * then the segment header's first 52 bytes, which binds every header of the
 * store into the tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentAd } from "./segment_header.ts";
 * const ad = segmentAd(new Uint8Array(32).fill(7), new Uint8Array(56).fill(1));
 * assert.equal(ad.length, 84);
 * assert.equal(ad[0], 7);
 * assert.equal(ad[83], 1);
 * ```
 */
export function segmentAd(headerHash: Uint8Array, unit: Uint8Array): Uint8Array {
  const ad = new Uint8Array(headerHash.length + SEGMENT_HEADER_SIGNED_BYTES);
  ad.set(headerHash, 0);
  ad.set(unit.subarray(0, SEGMENT_HEADER_SIGNED_BYTES), headerHash.length);
  return ad;
}
