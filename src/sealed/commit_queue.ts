/**
 * The commit discipline every sealed sink shares: units queue until a
 * commit, commits write their groups one after another in call order, and
 * after a failed commit the sink takes nothing more (what a failed write
 * or `fdatasync` left behind cannot be trusted; a writer starts again by
 * reopening the store, which walks it afresh).
 *
 * @module
 */

/**
 * Queued items and the commits that write them as groups.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommitQueue } from "./commit_queue.ts";
 * const written: number[][] = [];
 * const queue = new CommitQueue<number>("s", (group) => {
 *   if (group.includes(0)) throw new Error("disk full");
 *   written.push(group);
 * });
 * queue.add(1);
 * queue.add(2);
 * await queue.commit();
 * await queue.commit();
 * assert.deepEqual(written, [[1, 2]]);
 * queue.add(0);
 * await assert.rejects(queue.commit(), { message: "disk full" });
 * assert.throws(() => queue.add(3), { message: "Sealed store 's' takes no more units after a failed commit: disk full" });
 * assert.equal(queue.close(), true);
 * assert.equal(queue.close(), false);
 * ```
 */
export class CommitQueue<T> {
  readonly #path: string;
  readonly #write: (group: T[]) => Promise<void> | void;
  #pending: T[] = [];
  #last: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;

  /** A queue for the store named `path` whose groups `write` makes durable. */
  constructor(path: string, write: (group: T[]) => Promise<void> | void) {
    this.#path = path;
    this.#write = write;
  }

  /**
   * Queues an item for the next commit.
   *
   * @throws {TypeError} once the queue is closed.
   * @throws {Error} after a failed commit, naming its failure.
   */
  add(item: T): void {
    this.#usable();
    this.#pending.push(item);
  }

  /**
   * Writes the items queued so far as one group, after every earlier
   * commit; an empty group writes nothing.
   */
  commit(): Promise<void> {
    const group = this.#pending;
    this.#pending = [];
    const done = this.#last.then(async () => {
      this.#usable();
      if (group.length === 0) return;
      try {
        await this.#write(group);
      } catch (error) {
        this.#failure = error as Error;
        throw error;
      }
    });
    this.#last = done.catch(() => {});
    return done;
  }

  /**
   * Closes the queue, dropping what was not committed. True the first
   * time, so the caller lets go of its store once.
   */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#pending = [];
    return true;
  }

  #usable(): void {
    if (this.#closed) throw new TypeError(`Sealed store '${this.#path}' is closed`);
    if (this.#failure !== undefined) {
      throw new Error(
        `Sealed store '${this.#path}' takes no more units after a failed commit: ${this.#failure.message}`,
        { cause: this.#failure },
      );
    }
  }
}
