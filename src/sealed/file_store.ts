/**
 * The file store of `sealed:DIR`: `DIR/stream.sealed` holds the units back
 * to back, appended by one writer at a time (its lock is `DIR/writer.lock`)
 * and made durable with `fdatasync` per committed group. Readers read it
 * one unit at a time with positioned reads, so a file that grows gives
 * them more units later, and memory stays bounded by one segment.
 *
 * @module
 */

import { syncDirectory } from "../tape/mod.ts";
import { CommitQueue } from "./commit_queue.ts";
import type { SealedSink, SealedSource } from "./sealed_sink.ts";
import { LOCK_FILE, storeFilePath } from "./store_location.ts";
import { StoreLock, WriterProbe } from "./store_lock.ts";
import { scanStore, type StoreState, StoreWalker, type UnitSource } from "./store_scan.ts";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const ZERO_CHUNK = 64 * 1024;

/**
 * The units of a store file, read with positioned reads from an open
 * file. Positions are byte offsets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileUnits } from "./file_store.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.writeFileSync(path, new Uint8Array([1, 2, 0, 0]));
 * using file = Deno.openSync(path);
 * const units = new FileUnits(file, path);
 * assert.deepEqual([...units.read(1, 10)], [2, 0, 0]);
 * assert.equal(units.end(), 4);
 * assert.equal(units.zeroFrom(2), true);
 * assert.equal(units.zeroFrom(1), false);
 * Deno.removeSync(path);
 * ```
 */
export class FileUnits implements UnitSource {
  /** The store file, for messages. */
  readonly path: string;
  /** A file's end can hold a unit cut short. */
  readonly tearable = true;
  readonly #file: Deno.FsFile;

  /** Units of the open `file` (which the caller closes), named `path` in messages. */
  constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.path = path;
  }

  /**
   * Up to `length` bytes at byte offset `position`, fewer at the end of the
   * file; read into `buffer(n)` when given, else into a new buffer.
   */
  read(
    position: number,
    length: number,
    buffer?: (length: number) => Uint8Array<ArrayBuffer>,
  ): Uint8Array {
    // Sized by what the file holds, so a length claimed by a torn header
    // costs no more memory than the bytes there are.
    const count = Math.max(0, Math.min(length, this.end() - position));
    const bytes = buffer === undefined ? new Uint8Array(count) : buffer(count);
    this.#file.seekSync(position, Deno.SeekMode.Start);
    let got = 0;
    while (got < count) {
      const n = this.#file.readSync(bytes.subarray(got, count));
      if (n === null || n === 0) break;
      got += n;
    }
    return bytes.subarray(0, got);
  }

  /** The byte offset after the unit. */
  after(position: number, length: number): number {
    return position + length;
  }

  /** The file's size. */
  end(): number {
    return this.#file.statSync().size;
  }

  /** Whether the file holds only zero bytes from `position` on. */
  zeroFrom(position: number): boolean {
    for (let at = position;; at += ZERO_CHUNK) {
      const chunk = this.read(at, ZERO_CHUNK);
      if (chunk.some((b) => b !== 0)) return false;
      if (chunk.length < ZERO_CHUNK) return true;
    }
  }

  /** Units of a file have no key beside their offset. */
  keyAt(): undefined {
    return undefined;
  }
}

/**
 * The writer's side of a file store: holds the lock, and appends committed
 * groups of units, unit after unit, and `fdatasync` each group.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileSink } from "./file_store.ts";
 * const dir = `${Deno.makeTempDirSync()}/store`;
 * const sink = await FileSink.open(dir);
 * assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
 * assert.equal(Deno.statSync(`${dir}/stream.sealed`).mode! & 0o777, 0o600);
 * await assert.rejects(FileSink.open(dir), { name: "SealedLockedError" });
 * sink.close();
 * (await FileSink.open(dir)).close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class FileSink implements SealedSink {
  /** The store file, for messages. */
  readonly path: string;
  /** What the walk at open found; a torn tail it found is cut. */
  readonly state: StoreState;
  readonly #file: Deno.FsFile;
  readonly #lock: StoreLock;
  readonly #commits: CommitQueue<Uint8Array>;
  #end: number;

  private constructor(path: string, file: Deno.FsFile, lock: StoreLock, state: StoreState) {
    this.path = path;
    this.#file = file;
    this.#lock = lock;
    this.state = state;
    this.#end = state.endOffset;
    this.#commits = new CommitQueue(path, (units) => this.#append(units));
  }

  /**
   * Opens the store in `dir` for writing: creates `dir` (`0700`) and
   * `stream.sealed` (`0600`) when missing, never changing the mode of what
   * exists; takes the lock; walks the units; cuts a torn tail.
   *
   * @throws {import("./store_lock.ts").SealedLockedError} when another writer holds the lock.
   * @throws {import("./sealed_errors.ts").SealedDamageError} when the store is damaged before its end.
   * @throws {import("./sealed_errors.ts").SealedFormatError} when the file is not a sealed store.
   * @throws {TypeError} when `dir` or its `stream.sealed` is not what it should be.
   */
  static open(dir: string): Promise<FileSink> {
    return Promise.resolve().then(() => FileSink.#open(dir));
  }

  static #open(dir: string): FileSink {
    const path = storeFilePath(dir);
    makeDirectory(dir);
    const lock = StoreLock.acquire(`${dir}/${LOCK_FILE}`, { writePid: true });
    let file: Deno.FsFile | undefined;
    try {
      file = openStoreFile(path, dir);
      const state = scanStore(new FileUnits(file, path), { checksums: "last-run" });
      if (state.tornBytes > 0) file.truncateSync(state.endOffset);
      return new FileSink(path, file, lock, state);
    } catch (error) {
      file?.close();
      lock.release();
      throw error;
    }
  }

  /** Queues a unit for the next commit (run and index are a SQLite store's key). */
  add(unit: Uint8Array, _run: number, _index: number): void {
    this.#commits.add(unit);
  }

  /** Appends the queued units one after another, then `fdatasync`. */
  commit(): Promise<void> {
    return this.#commits.commit();
  }

  /** Releases the lock and closes the file. */
  close(): void {
    if (!this.#commits.close()) return;
    this.#file.close();
    this.#lock.release();
  }

  async #append(units: Uint8Array[]): Promise<void> {
    let end = this.#end;
    try {
      this.#file.seekSync(end, Deno.SeekMode.Start);
      // One write a unit, back to back: joining them first would copy the group.
      for (const unit of units) {
        for (let done = 0; done < unit.length;) {
          done += await this.#file.write(unit.subarray(done));
        }
        end += unit.length;
      }
      await this.#file.syncData();
      this.#end = end;
    } catch (error) {
      // Cut what this group left, so no part of it stays before a later
      // writer's units; if that fails too, the next open cuts it as torn.
      try {
        this.#file.truncateSync(this.#end);
      } catch { /* the next open cuts it */ }
      throw error;
    }
  }
}

/**
 * Opens the file store in `dir` for reading.
 *
 * @throws {Deno.errors.NotFound} when `dir` holds no `stream.sealed`.
 * @throws {TypeError} when `stream.sealed` is not a regular file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFileSource } from "./file_store.ts";
 * const dir = Deno.makeTempDirSync();
 * await assert.rejects(openFileSource(dir), Deno.errors.NotFound);
 * Deno.writeFileSync(`${dir}/stream.sealed`, new Uint8Array(0));
 * const source = await openFileSource(dir);
 * assert.equal(source.walker.next(), undefined);
 * assert.equal(source.writerActive(), false);
 * source.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function openFileSource(dir: string): Promise<SealedSource> {
  const path = storeFilePath(dir);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(`No sealed store in '${dir}': '${path}' does not exist`);
  }
  // Opening a FIFO put there would block; only a regular file is read.
  if (!info.isFile) throw new TypeError(`Sealed store '${path}' is not a regular file`);
  const file = await Deno.open(path, { read: true });
  const probe = WriterProbe.open(`${dir}/${LOCK_FILE}`);
  const units = new FileUnits(file, path);
  return {
    path,
    units,
    walker: new StoreWalker(units),
    writerActive: () => probe.active(),
    close: () => {
      file.close();
      probe.close();
    },
  };
}

function makeDirectory(dir: string): void {
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.statSync(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (info === undefined) {
    Deno.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    syncDirectory(`${dir}/..`);
  } else if (!info.isDirectory) {
    throw new TypeError(`Sealed store '${dir}' is not a directory`);
  }
}

function openStoreFile(path: string, dir: string): Deno.FsFile {
  try {
    const file = Deno.openSync(path, { read: true, write: true, createNew: true, mode: FILE_MODE });
    syncDirectory(dir);
    return file;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  // An existing file: opened without create, so its mode is never touched,
  // and only a regular file (a FIFO would block or never end).
  if (!Deno.statSync(path).isFile) {
    throw new TypeError(`Sealed store '${path}' is not a regular file`);
  }
  return Deno.openSync(path, { read: true, write: true });
}
