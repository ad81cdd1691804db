/**
 * Storage in a chronicle queue: the writer appends each message to the
 * queue and the consumer reads it back through a queue reader, so what the
 * consumer sees is exactly what was stored.
 *
 * @module
 */

import { QueueReader, QueueWriter, type QueueWriterOptions } from "../chronicle/mod.ts";
import type { Storage } from "./storage.ts";

/**
 * Opens (or creates) the queue in `dir` as an engine's storage. Messages
 * are appended after whatever the queue already holds, with the source's
 * type id and timestamp; the queue numbers them, so the consumer sees the
 * queue's seqs. Records stay in the queue after the engine closes. The
 * engine bounds how far the writer runs ahead of the consumer (and so the
 * disk a slow consumer costs beyond the records kept anyway); records a
 * `retention` policy deletes before the consumer gets to them are skipped.
 *
 * Needs `--allow-ffi`, `--allow-read` and `--allow-write`.
 *
 * @throws {QueueLockedError} when another writer holds the queue.
 * @throws {QueueFormatError} when `dir` holds something that is not a queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { queueStorage } from "./queue_storage.ts";
 * const dir = Deno.makeTempDirSync();
 * const storage = await queueStorage(dir, { segmentBytes: 1 << 20 });
 * storage.writer.write({ seq: 9, timestampNs: 5n, typeId: 2, payload: new Uint8Array([1]) });
 * const m = storage.reader.read()!;
 * assert.deepEqual([m.seq, m.typeId, m.timestampNs], [1, 2, 5n]);
 * storage.reader.close();
 * storage.writer.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function queueStorage(
  dir: string,
  options: QueueWriterOptions = {},
): Promise<Storage> {
  const writer = await QueueWriter.open(dir, options);
  let reader: QueueReader;
  try {
    // Opened after the writer holds the lock, so "latest" is exactly where
    // this engine's first message will go.
    reader = await QueueReader.open(dir, { start: "latest" });
  } catch (error) {
    writer.close();
    throw error;
  }
  return {
    name: dir,
    writer: {
      write(message) {
        writer.append(message.typeId, message.payload, message.timestampNs);
      },
      close: () => writer.close(),
    },
    reader: {
      read: () => reader.next(),
      close: () => reader.close(),
    },
  };
}
