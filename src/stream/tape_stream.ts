/**
 * A tape's frames read through the stream API, finished or still being
 * recorded. Tapes are read asynchronously: `wait()` reads ahead, and
 * `next()` hands out what was read ahead, never waiting.
 *
 * @module
 */

import {
  followTapeLines,
  type RawFrame,
  rawFrameOf,
  type RecordLine,
  TapeReader,
  type TapeRecordIterator,
} from "../tape/mod.ts";
import type { StreamMessage } from "./stream_message.ts";
import { waitingIterator } from "./_wait_iterator.ts";
import type { StreamKind, StreamReader } from "./stream_reader.ts";
import { frameToMessage, tapeEpochNs } from "./tape_message.ts";

/** Options of {@linkcode TapeStream.open}. */
export interface TapeStreamOptions {
  /** Only the last this many frames (then, when following, every new one). */
  last?: number;
  /** Keep reading frames as they are recorded. */
  follow?: boolean;
  /** With `follow`: go on after the recording is finalized, until `signal` aborts. */
  forever?: boolean;
  /** Ends following. */
  signal?: AbortSignal;
}

const TIMED_OUT = Symbol("timed out");
const NOT_READY = Symbol("not ready");
const NOT_READY_YET = Promise.resolve(NOT_READY);
// Frames a wait() takes ahead at most, beyond the one it waits for: the
// stream holds a bounded number of frames its caller has not asked for.
const READ_AHEAD = 256;

/**
 * A {@linkcode StreamReader} over a tape's frames, mapped to messages as
 * {@linkcode frameToMessage} says, each payload the envelope's text exactly as
 * the tape holds it, whether read from a finished tape or while following.
 *
 * `wait()` reads the next frame and, from a finished part of the tape,
 * every frame the tape reader already has in memory (up to 256), so
 * `next()` returns each of them at once. Opening a tape that is not
 * followed reads its first frames ahead the same way. `next()` returns
 * undefined only when nothing is read ahead, and then `wait()` reads more. A tape has no
 * committed position, no wait strategy and no wait on the calling thread
 * (it reads its file asynchronously): it is not {@linkcode Committable},
 * {@linkcode WaitConfigurable} or {@linkcode SyncWaitable}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { TapeStream } from "./tape_stream.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
 * await writer.finalize();
 * const stream = await TapeStream.open(writer.path);
 * assert.equal(stream.next()?.seq, 1); // read ahead by open
 * assert.equal(stream.next()?.seq, 2);
 * assert.equal(stream.next(), undefined);
 * assert.equal(await stream.wait(), false); // the end of the tape
 * stream.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TapeStream implements StreamReader {
  /** The tape's path. */
  readonly location: string;
  /** Always `tape`. */
  readonly kind: StreamKind = "tape";
  readonly #reader: TapeReader;
  readonly #epoch: bigint;
  readonly #options: TapeStreamOptions;
  // The tape file's frames until they run out, then the follower's lines.
  #frames: TapeRecordIterator<RawFrame> | undefined;
  #followed: AsyncIterableIterator<RecordLine> | undefined;
  // A frame asked for that was not ready yet, or the end it already gave.
  #pendingFrame: Promise<IteratorResult<RawFrame>> | undefined;
  #lastDone = false;
  // Frames read ahead; those before #head were handed out.
  readonly #ahead: RawFrame[] = [];
  #head = 0;
  #fetching: Promise<boolean> | undefined;
  #ended = false;
  #closed = false;

  private constructor(path: string, reader: TapeReader, options: TapeStreamOptions) {
    this.location = path;
    this.#reader = reader;
    this.#epoch = tapeEpochNs(reader.init.created_at);
    this.#options = options;
    this.#frames = reader.rawFrames();
  }

  /**
   * Opens the tape at `path` (already resolved from an id, if it was one).
   *
   * @throws {TapeOpenError} when it cannot be opened.
   * @throws {TapeFormatError} when it is not a tape.
   */
  static async open(path: string, options: TapeStreamOptions = {}): Promise<TapeStream> {
    const stream = new TapeStream(path, await TapeReader.open(path), options);
    // Reading a tape that is not followed never waits for a writer, so its
    // first frames are read ahead here and next() has them at once. A
    // failure is kept for the first wait() to report, after what came before.
    if (!options.follow) await stream.wait().catch(() => {});
    return stream;
  }

  /** The next message read ahead, or undefined when none is: then {@linkcode TapeStream.wait}. */
  next(): StreamMessage | undefined {
    const ahead = this.#ahead;
    if (this.#head === ahead.length) return undefined;
    const raw = ahead[this.#head++]!;
    if (this.#head === ahead.length) {
      ahead.length = 0;
      this.#head = 0;
    }
    return frameToMessage(raw, this.#epoch);
  }

  /**
   * Resolves true once `next()` has a message, reading the next frames when
   * none is read ahead; false at the end of the tape (or of following) or
   * when `timeoutMs` passes first. A read that timed out goes on, and
   * `next()` hands out what it reads.
   */
  async wait(timeoutMs = Infinity): Promise<boolean> {
    if (this.#head < this.#ahead.length) return true;
    if (this.#ended) return false;
    // Kept when it fails, so every later wait reports the same error.
    const fetching = this.#fetching ??= this.#fetch().then((more) => {
      this.#fetching = undefined;
      if (!this.#closed) return more;
      // Closed while the read was in flight: what it read is nobody's.
      this.#ahead.length = 0;
      this.#head = 0;
      return false;
    });
    if (timeoutMs === Infinity) return await fetching;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      fetching,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return result !== TIMED_OUT && result;
  }

  /** Stops reading and closes the tape; a wait in flight resolves false. */
  close(): void {
    this.#closed = true;
    this.#ended = true;
    this.#ahead.length = 0;
    this.#head = 0;
    this.#reader.close();
    // A read in flight finishes on its own; the follower closes after it.
    void this.#followed?.return?.().catch(() => {});
  }

  /** Same as {@linkcode TapeStream.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Hands out each message, waiting for more until {@linkcode wait} tells the end. */
  [Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    return waitingIterator(this);
  }

  // Reads at least one frame ahead; false at the end.
  async #fetch(): Promise<boolean> {
    const frames = this.#frames;
    if (frames !== undefined) {
      if (await this.#readFile(frames)) return true;
      this.#frames = undefined;
      this.#reader.close();
      if (this.#options.follow && !this.#ended) {
        this.#followed = followTapeLines(this.#reader.path, {
          from: frames.position,
          untilFinalized: !(this.#options.forever ?? false),
          ...(this.#options.signal === undefined ? {} : { signal: this.#options.signal }),
        });
      }
    }
    const followed = this.#followed;
    if (followed !== undefined) {
      // The follower hands over one line per step, each after a file read.
      for (let r = await followed.next(); !r.done; r = await followed.next()) {
        if (r.value.record.type !== "frame") continue;
        this.#ahead.push(rawFrameOf(r.value.record, r.value.line));
        return true;
      }
    }
    this.#ended = true;
    return false;
  }

  // Reads from the tape file: the next frame, then each one the tape reader
  // already holds in memory (its iterator hands those over in a settled
  // promise, which wins a race against another settled one). With `last`,
  // the whole file at once, keeping a ring of the last frames.
  async #readFile(frames: TapeRecordIterator<RawFrame>): Promise<boolean> {
    const last = this.#options.last;
    if (last !== undefined) {
      if (this.#lastDone) return false;
      this.#lastDone = true;
      const ring: RawFrame[] = [];
      let seen = 0;
      for await (const raw of frames) {
        if (last > 0) ring[seen % last] = raw;
        seen++;
      }
      for (let i = Math.max(0, seen - last); i < seen; i++) this.#ahead.push(ring[i % last]!);
      return this.#ahead.length > 0;
    }
    const first = await (this.#pendingFrame ?? frames.next());
    this.#pendingFrame = undefined;
    if (first.done) return false;
    const ahead = this.#ahead;
    ahead.push(first.value);
    for (let n = 0; n < READ_AHEAD; n++) {
      const pending = frames.next();
      const now = await Promise.race([pending, NOT_READY_YET]);
      if (now === NOT_READY || now.done) {
        this.#pendingFrame = pending;
        break;
      }
      ahead.push(now.value);
    }
    return true;
  }
}
