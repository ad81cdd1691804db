/**
 * Telling the units of a store apart by their first bytes, and how long a
 * run header is, so a scanner walks a store without any key.
 *
 * @module
 */

import { SealedFormatError } from "./sealed_errors.ts";
import {
  AEAD_CHACHA20_POLY1305,
  FORMAT_VERSION,
  MAC_BYTES,
  MAX_RUN_HEADER_BYTES,
  RUN_HEADER_FIXED_BYTES,
  RUN_MAGIC,
  SEGMENT_MAGIC,
  STANZA_BYTES,
} from "./sealed_format.ts";

/** A run header, a segment, or bytes that are neither. */
export type UnitKind = "run" | "segment" | "unknown";

function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/**
 * What the unit starting at `bytes[0]` is, by its magic (at least 8 bytes
 * are needed to tell a run header).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUN_MAGIC } from "./sealed_format.ts";
 * import { unitKind } from "./store_unit.ts";
 * assert.equal(unitKind(RUN_MAGIC), "run");
 * assert.equal(unitKind(new TextEncoder().encode("SSEG\0\0\0\0")), "segment");
 * assert.equal(unitKind(new Uint8Array(8)), "unknown");
 * ```
 */
export function unitKind(bytes: Uint8Array): UnitKind {
  if (startsWith(bytes, RUN_MAGIC)) return "run";
  if (startsWith(bytes, SEGMENT_MAGIC)) return "segment";
  return "unknown";
}

/**
 * The total length of the run header whose first 16 bytes (or more) are
 * `prefix`, after checking its magic, version and algorithm.
 *
 * @throws {SealedFormatError} for another magic, an unknown version or
 *   algorithm, or a length out of bounds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUN_MAGIC } from "./sealed_format.ts";
 * import { runHeaderLength } from "./store_unit.ts";
 * const prefix = new Uint8Array(16);
 * prefix.set(RUN_MAGIC);
 * const v = new DataView(prefix.buffer);
 * v.setUint16(8, 1, true);
 * v.setUint16(10, 1, true);
 * v.setUint32(12, 300, true);
 * assert.equal(runHeaderLength(prefix, "s", 0), 300);
 * v.setUint16(8, 9, true);
 * assert.throws(() => runHeaderLength(prefix, "s", 0), { message: /version '9'/ });
 * ```
 */
export function runHeaderLength(prefix: Uint8Array, path: string, offset: number): number {
  const bad = (what: string) =>
    new SealedFormatError(`Run header at offset ${offset} of '${path}' ${what}`, path, offset);
  if (prefix.length < 16) throw bad("is cut short");
  if (!startsWith(prefix, RUN_MAGIC)) throw bad("has no sealed store magic");
  const v = new DataView(prefix.buffer, prefix.byteOffset, 16);
  const version = v.getUint16(8, true);
  if (version !== FORMAT_VERSION) {
    throw bad(`has version '${version}', and this spool reads version '${FORMAT_VERSION}'`);
  }
  const aead = v.getUint16(10, true);
  if (aead !== AEAD_CHACHA20_POLY1305) throw bad(`names an unknown AEAD '${aead}'`);
  const length = v.getUint32(12, true);
  if (length < RUN_HEADER_FIXED_BYTES || length > MAX_RUN_HEADER_BYTES) {
    throw bad(`claims a length of '${length}' bytes`);
  }
  return length;
}

/**
 * The length a run header's own fields give it (the fixed part, producer,
 * stream, stanzas and MAC), when `bytes` reaches far enough to read them;
 * undefined when it does not. A run header has no checksum: a header cut
 * short at the end of a store is told from one whose `header_len` is
 * damaged by comparing the two, so a writer never cuts away a whole run for
 * a flipped bit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldsLength } from "./store_unit.ts";
 * const bytes = new Uint8Array(101);
 * const v = new DataView(bytes.buffer);
 * v.setUint16(96, 0, true); // producer ""
 * v.setUint16(98, 0, true); // stream ""
 * bytes[100] = 1; // one stanza
 * assert.equal(fieldsLength(bytes), 96 + 2 + 2 + 1 + 81 + 32);
 * assert.equal(fieldsLength(bytes.subarray(0, 99)), undefined);
 * ```
 */
export function fieldsLength(bytes: Uint8Array): number | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = RUN_HEADER_FIXED_BYTES;
  for (let field = 0; field < 2; field++) {
    if (bytes.length < at + 2) return undefined;
    at += 2 + v.getUint16(at, true);
  }
  if (bytes.length < at + 1) return undefined;
  return at + 1 + bytes[at]! * STANZA_BYTES + MAC_BYTES;
}
