/**
 * The appends of a tape writer waiting for their line to be written
 * (`flush`) or synced (`fsync`).
 *
 * @module
 */

import type { FrameRecord } from "./types.ts";

/**
 * Appends waiting for their batch, in the order they were made: each one
 * settles with its own record, or with the batch's error.
 */
export class AppendWaiters {
  #resolvers: ((record: FrameRecord) => void)[] = [];
  #rejecters: ((error: unknown) => void)[] = [];
  #records: FrameRecord[] = [];

  /** Waits for `record`'s batch: resolves with it, or rejects with the batch's error. */
  add(record: FrameRecord): Promise<FrameRecord> {
    const waiter = Promise.withResolvers<FrameRecord>();
    this.#resolvers.push(waiter.resolve);
    this.#rejecters.push(waiter.reject);
    this.#records.push(record);
    return waiter.promise;
  }

  /** The appends waiting so far, as a batch of their own; this one is left empty. */
  take(): AppendWaiters {
    const batch = new AppendWaiters();
    batch.#resolvers = this.#resolvers;
    batch.#rejecters = this.#rejecters;
    batch.#records = this.#records;
    this.#resolvers = [];
    this.#rejecters = [];
    this.#records = [];
    return batch;
  }

  /** Resolves every append waiting with its record, and forgets them. */
  resolveAll(): void {
    const resolvers = this.#resolvers;
    const records = this.#records;
    // Resolving only queues reactions, so nobody adds to the lists while they are walked.
    for (let i = 0; i < resolvers.length; i++) resolvers[i]!(records[i]!);
    this.#clear();
  }

  /** Rejects every append waiting with `error`, and forgets them. */
  rejectAll(error: unknown): void {
    for (const reject of this.#rejecters) reject(error);
    this.#clear();
  }

  #clear(): void {
    this.#resolvers.length = 0;
    this.#rejecters.length = 0;
    this.#records.length = 0;
  }
}
