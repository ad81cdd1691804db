/**
 * `tail` for any stream through the stream API: the last messages of a
 * queue (or a tape read as messages), then every new one.
 *
 * @module
 */

import { type ByteWriter, LineSink } from "../consumer/mod.ts";
import { jsonRecordLine, messageLine, openStream } from "../stream/mod.ts";

/** Options of {@linkcode tailStream}. */
export interface TailStreamOptions {
  /** A queue directory, bus stream directory or tape. */
  location: string;
  /** Where tape ids are looked up. */
  tapesDir?: string;
  /** How many messages to show before following. */
  lines: number;
  /** Keep showing messages as they arrive, until `signal` aborts. */
  follow: boolean;
  /** JSON record lines instead of the human form. */
  json: boolean;
  /** Ends following. */
  signal?: AbortSignal;
  /** Where lines go. Default stdout. */
  out?: ByteWriter;
}

/**
 * Prints the last `lines` messages of a stream and, when following, each
 * new one as it arrives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { tailStream } from "./tail_stream.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * w.append(1, new TextEncoder().encode("hello"), 0n);
 * const chunks: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (chunks.push(new TextDecoder().decode(p)), Promise.resolve(p.length)),
 * };
 * await tailStream({ location: dir, lines: 5, follow: false, json: true, out });
 * assert.equal(
 *   chunks.join(""),
 *   '{"seq":1,"timestamp_ns":0,"type_id":1,"encoding":"utf8","payload":"hello"}\n',
 * );
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function tailStream(options: TailStreamOptions): Promise<void> {
  const stream = await openStream(options.location, {
    last: options.lines,
    follow: options.follow,
    forever: true,
    ...(options.tapesDir === undefined ? {} : { tapesDir: options.tapesDir }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  // Following, every line goes out as it comes.
  await using sink = new LineSink(options.out ?? Deno.stdout, options.follow ? 0 : 64 * 1024);
  const format = options.json ? jsonRecordLine : messageLine;
  try {
    for await (const m of stream) {
      await sink.line(format(m));
      if (sink.closed) break;
    }
    await sink.flush();
  } finally {
    stream.close();
  }
}
