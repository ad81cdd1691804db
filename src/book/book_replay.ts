/**
 * Books rebuilt from any stream and printed as they change: what
 * `replay --book` and `tail --book` do, on a queue, a bus stream, a tape
 * read as messages, or a merge of several, finite or followed.
 *
 * @module
 */

import { type ByteWriter, LineSink } from "../consumer/mod.ts";
import {
  locateStream,
  MergedStream,
  openStream,
  type OpenStreamOptions,
  type StreamReader,
} from "../stream/mod.ts";
import { BookEvent } from "./book_event.ts";
import { bookJsonLine } from "./book_json.ts";
import { bookLadder } from "./book_ladder.ts";
import { BOOK_FLAG } from "./book_protocol.ts";
import { BookSet } from "./book_set.ts";
import type { BookView } from "./book_view.ts";
import { lobsterRow } from "./lobster_row.ts";
import { type WarmStart, warmStart, type WarmStartTarget } from "./warm_start.ts";
import { FeatureComputer, type FeatureRow } from "./feature_computer.ts";
import { FeatureRowFormat } from "./feature_row_format.ts";
import type { FeatureSpec, RowEvery } from "./feature_spec.ts";

/** How a book is printed. */
export type BookFormat = "ladder" | "json" | "lobster";

/** Features to print instead of books; see `docs/features.md`. */
export interface BookFeatureOptions {
  /** The features, as {@linkcode parseFeatures} gives them. */
  specs: readonly FeatureSpec[];
  /** How often a market gets a row; default after every batch. */
  every?: RowEvery;
  /** CSV (a header line first) or JSON lines. */
  format: "csv" | "json";
}

/** Options of {@linkcode replayBooks}. */
export interface BookReplayOptions {
  /** Queues, bus stream directories or tapes; several are merged by time. */
  locations: readonly string[];
  /** Where tape ids are looked up. */
  tapesDir?: string;
  /** Only this market: its symbol, its market id, or `venue:market`. */
  market?: string;
  /** Levels per side to print. */
  depth: number;
  /** How books are printed. */
  format: BookFormat;
  /** Print only the state at the end. */
  final?: boolean;
  /**
   * Start at the end: print the books as they stand (rebuilt from the
   * latest snapshot, or from the start), then each change; for following.
   */
  fromEnd?: boolean;
  /** Print features computed from the books instead of the books. */
  features?: BookFeatureOptions;
  /** Print only after messages with seq at least this (the book is still built from the start). */
  fromSeq?: number;
  /** Stop after the message with this seq. */
  toSeq?: number;
  /** Print only after messages stamped at or after this, ns since the epoch. */
  fromTimeNs?: bigint;
  /** Stop before the first message stamped after this, ns since the epoch. */
  toTimeNs?: bigint;
  /** Keep reading as messages arrive, until `signal` aborts. */
  follow?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
  /** Called with the book after each batch instead of printing it (a live ladder redraws). */
  onBook?: (book: BookView, seq: number, timestampNs: bigint) => void;
  /** Called whenever the stream has nothing more for now, before waiting. */
  onIdle?: () => void;
  /** Where lines go. Default stdout. */
  out?: ByteWriter;
  /** Told which snapshots a warm start used, and warnings about the ones it passed over. */
  log?: (line: string) => void;
}

/** What {@linkcode replayBooks} did. */
export interface BookReplayResult {
  /** The books, as at the end. */
  books: BookSet;
  /** Book events applied. */
  events: number;
  /** Rows printed (or handed to `onBook`). */
  rows: number;
}

// A followed stream's wait returns this often, so an abort is seen.
const FOLLOW_SLICE_MS = 100;

/**
 * Rebuilds the books of `locations` event by event and prints the book
 * that changed after each complete batch (a row per batch), or only the
 * final state. Messages that are not book events are skipped.
 *
 * @throws {BookEventError} at a book event that cannot be decoded; rows before it were printed.
 * @throws {RangeError} when `format` is `lobster` and the stream holds several markets but no `market` is chosen, and when a stream read to its end holds no market `market` names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { BOOK_FLAG, BookEventEncoder, replayBooks, SIDE } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * const enc = new BookEventEncoder();
 * enc.header.flags = BOOK_FLAG.BatchEnd;
 * const instrument = enc.instrument("XYZ", 2, 0);
 * w.append(enc.typeId, instrument, 0n);
 * const level = enc.level(SIDE.Bid, 10_050, 7);
 * w.append(enc.typeId, level, 1n);
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * await replayBooks({ locations: [dir], depth: 1, format: "lobster", final: true, out });
 * assert.equal(chunks.join(""), "9999999999,0,10050,7\n");
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function replayBooks(options: BookReplayOptions): Promise<BookReplayResult> {
  const { fromSeq, toSeq, fromTimeNs, toTimeNs, depth } = options;
  const follow = options.follow ?? false;
  const signal = options.signal;
  const select = marketSelector(options.market);
  const print = rowFormat(options.format);
  const event = new BookEvent();
  const warm = await warmStartFor(options);
  const books = warm?.books ?? new BookSet();
  const sources = warm === undefined ? await openSources(options) : [warm.stream];
  let events = 0;
  let rows = 0;
  // The last book event applied, which a final row is stamped with.
  let lastSeq = warm?.lastEvent?.seq ?? 0;
  let lastTs = warm?.lastEvent?.timestampNs ?? 0n;
  try {
    const stream = sources.length === 1 ? sources[0]! : new MergedStream(sources, { live: follow });
    await using sink = new LineSink(options.out ?? Deno.stdout, follow ? 0 : 64 * 1024);
    const features = options.features === undefined
      ? undefined
      : new FeatureLines(options.features, (row) => {
        if (!select(row)) return false;
        if (fromSeq !== undefined && row.seq < fromSeq) return false;
        return fromTimeNs === undefined || row.timestampNs >= fromTimeNs;
      });
    if (features !== undefined) await features.drain(sink);
    const emit = async (book: BookView, seq: number, ts: bigint) => {
      if (options.format === "lobster") checkOneMarket(books, options.market);
      if (options.onBook) options.onBook(book, seq, ts);
      else await sink.line(print(book, seq, ts, depth));
      rows++;
    };
    if (options.fromEnd && warm !== undefined) {
      for (const book of books.books()) if (select(book)) await emit(book, lastSeq, lastTs);
    }
    for (;;) {
      const m = stream.next();
      if (m === undefined) {
        options.onIdle?.();
        if (signal?.aborted) break;
        if (await stream.wait(follow ? FOLLOW_SLICE_MS : Infinity)) continue;
        if (!follow || signal?.aborted) break;
        continue;
      }
      if (toSeq !== undefined && m.seq > toSeq) break;
      if (toTimeNs !== undefined && m.timestampNs > toTimeNs) break;
      if (!event.wrap(m)) continue;
      const book = books.apply(event);
      events++;
      lastSeq = m.seq;
      // A timestamp is a bigint made on each read: only a final row needs it.
      if (options.final) lastTs = m.timestampNs;
      if (features !== undefined) {
        // Every event goes in, so flow and trades stay continuous; rows before `from` are dropped.
        features.computer.push(event, book);
        rows += await features.drain(sink);
        if (sink.closed) break;
        continue;
      }
      if (options.final) continue;
      if (book === undefined || (event.flags & BOOK_FLAG.BatchEnd) === 0 || !select(book)) continue;
      if (fromSeq !== undefined && m.seq < fromSeq) continue;
      if (fromTimeNs !== undefined && m.timestampNs < fromTimeNs) continue;
      await emit(book, m.seq, m.timestampNs);
      if (sink.closed) break;
    }
    if (options.final) {
      for (const book of books.books()) if (select(book)) await emit(book, lastSeq, lastTs);
    }
    if (features !== undefined && !sink.closed) {
      features.computer.finish();
      rows += await features.drain(sink);
    }
    await sink.flush();
    if (options.market !== undefined && !follow && !books.books().some(select)) {
      throw new RangeError(noSuchMarket(options.market, books));
    }
    return { books, events, rows };
  } finally {
    for (const source of sources) source.close();
  }
}

// Feature rows as lines: the computer hands rows over synchronously, and
// they wait here until the loop can await the sink.
class FeatureLines {
  readonly computer: FeatureComputer;
  readonly #format: FeatureRowFormat;
  readonly #json: boolean;
  #pending: string[] = [];

  constructor(options: BookFeatureOptions, keep: (row: FeatureRow) => boolean) {
    this.#format = new FeatureRowFormat(options.specs);
    this.#json = options.format === "json";
    if (!this.#json) this.#pending.push(this.#format.csvHeader);
    this.computer = new FeatureComputer({
      features: options.specs,
      ...(options.every === undefined ? {} : { every: options.every }),
      onRow: (row) => {
        if (keep(row)) {
          this.#pending.push(this.#json ? this.#format.json(row) : this.#format.csv(row));
        }
      },
    });
  }

  // Writes the lines waiting; returns how many rows they were.
  async drain(sink: LineSink): Promise<number> {
    const lines = this.#pending;
    if (lines.length === 0) return 0;
    this.#pending = [];
    for (const line of lines) await sink.line(line);
    return lines.length;
  }
}

// A single queue read from a point, or to a point for its final state,
// starts from the latest valid snapshot instead of its first record.
async function warmStartFor(options: BookReplayOptions): Promise<WarmStart | undefined> {
  const { locations, fromSeq, fromTimeNs, toSeq, toTimeNs } = options;
  // Features need every event before the start too (flow, trades, buckets):
  // they replay from the first record and print from the start point.
  if (locations.length !== 1 || options.features !== undefined) return undefined;
  let target: WarmStartTarget | undefined;
  if (options.fromEnd) target = "end";
  else if (fromSeq !== undefined) target = { seq: fromSeq - 1 };
  else if (fromTimeNs !== undefined) target = { timestampNs: fromTimeNs };
  else if (options.final && toSeq !== undefined) target = { seq: toSeq };
  else if (options.final && toTimeNs !== undefined) target = { timestampNs: toTimeNs + 1n };
  if (target === undefined) return undefined;
  const found = await locateStream(locations[0]!, options.tapesDir);
  if (found.kind !== "queue") return undefined;
  const log = options.log ?? (() => {});
  const warm = await warmStart(found.path, target, {
    onWarning: log,
    ...(options.follow ? { follow: true } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  log(warm.description);
  return warm;
}

async function openSources(options: BookReplayOptions): Promise<StreamReader[]> {
  const open: OpenStreamOptions = {
    ...(options.tapesDir === undefined ? {} : { tapesDir: options.tapesDir }),
    ...(options.follow ? { follow: true, forever: true } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const sources: StreamReader[] = [];
  try {
    for (const location of options.locations) sources.push(await openStream(location, open));
    return sources;
  } catch (error) {
    for (const source of sources) source.close();
    throw error;
  }
}

type RowFormat = (book: BookView, seq: number, timestampNs: bigint, depth: number) => string;

function rowFormat(format: BookFormat): RowFormat {
  switch (format) {
    case "json":
      return bookJsonLine;
    case "lobster":
      return (book, _seq, _ts, depth) => lobsterRow(book, depth);
    case "ladder":
      return bookLadder;
  }
}

/**
 * Whether a book is the one `--market` names: by symbol, by market id, or
 * by `venue:market`; every book when nothing is named.
 */
function marketSelector(
  market: string | undefined,
): (book: { venue: number; market: number; symbol: string }) => boolean {
  if (market === undefined) return () => true;
  const pair = /^(\d+):(\d+)$/.exec(market);
  if (pair) {
    const venue = Number(pair[1]);
    const id = Number(pair[2]);
    return (book) => book.venue === venue && book.market === id;
  }
  const id = /^\d+$/.test(market) ? Number(market) : -1;
  return (book) => book.symbol === market || book.market === id;
}

// Names the markets there are, so a mistyped '--market' is seen at once.
function noSuchMarket(market: string, books: BookSet): string {
  const all = books.books().map((b) =>
    `'${b.symbol === "" ? b.market : b.symbol}' (${b.venue}:${b.market})`
  );
  return all.length === 0
    ? `No market '${market}': the stream holds no book events`
    : `No market '${market}' in the stream: it holds ${all.join(", ")}`;
}

// LOBSTER rows carry no market: mixing markets in them would be wrong rows.
function checkOneMarket(books: BookSet, market: string | undefined): void {
  if (market !== undefined) return;
  let count = 0;
  for (const _ of books.books()) {
    if (++count > 1) {
      throw new RangeError(
        "The stream holds several markets: choose one with '--market <symbol>' for LOBSTER rows",
      );
    }
  }
}
