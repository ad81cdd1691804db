/**
 * Where a queue's snapshots live, and finding, reading and pruning them.
 *
 * ```
 * <bus>/archive/<stream>/queue/                                 the queue
 * <bus>/archive/<stream>/snapshots/<venue>/<market>/snapshot_<seq>.bin
 * Q/                                                            any other queue
 * Q.snapshots/<venue>/<market>/snapshot_<seq>.bin
 * ```
 *
 * @module
 */

import { QueueReader } from "../chronicle/mod.ts";
import { decodeSnapshot, type SnapshotFile, SnapshotFormatError } from "./snapshot_file.ts";

/** One snapshot file, by its name. */
export interface SnapshotRef {
  /** Venue id, from the directory name. */
  venue: number;
  /** Market id, from the directory name. */
  market: number;
  /** The seq it is valid after, from the file name. */
  seq: number;
  /** The file. */
  path: string;
}

/** A snapshot found and checked. */
export interface SnapshotChoice {
  /** The file. */
  ref: SnapshotRef;
  /** Its checked contents. */
  file: SnapshotFile;
}

/** Where a search for a snapshot stops: at or before a seq, or at or before a record timestamp. */
export type SnapshotTarget = { seq: number } | { timestampNs: bigint | number };

const ID = /^(0|[1-9][0-9]{0,9})$/;
const FILE = /^snapshot_(0|[1-9][0-9]{0,15})\.bin$/;

/**
 * The snapshot directory of the queue in `queueDir`. A queue directory
 * named `queue`, as every queue of a bus is, keeps its snapshots in the
 * sibling directory `snapshots`; any other queue directory `Q` keeps them
 * in `Q.snapshots` beside it. Never inside the queue directory, whose
 * contents the chronicle's format owns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotDirFor } from "./snapshot_store.ts";
 * assert.equal(snapshotDirFor("bus/archive/quotes/queue"), "bus/archive/quotes/snapshots");
 * assert.equal(snapshotDirFor("/data/goog/"), "/data/goog.snapshots");
 * ```
 */
export function snapshotDirFor(queueDir: string): string {
  const dir = queueDir.replace(/\/+$/, "");
  if (dir === "" || dir === "." || dir === "..") {
    throw new TypeError(`Queue directory '${queueDir}' has no name to put snapshots beside`);
  }
  const slash = dir.lastIndexOf("/");
  if (dir.slice(slash + 1) === "queue") return `${dir.slice(0, slash + 1)}snapshots`;
  return `${dir}.snapshots`;
}

/**
 * The name of a snapshot's temporary file while it is written: hidden,
 * with a random part, ending `.tmp`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSnapshotTempName, snapshotTempName } from "./snapshot_store.ts";
 * assert.equal(snapshotTempName(12, "00c0ffee"), ".snapshot_12.bin.00c0ffee.tmp");
 * assert.equal(isSnapshotTempName(".snapshot_12.bin.00c0ffee.tmp"), true);
 * assert.equal(isSnapshotTempName("snapshot_12.bin"), false);
 * ```
 */
export function snapshotTempName(seq: number, random: string): string {
  return `.snapshot_${seq}.bin.${random}.tmp`;
}

/**
 * Whether `name` is a temporary file's name ({@linkcode snapshotTempName}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSnapshotTempName } from "./snapshot_store.ts";
 * assert.equal(isSnapshotTempName(".snapshot_7.bin.0a0b0c0d.tmp"), true);
 * assert.equal(isSnapshotTempName("snapshot_7.bin"), false);
 * ```
 */
export function isSnapshotTempName(name: string): boolean {
  return /^\.snapshot_[0-9]+\.bin\.[0-9a-f]{8}\.tmp$/.test(name);
}

/**
 * The snapshots under one directory: `<root>/<venue>/<market>/snapshot_<seq>.bin`,
 * ids and seqs in decimal without leading zeros. Anything else under the
 * root (temporary files included) is ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotStore } from "./snapshot_store.ts";
 * const store = SnapshotStore.forQueue("bus/archive/quotes/queue");
 * assert.equal(store.path(1, 7, 500), "bus/archive/quotes/snapshots/1/7/snapshot_500.bin");
 * assert.deepEqual(new SnapshotStore("/nonexistent").list(), []);
 * ```
 */
export class SnapshotStore {
  /** The snapshot directory. */
  readonly root: string;

  /** The store rooted at `root`. */
  constructor(root: string) {
    this.root = root.replace(/\/+$/, "") || "/";
  }

  /** The store of the queue in `queueDir` ({@linkcode snapshotDirFor}). */
  static forQueue(queueDir: string): SnapshotStore {
    return new SnapshotStore(snapshotDirFor(queueDir));
  }

  /** The directory of one market's snapshots. */
  marketDir(venue: number, market: number): string {
    return `${this.root}/${venue}/${market}`;
  }

  /** The path of the snapshot of (`venue`, `market`) at `seq`. */
  path(venue: number, market: number, seq: number): string {
    return `${this.marketDir(venue, market)}/snapshot_${seq}.bin`;
  }

  /**
   * Every snapshot file, by seq, then venue, then market. Only names are
   * looked at: a file listed may still be damaged.
   */
  list(): SnapshotRef[] {
    const refs: SnapshotRef[] = [];
    for (const venue of subdirs(this.root)) {
      for (const market of subdirs(`${this.root}/${venue}`)) {
        const dir = `${this.root}/${venue}/${market}`;
        for (const entry of Deno.readDirSync(dir)) {
          const match = FILE.exec(entry.name);
          if (match === null || !entry.isFile) continue;
          const seq = Number(match[1]);
          if (!Number.isSafeInteger(seq) || seq < 1) continue;
          refs.push({
            venue: Number(venue),
            market: Number(market),
            seq,
            path: `${dir}/${entry.name}`,
          });
        }
      }
    }
    return refs.sort((a, b) => a.seq - b.seq || a.venue - b.venue || a.market - b.market);
  }

  /**
   * Reads and checks a snapshot file, and that its header names the
   * market and seq its path does.
   *
   * @throws {SnapshotFormatError} when it is damaged, truncated, not a snapshot, or misnamed.
   * @throws {Deno.errors.NotFound} when it is not there.
   */
  read(ref: SnapshotRef | string): SnapshotFile {
    const path = typeof ref === "string" ? ref : ref.path;
    const file = decodeSnapshot(Deno.readFileSync(path), path);
    if (typeof ref !== "string") {
      const h = file.header;
      if (h.venue !== ref.venue || h.market !== ref.market || h.seq !== ref.seq) {
        throw new SnapshotFormatError(
          `Header is of market ${h.venue}:${h.market} at seq ${h.seq}, ` +
            `not ${ref.venue}:${ref.market} at seq ${ref.seq} as its path says`,
          path,
          0,
        );
      }
    }
    return file;
  }

  /**
   * Reads a snapshot, or tells why it cannot be used: the file is damaged
   * or was removed since it was listed. Other errors are thrown.
   */
  tryRead(ref: SnapshotRef): SnapshotFile | string {
    try {
      return this.read(ref);
    } catch (error) {
      if (error instanceof SnapshotFormatError) return error.message;
      if (error instanceof Deno.errors.NotFound) return `Snapshot '${ref.path}' is gone`;
      throw error;
    }
  }

  /**
   * The latest valid snapshot of (`venue`, `market`) at or before
   * `target`: a seq, or a record timestamp (the header's). A damaged file
   * is passed over for an earlier one, and `onWarning` told why.
   */
  latest(
    venue: number,
    market: number,
    target: SnapshotTarget,
    onWarning: (message: string) => void = () => {},
  ): SnapshotChoice | undefined {
    const bySeq = "seq" in target;
    const time = bySeq ? 0n : BigInt(target.timestampNs);
    const refs = this.list().filter((r) =>
      r.venue === venue && r.market === market && (!bySeq || r.seq <= target.seq)
    );
    for (let i = refs.length - 1; i >= 0; i--) {
      const ref = refs[i]!;
      const file = this.tryRead(ref);
      if (typeof file === "string") {
        onWarning(`${file}; trying an earlier snapshot`);
        continue;
      }
      if (!bySeq && file.header.timestampNs > time) continue;
      return { ref, file };
    }
    return undefined;
  }

  /**
   * Removes every snapshot whose seq is below `earliestSeq` (so the records
   * after it are no longer all in the queue), and returns them.
   */
  prune(earliestSeq: number): SnapshotRef[] {
    const removed: SnapshotRef[] = [];
    for (const ref of this.list()) {
      if (ref.seq >= earliestSeq) break;
      try {
        Deno.removeSync(ref.path);
        removed.push(ref);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return removed;
  }
}

/**
 * Removes the snapshots of the queue in `queueDir` that retention has made
 * useless: those whose seq is below the queue's earliest retained seq.
 * Call it after retention deletes segments (archive-tap does, after each
 * pass).
 *
 * @returns the snapshots removed
 * @throws {QueueFormatError} when `queueDir` is not a queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { pruneSnapshots } from "./snapshot_store.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(`${dir}/q`, { segmentBytes: 1 << 16 });
 * w.append(1, new Uint8Array(8));
 * assert.deepEqual(await pruneSnapshots(`${dir}/q`), []);
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function pruneSnapshots(
  queueDir: string,
  store: SnapshotStore = SnapshotStore.forQueue(queueDir),
): Promise<SnapshotRef[]> {
  using reader = await QueueReader.open(queueDir, { start: "earliest" });
  return store.prune(reader.nextSeq);
}

function subdirs(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory && ID.test(entry.name) && Number(entry.name) <= 0xffff_ffff) {
        names.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return names;
}
