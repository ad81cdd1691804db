/**
 * What an archive tap is asked to do, and the checks that need no queue
 * opened: a start mode that exists, a valid reader name, a segment size
 * the queue accepts, and two different queues.
 *
 * @module
 */

import type { SnapshotPlan } from "../book/mod.ts";
import { checkReaderName } from "../chronicle/reader_offset.ts";
import { checkTargetOptions, type TargetLocation } from "../stream/mod.ts";
import { describeNats } from "../nats/nats_location.ts";
import {
  realLocation,
  resolveLiveQueue,
  resolveTapQueues,
  type TapQueues,
} from "./tap_locations.ts";

/** Where a tap starts reading the live queue. */
export type ArchiveStart = "earliest" | "latest" | "committed";

/** Every start mode, for validation and help text. */
export const ARCHIVE_STARTS: readonly ArchiveStart[] = ["earliest", "latest", "committed"];

/** Name of the tap's reader on the live queue unless told otherwise. */
export const DEFAULT_READER_NAME = "archive-tap";

/**
 * How the tap writes the archive: the durable profile, synced to disk every
 * 100 ms while copying and at every roll and close, and by count only every
 * 262,144 records: the profile's msync every 4,096 records (a synchronous
 * disk write on the tap's only thread) cuts the copy rate by half or more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ARCHIVE_WRITER_OPTIONS } from "./tap_options.ts";
 * assert.equal(ARCHIVE_WRITER_OPTIONS.durability, "durable");
 * ```
 */
export const ARCHIVE_WRITER_OPTIONS = {
  durability: "durable",
  syncEveryRecords: 262_144,
  syncIntervalMs: 100,
} as const;

/** Records copied between commits of the reader's position while catching up. */
export const DEFAULT_COMMIT_EVERY = 4096;

/**
 * Where the tap's lines go. `debug` is optional: without it the per-record
 * lines are never even formatted.
 */
export interface ArchiveTapLog {
  /** Opening, progress while catching up, and the summary. */
  info(line: string): void;
  /** One line per record copied. */
  debug?(line: string): void;
}

/** Options of {@linkcode archiveTap}. */
export interface ArchiveTapOptions {
  /** The live queue (or bus stream) directory to copy from. */
  live: string;
  /** The archive queue (or bus stream) directory; created at the first record copied. */
  archive: string;
  /**
   * `earliest` (the oldest record kept), `latest` (only records appended
   * from now on) or `committed` (after the reader's committed position,
   * `earliest` when it has none). Default `committed`. Whatever the mode,
   * records the archive already holds are not copied again.
   */
  start?: ArchiveStart;
  /** Copy what is there, then return. Otherwise follow the live queue until `signal` aborts. */
  once?: boolean;
  /** Name of the tap's reader on the live queue. Default `archive-tap`. */
  name?: string;
  /** Stops the tap: it commits, closes both queues and returns. */
  signal?: AbortSignal;
  /** Where lines about the tap's work go. Default: nowhere. */
  log?: ArchiveTapLog;
  /** Records copied between commits while catching up. Default 4096. */
  commitEvery?: number;
  /**
   * Segment capacity of an archive queue created now (default the queue's
   * own, 64 MiB); for a sealed archive, the plaintext bytes at which each
   * sealed segment is cut in this run (default 1 MiB).
   */
  segmentBytes?: number;
  /**
   * Write book snapshots beside the archive as it grows
   * (`docs/snapshots.md`), for warm starts; default none.
   */
  snapshotEvery?: SnapshotPlan;
  /**
   * Permission bits of the archive's files (and snapshot files) created
   * now (`QueueWriterOptions.mode`): default those of the archive's files,
   * or 0640 for a new archive.
   */
  mode?: number;
  /**
   * X25519 public keys a sealed archive (`sealed:DIR`, `sqlite:FILE`) is
   * sealed to; required for one, refused for an archive queue.
   */
  recipients?: Uint8Array[];
  /** Replicas of a JetStream archive stream created now (`nats://…`); default 1. */
  replicas?: number;
  /**
   * How long a JetStream archive waits for a lost server before the tap
   * fails, in milliseconds; default 60 000.
   */
  retryForMs?: number;
  /** Cipher workers of a sealed archive; default the sealed writer's. */
  workers?: number;
}

/** Options after {@linkcode checkArchiveTapOptions}: defaults filled in, queue directories found. */
export interface CheckedTapOptions extends TapQueues {
  /** The start mode. */
  start: ArchiveStart;
  /** The reader name. */
  name: string;
  /** Records between commits. */
  commitEvery: number;
  /** What the archive is: a queue, a sealed store or a JetStream stream. */
  target: TargetLocation;
}

/**
 * Checks options before anything is opened, and finds the queue directories.
 * A program reports a `TypeError` from here as a usage error.
 *
 * @throws {TypeError} for a start mode that does not exist, a bad reader name or commit interval,
 *   or when the live queue and the archive are the same directory.
 * @throws {QueueFormatError} when the live location holds no queue, or the archive location is
 *   something other than a queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkArchiveTapOptions } from "./tap_options.ts";
 * assert.throws(
 *   () => checkArchiveTapOptions({ live: "a", archive: "b", start: "newest" as "latest" }),
 *   { message: "Start 'newest' does not exist: use 'earliest', 'latest' or 'committed'" },
 * );
 * ```
 */
export function checkArchiveTapOptions(options: ArchiveTapOptions): CheckedTapOptions {
  const start = options.start ?? "committed";
  if (!ARCHIVE_STARTS.includes(start)) {
    throw new TypeError(
      `Start '${start}' does not exist: use 'earliest', 'latest' or 'committed'`,
    );
  }
  const name = options.name ?? DEFAULT_READER_NAME;
  checkReaderName(name);
  const commitEvery = options.commitEvery ?? DEFAULT_COMMIT_EVERY;
  if (!Number.isSafeInteger(commitEvery) || commitEvery < 1) {
    throw new TypeError(
      `Option 'commitEvery' must be a whole number of at least 1, not '${commitEvery}'`,
    );
  }
  const common = { start, name, commitEvery };
  const target = checkTargetOptions(options.archive, options);
  if (target.kind === "queue") {
    return { ...resolveTapQueues(options.live, options.archive), ...common, target };
  }
  const live = resolveLiveQueue(options.live).dir;
  if (target.kind === "jetstream") {
    // Every line and error names the archive: never with its password or token.
    return { live, archive: describeNats(target.nats), ...common, target };
  }
  const sealed = target.sealed;
  const store = sealed.kind === "file" ? sealed.dir : sealed.file;
  if (realLocation(store) === realLocation(live)) {
    throw new TypeError(
      `Live queue '${options.live}' and archive '${options.archive}' are the same place: the archive must be elsewhere`,
    );
  }
  return { live, archive: options.archive, ...common, target };
}
