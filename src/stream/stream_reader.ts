/**
 * The one reader interface over every kind of stream.
 *
 * @module
 */

import type { StreamMessage } from "./stream_message.ts";

/** How a reader waits for more: see the chronicle's wait strategies. */
export type StreamWaitStrategy = "busy" | "yield" | "backoff" | "futex";

/** What a stream lives in. */
export type StreamKind = "tape" | "queue";

/**
 * Reads one stream, a message at a time. `next()` lends a message that is
 * valid until the following call (zero-copy where the source allows);
 * iterating with `for await` also lends, and ends at the end of what is
 * there, or follows the stream when it was opened with `follow`.
 *
 * @example
 * ```ts ignore
 * import { openStream } from "./mod.ts";
 * const reader = await openStream("./queue");
 * for await (const m of reader) console.log(m.seq);
 * reader.close();
 * ```
 */
export interface StreamReader extends AsyncIterable<StreamMessage>, Disposable {
  /** The location the reader was opened on. */
  readonly location: string;
  /** What the stream lives in. */
  readonly kind: StreamKind;
  /** The next message, or undefined when none is there now. */
  next(): StreamMessage | undefined;
  /**
   * Waits until `next()` would return a message (true), `timeoutMs` passes
   * or the stream has ended for good (false).
   */
  wait(timeoutMs?: number): Promise<boolean>;
  /**
   * Persists the position of a named reader: every message handed out so far
   * counts as consumed.
   *
   * @throws {TypeError} when the source cannot commit (a tape, or an anonymous reader).
   */
  commit(): void;
  /** Changes how {@linkcode StreamReader.wait} waits, where the source has a choice. */
  setWaitStrategy(strategy: StreamWaitStrategy): void;
  /** Frees the reader's files and mappings. */
  close(): void;
  /** Same as {@linkcode StreamReader.close}, so a reader can be declared with `using`. */
  [Symbol.dispose](): void;
}
