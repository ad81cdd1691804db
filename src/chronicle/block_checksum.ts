/**
 * The checksum of a block of records in a version 2 segment: CRC-32 as zlib
 * computes it (the ISO-HDLC polynomial used by gzip and PNG), so a reader in
 * any language finds it in its standard library. zlib's implementation runs
 * at over 20 GB/s here, which keeps a 16 KiB block to well under a
 * microsecond.
 *
 * @module
 */

import { crc32 } from "node:zlib";

/**
 * CRC-32 of `bytes[from, to)`, continuing from `crc`, the CRC-32 of the
 * bytes just before `from` (0 for none): a block's checksum can be taken
 * in two parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockChecksum } from "./block_checksum.ts";
 * const bytes = new TextEncoder().encode("xx123456789");
 * assert.equal(blockChecksum(bytes, 2, bytes.length), 0xcbf43926);
 * assert.equal(blockChecksum(bytes, 5, bytes.length, blockChecksum(bytes, 2, 5)), 0xcbf43926);
 * ```
 */
export function blockChecksum(bytes: Uint8Array, from: number, to: number, crc = 0): number {
  return crc32(bytes.subarray(from, to), crc) >>> 0;
}
