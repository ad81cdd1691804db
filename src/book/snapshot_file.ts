/**
 * The snapshot file format: one market's book, as the book events that
 * rebuild it, behind a fixed header with a CRC-32. `docs/snapshots.md` is
 * the prose form of this file and is normative.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { BookEvent, BookEventError } from "./book_event.ts";
import { BookEventEncoder } from "./book_event_encoder.ts";
import {
  BOOK_FLAG,
  BOOK_KIND,
  EVENT,
  INSTRUMENT,
  SIDE,
  type Side,
  STATUS_OFFSET,
  TRADING_STATUS,
} from "./book_protocol.ts";
import type { BookView } from "./book_view.ts";
import { OrderBook } from "./order_book.ts";

/** The 8 bytes every snapshot file starts with: `SPOOLSNP` in ASCII. */
export const SNAPSHOT_MAGIC: Uint8Array = new TextEncoder().encode("SPOOLSNP");
/** Format version this code writes and reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Size of the header; the body starts here. */
export const SNAPSHOT_HEADER_SIZE = 64;

/** Offsets of the header's fields, all little-endian. */
export const SNAPSHOT_HEADER = {
  /** 8 bytes: {@linkcode SNAPSHOT_MAGIC}. */
  magic: 0,
  /** u16: {@linkcode SNAPSHOT_FORMAT_VERSION}. */
  version: 8,
  /** u16: {@linkcode SNAPSHOT_HEADER_SIZE}. */
  headerSize: 10,
  /** u32: zero. */
  reserved: 12,
  /** u64: the queue seq the snapshot is valid after. */
  seq: 16,
  /** i64: the chronicle timestamp of the record at `seq`, ns since the epoch. */
  timestampNs: 24,
  /** u32: venue id. */
  venue: 32,
  /** u32: market id. */
  market: 36,
  /** u32: events in the body. */
  eventCount: 40,
  /** u32: markets snapshotted at this seq, this one included. */
  marketCount: 44,
  /** u64: body length in bytes. */
  bodyLength: 48,
  /** u32: CRC-32 of the payload of the record at `seq`. */
  recordCrc: 56,
  /** u32: CRC-32 of header bytes 0 to 59, then of the body. */
  crc: 60,
} as const;

/** Each event in the body is preceded by its length as a u32. */
export const SNAPSHOT_LENGTH_PREFIX = 4;

const TWO_32 = 0x1_0000_0000;

/** What a snapshot's header says. */
export interface SnapshotHeader {
  /** The queue seq the snapshot is valid after. */
  seq: number;
  /** The chronicle timestamp of the record at `seq`. */
  timestampNs: bigint;
  /** Venue id. */
  venue: number;
  /** Market id. */
  market: number;
  /** Events in the body. */
  eventCount: number;
  /** Markets snapshotted at this seq, this one included. */
  marketCount: number;
  /** Body length in bytes. */
  bodyLength: number;
  /** CRC-32 of the payload of the record at `seq`. */
  recordCrc: number;
}

/** Where in the queue a snapshot is taken: the fields of its header that are not the book's. */
export interface SnapshotStamp {
  /** The seq of the last record applied. */
  seq: number;
  /** That record's chronicle timestamp. */
  timestampNs: bigint;
  /** How many markets are snapshotted at this seq. */
  marketCount: number;
  /** CRC-32 of that record's payload ({@linkcode recordChecksum}). */
  recordCrc: number;
}

/**
 * A snapshot file that cannot be used: wrong magic or version, truncated,
 * a checksum that does not hold, or a body that is not a snapshot's
 * events. Carries the file's path and the offset of the damage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotFormatError } from "./snapshot_file.ts";
 * const e = new SnapshotFormatError("Checksum does not match", "a/snapshot_5.bin", 60);
 * assert.equal(e.offset, 60);
 * assert.ok(e instanceof SyntaxError);
 * assert.match(e.message, /'a\/snapshot_5\.bin' at offset 60/);
 * ```
 */
export class SnapshotFormatError extends SyntaxError {
  /** The file, "" for bytes without one. */
  readonly path: string;
  /** Byte offset of the damage in the file. */
  readonly offset: number;

  /** Makes the error for the damage at `offset` of `path`. */
  constructor(message: string, path: string, offset: number) {
    super(`${message} in snapshot '${path}' at offset ${offset}`);
    this.name = "SnapshotFormatError";
    this.path = path;
    this.offset = offset;
  }
}

/**
 * CRC-32 (zlib's, as the chronicle's blocks use) of a record's payload,
 * for {@linkcode SnapshotStamp.recordCrc}: a warm start checks it against
 * the queue to be sure the snapshot belongs to these records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordChecksum } from "./snapshot_file.ts";
 * assert.equal(recordChecksum(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function recordChecksum(payload: Uint8Array): number {
  return crc32(payload) >>> 0;
}

/**
 * Encodes books into snapshot files. One encoder is reused for every
 * market: {@linkcode SnapshotEncoder.encode} returns a view of its own
 * buffer, valid until the next call.
 *
 * The body is, in order: a Clear flagged SnapshotBegin; the Instrument
 * definition, where the book has one; the Status; an OrderAdd for each
 * known order, bids then asks, each in priority order; a Level event for
 * each level with unattributed size, giving the level's whole size (known
 * orders plus unattributed), bids then asks, best first. The last event is
 * flagged SnapshotEnd and BatchEnd.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderBook } from "./order_book.ts";
 * import { SIDE } from "./book_protocol.ts";
 * import { decodeSnapshot, restoreBook, SnapshotEncoder } from "./snapshot_file.ts";
 * const book = new OrderBook(1, 2);
 * book.addOrder(SIDE.Bid, 10, 995, 30);
 * book.setLevel(SIDE.Ask, 1005, 40);
 * const bytes = new SnapshotEncoder().encode(book, {
 *   seq: 9,
 *   timestampNs: 5n,
 *   marketCount: 1,
 *   recordCrc: 0,
 * });
 * const file = decodeSnapshot(bytes);
 * assert.equal(file.header.seq, 9);
 * const copy = restoreBook(file);
 * assert.equal(copy.orderSize(10), 30);
 * assert.equal(copy.sizeAt(SIDE.Ask, 1005), 40);
 * ```
 */
export class SnapshotEncoder {
  readonly #enc = new BookEventEncoder();
  #bytes = new Uint8Array(64 * 1024);
  #view = new DataView(this.#bytes.buffer);
  #at = 0;
  #count = 0;
  #last = 0;

  /**
   * The snapshot file of `book`, stamped with `stamp`.
   *
   * @throws {RangeError} when a value of the book cannot be encoded.
   */
  encode(book: BookView, stamp: SnapshotStamp): Uint8Array {
    checkStamp(stamp);
    const enc = this.#enc;
    const h = enc.header;
    h.venue = book.venue;
    h.market = book.market;
    h.exchangeNs = stamp.timestampNs;
    h.receiveNs = stamp.timestampNs;
    h.vendorSeq = 0;
    this.#at = SNAPSHOT_HEADER_SIZE;
    this.#count = 0;

    h.flags = BOOK_FLAG.SnapshotBegin;
    this.#put(enc.clear());
    h.flags = 0;
    if (book.symbol !== "" || book.priceDecimals !== 0 || book.sizeDecimals !== 0) {
      this.#instrument(book);
    }
    this.#put(enc.status(TRADING_STATUS.Unknown));
    // Any status byte the book holds is kept as it is.
    this.#view.setUint8(this.#last + STATUS_OFFSET, book.status);
    const order = (id: number, price: number, size: number, side: Side) =>
      this.#put(enc.order(BOOK_KIND.OrderAdd, side, id, price, size));
    book.forEachOrder(SIDE.Bid, (id, price, size) => order(id, price, size, SIDE.Bid));
    book.forEachOrder(SIDE.Ask, (id, price, size) => order(id, price, size, SIDE.Ask));
    // After the orders, a level event's size is the level's whole size, so
    // the unattributed part comes back as it was.
    for (const side of [SIDE.Bid, SIDE.Ask] as const) {
      book.forEachUnattributed(side, (price) => {
        this.#put(enc.level(side, price, book.sizeAt(side, price)));
      });
    }
    const v = this.#view;
    const flagsAt = this.#last + EVENT.flags;
    v.setUint16(
      flagsAt,
      v.getUint16(flagsAt, true) | BOOK_FLAG.SnapshotEnd | BOOK_FLAG.BatchEnd,
      true,
    );

    const length = this.#at;
    const bytes = this.#bytes;
    bytes.fill(0, 0, SNAPSHOT_HEADER_SIZE);
    bytes.set(SNAPSHOT_MAGIC, SNAPSHOT_HEADER.magic);
    v.setUint16(SNAPSHOT_HEADER.version, SNAPSHOT_FORMAT_VERSION, true);
    v.setUint16(SNAPSHOT_HEADER.headerSize, SNAPSHOT_HEADER_SIZE, true);
    setU64(v, SNAPSHOT_HEADER.seq, stamp.seq);
    v.setBigInt64(SNAPSHOT_HEADER.timestampNs, stamp.timestampNs, true);
    v.setUint32(SNAPSHOT_HEADER.venue, book.venue, true);
    v.setUint32(SNAPSHOT_HEADER.market, book.market, true);
    v.setUint32(SNAPSHOT_HEADER.eventCount, this.#count, true);
    v.setUint32(SNAPSHOT_HEADER.marketCount, stamp.marketCount, true);
    setU64(v, SNAPSHOT_HEADER.bodyLength, length - SNAPSHOT_HEADER_SIZE);
    v.setUint32(SNAPSHOT_HEADER.recordCrc, stamp.recordCrc, true);
    v.setUint32(SNAPSHOT_HEADER.crc, fileChecksum(bytes.subarray(0, length)), true);
    return bytes.subarray(0, length);
  }

  // An instrument event; a symbol-less definition (which the encoder
  // refuses) is written with a placeholder, then cut to length 0.
  #instrument(book: BookView): void {
    const symbol = book.symbol;
    const event = this.#enc.instrument(symbol || "?", book.priceDecimals, book.sizeDecimals);
    if (symbol !== "") return this.#put(event);
    const bare = event.subarray(0, INSTRUMENT.symbol);
    new DataView(bare.buffer, bare.byteOffset).setUint16(INSTRUMENT.symbolLength, 0, true);
    this.#put(bare);
  }

  #put(event: Uint8Array): void {
    const need = this.#at + SNAPSHOT_LENGTH_PREFIX + event.byteLength;
    if (need > this.#bytes.byteLength) {
      const bigger = new Uint8Array(Math.max(need, this.#bytes.byteLength * 2));
      bigger.set(this.#bytes.subarray(0, this.#at));
      this.#bytes = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.#view.setUint32(this.#at, event.byteLength, true);
    this.#last = this.#at + SNAPSHOT_LENGTH_PREFIX;
    this.#bytes.set(event, this.#last);
    this.#at = need;
    this.#count++;
  }
}

/**
 * A snapshot file whose header, checksum and events were all checked.
 * Replay its events with {@linkcode SnapshotFile.forEachEvent}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderBook } from "./order_book.ts";
 * import { decodeSnapshot, SnapshotEncoder } from "./snapshot_file.ts";
 * const book = new OrderBook(1, 2);
 * const stamp = { seq: 3, timestampNs: 4n, marketCount: 1, recordCrc: 0 };
 * const file = decodeSnapshot(new SnapshotEncoder().encode(book, stamp));
 * let events = 0;
 * file.forEachEvent(() => events++);
 * assert.equal(file.header.market, 2);
 * assert.ok(events >= 2); // at least the clear and the last event
 * ```
 */
export class SnapshotFile {
  /** The header. */
  readonly header: SnapshotHeader;
  /** The whole file. */
  readonly bytes: Uint8Array;
  /** Where it was read from, "" for bytes without a file. */
  readonly path: string;

  /** Wraps checked bytes; use {@linkcode decodeSnapshot}. */
  constructor(header: SnapshotHeader, bytes: Uint8Array, path: string) {
    this.header = header;
    this.bytes = bytes;
    this.path = path;
  }

  /** Calls `fn` with each event of the body in order; the event object is reused. */
  forEachEvent(fn: (e: BookEvent) => void): void {
    const e = new BookEvent();
    const bytes = this.bytes;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = SNAPSHOT_HEADER_SIZE; at < bytes.byteLength;) {
      const length = v.getUint32(at, true);
      at += SNAPSHOT_LENGTH_PREFIX;
      e.wrapAt(v, at, length);
      fn(e);
      at += length;
    }
  }
}

/**
 * Checks a snapshot file's bytes and reads its header: the magic, the
 * version, the length, the checksum, and that the body holds exactly
 * `eventCount` valid book events of the header's market, from a Clear
 * flagged SnapshotBegin to an event flagged SnapshotEnd and BatchEnd,
 * of the kinds a snapshot holds.
 *
 * @throws {SnapshotFormatError} for anything else, naming `path` and the offset.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderBook } from "./order_book.ts";
 * import { decodeSnapshot, SnapshotEncoder, SnapshotFormatError } from "./snapshot_file.ts";
 * const bytes = new SnapshotEncoder().encode(new OrderBook(1, 1), {
 *   seq: 3,
 *   timestampNs: 0n,
 *   marketCount: 1,
 *   recordCrc: 0,
 * }).slice();
 * assert.equal(decodeSnapshot(bytes).header.eventCount, 2); // clear and status
 * bytes[bytes.length - 1]! ^= 1;
 * assert.throws(() => decodeSnapshot(bytes, "x.bin"), SnapshotFormatError);
 * ```
 */
export function decodeSnapshot(bytes: Uint8Array, path = ""): SnapshotFile {
  const fail = (why: string, offset: number) => new SnapshotFormatError(why, path, offset);
  if (bytes.byteLength < SNAPSHOT_HEADER_SIZE) {
    throw fail(`File is ${bytes.byteLength} bytes, shorter than the header`, 0);
  }
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw fail("Not a snapshot file: wrong magic", 0);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint16(SNAPSHOT_HEADER.version, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw fail(
      `Snapshot format version ${version} is not ${SNAPSHOT_FORMAT_VERSION}`,
      SNAPSHOT_HEADER.version,
    );
  }
  const headerSize = v.getUint16(SNAPSHOT_HEADER.headerSize, true);
  if (headerSize !== SNAPSHOT_HEADER_SIZE) {
    throw fail(
      `Header size ${headerSize} is not ${SNAPSHOT_HEADER_SIZE}`,
      SNAPSHOT_HEADER.headerSize,
    );
  }
  const bodyLength = getU64(v, SNAPSHOT_HEADER.bodyLength);
  if (bytes.byteLength !== SNAPSHOT_HEADER_SIZE + bodyLength) {
    throw fail(
      `File is ${bytes.byteLength} bytes, not ${SNAPSHOT_HEADER_SIZE + bodyLength} ` +
        `(header and body): truncated or overlong`,
      Math.min(bytes.byteLength, SNAPSHOT_HEADER_SIZE + bodyLength),
    );
  }
  const crc = v.getUint32(SNAPSHOT_HEADER.crc, true);
  if (fileChecksum(bytes) !== crc) throw fail("Checksum does not match", SNAPSHOT_HEADER.crc);
  const header: SnapshotHeader = {
    seq: getU64(v, SNAPSHOT_HEADER.seq),
    timestampNs: v.getBigInt64(SNAPSHOT_HEADER.timestampNs, true),
    venue: v.getUint32(SNAPSHOT_HEADER.venue, true),
    market: v.getUint32(SNAPSHOT_HEADER.market, true),
    eventCount: v.getUint32(SNAPSHOT_HEADER.eventCount, true),
    marketCount: v.getUint32(SNAPSHOT_HEADER.marketCount, true),
    bodyLength,
    recordCrc: v.getUint32(SNAPSHOT_HEADER.recordCrc, true),
  };
  checkBody(v, header, fail);
  return new SnapshotFile(header, bytes, path);
}

function checkBody(
  v: DataView,
  header: SnapshotHeader,
  fail: (why: string, offset: number) => SnapshotFormatError,
): void {
  const e = new BookEvent();
  const end = v.byteLength;
  let count = 0;
  let flags = 0;
  for (let at = SNAPSHOT_HEADER_SIZE; at < end;) {
    if (at + SNAPSHOT_LENGTH_PREFIX > end) throw fail("Event length runs past the end", at);
    const length = v.getUint32(at, true);
    const start = at + SNAPSHOT_LENGTH_PREFIX;
    if (start + length > end) throw fail(`Event of ${length} bytes runs past the end`, at);
    try {
      e.wrapAt(v, start, length);
    } catch (error) {
      if (error instanceof BookEventError) throw fail(error.message, start);
      throw error;
    }
    if (e.venue !== header.venue || e.market !== header.market) {
      throw fail(
        `Event is of market ${e.venue}:${e.market}, not ${header.venue}:${header.market}`,
        start,
      );
    }
    const kind = e.kind;
    if (count === 0 && (kind !== BOOK_KIND.Clear || (e.flags & BOOK_FLAG.SnapshotBegin) === 0)) {
      throw fail("First event is not a clear flagged SnapshotBegin", start);
    }
    if (
      kind !== BOOK_KIND.Clear && kind !== BOOK_KIND.Instrument && kind !== BOOK_KIND.Status &&
      kind !== BOOK_KIND.OrderAdd && kind !== BOOK_KIND.Level
    ) {
      throw fail(`Event of kind ${kind} does not belong in a snapshot`, start);
    }
    flags = e.flags;
    count++;
    at = start + length;
  }
  if (count !== header.eventCount) {
    throw fail(`Body holds ${count} events, not ${header.eventCount}`, SNAPSHOT_HEADER.eventCount);
  }
  const last = BOOK_FLAG.SnapshotEnd | BOOK_FLAG.BatchEnd;
  if ((flags & last) !== last) {
    throw fail("Last event is not flagged SnapshotEnd and BatchEnd", end);
  }
}

/**
 * A new book holding what the snapshot holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderBook } from "./order_book.ts";
 * import { SIDE, TRADING_STATUS } from "./book_protocol.ts";
 * import { decodeSnapshot, restoreBook, SnapshotEncoder } from "./snapshot_file.ts";
 * const book = new OrderBook(1, 1);
 * book.setLevel(SIDE.Bid, 990, 12);
 * const stamp = { seq: 1, timestampNs: 0n, marketCount: 1, recordCrc: 0 };
 * const copy = restoreBook(decodeSnapshot(new SnapshotEncoder().encode(book, stamp)));
 * assert.equal(copy.bestBid(), 990);
 * assert.equal(copy.status, TRADING_STATUS.Unknown);
 * ```
 */
export function restoreBook(file: SnapshotFile): OrderBook {
  const book = new OrderBook(file.header.venue, file.header.market);
  file.forEachEvent((e) => book.apply(e));
  return book;
}

// The header's first 60 bytes, then the body: the checksum covers every
// byte of the file but its own four.
function fileChecksum(bytes: Uint8Array): number {
  const head = crc32(bytes.subarray(0, SNAPSHOT_HEADER.crc));
  return crc32(bytes.subarray(SNAPSHOT_HEADER_SIZE), head) >>> 0;
}

function checkStamp(stamp: SnapshotStamp): void {
  if (!Number.isSafeInteger(stamp.seq) || stamp.seq < 1) {
    throw new RangeError(`Snapshot seq '${stamp.seq}' must be a whole number of at least 1`);
  }
  if (!Number.isInteger(stamp.marketCount) || stamp.marketCount < 1) {
    throw new RangeError(`Snapshot market count '${stamp.marketCount}' must be at least 1`);
  }
}

function setU64(v: DataView, at: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  v.setUint32(at, value - hi * TWO_32, true);
  v.setUint32(at + 4, hi, true);
}

function getU64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * TWO_32 + v.getUint32(at, true);
}
