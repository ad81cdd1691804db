/**
 * What writers and readers of a sealed store see of its storage, whatever
 * it is: a sink that takes units and makes groups of them durable, and a
 * source a walk reads units from. {@linkcode openSealedSink} and
 * {@linkcode openSealedSource} pick the file or SQLite store a location
 * names.
 *
 * @module
 */

import { FileSink, openFileSource } from "./file_store.ts";
import { openSqliteSource, SqliteSink } from "./sqlite_store.ts";
import type { SealedLocation } from "./store_location.ts";
import type { StoreState, StoreWalker, UnitSource } from "./store_scan.ts";

/**
 * A store open for writing, its lock held. Units are added in store order
 * and written by {@linkcode SealedSink.commit}, which makes them durable as
 * one group: a file write and `fdatasync`, or one SQLite transaction.
 */
export interface SealedSink {
  /** How messages name the store: `DIR/stream.sealed` or `FILE#stream`. */
  readonly path: string;
  /**
   * What the walk at open found: the last run, the last seq, and the torn
   * bytes cut from the end (`tornBytes`, now gone). It does not change as
   * units are added.
   */
  readonly state: StoreState;
  /**
   * Queues a unit, its exact bytes, which the sink keeps (unchanged, please)
   * until the commit: a run header (`index` −1) or segment `index` of run
   * `run`.
   */
  add(unit: Uint8Array, run: number, index: number): void;
  /**
   * Writes the units added since the last commit as one durable group.
   * Commits run one after another in call order. After a failed commit the
   * sink refuses all further units: a writer starts again by reopening.
   */
  commit(): Promise<void>;
  /** Releases the lock and the store; units added since the last commit are dropped. */
  close(): void;
}

/**
 * A store open for reading: its units, a walk over them from the start,
 * and whether a writer is at work on it.
 */
export interface SealedSource {
  /** How messages name the store: `DIR/stream.sealed` or `FILE#stream`. */
  readonly path: string;
  /** The units, read one at a time. */
  readonly units: UnitSource;
  /** A walk over `units` from the start; call its `next()` again after the store grows. */
  readonly walker: StoreWalker;
  /** Whether a writer holds the store's lock right now. */
  writerActive(): boolean;
  /** Closes the store. */
  close(): void;
}

/**
 * Opens the store at `loc` for writing: creates it when missing (directory
 * `0700`, files `0600`; nothing existing is chmodded), takes its lock,
 * walks it and cuts a torn tail.
 *
 * @throws {import("./store_lock.ts").SealedLockedError} when another writer holds it.
 * @throws {import("./sealed_errors.ts").SealedDamageError} when it is damaged before its end.
 * @throws {import("./sealed_errors.ts").SealedFormatError} when it is not a sealed store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSealedSink } from "./sealed_sink.ts";
 * const dir = Deno.makeTempDirSync();
 * const sink = await openSealedSink({ kind: "sqlite", file: `${dir}/s.db`, stream: undefined });
 * assert.equal(sink.path, `${dir}/s.db#default`);
 * assert.equal(sink.state.runs, 0);
 * sink.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function openSealedSink(loc: SealedLocation): Promise<SealedSink> {
  return loc.kind === "file" ? FileSink.open(loc.dir) : SqliteSink.open(loc.file, loc.stream);
}

/**
 * Opens the store at `loc` for reading. A SQLite location without a
 * stream opens the file's only stream.
 *
 * @throws {Deno.errors.NotFound} when there is no store there.
 * @throws {import("./sealed_errors.ts").SealedFormatError} when it is not a
 *   sealed store, or a SQLite file holds several streams and none is named.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openSealedSink, openSealedSource } from "./sealed_sink.ts";
 * const dir = Deno.makeTempDirSync();
 * const loc = { kind: "file", dir } as const;
 * const sink = await openSealedSink(loc);
 * const source = await openSealedSource(loc);
 * assert.equal(source.writerActive(), true);
 * assert.equal(source.walker.next(), undefined);
 * sink.close();
 * assert.equal(source.writerActive(), false);
 * source.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function openSealedSource(loc: SealedLocation): Promise<SealedSource> {
  return loc.kind === "file" ? openFileSource(loc.dir) : openSqliteSource(loc.file, loc.stream);
}
