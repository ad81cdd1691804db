/**
 * The chronicle's on-disk layout as constants, one place for every offset the
 * writer and the readers agree on. `docs/chronicle-format.md` is the prose
 * form of this file.
 *
 * @module
 */

/**
 * Version this spool writes into every chronicle file. Version 2 adds the
 * published-seq and boot words to `queue.meta`, and the seal fields and
 * checksum frames to segments; index and reader offset files are laid out
 * as in version 1. Readers refuse newer versions and still read version 1.
 */
export const FORMAT_VERSION = 2;
/**
 * Version of a `queue.meta` whose writer may recycle segments: laid out as
 * version 2, but every reader must hold a shared lock on each segment it
 * maps (docs/chronicle-format.md, Recycling). A version 2 reader takes no
 * such lock, so it must refuse the queue rather than read a file being
 * reused under it.
 */
export const RECYCLING_META_VERSION = 3;
/** The first version whose segments carry checksum frames and a seal. */
export const CHECKED_VERSION = 2;
/**
 * Version of seek index and reader offset files: their layout has not
 * changed since version 1, so they still carry 1.
 */
export const AID_FORMAT_VERSION = 1;

/** Name of the queue's metadata file. */
export const META_FILE = "queue.meta";
/** Name of the writer's lock file. */
export const LOCK_FILE = "writer.lock";
/**
 * A segment retention let go that the writer is zeroing, to reuse as its
 * next segment; not named like a segment, so no reader lists it.
 */
export const SPARE_FILE = "recycle.spare";
/** Directory holding named readers' offset files. */
export const READERS_DIR = "readers";
/** Segment file suffix. */
export const SEGMENT_SUFFIX = ".seg";
/** Seek index file suffix. */
export const INDEX_SUFFIX = ".idx";
/** Reader offset file suffix. */
export const OFFSET_SUFFIX = ".offset";

/** Magic of `queue.meta`. */
export const META_MAGIC = "SPQMETA\0";
/** Magic of a segment file. */
export const SEGMENT_MAGIC = "SPQSEG\0\0";
/** Magic of a seek index file. */
export const INDEX_MAGIC = "SPQIDX\0\0";
/** Magic of a reader offset file. */
export const OFFSET_MAGIC = "SPQRDR\0\0";

/** Size of `queue.meta`. */
export const META_SIZE = 4096;
/** `queue.meta` field offsets. */
export const META = {
  magic: 0,
  version: 8,
  segmentBytes: 16,
  indexSpacing: 24,
  createdNs: 32,
  /** Futex word bumped by the writer to wake blocked readers; alone on its cache line. */
  notify: 64,
  /** Count of readers blocked (or about to block) on `notify`. */
  waiters: 128,
  /** Lowest segment index retention has not deleted. */
  firstSegment: 192,
  /**
   * u64, version 2: seq of the last record the writer published, stored
   * after each publish; alone on its cache line.
   */
  publishedSeq: 256,
  /** 16 bytes, version 2: the boot (Linux `boot_id`) the writer last opened the queue in. */
  bootId: 320,
} as const;

/** Size of a segment's file header; the first record starts here. */
export const SEGMENT_HEADER_SIZE = 64;
/** Segment header field offsets. */
export const SEGMENT = {
  magic: 0,
  version: 8,
  index: 12,
  firstSeq: 16,
  createdNs: 24,
  capacity: 32,
  /** u32, version 2: offset of the end-of-segment marker; 0 until the segment is sealed. */
  endOffset: 40,
  /** u32, version 2: offset up to which the writer synced the segment to disk (durable); 0 for none. */
  syncedTo: 44,
  /** u64, version 2: seq after the segment's last record; written when it is sealed. */
  endSeq: 48,
} as const;

/** Record header: header word, type id, reserved, seq, timestamp. */
export const RECORD_HEADER_SIZE = 24;
/** Record field offsets from the start of the record. */
export const RECORD = {
  header: 0,
  typeId: 4,
  seq: 8,
  timestampNs: 16,
  payload: 24,
} as const;
/**
 * Record fields as indexes of 32-bit words from the record's first word:
 * the hot paths read and write records through a `Uint32Array`. A u64 is
 * two words, low word first.
 */
export const RECORD_WORD = {
  header: RECORD.header >>> 2,
  /** The type id is the word's low 16 bits; the high 16 are reserved. */
  typeId: RECORD.typeId >>> 2,
  seqLo: RECORD.seq >>> 2,
  seqHi: (RECORD.seq >>> 2) + 1,
  timestampLo: RECORD.timestampNs >>> 2,
  timestampHi: (RECORD.timestampNs >>> 2) + 1,
  payload: RECORD.payload >>> 2,
} as const;
/** Mask of a record's type id in its word: the id is a u16. */
export const TYPE_ID_MASK = 0xffff;

/** Header word bits 0–28: payload length in bytes. */
export const LENGTH_MASK = 0x1fff_ffff;
/** Header word flag: the segment ends here; continue in the next one. */
export const END_OF_SEGMENT = 0x2000_0000;
/** Header word flag: not a record; skip `align8(24 + length)` bytes. */
export const PADDING = 0x4000_0000;
/** Header word flag: claimed by the writer but not yet published. */
export const NOT_COMPLETE = 0x8000_0000;
/**
 * Header word of a checksum frame (version 2): both bits 29 and 30, length 0.
 * The frame closes a block of records and carries its CRC-32.
 */
export const CHECKSUM_FRAME = END_OF_SEGMENT | PADDING;
/** Size of a checksum frame. */
export const CHECKSUM_FRAME_SIZE = 24;
/** Checksum frame field offsets from the start of the frame. */
export const CHECKSUM = {
  header: 0,
  /** u32: bytes the block covers, ending where the frame starts. */
  blockBytes: 4,
  /** u64: seq of the record after the block. */
  nextSeq: 8,
  /** u32: CRC-32 (ISO-HDLC, as zlib's) of the block's bytes. */
  crc: 16,
} as const;
/** Size of the end-of-segment marker: its header word, then 4 zero bytes. */
export const END_MARKER_SIZE = 8;
/**
 * Bytes a version 2 writer keeps free at the end of every segment: room for
 * the checksum frame that closes the last block, then the end marker.
 */
export const SEGMENT_TAIL_RESERVE = CHECKSUM_FRAME_SIZE + END_MARKER_SIZE;
/** Bytes a version 1 writer kept free at the end of every segment: room for the end marker. */
export const SEGMENT_TAIL_RESERVE_V1 = END_MARKER_SIZE;

/** Largest payload a record can carry (the length field's range). */
export const MAX_PAYLOAD = LENGTH_MASK;

/**
 * What a header word means to a reader, as {@linkcode headerKind} tells it
 * (the table "What a header word means to a reader" in
 * `docs/chronicle-format.md`).
 */
export const HEADER_KIND = {
  /** 0, or a claim (bit 31 set): nothing published here yet. */
  Nothing: 0,
  /** `1` to `LENGTH_MASK`: a record of that many payload bytes. */
  Record: 1,
  /** Exactly `END_OF_SEGMENT`: the segment ends here. */
  EndOfSegment: 2,
  /** Exactly `CHECKSUM_FRAME`: a checksum frame closes the block before it. */
  ChecksumFrame: 3,
  /** Bit 30 alone among the flags: padding of `header & LENGTH_MASK` payload bytes. */
  Padding: 4,
  /** Bit 29 with any other bits: no writer stores it, so it is damage. */
  Impossible: 5,
} as const;
/** One of {@linkcode HEADER_KIND}'s values. */
export type HeaderKind = typeof HEADER_KIND[keyof typeof HEADER_KIND];

/**
 * Whether a header word is a published record's: a length of 1 to
 * {@linkcode LENGTH_MASK} and no flag. The test every read of a record
 * starts with, so it is one comparison.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHECKSUM_FRAME, isRecordHeader } from "./format.ts";
 * assert.equal(isRecordHeader(64), true);
 * assert.equal(isRecordHeader(0), false);
 * assert.equal(isRecordHeader(CHECKSUM_FRAME), false);
 * ```
 */
export function isRecordHeader(header: number): boolean {
  // Wraps 0 to 2^32 - 1, so one unsigned comparison rules out 0 and every flag.
  return (header - 1) >>> 0 < LENGTH_MASK;
}

/**
 * What a header word (loaded as an unsigned 32-bit number) means, checked
 * in the order `docs/chronicle-format.md` gives: the one decoding of header
 * words that the reader, the check ahead and every walk share.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HEADER_KIND, headerKind } from "./format.ts";
 * assert.equal(headerKind(5), HEADER_KIND.Record);
 * assert.equal(headerKind(0x8000_0005), HEADER_KIND.Nothing); // a claim
 * assert.equal(headerKind(0x2000_0000), HEADER_KIND.EndOfSegment);
 * assert.equal(headerKind(0x6000_0000), HEADER_KIND.ChecksumFrame);
 * assert.equal(headerKind(0x4000_0010), HEADER_KIND.Padding);
 * assert.equal(headerKind(0x2000_0001), HEADER_KIND.Impossible);
 * ```
 */
export function headerKind(header: number): HeaderKind {
  if (isRecordHeader(header)) return HEADER_KIND.Record;
  if (header === 0 || header >= NOT_COMPLETE) return HEADER_KIND.Nothing;
  if (header === END_OF_SEGMENT) return HEADER_KIND.EndOfSegment;
  if (header === CHECKSUM_FRAME) return HEADER_KIND.ChecksumFrame;
  if ((header & END_OF_SEGMENT) !== 0) return HEADER_KIND.Impossible;
  return HEADER_KIND.Padding;
}

/** Seek index file header size; entries follow. */
export const INDEX_HEADER_SIZE = 64;
/** Seek index header field offsets. */
export const INDEX = {
  magic: 0,
  version: 8,
  segment: 12,
  spacing: 16,
  capacity: 20,
} as const;
/** One index entry: seq u64, offset u64, highest timestamp in the segment so far u64. */
export const INDEX_ENTRY_SIZE = 24;
/** Index entry field offsets from the start of the entry. */
export const INDEX_ENTRY = {
  seq: 0,
  /** u64 whose high word is always 0: segments are smaller than 4 GiB. */
  offset: 8,
  maxTimestampNs: 16,
} as const;

/** Reader offset file size. */
export const OFFSET_SIZE = 64;
/** Reader offset file field offsets. */
export const OFFSET = {
  magic: 0,
  version: 8,
  flags: 12,
  committedSeq: 16,
  updatedNs: 24,
} as const;
/** Reader offset flag: the reader holds back retention. */
export const OFFSET_HOLDING = 1;

/**
 * The size a record with `length` payload bytes occupies, 8-byte aligned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordSize } from "./format.ts";
 * assert.equal(recordSize(64), 88);
 * ```
 */
export function recordSize(length: number): number {
  return (RECORD_HEADER_SIZE + length + 7) & ~7;
}

/**
 * The file name of segment `index` (ten digits, so names sort by index).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segmentName } from "./format.ts";
 * assert.equal(segmentName(7), "0000000007.seg");
 * ```
 */
export function segmentName(index: number): string {
  return String(index).padStart(10, "0") + SEGMENT_SUFFIX;
}

/**
 * The file name of segment `index`'s seek index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexName } from "./format.ts";
 * assert.equal(indexName(7), "0000000007.idx");
 * ```
 */
export function indexName(index: number): string {
  return String(index).padStart(10, "0") + INDEX_SUFFIX;
}

/**
 * The segment index a file name denotes, or undefined for any other file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSegmentName } from "./format.ts";
 * assert.equal(parseSegmentName("0000000007.seg"), 7);
 * assert.equal(parseSegmentName("x.seg"), undefined);
 * ```
 */
export function parseSegmentName(name: string): number | undefined {
  const match = /^(\d{10})\.seg$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Reads a little-endian u64 at a 4-byte aligned offset as a number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readU64, writeU64 } from "./format.ts";
 * const words = new Uint32Array(2);
 * writeU64(words, 0, 2 ** 40 + 5);
 * assert.equal(readU64(words, 0), 1099511627781);
 * ```
 */
export function readU64(words: Uint32Array, byteOffset: number): number {
  const i = byteOffset >>> 2;
  return words[i]! + words[i + 1]! * 0x1_0000_0000;
}

/**
 * Writes a number as a little-endian u64 at a 4-byte aligned offset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readU64, writeU64 } from "./format.ts";
 * const words = new Uint32Array(2);
 * writeU64(words, 0, 42);
 * assert.equal(readU64(words, 0), 42);
 * ```
 */
export function writeU64(words: Uint32Array, byteOffset: number, value: number): void {
  const i = byteOffset >>> 2;
  const hi = Math.floor(value / 0x1_0000_0000);
  words[i] = value - hi * 0x1_0000_0000;
  words[i + 1] = hi;
}

/**
 * Reads a little-endian u64 at a 4-byte aligned offset as a bigint (for
 * nanosecond timestamps, which exceed 2^53).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readU64Big } from "./format.ts";
 * assert.equal(readU64Big(new Uint32Array([1, 1]), 0), 4294967297n);
 * ```
 */
export function readU64Big(words: Uint32Array, byteOffset: number): bigint {
  const i = byteOffset >>> 2;
  return (BigInt(words[i + 1]!) << 32n) | BigInt(words[i]!);
}

/**
 * Writes a bigint as a little-endian u64 at a 4-byte aligned offset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readU64Big, writeU64Big } from "./format.ts";
 * const words = new Uint32Array(2);
 * writeU64Big(words, 0, 1_700_000_000_000_000_123n);
 * assert.equal(readU64Big(words, 0), 1700000000000000123n);
 * ```
 */
export function writeU64Big(words: Uint32Array, byteOffset: number, value: bigint): void {
  const i = byteOffset >>> 2;
  words[i] = Number(value & 0xffff_ffffn);
  words[i + 1] = Number((value >> 32n) & 0xffff_ffffn);
}

/**
 * Writes an ASCII magic at a byte offset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasMagic, writeMagic } from "./format.ts";
 * const bytes = new Uint8Array(8);
 * writeMagic(bytes, 0, "SPQSEG\0\0");
 * assert.equal(hasMagic(bytes, 0, "SPQSEG\0\0"), true);
 * ```
 */
export function writeMagic(bytes: Uint8Array, offset: number, magic: string): void {
  for (let i = 0; i < magic.length; i++) bytes[offset + i] = magic.charCodeAt(i);
}

/**
 * The first four bytes of a magic as the little-endian word a writer stores
 * atomically to make a header valid in one step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { magicWord } from "./format.ts";
 * assert.equal(magicWord("SPQSEG\0\0").toString(16), "53515053");
 * ```
 */
export function magicWord(magic: string): number {
  return (magic.charCodeAt(0) | magic.charCodeAt(1) << 8 | magic.charCodeAt(2) << 16 |
    magic.charCodeAt(3) << 24) >>> 0;
}

/**
 * Whether the bytes at an offset spell an ASCII magic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasMagic } from "./format.ts";
 * assert.equal(hasMagic(new Uint8Array(8), 0, "SPQSEG\0\0"), false);
 * ```
 */
export function hasMagic(bytes: Uint8Array, offset: number, magic: string): boolean {
  for (let i = 0; i < magic.length; i++) {
    if (bytes[offset + i] !== magic.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether `length` bytes at an offset are all zero (a file never written).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isZero } from "./format.ts";
 * assert.equal(isZero(new Uint8Array(8), 0, 8), true);
 * ```
 */
export function isZero(bytes: Uint8Array, offset: number, length: number): boolean {
  for (let i = offset; i < offset + length; i++) if (bytes[i] !== 0) return false;
  return true;
}
