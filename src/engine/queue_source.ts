/**
 * A seekable source: the records of a chronicle queue, read through a
 * queue reader.
 *
 * @module
 */

import type { QueueMessage, QueueReader } from "../chronicle/mod.ts";
import type { EngineItem } from "./engine_item.ts";
import type { SeekTarget, Source } from "./source.ts";

/** Options of {@linkcode queueSource}. */
export interface QueueSourceOptions {
  /** Names the source in events and errors. Default: the queue's directory. */
  name?: string;
  /** Keep waiting for new records at the end of the queue (`tail -f`). Default false: end there. */
  follow?: boolean;
  /** While following, the longest single wait before looking at seek and close requests. Default 50 ms. */
  pollMs?: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The records of the queue `reader` reads, from its position on, as data
 * messages (its reused views: the engine copies or stores them before the
 * next pull). Ends at the end of the queue, or follows it with `follow`.
 * Records retention deleted before they were read are reported with a `gap`
 * event (`{ lost }`).
 *
 * It can seek: `engine.seek({ seq })` or `engine.seek({ timestampNs })`
 * moves the reader (a seq not in the queue is a `RangeError`, and nothing
 * changes), and the consumer gets a `seek` event, then the records from
 * there. The source owns the reader: closing it closes the reader.
 *
 * @example Seek back to the start of a queue
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueReader, QueueWriter } from "../chronicle/mod.ts";
 * import { Engine, queueSource } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const writer = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
 * for (let i = 1; i <= 3; i++) writer.append(1, new Uint8Array([i]));
 * writer.close();
 * const engine = new Engine(queueSource(await QueueReader.open(dir)));
 * const seen: string[] = [];
 * for await (const item of engine) {
 *   seen.push(item.kind === "data" ? String(item.message.payload[0]) : item.name);
 *   if (seen.length === 3) await engine.seek({ seq: 1 });
 * }
 * assert.equal(seen.join(" "), "start 1 2 seek 1 2 3 eof");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function queueSource(reader: QueueReader, options: QueueSourceOptions = {}): Source {
  return new QueueSource(reader, options);
}

class QueueSource implements Source {
  readonly name: string;
  readonly #reader: QueueReader;
  readonly #follow: boolean;
  readonly #pollMs: number;
  #seekTo: SeekTarget | undefined;
  #held: QueueMessage | undefined;
  #lost: number;
  #waiting: Promise<unknown> | undefined;
  #closed = false;

  constructor(reader: QueueReader, options: QueueSourceOptions) {
    this.name = options.name ?? reader.path;
    this.#reader = reader;
    this.#follow = options.follow ?? false;
    this.#pollMs = options.pollMs ?? 50;
    this.#lost = reader.lostRecords;
  }

  start(): AsyncIterator<EngineItem> {
    return { next: () => this.#next() };
  }

  seek(target: SeekTarget): void {
    if (this.#closed) throw new TypeError(`Source '${this.name}' is closed`);
    const reader = this.#reader;
    // The record held back behind a gap event is next, not the reader's nextSeq.
    const back = this.#held?.seq ?? reader.nextSeq;
    try {
      reader.seek(target);
    } catch (error) {
      // A refused seek may have moved the reader: put it back.
      this.#restore(back);
      throw error;
    }
    this.#seekTo = target;
    this.#held = undefined;
    this.#lost = reader.lostRecords;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A wait in progress must end before the reader's mappings go.
    await this.#waiting;
    this.#reader.close();
  }

  #restore(seq: number): void {
    const reader = this.#reader;
    this.#held = undefined;
    try {
      reader.seek({ seq });
    } catch {
      // At the end of the queue `seq` is not written yet: go to the record
      // before it and past that one.
      if (seq > 1) {
        reader.seek({ seq: seq - 1 });
        reader.next();
      }
    }
  }

  async #next(): Promise<IteratorResult<EngineItem>> {
    const reader = this.#reader;
    for (;;) {
      if (this.#closed) return DONE;
      const target = this.#seekTo;
      if (target !== undefined) {
        this.#seekTo = undefined;
        return { done: false, value: { kind: "event", name: "seek", detail: target } };
      }
      const held = this.#held;
      if (held !== undefined) {
        this.#held = undefined;
        return { done: false, value: { kind: "data", message: held } };
      }
      const message = reader.next();
      if (message !== undefined) {
        if (reader.lostRecords !== this.#lost) {
          // The view stays valid until the reader's next call: the gap goes first.
          const lost = reader.lostRecords - this.#lost;
          this.#lost = reader.lostRecords;
          this.#held = message;
          return { done: false, value: { kind: "event", name: "gap", detail: { lost } } };
        }
        return { done: false, value: { kind: "data", message } };
      }
      if (!this.#follow) return DONE;
      const waiting = reader.wait(this.#pollMs);
      this.#waiting = waiting;
      try {
        await waiting;
      } finally {
        this.#waiting = undefined;
      }
    }
  }
}
