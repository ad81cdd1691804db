/**
 * The one reader interface over every kind of stream, and the capabilities
 * only some streams have.
 *
 * @module
 */

import type { WaitStrategy } from "../chronicle/mod.ts";
import type { StreamMessage } from "./stream_message.ts";

/** What a stream lives in. */
export type StreamKind = "tape" | "queue" | "sealed" | "jetstream";

/**
 * Reads one stream, a message at a time. `next()` lends a message that is
 * valid until the following call (zero-copy where the source allows);
 * iterating with `for await` also lends, and ends at the end of what is
 * there, or follows the stream when it was opened with `follow`.
 *
 * What only some streams can do is a capability of its own: a named queue
 * reader is {@linkcode Committable}, a queue reader is
 * {@linkcode WaitConfigurable} and {@linkcode SyncWaitable}; tapes and
 * merges are none of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { openStream, type StreamReader } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * w.append(1, new TextEncoder().encode("hi"));
 * const reader: StreamReader = await openStream(dir);
 * const seqs: number[] = [];
 * for await (const m of reader) seqs.push(m.seq);
 * assert.deepEqual(seqs, [1]);
 * reader.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
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
  /** Frees the reader's files and mappings. */
  close(): void;
  /** Same as {@linkcode StreamReader.close}, so a reader can be declared with `using`. */
  [Symbol.dispose](): void;
}

/**
 * A reader that keeps its position under a name, so it resumes there after
 * a restart: a queue reader opened with a `name`. Test for it with
 * {@linkcode isCommittable}.
 */
export interface Committable {
  /** The name the position is kept under. */
  readonly name: string;
  /**
   * Persists the position: every message handed out so far counts as
   * consumed.
   */
  commit(): void;
}

/**
 * Whether `reader` can commit its position: it has a `commit` method and a
 * name to keep the position under.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { isCommittable, openStream } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * w.append(1, new TextEncoder().encode("hi"));
 * const anonymous = await openStream(dir);
 * assert.equal(isCommittable(anonymous), false);
 * const named = await openStream(dir, { name: "audit" });
 * assert.ok(isCommittable(named));
 * named.next();
 * named.commit();
 * named.close();
 * anonymous.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function isCommittable<T extends object>(reader: T): reader is T & Committable {
  const r = reader as Partial<Committable>;
  return typeof r.commit === "function" && typeof r.name === "string";
}

/**
 * A reader whose `wait` can wait in more than one way: a queue reader.
 * Test for it with {@linkcode isWaitConfigurable}.
 */
export interface WaitConfigurable {
  /** How `wait` waits now. */
  readonly waitStrategy: WaitStrategy;
  /** Changes how `wait` waits. */
  setWaitStrategy(strategy: WaitStrategy): void;
}

/**
 * Whether `reader` lets its wait strategy be chosen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { isWaitConfigurable, openStream } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * const reader = await openStream(dir);
 * assert.ok(isWaitConfigurable(reader));
 * reader.setWaitStrategy("busy");
 * assert.equal(reader.waitStrategy, "busy");
 * reader.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function isWaitConfigurable<T extends object>(reader: T): reader is T & WaitConfigurable {
  const r = reader as Partial<WaitConfigurable>;
  return typeof r.setWaitStrategy === "function" && typeof r.waitStrategy === "string";
}

/**
 * A reader that can wait on the calling thread: `waitSync` blocks the
 * thread, event loop included, and wakes within microseconds of a new
 * message, where `wait` wakes through the event loop in tens. For a
 * dedicated consumer; a program that must also notice signals or timers
 * waits in bounded slices and turns its event loop between them. A queue
 * reader has it (`QueueReader.waitSync`). Test for it with
 * {@linkcode isSyncWaitable}.
 */
export interface SyncWaitable {
  /**
   * Blocks until `next()` would return a message (true), or until
   * `timeoutMs` has passed or the stream has ended (false), as
   * {@linkcode StreamReader.wait} says.
   */
  waitSync(timeoutMs?: number): boolean;
}

/**
 * Whether `reader` can wait on the calling thread.
 *
 * @example A dedicated consumer
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { isSyncWaitable, openStream } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
 * const reader = await openStream(dir, { follow: true });
 * assert.ok(isSyncWaitable(reader));
 * assert.equal(reader.waitSync(5), false); // nothing after 5 ms
 * w.append(1, new TextEncoder().encode("hi"));
 * assert.equal(reader.waitSync(1000), true);
 * assert.equal(reader.next()?.seq, 1);
 * reader.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function isSyncWaitable<T extends object>(reader: T): reader is T & SyncWaitable {
  return typeof (reader as Partial<SyncWaitable>).waitSync === "function";
}
