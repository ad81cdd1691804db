/**
 * A live book on a terminal: the ladder redrawn in place as it changes, at
 * most ten times a second, so a fast feed costs the terminal little and
 * the screen still shows the latest state once the feed goes quiet.
 *
 * @module
 */

import { bookLadder, type BookView } from "../book/mod.ts";
import { type SyncWriter, writeTextSync } from "../tape/mod.ts";

// Cursor home, then clear the screen: the ladder replaces what was there.
const REDRAW = "\x1b[H\x1b[2J";
const MIN_REDRAW_MS = 100;

/**
 * Redraws a book ladder in place. {@linkcode BookScreen.update} takes each
 * new state and draws when the last draw is old enough;
 * {@linkcode BookScreen.flush} draws a state that is still waiting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookScreen } from "./book_screen.ts";
 * const chunks: string[] = [];
 * const out = { writeSync: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), p.length) };
 * const book = {
 *   venue: 1, market: 1, symbol: "XYZ", priceDecimals: 0, sizeDecimals: 0, status: 3,
 *   depth: () => 0, price: () => undefined, size: () => 0, sizeAt: () => 0,
 *   forEachOrder: () => {}, forEachUnattributed: () => {},
 * };
 * const screen = new BookScreen(out, 2, () => 0);
 * screen.update(book, 1, 0n);
 * screen.update(book, 2, 0n);
 * assert.equal(chunks.length, 1);
 * screen.flush();
 * assert.equal(chunks.length, 2);
 * assert.ok(chunks[1]!.includes("#2 XYZ"));
 * ```
 */
export class BookScreen {
  readonly #out: SyncWriter;
  readonly #depth: number;
  readonly #now: () => number;
  #drawnAt = -Infinity;
  // The latest state of each market shown, by venue and market.
  readonly #books = new Map<number, { book: BookView; seq: number; timestampNs: bigint }>();
  #pending = false;

  /** A screen on `out` showing `depth` levels; `now` is the clock in ms (replaceable for tests). */
  constructor(out: SyncWriter, depth: number, now: () => number = () => performance.now()) {
    this.#out = out;
    this.#depth = depth;
    this.#now = now;
  }

  /**
   * Takes the book after the message at `seq`; draws it now or at the next
   * {@linkcode BookScreen.flush}, which must come before the book changes
   * again (the text is made only when drawn, so skipped states cost nothing).
   */
  update(book: BookView, seq: number, timestampNs: bigint): void {
    const key = book.venue * 0x1_0000_0000 + book.market;
    const shown = this.#books.get(key);
    if (shown === undefined) this.#books.set(key, { book, seq, timestampNs });
    else {
      shown.seq = seq;
      shown.timestampNs = timestampNs;
    }
    this.#pending = true;
    if (this.#now() - this.#drawnAt >= MIN_REDRAW_MS) this.flush();
  }

  /** Draws the state waiting to be drawn, if any: every market shown, in venue and market order. */
  flush(): void {
    if (!this.#pending) return;
    const depth = Math.max(2, this.#depth);
    const ladders = [...this.#books.entries()].sort(([a], [b]) => a - b)
      .map(([, p]) => bookLadder(p.book, p.seq, p.timestampNs, depth));
    writeTextSync(`${REDRAW}${ladders.join("\n\n")}\n`, this.#out);
    this.#pending = false;
    this.#drawnAt = this.#now();
  }
}
