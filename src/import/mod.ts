/**
 * Backfilling a chronicle queue from JSON lines or a tape. Each input
 * format turns its input into records; {@linkcode importRecords} appends
 * them, checking that seqs continue the queue with no gap, counting
 * timestamps that go back, and saying how to resume when it stops part way.
 * The `import` program (`cli/import.ts`) is a thin layer over this module.
 *
 * Needs `--allow-ffi`, `--allow-read` and `--allow-write` (the queue).
 *
 * @example Import JSON lines, then the same lines again with nothing duplicated
 * ```ts
 * import assert from "node:assert/strict";
 * import { importJsonlFile, importSummaryLine } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/in.jsonl`, [
 *   '{"seq":1,"timestamp_ns":1700000000000000000,"type_id":7,"payload":"bid 101.5"}',
 *   '{"seq":2,"timestamp_ns":1700000000000000001,"type_id":7,"payload":"ask 101.75"}',
 * ].join("\n"));
 * const first = await importJsonlFile(`${dir}/in.jsonl`, { to: `${dir}/q` });
 * assert.deepEqual(first.seqs, { first: 1, last: 2 });
 * const again = await importJsonlFile(`${dir}/in.jsonl`, { to: `${dir}/q`, skipExisting: true });
 * assert.match(importSummaryLine(again), /^0 records/);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  ImportError,
  type ImportFault,
  type ImportStop,
  InputFileError,
  InputLineError,
  QueueContinuityError,
  QueueOpenError,
} from "./import_error.ts";
export {
  detectFormat,
  IMPORT_FORMATS,
  type ImportFormat,
  VENDOR_FORMATS,
} from "./import_format.ts";
export { type ImportProgressBar, startImportProgress } from "./import_progress.ts";
export { type ImportSummary, importSummaryLine } from "./import_summary.ts";
export { InputLines, MAX_INPUT_LINE_BYTES, openInputFile, regularFileSize } from "./input_lines.ts";
export { importJsonlFile, importJsonLines, jsonRecords } from "./jsonl_import.ts";
export {
  checkImportTarget,
  type ImportOptions,
  type ImportProgress,
  type ImportRecord,
  importRecords,
} from "./queue_import.ts";
export { importTape, tapeRecords } from "./tape_import.ts";
export { importStream } from "./stream_import.ts";
export {
  importLobster,
  lobsterCountsLine,
  LobsterImport,
  type LobsterImportCounts,
  type LobsterImportOptions,
  type LobsterImportSummary,
} from "./lobster_import.ts";
export {
  type LobsterFileName,
  type LobsterFileOptions,
  type LobsterFiles,
  lobsterFiles,
  parseLobsterFileName,
} from "./lobster_file_name.ts";
export { newYorkMidnightNs, secondsToNs } from "./new_york_time.ts";
export { importTardisBook } from "./tardis_book_import.ts";
export { importTardisTrades } from "./tardis_trades_import.ts";
export { type TardisImportOptions } from "./tardis_events.ts";
export {
  type TardisCounts,
  tardisCounts,
  tardisCountsLine,
  type TardisImportSummary,
} from "./tardis_counts.ts";
export { decimalsOf, scaleDecimal } from "./decimal_scale.ts";
export { InputBytes } from "./input_bytes.ts";
export {
  checkContinuation,
  formatsWriting,
  type QueueEnd,
  readQueueEnd,
  type VendorFormat,
} from "./queue_continuation.ts";
