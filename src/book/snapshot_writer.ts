/**
 * Writing snapshot files so that a partial one is never visible: each goes
 * to a temporary file in its directory, is flushed to disk, and is renamed
 * to its final name, and the directory is flushed so the name survives a
 * crash. Temporary files a killed writer left behind are removed by the
 * next writer; readers never look at them.
 *
 * @module
 */

import { checkFileMode, directoryModeFor, QUEUE_FILE_MODE } from "../chronicle/mod.ts";
import { syncDirectory } from "../tape/mod.ts";
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
  /**
   * Permission bits of the snapshot files (and their temporary files)
   * created, as for the queue's own files: read and write bits only, the
   * owner's among them. Directories created get the matching execute bits
   * (0640 gives 0750). Default 0640. What exists keeps its bits; the umask
   * may take bits away.
   */
  mode?: number;
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
  /** Permission bits of the files it creates. */
  readonly mode: number;
  readonly #encoder = new SnapshotEncoder();
  readonly #ready = new Set<string>();

  /**
   * A writer into `store`.
   *
   * @throws {RangeError} for a `mode` that is not a queue file's.
   */
  constructor(store: SnapshotStore, options: SnapshotWriterOptions = {}) {
    if (options.mode !== undefined) checkFileMode(options.mode);
    this.store = store;
    this.sync = options.sync ?? true;
    this.mode = options.mode ?? QUEUE_FILE_MODE;
  }

  /**
   * Writes the snapshot of `book` valid after the record `stamp` names and
   * returns its path. The file is written under a temporary name, flushed
   * to disk, then renamed, and the directory flushed, so a snapshot is
   * either whole under its name or not there at all.
   *
   * @throws {Deno.errors.PermissionDenied} and other file-system errors as they come; no partial file stays.
   */
  write(book: BookView, stamp: SnapshotStamp): string {
    const { dir, temp, path } = this.#place(book, stamp.seq);
    const bytes = this.#encoder.encode(book, stamp);
    try {
      const file = Deno.openSync(temp, { write: true, createNew: true, mode: this.mode });
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
      removeQuietly(temp);
      throw error;
    }
    if (this.sync) syncDirectory(dir);
    return path;
  }

  /**
   * {@linkcode SnapshotWriter.write} with the book encoded now and the
   * file work (the writes, the flushes that wait for the disk, the rename)
   * done by the runtime's threads: the caller goes on while the disk
   * works. The book may change as soon as this returns.
   *
   * @throws {Deno.errors.PermissionDenied} and other file-system errors, by the promise; no partial file stays.
   */
  async writeInBackground(book: BookView, stamp: SnapshotStamp): Promise<string> {
    const { dir, temp, path } = this.#place(book, stamp.seq);
    // Encoded now, and copied: the encoder's buffer is reused and the book goes on changing.
    const bytes = this.#encoder.encode(book, stamp).slice();
    try {
      const file = await Deno.open(temp, { write: true, createNew: true, mode: this.mode });
      try {
        for (let done = 0; done < bytes.byteLength;) {
          done += await file.write(bytes.subarray(done));
        }
        if (this.sync) await file.sync();
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
    } catch (error) {
      removeQuietly(temp);
      throw error;
    }
    if (this.sync) {
      const handle = await Deno.open(dir, { read: true });
      try {
        await handle.sync();
      } finally {
        handle.close();
      }
    }
    return path;
  }

  // The market's directory (made, and cleared of temporary files left by a
  // killed writer, the first time), a fresh temporary name and the final path.
  #place(book: BookView, seq: number): { dir: string; temp: string; path: string } {
    const dir = this.store.marketDir(book.venue, book.market);
    if (!this.#ready.has(dir)) {
      Deno.mkdirSync(dir, { recursive: true, mode: directoryModeFor(this.mode) });
      removeTempFiles(dir);
      this.#ready.add(dir);
    }
    const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, "0");
    return {
      dir,
      temp: `${dir}/${snapshotTempName(seq, random)}`,
      path: this.store.path(book.venue, book.market, seq),
    };
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

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Never created, or already renamed.
  }
}
