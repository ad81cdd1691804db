/**
 * The seqs a queue holds right now, read by two short-lived anonymous
 * readers, which hold nothing back and leave no trace in the queue.
 *
 * @module
 */

import { QueueReader } from "../chronicle/mod.ts";

/** First and last seq a queue holds; `last` is `first - 1` when it holds none. */
export interface SeqRange {
  /** Seq of the oldest record kept (or of the next one, for an empty queue). */
  first: number;
  /** Seq of the newest record. */
  last: number;
}

/**
 * The seqs the queue in `dir` holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { queueSeqRange } from "./live_range.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16, firstSeq: 10 });
 * for (let i = 0; i < 3; i++) w.append(1, new Uint8Array([i + 1]));
 * assert.deepEqual(await queueSeqRange(dir), { first: 10, last: 12 });
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function queueSeqRange(dir: string): Promise<SeqRange> {
  return { first: await nextSeqAt(dir, "earliest"), last: await lastSeqOf(dir) };
}

/**
 * Seq of the newest record of the queue in `dir` (one less than the next seq for an empty queue).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { lastSeqOf } from "./live_range.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * w.append(1, new Uint8Array([1]));
 * assert.equal(await lastSeqOf(dir), 1);
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function lastSeqOf(dir: string): Promise<number> {
  return await nextSeqAt(dir, "latest") - 1;
}

async function nextSeqAt(dir: string, start: "earliest" | "latest"): Promise<number> {
  const r = await QueueReader.open(dir, { start });
  try {
    return r.nextSeq;
  } finally {
    r.close();
  }
}
