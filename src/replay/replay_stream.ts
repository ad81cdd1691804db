/**
 * Plain replay through the stream API: the messages of one queue or tape,
 * or of several merged by time, printed one per line, optionally paced.
 *
 * @module
 */

import type { StartPosition } from "../chronicle/mod.ts";
import {
  jsonRecordLine,
  MergedStream,
  messageLine,
  openStream,
  type OpenStreamOptions,
  type StreamReader,
} from "../stream/mod.ts";
import { type ByteWriter, LineSink } from "../consumer/mod.ts";
import { Pacer, type PacingOptions } from "./pacing.ts";

/** Options of {@linkcode replayStreams}. */
export interface ReplayStreamsOptions {
  /** Queues, bus stream directories or tapes; several are merged by time. */
  locations: readonly string[];
  /** Where tape ids are looked up. */
  tapesDir?: string;
  /** JSON record lines instead of the human form. */
  json: boolean;
  /** Only messages with seq at least this (one source only). */
  fromSeq?: number;
  /** Only messages with seq at most this (one source only). */
  toSeq?: number;
  /** Only messages stamped at or after this, in ns since the epoch. */
  fromTimeNs?: bigint;
  /** Stop before the first message stamped after this, in ns since the epoch. */
  toTimeNs?: bigint;
  /** Pace the output like the timestamps, at `speed` times. */
  pacing?: PacingOptions;
  /** Where lines go. Default stdout. */
  out?: ByteWriter;
}

/**
 * Prints the messages of `locations` (merged by timestamp when there are
 * several, ties to the one listed first) and returns how many it printed.
 *
 * @throws {RangeError} for `fromSeq` or `toSeq` with several locations.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { replayStreams } from "./replay_stream.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * w.append(1, new TextEncoder().encode("a"), 0n);
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * assert.equal(await replayStreams({ locations: [dir], json: false, out }), 1);
 * assert.equal(chunks.join(""), "1970-01-01T00:00:00.000000000Z #1 type 1 1 B a\n");
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function replayStreams(options: ReplayStreamsOptions): Promise<number> {
  const { fromSeq, toSeq, fromTimeNs, toTimeNs } = options;
  if (options.locations.length > 1 && (fromSeq !== undefined || toSeq !== undefined)) {
    throw new RangeError("Seq ranges apply to one source; merged sources each have their own seqs");
  }
  // A queue starts where asked; a tape is filtered below as it is read.
  const start: StartPosition | undefined = fromSeq !== undefined
    ? { seq: fromSeq }
    : fromTimeNs !== undefined
    ? { timestampNs: fromTimeNs }
    : undefined;
  const sources: StreamReader[] = [];
  try {
    for (const location of options.locations) {
      sources.push(await openAt(location, start, options.tapesDir));
    }
    const stream = sources.length === 1 ? sources[0]! : new MergedStream(sources);
    await using sink = new LineSink(options.out ?? Deno.stdout, options.pacing ? 0 : 64 * 1024);
    const pacer = options.pacing ? new Pacer(options.pacing) : undefined;
    const format = options.json ? jsonRecordLine : messageLine;
    let printed = 0;
    for await (const m of stream) {
      if (fromSeq !== undefined && m.seq < fromSeq) continue;
      if (toSeq !== undefined && m.seq > toSeq) break;
      if (toTimeNs !== undefined && m.timestampNs > toTimeNs) break;
      if (fromTimeNs !== undefined && m.timestampNs < fromTimeNs) continue;
      // Formatted before waiting: the message is only lent until the next call.
      const line = format(m);
      if (pacer) await pacer.wait(Number(m.timestampNs) / 1e6);
      await sink.line(line);
      if (sink.closed) break;
      printed++;
    }
    await sink.flush();
    return printed;
  } finally {
    for (const source of sources) source.close();
  }
}

async function openAt(
  location: string,
  start: StartPosition | undefined,
  tapesDir: string | undefined,
): Promise<StreamReader> {
  const options: OpenStreamOptions = tapesDir === undefined ? {} : { tapesDir };
  if (start === undefined) return await openStream(location, options);
  try {
    return await openStream(location, { ...options, start });
  } catch (error) {
    // A seq retention already deleted, or not written yet: read from the
    // earliest record and let the filter decide.
    if (!(error instanceof RangeError)) throw error;
    return await openStream(location, options);
  }
}
