/**
 * Follows a tape as it is written, like `tail -F`: the records already in the
 * file, then each new one as soon as its line is complete.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { metaPathFor, readMeta } from "./meta_file.ts";
import { printWarning, RecordParser, type TapeReadOptions } from "./record_parser.ts";
import {
  FEED_BYTES,
  openTapeFile,
  READ_CHUNK_BYTES,
  readTapeHead,
  type RecordLine,
  TapeOpenError,
  type TapePosition,
} from "./tape_reader.ts";
import { TapeFormatError } from "./tape_format_error.ts";
import type { TapeRecord } from "./types.ts";

/**
 * How a tape is followed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FollowOptions, followTape } from "./tape_follower.ts";
 * const dir = await Deno.makeTempDir();
 * // Wait for a tape that is not recorded yet, keep following it, give up after 100 ms.
 * const options: FollowOptions = { waitForFile: true, untilFinalized: false, signal: AbortSignal.timeout(100) };
 * const records = await Array.fromAsync(followTape(`${dir}/later.jsonl`, options));
 * assert.deepEqual(records, []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface FollowOptions extends TapeReadOptions {
  /** Stops following promptly: the iteration ends and its files and watchers are closed. */
  signal?: AbortSignal;
  /**
   * Whether following ends once the tape is finished: after its final
   * checkpoint, or when its meta file says `finalized` (or `error`) and no
   * more data follows. Default `true`; `false` follows until aborted.
   */
  untilFinalized?: boolean;
  /**
   * Milliseconds between checks of the file when no file-system
   * notification arrives; notifications make new lines show up sooner.
   * Default 250.
   */
  pollIntervalMs?: number;
  /**
   * Waits for a tape that does not exist yet instead of failing with
   * "no such file or directory" (like `tail -F`). Default `false`.
   */
  waitForFile?: boolean;
  /**
   * Whether to use file-system notifications. Default `true`; `false` polls
   * only, for file systems that do not report changes (some network mounts).
   */
  watch?: boolean;
  /**
   * Where to pick up: the {@linkcode TapeRecordIterator.position} of a
   * finished `TapeReader` pass, so the records already read are not read
   * again. The init record is still checked and yielded first. If the file
   * is by then shorter than `from.offset` it is read from its start, like
   * any truncated file. If the pass read the final checkpoint
   * (`from.finalized`) and `untilFinalized` holds, the follow ends at once
   * without yielding anything: the tape is complete.
   */
  from?: TapePosition;
}

/** Default of {@linkcode FollowOptions.pollIntervalMs}. */
const DEFAULT_POLL_INTERVAL_MS = 250;

/**
 * Follows the tape at `path`: yields every record from the start of the
 * file, the `init` record first, then each record appended later, as soon
 * as its line's newline is written. A line written in pieces is held until
 * it is complete and yielded exactly once.
 *
 * Like `tail -F`, it survives the file being truncated (reading restarts at
 * its start, with a `truncated` warning) or replaced by a new file at the
 * same path (the rest of the old file is read, then the new one from its
 * start, with a `replaced` warning); either way the new file's `init`
 * record is yielded again. A tape deleted (a `deleted` warning), or
 * replaced or overwritten by a file that is not a tape (a `not-a-tape`
 * warning, once per file), is waited out until a tape is at the path
 * again. New data is noticed through file-system
 * notifications on the tape's directory, with polling as a fallback.
 *
 * The iteration ends after the tape's final checkpoint, or when the meta
 * file says the recording is over and no more data follows (unless
 * `untilFinalized` is `false`), or as soon as `signal` aborts (without an
 * error). A file that is not a tape ends it with a `TapeFormatError`; a
 * missing or unreadable file with a `TapeOpenError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { followTape } from "./tape_follower.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * const types: string[] = [];
 * const done = (async () => {
 *   // Ends by itself at the final checkpoint that finalize writes.
 *   for await (const record of followTape(writer.path)) types.push(record.type);
 * })();
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", method: "ping" } });
 * await writer.finalize();
 * await done;
 * assert.deepEqual(types, ["init", "frame", "checkpoint"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function followTape(
  path: string,
  options: FollowOptions = {},
): AsyncIterableIterator<TapeRecord> {
  return follow(path, options, (record) => record);
}

/**
 * Follows a tape like {@linkcode followTape}, yielding each record with
 * the exact text of its line (see {@linkcode RecordLine}), for programs
 * that print records as stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { followTapeLines } from "./tape_follower.ts";
 * import { TapeWriter } from "./tape_writer.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { id: 1, method: "ping" }, envJson: '{"id":1.0,"method":"ping"}' });
 * await writer.finalize();
 * const lines: string[] = [];
 * for await (const { record, line } of followTapeLines(writer.path)) {
 *   if (record.type === "frame") lines.push(line);
 * }
 * assert.equal(lines.length, 1);
 * assert.match(lines[0]!, /"env":\{"id":1\.0,"method":"ping"\}/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function followTapeLines(
  path: string,
  options: FollowOptions = {},
): AsyncIterableIterator<RecordLine> {
  return follow(path, { ...options, keepLastLine: true }, (record, line) => ({ record, line }));
}

async function* follow<T>(
  path: string,
  options: FollowOptions & { keepLastLine?: boolean },
  take: (record: TapeRecord, line: string) => T,
): AsyncGenerator<T> {
  const signal = options.signal;
  if (signal?.aborted) return;
  const untilFinalized = options.untilFinalized ?? true;
  // The pass that produced `from` already read the final checkpoint: nothing more will come,
  // and a fresh parser starting after it would never see it again.
  if (untilFinalized && options.from?.finalized === true) return;
  const pollMs = Math.max(1, options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  const onWarning = options.onWarning ?? printWarning;
  const metaPath = path.endsWith(".jsonl") ? metaPathFor(path) : undefined;
  const wakeup = new FollowWakeup(path, metaPath, signal, options.watch ?? true);
  let file: Deno.FsFile | undefined;
  try {
    let parser = new RecordParser(path, { ...options, onWarning });
    const buffer = new Uint8Array(READ_CHUNK_BYTES);
    let position = 0;
    let identity: string | undefined;
    let metaCheckedAt = -Infinity;

    const from = options.from;
    // A tape a reader has read is deleted if it is missing now: waited for, like `tail -F`.
    const seen = from !== undefined && from.offset > 0;
    let deleted = false;
    // Wait for the file, if asked to; open errors other than a missing file are final.
    while (file === undefined) {
      try {
        file = await openTapeFile(path);
      } catch (e) {
        const missing = e instanceof TapeOpenError && e.failure === "not-found";
        if (!missing || !(options.waitForFile || seen)) throw e;
        if (seen && !deleted) warn(onWarning, "deleted", path, from);
        deleted ||= seen;
        await wakeup.wait(pollMs);
        if (signal?.aborted) return;
      }
    }
    identity = fileIdentity(await file.stat());

    // Picking up where a reader stopped: check and yield the init, then skip to the position.
    // A file made after the tape was deleted is another tape, read from its start.
    if (seen && !deleted) {
      // Overwritten by something else since the reader's pass: the loop below waits that out.
      const head = await readTapeHead(file, path, "wait").catch((e) => {
        if (e instanceof TapeFormatError) return "not-a-tape" as const;
        throw e;
      });
      if (head === "not-a-tape" || (head !== undefined && from.offset >= head.dataOffset)) {
        if (head !== "not-a-tape") yield take(head.init, head.line);
        if (signal?.aborted) return;
        // A file shorter by now was truncated: the loop below finds that out and starts over.
        await file.seek(from.offset, Deno.SeekMode.Start);
        parser = new RecordParser(path, {
          ...options,
          onWarning,
          firstLine: from.line,
          firstOffset: from.offset,
          lastSeq: from.lastSeq,
        });
        position = from.offset;
      } else {
        await file.seek(0, Deno.SeekMode.Start);
      }
    }

    // Set once the meta file says the recording is over: one more read, then stop.
    let finishing = false;
    // The file was truncated and what is in it now is no tape (yet): nothing is read until it is.
    let stalled = false;
    // The path's file that was last told to be no tape, so it is told once, not at every look.
    let toldNotTape: string | undefined;
    for (;;) {
      // Read everything there is; a held partial line waits for its newline.
      let more = false;
      while (!stalled) {
        // Synchronous: on a local file a read takes microseconds, and an async
        // one would add a hop through the runtime's thread pool to every write.
        const n = file.readSync(buffer);
        if (n === null) break;
        more = true;
        position += n;
        // Slices, parsed record by record: see FEED_BYTES in tape_reader.ts.
        for (let at = 0; at < n; at += FEED_BYTES) {
          parser.feed(buffer.subarray(at, Math.min(at + FEED_BYTES, n)));
          for (let record = parser.next(); record !== undefined; record = parser.next()) {
            yield take(record, parser.lastLine);
            if (signal?.aborted) return;
          }
        }
        if (untilFinalized && parser.sawFinal) return;
      }
      if (signal?.aborted) return;
      if (finishing) {
        if (!more) {
          parser.end();
          return;
        }
        // More came after all: look again once it is read.
        finishing = false;
        metaCheckedAt = -Infinity;
      }

      // Deleted: told once; the old file is still read, and a tape made at the path is followed.
      const current = statIdentity(path);
      if (current === undefined && !deleted) warn(onWarning, "deleted", path, parser);
      deleted = current === undefined;

      // Replaced: the path names another file now. Restart on it once the old one is read,
      // when it is a tape: anything else is waited out, as `tail -F` waits.
      if (current !== undefined && current !== identity) {
        const next = await openReplacement(path);
        const head = next === undefined ? "missing" : await headOf(next, path);
        if (head === "tape") {
          parser.end();
          warn(onWarning, "replaced", path, parser);
          file.close();
          file = next!;
          identity = fileIdentity(await file.stat());
          parser.reset();
          position = 0;
          stalled = false;
          continue;
        }
        next?.close();
        if (head === "not-a-tape" && toldNotTape !== current) {
          toldNotTape = current;
          warn(onWarning, "not-a-tape", path, parser);
        }
      }

      // Truncated: the file is now shorter than what was read. Start over once it is a tape.
      const size = file.statSync().size;
      if (stalled || size < position) {
        const head = await headOf(file, path);
        if (head === "tape") {
          if (!stalled) warn(onWarning, "truncated", path, parser);
          parser.reset();
          position = 0;
          stalled = false;
          toldNotTape = undefined;
          continue;
        }
        stalled = true;
        if (head === "not-a-tape" && toldNotTape !== identity) {
          toldNotTape = identity;
          warn(onWarning, "not-a-tape", path, parser);
        }
      }

      // Over: the meta file says the recording ended, and all its data has been read.
      // The meta is read when it changed or once per poll interval, not on every write.
      const checkMeta = untilFinalized && metaPath !== undefined &&
        (wakeup.takeMetaChanged() || performance.now() - metaCheckedAt >= pollMs);
      if (checkMeta) metaCheckedAt = performance.now();
      if (checkMeta && await isOver(metaPath)) {
        // The writer writes its last records before it marks the meta; read them first.
        finishing = true;
        continue;
      }

      await wakeup.wait(pollMs);
      if (signal?.aborted) return;
    }
  } finally {
    file?.close();
    await wakeup.close();
  }
}

function warn(
  onWarning: NonNullable<TapeReadOptions["onWarning"]>,
  kind: "truncated" | "replaced" | "deleted" | "not-a-tape",
  path: string,
  at: { readonly line: number; readonly offset: number },
): void {
  const where = `after line ${at.line - 1} (byte ${at.offset})`;
  const messages = {
    truncated: `Tape '${path}' was truncated ${where}, reading it again from the start`,
    replaced:
      `Tape '${path}' was replaced by a new file ${where}, reading the new file from the start`,
    deleted: `Tape '${path}' was deleted ${where}; waiting for a tape at this path`,
    "not-a-tape":
      `Tape '${path}' was replaced by a file that is not a tape ${where}; waiting for a tape at this path`,
  };
  onWarning({ kind, path, line: at.line, offset: at.offset, message: messages[kind] });
}

/** The file now at the path, or undefined when it went again between the stat and the open. */
async function openReplacement(path: string): Promise<Deno.FsFile | undefined> {
  try {
    return await openTapeFile(path);
  } catch (e) {
    if (e instanceof TapeOpenError && e.failure === "not-found") return undefined;
    // A directory at the path is no tape either: it is waited out like one.
    if (e instanceof TapeOpenError && e.failure === "is-directory") return undefined;
    throw e;
  }
}

/**
 * Whether a file holds a tape: its first line is an init record (`tape`),
 * is something else (`not-a-tape`), or is not complete yet (`incomplete`).
 * Leaves the file at its start.
 */
async function headOf(
  file: Deno.FsFile,
  path: string,
): Promise<"tape" | "not-a-tape" | "incomplete"> {
  try {
    return (await readTapeHead(file, path, "wait")) === undefined ? "incomplete" : "tape";
  } catch (e) {
    if (e instanceof TapeFormatError) return "not-a-tape";
    throw e;
  } finally {
    await file.seek(0, Deno.SeekMode.Start);
  }
}

function fileIdentity(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

function statIdentity(path: string): string | undefined {
  try {
    return fileIdentity(Deno.statSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function isOver(metaPath: string): Promise<boolean> {
  try {
    const meta = await readMeta(metaPath);
    return meta.status === "finalized" || meta.status === "error";
  } catch {
    // No meta file (yet), or one being replaced: the tape is not known to be over.
    return false;
  }
}

/**
 * Wakes the follower when the tape or its meta file changes (file-system
 * notifications on their directory), when the poll interval passes, or when
 * the signal aborts.
 */
class FollowWakeup {
  #names: Set<string>;
  #signal: AbortSignal | undefined;
  #watcher: Deno.FsWatcher | undefined;
  #watching: Promise<void> | undefined;
  #pending = false;
  #resolve: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onAbort = () => this.#notify();
  #metaName: string | undefined;
  #metaChanged = false;

  /** Whether the meta file changed since the last call. */
  takeMetaChanged(): boolean {
    const changed = this.#metaChanged;
    this.#metaChanged = false;
    return changed;
  }

  constructor(
    path: string,
    metaPath: string | undefined,
    signal: AbortSignal | undefined,
    watch: boolean,
  ) {
    this.#names = new Set([basename(path)]);
    if (metaPath !== undefined) {
      this.#metaName = basename(metaPath);
      this.#names.add(this.#metaName);
    }
    this.#signal = signal;
    signal?.addEventListener("abort", this.#onAbort);
    if (!watch) return;
    try {
      // The directory, not the file: a watch on the file would miss its replacement.
      this.#watcher = Deno.watchFs(dirname(resolve(path)), { recursive: false });
    } catch {
      // No notifications (missing directory, watch limits): polling alone still works.
      return;
    }
    this.#watching = this.#watch(this.#watcher);
  }

  async #watch(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        for (const p of event.paths) {
          const name = basename(p);
          if (name === this.#metaName) this.#metaChanged = true;
          if (this.#names.has(name)) {
            this.#notify();
            break;
          }
        }
      }
    } catch {
      // The watch broke; polling carries on.
    }
  }

  #notify(): void {
    this.#pending = true;
    const resolve = this.#resolve;
    if (resolve !== undefined) {
      this.#resolve = undefined;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#pending = false;
      resolve();
    }
  }

  /** Resolves after a change, `ms` milliseconds, or an abort, whichever comes first. */
  wait(ms: number): Promise<void> {
    if (this.#pending || this.#signal?.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#resolve = undefined;
        resolve();
      }, ms);
    });
  }

  async close(): Promise<void> {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
    try {
      this.#watcher?.close();
    } catch {
      // Already closed.
    }
    await this.#watching;
  }
}
