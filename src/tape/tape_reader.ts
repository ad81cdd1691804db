/**
 * Reads a tape from disk: checks that the file is a tape, then streams its
 * records with bounded memory, skipping (or, strictly, refusing) bad lines.
 *
 * @module
 */

import { ioReason } from "./io_reason.ts";
import { LineSplitter, MAX_LINE_BYTES } from "./line_splitter.ts";
import { memberValueText } from "../json/mod.ts";
import { RecordParser, type TapeReadOptions } from "./record_parser.ts";
import { TapeFormatError } from "./tape_format_error.ts";
import type { FrameRecord, InitRecord, TapeRecord } from "./types.ts";

export type { TapeReadOptions, TapeWarning, TapeWarningKind } from "./record_parser.ts";

/**
 * Bytes read per system call while streaming a tape: few enough calls that
 * their cost (a thread hop each) stays small.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { READ_CHUNK_BYTES } from "./tape_reader.ts";
 * assert.equal(READ_CHUNK_BYTES, 262144);
 * ```
 */
export const READ_CHUNK_BYTES = 256 * 1024;

/**
 * Bytes decoded and split at once. Kept well under the read size: the text
 * of a slice stays alive while its records are handed out, and smaller
 * slices let it die young in V8's nursery instead of growing the heap
 * (64 KiB slices cost about 8 MiB more peak memory than 32 KiB ones).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FEED_BYTES, READ_CHUNK_BYTES } from "./tape_reader.ts";
 * assert.equal(READ_CHUNK_BYTES / FEED_BYTES, 8);
 * ```
 */
export const FEED_BYTES = 32 * 1024;

/**
 * Why a tape file could not be opened.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tapeOpenError, type TapeOpenFailure } from "./tape_reader.ts";
 * const failure: TapeOpenFailure = tapeOpenError("x.jsonl", new Deno.errors.NotFound("gone")).failure;
 * assert.equal(failure, "not-found");
 * ```
 */
export type TapeOpenFailure =
  | "not-found"
  | "permission-denied"
  | "is-directory"
  | "other";

/**
 * A tape file that cannot be opened at all: missing, unreadable, or a
 * directory. The message is one line naming the file, e.g.
 * `Cannot open tape 'x.jsonl': no such file or directory`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeOpenError, TapeReader } from "./tape_reader.ts";
 * await assert.rejects(
 *   TapeReader.open("/nonexistent/x.jsonl"),
 *   (e) => e instanceof TapeOpenError && e.failure === "not-found" &&
 *     e.message === "Cannot open tape '/nonexistent/x.jsonl': no such file or directory",
 * );
 * ```
 */
export class TapeOpenError extends Error {
  /** The file that could not be opened. */
  readonly path: string;
  /** What kind of failure it was. */
  readonly failure: TapeOpenFailure;

  /** Builds the error. */
  constructor(path: string, failure: TapeOpenFailure, reason: string, options?: ErrorOptions) {
    super(`Cannot open tape '${path}': ${reason}`, options);
    this.name = "TapeOpenError";
    this.path = path;
    this.failure = failure;
  }
}

/**
 * Turns the error of a failed open, read or stat into a {@linkcode TapeOpenError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tapeOpenError } from "./tape_reader.ts";
 * assert.equal(
 *   tapeOpenError("x.jsonl", new Deno.errors.NotFound("gone")).message,
 *   "Cannot open tape 'x.jsonl': no such file or directory",
 * );
 * ```
 */
export function tapeOpenError(path: string, error: unknown): TapeOpenError {
  if (error instanceof TapeOpenError) return error;
  const failure: TapeOpenFailure = error instanceof Deno.errors.NotFound
    ? "not-found"
    : error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
    ? "permission-denied"
    : error instanceof Deno.errors.IsADirectory
    ? "is-directory"
    : "other";
  return new TapeOpenError(path, failure, ioReason(error), { cause: error });
}

/**
 * Opens a tape file read-only (never locking it, so a writer is never held
 * up) and checks it is a regular file. Errors are {@linkcode TapeOpenError}s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openTapeFile } from "./tape_reader.ts";
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(openTapeFile(dir), { message: `Cannot open tape '${dir}': is a directory` });
 * await Deno.remove(dir);
 * ```
 */
export async function openTapeFile(path: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw tapeOpenError(path, e);
  }
  try {
    // Linux lets a directory be opened read-only; only reads would fail.
    const info = await file.stat();
    if (info.isDirectory) throw new TapeOpenError(path, "is-directory", "is a directory");
  } catch (e) {
    file.close();
    throw tapeOpenError(path, e);
  }
  return file;
}

/**
 * Where a read of a tape stopped: the start of the first line it did not
 * read (a partial last line is not read), that line's number, the
 * sequence number of the last frame before it, and whether the tape's final
 * checkpoint was read. A follow can pick up from here without reading the
 * tape again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeReader, type TapePosition } from "./tape_reader.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}\n');
 * {
 *   using reader = await TapeReader.open(path);
 *   const records = reader.records();
 *   assert.deepEqual(await Array.fromAsync(records), []); // nothing after init
 *   const position: TapePosition = records.position;
 *   assert.equal(position.line, 2);
 *   assert.equal(position.lastSeq, 0);
 *   assert.equal(position.finalized, false);
 * }
 * await Deno.remove(path);
 * ```
 */
export interface TapePosition {
  /** Byte offset of the start of the first line not read. */
  offset: number;
  /** 1-based number of the first line not read. */
  line: number;
  /** Sequence number of the last frame before `offset`, 0 when there is none. */
  lastSeq: number;
  /** Whether a `checkpoint` with `final: true` was read: nothing more will be appended. */
  finalized: boolean;
}

/**
 * A frame with the exact text of its envelope as the tape holds it: the
 * `env` member's value, untouched, so integers past 2^53 or spellings such
 * as `1.0` survive (the parsed `frame.env` loses them). For a `text` frame
 * it is the JSON string literal, quotes and escapes included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RawFrame } from "./tape_reader.ts";
 * const raw: RawFrame = {
 *   frame: { type: "frame", seq: 1, ts: 0, dir: "s2c", env: { id: 1, result: 1 } },
 *   envText: '{"id":1,"result":1.0}',
 * };
 * assert.match(raw.envText, /"result":1\.0/);
 * ```
 */
export interface RawFrame {
  /** The frame, parsed. */
  frame: FrameRecord;
  /** The `env` member's value exactly as the tape's line spells it. */
  envText: string;
}

/**
 * The {@linkcode RawFrame} of a frame read from `line`, the text of its
 * line as the tape holds it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rawFrameOf } from "./tape_reader.ts";
 * const line = '{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":{"id":1,"result":1e2}}';
 * assert.equal(rawFrameOf(JSON.parse(line), line).envText, '{"id":1,"result":1e2}');
 * ```
 */
export function rawFrameOf(frame: FrameRecord, line: string): RawFrame {
  // A line that parsed as a frame has an env member, so the scan finds it.
  return { frame, envText: memberValueText(line, "env") ?? JSON.stringify(frame.env) };
}

/**
 * A record with the exact text of its line as the tape holds it, without
 * the newline: what a program that prints records "as stored" prints
 * (re-serializing the parsed record would respell `1.0` as `1` and round
 * integers past 2^53).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordLine } from "./tape_reader.ts";
 * const line = '{"type":"frame","seq":1,"ts":0,"dir":"s2c","env":{"id":1,"result":1.0}}';
 * const entry: RecordLine = { record: JSON.parse(line), line };
 * assert.equal(entry.line.includes("1.0"), true);
 * assert.equal(JSON.stringify(entry.record).includes("1.0"), false);
 * ```
 */
export interface RecordLine {
  /** The record, parsed. */
  record: TapeRecord;
  /** The record's line as the tape holds it, without the newline. */
  line: string;
}

/**
 * The iterator of {@linkcode TapeReader.records}, {@linkcode TapeReader.frames},
 * {@linkcode TapeReader.rawFrames} and {@linkcode TapeReader.recordLines}: an
 * async iterator that also tells where it has got to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeReader, type TapeRecordIterator } from "./tape_reader.ts";
 * import type { FrameRecord } from "./types.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}\n');
 * {
 *   using reader = await TapeReader.open(path);
 *   const frames: TapeRecordIterator<FrameRecord> = reader.frames();
 *   assert.deepEqual(await Array.fromAsync(frames), []);
 *   assert.ok(frames.position.offset > 0);
 * }
 * await Deno.remove(path);
 * ```
 */
export interface TapeRecordIterator<T> extends AsyncIterableIterator<T> {
  /**
   * Where reading stopped, once the iteration has ended (before that, it may
   * lag behind the records already handed out).
   */
  readonly position: TapePosition;
}

/**
 * The init record of a tape, its line, and where the records after it start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openTapeFile, readTapeHead, type TapeHead } from "./tape_reader.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const line = '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}';
 * await Deno.writeTextFile(path, `${line}\n`);
 * {
 *   using file = await openTapeFile(path);
 *   const head: TapeHead | undefined = await readTapeHead(file, path);
 *   assert.equal(head?.init.tape_id, "t1");
 *   assert.equal(head?.line, line);
 *   assert.equal(head?.dataOffset, (await Deno.stat(path)).size);
 * }
 * await Deno.remove(path);
 * ```
 */
export interface TapeHead {
  /** The tape's init record, parsed and checked. */
  init: InitRecord;
  /** The init record's line as the file holds it, without the newline. */
  line: string;
  /** Byte offset just past the init line's newline (or the end of the file). */
  dataOffset: number;
}

/**
 * Reads and checks the first line of an open tape file, from its start.
 * Throws {@linkcode TapeFormatError} ("Not a tape …") for an empty file or a
 * first line that is not an `init` record. Returns `undefined` instead when
 * `incomplete` is `"wait"` and the first line has no newline yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openTapeFile, readTapeHead } from "./tape_reader.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"type":"init","version":1,"tape_id":"t1","session_id":"s",' +
 *   '"created_at":"2026-11-22T03:15:00Z","protocol_version":null}\n');
 * {
 *   using file = await openTapeFile(path);
 *   assert.equal((await readTapeHead(file, path))?.init.tape_id, "t1");
 * }
 * await Deno.remove(path);
 * ```
 */
export async function readTapeHead(
  file: Deno.FsFile,
  path: string,
  incomplete: "accept" | "wait" = "accept",
): Promise<TapeHead | undefined> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunk = new Uint8Array(64 * 1024);
  let first: Uint8Array | undefined;
  let tooLong = false;
  const splitter = new LineSplitter({
    maxLineBytes: MAX_LINE_BYTES,
    onOversize: () => tooLong ||= first === undefined,
  });
  const takeFirst = (run: Uint8Array) => {
    if (!tooLong) first ??= run.subarray(0, run.indexOf(0x0a) + 1);
  };
  for (;;) {
    let n: number | null;
    try {
      n = await file.read(chunk);
    } catch (e) {
      throw tapeOpenError(path, e);
    }
    if (n === null) break;
    splitter.pushRuns(chunk.subarray(0, n), takeFirst);
    // A first line over the limit is refused as soon as it is seen to be.
    if (tooLong || splitter.pending > MAX_LINE_BYTES) {
      throw new TapeFormatError("Not a tape: the first line is longer than the line limit", {
        path,
        line: 1,
        offset: 0,
      });
    }
    if (first !== undefined) return { ...parseHead(first, path), dataOffset: first.length };
  }
  const held = splitter.rest();
  if (held === undefined) {
    if (incomplete === "wait") return undefined;
    throw new TapeFormatError("Not a tape: the file is empty", { path });
  }
  if (incomplete === "wait") return undefined;
  // A writer killed right after creating the tape may leave the init line without its newline.
  return { ...parseHead(held, path), dataOffset: held.length };
}

function parseHead(line: Uint8Array, path: string): { init: InitRecord; line: string } {
  const parser = new RecordParser(path, { strict: true, keepLastLine: true });
  const withNewline = line[line.length - 1] === 0x0a ? line : new Uint8Array([...line, 0x0a]);
  const [record] = parser.push(withNewline);
  // RecordParser refuses a first line that is not an init record.
  return { init: record as InitRecord, line: parser.lastLine };
}

/**
 * A tape opened for reading. Opening checks the init record; iterating
 * streams the records after it in chunks of {@linkcode READ_CHUNK_BYTES}, so
 * a tape of any size is read in bounded memory. The file is only open while
 * an iteration runs, and always read-only: reading a tape that is being
 * recorded never slows its writer. A last line without its newline (the
 * writer is still writing it, or was killed) is not read and is reported
 * as a `partial-line` warning.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeReader } from "./tape_reader.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, [
 *   '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}',
 *   '{"type":"frame","seq":1,"ts":0.4,"dir":"c2s","env":{"jsonrpc":"2.0","id":1,"method":"ping"}}',
 *   "",
 * ].join("\n"));
 * {
 *   using reader = await TapeReader.open(path);
 *   assert.equal(reader.init.tape_id, "t1");
 *   const frames = await Array.fromAsync(reader.frames());
 *   assert.deepEqual(frames.map((frame) => [frame.seq, frame.dir]), [[1, "c2s"]]);
 * }
 * await Deno.remove(path);
 * ```
 */
export class TapeReader {
  /** Path the tape was opened with. */
  readonly path: string;
  /** The tape's first record. */
  readonly init: InitRecord;
  /** Byte offset of the first record after the init line. */
  readonly dataOffset: number;
  #options: TapeReadOptions;
  #iterations = new Set<{ stop(): void }>();
  #closed = false;

  private constructor(path: string, head: TapeHead, options: TapeReadOptions) {
    this.path = path;
    this.init = head.init;
    this.dataOffset = head.dataOffset;
    this.#options = options;
  }

  /**
   * Opens the tape at `path` and checks its init record. Throws
   * {@linkcode TapeOpenError} when the file cannot be opened (missing,
   * permission denied, a directory) and {@linkcode TapeFormatError} when it is
   * not a tape (empty, first line not JSON, first record not `init`).
   */
  static async open(path: string, options: TapeReadOptions = {}): Promise<TapeReader> {
    const file = await openTapeFile(path);
    try {
      const head = await readTapeHead(file, path, "accept");
      return new TapeReader(path, head!, { ...options });
    } finally {
      file.close();
    }
  }

  /**
   * Every record after the init record, in file order, streamed. Bad lines
   * and unknown record types are skipped with a warning (or, strict, end the
   * iteration with a {@linkcode TapeFormatError}); sequence gaps are warned
   * about. Each call reads the file again from the start.
   */
  records(): TapeRecordIterator<TapeRecord> {
    return this.#iterate<TapeRecord>(Select.Records);
  }

  /** The frame records of the tape, in order; see {@linkcode TapeReader.records}. */
  frames(): TapeRecordIterator<FrameRecord> {
    return this.#iterate<FrameRecord>(Select.Frames);
  }

  /**
   * The frames of the tape, each with the exact text of its envelope (see
   * {@linkcode RawFrame}); streamed, warned about and stopped like
   * {@linkcode TapeReader.frames}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeReader } from "./tape_reader.ts";
   * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
   * await Deno.writeTextFile(path, [
   *   '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}',
   *   '{"type":"frame","seq":1,"ts":0.4,"dir":"s2c","env":{"id":1,"result":12345678901234567890}}',
   *   "",
   * ].join("\n"));
   * {
   *   using reader = await TapeReader.open(path);
   *   const texts = (await Array.fromAsync(reader.rawFrames())).map((raw) => raw.envText);
   *   assert.deepEqual(texts, ['{"id":1,"result":12345678901234567890}']);
   * }
   * await Deno.remove(path);
   * ```
   */
  rawFrames(): TapeRecordIterator<RawFrame> {
    return this.#iterate<RawFrame>(Select.RawFrames);
  }

  /**
   * Every record after the init record with the exact text of its line (see
   * {@linkcode RecordLine}); streamed, warned about and stopped like
   * {@linkcode TapeReader.records}.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TapeReader } from "./tape_reader.ts";
   * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
   * const frame = '{"type":"frame","seq":1,"ts":0.4,"dir":"s2c","env":{"id":1,"result":1e2}}';
   * await Deno.writeTextFile(path, [
   *   '{"type":"init","version":1,"tape_id":"t1","session_id":"s","created_at":"2026-11-22T03:15:00Z","protocol_version":null}',
   *   frame,
   *   "",
   * ].join("\n"));
   * {
   *   using reader = await TapeReader.open(path);
   *   const lines = [];
   *   for await (const { line } of reader.recordLines()) lines.push(line);
   *   assert.deepEqual(lines, [frame]);
   * }
   * await Deno.remove(path);
   * ```
   */
  recordLines(): TapeRecordIterator<RecordLine> {
    return this.#iterate<RecordLine>(Select.RecordLines);
  }

  /** Stops every iteration in progress and closes their files. */
  close(): void {
    this.#closed = true;
    for (const iteration of this.#iterations) iteration.stop();
    this.#iterations.clear();
  }

  /** Same as {@linkcode TapeReader.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #iterate<T>(select: Select): TapeRecordIterator<T> {
    const iteration = new RecordIteration<T>(
      this.path,
      this.dataOffset,
      this.#options,
      select,
      () => this.#iterations.delete(iteration),
    );
    if (this.#closed) iteration.stop();
    else this.#iterations.add(iteration);
    return iteration;
  }
}

/** What an iteration hands out. */
const enum Select {
  Records,
  Frames,
  RawFrames,
  RecordLines,
}

/**
 * One pass over a tape's records. Hand-written rather than an async
 * generator: each record is parsed when it is asked for and handed over in
 * an already resolved promise, several times cheaper per record than
 * resuming a generator (a tape has millions of records), and only one
 * parsed record is alive at a time, which keeps the garbage collector's
 * nursery small.
 */
class RecordIteration<T> implements TapeRecordIterator<T> {
  #path: string;
  #offset: number;
  #options: TapeReadOptions;
  #select: Select;
  #onDone: () => void;
  #file: Deno.FsFile | undefined;
  #parser: RecordParser | undefined;
  #buffer: Uint8Array | undefined;
  /** Bytes in the buffer from the last read, and how many of them the parser has. */
  #read = 0;
  #fed = 0;
  #done = false;
  #filling: Promise<boolean> | undefined;

  constructor(
    path: string,
    offset: number,
    options: TapeReadOptions,
    select: Select,
    onDone: () => void,
  ) {
    this.#path = path;
    this.#offset = offset;
    this.#options = options;
    this.#select = select;
    this.#onDone = onDone;
  }

  [Symbol.asyncIterator](): TapeRecordIterator<T> {
    return this;
  }

  get position(): TapePosition {
    const parser = this.#parser;
    if (parser === undefined) {
      return { offset: this.#offset, line: 2, lastSeq: 0, finalized: false };
    }
    return {
      offset: parser.offset,
      line: parser.line,
      lastSeq: parser.lastSeq,
      finalized: parser.sawFinal,
    };
  }

  next(): Promise<IteratorResult<T>> {
    const parser = this.#parser;
    if (parser !== undefined && !this.#done) {
      try {
        for (;;) {
          for (let record = parser.next(); record !== undefined; record = parser.next()) {
            if (this.#select === Select.Records) {
              return Promise.resolve({ value: record as T, done: false });
            }
            if (this.#select === Select.RecordLines) {
              const entry: RecordLine = { record, line: parser.lastLine };
              return Promise.resolve({ value: entry as T, done: false });
            }
            if (record.type !== "frame") continue;
            if (this.#select === Select.Frames) {
              return Promise.resolve({ value: record as T, done: false });
            }
            const raw = rawFrameOf(record, parser.lastLine);
            return Promise.resolve({ value: raw as T, done: false });
          }
          if (this.#fed >= this.#read) break;
          this.#feedSlice(parser);
        }
      } catch (e) {
        this.stop();
        return Promise.reject(e);
      }
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    // A caller that does not wait for one result before asking for the next still gets them in order.
    this.#filling ??= this.#fill().finally(() => this.#filling = undefined);
    return this.#filling.then((more) => more ? this.next() : { value: undefined, done: true });
  }

  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Hands the parser the next slice of what was read. Its lines are parsed
   * one by one as they are asked for, so only one record is alive at a time.
   */
  #feedSlice(parser: RecordParser): void {
    const end = Math.min(this.#fed + FEED_BYTES, this.#read);
    parser.feed(this.#buffer!.subarray(this.#fed, end));
    this.#fed = end;
  }

  /** Ends the iteration and closes its file. */
  stop(): void {
    this.#done = true;
    const file = this.#file;
    this.#file = undefined;
    try {
      file?.close();
    } catch {
      // Already closed.
    }
    this.#onDone();
  }

  /** Reads the next chunk into the parser; false at the end of the file. */
  async #fill(): Promise<boolean> {
    try {
      if (this.#parser === undefined) {
        const file = await openTapeFile(this.#path);
        if (this.#done) {
          file.close();
          return false;
        }
        this.#file = file;
        await file.seek(this.#offset, Deno.SeekMode.Start);
        this.#parser = new RecordParser(this.#path, {
          ...this.#options,
          firstLine: 2,
          firstOffset: this.#offset,
          keepLastLine: this.#select === Select.RawFrames || this.#select === Select.RecordLines,
        });
        this.#buffer = new Uint8Array(READ_CHUNK_BYTES);
      }
      const file = this.#file;
      if (this.#done || file === undefined) return false;
      let n: number | null;
      try {
        n = await file.read(this.#buffer!);
      } catch (e) {
        // close() while a read was under way ends the iteration quietly.
        if (this.#done) return false;
        throw tapeOpenError(this.#path, e);
      }
      if (n === null) {
        this.#parser.end();
        this.stop();
        return false;
      }
      this.#read = n;
      this.#fed = 0;
      this.#feedSlice(this.#parser);
      return true;
    } catch (e) {
      this.stop();
      throw e;
    }
  }
}
