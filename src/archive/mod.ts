/**
 * The archive tap: copies a live chronicle queue into its durable archive
 * queue, in order, with each record's seq, type id, timestamp and payload
 * kept, so the hot queue keeps a short retention while replay and
 * backtests read the archive. A restart resumes with no loss and no
 * duplicate: the archive's last seq says where to go on. The `archive-tap`
 * program (`cli/archive_tap.ts`) is a thin layer over this module; see
 * `docs/archive-tap.md`.
 *
 * Needs `--allow-ffi`, `--allow-read` and `--allow-write` (both queues).
 *
 * @example Copy what a live queue holds, then only what is new
 * ```ts
 * import assert from "node:assert/strict";
 * import { archiveTap } from "./mod.ts";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const live = await QueueWriter.open(`${dir}/live`, { segmentBytes: 1 << 16 });
 * const tick = (text: string) => live.append(1, new TextEncoder().encode(text));
 * tick("a");
 * tick("b");
 * const options = { live: `${dir}/live`, archive: `${dir}/archive`, once: true };
 * assert.equal((await archiveTap(options)).copied, 2);
 * tick("c");
 * const again = await archiveTap(options); // start 'committed' by default
 * assert.equal(again.copied, 1);
 * assert.equal(again.firstSeq, 3);
 * assert.equal(again.archiveLastSeq, 3);
 * live.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { ArchiveAheadError, ArchiveGapError } from "./archive_errors.ts";
export { archiveTap, type ArchiveTapSummary } from "./archive_tap.ts";
export { lastSeqOf, queueSeqRange, type SeqRange } from "./live_range.ts";
export { realLocation, resolveTapQueues, type TapQueues } from "./tap_locations.ts";
export {
  ARCHIVE_STARTS,
  ARCHIVE_WRITER_OPTIONS,
  type ArchiveStart,
  type ArchiveTapLog,
  type ArchiveTapOptions,
  checkArchiveTapOptions,
  type CheckedTapOptions,
  DEFAULT_COMMIT_EVERY,
  DEFAULT_READER_NAME,
} from "./tap_options.ts";
