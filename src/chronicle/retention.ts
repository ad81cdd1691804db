/**
 * Retention: which sealed segments may go, by age, total bytes or count,
 * and never one a retention-holding named reader still needs.
 *
 * @module
 */

import { indexName, segmentName } from "./format.ts";
import { listSegments, readSegmentHeader } from "./queue_files.ts";
import type { QueueMeta } from "./queue_meta.ts";
import { ReaderOffset } from "./reader_offset.ts";

/** When sealed segments are deleted. Every limit set applies; unset ones do not. */
export interface RetentionPolicy {
  /** Delete a segment once it was sealed (the next one started) longer ago than this. */
  maxAgeMs?: number;
  /** Delete the oldest segments while all segment files together exceed this. */
  maxBytes?: number;
  /** Delete the oldest segments while there are more than this many. */
  maxSegments?: number;
}

/** What one retention pass did. */
export interface RetentionResult {
  /** Indexes of the segments deleted, ascending. */
  deleted: number[];
  /** The holding reader that stopped the pass early, when one did. */
  heldBy?: string;
}

/**
 * Deletes the sealed segments the policy lets go, oldest first, stopping at
 * the first one a holding reader has not committed past. The new first
 * segment is published in `queue.meta` before any file is removed, so readers
 * let go of their mappings and the disk space is really freed. `retire`,
 * when given, may deal with a segment file instead (recycling): it returns
 * true when it did, having taken the file or deleted it itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyRetention } from "./retention.ts";
 * import { QueueMeta } from "./queue_meta.ts";
 * import { QueueWriter } from "./queue_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 64 * 1024 });
 * for (let i = 0; i < 3000; i++) w.append(1, new Uint8Array(100)); // six segments
 * const meta = QueueMeta.open(dir);
 * const result = applyRetention(dir, meta, { maxSegments: 2 }, w.segmentIndex, 0n);
 * assert.deepEqual(result.deleted, [0, 1, 2, 3]);
 * meta.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function applyRetention(
  dir: string,
  meta: QueueMeta,
  policy: RetentionPolicy,
  activeIndex: number,
  nowNs: bigint,
  retire?: (index: number) => boolean,
): RetentionResult {
  const all = listSegments(dir).filter((i) => i >= meta.firstSegment && i <= activeIndex);
  const sizes = new Map(all.map((i) => [i, meta.segmentBytes]));
  let bytes = all.length * meta.segmentBytes;
  let count = all.length;
  const holders = ReaderOffset.list(dir).filter((r) => r.holding);
  const deleted: number[] = [];
  const result: RetentionResult = { deleted };
  for (const index of all) {
    if (index >= activeIndex) break;
    const next = readSegmentHeader(dir, index + 1);
    if (next === undefined) break;
    const lastSeq = next.firstSeq - 1;
    const tooOld = policy.maxAgeMs !== undefined &&
      next.createdNs <= nowNs - BigInt(Math.floor(policy.maxAgeMs * 1e6));
    const tooBig = policy.maxBytes !== undefined && bytes > policy.maxBytes;
    const tooMany = policy.maxSegments !== undefined && count > policy.maxSegments;
    if (!tooOld && !tooBig && !tooMany) break;
    const holder = holders.find((r) => r.committedSeq < lastSeq);
    if (holder !== undefined) {
      result.heldBy = holder.name;
      break;
    }
    meta.firstSegment = index + 1;
    const names = retire?.(index) ? [indexName(index)] : [segmentName(index), indexName(index)];
    for (const name of names) {
      try {
        Deno.removeSync(`${dir}/${name}`);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    deleted.push(index);
    bytes -= sizes.get(index)!;
    count--;
  }
  return result;
}
