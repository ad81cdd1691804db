/**
 * CRC32C (Castagnoli), the checksum of sealed segments: it tells a torn or
 * rotted unit from a tampered one without any key. Computed by `hash-wasm`'s
 * WebAssembly, about 2 GB/s here; the module loads it once, so every call
 * after is synchronous.
 *
 * @module
 */

import { createCRC32 } from "hash-wasm";

const CASTAGNOLI = 0x82f63b78;
const hasher = await createCRC32(CASTAGNOLI);

/**
 * CRC32C of `parts` taken as one run of bytes, so a header and the wire
 * after it are checked without joining them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32c } from "./crc32c.ts";
 * const check = new TextEncoder().encode("123456789");
 * assert.equal(crc32c(check), 0xe3069283);
 * assert.equal(crc32c(check.subarray(0, 4), check.subarray(4)), 0xe3069283);
 * ```
 */
export function crc32c(...parts: Uint8Array[]): number {
  hasher.init();
  for (const part of parts) hasher.update(part);
  const d = hasher.digest("binary");
  return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
}
