/**
 * What a queue directory holds, read from its listing: which segments exist
 * and whether a directory is a queue at all.
 *
 * @module
 */

import { QueueDamageError, QueueFormatError } from "./chronicle_errors.ts";
import {
  CHECKED_VERSION,
  INDEX_SUFFIX,
  LOCK_FILE,
  META_FILE,
  parseSegmentName,
  READERS_DIR,
  readU64,
  SEGMENT,
  SEGMENT_HEADER_SIZE,
  segmentName,
} from "./format.ts";

/**
 * Segment indexes present in a queue directory, ascending: regular files
 * only, or with `anyType` every entry named like a segment (a writer must
 * see a directory put where its active segment was).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listSegments } from "./queue_files.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeFileSync(`${dir}/0000000003.seg`, new Uint8Array(0));
 * assert.deepEqual(listSegments(dir), [3]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function listSegments(dir: string, anyType = false): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const index = entry.isFile || anyType ? parseSegmentName(entry.name) : undefined;
    if (index !== undefined) out.push(index);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Whether `dir` holds `queue.meta`; throws a one-line error when it exists
 * but cannot be a queue, so callers can create a queue only in an empty or
 * missing directory.
 *
 * @throws {QueueFormatError} when `dir` is a file, or a directory with other files but no `queue.meta`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueExists } from "./queue_files.ts";
 * assert.equal(queueExists("/nonexistent/queue"), false);
 * ```
 */
export function queueExists(dir: string): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  if (!info.isDirectory) {
    throw new QueueFormatError(`'${dir}' is a file, not a queue directory`, dir);
  }
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  if (names.includes(META_FILE)) return true;
  const ours = new Set([LOCK_FILE, READERS_DIR]);
  const strangers = names.filter((n) => !ours.has(n) && !n.endsWith(INDEX_SUFFIX));
  if (strangers.length > 0) {
    throw new QueueFormatError(
      `Directory '${dir}' is not a spool queue: it has no '${META_FILE}' (found '${strangers[0]}')`,
      dir,
    );
  }
  return false;
}

/** A segment's header fields, as {@linkcode readSegmentHeader} reads them. */
export interface SegmentHeader {
  /** Format version. */
  version: number;
  /** The segment index the header names (its file's, unless the file was renamed). */
  index: number;
  /** Seq of the segment's first record. */
  firstSeq: number;
  /** When the writer started it, ns. */
  createdNs: bigint;
  /** Capacity the header states. */
  capacity: number;
  /** Size of the file itself, to compare with the capacity. */
  fileSize: number;
  /** Offset of the end marker once sealed (version 2); 0 before. */
  endOffset: number;
  /** Seq after the last record once sealed (version 2). */
  endSeq: number;
}

/**
 * A segment's header, read without mapping the file; undefined for a
 * segment never started or gone (no such file).
 *
 * @throws {QueueFormatError} when the path is a directory, FIFO or anything but a regular file.
 * @throws {Error} what stat or open fails with for a file that may be there (EACCES, EMFILE, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSegmentHeader } from "./queue_files.ts";
 * assert.equal(readSegmentHeader("/nonexistent", 0), undefined);
 * ```
 */
export function readSegmentHeader(dir: string, index: number): SegmentHeader | undefined {
  const path = `${dir}/${segmentName(index)}`;
  const bytes = new Uint8Array(SEGMENT_HEADER_SIZE);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (!info.isFile) throw new QueueFormatError(`'${path}' is not a regular file`, path, 0);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path);
  } catch (error) {
    // Retention may delete it between the two calls.
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    let got = 0;
    while (got < bytes.length) {
      const n = file.readSync(bytes.subarray(got));
      if (n === null) return undefined;
      got += n;
    }
  } finally {
    file.close();
  }
  const words = new Uint32Array(bytes.buffer);
  if (words[SEGMENT.magic >>> 2] === 0) return undefined;
  const view = new DataView(bytes.buffer);
  return {
    version: words[SEGMENT.version >>> 2]!,
    index: words[SEGMENT.index >>> 2]!,
    firstSeq: readU64(words, SEGMENT.firstSeq),
    createdNs: view.getBigUint64(SEGMENT.createdNs, true),
    capacity: readU64(words, SEGMENT.capacity),
    fileSize: info.size,
    endOffset: words[SEGMENT.endOffset >>> 2]!,
    endSeq: readU64(words, SEGMENT.endSeq),
  };
}

/**
 * Checks the segments a writer is about to append after, from their headers
 * alone (64 bytes each): every segment from `first` up to `active` is there,
 * a regular file of `segmentBytes`, started, and sealed where the next one
 * begins. Cheap enough for every open; it does not read records. With
 * `sealingPrevious`, the segment before `active` may lack its seal: the
 * writer has checked where it ends and is about to seal it.
 *
 * @throws {QueueDamageError} naming the first segment that fails, and the seq it should start at.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSegmentChain } from "./queue_files.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.throws(() => checkSegmentChain(dir, 0, 1, 65536), /is missing/);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function checkSegmentChain(
  dir: string,
  first: number,
  active: number,
  segmentBytes: number,
  sealingPrevious = false,
): void {
  let previous: { index: number; header: SegmentHeader } | undefined;
  for (let index = first; index <= active; index++) {
    const path = `${dir}/${segmentName(index)}`;
    const unsealed = previous !== undefined && previous.header.endOffset === 0 &&
      (index < active || !sealingPrevious);
    const expected = previous === undefined
      ? undefined
      : previous.header.version >= CHECKED_VERSION && previous.header.endOffset !== 0
      ? previous.header.endSeq
      : undefined;
    const fail = (why: string): never => {
      throw new QueueDamageError(path, 0, expected ?? previous?.header.firstSeq ?? 1, why);
    };
    let header: SegmentHeader | undefined;
    try {
      header = readSegmentHeader(dir, index);
    } catch (error) {
      if (!(error instanceof QueueFormatError)) throw error;
      throw QueueDamageError.from(error, expected ?? previous?.header.firstSeq ?? 1);
    }
    if (header === undefined) {
      fail(fileExists(path) ? "segment header is zero" : "segment file is missing");
    }
    const h = header!;
    if (h.capacity !== segmentBytes || h.fileSize !== segmentBytes) {
      fail(`segment is ${h.fileSize} bytes, not ${segmentBytes}`);
    }
    if (previous !== undefined) {
      const prev = previous.header;
      const prevPath = `${dir}/${segmentName(previous.index)}`;
      if (prev.version >= CHECKED_VERSION && unsealed) {
        throw new QueueDamageError(prevPath, 0, prev.firstSeq, "segment was never sealed");
      }
      if (expected !== undefined ? h.firstSeq !== expected : h.firstSeq <= prev.firstSeq) {
        fail(`segment starts at seq ${h.firstSeq}, not where '${prevPath}' ends`);
      }
    }
    previous = { index, header: h };
  }
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
