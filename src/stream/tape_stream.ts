/**
 * A tape's frames read through the stream API, finished or still being
 * recorded. Tapes are read asynchronously, so the reader keeps one message
 * ready: `wait()` fetches it, `next()` hands it out.
 *
 * @module
 */

import { followTapeLines, type RawFrame, rawFrameOf, TapeReader } from "../tape/mod.ts";
import type { StreamMessage } from "./stream_message.ts";
import type { StreamKind, StreamReader, StreamWaitStrategy } from "./stream_reader.ts";
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

/**
 * A {@linkcode StreamReader} over a tape's frames, mapped to messages as
 * {@linkcode frameToMessage} says, each payload the envelope's text exactly as
 * the tape holds it, whether read from a finished tape or while following.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { TapeStream } from "./tape_stream.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.append({ dir: "c2s", env: { jsonrpc: "2.0", id: 1, method: "ping" } });
 * await writer.finalize();
 * const stream = await TapeStream.open(writer.path);
 * const got: [number, number][] = [];
 * for await (const m of stream) got.push([m.seq, m.typeId]);
 * assert.deepEqual(got, [[1, 1]]);
 * stream.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TapeStream implements StreamReader {
  /** The tape's path. */
  readonly location: string;
  /** Always `tape`. */
  readonly kind: StreamKind = "tape";
  readonly #source: AsyncGenerator<StreamMessage>;
  #ready: StreamMessage | undefined;
  #pending: Promise<IteratorResult<StreamMessage>> | undefined;
  #ended = false;

  private constructor(location: string, source: AsyncGenerator<StreamMessage>) {
    this.location = location;
    this.#source = source;
  }

  /**
   * Opens the tape at `path` (already resolved from an id, if it was one).
   *
   * @throws {TapeOpenError} when it cannot be opened.
   * @throws {TapeFormatError} when it is not a tape.
   */
  static async open(path: string, options: TapeStreamOptions = {}): Promise<TapeStream> {
    const reader = await TapeReader.open(path);
    return new TapeStream(path, messages(reader, options));
  }

  /** The message fetched by the last successful `wait`, or undefined. */
  next(): StreamMessage | undefined {
    const m = this.#ready;
    this.#ready = undefined;
    return m;
  }

  /** Reads the next frame; false at the end of the tape (or of following) or on timeout. */
  async wait(timeoutMs = Infinity): Promise<boolean> {
    if (this.#ready !== undefined) return true;
    if (this.#ended) return false;
    this.#pending ??= this.#source.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = timeoutMs === Infinity ? await this.#pending : await Promise.race([
      this.#pending,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (result === TIMED_OUT) return false;
    this.#pending = undefined;
    if (result.done) {
      this.#ended = true;
      return false;
    }
    this.#ready = result.value;
    return true;
  }

  /**
   * A tape has no committed position.
   *
   * @throws {TypeError} always.
   */
  commit(): void {
    throw new TypeError(`Tape '${this.location}' cannot commit a position: only a queue can`);
  }

  /** Tapes are followed through file notifications; there is no strategy to choose. */
  setWaitStrategy(_strategy: StreamWaitStrategy): void {}

  /** Stops reading and closes the tape. */
  close(): void {
    this.#ended = true;
    this.#ready = undefined;
    // A read in flight finishes on its own; the generator closes after it.
    void this.#source.return(undefined).catch(() => {});
  }

  /** Same as {@linkcode TapeStream.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Hands out each message (owned: a tape's messages are copies anyway). */
  async *[Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    for (;;) {
      const m = this.next();
      if (m !== undefined) yield m;
      else if (!await this.wait()) return;
    }
  }
}

async function* messages(
  reader: TapeReader,
  options: TapeStreamOptions,
): AsyncGenerator<StreamMessage> {
  const epoch = tapeEpochNs(reader.init.created_at);
  const frames = reader.rawFrames();
  try {
    if (options.last === undefined) {
      for await (const raw of frames) yield frameToMessage(raw, epoch);
    } else {
      // A ring of the last frames read; `seen` counts every frame.
      const last = options.last;
      const ring: RawFrame[] = [];
      let seen = 0;
      for await (const raw of frames) {
        if (last > 0) ring[seen % last] = raw;
        seen++;
      }
      for (let i = Math.max(0, seen - last); i < seen; i++) {
        yield frameToMessage(ring[i % last]!, epoch);
      }
    }
  } finally {
    reader.close();
  }
  if (!options.follow) return;
  const followed = followTapeLines(reader.path, {
    from: frames.position,
    untilFinalized: !(options.forever ?? false),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  for await (const { record, line } of followed) {
    if (record.type !== "frame") continue;
    yield frameToMessage(rawFrameOf(record, line), epoch);
  }
}
