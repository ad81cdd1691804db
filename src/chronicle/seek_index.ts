/**
 * The sparse seek index of one segment: an entry every `spacing` records
 * (seq, offset, highest timestamp in the segment so far), so a seek by seq or time jumps to
 * within `spacing` records of its target and walks the rest.
 *
 * The writer writes each entry through the mapping the moment its record is
 * published, so the index of the active segment is never behind by more than
 * one entry and a reader in another process can use it at once. The
 * `durable` profile syncs it with the data.
 *
 * @module
 */

import {
  AID_FORMAT_VERSION,
  hasMagic,
  INDEX,
  INDEX_ENTRY,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_MAGIC,
  indexName,
  isRecordHeader,
  magicWord,
  readU64,
  RECORD,
  RECORD_HEADER_SIZE,
  RECORD_WORD,
  SEGMENT_HEADER_SIZE,
  writeMagic,
  writeU64,
} from "./format.ts";
import { QUEUE_FILE_MODE } from "./file_mode.ts";
import { MappedFile } from "./mapped_file.ts";
import type { Segment, WalkEnd } from "./segment.ts";

const ENTRY_WORDS = INDEX_ENTRY_SIZE >>> 2;
const HEADER_WORDS = INDEX_HEADER_SIZE >>> 2;
// An entry's fields as word indexes from its first word; the offset's high
// word is always 0, so the low word alone says whether the entry exists.
const SEQ_WORD = INDEX_ENTRY.seq >>> 2;
const OFFSET_LO_WORD = INDEX_ENTRY.offset >>> 2;
const OFFSET_HI_WORD = OFFSET_LO_WORD + 1;
const MAX_TS_LO_WORD = INDEX_ENTRY.maxTimestampNs >>> 2;
const MAX_TS_HI_WORD = MAX_TS_LO_WORD + 1;

/**
 * Entries a segment of `segmentBytes` can need at most: one per `spacing`
 * records of the smallest size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexCapacity } from "./seek_index.ts";
 * assert.equal(indexCapacity(64 + 24 * 64 * 10, 64), 11);
 * ```
 */
export function indexCapacity(segmentBytes: number, spacing: number): number {
  return Math.floor((segmentBytes - SEGMENT_HEADER_SIZE) / (RECORD_HEADER_SIZE * spacing)) + 1;
}

/** A position a seek starts walking from. */
export interface IndexEntry {
  /** Seq of the indexed record. */
  seq: number;
  /** Its offset in the segment. */
  offset: number;
}

/**
 * One segment's seek index, mapped from its `.idx` file or rebuilt in memory
 * from the segment's records.
 *
 * @example Index a segment by walking it
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeekIndex } from "./seek_index.ts";
 * import { Segment } from "./segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const seg = Segment.create(dir, 0, 4096);
 * seg.start(1, 0n);
 * const index = SeekIndex.rebuild(seg, 64);
 * assert.equal(index.count(), 0);
 * seg.file.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class SeekIndex {
  /** Records between entries. */
  readonly spacing: number;
  /** Entries the index can hold. */
  readonly capacity: number;
  readonly #words: Uint32Array;
  readonly #file: MappedFile | undefined;

  private constructor(words: Uint32Array, spacing: number, file?: MappedFile) {
    this.#words = words;
    this.spacing = spacing;
    this.capacity = (words.length - HEADER_WORDS) / ENTRY_WORDS | 0;
    this.#file = file;
  }

  /**
   * The writer's index for a segment: maps `<segment>.idx`, creating it (or
   * starting it over when it is not a valid index of this segment). A file
   * created now gets the permission bits `mode` (before the umask).
   *
   * @throws {QueueIoError} when the file cannot be created.
   */
  static forWriter(
    dir: string,
    segment: Segment,
    spacing: number,
    mode = QUEUE_FILE_MODE,
  ): SeekIndex {
    const path = `${dir}/${indexName(segment.index)}`;
    const size = INDEX_HEADER_SIZE + indexCapacity(segment.capacity, spacing) * INDEX_ENTRY_SIZE;
    let file = MappedFile.open(path, { writable: true, createSize: size, mode });
    if (file.size !== size || !validHeader(file, segment.index, spacing)) {
      file.release();
      Deno.removeSync(path);
      file = MappedFile.open(path, { writable: true, createSize: size, mode });
      const { words, bytes } = file;
      words[INDEX.version >>> 2] = AID_FORMAT_VERSION;
      words[INDEX.segment >>> 2] = segment.index;
      words[INDEX.spacing >>> 2] = spacing;
      words[INDEX.capacity >>> 2] = (size - INDEX_HEADER_SIZE) / INDEX_ENTRY_SIZE;
      writeMagic(bytes, 4, INDEX_MAGIC.slice(4));
      Atomics.store(words, 0, magicWord(INDEX_MAGIC));
    }
    return new SeekIndex(file.words, spacing, file);
  }

  /**
   * A reader's index for a segment: the mapped `.idx` file when it is
   * present and valid, otherwise one rebuilt from the segment's records.
   */
  static forReader(dir: string, segment: Segment, spacing: number): SeekIndex {
    const path = `${dir}/${indexName(segment.index)}`;
    try {
      const file = MappedFile.open(path, { writable: false });
      const size = INDEX_HEADER_SIZE + indexCapacity(segment.capacity, spacing) * INDEX_ENTRY_SIZE;
      if (file.size === size && validHeader(file, segment.index, spacing)) {
        return new SeekIndex(file.words, spacing, file);
      }
      file.release();
    } catch {
      // Missing or unreadable: rebuilt below.
    }
    return SeekIndex.rebuild(segment, spacing);
  }

  /** Builds an index in memory by walking a segment's records. */
  static rebuild(segment: Segment, spacing: number): SeekIndex {
    const capacity = indexCapacity(segment.capacity, spacing);
    const index = new SeekIndex(
      new Uint32Array(HEADER_WORDS + capacity * ENTRY_WORDS),
      spacing,
    );
    let n = 0;
    let maxLo = 0;
    let maxHi = 0;
    const words = segment.file.words;
    segment.walk(SEGMENT_HEADER_SIZE, segment.firstSeq, (offset, seq) => {
      const w = offset >>> 2;
      const lo = words[w + RECORD_WORD.timestampLo]!;
      const hi = words[w + RECORD_WORD.timestampHi]!;
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi;
        maxLo = lo;
      }
      if (n % spacing === 0) index.set(n / spacing, seq, offset, maxLo, maxHi);
      n++;
    });
    return index;
  }

  /** Whether this index was rebuilt in memory rather than read from its file. */
  get rebuilt(): boolean {
    return this.#file === undefined;
  }

  /**
   * Stores entry `i`. The offset goes last with one atomic store: an entry
   * whose offset is zero does not exist yet.
   */
  set(i: number, seq: number, offset: number, maxTsLo: number, maxTsHi: number): void {
    const at = HEADER_WORDS + i * ENTRY_WORDS;
    const words = this.#words;
    writeU64(words, (at + SEQ_WORD) << 2, seq);
    words[at + MAX_TS_LO_WORD] = maxTsLo;
    words[at + MAX_TS_HI_WORD] = maxTsHi;
    words[at + OFFSET_HI_WORD] = 0;
    Atomics.store(words, at + OFFSET_LO_WORD, offset);
  }

  /** Forgets entries from `i` on (the writer, after recovery cut the segment short). */
  truncate(i: number): void {
    this.#words.fill(0, HEADER_WORDS + i * ENTRY_WORDS);
  }

  /** Number of entries present: they always form a prefix. */
  count(): number {
    let lo = 0;
    let hi = this.capacity;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#offsetAt(mid) !== 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #offsetAt(i: number): number {
    return Atomics.load(this.#words, HEADER_WORDS + i * ENTRY_WORDS + OFFSET_LO_WORD);
  }

  /** Entry `i`, which must exist. */
  entry(i: number): IndexEntry {
    const at = HEADER_WORDS + i * ENTRY_WORDS;
    return { seq: readU64(this.#words, (at + SEQ_WORD) << 2), offset: this.#offsetAt(i) };
  }

  /** Highest timestamp up to entry `i`'s record, as [high word, low word]. */
  maxTimestamp(i: number): [number, number] {
    const at = HEADER_WORDS + i * ENTRY_WORDS;
    return [this.#words[at + MAX_TS_HI_WORD]!, this.#words[at + MAX_TS_LO_WORD]!];
  }

  /**
   * The last entry at or before `seq` in a segment starting at `firstSeq`:
   * entries sit at fixed seq steps, so no search is needed.
   */
  floorBySeq(seq: number, firstSeq: number): IndexEntry | undefined {
    const count = this.count();
    if (count === 0) return undefined;
    const i = Math.min(count - 1, Math.floor((seq - firstSeq) / this.spacing));
    return i < 0 ? undefined : this.entry(i);
  }

  /**
   * The last entry whose highest-timestamp-so-far is below `[hi, lo]`: the
   * first record at or after that time lies after it, within `spacing`
   * records of it (or in a later segment when every entry is below).
   */
  floorByTime(hi: number, lo: number): IndexEntry | undefined {
    let a = 0;
    let b = this.count();
    while (a < b) {
      const mid = (a + b) >>> 1;
      const [mh, ml] = this.maxTimestamp(mid);
      if (mh < hi || (mh === hi && ml < lo)) a = mid + 1;
      else b = mid;
    }
    return a === 0 ? undefined : this.entry(a - 1);
  }

  /** Writes the index file's dirty pages back (the durable profile). */
  sync(): void {
    this.#file?.sync();
  }

  /** Unmaps the file, if mapped. */
  close(): void {
    this.#file?.release();
  }
}

function validHeader(file: MappedFile, segment: number, spacing: number): boolean {
  const w = file.words;
  return hasMagic(file.bytes, INDEX.magic, INDEX_MAGIC) &&
    w[INDEX.version >>> 2]! <= AID_FORMAT_VERSION &&
    w[INDEX.segment >>> 2] === segment && w[INDEX.spacing >>> 2] === spacing;
}

/**
 * Walks a segment from its last usable index entry to the end of what is
 * published: where the next record goes, and whether the segment is sealed.
 * A stale entry costs a walk from the start, never a wrong answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeekIndex, walkToEnd } from "./seek_index.ts";
 * import { Segment } from "./segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const seg = Segment.create(dir, 0, 4096);
 * seg.start(1, 0n);
 * assert.equal(walkToEnd(seg, SeekIndex.rebuild(seg, 8)).offset, 64);
 * seg.file.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function walkToEnd(segment: Segment, index: SeekIndex): WalkEnd {
  const count = index.count();
  if (count > 0) {
    const entry = index.entry(count - 1);
    if (entryPointsAtRecord(segment, entry)) {
      try {
        return segment.walk(entry.offset, entry.seq);
      } catch {
        // A stale entry: walk from the start instead.
      }
    }
  }
  return segment.walk(SEGMENT_HEADER_SIZE, segment.firstSeq);
}

/**
 * Whether an index entry really points at the published record it names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryPointsAtRecord } from "./seek_index.ts";
 * import { Segment } from "./segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const seg = Segment.create(dir, 0, 4096);
 * seg.start(1, 0n);
 * assert.equal(entryPointsAtRecord(seg, { seq: 1, offset: 64 }), false); // nothing there yet
 * seg.file.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function entryPointsAtRecord(segment: Segment, entry: IndexEntry): boolean {
  const words = segment.file.words;
  if (entry.offset % 8 !== 0 || entry.offset < SEGMENT_HEADER_SIZE) return false;
  if (entry.offset + RECORD_HEADER_SIZE > segment.capacity) return false;
  return isRecordHeader(Atomics.load(words, entry.offset >>> 2)) &&
    readU64(words, entry.offset + RECORD.seq) === entry.seq;
}
