/**
 * Writing snapshot files so that a partial one is never visible: each goes
 * to a temporary file in its directory, is flushed to disk, and is renamed
 * to its final name, and the directory is flushed so the name survives a
 * crash. Temporary files a killed writer left behind are removed by the
 * next writer; readers never look at them.
 *
 * @module
 */

import type { BookView } from "./book_view.ts";
import { SnapshotEncoder, type SnapshotStamp } from "./snapshot_file.ts";
import { isSnapshotTempName, type SnapshotStore, snapshotTempName } from "./snapshot_store.ts";

/** Options of {@linkcode SnapshotWriter}. */
export interface SnapshotWriterOptions {
  /**
   * Whether each file and its directory are flushed to disk (fsync) before
   * the write returns. Default true; false only where losing the latest
   * snapshots in a machine crash is acceptable (a killed process loses
   * nothing either way: the rename is still atomic).
   */
  sync?: boolean;
}

/**
 * Writes snapshots of books into a {@linkcode SnapshotStore}. One writer
 * per store at a time: temporary files in a market's directory are taken
 * for a dead writer's leftovers and removed when this writer first writes
 * there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OrderBook } from "./order_book.ts";
 * import { SIDE } from "./book_protocol.ts";
 * import { SnapshotStore } from "./snapshot_store.ts";
 * import { SnapshotWriter } from "./snapshot_writer.ts";
 * const root = Deno.makeTempDirSync();
 * const store = new SnapshotStore(root);
 * const book = new OrderBook(1, 2);
 * book.setLevel(SIDE.Bid, 100, 5);
 * const path = new SnapshotWriter(store).write(book, {
 *   seq: 40,
 *   timestampNs: 0n,
 *   marketCount: 1,
 *   recordCrc: 0,
 * });
 * assert.equal(path, `${root}/1/2/snapshot_40.bin`);
 * assert.equal(store.read(path).header.seq, 40);
 * Deno.removeSync(root, { recursive: true });
 * ```
 */
export class SnapshotWriter {
  /** Where the snapshots go. */
  readonly store: SnapshotStore;
  /** Whether writes are flushed to disk. */
  readonly sync: boolean;
  readonly #encoder = new SnapshotEncoder();
  readonly #ready = new Set<string>();

  /** A writer into `store`. */
  constructor(store: SnapshotStore, options: SnapshotWriterOptions = {}) {
    this.store = store;
    this.sync = options.sync ?? true;
  }

  /**
   * Writes the snapshot of `book` stamped `stamp` and returns its path. A
   * snapshot of the same market and seq already there is replaced whole.
   *
   * @throws {RangeError} when the book or stamp cannot be encoded.
   */
  write(book: BookView, stamp: SnapshotStamp): string {
    const bytes = this.#encoder.encode(book, stamp);
    const dir = this.store.marketDir(book.venue, book.market);
    if (!this.#ready.has(dir)) {
      Deno.mkdirSync(dir, { recursive: true });
      removeTempFiles(dir);
      this.#ready.add(dir);
    }
    const path = this.store.path(book.venue, book.market, stamp.seq);
    const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, "0");
    const temp = `${dir}/${snapshotTempName(stamp.seq, random)}`;
    try {
      const file = Deno.openSync(temp, { write: true, createNew: true });
      try {
        for (let done = 0; done < bytes.byteLength;) {
          done += file.writeSync(bytes.subarray(done));
        }
        if (this.sync) file.syncSync();
      } finally {
        file.close();
      }
      Deno.renameSync(temp, path);
    } catch (error) {
      try {
        Deno.removeSync(temp);
      } catch {
        // Never created, or already renamed.
      }
      throw error;
    }
    if (this.sync) syncDirectory(dir);
    return path;
  }
}

/**
 * Removes the temporary snapshot files in `dir` and returns how many.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeTempFiles } from "./snapshot_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/.snapshot_7.bin.0badcafe.tmp`, "half");
 * Deno.writeTextFileSync(`${dir}/notes.txt`, "kept");
 * assert.equal(removeTempFiles(dir), 1);
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["notes.txt"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function removeTempFiles(dir: string): number {
  let removed = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isFile || !isSnapshotTempName(entry.name)) continue;
    try {
      Deno.removeSync(`${dir}/${entry.name}`);
      removed++;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return removed;
}

// Flushes the directory's entries, so the rename survives a machine crash.
function syncDirectory(dir: string): void {
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncSync();
  } finally {
    handle.close();
  }
}
