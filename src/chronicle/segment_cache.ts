/**
 * The segments a reader has mapped lately, each with its seek index, so
 * seeks back and forth across a queue do not map and unmap files each time.
 *
 * @module
 */

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
 * const cache = new SegmentCache(dir, 64, 2);
 * assert.equal(cache.get(0).segment.index, 0);
 * cache.clear();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SegmentCache {
  readonly #dir: string;
  readonly #spacing: number;
  readonly #limit: number;
  // Insertion order is recency order: a hit is moved to the end.
  readonly #entries = new Map<number, CachedSegment>();

  /** A cache for the queue in `dir` holding at most `limit` segments. */
  constructor(dir: string, indexSpacing: number, limit: number) {
    this.#dir = dir;
    this.#spacing = indexSpacing;
    this.#limit = limit;
  }

  /**
   * Segment `index`, mapped now unless it already is.
   *
   * @throws {QueueFormatError} on a damaged segment.
   * @throws {Deno.errors.NotFound} when it does not exist.
   */
  get(index: number): CachedSegment {
    let entry = this.#entries.get(index);
    if (entry !== undefined) {
      this.#entries.delete(index);
    } else {
      entry = { segment: Segment.open(this.#dir, index, false), index: undefined };
      if (this.#entries.size >= this.#limit) {
        const [oldest] = this.#entries.keys();
        this.#evict(oldest!);
      }
    }
    this.#entries.set(index, entry);
    return entry;
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
