/**
 * A tape read back once, the way a lenient reader reads it, for a writer
 * that carries on with it (`TapeWriter.reopen`, and the counters after a
 * failed write).
 *
 * @module
 */

import { memberValueText } from "../json/mod.ts";
import { Correlator } from "./correlator.ts";
import { frameAction } from "./message_kind.ts";
import { RecordParser } from "./record_parser.ts";
import { TapeFormatError } from "./tape_format_error.ts";
import { emptyStats } from "./tape_stats.ts";
import type { CorrelationRecord, InitRecord, TapeRecord, TapeStats } from "./types.ts";

/** What a writer needs to know to carry on with a tape. */
export interface TapeScan {
  init: InitRecord;
  /** Size of the file as read. */
  size: number;
  /** Offset just past the last newline: where a partial last line starts. */
  completeEnd: number;
  stats: TapeStats;
  lastTs: number;
  protocolVersion: string | null;
  correlator: Correlator;
  finalized: boolean;
  /** The correlation record a killed writer did not write after the last response. */
  missingCorrelation: CorrelationRecord | undefined;
}

const SCAN_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a whole tape once, streaming, to restore a writer's state. Lines a
 * reader would skip (bad lines, unknown record types) count for nothing
 * and are not told about. Throws {@linkcode TapeFormatError} when the file
 * is not a tape, or a tape of a newer format version: appending version 1
 * records to it would corrupt it.
 */
export async function scanTape(file: Deno.FsFile, path: string): Promise<TapeScan> {
  const parser = new RecordParser(path, { keepLastLine: true, onWarning: () => {} });
  const chunk = new Uint8Array(SCAN_CHUNK_BYTES);
  const stats = emptyStats();
  const correlator = new Correlator();
  let init: InitRecord | undefined;
  let size = 0;
  let lastTs = 0;
  let protocolVersion: string | null = null;
  let finalized = false;
  let expected: CorrelationRecord | undefined;

  const take = (record: TapeRecord): void => {
    if (record.type === "frame") {
      expected = undefined;
      stats.frame_count++;
      if (record.seq > stats.last_seq) stats.last_seq = record.seq;
      if (record.ts > lastTs) lastTs = record.ts;
      stats.duration_ms = lastTs;
      const action = frameAction(record);
      stats.message_counts[action]++;
      // Ids are matched as the tape spells them, as the writer matched them.
      const line = parser.lastLine;
      const seen = correlator.observe({ ...record, action }, () => memberValueText(line, "env"));
      if (seen.record !== undefined) expected = seen.record;
      if (seen.protocolVersion !== undefined) protocolVersion = seen.protocolVersion;
    } else if (record.type === "correlation") {
      if (expected !== undefined && record.id === expected.id) expected = undefined;
      stats.correlations++;
      if (record.status !== "ok") stats.errors++;
    } else if (record.type === "checkpoint") {
      stats.checkpoints++;
      if (record.final === true) finalized = true;
      if (typeof record.protocol_version === "string") protocolVersion = record.protocol_version;
    } else if (init === undefined) {
      // The parser hands out the init record first, or refuses the file.
      init = record;
      protocolVersion = typeof init.protocol_version === "string" ? init.protocol_version : null;
    }
  };

  for (;;) {
    const n = await file.read(chunk);
    if (n === null) break;
    size += n;
    parser.feed(chunk.subarray(0, n));
    for (let record = parser.next(); record !== undefined; record = parser.next()) take(record);
  }
  if (init === undefined) {
    throw new TapeFormatError("Not a tape: it has no complete init record", { path });
  }
  // Every line read is taken: the parser's offset is the end of the last complete one.
  const completeEnd = parser.offset;
  stats.bytes = completeEnd;
  return {
    init,
    size,
    completeEnd,
    stats,
    lastTs,
    protocolVersion,
    correlator,
    finalized,
    missingCorrelation: expected,
  };
}
