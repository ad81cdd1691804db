/**
 * The constants of the sealed store format (`docs/sealed-format.md`): magic
 * numbers, fixed sizes, flags and limits, in one place so the writer, the
 * readers and the spec agree.
 *
 * @module
 */

/**
 * First bytes of a run header: `\x89SPLSEAL`. The high first byte makes a
 * text tool's mangling (or a tape given by mistake) fail at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUN_MAGIC } from "./sealed_format.ts";
 * assert.equal(new TextDecoder().decode(RUN_MAGIC.subarray(1)), "SPLSEAL");
 * ```
 */
export const RUN_MAGIC: Uint8Array = Uint8Array.of(0x89, 0x53, 0x50, 0x4c, 0x53, 0x45, 0x41, 0x4c);

/**
 * First bytes of a segment: `SSEG`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEGMENT_MAGIC } from "./sealed_format.ts";
 * assert.equal(new TextDecoder().decode(SEGMENT_MAGIC), "SSEG");
 * ```
 */
export const SEGMENT_MAGIC: Uint8Array = Uint8Array.of(0x53, 0x53, 0x45, 0x47);

/**
 * The format version this code writes and reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FORMAT_VERSION } from "./sealed_format.ts";
 * assert.equal(FORMAT_VERSION, 1);
 * ```
 */
export const FORMAT_VERSION = 1;

/**
 * AEAD id of ChaCha20-Poly1305 (RFC 8439), the only one of version 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AEAD_CHACHA20_POLY1305 } from "./sealed_format.ts";
 * assert.equal(AEAD_CHACHA20_POLY1305, 1);
 * ```
 */
export const AEAD_CHACHA20_POLY1305 = 1;

/**
 * Bytes of a run header before its variable part (producer, stream,
 * stanzas, MAC).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUN_HEADER_FIXED_BYTES } from "./sealed_format.ts";
 * assert.equal(RUN_HEADER_FIXED_BYTES, 96);
 * ```
 */
export const RUN_HEADER_FIXED_BYTES = 96;

/**
 * The largest run header a reader accepts, so a damaged length cannot make
 * it read without bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_RUN_HEADER_BYTES } from "./sealed_format.ts";
 * assert.equal(MAX_RUN_HEADER_BYTES, 65536);
 * ```
 */
export const MAX_RUN_HEADER_BYTES = 65536;

/**
 * Bytes of a segment header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEGMENT_HEADER_BYTES } from "./sealed_format.ts";
 * assert.equal(SEGMENT_HEADER_BYTES, 56);
 * ```
 */
export const SEGMENT_HEADER_BYTES = 56;

/**
 * Bytes of the segment header the checksum and the AEAD's associated data
 * cover: all but the checksum itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEGMENT_HEADER_BYTES, SEGMENT_HEADER_SIGNED_BYTES } from "./sealed_format.ts";
 * assert.equal(SEGMENT_HEADER_SIGNED_BYTES, SEGMENT_HEADER_BYTES - 4);
 * ```
 */
export const SEGMENT_HEADER_SIGNED_BYTES = 52;

/**
 * Bytes of the AEAD tag that ends each segment's wire.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TAG_BYTES } from "./sealed_format.ts";
 * assert.equal(TAG_BYTES, 16);
 * ```
 */
export const TAG_BYTES = 16;

/**
 * Bytes of one X25519 recipient stanza: type, ephemeral share, wrapped key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STANZA_BYTES } from "./sealed_format.ts";
 * assert.equal(STANZA_BYTES, 1 + 32 + 48);
 * ```
 */
export const STANZA_BYTES = 81;

/**
 * Stanza type of an X25519 recipient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STANZA_X25519 } from "./sealed_format.ts";
 * assert.equal(STANZA_X25519, 1);
 * ```
 */
export const STANZA_X25519 = 1;

/**
 * Bytes of the HMAC-SHA256 that ends a run header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAC_BYTES } from "./sealed_format.ts";
 * assert.equal(MAC_BYTES, 32);
 * ```
 */
export const MAC_BYTES = 32;

/**
 * The largest plaintext of one segment. A reader refuses a header claiming
 * more, which bounds the memory a damaged or hostile store can make it
 * take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_SEGMENT_PLAINTEXT } from "./sealed_format.ts";
 * assert.equal(MAX_SEGMENT_PLAINTEXT, 64 * 1024 * 1024);
 * ```
 */
export const MAX_SEGMENT_PLAINTEXT: number = 64 << 20;

/**
 * Bytes of a frame header inside a segment's plaintext.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FRAME_HEADER_BYTES } from "./sealed_format.ts";
 * assert.equal(FRAME_HEADER_BYTES, 24);
 * ```
 */
export const FRAME_HEADER_BYTES = 24;

/**
 * Frame kind of a record (a data frame): seq, timestamp, type id, payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FRAME_RECORD } from "./sealed_format.ts";
 * assert.equal(FRAME_RECORD, 1);
 * ```
 */
export const FRAME_RECORD = 1;

/**
 * Frame kind of metadata: a UTF-8 JSON object about the stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FRAME_METADATA } from "./sealed_format.ts";
 * assert.equal(FRAME_METADATA, 2);
 * ```
 */
export const FRAME_METADATA = 2;

/**
 * Segment flag: the last segment of its run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SEGMENT_FINAL } from "./sealed_format.ts";
 * assert.equal(SEGMENT_FINAL, 1);
 * ```
 */
export const SEGMENT_FINAL = 1;

/**
 * Run flag: the previous run has no final segment, and this run goes on
 * after the segments it holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PREV_CUT } from "./sealed_format.ts";
 * assert.equal(PREV_CUT, 1);
 * ```
 */
export const PREV_CUT = 1;

/**
 * Plaintext bytes a writer gathers before it cuts a segment, unless told
 * otherwise: large enough that the per-segment cost (header, tag, a worker
 * round trip) is noise, small enough that a crash loses little.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SEGMENT_BYTES } from "./sealed_format.ts";
 * assert.equal(DEFAULT_SEGMENT_BYTES, 1024 * 1024);
 * ```
 */
export const DEFAULT_SEGMENT_BYTES: number = 1 << 20;

/**
 * Longest a record waits in a following writer before its segment is cut
 * and committed, unless told otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_FLUSH_MS } from "./sealed_format.ts";
 * assert.equal(DEFAULT_FLUSH_MS, 200);
 * ```
 */
export const DEFAULT_FLUSH_MS = 200;
