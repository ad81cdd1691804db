/**
 * Order books from market-data streams: the book-event protocol
 * (`docs/book-protocol.md`), L2 and L3 books rebuilt from any stream,
 * snapshots for warm starts, and features computed from the books.
 *
 * @example Encode an event and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookEvent, BookEventEncoder, SIDE } from "./mod.ts";
 * const enc = new BookEventEncoder();
 * const e = new BookEvent();
 * e.wrapBytes(enc.level(SIDE.Ask, 1_000_100, 25));
 * assert.equal(e.side, SIDE.Ask);
 * assert.equal(e.size, 25);
 * ```
 *
 * @module
 */

export * from "./book_protocol.ts";
export { BookEvent, BookEventError } from "./book_event.ts";
export { BookEventEncoder, type BookEventHeader } from "./book_event_encoder.ts";
export type { BookView } from "./book_view.ts";
