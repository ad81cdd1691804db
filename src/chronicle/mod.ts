/**
 * The chronicle: a persisted, segmented, memory-mapped queue for live IPC
 * between processes on one host and for durable archives. One writer
 * publishes each record with a single atomic store; readers in any process
 * see it within microseconds, with no copy and no system call.
 *
 * Needs `--allow-ffi` (libc is bound through `Deno.dlopen`), plus
 * `--allow-read` and `--allow-write` on the queue directory.
 *
 * @example Write and read a queue
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueReader, QueueWriter } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
 * w.append(1, new TextEncoder().encode("tick"));
 * const r = await QueueReader.open(dir, { name: "audit" });
 * assert.equal(r.next()?.seq, 1);
 * r.commit();
 * r.close();
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  FfiUnavailableError,
  QueueClosedError,
  QueueDamageError,
  QueueFormatError,
  QueueIoError,
  QueueLockedError,
} from "./chronicle_errors.ts";
export {
  checkFileMode,
  directoryModeFor,
  parseFileMode,
  QUEUE_FILE_MODE,
  queueFileMode,
} from "./file_mode.ts";
export { monotonicNs, realtimeNs } from "./libc.ts";
export { queueExists } from "./queue_files.ts";
export {
  checkStart,
  type QueueMessage,
  QueueReader,
  type QueueReaderOptions,
  type StartPosition,
} from "./queue_reader.ts";
export { type QueueDurability, QueueWriter, type QueueWriterOptions } from "./queue_writer.ts";
export { ReaderOffset, type ReaderPosition } from "./reader_offset.ts";
export type { RetentionPolicy, RetentionResult } from "./retention.ts";
export { turnEventLoop, WAIT_STRATEGIES, type WaitStrategy } from "./wait_strategy.ts";
