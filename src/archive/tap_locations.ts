/**
 * Where the tap's two queues are: a queue directory, or a bus stream
 * directory with its `queue/` (see `docs/stream.md`), and whether the two
 * locations are in fact one directory.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { queueExists, QueueFormatError } from "../chronicle/mod.ts";
import { isOsError } from "../tape/mod.ts";

/** The queue directories a tap reads and writes. */
export interface TapQueues {
  /** The live queue directory (it exists). */
  live: string;
  /** The archive queue directory (it may not exist yet). */
  archive: string;
}

function isQueue(dir: string): boolean {
  try {
    return queueExists(dir);
  } catch (error) {
    // A directory that cannot be read is not known to be no queue: the reason is told as it is.
    if (isOsError(error)) throw error;
    return false; // a file, or a directory of other things
  }
}

function emptyOrMissing(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return false;
    return true;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}

/**
 * The real path of `path`, following symbolic links; for a path that does
 * not exist yet, the real path of its nearest existing parent with the rest
 * appended, so two spellings of one future directory compare equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { realLocation } from "./tap_locations.ts";
 * assert.equal(realLocation("/nonexistent/a/../b"), realLocation("/nonexistent/b"));
 * ```
 */
export function realLocation(path: string): string {
  const absolute = resolve(path);
  try {
    return Deno.realPathSync(absolute);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const parent = dirname(absolute);
    if (parent === absolute) return absolute;
    return `${realLocation(parent).replace(/\/$/, "")}/${basename(absolute)}`;
  }
}

/** The live queue a tap reads, as {@linkcode resolveLiveQueue} finds it. */
export interface LiveQueue {
  /** The queue directory. */
  dir: string;
  /** Whether it was given as a bus stream directory (the queue is its `queue/`). */
  busForm: boolean;
}

/**
 * Finds the live queue at `live`: the queue directory itself, or a bus
 * stream directory's `queue/`.
 *
 * @throws {QueueFormatError} when it is neither.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLiveQueue } from "./tap_locations.ts";
 * assert.throws(() => resolveLiveQueue("/nonexistent/live"), { name: "QueueFormatError" });
 * ```
 */
export function resolveLiveQueue(live: string): LiveQueue {
  if (isQueue(live)) return { dir: live, busForm: false };
  const inner = `${live.replace(/\/+$/, "")}/queue`;
  if (isQueue(inner)) return { dir: inner, busForm: true };
  let why = "no 'queue.meta' in it";
  try {
    if (!Deno.statSync(live).isDirectory) why = "it is a file, not a directory";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) why = "no such directory";
  }
  throw new QueueFormatError(
    `Live queue '${live}' is not a spool queue (${why}): pass the directory of a queue, or of a bus stream`,
    live,
  );
}

/**
 * Resolves the tap's locations to queue directories. The live location must
 * hold a queue (directly, or as a bus stream's `queue/`). The archive is the
 * queue in `archive`, or the one in `archive/queue`; a new archive takes the
 * form of the live location, so a bus stream is archived into a bus stream.
 *
 * @throws {QueueFormatError} when the live location holds no queue, or the archive location is a
 *   file or a directory of other things.
 * @throws {TypeError} when both are the same directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { resolveTapQueues } from "./tap_locations.ts";
 * const bus = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(`${bus}/live/quotes/queue`, { segmentBytes: 1 << 16 });
 * const queues = resolveTapQueues(`${bus}/live/quotes`, `${bus}/archive/quotes`);
 * assert.match(queues.archive, /\/archive\/quotes\/queue$/);
 * w.close();
 * Deno.removeSync(bus, { recursive: true });
 * ```
 */
export function resolveTapQueues(live: string, archive: string): TapQueues {
  const { dir: liveDir, busForm } = resolveLiveQueue(live);
  let archiveDir = archive;
  if (!isQueue(archive)) {
    const inner = `${archive.replace(/\/+$/, "")}/queue`;
    if (isQueue(inner) || (busForm && emptyOrMissing(archive))) archiveDir = inner;
  }
  // Throws for a file or a directory of other things, before anything is written there.
  queueExists(archiveDir);
  if (realLocation(liveDir) === realLocation(archiveDir)) {
    throw new TypeError(
      `Live queue '${live}' and archive '${archive}' are the same directory: the archive must be another queue`,
    );
  }
  return { live: liveDir, archive: archiveDir };
}
