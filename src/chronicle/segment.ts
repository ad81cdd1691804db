/**
 * One segment file: a preallocated, fixed-capacity file of records after a
 * 64-byte header. This module owns the header and the one careful walk over
 * records that recovery, `latest` and index rebuilds share.
 *
 * @module
 */

import { QueueFormatError } from "./chronicle_errors.ts";
import {
  END_OF_SEGMENT,
  FORMAT_VERSION,
  hasMagic,
  LENGTH_MASK,
  magicWord,
  NOT_COMPLETE,
  PADDING,
  readU64,
  readU64Big,
  RECORD,
  recordSize,
  SEGMENT,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  segmentName,
  writeMagic,
  writeU64,
  writeU64Big,
} from "./format.ts";
import { MappedFile } from "./mapped_file.ts";

/** Where a walk over a segment's records stopped. */
export interface WalkEnd {
  /** Offset of the first byte after the last record (where the next one goes). */
  offset: number;
  /** Seq the next record will carry. */
  nextSeq: number;
  /** Whether an end-of-segment marker sits at `offset`. */
  sealed: boolean;
  /** Records walked over. */
  records: number;
}

/**
 * A mapped segment.
 *
 * @example Create a segment, append by hand, walk it
 * ```ts
 * import { Segment } from "./segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const seg = Segment.create(dir, 0, 4096);
 * seg.start(1, 0n);
 * console.log(seg.walk(64, 1).nextSeq); // 1
 * seg.file.release();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class Segment {
  /** The segment's index (its file name). */
  readonly index: number;
  /** The mapped file. */
  readonly file: MappedFile;

  private constructor(index: number, file: MappedFile) {
    this.index = index;
    this.file = file;
  }

  /** Path of the segment file. */
  get path(): string {
    return this.file.path;
  }

  /** Capacity in bytes. */
  get capacity(): number {
    return this.file.size;
  }

  /** Seq of the segment's first record. */
  get firstSeq(): number {
    return readU64(this.file.words, SEGMENT.firstSeq);
  }

  /** When the writer started the segment, wall-clock ns. */
  get createdNs(): bigint {
    return readU64Big(this.file.words, SEGMENT.createdNs);
  }

  /** Whether the writer has written the header (a prepared segment has not). */
  get started(): boolean {
    return Atomics.load(this.file.words, SEGMENT.magic >>> 2) !== 0;
  }

  /**
   * Creates (or reuses a prepared) segment file of `capacity` bytes, blocks
   * reserved, header still zero: readers ignore it until {@linkcode start}.
   *
   * @throws {QueueIoError} when the file cannot be created or preallocated (a full disk).
   */
  static create(dir: string, index: number, capacity: number): Segment {
    const path = `${dir}/${segmentName(index)}`;
    return new Segment(index, MappedFile.open(path, { writable: true, createSize: capacity }));
  }

  /**
   * Maps an existing segment and checks its header. A prepared segment
   * (header all zero) maps fine; check {@linkcode started}.
   *
   * @throws {QueueFormatError} on a bad magic, a newer version, or a header that contradicts the file.
   */
  static open(dir: string, index: number, writable: boolean): Segment {
    const path = `${dir}/${segmentName(index)}`;
    const file = MappedFile.open(path, { writable });
    const segment = new Segment(index, file);
    const fault = (message: string, offset: number) => {
      file.release();
      return new QueueFormatError(message, path, offset);
    };
    if (file.size < SEGMENT_HEADER_SIZE + 8) {
      throw fault(`Segment '${path}' is truncated (${file.size} bytes)`, file.size);
    }
    if (!segment.started) return segment;
    if (!hasMagic(file.bytes, SEGMENT.magic, SEGMENT_MAGIC)) {
      throw fault(`File '${path}' is not a spool queue segment (bad magic)`, 0);
    }
    const version = file.words[SEGMENT.version >>> 2]!;
    if (version > FORMAT_VERSION) {
      throw fault(
        `Segment '${path}' has format version ${version}; this spool reads up to ${FORMAT_VERSION}`,
        SEGMENT.version,
      );
    }
    if (file.words[SEGMENT.index >>> 2] !== index) {
      throw fault(
        `Segment '${path}' says it is segment ${file.words[SEGMENT.index >>> 2]}`,
        SEGMENT.index,
      );
    }
    if (readU64(file.words, SEGMENT.capacity) !== file.size) {
      throw fault(
        `Segment '${path}' is ${file.size} bytes but its header says ${
          readU64(file.words, SEGMENT.capacity)
        }`,
        SEGMENT.capacity,
      );
    }
    return segment;
  }

  /**
   * Writes the header, making the segment visible to readers. The magic is
   * stored last so no reader ever trusts a half-written header.
   */
  start(firstSeq: number, createdNs: bigint): void {
    const { words, bytes } = this.file;
    words[SEGMENT.version >>> 2] = FORMAT_VERSION;
    words[SEGMENT.index >>> 2] = this.index;
    writeU64(words, SEGMENT.firstSeq, firstSeq);
    writeU64Big(words, SEGMENT.createdNs, createdNs);
    writeU64(words, SEGMENT.capacity, this.file.size);
    writeMagic(bytes, SEGMENT.magic + 4, SEGMENT_MAGIC.slice(4));
    Atomics.store(words, SEGMENT.magic >>> 2, magicWord(SEGMENT_MAGIC));
  }

  /** The error for a record header that breaks the format at `offset`. */
  corrupt(offset: number, why: string): QueueFormatError {
    return new QueueFormatError(
      `Segment '${this.path}' has a corrupt record at offset ${offset}: ${why}`,
      this.path,
      offset,
    );
  }

  /**
   * Walks published records from `offset` (which must hold a record or the
   * end), checking each header, until the end of what is published or the
   * end-of-segment marker. `visit` sees each record's offset and seq; when
   * it returns true the walk stops in front of that record.
   *
   * @throws {QueueFormatError} on a header that cannot be right.
   */
  walk(
    offset: number,
    nextSeq: number,
    visit?: (offset: number, seq: number) => boolean | void,
  ): WalkEnd {
    const words = this.file.words;
    const capacity = this.file.size;
    let records = 0;
    while (offset + 8 <= capacity) {
      const header = Atomics.load(words, offset >>> 2);
      if (header === 0 || (header & NOT_COMPLETE) !== 0) break;
      if ((header & END_OF_SEGMENT) !== 0) {
        if (header !== END_OF_SEGMENT) throw this.corrupt(offset, "end marker with other bits set");
        return { offset, nextSeq, sealed: true, records };
      }
      const size = recordSize(header & LENGTH_MASK);
      if (offset + size > capacity) {
        throw this.corrupt(offset, `length ${header & LENGTH_MASK} runs past the segment's end`);
      }
      if ((header & PADDING) === 0) {
        const seq = readU64(words, offset + RECORD.seq);
        if (seq !== nextSeq) throw this.corrupt(offset, `seq ${seq} where ${nextSeq} belongs`);
        if (visit?.(offset, seq) === true) return { offset, nextSeq, sealed: false, records };
        nextSeq++;
        records++;
      }
      offset += size;
    }
    return { offset, nextSeq, sealed: false, records };
  }
}
