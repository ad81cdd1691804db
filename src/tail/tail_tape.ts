/**
 * `tail`: the last records of a tape, optionally followed as it grows, or a
 * summary of the whole tape.
 *
 * @module
 */

import { type ByteWriter, type FrameFilter, LineSink, openTape } from "../consumer/mod.ts";
import { followTapeLines, printWarning, type TapeWarning } from "../tape/mod.ts";
import { EntryFormatter, type TimeMode } from "./entry_format.ts";
import { RingBuffer } from "./ring_buffer.ts";
import { formatSummary } from "./summary_format.ts";
import type { TailEntry } from "./tail_entry.ts";
import { TailSelector } from "./tail_selector.ts";
import { TapeSummarizer, type TapeSummary } from "./tape_summary.ts";

/** Options of {@linkcode tailTape}. */
export interface TailTapeOptions {
  /** Tape path (`.jsonl` or `.meta.json`) or tape id. */
  tape: string;
  /** Directory where tape ids are looked up (default `./tapes`). */
  tapesDir?: string;
  /** How many records to show before following (default 10). */
  lines?: number;
  /** Keep showing records as they are appended. */
  follow?: boolean;
  /** With `follow`: keep going after the tape is finalized, until interrupted. */
  forever?: boolean;
  /** Print frame records as JSON lines instead of the human format. */
  json?: boolean;
  /** Include correlation and checkpoint records (default: frames only). */
  all?: boolean;
  /** Which frames to show; absent: all of them. */
  filter?: FrameFilter;
  /** Use ANSI colours in the human format. */
  color?: boolean;
  /** How times are shown in the human format (default relative). */
  time?: TimeMode;
  /** Where lines go (default stdout). */
  out?: ByteWriter;
  /** Stops following. */
  signal?: AbortSignal;
}

/**
 * Prints the last `lines` records of a tape (streaming it once through a
 * ring buffer, so memory is bounded by `lines`), then with `follow` every
 * record appended later, until the tape is finalized.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { tailTape } from "./tail_tape.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * await tailTape({ tape: writer.path, lines: 5, color: false, out });
 * const [request, response] = chunks.join("").split("\n");
 * assert.match(request!, /^ +\d+\.\d{3}s → request +ping +#1 +40 B$/);
 * assert.match(response!, /^ +\d+\.\d{3}s ← response +ping +#1 +\d+\.\d ms +36 B$/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function tailTape(options: TailTapeOptions): Promise<void> {
  const n = options.lines ?? 10;
  // When following, a last line still being written is expected, not worth a warning.
  const onWarning = (w: TapeWarning) => {
    if (!(options.follow && w.kind === "partial-line")) printWarning(w);
  };
  using reader = await openTape(options.tape, options.tapesDir, { onWarning });
  const out = options.out ?? Deno.stdout;
  const selector = new TailSelector({
    ...(options.filter === undefined ? {} : { filter: options.filter }),
    all: options.all ?? false,
  }, Math.max(1024, n));
  const formatter = new EntryFormatter({
    color: options.color ?? false,
    time: options.time ?? "relative",
    createdAt: reader.init.created_at,
  });
  // As stored: parsing and serializing again would respell `1.0` and round big integers.
  const show = (e: TailEntry) =>
    options.json ? e.line ?? JSON.stringify(e.record) : formatter.format(e);

  const ring = new RingBuffer<TailEntry>(n);
  const records = reader.recordLines();
  for await (const { record, line } of records) {
    const entry = selector.select(record, line);
    if (entry) ring.push(entry);
  }
  await using sink = new LineSink(out, options.follow ? 0 : 64 * 1024);
  // Entries are formatted here, after the whole pass, so RTTs from later correlation records are
  // filled in.
  for (const entry of ring.toArray()) await sink.line(show(entry));
  await sink.flush();
  if (!options.follow || sink.closed) return;

  // Follow from where the first pass stopped, so nothing is read twice.
  const live = followTapeLines(reader.path, {
    from: records.position,
    untilFinalized: !options.forever,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  for await (const { record, line } of live) {
    // A replaced or truncated tape starts again with its init record.
    if (record.type === "init") continue;
    const entry = selector.select(record, line);
    if (entry) await sink.line(show(entry));
    if (sink.closed) break;
  }
  await sink.flush();
}

/** Options of {@linkcode tapeStats}. */
export interface TapeStatsOptions {
  /** Tape path (`.jsonl` or `.meta.json`) or tape id. */
  tape: string;
  /** Directory where tape ids are looked up (default `./tapes`). */
  tapesDir?: string;
  /** Which frames to count; absent: all of them. */
  filter?: FrameFilter;
  /** Print the summary as JSON instead of the human format. */
  json?: boolean;
  /** Use ANSI colours in the human format. */
  color?: boolean;
  /** Where the summary goes (default stdout). */
  out?: ByteWriter;
}

/**
 * Prints the summary of a tape (`tail --stats`): frames by direction and
 * action, methods with counts and round-trip percentiles, errors, timeouts,
 * duration and bytes. Returns the summary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { tapeStats } from "./tail_tape.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * const s = await tapeStats({ tape: writer.path, json: true, out }); // prints the summary as JSON
 * assert.equal(s.frames, 2);
 * assert.equal(s.methods[0]?.method, "ping");
 * assert.equal(JSON.parse(chunks.join("")).frames, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function tapeStats(options: TapeStatsOptions): Promise<TapeSummary> {
  using reader = await openTape(options.tape, options.tapesDir);
  const summarizer = new TapeSummarizer(options.filter ?? {});
  for await (const { record, line } of reader.recordLines()) summarizer.add(record, line);
  const summary = summarizer.summary();
  await using sink = new LineSink(options.out ?? Deno.stdout);
  let tapeBytes: number | undefined;
  try {
    tapeBytes = (await Deno.stat(reader.path)).size;
  } catch {
    // The size is a nicety; the summary stands without it.
  }
  if (options.json) {
    await sink.line(JSON.stringify({
      tape_id: reader.init.tape_id,
      ...summary,
      ...(tapeBytes === undefined ? {} : { tapeBytes }),
    }));
  } else {
    const lines = formatSummary(summary, {
      color: options.color ?? false,
      title: reader.init.tape_id,
      ...(tapeBytes === undefined ? {} : { tapeBytes }),
    });
    for (const line of lines) await sink.line(line);
  }
  await sink.flush();
  return summary;
}
