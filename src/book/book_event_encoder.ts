/**
 * Encoding book events into one reused buffer, for writers that append
 * them to a queue at import speed.
 *
 * @module
 */

import {
  BODY,
  BOOK_KIND,
  BOOK_PROTOCOL_VERSION,
  BOOK_TYPE_BASE,
  type BookKind,
  CLEAR_EVENT_SIZE,
  EVENT,
  INSTRUMENT,
  MAX_DECIMALS,
  MAX_SYMBOL_BYTES,
  PRICED_EVENT_SIZE,
  SIDE,
  type Side,
  STATUS_EVENT_SIZE,
  STATUS_OFFSET,
  TRADING_STATUS,
  type TradingStatus,
} from "./book_protocol.ts";

const TWO_32 = 0x1_0000_0000;
const UTF8 = new TextEncoder();

/** The header fields every event carries; the encoder's `header` is reused across calls. */
export interface BookEventHeader {
  /** Flag bits ({@linkcode BOOK_FLAG}). */
  flags: number;
  /** Venue id, 0 to 2^32-1. */
  venue: number;
  /** Market id within the venue, 0 to 2^32-1. */
  market: number;
  /** Exchange timestamp, ns since the Unix epoch. */
  exchangeNs: bigint;
  /** Local receive timestamp, ns since the Unix epoch. */
  receiveNs: bigint;
  /** The vendor's sequence number, 0 where it has none. */
  vendorSeq: number;
}

/**
 * Encodes events. Set the fields of {@linkcode BookEventEncoder.header},
 * then call one method per event; each returns a view of the encoder's own
 * buffer, valid until the next call, and sets
 * {@linkcode BookEventEncoder.typeId} to the chronicle type id to append
 * it with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOOK_TYPE_BASE, BookEventEncoder, SIDE } from "./mod.ts";
 * const enc = new BookEventEncoder();
 * enc.header.market = 7;
 * const bytes = enc.order(3, SIDE.Ask, 42, 1_000_100, 50);
 * assert.equal(bytes.byteLength, 72);
 * assert.equal(enc.typeId, BOOK_TYPE_BASE + 3);
 * ```
 */
export class BookEventEncoder {
  /** Header fields of the next event. */
  readonly header: BookEventHeader = {
    flags: 0,
    venue: 0,
    market: 0,
    exchangeNs: 0n,
    receiveNs: 0n,
    vendorSeq: 0,
  };
  /**
   * Chronicle type id of the event last encoded. Read it after the call
   * that encodes: in `append(enc.typeId, enc.level(…))` it is read first,
   * so it is the previous event's.
   */
  typeId = 0;
  readonly #bytes = new Uint8Array(INSTRUMENT.symbol + MAX_SYMBOL_BYTES);
  readonly #view = new DataView(this.#bytes.buffer);

  /**
   * An instrument definition.
   *
   * @throws {RangeError} when the symbol is empty or longer than 255 UTF-8 bytes, or a decimals count is above 18.
   */
  instrument(symbol: string, priceDecimals: number, sizeDecimals: number): Uint8Array {
    const encoded = UTF8.encode(symbol);
    if (encoded.byteLength === 0 || encoded.byteLength > MAX_SYMBOL_BYTES) {
      throw new RangeError(`Symbol '${symbol}' must be 1 to ${MAX_SYMBOL_BYTES} bytes of UTF-8`);
    }
    for (const [name, value] of [["Price", priceDecimals], ["Size", sizeDecimals]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > MAX_DECIMALS) {
        throw new RangeError(
          `${name} decimals '${value}' must be an integer from 0 to ${MAX_DECIMALS}`,
        );
      }
    }
    const length = INSTRUMENT.symbol + encoded.byteLength;
    this.#start(BOOK_KIND.Instrument, length);
    const v = this.#view;
    v.setUint8(INSTRUMENT.priceDecimals, priceDecimals);
    v.setUint8(INSTRUMENT.sizeDecimals, sizeDecimals);
    v.setUint16(INSTRUMENT.symbolLength, encoded.byteLength, true);
    this.#bytes.set(encoded, INSTRUMENT.symbol);
    return this.#bytes.subarray(0, length);
  }

  /**
   * An L2 level set: the absolute size at `price`; 0 removes the level.
   *
   * @throws {RangeError} when a value is out of range.
   */
  level(side: Side, price: number, size: number): Uint8Array {
    return this.#priced(BOOK_KIND.Level, side, 0, price, size);
  }

  /**
   * An L3 order event: add, partial cancel, delete, visible or hidden
   * execution (kinds 3 to 7).
   *
   * @throws {RangeError} when the kind is not an order kind or a value is out of range.
   */
  order(kind: BookKind, side: Side, orderId: number, price: number, size: number): Uint8Array {
    if (kind < BOOK_KIND.OrderAdd || kind > BOOK_KIND.HiddenExecute) {
      throw new RangeError(`Kind '${kind}' is not an order event's`);
    }
    return this.#priced(kind, side, orderId, price, size);
  }

  /**
   * A trade or cross trade (kinds 8 and 9); `side` is the aggressor's,
   * {@linkcode SIDE.None} where unknown.
   *
   * @throws {RangeError} when the kind is not a trade kind or a value is out of range.
   */
  trade(kind: BookKind, side: Side, tradeId: number, price: number, size: number): Uint8Array {
    if (kind !== BOOK_KIND.Trade && kind !== BOOK_KIND.CrossTrade) {
      throw new RangeError(`Kind '${kind}' is not a trade event's`);
    }
    return this.#priced(kind, side, tradeId, price, size);
  }

  /**
   * A trading status change.
   *
   * @throws {RangeError} when the status is not one of {@linkcode TRADING_STATUS}.
   */
  status(status: TradingStatus): Uint8Array {
    if (!Number.isInteger(status) || status < 0 || status > TRADING_STATUS.Trading) {
      throw new RangeError(`Trading status '${status}' is not known`);
    }
    this.#start(BOOK_KIND.Status, STATUS_EVENT_SIZE);
    this.#view.setUint8(STATUS_OFFSET, status);
    return this.#bytes.subarray(0, STATUS_EVENT_SIZE);
  }

  /** A book clear. */
  clear(): Uint8Array {
    this.#start(BOOK_KIND.Clear, CLEAR_EVENT_SIZE);
    return this.#bytes.subarray(0, CLEAR_EVENT_SIZE);
  }

  #priced(kind: BookKind, side: Side, id: number, price: number, size: number): Uint8Array {
    if (side !== SIDE.Bid && side !== SIDE.Ask && side !== SIDE.None) {
      throw new RangeError(`Side '${side}' is not 0 (bid), 1 (ask) or 2 (none)`);
    }
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RangeError(`Id '${id}' must be an integer from 0 to 2^53-1`);
    }
    if (!Number.isSafeInteger(price)) {
      throw new RangeError(`Price '${price}' must be a scaled integer within ±(2^53-1)`);
    }
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`Size '${size}' must be a scaled integer from 0 to 2^53-1`);
    }
    this.#start(kind, PRICED_EVENT_SIZE);
    const v = this.#view;
    v.setUint8(BODY.side, side);
    this.#set64(BODY.id, id);
    this.#set64(BODY.price, price);
    this.#set64(BODY.size, size);
    return this.#bytes.subarray(0, PRICED_EVENT_SIZE);
  }

  #start(kind: BookKind, length: number): void {
    const h = this.header;
    if (!isU32(h.venue) || !isU32(h.market)) {
      throw new RangeError(`Venue '${h.venue}' and market '${h.market}' must be 0 to 2^32-1`);
    }
    if (!Number.isSafeInteger(h.vendorSeq) || h.vendorSeq < 0) {
      throw new RangeError(`Vendor seq '${h.vendorSeq}' must be an integer from 0 to 2^53-1`);
    }
    this.#bytes.fill(0, 0, length);
    const v = this.#view;
    v.setUint8(EVENT.kind, kind);
    v.setUint8(EVENT.version, BOOK_PROTOCOL_VERSION);
    v.setUint16(EVENT.flags, h.flags & 0xffff, true);
    v.setUint32(EVENT.venue, h.venue, true);
    v.setUint32(EVENT.market, h.market, true);
    v.setBigInt64(EVENT.exchangeNs, h.exchangeNs, true);
    v.setBigInt64(EVENT.receiveNs, h.receiveNs, true);
    this.#set64(EVENT.vendorSeq, h.vendorSeq);
    this.typeId = BOOK_TYPE_BASE + kind;
  }

  // Two 32-bit halves: a safe integer needs no bigint to store.
  #set64(at: number, value: number): void {
    const hi = Math.floor(value / TWO_32);
    this.#view.setUint32(at, value - hi * TWO_32, true);
    this.#view.setInt32(at + 4, hi, true);
  }
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}
