/**
 * Taking snapshots while a queue is written or read: the piece `import`
 * and `archive-tap` feed each book event they append, and the way to build
 * snapshots for an archive that has none.
 *
 * @module
 */

import { queueExists, queueFileMode, QueueReader } from "../chronicle/mod.ts";
import type { StreamMessage } from "../stream/mod.ts";
import { BookEvent } from "./book_event.ts";
import { BOOK_FLAG } from "./book_protocol.ts";
import { BookSet } from "./book_set.ts";
import { recordChecksum } from "./snapshot_file.ts";
import { type SnapshotPlan, SnapshotPlanner } from "./snapshot_planner.ts";
import { SnapshotStore } from "./snapshot_store.ts";
import { SnapshotWriter, type SnapshotWriterOptions } from "./snapshot_writer.ts";
import { warmStart } from "./warm_start.ts";

// Sets a background taker writes at once. Each step of a write waits for
// the event loop, which a busy copy turns only now and then; several sets
// in flight keep the plan's pace.
const SETS_IN_FLIGHT = 4;

/** Options of {@linkcode SnapshotTaker}. */
export interface SnapshotTakerOptions extends SnapshotWriterOptions {
  /** The books to go on from (a warm start's); default empty, for a queue read from its start. */
  books?: BookSet;
  /** Called after each set of snapshots is written, with its seq and files. */
  onSnapshot?: (seq: number, paths: string[]) => void;
  /**
   * Write files in the background ({@linkcode SnapshotWriter.writeInBackground}):
   * a set is encoded when it falls due and written while records go on
   * being observed; a set falling due while four are still being written
   * waits for the next batch end. Call
   * {@linkcode SnapshotTaker.flush} before the end. Default false.
   */
  background?: boolean;
}

/** Options of {@linkcode SnapshotTaker.resume} and {@linkcode buildSnapshots}. */
export interface SnapshotResumeOptions extends SnapshotTakerOptions {
  /** The snapshots; default the queue's own ({@linkcode SnapshotStore.forQueue}). */
  store?: SnapshotStore;
  /** Told of snapshots passed over while finding where to go on from; default `reportWarning`. */
  onWarning?: (message: string) => void;
  /**
   * Permission bits of the snapshot files created
   * ({@linkcode SnapshotWriterOptions.mode}); default those of the queue's
   * own files, so snapshots added later match the queue.
   */
  mode?: number;
}

/** A taker that has caught up with a queue ({@linkcode SnapshotTaker.resume}). */
export interface ResumedTaker {
  /** The taker, its books as after the queue's last record. */
  taker: SnapshotTaker;
  /** The seq of the next record the taker expects. */
  nextSeq: number;
  /** How its books were rebuilt, for stderr. */
  description: string;
}

/**
 * Keeps the books of a queue as records are appended or read, in seq
 * order, and writes a snapshot of every market when its plan says so, at
 * the end of a batch. {@linkcode SnapshotTaker.observe} allocates nothing
 * between snapshots beyond what the books themselves need.
 *
 * Every market is snapshotted at the same seq; the set is what a warm
 * start looks for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BookEvent, BookEventEncoder, SIDE } from "./mod.ts";
 * import { SnapshotStore } from "./snapshot_store.ts";
 * import { SnapshotTaker } from "./snapshot_taker.ts";
 * const root = Deno.makeTempDirSync();
 * const taker = new SnapshotTaker(new SnapshotStore(root), { everyEvents: 2 }, { sync: false });
 * const enc = new BookEventEncoder();
 * const e = new BookEvent();
 * enc.header.flags = 4; // BatchEnd
 * for (let seq = 1; seq <= 5; seq++) {
 *   e.wrapBytes(enc.level(SIDE.Bid, 100 + seq, 10));
 *   taker.observe(seq, BigInt(seq), e, e.length);
 * }
 * assert.deepEqual(taker.store.list().map((r) => r.seq), [2, 4]);
 * Deno.removeSync(root, { recursive: true });
 * ```
 */
export class SnapshotTaker {
  /** The books, as after the last record observed. */
  readonly books: BookSet;
  /** Where snapshots go. */
  readonly store: SnapshotStore;
  /** When they are taken. */
  readonly planner: SnapshotPlanner;
  /** Sets of snapshots written. */
  sets = 0;
  /** The seq of the last set written, 0 before the first. */
  lastSeq = 0;
  readonly #writer: SnapshotWriter;
  readonly #onSnapshot: ((seq: number, paths: string[]) => void) | undefined;
  readonly #event = new BookEvent();
  readonly #background: boolean;
  readonly #writing = new Set<Promise<void>>();
  #behind = false;
  #failure: { error: unknown } | undefined;

  /**
   * A taker writing into `store` as `plan` says.
   *
   * @throws {RangeError} for a plan without a limit.
   */
  constructor(store: SnapshotStore, plan: SnapshotPlan, options: SnapshotTakerOptions = {}) {
    this.store = store;
    this.planner = new SnapshotPlanner(plan);
    this.books = options.books ?? new BookSet();
    this.#writer = new SnapshotWriter(store, {
      ...(options.sync === undefined ? {} : { sync: options.sync }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    });
    this.#onSnapshot = options.onSnapshot;
    this.#background = options.background ?? false;
  }

  /**
   * Waits for the set being written in the background, if any.
   *
   * @throws the error that stopped a background write.
   */
  async flush(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all(this.#writing);
    this.#throwFailure();
  }

  /**
   * Whether a set fell due while as many as may be were still being
   * written, so it waits: a caller that can wait (`archive-tap` between
   * two runs of copying) calls {@linkcode SnapshotTaker.flush} to keep the
   * plan's pace.
   */
  get behind(): boolean {
    return this.#behind;
  }

  /**
   * Throws the error that stopped a background write, if one did; for a
   * caller that is idle and would otherwise learn of it only at the next
   * record.
   */
  throwIfFailed(): void {
    if (this.#failure !== undefined) this.#throwFailure();
  }

  #throwFailure(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    this.#failure = undefined;
    throw failure.error;
  }

  /**
   * A taker for `queueDir` whether or not it exists yet: one that exists
   * is caught up first ({@linkcode SnapshotTaker.resume}), so snapshots
   * taken as records are added hold the whole queue's books; a queue to
   * be created starts empty. The description says how the books were
   * rebuilt, undefined for a new queue.
   */
  static async forQueue(
    queueDir: string,
    plan: SnapshotPlan,
    options: SnapshotResumeOptions = {},
  ): Promise<{ taker: SnapshotTaker; description: string | undefined }> {
    if (!queueExists(queueDir)) {
      const store = options.store ?? SnapshotStore.forQueue(queueDir);
      return { taker: new SnapshotTaker(store, plan, options), description: undefined };
    }
    const { taker, description } = await SnapshotTaker.resume(queueDir, plan, options);
    return { taker, description };
  }

  /**
   * A taker for the queue in `queueDir` whose books have caught up with
   * the queue's last record, by a warm start from the queue's own
   * snapshots: what `archive-tap` does when it starts on an archive that
   * already has records.
   */
  static async resume(
    queueDir: string,
    plan: SnapshotPlan,
    options: SnapshotResumeOptions = {},
  ): Promise<ResumedTaker> {
    const store = options.store ?? SnapshotStore.forQueue(queueDir);
    const start = await warmStart(queueDir, "end", {
      store,
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    });
    start.stream.close();
    const taker = new SnapshotTaker(store, plan, {
      ...options,
      mode: options.mode ?? queueFileMode(queueDir),
      books: start.books,
    });
    return { taker, nextSeq: start.nextSeq, description: start.description };
  }

  /**
   * Observes a message as written to the queue: a book event is applied
   * and may end in a snapshot; any other message is passed over.
   *
   * @throws {BookEventError} when it claims to be a book event but is not one.
   */
  observeMessage(m: StreamMessage): void {
    const event = this.#event;
    if (event.wrap(m)) this.observe(m.seq, m.timestampNs, event, event.length);
  }

  /**
   * Applies one book event, the record with seq `seq` stamped
   * `timestampNs` (the chronicle's timestamp) and `bytes` long, and writes
   * a snapshot of every market after it when one is due. Records must be
   * observed in seq order, every book event of the queue; other records
   * need not be.
   *
   * @throws {RangeError} when a book cannot be encoded; errors writing a file are thrown as they come.
   */
  observe(seq: number, timestampNs: bigint, event: BookEvent, bytes: number): void {
    if (this.#failure !== undefined) this.#throwFailure();
    this.books.apply(event);
    if (this.planner.observe(timestampNs, bytes, (event.flags & BOOK_FLAG.BatchEnd) !== 0)) {
      this.#take(seq, timestampNs, event);
    }
  }

  #take(seq: number, timestampNs: bigint, event: BookEvent): void {
    // A few sets at a time (each costs its encoded bytes until written): a
    // set due while that many are being written waits for the next batch end.
    if (this.#writing.size >= SETS_IN_FLIGHT) {
      this.#behind = true;
      return;
    }
    this.#behind = false;
    const books = this.books.books();
    const stamp = {
      seq,
      timestampNs,
      marketCount: books.length,
      recordCrc: recordChecksum(event.copyBytes()),
    };
    if (this.#background) {
      const writes = books.map((book) => this.#writer.writeInBackground(book, stamp));
      this.planner.taken(timestampNs);
      const writing: Promise<void> = Promise.all(writes).then((paths) => this.#written(seq, paths))
        .catch((error) => {
          this.#failure ??= { error };
        }).finally(() => this.#writing.delete(writing));
      this.#writing.add(writing);
      return;
    }
    const paths = books.map((book) => this.#writer.write(book, stamp));
    this.planner.taken(timestampNs);
    this.#written(seq, paths);
  }

  #written(seq: number, paths: string[]): void {
    this.sets++;
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.#onSnapshot?.(seq, paths);
  }
}

/** What {@linkcode buildSnapshots} did. */
export interface BuildSnapshotsResult {
  /** Sets of snapshots written. */
  sets: number;
  /** Records read. */
  records: number;
  /** The seq the queue was read after. */
  fromSeq: number;
  /** The last seq read. */
  toSeq: number;
  /** Where the books it started from came from, for stderr. */
  description: string;
}

/**
 * Builds snapshots for an existing queue: it goes on from the latest
 * snapshot already there (a warm start to it), or from the queue's start,
 * and reads to the queue's end, taking snapshots as `plan` says. Run it
 * again later and it continues where it stopped. To rebuild with another
 * plan, remove the snapshot directory first.
 *
 * @throws {QueueFormatError} when `queueDir` is not a queue.
 * @throws {BookEventError} at a record that claims to be a book event but is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { BookEventEncoder, SIDE } from "./mod.ts";
 * import { buildSnapshots } from "./snapshot_taker.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = await QueueWriter.open(`${dir}/q`, { segmentBytes: 1 << 16 });
 * const enc = new BookEventEncoder();
 * enc.header.flags = 4; // BatchEnd
 * for (let i = 0; i < 10; i++) {
 *   const bytes = enc.level(SIDE.Ask, 200 + i, 1);
 *   w.append(enc.typeId, bytes);
 * }
 * const built = await buildSnapshots(`${dir}/q`, { everyEvents: 4 }, { sync: false });
 * assert.equal(built.sets, 2); // at seq 4 and 8
 * assert.equal(built.toSeq, 10);
 * w.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function buildSnapshots(
  queueDir: string,
  plan: SnapshotPlan,
  options: SnapshotResumeOptions = {},
): Promise<BuildSnapshotsResult> {
  const store = options.store ?? SnapshotStore.forQueue(queueDir);
  let earliest: number;
  {
    using probe = await QueueReader.open(queueDir, { start: "earliest" });
    earliest = probe.nextSeq;
  }
  const latest = store.list().at(-1)?.seq ?? 0;
  const start = await warmStart(queueDir, { seq: Math.max(latest, earliest - 1) }, {
    store,
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  });
  const stream = start.stream;
  try {
    const taker = new SnapshotTaker(store, plan, {
      ...options,
      mode: options.mode ?? queueFileMode(queueDir),
      books: start.books,
    });
    const e = new BookEvent();
    let last = start.nextSeq - 1;
    for (let m = stream.next(); m !== undefined; m = stream.next()) {
      last = m.seq;
      if (!e.wrap(m)) continue;
      taker.observe(m.seq, m.timestampNs, e, m.payloadLength ?? m.payload.byteLength);
    }
    return {
      sets: taker.sets,
      records: last - (start.nextSeq - 1),
      fromSeq: start.nextSeq - 1,
      toSeq: last,
      description: start.description,
    };
  } finally {
    stream.close();
  }
}
