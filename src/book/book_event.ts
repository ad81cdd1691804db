/**
 * Decoding book events where they lie: a reusable view reads each field
 * from the message's bytes when asked, so decoding allocates nothing per
 * event.
 *
 * @module
 */

import type { StreamMessage } from "../stream/mod.ts";
import {
  BODY,
  BOOK_KIND,
  BOOK_KIND_NAMES,
  BOOK_PROTOCOL_VERSION,
  BOOK_TYPE_BASE,
  type BookKind,
  EVENT,
  EVENT_HEADER_SIZE,
  eventSize,
  INSTRUMENT,
  MAX_BOOK_KIND,
  MAX_DECIMALS,
  MAX_SYMBOL_BYTES,
  PRICED_EVENT_SIZE,
  SIDE,
  type Side,
  STATUS_OFFSET,
  type TradingStatus,
} from "./book_protocol.ts";

const TWO_32 = 0x1_0000_0000;
/** The size of each fixed-size kind, by kind; 0 where there is none (Instrument, unknown kinds). */
const FIXED_SIZE = Int32Array.from(
  { length: MAX_BOOK_KIND + 1 },
  (_, kind) => Math.max(0, eventSize(kind)),
);
/** The header's first two bytes read as a little-endian u16 are `kind | VERSION_HIGH`. */
const VERSION_HIGH = BOOK_PROTOCOL_VERSION << 8;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A message that claims to be a book event but cannot be one: wrong size,
 * version or kind, or a field out of range. Carries the message's seq.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookEventError } from "./book_event.ts";
 * const e = new BookEventError("Book event is 3 bytes", 7);
 * assert.equal(e.seq, 7);
 * assert.ok(e instanceof SyntaxError);
 * ```
 */
export class BookEventError extends SyntaxError {
  /** The seq of the message, 0 where it was decoded on its own. */
  readonly seq: number;

  /** Makes the error for the message at `seq`. */
  constructor(message: string, seq: number) {
    super(seq === 0 ? message : `${message} at seq ${seq}`);
    this.name = "BookEventError";
    this.seq = seq;
  }
}

/**
 * One book event, read in place. {@linkcode BookEvent.wrap} points it at a
 * message and checks the size, version and kind; the getters then read
 * fields straight from the bytes. The object is reused: a consumer keeps
 * one and wraps each message in turn, and it is valid only as long as the
 * message it wraps.
 *
 * Prices, sizes and ids are 64-bit on the wire and numbers here: exact up
 * to 2^53, which the encoder enforces and wrapping checks (a larger value,
 * a negative size or a side above 2 is damage). Timestamps are bigints, made only
 * when asked for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookEvent, BookEventEncoder, BOOK_KIND, SIDE } from "./mod.ts";
 * const enc = new BookEventEncoder();
 * enc.header.venue = 1;
 * enc.header.market = 2;
 * const bytes = enc.level(SIDE.Bid, 1_005_000, 300);
 * const e = new BookEvent();
 * assert.equal(e.wrapBytes(bytes), true);
 * assert.equal(e.kind, BOOK_KIND.Level);
 * assert.equal(e.price, 1_005_000);
 * assert.equal(e.size, 300);
 * ```
 */
export class BookEvent {
  #data: DataView = new DataView(new ArrayBuffer(EVENT_HEADER_SIZE));
  #at = 0;
  #length = 0;
  #kind: BookKind = BOOK_KIND.Clear;
  #seq = 0;

  /**
   * Wraps a stream message. False, wrapping nothing, when its type id is
   * not a book event's (so a consumer skips other traffic).
   *
   * @throws {BookEventError} when the type id is a book event's but the bytes are not a valid event.
   */
  wrap(m: StreamMessage): boolean {
    const kind = m.typeId - BOOK_TYPE_BASE;
    if (kind < 1 || kind > MAX_BOOK_KIND) return false;
    const data = m.data;
    const at = m.payloadOffset;
    const length = m.payloadLength;
    if (data !== undefined && at !== undefined && length !== undefined) {
      this.#set(data, at, length, m.seq);
    } else {
      const p = m.payload;
      this.#set(new DataView(p.buffer, p.byteOffset, p.byteLength), 0, p.byteLength, m.seq);
    }
    if (this.#kind !== kind) {
      throw new BookEventError(
        `Book event of type id ${m.typeId} holds kind ${this.#kind}`,
        m.seq,
      );
    }
    return true;
  }

  /**
   * Wraps bytes holding one event, as the encoder returns them or a
   * snapshot stores them. Always true; the boolean keeps it in step with
   * {@linkcode BookEvent.wrap}.
   *
   * @throws {BookEventError} when the bytes are not a valid event.
   */
  wrapBytes(bytes: Uint8Array): boolean {
    this.#set(
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      0,
      bytes.byteLength,
      0,
    );
    return true;
  }

  /**
   * Wraps the `length` bytes at `offset` of `data`: the zero-copy path for
   * a queue message's `data` and `payloadOffset`.
   *
   * @throws {BookEventError} when the bytes are not a valid event.
   */
  wrapAt(data: DataView, offset: number, length: number, seq = 0): void {
    this.#set(data, offset, length, seq);
  }

  #set(data: DataView, at: number, length: number, seq: number): void {
    this.#seq = seq;
    // The fast path: a fixed-size kind of this version, checked by one read
    // of kind and version together and one size lookup.
    if (length >= EVENT_HEADER_SIZE) {
      const head = data.getUint16(at, true);
      const kind = head & 0xff;
      if ((head ^ kind) === VERSION_HIGH && kind <= MAX_BOOK_KIND && FIXED_SIZE[kind] === length) {
        if (length === PRICED_EVENT_SIZE) checkPriced(data, at, seq);
        this.#data = data;
        this.#at = at;
        this.#length = length;
        this.#kind = kind as BookKind;
        return;
      }
    }
    if (length < EVENT_HEADER_SIZE) {
      throw new BookEventError(`Book event is ${length} bytes, shorter than its header`, seq);
    }
    const kind = data.getUint8(at + EVENT.kind);
    const version = data.getUint8(at + EVENT.version);
    if (version !== BOOK_PROTOCOL_VERSION) {
      throw new BookEventError(
        `Book event has version ${version}, not ${BOOK_PROTOCOL_VERSION}`,
        seq,
      );
    }
    const size = eventSize(kind);
    if (size === -1) {
      if (kind !== BOOK_KIND.Instrument) {
        throw new BookEventError(`Book event has unknown kind ${kind}`, seq);
      }
      const symbolLength = data.getUint16(at + INSTRUMENT.symbolLength, true);
      if (length !== INSTRUMENT.symbol + symbolLength) {
        throw new BookEventError(
          `Instrument event is ${length} bytes, not ${INSTRUMENT.symbol + symbolLength}`,
          seq,
        );
      }
      if (symbolLength > MAX_SYMBOL_BYTES) {
        throw new BookEventError(
          `Instrument event's symbol is ${symbolLength} bytes, more than ${MAX_SYMBOL_BYTES}`,
          seq,
        );
      }
      if (
        data.getUint8(at + INSTRUMENT.priceDecimals) > MAX_DECIMALS ||
        data.getUint8(at + INSTRUMENT.sizeDecimals) > MAX_DECIMALS
      ) {
        throw new BookEventError(`Instrument event has more than ${MAX_DECIMALS} decimals`, seq);
      }
    } else if (length !== size) {
      throw new BookEventError(
        `Book event '${BOOK_KIND_NAMES[kind]}' is ${length} bytes, not ${size}`,
        seq,
      );
    }
    if (length === PRICED_EVENT_SIZE) checkPriced(data, at, seq);
    this.#data = data;
    this.#at = at;
    this.#length = length;
    this.#kind = kind as BookKind;
  }

  /** The seq of the wrapped message, 0 for bytes wrapped on their own. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * The bytes the event lies in (a queue segment's, for a wrapped queue
   * message): with {@linkcode BookEvent.offset}, for a consumer that reads
   * fields itself at the offsets of {@linkcode EVENT} and {@linkcode BODY}.
   */
  get data(): DataView {
    return this.#data;
  }

  /** Where the event starts in {@linkcode BookEvent.data}. */
  get offset(): number {
    return this.#at;
  }

  /** Length of the event in bytes. */
  get length(): number {
    return this.#length;
  }

  /** The kind ({@linkcode BOOK_KIND}). */
  get kind(): BookKind {
    return this.#kind;
  }

  /** Flag bits ({@linkcode BOOK_FLAG}). */
  get flags(): number {
    return this.#data.getUint16(this.#at + EVENT.flags, true);
  }

  /** Venue id. */
  get venue(): number {
    return this.#data.getUint32(this.#at + EVENT.venue, true);
  }

  /** Market id within the venue. */
  get market(): number {
    return this.#data.getUint32(this.#at + EVENT.market, true);
  }

  /** Exchange timestamp, ns since the Unix epoch. */
  get exchangeNs(): bigint {
    return this.#data.getBigInt64(this.#at + EVENT.exchangeNs, true);
  }

  /** Local receive timestamp, ns since the Unix epoch. */
  get receiveNs(): bigint {
    return this.#data.getBigInt64(this.#at + EVENT.receiveNs, true);
  }

  /** Exchange timestamp in whole µs: a number, exact, for bucketing without a bigint. */
  get exchangeUs(): number {
    const d = this.#data;
    const at = this.#at + EVENT.exchangeNs;
    // ns needs 61 bits, past a double's 53: divide each half, as 2^32 = 4_294_967 * 1000 + 296.
    const hi = d.getInt32(at + 4, true);
    return hi * 4_294_967 + Math.floor((hi * 296 + d.getUint32(at, true)) / 1000);
  }

  /** The vendor's sequence number, 0 where it has none. */
  get vendorSeq(): number {
    return this.#u64(EVENT.vendorSeq);
  }

  /** The side ({@linkcode SIDE}); kinds 2 to 9. */
  get side(): Side {
    return this.#data.getUint8(this.#at + BODY.side) as Side;
  }

  /** Order id (kinds 3 to 7) or trade id (8, 9); 0 where there is none. */
  get id(): number {
    return this.#u64(BODY.id);
  }

  /** Price as a scaled integer; kinds 2 to 9. */
  get price(): number {
    return this.#i64(BODY.price);
  }

  /** Size as a scaled integer; kinds 2 to 9. */
  get size(): number {
    return this.#i64(BODY.size);
  }

  /** Trading status ({@linkcode TRADING_STATUS}); kind 10. */
  get status(): TradingStatus {
    return this.#data.getUint8(this.#at + STATUS_OFFSET) as TradingStatus;
  }

  /** Decimals of prices; kind 1. */
  get priceDecimals(): number {
    return this.#data.getUint8(this.#at + INSTRUMENT.priceDecimals);
  }

  /** Decimals of sizes; kind 1. */
  get sizeDecimals(): number {
    return this.#data.getUint8(this.#at + INSTRUMENT.sizeDecimals);
  }

  /**
   * The symbol; kind 1. Decoded on each call (instrument events are rare).
   *
   * @throws {BookEventError} when it is not valid UTF-8.
   */
  get symbol(): string {
    const d = this.#data;
    const length = d.getUint16(this.#at + INSTRUMENT.symbolLength, true);
    try {
      return UTF8.decode(
        new Uint8Array(d.buffer, d.byteOffset + this.#at + INSTRUMENT.symbol, length),
      );
    } catch {
      throw new BookEventError("Instrument event's symbol is not valid UTF-8", this.#seq);
    }
  }

  /** A copy of the event's bytes, for keeping it past the message. */
  copyBytes(): Uint8Array {
    const d = this.#data;
    return new Uint8Array(d.buffer, d.byteOffset + this.#at, this.#length).slice();
  }

  #i64(field: number): number {
    const d = this.#data;
    const at = this.#at + field;
    return d.getInt32(at + 4, true) * TWO_32 + d.getUint32(at, true);
  }

  #u64(field: number): number {
    const d = this.#data;
    const at = this.#at + field;
    return d.getUint32(at + 4, true) * TWO_32 + d.getUint32(at, true);
  }
}

// The high words of 64-bit values this implementation reads exactly: below
// 2^53 in magnitude (ids and sizes not negative).
const HIGH_LIMIT = 0x20_0000;

// A side, id, price or size no writer of the protocol would store: damage,
// said as such rather than read as a rounded number or an odd side.
function checkPriced(data: DataView, at: number, seq: number): void {
  const side = data.getUint8(at + BODY.side);
  const id = data.getUint32(at + BODY.id + 4, true);
  const price = data.getInt32(at + BODY.price + 4, true);
  const size = data.getInt32(at + BODY.size + 4, true);
  if (side > SIDE.None) {
    throw new BookEventError(`Book event has side ${side}, not 0, 1 or 2`, seq);
  }
  if (
    id >= HIGH_LIMIT || price >= HIGH_LIMIT || price < -HIGH_LIMIT || size < 0 || size >= HIGH_LIMIT
  ) {
    throw new BookEventError(
      "Book event has an id, price or size of 2^53 or more, or a negative size",
      seq,
    );
  }
}
