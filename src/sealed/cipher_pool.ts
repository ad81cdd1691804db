/**
 * A pool of Worker threads that seal and open segments, so ChaCha20-Poly1305
 * runs on several cores while the calling thread reads, frames and writes.
 * Jobs go to the least busy worker; bytes travel as transferred buffers. A
 * pool of 0 workers runs every job on the calling thread, for small jobs
 * and tests.
 *
 * A worker that dies fails every job in flight, and the pool, with one
 * {@linkcode CipherWorkerError}: a job never hangs waiting for a thread
 * that is gone.
 *
 * @module
 */

import {
  type CipherJob,
  type CipherReply,
  runCipherJob,
  type SegmentFields,
  transferable,
} from "./cipher_worker.ts";

/**
 * A cipher worker died or failed, so the pool stopped: every job in flight
 * and every job after fails with this error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CipherWorkerError } from "./cipher_pool.ts";
 * const e = new CipherWorkerError(1, "it was terminated");
 * assert.equal(e.message, "Cipher worker 1 stopped: it was terminated");
 * assert.equal(e.worker, 1);
 * ```
 */
export class CipherWorkerError extends Error {
  /** Which worker, from 0. */
  readonly worker: number;
  /** Builds the error for worker `worker` and what happened to it. */
  constructor(worker: number, what: string, options?: ErrorOptions) {
    super(`Cipher worker ${worker} stopped: ${what}`, options);
    this.name = "CipherWorkerError";
    this.worker = worker;
  }
}

/**
 * Workers a program uses unless told otherwise: one fewer than the cores,
 * at least one and at most two. The calling thread is busy too (it frames
 * records, reads and writes the store, and walks the frames), so on two
 * cores a second worker only competes with it: measured here (2 cores,
 * 256 MiB, sealing and opening), one worker was faster than two in every
 * case, and used less CPU. With more cores, two keep sealing ahead of a
 * 1 GiB/s producer; more mostly add memory in flight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultCipherWorkers } from "./cipher_pool.ts";
 * assert.ok([1, 2].includes(defaultCipherWorkers()));
 * ```
 */
export function defaultCipherWorkers(): number {
  return Math.max(1, Math.min(2, (navigator.hardwareConcurrency || 1) - 1));
}

/**
 * How a job may reuse buffers, for {@linkcode CipherPool.seal} and
 * {@linkcode CipherPool.open}.
 */
export interface CipherBuffers {
  /**
   * Where to write the result (the unit, or the plaintext) when it is large
   * enough: the result is then a view of its start. It is given up, as the
   * job's bytes are.
   */
  into?: Uint8Array<ArrayBuffer>;
  /**
   * Takes back each buffer the job is done with (its input, and `into` when
   * the result is not there), for reuse. With it, the job's bytes are never
   * copied: the whole buffer behind them is given up (transferred to a
   * worker), not only the bytes.
   */
  recycle?: (buffer: Uint8Array<ArrayBuffer>) => void;
}

/** What an open job yields: the plaintext, `undefined` (does not authenticate) or `checksum`. */
export type CipherOutcome = Uint8Array | undefined | "checksum";

interface Pending {
  resolve(bytes: CipherOutcome): void;
  reject(error: Error): void;
  recycle: ((buffer: Uint8Array<ArrayBuffer>) => void) | undefined;
}

interface Slot {
  worker: Worker;
  // Jobs sent or waiting to be sent, by id: how busy the worker is.
  pending: Map<number, Pending>;
  // Jobs held until the worker says it is ready.
  backlog: CipherJob[] | undefined;
}

const WORKER_URL = new URL("./cipher_worker.ts", import.meta.url).href;

// Jobs smaller than this run on the calling thread even when the pool has
// workers: a round trip to a worker costs more than the cipher does on so
// few bytes. Workers start at the first larger job, so a program that seals
// or opens only small segments (a quiet tap, a short recording) never pays
// for starting them.
const INLINE_BELOW = 64 * 1024;

// Posts a job, transferring its bytes; a job that cannot be posted (its
// buffer detached meanwhile) fails on its own.
function send(slot: Slot, job: CipherJob): void {
  const transfer = [job.bytes.buffer as ArrayBuffer];
  if (job.into !== undefined && job.into.buffer !== job.bytes.buffer) {
    transfer.push(job.into.buffer);
  }
  try {
    slot.worker.postMessage(job, transfer);
  } catch (error) {
    const pending = slot.pending.get(job.id);
    slot.pending.delete(job.id);
    pending?.reject(error as Error);
  }
}

function rebuild(error: { name: string; message: string }): Error {
  if (error.name === "RangeError") return new RangeError(error.message);
  if (error.name === "TypeError") return new TypeError(error.message);
  return new Error(error.message);
}

/**
 * Seals and opens segments on `workers` Worker threads (0: on the calling
 * thread). Bytes given to {@linkcode CipherPool.seal} and
 * {@linkcode CipherPool.open} are transferred to a worker when they fill
 * their buffer (and copied when they are part of a larger one): the caller
 * gives them up. Given a `recycle` function ({@linkcode CipherBuffers}),
 * the whole buffer behind them is transferred as it is, and comes back
 * through it with the result, so a caller reuses its buffers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CipherPool } from "./cipher_pool.ts";
 * const pool = new CipherPool(1);
 * const key = new Uint8Array(32).fill(1), hash = new Uint8Array(32).fill(2);
 * const fields = { final: true, index: 0, frameCount: 1, dataFrames: 1, firstSeq: 1, lastSeq: 1 };
 * const unit = await pool.seal(key, hash, fields, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await pool.open(key, hash, unit.slice()), new Uint8Array([1, 2, 3]));
 * unit[60]! ^= 1;
 * assert.equal(await pool.open(key, hash, unit), undefined); // does not authenticate
 * pool.close();
 * ```
 */
export class CipherPool {
  /** Worker threads; 0 when jobs run on the calling thread. */
  readonly workers: number;
  readonly #slots: Slot[] = [];
  readonly #stop = new AbortController();
  #nextId = 1;

  /**
   * A pool of `workers` threads (0: none; jobs then run on the calling
   * thread), started at the first job of 64 KiB or more; smaller jobs
   * always run on the calling thread.
   */
  constructor(workers: number = defaultCipherWorkers()) {
    if (!Number.isSafeInteger(workers) || workers < 0) {
      throw new RangeError(`A cipher pool has 0 or more workers, not '${workers}'`);
    }
    this.workers = workers;
  }

  #startWorkers(): void {
    if (this.#slots.length > 0) return;
    for (let i = 0; i < this.workers; i++) this.#slots.push(this.#start(i));
  }

  /**
   * Aborted when the pool stops, a worker having died or the pool being
   * closed, with the reason as `signal.reason`: a writer listens to stop
   * at once rather than at its next job.
   */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Jobs sent to workers and not answered yet. */
  get inFlight(): number {
    let n = 0;
    for (const slot of this.#slots) n += slot.pending.size;
    return n;
  }

  /**
   * Seals a segment: resolves to the whole unit (header, then wire).
   *
   * @throws {RangeError} (rejects) when `plaintext` passes the segment limit.
   * @throws {CipherWorkerError} (rejects) when the pool stopped.
   */
  seal(
    key: Uint8Array,
    headerHash: Uint8Array,
    segment: SegmentFields,
    plaintext: Uint8Array,
    buffers: CipherBuffers = {},
  ): Promise<Uint8Array> {
    return this.#run(
      (id, bytes, into) => ({ op: "seal", id, key, headerHash, segment, bytes, into }),
      plaintext,
      buffers,
    ) as Promise<Uint8Array>;
  }

  /**
   * Opens a unit (header and wire, whole): resolves to its plaintext, or
   * `undefined` when it does not authenticate. With `checksum`, the
   * worker checks the unit's CRC32C first, and resolves to `checksum` when
   * it fails.
   *
   * @throws {CipherWorkerError} (rejects) when the pool stopped.
   */
  open(
    key: Uint8Array,
    headerHash: Uint8Array,
    unit: Uint8Array,
    buffers?: CipherBuffers & { checksum?: false },
  ): Promise<Uint8Array | undefined>;
  /**
   * Opens a unit after the worker checks its CRC32C: resolves to its
   * plaintext, `undefined` when it does not authenticate, or `checksum`
   * when the CRC fails.
   *
   * @throws {CipherWorkerError} (rejects) when the pool stopped.
   */
  open(
    key: Uint8Array,
    headerHash: Uint8Array,
    unit: Uint8Array,
    buffers: CipherBuffers & { checksum: boolean },
  ): Promise<CipherOutcome>;
  open(
    key: Uint8Array,
    headerHash: Uint8Array,
    unit: Uint8Array,
    buffers: CipherBuffers & { checksum?: boolean } = {},
  ): Promise<CipherOutcome> {
    const checksum = buffers.checksum;
    return this.#run(
      (id, bytes, into) => ({ op: "open", id, key, headerHash, bytes, into, checksum }),
      unit,
      buffers,
    );
  }

  /**
   * Terminates worker `worker` as a crash would, failing its jobs and the
   * pool with a {@linkcode CipherWorkerError}. A terminated Worker sends no
   * event, so this is how a supervisor (or a test) stops one and the pool
   * still tells everyone waiting on it.
   *
   * @throws {RangeError} for a worker the pool does not have.
   */
  terminateWorker(worker: number): void {
    this.#startWorkers();
    const slot = this.#slots[worker];
    if (slot === undefined) {
      throw new RangeError(`The cipher pool has no worker '${worker}'`);
    }
    slot.worker.terminate();
    this.#fail(new CipherWorkerError(worker, "it was terminated"));
  }

  /** Terminates the workers; jobs still in flight fail. Closing twice does nothing. */
  close(): void {
    this.#fail(new Error("The cipher pool is closed"));
  }

  #start(index: number): Slot {
    const worker = new Worker(WORKER_URL, { type: "module" });
    const slot: Slot = { worker, pending: new Map(), backlog: [] };
    worker.onmessage = (event: MessageEvent<CipherReply>) => {
      const reply = event.data;
      if ("ready" in reply) {
        const backlog = slot.backlog ?? [];
        slot.backlog = undefined;
        for (const job of backlog) send(slot, job);
        return;
      }
      const pending = slot.pending.get(reply.id);
      if (pending === undefined) return;
      slot.pending.delete(reply.id);
      if ("error" in reply) {
        pending.reject(rebuild(reply.error));
        return;
      }
      if (pending.recycle !== undefined) {
        for (const spare of reply.spare) pending.recycle(spare as Uint8Array<ArrayBuffer>);
      }
      pending.resolve(reply.bytes ?? undefined);
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: the pool reports it, and the program goes on to stop cleanly.
      event.preventDefault();
      this.#fail(new CipherWorkerError(index, event.message));
    };
    worker.onmessageerror = () => {
      this.#fail(new CipherWorkerError(index, "a reply could not be read"));
    };
    return slot;
  }

  #run(
    job: (id: number, bytes: Uint8Array, into: Uint8Array<ArrayBuffer> | undefined) => CipherJob,
    bytes: Uint8Array,
    buffers: CipherBuffers,
  ): Promise<CipherOutcome> {
    const { into, recycle } = buffers;
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    const id = this.#nextId++;
    if (this.workers === 0 || bytes.length < INLINE_BELOW) {
      try {
        const result = runCipherJob(job(id, bytes, into));
        if (recycle !== undefined) {
          recycle(new Uint8Array(bytes.buffer as ArrayBuffer));
          if (into !== undefined && (typeof result !== "object" || result.buffer !== into.buffer)) {
            recycle(into);
          }
        }
        return Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    this.#startWorkers();
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    // Given a recycler, the caller gives up the whole buffer: the view travels as it is.
    const message = job(id, recycle === undefined ? transferable(bytes) : bytes, into);
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, recycle });
      if (slot.backlog === undefined) send(slot, message);
      else slot.backlog.push(message);
    });
  }

  #fail(error: Error): void {
    if (this.signal.aborted) return;
    const pending: Pending[] = [];
    for (const slot of this.#slots) {
      slot.worker.terminate();
      pending.push(...slot.pending.values());
      slot.pending.clear();
    }
    this.#stop.abort(error);
    for (const p of pending) p.reject(error);
  }
}
