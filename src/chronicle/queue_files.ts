/**
 * What a queue directory holds, read from its listing: which segments exist
 * and whether a directory is a queue at all.
 *
 * @module
 */

import { QueueFormatError } from "./chronicle_errors.ts";
import {
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
 * Segment indexes present in a queue directory, ascending.
 *
 * @example
 * ```ts
 * import { listSegments } from "./queue_files.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeFileSync(`${dir}/0000000003.seg`, new Uint8Array(0));
 * console.log(listSegments(dir)); // [ 3 ]
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function listSegments(dir: string): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const index = entry.isFile ? parseSegmentName(entry.name) : undefined;
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
 * import { queueExists } from "./queue_files.ts";
 * console.log(queueExists("/nonexistent/queue")); // false
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

/**
 * First seq and creation time of a segment, read from its header without
 * mapping it; undefined for a segment never started or gone.
 *
 * @example
 * ```ts
 * import { readSegmentHeader } from "./queue_files.ts";
 * console.log(readSegmentHeader("/nonexistent", 0)); // undefined
 * ```
 */
export function readSegmentHeader(
  dir: string,
  index: number,
): { firstSeq: number; createdNs: bigint } | undefined {
  const bytes = new Uint8Array(SEGMENT_HEADER_SIZE);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(`${dir}/${segmentName(index)}`);
  } catch {
    return undefined;
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
  if (words[0] === 0) return undefined;
  const view = new DataView(bytes.buffer);
  return {
    firstSeq: readU64(words, SEGMENT.firstSeq),
    createdNs: view.getBigUint64(SEGMENT.createdNs, true),
  };
}
