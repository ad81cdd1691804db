/**
 * The book-event protocol's layout as constants: type ids, kinds, flags and
 * every field offset the encoder and the decoder agree on.
 * `docs/book-protocol.md` is the prose form of this file.
 *
 * @module
 */

/** Protocol version every event carries in its second byte. */
export const BOOK_PROTOCOL_VERSION = 1;

/**
 * Chronicle type id of kind 0: an event of kind `k` is stored with type id
 * `BOOK_TYPE_BASE + k`, so book events share a queue with other traffic.
 */
export const BOOK_TYPE_BASE = 0x4200;

/** Event kinds, as stored in byte 0 and in the type id's low byte. */
export const BOOK_KIND = {
  /** Instrument definition: symbol, price and size decimals. */
  Instrument: 1,
  /** L2 level set: the absolute size at one price; 0 removes the level. */
  Level: 2,
  /** L3 order add. */
  OrderAdd: 3,
  /** L3 partial cancel: `size` is the quantity cancelled. */
  OrderCancel: 4,
  /** L3 delete: the order goes, whatever is left of it. */
  OrderDelete: 5,
  /** Execution of a visible order: `size` is the quantity executed. */
  OrderExecute: 6,
  /** Execution against hidden liquidity: no visible change. */
  HiddenExecute: 7,
  /** A trade print. */
  Trade: 8,
  /** A cross (auction) trade. */
  CrossTrade: 9,
  /** Trading status: halted, quoting or trading. */
  Status: 10,
  /** Book clear: every level and order of the market goes. */
  Clear: 11,
} as const;

/** One of {@linkcode BOOK_KIND}'s values. */
export type BookKind = typeof BOOK_KIND[keyof typeof BOOK_KIND];

/** The highest kind this version knows. */
export const MAX_BOOK_KIND = 11;

/** Names of the kinds, for counts and messages; index is the kind. */
export const BOOK_KIND_NAMES: readonly string[] = [
  "",
  "instrument",
  "level",
  "order_add",
  "order_cancel",
  "order_delete",
  "order_execute",
  "hidden_execute",
  "trade",
  "cross_trade",
  "status",
  "clear",
];

/** Flag bits, in the event's 16-bit flags word. */
export const BOOK_FLAG = {
  /** First event of a snapshot. */
  SnapshotBegin: 1,
  /** Last event of a snapshot. */
  SnapshotEnd: 2,
  /** Last event of a batch: consumers apply a batch as one change. */
  BatchEnd: 4,
  /** Written by an importer to reconcile with the vendor's own book, not sent by the venue. */
  Correction: 8,
} as const;

/** Sides, as stored in the side byte. */
export const SIDE = {
  /** Bid, or a buyer-initiated trade. */
  Bid: 0,
  /** Ask, or a seller-initiated trade. */
  Ask: 1,
  /** Unknown (trades whose aggressor is not known). */
  None: 2,
} as const;

/** One of {@linkcode SIDE}'s values. */
export type Side = typeof SIDE[keyof typeof SIDE];

/** Trading status values, as stored in a status event. */
export const TRADING_STATUS = {
  /** Not known. */
  Unknown: 0,
  /** Halted: no quoting, no trading. */
  Halted: 1,
  /** Quoting only (a pre-open or a resumption's quote period). */
  Quoting: 2,
  /** Trading. */
  Trading: 3,
} as const;

/** One of {@linkcode TRADING_STATUS}'s values. */
export type TradingStatus = typeof TRADING_STATUS[keyof typeof TRADING_STATUS];

/** Offsets of the header every event starts with. */
export const EVENT = {
  /** u8: the kind. */
  kind: 0,
  /** u8: the protocol version. */
  version: 1,
  /** u16: flags. */
  flags: 2,
  /** u32: venue id. */
  venue: 4,
  /** u32: market (instrument) id within the venue. */
  market: 8,
  /** u32: zero. */
  reserved: 12,
  /** i64: exchange timestamp, ns since the Unix epoch. */
  exchangeNs: 16,
  /** i64: local receive timestamp, ns since the Unix epoch. */
  receiveNs: 24,
  /** u64: the vendor's sequence number, 0 where it has none. */
  vendorSeq: 32,
} as const;

/** Size of the common header; kinds' bodies start here. */
export const EVENT_HEADER_SIZE = 40;

/** Offsets of the side, id, price and size body (kinds 2 to 9). */
export const BODY = {
  /** u8: the side ({@linkcode SIDE}). */
  side: 40,
  /** u64: order id (kinds 3 to 7) or trade id (8, 9); 0 where there is none; zero in a level event. */
  id: 48,
  /** i64: price, an integer scaled by 10^priceDecimals. */
  price: 56,
  /** i64: size, an integer scaled by 10^sizeDecimals. */
  size: 64,
} as const;

/** Offsets of an instrument definition's body. */
export const INSTRUMENT = {
  /** u8: decimals of prices. */
  priceDecimals: 40,
  /** u8: decimals of sizes. */
  sizeDecimals: 41,
  /** u16: length of the symbol in bytes. */
  symbolLength: 42,
  /** The symbol, UTF-8, `symbolLength` bytes. */
  symbol: 48,
} as const;

/** Offset of a status event's status byte. */
export const STATUS_OFFSET = 40;

/** Size of an event with a side, id, price and size body. */
export const PRICED_EVENT_SIZE = 72;
/** Size of a status event. */
export const STATUS_EVENT_SIZE = 48;
/** Size of a clear event. */
export const CLEAR_EVENT_SIZE = 40;
/** Longest symbol, in UTF-8 bytes. */
export const MAX_SYMBOL_BYTES = 255;
/** Most decimals a price or size may have. */
export const MAX_DECIMALS = 18;

/**
 * The exact size of an event of `kind`, or -1 for an instrument definition
 * (whose size depends on its symbol) and for kinds this version does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BOOK_KIND, eventSize } from "./book_protocol.ts";
 * assert.equal(eventSize(BOOK_KIND.Level), 72);
 * assert.equal(eventSize(BOOK_KIND.Clear), 40);
 * ```
 */
export function eventSize(kind: number): number {
  if (kind >= BOOK_KIND.Level && kind <= BOOK_KIND.CrossTrade) return PRICED_EVENT_SIZE;
  if (kind === BOOK_KIND.Status) return STATUS_EVENT_SIZE;
  if (kind === BOOK_KIND.Clear) return CLEAR_EVENT_SIZE;
  return -1;
}

/**
 * Whether a chronicle type id is a book event's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBookType } from "./book_protocol.ts";
 * assert.equal(isBookType(0x4202), true);
 * assert.equal(isBookType(1), false);
 * ```
 */
export function isBookType(typeId: number): boolean {
  const kind = typeId - BOOK_TYPE_BASE;
  return kind >= 1 && kind <= MAX_BOOK_KIND;
}
