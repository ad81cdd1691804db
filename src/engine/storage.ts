/**
 * Where an engine keeps messages between the source and the consumer: a
 * writer stage that stores each message and a reader stage that hands the
 * stored messages back, in order.
 *
 * @module
 */

import type { StreamMessage } from "../stream/stream_message.ts";

/**
 * The writing half of a storage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StorageWriter } from "./storage.ts";
 * const sizes: number[] = [];
 * const writer: StorageWriter = { write: (m) => void sizes.push(m.payload.length), close: () => {} };
 * writer.write({ seq: 1, timestampNs: 0n, typeId: 0, payload: new Uint8Array(3) });
 * assert.deepEqual(sizes, [3]);
 * ```
 */
export interface StorageWriter {
  /**
   * Stores one message. The message is lent for the call only: copy what is
   * kept. Throwing (or rejecting) fails the engine with that error.
   */
  write(message: StreamMessage): void | Promise<void>;
  /** Releases the writer. */
  close(): void | Promise<void>;
}

/**
 * The reading half of a storage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StorageReader } from "./storage.ts";
 * const reader: StorageReader = { read: () => undefined, close: () => {} };
 * assert.equal(reader.read(), undefined);
 * ```
 */
export interface StorageReader {
  /**
   * The oldest stored message not read yet, or undefined when there is
   * none. It may be lent until the next call.
   */
  read(): StreamMessage | undefined;
  /** Releases the reader. */
  close(): void | Promise<void>;
}

/**
 * A writer and a reader over the same messages: whatever the writer
 * stored, the reader returns, in the order written. The engine owns a
 * storage it is given and closes both halves when it closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryStorage, type Storage } from "./mod.ts";
 * const storage: Storage = memoryStorage();
 * await storage.writer.write({ seq: 1, timestampNs: 0n, typeId: 0, payload: new Uint8Array([7]) });
 * assert.deepEqual(storage.reader.read()?.payload, new Uint8Array([7]));
 * ```
 */
export interface Storage {
  /** Names the storage (a queue's directory, `memory`). */
  readonly name: string;
  /** Stores messages. */
  readonly writer: StorageWriter;
  /** Reads them back. */
  readonly reader: StorageReader;
}
