/**
 * The orchestration engine: runs a source that produces data
 * asynchronously (a child process, a pipe, a file, a queue) through a
 * writer into storage, and a reader back out to one consumer:
 *
 * ```
 * source ──► writer ──► storage (memory or a chronicle queue) ──► reader ──► consumer
 * ```
 *
 * The distance between the two ends is bounded, so a slow consumer slows
 * the source instead of growing memory; events come in band with the data;
 * the consumer asks for a seek or a stop through the engine; leaving the
 * loop stops everything; failures are typed. See `docs/engine.md`.
 *
 * @example A child process through a bounded engine
 * ```ts
 * import assert from "node:assert/strict";
 * import { childProcessSource, Engine } from "./mod.ts";
 * const script = "for (let i = 1; i <= 1000; i++) console.log(i)";
 * const engine = new Engine(childProcessSource(Deno.execPath(), ["eval", script]), { capacity: 16 });
 * let sum = 0;
 * for await (const item of engine) {
 *   if (item.kind === "data") sum += Number(new TextDecoder().decode(item.message.payload));
 * }
 * assert.equal(sum, 500500);
 * assert.ok(engine.stats.highWater <= 16);
 * ```
 *
 * @module
 */

export { childProcessSource, type ChildProcessSourceOptions } from "./child_process_source.ts";
export { Engine, type EngineOptions, type EngineStats } from "./engine.ts";
export {
  CancelledError,
  EngineClosedError,
  ProcessExitError,
  SeekUnsupportedError,
  SourceError,
} from "./engine_errors.ts";
export type { DataItem, EngineItem, EventItem } from "./engine_item.ts";
export { iterableSource, type IterableSourceOptions, type SourceInput } from "./iterable_source.ts";
export { lineMessages, type LineToMessage, wallClockNs } from "./line_puller.ts";
export { linesSource, type LinesSourceOptions } from "./lines_source.ts";
export { memoryStorage } from "./memory_storage.ts";
export { queueSource, type QueueSourceOptions } from "./queue_source.ts";
export { queueStorage } from "./queue_storage.ts";
export type { SeekTarget, Source } from "./source.ts";
export { signalExitStatus, type StopSignals, stopSignals } from "./stop_signals.ts";
export type { Storage, StorageReader, StorageWriter } from "./storage.ts";
export {
  messageToFrame,
  tapeStorage,
  type TapeStorageOptions,
  type TapeStorageWriter,
} from "./tape_storage.ts";
