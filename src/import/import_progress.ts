/**
 * The import's progress on stderr, drawn by `cli-progress`: bytes read of
 * the file's size when the input has one, records and their rate when it
 * does not (a pipe).
 *
 * @module
 */

import cliProgress from "cli-progress";
import process from "node:process";
import type { ImportProgress } from "./queue_import.ts";

/** A progress display started by {@linkcode startImportProgress}. */
export interface ImportProgressBar {
  /** Shows how far the import has got. */
  update(progress: ImportProgress): void;
  /** Draws the final state and ends the line, so what is printed next starts on its own. */
  stop(): void;
}

const MIB = 1024 * 1024;

function mebibytes(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/**
 * Starts a progress display on stderr (never stdout). `totalBytes` is the
 * input's size, undefined when it has none. On a terminal it redraws in
 * place; elsewhere (when forced on) it prints a line every second.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startImportProgress } from "./import_progress.ts";
 * for (const size of [2 * 1024 * 1024, undefined]) {
 *   const bar = startImportProgress(size);
 *   assert.doesNotThrow(() => {
 *     bar.update({ records: 10, skipped: 0, bytesRead: 1024 * 1024 });
 *     bar.stop();
 *   });
 * }
 * ```
 */
export function startImportProgress(totalBytes: number | undefined): ImportProgressBar {
  const sized = totalBytes !== undefined && totalBytes > 0;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: sized
        ? "import [{bar}] {percentage}% | {read} of {size} | {records} records | {duration_formatted}"
        : "import {records} records | {rate} records/s | {duration_formatted}",
      // Left visible: a Ctrl-C ends the program before the bar could show it again.
      hideCursor: false,
      clearOnComplete: false,
      // Only started when stderr is a terminal or the user asked for it, so draw either way.
      noTTYOutput: true,
      notTTYSchedule: 1000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  const payload = (p: ImportProgress) => {
    const seconds = (performance.now() - started) / 1000;
    const done = p.records + p.skipped;
    return {
      records: done,
      rate: seconds > 0 ? Math.round(done / seconds) : 0,
      read: mebibytes(p.bytesRead),
      size: mebibytes(totalBytes ?? 0),
    };
  };
  const empty = { records: 0, skipped: 0, bytesRead: 0 };
  bar.start(sized ? totalBytes : 0, 0, payload(empty));
  return {
    update: (p) => bar.update(sized ? Math.min(p.bytesRead, totalBytes) : p.records, payload(p)),
    stop: () => bar.stop(),
  };
}
