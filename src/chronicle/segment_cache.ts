/**
 * The segments a reader has mapped lately, each with its seek index, so
 * seeks back and forth across a queue do not map and unmap files each time.
 *
 * @module
 */

import { QueueIoError } from "./chronicle_errors.ts";
import { segmentName } from "./format.ts";
import { ENOENT } from "./libc.ts";
import { SeekIndex } from "./seek_index.ts";
import { Segment } from "./segment.ts";

/** A mapped segment and, once a seek needed it, its index. */
export interface CachedSegment {
  /** The mapped segment. */
  readonly segment: Segment;
  /** Its seek index, mapped or rebuilt on first use. */
  index: SeekIndex | undefined;
}

/**
 * A few mapped segments of one queue, least recently used first out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SegmentCache } from "./segment_cache.ts";
 * import { Segment } from "./segment.ts";
 * const dir = Deno.makeTempDirSync();
 * Segment.create(dir, 0, 4096).file.release();
 * const cache = new SegmentCache(dir, 64, 2, () => 0);
 * assert.equal(cache.get(0).segment.index, 0);
 * cache.clear();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SegmentCache {
  readonly #dir: string;
  readonly #spacing: number;
  readonly #limit: number;
  readonly #firstSegment: () => number;
  // Insertion order is recency order: a hit is moved to the end.
  readonly #entries = new Map<number, CachedSegment>();

  /**
   * A cache for the queue in `dir` holding at most `limit` segments;
   * `firstSegment` reads the first segment retention keeps, from
   * `queue.meta`.
   */
  constructor(dir: string, indexSpacing: number, limit: number, firstSegment: () => number) {
    this.#dir = dir;
    this.#spacing = indexSpacing;
    this.#limit = limit;
    this.#firstSegment = firstSegment;
  }

  /**
   * Segment `index`, mapped now unless it already is.
   *
   * @throws {QueueFormatError} on a damaged segment.
   * @throws {QueueIoError} with errno `ENOENT` when it does not exist or retention let it go.
   */
  get(index: number): CachedSegment {
    let entry = this.#entries.get(index);
    if (entry !== undefined) {
      this.#entries.delete(index);
    } else {
      entry = { segment: this.#open(index), index: undefined };
      if (this.#entries.size >= this.#limit) {
        const [oldest] = this.#entries.keys();
        this.#evict(oldest!);
      }
    }
    this.#entries.set(index, entry);
    return entry;
  }

  // Retention publishes a new first segment before a writer deletes or
  // recycles a file, and a recycling writer leaves alone a file a reader
  // has locked: so a segment still kept once the lock is held stays this
  // segment while it is mapped, and one let go reads as missing whatever
  // its bytes hold by now (a recycled file is zeroed, then renamed to
  // another index).
  #open(index: number): Segment {
    let segment: Segment | undefined;
    let failure: unknown;
    try {
      segment = Segment.open(this.#dir, index, false);
    } catch (error) {
      failure = error;
    }
    if (index < this.#firstSegment()) {
      segment?.file.release();
      const path = `${this.#dir}/${segmentName(index)}`;
      throw new QueueIoError(`Cannot map '${path}': retention let it go`, path, ENOENT);
    }
    if (segment === undefined) throw failure;
    return segment;
  }

  /** The index of a cached segment, mapped from its file or rebuilt. */
  seekIndex(entry: CachedSegment): SeekIndex {
    entry.index ??= SeekIndex.forReader(this.#dir, entry.segment, this.#spacing);
    return entry.index;
  }

  /** Replaces a cached segment's index with one rebuilt from its records. */
  rebuildIndex(entry: CachedSegment): SeekIndex {
    entry.index?.close();
    entry.index = SeekIndex.rebuild(entry.segment, this.#spacing);
    return entry.index;
  }

  /** Unmaps segment `index`, if mapped. */
  drop(index: number): void {
    this.#evict(index);
  }

  /** Unmaps segments below `first`: retention deleted them. */
  dropBelow(first: number): void {
    for (const index of [...this.#entries.keys()]) if (index < first) this.#evict(index);
  }

  /** Unmaps everything. */
  clear(): void {
    for (const index of [...this.#entries.keys()]) this.#evict(index);
  }

  #evict(index: number): void {
    const entry = this.#entries.get(index);
    if (entry === undefined) return;
    this.#entries.delete(index);
    entry.index?.close();
    entry.segment.file.release();
  }
}
