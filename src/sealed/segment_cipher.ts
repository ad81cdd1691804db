/**
 * Sealing and opening one segment with ChaCha20-Poly1305 (node:crypto).
 * Synchronous and free of file access, so it runs the same in the main
 * thread and in a Worker. The nonce is the segment's index and final flag,
 * and the associated data is the run's header hash and the segment header,
 * so a segment moved, repeated, cut or given another header fails to open.
 *
 * @module
 */

import { createCipheriv, createDecipheriv } from "node:crypto";
import {
  encodeSegmentHeader,
  segmentAd,
  type SegmentHeader,
  segmentNonce,
} from "./segment_header.ts";
import {
  MAX_SEGMENT_PLAINTEXT,
  SEGMENT_FINAL,
  SEGMENT_HEADER_BYTES,
  TAG_BYTES,
} from "./sealed_format.ts";

const ALGORITHM = "chacha20-poly1305";
const EMPTY = new Uint8Array(0);
// node:crypto returns a new buffer for every update. Fed in chunks this
// size, those buffers stay small enough for the allocator to reuse them,
// while one the size of a segment is fresh memory, page-faulted in each time
// (which costs more than the cipher here); the chunks are copied into place.
const CHUNK_BYTES = 16 * 1024;

/**
 * Bytes of the unit that seals `plaintextLength` bytes: the header, the
 * ciphertext and its tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unitLength } from "./segment_cipher.ts";
 * assert.equal(unitLength(3), 56 + 3 + 16);
 * ```
 */
export function unitLength(plaintextLength: number): number {
  return SEGMENT_HEADER_BYTES + plaintextLength + TAG_BYTES;
}

/**
 * Seals `plaintext` (a segment's frames) as a whole unit: the 56-byte
 * segment header, CRC32C filled in, then the ciphertext and its tag.
 *
 * @param payloadKey The run's payload key, from its header.
 * @param headerHash The run header's SHA-256.
 * @param h The header's fields; the lengths follow from `plaintext`.
 * @param into Where to write the unit, when it holds
 *   {@linkcode unitLength} bytes; the unit is then a view of its start.
 *   Otherwise the unit has a buffer of its own.
 * @throws {RangeError} when `plaintext` passes the 64 MiB segment limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSegment, sealSegment } from "./segment_cipher.ts";
 * const key = new Uint8Array(32).fill(1), hash = new Uint8Array(32).fill(2);
 * const h = { final: false, index: 0, frameCount: 1, dataFrames: 1, firstSeq: 1, lastSeq: 1 };
 * const unit = sealSegment(key, hash, h, new Uint8Array([1, 2, 3]));
 * assert.equal(unit.length, 56 + 3 + 16);
 * assert.deepEqual(openSegment(key, hash, unit), new Uint8Array([1, 2, 3]));
 * ```
 */
export function sealSegment(
  payloadKey: Uint8Array,
  headerHash: Uint8Array,
  h: Omit<SegmentHeader, "wireLength" | "plaintextLength">,
  plaintext: Uint8Array,
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  if (plaintext.length > MAX_SEGMENT_PLAINTEXT) {
    throw new RangeError(
      `A segment holds at most '${MAX_SEGMENT_PLAINTEXT}' plaintext bytes, not '${plaintext.length}'`,
    );
  }
  const header: SegmentHeader = {
    ...h,
    wireLength: plaintext.length + TAG_BYTES,
    plaintextLength: plaintext.length,
  };
  const length = unitLength(plaintext.length);
  const unit = into !== undefined && into.length >= length
    ? into.subarray(0, length)
    : new Uint8Array(length);
  const wire = unit.subarray(SEGMENT_HEADER_BYTES);
  // The fields first (checksummed over no wire), since they are the associated data.
  encodeSegmentHeader(header, unit, EMPTY);
  const cipher = createCipheriv(ALGORITHM, payloadKey, segmentNonce(h.index, h.final), {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(segmentAd(headerHash, unit), { plaintextLength: plaintext.length });
  // node:crypto has no output buffer argument, so the ciphertext is copied in once.
  const done = update(cipher, plaintext, wire);
  wire.set(cipher.final(), done);
  wire.set(cipher.getAuthTag(), plaintext.length);
  encodeSegmentHeader(header, unit, wire);
  return unit;
}

/**
 * Opens a unit sealed by {@linkcode sealSegment}: its plaintext, in an
 * ArrayBuffer of its own (so it can be transferred), or `undefined` when
 * it does not authenticate. Check the header's structure and CRC first
 * (`decodeSegmentHeader`, `segmentChecksumOk`): after them, a failure here
 * means the unit was tampered with, moved, or sealed under another run.
 *
 * With `into` (holding at least the plaintext's length), the plaintext is
 * a view of its start; a unit that does not authenticate leaves `into`
 * zeroed where the plaintext would have gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSegment, sealSegment } from "./segment_cipher.ts";
 * const key = new Uint8Array(32).fill(1), hash = new Uint8Array(32).fill(2);
 * const h = { final: true, index: 7, frameCount: 0, dataFrames: 0, firstSeq: 0, lastSeq: 0 };
 * const unit = sealSegment(key, hash, h, new Uint8Array(0));
 * assert.equal(openSegment(key, new Uint8Array(32), unit), undefined);
 * assert.equal(openSegment(key, hash, unit)?.length, 0);
 * ```
 */
export function openSegment(
  payloadKey: Uint8Array,
  headerHash: Uint8Array,
  unit: Uint8Array,
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> | undefined {
  if (unit.length < SEGMENT_HEADER_BYTES + TAG_BYTES) return undefined;
  const v = new DataView(unit.buffer, unit.byteOffset, SEGMENT_HEADER_BYTES);
  const index = v.getBigUint64(8, true);
  const wireLength = v.getUint32(16, true);
  if (
    index > BigInt(Number.MAX_SAFE_INTEGER) || unit.length !== SEGMENT_HEADER_BYTES + wireLength
  ) {
    return undefined;
  }
  const final = (v.getUint32(4, true) & SEGMENT_FINAL) !== 0;
  const tagAt = unit.length - TAG_BYTES;
  const decipher = createDecipheriv(ALGORITHM, payloadKey, segmentNonce(Number(index), final), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(segmentAd(headerHash, unit), { plaintextLength: wireLength - TAG_BYTES });
  decipher.setAuthTag(unit.subarray(tagAt));
  const length = wireLength - TAG_BYTES;
  const plaintext = into !== undefined && into.length >= length
    ? into.subarray(0, length)
    : new Uint8Array(length);
  const done = update(decipher, unit.subarray(SEGMENT_HEADER_BYTES, tagAt), plaintext);
  try {
    // Some runtimes hold the plaintext back until the tag is checked.
    plaintext.set(decipher.final(), done);
  } catch {
    // Nothing unauthenticated stays behind, even in a buffer kept for reuse.
    plaintext.fill(0);
    return undefined;
  }
  return plaintext;
}

// Runs `input` through `cipher` in chunks, copying the output into `output`
// from its start; returns the bytes written.
function update(
  cipher: { update(data: Uint8Array): Uint8Array },
  input: Uint8Array,
  output: Uint8Array,
): number {
  let done = 0;
  for (let at = 0; at < input.length; at += CHUNK_BYTES) {
    const out = cipher.update(input.subarray(at, at + CHUNK_BYTES));
    output.set(out, done);
    done += out.length;
  }
  return done;
}
