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
export { formatScaled } from "./scaled_decimal.ts";
export { bookJsonLine } from "./book_json.ts";
export { bookLadder } from "./book_ladder.ts";
export {
  type BookFeatureOptions,
  type BookFormat,
  type BookReplayOptions,
  type BookReplayResult,
  replayBooks,
} from "./book_replay.ts";
export {
  FeatureComputer,
  type FeatureComputerOptions,
  type FeatureRow,
} from "./feature_computer.ts";
export { FeatureRowFormat } from "./feature_row_format.ts";
export {
  EVERY_BATCH,
  FEATURE_NAMES,
  type FeatureName,
  type FeatureSpec,
  parseEvery,
  parseFeatures,
  type RowEvery,
} from "./feature_spec.ts";
export { OrderFlowImbalance } from "./order_flow_imbalance.ts";
export { imbalanceText, micropriceText, midText, spreadText } from "./quote_features.ts";
export { isTradeKind, TradeTally } from "./trade_tally.ts";
export { LOBSTER_EMPTY_ASK, LOBSTER_EMPTY_BID, lobsterRow } from "./lobster_row.ts";
export { parseSnapshotPlan, type SnapshotPlan, SnapshotPlanner } from "./snapshot_planner.ts";
export {
  decodeSnapshot,
  recordChecksum,
  restoreBook,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_HEADER,
  SNAPSHOT_HEADER_SIZE,
  SNAPSHOT_LENGTH_PREFIX,
  SNAPSHOT_MAGIC,
  SnapshotEncoder,
  SnapshotFile,
  SnapshotFormatError,
  type SnapshotHeader,
  type SnapshotStamp,
} from "./snapshot_file.ts";
export { removeTempFiles, SnapshotWriter, type SnapshotWriterOptions } from "./snapshot_writer.ts";
export {
  isSnapshotTempName,
  pruneSnapshots,
  type SnapshotChoice,
  snapshotDirFor,
  type SnapshotRef,
  SnapshotStore,
  type SnapshotTarget,
  snapshotTempName,
} from "./snapshot_store.ts";
export {
  buildSnapshots,
  type BuildSnapshotsResult,
  type ResumedTaker,
  type SnapshotResumeOptions,
  SnapshotTaker,
  type SnapshotTakerOptions,
} from "./snapshot_taker.ts";
export {
  type WarmStart,
  warmStart,
  type WarmStartOptions,
  type WarmStartTarget,
} from "./warm_start.ts";
export { OrderBook } from "./order_book.ts";
export { BookSet } from "./book_set.ts";
export { BookStats, type BookStatsJson } from "./book_stats.ts";
// Types the book API takes or gives, from the modules that own them.
export type { StreamKind, StreamMessage, StreamReader } from "../stream/mod.ts";
export type { WaitStrategy } from "../chronicle/mod.ts";
export type { ByteWriter } from "../consumer/mod.ts";
