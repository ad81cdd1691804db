/**
 * Faults mapped pages in ahead of a writer, on a thread of its own.
 *
 * The first store to each page of a fresh segment costs a page fault (on a
 * VM often a second one in the host), which dominates the cost of an
 * append. `madvise(MADV_POPULATE_WRITE)` takes those faults without
 * touching the bytes, but on the writer's thread it only moves the cost
 * around; Deno's `nonblocking` FFI calls do not help either, since they
 * are dispatched only when the event loop turns and a writer in a tight
 * loop never yields. So one worker thread per process does it, told what to
 * fault through shared memory: asking costs the writer a few atomic stores,
 * never a system call or a message.
 *
 * Faulting a page in never changes what it holds, so a range that is
 * unmapped or reused while the worker is on it is harmless: the call fails
 * or faults in pages that were going to be written anyway.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import { EINVAL, MADV_POPULATE_WRITE } from "./libc.ts";

/** Which range a request is for: the segment being written, or the one prepared for the roll. */
export type PrefaultSlot = 0 | 1;

// Shared words (Int32Array indexes): a wake counter the worker waits on, a
// seqlock generation, and a state word the worker sets to 1 once running
// and to -1 when the kernel has no MADV_POPULATE_WRITE. Then, as
// BigInt64Array indexes, each slot's address, first and end offsets, how
// far the worker has got in it (for a debugger's eyes), and a count of the
// times its address changed: a mapping released and a new one made at the
// same address is a new range, whose pages the worker must not take as done.
const WAKE = 0;
const GEN = 1;
const STATE = 2;
const SLOT_BASE = 2;
const SLOT_WORDS = 5;
const SHARED_BYTES = (SLOT_BASE + 2 * SLOT_WORDS) * 8;
// The worker faults at most this much per call, so a newer request (a
// roll) is taken up soon.
const STEP_BYTES = 1024 * 1024;

// Plain JavaScript, run by `eval`: nothing is read from disk, so it works
// in a compiled binary as well.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const i32 = new Int32Array(workerData.shared);
try {
  const i64 = new BigInt64Array(workerData.shared);
  const lib = Deno.dlopen("libc.so.6", {
    madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
    __errno_location: { parameters: [], result: "pointer" },
  });
  const errno = new Deno.UnsafePointerView(lib.symbols.__errno_location());
  const PAGE = 4096n;
  const done = [{ epoch: 0n, at: 0n }, { epoch: 0n, at: 0n }];
  Atomics.store(i32, ${STATE}, 1);
  outer: for (;;) {
    const wake = Atomics.load(i32, ${WAKE});
    let worked = false;
    for (let slot = 0; slot < 2; slot++) {
      const gen = Atomics.load(i32, ${GEN});
      if ((gen & 1) !== 0) { worked = true; break; }
      const base = ${SLOT_BASE} + slot * ${SLOT_WORDS};
      const address = i64[base];
      const from = i64[base + 1];
      const to = i64[base + 2];
      const epoch = i64[base + 4];
      if (Atomics.load(i32, ${GEN}) !== gen) { worked = true; break; }
      const d = done[slot];
      if (d.epoch !== epoch) { d.epoch = epoch; d.at = 0n; }
      const start = d.at > from ? d.at : from;
      if (address === 0n || start >= to) continue;
      // Compared before aligning: a range that ends inside a page is done once it reaches its end.
      const at = start - start % PAGE;
      const length = to - at < ${STEP_BYTES}n ? to - at : ${STEP_BYTES}n;
      const rc = lib.symbols.madvise(Deno.UnsafePointer.create(address + at), length, ${MADV_POPULATE_WRITE});
      if (rc !== 0 && errno.getInt32() === ${EINVAL}) {
        // A kernel before 5.14: nothing can be done here, ever.
        Atomics.store(i32, ${STATE}, -1);
        break outer;
      }
      d.at = at + length;
      Atomics.store(i64, base + 3, d.at);
      worked = true;
      break;
    }
    if (worked) continue outer;
    Atomics.wait(i32, ${WAKE}, wake);
  }
  lib.close();
} catch {
  // Told through the state word: the writer then takes its own page faults.
  Atomics.store(i32, ${STATE}, -1);
}
`;

/**
 * Asks the process's prefault worker to fault pages in. One worker serves
 * every writer of the process; it is started on first use and never keeps
 * the process alive.
 *
 * @example Fault the first megabyte of a scratch mapping in ahead of use
 * ```ts
 * import assert from "node:assert/strict";
 * import { MappedFile } from "./mapped_file.ts";
 * import { Prefaulter } from "./prefaulter.ts";
 * const path = Deno.makeTempFileSync();
 * Deno.removeSync(path);
 * const file = MappedFile.open(path, { writable: true, createSize: 1 << 20 });
 * const address = BigInt(Deno.UnsafePointer.value(file.pointer));
 * // One worker per process, shared by every writer.
 * assert.equal(Prefaulter.shared(), Prefaulter.shared());
 * Prefaulter.shared().request(0, address, 0, file.size);
 * Prefaulter.shared().cancel(address);
 * file.release();
 * Deno.removeSync(path);
 * ```
 */
export class Prefaulter {
  static #instance: Prefaulter | undefined;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;

  private constructor() {
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    this.#i32 = new Int32Array(shared);
    this.#i64 = new BigInt64Array(shared);
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { shared } });
      // A writer the program never closed must not keep it from exiting.
      worker.unref();
      // Without the worker the writer takes its own page faults: slower, never wrong.
      worker.on("error", () => Atomics.store(this.#i32, STATE, -1));
    } catch {
      Atomics.store(this.#i32, STATE, -1);
    }
  }

  /** The process's prefaulter, started on first call. */
  static shared(): Prefaulter {
    return Prefaulter.#instance ??= new Prefaulter();
  }

  /**
   * Asks for bytes `from` to `to` of the mapping at `address` to be faulted
   * in, replacing what `slot` asked for before. Costs a few atomic stores
   * and a wake-up of the worker, only when it is waiting.
   */
  request(slot: PrefaultSlot, address: bigint, from: number, to: number): void {
    if (Atomics.load(this.#i32, STATE) < 0) return;
    const base = SLOT_BASE + slot * SLOT_WORDS;
    const i64 = this.#i64;
    Atomics.add(this.#i32, GEN, 1);
    if (i64[base] !== address) i64[base + 4] = i64[base + 4]! + 1n;
    i64[base] = address;
    i64[base + 1] = BigInt(from);
    i64[base + 2] = BigInt(to);
    Atomics.add(this.#i32, GEN, 1);
    Atomics.add(this.#i32, WAKE, 1);
    Atomics.notify(this.#i32, WAKE);
  }

  /** Forgets every request for the mapping at `address`, before it is released. */
  cancel(address: bigint): void {
    for (const slot of [0, 1] as const) {
      if (this.#i64[SLOT_BASE + slot * SLOT_WORDS] === address) this.request(slot, 0n, 0, 0);
    }
  }
}
