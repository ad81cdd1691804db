/**
 * The FFI shim: the handful of libc calls the chronicle needs, bound with
 * `Deno.dlopen` against the system's `libc.so.6`. Nothing here is compiled,
 * so a `deno compile`d program needs nothing beside it.
 *
 * The library is opened on first use, not at import, so importing the
 * chronicle never needs `--allow-ffi` by itself.
 *
 * @module
 */

import { FfiUnavailableError } from "./chronicle_errors.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  fsync: { parameters: ["i32"], result: "i32" },
  statfs: { parameters: ["buffer", "buffer"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
  },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  msync: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  // futex(2) through syscall(2). FUTEX_WAIT twice: off the calling thread
  // (Deno's blocking pool, then the event loop), for programs that share
  // their event loop; and on it, for a thread that has nothing else to do,
  // which wakes without the two thread hops.
  futex_wait: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "buffer", "i64", "i64"],
    result: "i64",
    nonblocking: true,
  },
  futex_wait_sync: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "buffer", "i64", "i64"],
    result: "i64",
  },
  futex_wake: {
    name: "syscall",
    parameters: ["i64", "pointer", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  sched_yield: { parameters: [], result: "i32" },
  usleep: { parameters: ["u32"], result: "i32" },
  usleep_async: { name: "usleep", parameters: ["u32"], result: "i32", nonblocking: true },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  // The same, given the address of a timespec held for good: a pointer
  // argument skips the typed-array checks of a buffer one on every call.
  clock_gettime_at: { name: "clock_gettime", parameters: ["i32", "pointer"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The bound libc symbols; see {@linkcode libc}. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * Whether the CPU keeps loads in order with loads and stores in order with
 * stores (x86-64's TSO): plain loads and stores of shared words are then
 * enough where other CPUs (aarch64) need atomic ones.
 */
export const ORDERED_MEMORY = Deno.build.arch === "x86_64";

/** `open(2)` flags and modes used by the chronicle (Linux x86-64 and aarch64 values). */
export const O_RDONLY = 0;
/** Open for reading and writing. */
export const O_RDWR = 2;
/** Create the file when missing. */
export const O_CREAT = 0o100;
/** Close the descriptor on exec, so child processes never inherit a lock. */
export const O_CLOEXEC = 0o2000000;

/** `open(2)` flag: never block, so opening a FIFO put where a file belongs cannot hang. */
export const O_NONBLOCK = 0o4000;
/** `mmap(2)` protection: readable. */
export const PROT_READ = 1;
/** `mmap(2)` protection: writable. */
export const PROT_WRITE = 2;
/** `mmap(2)` flag: share the pages with the file and every other mapping of it. */
export const MAP_SHARED = 1;
/** `mmap(2)` flag: private copy-on-write pages. */
export const MAP_PRIVATE = 2;
/** `mmap(2)` flag: replace whatever is mapped at the given address. */
export const MAP_FIXED = 0x10;
/** `mmap(2)` flag: not backed by a file. */
export const MAP_ANONYMOUS = 0x20;
/** `mmap(2)` flag: reserve no swap for the pages. */
export const MAP_NORESERVE = 0x4000;

/** `msync(2)`: write dirty pages back and wait. */
export const MS_SYNC = 4;
/** `madvise(2)`: fault the pages in writable now (Linux 5.14). */
export const MADV_POPULATE_WRITE = 23;
/** `madvise(2)`: back the range with transparent huge pages where the kernel can. */
export const MADV_HUGEPAGE = 14;
/** `mmap(2)` protection: no access, for an address range held but not used. */
export const PROT_NONE = 0;

/** `flock(2)`: shared lock. */
export const LOCK_SH = 1;
/** `flock(2)`: exclusive lock. */
export const LOCK_EX = 2;
/** `flock(2)`: fail instead of waiting. */
export const LOCK_NB = 4;

/** errno: operation not permitted. */
export const EPERM = 1;
/** errno: no such file or directory. */
export const ENOENT = 2;
/** errno: try again; also `EWOULDBLOCK` from a held `flock`. */
export const EAGAIN = 11;
/** errno: invalid argument; also `madvise` advice the kernel does not know. */
export const EINVAL = 22;
/** errno: permission denied. */
export const EACCES = 13;
/** errno: no space left on device. */
export const ENOSPC = 28;
/** errno: read-only file system. */
export const EROFS = 30;

// futex(2)'s syscall number differs by architecture; the open/mmap flag
// values above are the same on both.
const SYS_FUTEX = Deno.build.arch === "aarch64" ? 98 : 202;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

let bound: Libc | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/**
 * The libc symbols, opening the library on first call.
 *
 * @throws {FfiUnavailableError} when FFI is not permitted or libc cannot be loaded.
 *
 * @example Read libc's message for ENOENT
 * ```ts
 * import assert from "node:assert/strict";
 * import { libc } from "./libc.ts";
 * assert.equal(Deno.UnsafePointerView.getCString(libc().strerror(2)!), "No such file or directory");
 * ```
 */
export function libc(): Libc {
  if (bound !== undefined) return bound;
  if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) {
    throw new FfiUnavailableError(
      `The chronicle needs Linux on x86_64 or aarch64; this is '${Deno.build.os}' on '${Deno.build.arch}'`,
    );
  }
  try {
    bound = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new FfiUnavailableError(
        "The chronicle maps memory through libc and needs FFI access: run with '--allow-ffi'",
      );
    }
    throw new FfiUnavailableError(
      `Cannot load the system C library 'libc.so.6': ${(error as Error).message}`,
    );
  }
  return bound;
}

/**
 * The calling thread's errno, read right after a failed libc call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errno, libc } from "./libc.ts";
 * assert.equal(libc().close(-1), -1);
 * assert.equal(errno(), 9); // EBADF
 * ```
 */
export function errno(): number {
  errnoView ??= new Deno.UnsafePointerView(libc().__errno_location()!);
  return errnoView.getInt32();
}

/**
 * The text libc gives for an errno value, first letter lowercased, for example
 * "no space left on device".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoText } from "./libc.ts";
 * assert.equal(errnoText(28), "no space left on device");
 * ```
 */
export function errnoText(code: number): string {
  const text = Deno.UnsafePointerView.getCString(libc().strerror(code)!);
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * A path as the NUL-terminated bytes libc expects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cPath } from "./libc.ts";
 * assert.equal(cPath("/tmp").length, 5);
 * ```
 */
export function cPath(path: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(path + "\0");
}

const timespec = new BigInt64Array(2);
const timespecWords = new Uint32Array(timespec.buffer);

function clockNs(clock: number): number {
  libc().clock_gettime(clock, timespecWords);
  return timespecWords[0]! * 1e9 + timespecWords[2]!;
}

/**
 * Nanoseconds of CLOCK_MONOTONIC as a number (exact for about 104 days of
 * uptime). Every process on the host reads the same clock, so one process can
 * subtract another's reading to measure latency.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { monotonicNs } from "./libc.ts";
 * const a = monotonicNs();
 * assert.ok(monotonicNs() >= a);
 * ```
 */
export function monotonicNs(): number {
  return clockNs(CLOCK_MONOTONIC);
}

/**
 * Wall-clock nanoseconds since the Unix epoch as a bigint, for record
 * timestamps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { realtimeNs } from "./libc.ts";
 * assert.ok(realtimeNs() > 1_600_000_000_000_000_000n);
 * ```
 */
export function realtimeNs(): bigint {
  libc().clock_gettime(CLOCK_REALTIME, timespecWords);
  return timespec[0]! * 1_000_000_000n + timespec[1]!;
}

// syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout, 0, 0).
function futexWaitArgs(word: Deno.PointerObject, expected: number, ts: BigInt64Array | null) {
  return [BigInt(SYS_FUTEX), word, BigInt(FUTEX_WAIT), BigInt(expected), ts, 0n, 0n] as const;
}

// FUTEX_WAIT's relative timeout, written into `ts`; null waits for good.
function relativeTimeout(timeoutMs: number, ts: () => BigInt64Array): BigInt64Array | null {
  if (!Number.isFinite(timeoutMs)) return null;
  const ns = Math.round(Math.max(0, timeoutMs) * 1e6);
  const sec = Math.floor(ns / 1e9);
  const into = ts();
  into[0] = BigInt(sec);
  into[1] = BigInt(ns - sec * 1e9);
  return into;
}

/**
 * Sleeps on a 32-bit word in shared memory until woken or the timeout passes,
 * provided the word still holds `expected` (FUTEX_WAIT, not process-private,
 * so a waker in another process reaches it). Runs off the event loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexWait } from "./libc.ts";
 * const word = new Int32Array(1);
 * // Sleeps up to 10 ms, as the word still holds 0.
 * const started = performance.now();
 * await futexWait(Deno.UnsafePointer.of(word)!, 0, 10);
 * assert.ok(performance.now() - started >= 5);
 * // Returns at once when the word no longer holds what the caller saw.
 * await futexWait(Deno.UnsafePointer.of(word)!, 1, 10_000);
 * ```
 */
export function futexWait(
  word: Deno.PointerObject,
  expected: number,
  timeoutMs: number,
): Promise<bigint> {
  // A timespec of its own: the call reads it on another thread, later.
  const ts = relativeTimeout(timeoutMs, () => new BigInt64Array(2));
  return libc().futex_wait(...futexWaitArgs(word, expected, ts)) as Promise<bigint>;
}

const syncTimespec = new BigInt64Array(2);

/**
 * {@linkcode futexWait} on the calling thread: blocks it, event loop and
 * all, until woken, the timeout passes or a signal interrupts, and returns
 * at once when the word no longer holds `expected`. For a thread with
 * nothing else to do: it wakes without the two thread hops of the
 * asynchronous wait. The caller looks again whatever ended the wait.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexWaitSync } from "./libc.ts";
 * const word = new Int32Array(1);
 * // Sleeps 10 ms, as the word still holds 0 and nobody wakes it.
 * const started = performance.now();
 * futexWaitSync(Deno.UnsafePointer.of(word)!, 0, 10);
 * assert.ok(performance.now() - started >= 10);
 * // Returns at once when the word no longer holds what the caller saw.
 * futexWaitSync(Deno.UnsafePointer.of(word)!, 1, 10_000);
 * ```
 */
export function futexWaitSync(word: Deno.PointerObject, expected: number, timeoutMs: number): void {
  // One timespec serves every call: the call reads it before it returns.
  const ts = relativeTimeout(timeoutMs, () => syncTimespec);
  libc().futex_wait_sync(...futexWaitArgs(word, expected, ts));
}

/**
 * Wakes every waiter sleeping on a shared 32-bit word (FUTEX_WAKE).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { futexWake } from "./libc.ts";
 * // Nobody waits: it returns at once.
 * assert.equal(futexWake(Deno.UnsafePointer.of(new Int32Array(1))!), undefined);
 * ```
 */
export function futexWake(word: Deno.PointerObject): void {
  libc().futex_wake(BigInt(SYS_FUTEX), word, BigInt(FUTEX_WAKE), 0x7fffffffn, 0n, 0n, 0n);
}
