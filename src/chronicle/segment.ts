/**
 * One segment file: a preallocated, fixed-capacity file of records after a
 * 64-byte header. This module owns the header and the one careful walk over
 * records that recovery, `latest` and index rebuilds share.
 *
 * @module
 */

import { QueueDamageError, QueueFormatError } from "./chronicle_errors.ts";
import { blockChecksum } from "./block_checksum.ts";
import {
  CHECKED_VERSION,
  CHECKSUM,
  CHECKSUM_FRAME,
  CHECKSUM_FRAME_SIZE,
  END_MARKER_SIZE,
  END_OF_SEGMENT,
  FORMAT_VERSION,
  hasMagic,
  HEADER_KIND,
  headerKind,
  isRecordHeader,
  LENGTH_MASK,
  magicWord,
  NOT_COMPLETE,
  readU64,
  readU64Big,
  RECORD,
  recordSize,
  SEGMENT,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  SEGMENT_TAIL_RESERVE,
  SEGMENT_TAIL_RESERVE_V1,
  segmentName,
  writeMagic,
  writeU64,
  writeU64Big,
} from "./format.ts";
import { ORDERED_MEMORY } from "./libc.ts";
import { QUEUE_FILE_MODE } from "./file_mode.ts";
import { MappedFile } from "./mapped_file.ts";

// Bytes from a block's start whose checksum a reader takes before walking
// it: the writer closes a block once it holds 16 KiB.
const EARLY_CHECKSUM_BYTES = 16 * 1024;

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
  /**
   * Where the block still open at `offset` began: just after the last
   * checksum frame walked over, or the walk's start when it met none.
   */
  blockStart: number;
}

/** What {@linkcode Segment.checkBlock} found ahead of a reader. */
export interface BlockCheck {
  /** Records before this offset may be delivered. */
  to: number;
  /** Whether a checksum vouched for them (false: the open block at the live end, or a version 1 segment). */
  verified: boolean;
  /** Seq of the first record at or after `to`. */
  nextSeq: number;
}

/**
 * A mapped segment.
 *
 * @example Create a segment, append by hand, walk it
 * ```ts
 * import assert from "node:assert/strict";
 * import { Segment } from "./segment.ts";
 * const dir = Deno.makeTempDirSync();
 * const seg = Segment.create(dir, 0, 4096);
 * seg.start(1, 0n);
 * assert.equal(seg.walk(64, 1).nextSeq, 1);
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

  /** Format version of a started segment. */
  get version(): number {
    return this.file.words[SEGMENT.version >>> 2]!;
  }

  /** Whether the segment carries checksum frames and a seal (version 2 and later). */
  get checked(): boolean {
    return this.version >= CHECKED_VERSION;
  }

  /** Offset of the end marker, from the seal in the header; 0 while not sealed (or version 1). */
  get endOffset(): number {
    return Atomics.load(this.file.words, SEGMENT.endOffset >>> 2);
  }

  /** Offset up to which a `durable` writer synced the segment (always a block's end); 0 for none. */
  get syncedTo(): number {
    return Atomics.load(this.file.words, SEGMENT.syncedTo >>> 2);
  }

  /**
   * Offset every record must end at or before: the tail after it is kept
   * for the checksum frame closing the last block and the end marker (a
   * version 1 segment keeps room for the marker alone).
   */
  get recordLimit(): number {
    return this.capacity - (this.checked ? SEGMENT_TAIL_RESERVE : SEGMENT_TAIL_RESERVE_V1);
  }

  /**
   * Where the bytes a writer claimed at `offset` end (`offset` itself when
   * nothing is claimed there), or undefined when the word there is no claim
   * a writer could have made: one whose flags or length do not fit. A
   * frame's claim is `NOT_COMPLETE` with length 0, and `recordSize(0)` is
   * the frame's size.
   */
  claimEnd(offset: number): number | undefined {
    const header = this.file.words[offset >>> 2]!;
    if (header === 0) return offset;
    if ((header & NOT_COMPLETE) === 0 || (header & CHECKSUM_FRAME) !== 0) return undefined;
    const end = offset + recordSize(header & LENGTH_MASK);
    return end <= this.recordLimit ? end : undefined;
  }

  /** Seq after the last record, from the seal in the header; meaningful once {@linkcode endOffset} is set. */
  get endSeq(): number {
    return readU64(this.file.words, SEGMENT.endSeq);
  }

  /**
   * Creates (or reuses a prepared) segment file of `capacity` bytes, blocks
   * reserved, header still zero: readers ignore it until {@linkcode start}.
   * With `hugePages` the writer's faults fill it with 2 MiB pages (see
   * {@linkcode MappedFile.adviseHugePages}); a writer that syncs often
   * passes false. A file created now gets the permission bits `mode`
   * (before the umask).
   *
   * @throws {QueueIoError} when the file cannot be created or preallocated (a full disk).
   */
  static create(
    dir: string,
    index: number,
    capacity: number,
    hugePages = false,
    mode = QUEUE_FILE_MODE,
  ): Segment {
    const path = `${dir}/${segmentName(index)}`;
    const file = MappedFile.open(path, {
      writable: true,
      createSize: capacity,
      alignHuge: hugePages,
      mode,
    });
    if (hugePages) file.adviseHugePages();
    return new Segment(index, file);
  }

  /**
   * Maps an existing segment and checks its header. A prepared segment
   * (header all zero) maps fine; check {@linkcode started}. A writer passes
   * `hugePages` as for {@linkcode Segment.create}; a reader gets huge pages
   * on a sealed segment, which never changes again, and small ones on the
   * active segment, so its faults at the live end never give a writer that
   * syncs often 2 MiB pages to write back. A reader holds a shared lock on
   * the file while it maps it, so a writer recycling segments deletes this
   * one instead of reusing it under the reader.
   *
   * @throws {QueueFormatError} on a bad magic, a newer version, or a header that contradicts the file.
   * @throws {QueueIoError} with errno `EAGAIN` when a writer is recycling the file.
   */
  static open(dir: string, index: number, writable: boolean, hugePages = false): Segment {
    const path = `${dir}/${segmentName(index)}`;
    // A reader learns whether the segment is sealed only once it is mapped.
    const file = MappedFile.open(path, {
      writable,
      alignHuge: hugePages || !writable,
      sharedLock: !writable,
    });
    const segment = new Segment(index, file);
    const fault = (message: string, offset: number) => {
      file.release();
      return new QueueFormatError(message, path, offset);
    };
    if (file.size < SEGMENT_HEADER_SIZE + END_MARKER_SIZE) {
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
    if (hugePages || (!writable && segment.endOffset !== 0)) file.adviseHugePages();
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

  /**
   * Seals the segment: the end marker at `offset`, then the seal in the
   * header (end seq, then end offset). In that order a reader never sees a
   * seal whose marker is not there yet, and a writer killed in between
   * leaves a marker without a seal, which the next writer completes.
   */
  seal(offset: number, nextSeq: number): void {
    const words = this.file.words;
    Atomics.store(words, offset >>> 2, END_OF_SEGMENT);
    if (this.checked) {
      writeU64(words, SEGMENT.endSeq, nextSeq);
      Atomics.store(words, SEGMENT.endOffset >>> 2, offset);
    }
  }

  /** The error for damage at `offset`, where the record with `seq` belongs. */
  damage(offset: number, seq: number, why: string): QueueDamageError {
    return new QueueDamageError(this.path, offset, seq, why);
  }

  /**
   * Why the end of what is published at `offset` (a header word of 0 or a
   * claim) cannot be the real end, or undefined when it can: the segment's
   * seal puts its end further on, or the writer says it published `seq`
   * already (`publishedSeq`, from `queue.meta`).
   */
  endDamage(offset: number, seq: number, publishedSeq: number | undefined): string | undefined {
    const end = this.endOffset;
    if (end === 0 && (publishedSeq === undefined || publishedSeq < seq)) return undefined;
    // The writer stores a header word (a record's, a checksum frame's or
    // the end marker) before the seal and before the published seq: one
    // still zero once either was seen is gone, while one that appeared in
    // between was simply written meanwhile.
    const header = Atomics.load(this.file.words, offset >>> 2);
    if (header !== 0 && header < NOT_COMPLETE) return undefined;
    const what = `record header at offset ${offset} (seq ${seq}) is zero`;
    if (end !== 0 && offset !== end) return `${what}, but the segment is sealed at offset ${end}`;
    if (end !== 0) return `end marker at offset ${offset} is zero`;
    return `${what}, but the writer published up to seq ${publishedSeq}`;
  }

  /**
   * Checks the records from `offset` (holding the record with `seq`) to the
   * next checksum frame before a reader delivers any of them: headers,
   * seqs, and the block's CRC-32. At the end of what is published, before
   * the block is closed, the records so far are unverified but may go out,
   * unless {@linkcode endDamage} says the end is not real.
   *
   * @throws {QueueDamageError} naming `offset` and `seq`: nothing from there may be delivered.
   */
  checkBlock(offset: number, seq: number, publishedSeq: number | undefined): BlockCheck {
    const capacity = this.file.size;
    if (!this.checked) return { to: capacity, verified: false, nextSeq: seq };
    const words = this.file.words;
    let p = offset;
    let next = seq;
    const fail = (why: string): never => {
      throw this.damage(offset, seq, why);
    };
    // Anything at `p` takes at least an end marker's bytes.
    const last = capacity - END_MARKER_SIZE;
    // In a sealed segment, whose bytes no longer change, the checksum of
    // the bytes where the block most likely lies is taken first: that one
    // sequential read brings them into the cache, so the walk below does
    // not wait on memory header by header, and at the frame only the rest
    // of the block is read.
    const early = Atomics.load(words, SEGMENT.endOffset >>> 2) === 0
      ? 0
      : Math.min(EARLY_CHECKSUM_BYTES, last - offset);
    const earlyCrc = early > 0 ? blockChecksum(this.file.bytes, offset, offset + early) : 0;
    for (;;) {
      if (p > last) fail(`records run past the segment's end at offset ${p}`);
      // Plain loads where the CPU keeps them in order (see QueueReader.next);
      // the end of what is published is always confirmed atomically.
      let header = ORDERED_MEMORY ? words[p >>> 2]! : Atomics.load(words, p >>> 2);
      if (isRecordHeader(header)) {
        // A record, the common case: each seq is checked as it is
        // delivered, and the frame's next seq checks the count.
        const size = recordSize(header);
        if (p + size > capacity) fail(`record at offset ${p} runs past the segment's end`);
        next++;
        p += size;
        continue;
      }
      if (header === 0) header = Atomics.load(words, p >>> 2);
      switch (headerKind(header)) {
        case HEADER_KIND.Record:
          continue; // published just now: look again
        case HEADER_KIND.Nothing: {
          const why = this.endDamage(p, next, publishedSeq);
          if (why !== undefined) fail(why);
          return { to: p, verified: false, nextSeq: next };
        }
        case HEADER_KIND.ChecksumFrame: {
          if (p + CHECKSUM_FRAME_SIZE > capacity) {
            fail(`checksum frame at offset ${p} runs past the end`);
          }
          const start = p - words[(p + CHECKSUM.blockBytes) >>> 2]!;
          const frameSeq = readU64(words, p + CHECKSUM.nextSeq);
          if (start < SEGMENT_HEADER_SIZE || start > offset || (start & 7) !== 0) {
            fail(`checksum frame at offset ${p} names a block starting at offset ${start}`);
          }
          if (frameSeq !== next) {
            fail(`checksum frame at offset ${p} says seq ${frameSeq} follows, not ${next}`);
          }
          const crc = early > 0 && start === offset && p >= offset + early
            ? blockChecksum(this.file.bytes, offset + early, p, earlyCrc)
            : blockChecksum(this.file.bytes, start, p);
          if (crc !== words[(p + CHECKSUM.crc) >>> 2]) {
            fail(
              `the block from offset ${start} to ${p} fails its checksum` +
                (start < offset ? `; its records before seq ${seq} were already passed` : ""),
            );
          }
          return { to: p + CHECKSUM_FRAME_SIZE, verified: true, nextSeq: next };
        }
        case HEADER_KIND.EndOfSegment: {
          if (p !== offset) {
            fail(`no checksum frame closes the records before the end marker at ${p}`);
          }
          const end = this.endOffset;
          if (end !== 0 && end !== p) fail(`end marker at offset ${p}, but the seal says ${end}`);
          return { to: p + END_MARKER_SIZE, verified: true, nextSeq: next };
        }
        case HEADER_KIND.Padding: {
          const size = recordSize(header & LENGTH_MASK);
          if (p + size > capacity) fail(`padding at offset ${p} runs past the segment's end`);
          p += size;
          continue;
        }
        default:
          fail(`impossible header word 0x${header.toString(16)} at offset ${p}`);
      }
    }
  }

  /**
   * Verifies the closed blocks from offset 64 up to `end` (where a walk
   * ended), for a writer about to append after them. Returns the offset
   * just past the last checksum frame whose block matches, with the seq of
   * the record there: recovery cuts a torn tail back to it, or reports the
   * damage from it.
   */
  verifiedPrefix(end: number): { offset: number; seq: number } {
    let seq = this.firstSeq;
    if (!this.checked) return { offset: end, seq };
    const words = this.file.words;
    let p = SEGMENT_HEADER_SIZE;
    let good = { offset: p, seq };
    while (p < end) {
      const header = words[p >>> 2]!;
      const kind = headerKind(header);
      if (kind === HEADER_KIND.ChecksumFrame) {
        const start = p - words[(p + CHECKSUM.blockBytes) >>> 2]!;
        if (
          start !== good.offset ||
          readU64(words, p + CHECKSUM.nextSeq) !== seq ||
          blockChecksum(this.file.bytes, start, p) !== words[(p + CHECKSUM.crc) >>> 2]
        ) {
          return good;
        }
        p += CHECKSUM_FRAME_SIZE;
        good = { offset: p, seq };
        continue;
      }
      // Up to `end` a walk found records and padding only.
      if (kind === HEADER_KIND.Record) seq++;
      p += recordSize(header & LENGTH_MASK);
    }
    return good;
  }

  /**
   * Walks published records from `offset` (which must hold a record or the
   * end), checking each header, until the end of what is published or the
   * end-of-segment marker. `visit` sees each record's offset and seq; when
   * it returns true the walk stops in front of that record. It also stops,
   * before looking at anything there, at `stopAt`.
   *
   * @throws {QueueFormatError} on a header that cannot be right.
   */
  walk(
    offset: number,
    nextSeq: number,
    visit?: (offset: number, seq: number) => boolean | void,
    stopAt = Infinity,
  ): WalkEnd {
    const words = this.file.words;
    const capacity = this.file.size;
    let records = 0;
    let blockStart = offset;
    while (offset + END_MARKER_SIZE <= capacity && offset < stopAt) {
      const header = Atomics.load(words, offset >>> 2);
      const kind = headerKind(header);
      if (kind === HEADER_KIND.Nothing) break;
      if (kind === HEADER_KIND.ChecksumFrame && offset + CHECKSUM_FRAME_SIZE <= capacity) {
        offset += CHECKSUM_FRAME_SIZE;
        blockStart = offset;
        continue;
      }
      if (kind === HEADER_KIND.EndOfSegment) {
        return { offset, nextSeq, sealed: true, records, blockStart };
      }
      if (kind !== HEADER_KIND.Record && kind !== HEADER_KIND.Padding) {
        throw this.damage(offset, nextSeq, `impossible header word 0x${header.toString(16)}`);
      }
      const length = header & LENGTH_MASK;
      const size = recordSize(length);
      if (offset + size > capacity) {
        throw this.damage(offset, nextSeq, `record of ${length} bytes runs past the segment's end`);
      }
      if (kind === HEADER_KIND.Record) {
        const seq = readU64(words, offset + RECORD.seq);
        if (seq !== nextSeq) throw this.damage(offset, nextSeq, `record has seq ${seq}`);
        if (visit?.(offset, seq) === true) {
          return { offset, nextSeq, sealed: false, records, blockStart };
        }
        nextSeq++;
        records++;
      }
      offset += size;
    }
    return { offset, nextSeq, sealed: false, records, blockStart };
  }
}
