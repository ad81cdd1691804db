/**
 * The walk over a sealed store's units, shared by writers (resuming) and
 * readers: it tells run headers from segments, checks each unit's
 * structure and checksum, and checks their order, all without a key. A
 * unit cut short, or failing its checksum, at the very end of a file is a
 * torn tail (a writer died writing it); the same anywhere else is damage.
 *
 * The walk is incremental: at the current end it stops, and when the store
 * has grown it goes on from there, so a reader can follow a live store.
 *
 * @module
 */

import { SealedDamageError, SealedFormatError } from "./sealed_errors.ts";
import { FORMAT_VERSION, RUN_MAGIC, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC } from "./sealed_format.ts";
import { parseRunHeader, type RunHeader } from "./run_header.ts";
import { decodeSegmentHeader, segmentChecksumOk, type SegmentHeader } from "./segment_header.ts";
import { fieldsLength, runHeaderLength, unitKind } from "./store_unit.ts";

/**
 * Where a walk reads units from: a file store's bytes, or a SQLite store's
 * rows. Positions are opaque to the walk: a byte offset in a file, a unit's
 * ordinal number in SQLite.
 */
export interface UnitSource {
  /** How messages name the store: `DIR/stream.sealed` or `FILE#stream`. */
  readonly path: string;
  /**
   * Whether the store's end can hold a unit cut short: true for a file
   * written by appends, false for SQLite, whose rows are whole or absent.
   */
  readonly tearable: boolean;
  /**
   * Up to `length` bytes starting with the unit at `position`: fewer at the
   * end of the store, and, for a source of separate units (SQLite), at the
   * end of that unit. Empty when no unit starts there yet. A source that
   * copies the bytes may copy them into a buffer from `buffer(n)` (at least
   * `n` bytes, the caller's to keep) rather than a new one.
   */
  read(
    position: number,
    length: number,
    buffer?: (length: number) => Uint8Array<ArrayBuffer>,
  ): Uint8Array;
  /** The position of the unit after the `length`-byte unit at `position`. */
  after(position: number, length: number): number;
  /** The position just past the store's last byte (a file's size). */
  end(): number;
  /** Whether every byte from `position` to the end is zero (a file's unwritten tail). */
  zeroFrom(position: number): boolean;
  /**
   * Where the unit at `position` sits, for messages and checks: for SQLite
   * its row's run and index (−1 for a run header); `undefined` for a file.
   */
  keyAt(position: number): { run: number; index: number } | undefined;
}

/** What a walk knows about a store. */
export interface StoreState {
  /** Run headers found. */
  runs: number;
  /** The last run: its header, its segments, and whether it ended with a final one. */
  lastRun: { run: number; header: RunHeader; segments: number; final: boolean } | undefined;
  /** The last seq of the last segment holding records; 0 when none does. */
  lastSeq: number;
  /** The position just past the last whole unit. */
  endOffset: number;
  /** Bytes of a torn tail after it; 0 when there is none. */
  tornBytes: number;
}

/**
 * A unit the walk passed: a run header, or a segment with its exact bytes
 * (its header only, when the walk passed it without its checksum).
 * `checked` is false for a segment whose checksum the walk left to its
 * caller (see {@linkcode StoreWalkerOptions.deferChecksums}), which then
 * reports a mismatch as `checksumDamage()` (the error the walk would have
 * thrown there).
 */
export type WalkedUnit =
  | { kind: "run"; header: RunHeader; offset: number }
  | {
    kind: "segment";
    header: SegmentHeader;
    unit: Uint8Array;
    offset: number;
    run: number;
    checked: boolean;
    checksumDamage: () => SealedDamageError;
  };

/** Options of a {@linkcode StoreWalker}. */
export interface StoreWalkerOptions {
  /**
   * Byte offset before which a file store's segments are checked by their
   * headers only (no wire read, no checksum). Default 0: every segment is
   * checked.
   */
  checksumFrom?: number;
  /**
   * Leave the checksum of a segment to the caller wherever a mismatch would
   * be damage (`checksum`) rather than a torn tail, so a reader checks it
   * on a worker thread beside the cipher; the unit then comes with
   * `checked: false`, and a mismatch is reported with its
   * `checksumDamage()`. The walk still checks it before
   * it reports any other damage of that segment, so the error is the one a
   * full check would give. The last unit of a file is always checked here,
   * since only the walk can tell a torn tail.
   */
  deferChecksums?: boolean;
  /** Where segments are read into (see {@linkcode UnitSource.read}); default: new buffers. */
  buffer?: (length: number) => Uint8Array<ArrayBuffer>;
}

/** Options of {@linkcode scanStore}. */
export interface ScanOptions {
  /**
   * `all` (the default) checks the checksum of every segment; `last-run`
   * only those of the last run, in a file store, and the headers of the
   * rest. A writer resumes with `last-run`: a crash can only have torn the
   * last run, and the runs before it were checked by the writer that
   * followed them, so a resume costs the last run, not the whole store.
   */
  checksums?: "all" | "last-run";
}

/**
 * Walks a store's units in order, checking them. {@linkcode StoreWalker.next}
 * returns the next unit, or `undefined` at the current end; call it again
 * after the store has grown to go on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreWalker, type UnitSource } from "./store_scan.ts";
 * const bytes = new Uint8Array(0);
 * const source: UnitSource = {
 *   path: "empty", tearable: true, read: () => bytes, after: (p, n) => p + n,
 *   end: () => 0, zeroFrom: () => true, keyAt: () => undefined,
 * };
 * const walker = new StoreWalker(source);
 * assert.equal(walker.next(), undefined);
 * assert.equal(walker.state.runs, 0);
 * assert.equal(walker.tornAt, undefined);
 * ```
 */
export class StoreWalker {
  readonly #source: UnitSource;
  #runs = 0;
  #lastRun: StoreState["lastRun"];
  #lastSeq = 0;
  #position = 0;
  #tornAt: number | undefined;
  #tornBytes = 0;
  #units = 0;

  readonly #checksumFrom: number;
  readonly #deferChecksums: boolean;
  readonly #buffer: ((length: number) => Uint8Array<ArrayBuffer>) | undefined;

  /**
   * A walk from the start of `source`. Segments of a file store before
   * `options.checksumFrom` (a byte offset) are checked by their headers
   * only: their wire is not read, and their checksum not taken.
   */
  constructor(source: UnitSource, options: StoreWalkerOptions = {}) {
    this.#source = source;
    this.#checksumFrom = options.checksumFrom ?? 0;
    this.#deferChecksums = options.deferChecksums ?? false;
    this.#buffer = options.buffer;
  }

  /** What the walk has found so far. */
  get state(): StoreState {
    return {
      runs: this.#runs,
      lastRun: this.#lastRun === undefined ? undefined : { ...this.#lastRun },
      lastSeq: this.#lastSeq,
      endOffset: this.#position,
      tornBytes: this.#tornBytes,
    };
  }

  /**
   * Where a torn unit starts, when the last {@linkcode StoreWalker.next}
   * stopped at one: a writer may still be writing it, or died writing it.
   */
  get tornAt(): number | undefined {
    return this.#tornAt;
  }

  /**
   * What is wrong with the store as it ends now, for a reader at the end
   * when no writer holds the store (while one does, both are work in
   * progress): a torn unit, or a last run without its final segment.
   * `undefined` for a clean end: the last run finished, or no run at all.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StoreWalker, type UnitSource } from "./store_scan.ts";
   * const bytes = new Uint8Array([0x53, 0x53]);
   * const source: UnitSource = {
   *   path: "s", tearable: true, read: (p, n) => bytes.subarray(p, p + n),
   *   after: (p, n) => p + n, end: () => bytes.length, zeroFrom: () => false, keyAt: () => undefined,
   * };
   * const walker = new StoreWalker(source);
   * assert.equal(walker.next(), undefined);
   * assert.equal(walker.endDamage()?.reason, "torn");
   * ```
   */
  endDamage(): SealedDamageError | undefined {
    if (this.#tornAt !== undefined) {
      return this.#damage(
        this.#tornAt,
        "torn",
        `the store ends with ${this.#tornBytes} bytes of a unit cut short or failing its checksum`,
      );
    }
    const run = this.#lastRun;
    if (run === undefined || run.final) return undefined;
    return this.#damage(
      this.#position,
      "unfinished",
      `run ${run.run} ends at ${this.#where(this.#position)} without its final segment`,
    );
  }

  // A position as messages name it: a byte offset, or a SQLite unit's number.
  #where(position: number): string {
    return this.#source.tearable ? `offset ${position}` : `unit ${position}`;
  }

  /**
   * The next unit after checking it, or `undefined` at the current end
   * (with {@linkcode StoreWalker.tornAt} set when a torn unit lies there).
   *
   * @throws {SealedDamageError} for a unit damaged or out of order; `seq` is
   *   the last seq of the segments passed so far.
   * @throws {SealedFormatError} when the store does not start as a sealed
   *   store, or a run header has a version or algorithm this code does not know.
   */
  next(): WalkedUnit | undefined {
    const src = this.#source;
    const at = this.#position;
    this.#tornAt = undefined;
    this.#tornBytes = 0;
    const prefix = src.read(at, SEGMENT_HEADER_BYTES);
    if (prefix.length === 0) return undefined;
    const kind = unitKind(prefix);
    if (kind === "unknown") {
      if (isMagicPrefix(prefix)) return this.#torn(at, "is cut short");
      if (src.tearable && src.zeroFrom(at)) return this.#torn(at, "is zeros");
      if (this.#units === 0) {
        throw new SealedFormatError(
          `'${src.path}' is not a sealed store: it does not start with a run header`,
          src.path,
          at,
        );
      }
      throw this.#damage(at, "header", "holds neither a run header nor a segment");
    }
    let length: number;
    let segment: SegmentHeader | undefined;
    try {
      if (kind === "run") {
        length = runHeaderLength(prefix, src.path, at);
      } else {
        segment = decodeSegmentHeader(prefix, src.path, at);
        length = SEGMENT_HEADER_BYTES + segment.wireLength;
      }
    } catch (error) {
      if (!(error instanceof SealedFormatError)) throw error;
      const short = kind === "run" ? prefix.length < 16 : prefix.length < SEGMENT_HEADER_BYTES;
      if (short) return this.#torn(at, "is cut short");
      if (kind === "run" && (this.#units === 0 || versionOf(prefix) !== FORMAT_VERSION)) {
        throw error;
      }
      throw this.#damage(at, "header", detailOf(error, src.path, at), error);
    }
    if (segment !== undefined && src.tearable && at < this.#checksumFrom) {
      const end = src.end();
      if (at + length > end) {
        return this.#torn(at, `is cut short: '${end - at}' of its '${length}' bytes`);
      }
      return this.#segment(segment, prefix, at, at + length === end, false);
    }
    // One byte more than the unit tells whether anything follows it.
    const bytes = src.read(at, length + 1, segment === undefined ? undefined : this.#buffer);
    if (bytes.length < length) {
      // A run header has no checksum: it is torn only when its own fields
      // agree with the length it claims, so a damaged length is never
      // taken for a tail to cut.
      const fields = kind === "run" ? fieldsLength(bytes) : undefined;
      if (fields !== undefined && fields !== length) {
        throw this.#damage(
          at,
          "header",
          `run header claims '${length}' bytes and its fields make '${fields}'`,
        );
      }
      return this.#torn(at, `is cut short: '${bytes.length}' of its '${length}' bytes`);
    }
    const last = bytes.length === length;
    if (!src.tearable && !last) {
      throw this.#damage(at, "header", "holds more bytes than its header says");
    }
    const unit = bytes.subarray(0, length);
    return segment === undefined
      ? this.#runHeader(unit, at, last)
      : this.#segment(segment, unit, at, last);
  }

  #runHeader(unit: Uint8Array, at: number, last: boolean): WalkedUnit | undefined {
    const src = this.#source;
    let header: RunHeader;
    try {
      header = parseRunHeader(unit, src.path, at);
    } catch (error) {
      if (!(error instanceof SealedFormatError)) throw error;
      // A run header has no checksum: its structure is what tells a header
      // the writer never finished writing, as the last unit.
      if (src.tearable && last) return this.#torn(at, "is malformed");
      throw this.#damage(at, "header", detailOf(error, src.path, at), error);
    }
    const key = src.keyAt(at);
    if (key !== undefined && (key.run !== header.run || key.index !== -1)) {
      throw this.#damage(at, "order", `holds the header of run ${header.run}`);
    }
    const prev = this.#lastRun;
    if (prev === undefined) {
      // parseRunHeader has checked that run 0 names no previous run.
      if (header.run !== 0) {
        throw this.#damage(at, "order", `starts with run ${header.run}, not run 0`);
      }
    } else {
      // How the previous run ended comes before its count: a run whose
      // final segment was cut off reads as that, not as a miscount.
      const problem = header.run !== prev.run + 1
        ? `run ${header.run} follows run ${prev.run}`
        : !equalBytes(header.prevHeaderHash, prev.header.hash)
        ? `run ${header.run} does not name the header of run ${prev.run} before it`
        : header.prevCut === prev.final
        ? (prev.final
          ? `run ${header.run} says run ${prev.run} was cut, and it ends with its final segment`
          : `run ${prev.run} ends at ${this.#where(at)} without its final segment`)
        : header.prevSegments !== prev.segments
        ? `run ${header.run} says run ${prev.run} holds ${header.prevSegments} segments, and it holds ${prev.segments}`
        : undefined;
      if (problem !== undefined) throw this.#damage(at, "order", problem);
    }
    this.#runs++;
    this.#lastRun = { run: header.run, header, segments: 0, final: false };
    this.#advance(at, unit.length);
    return { kind: "run", header, offset: at };
  }

  #segment(
    header: SegmentHeader,
    unit: Uint8Array,
    at: number,
    last: boolean,
    check = true,
  ): WalkedUnit | undefined {
    const src = this.#source;
    const torn = src.tearable && last;
    const checked = check && (torn || !this.#deferChecksums);
    // Where and after which seq, taken now: a SQLite source tells a unit's
    // key only in walking order.
    const key = src.keyAt(at);
    const seq = this.#lastSeq;
    const checksumDamage = () =>
      this.#damage(
        at,
        "checksum",
        `segment ${header.index} fails its checksum`,
        undefined,
        seq,
        key,
      );
    if (checked && !segmentChecksumOk(unit)) {
      // A killed writer leaves a unit cut short, never a whole one: a whole
      // last unit failing its checksum is torn only when it ends in zeros
      // (blocks a machine crash left unwritten). Otherwise it is rot or
      // tampering of what may be committed, and no writer may cut it.
      if (torn && endsInZeros(unit)) return this.#torn(at, "fails its checksum, ending in zeros");
      throw checksumDamage();
    }
    // A segment whose checksum is left to the caller is checked before any
    // other damage is told: a checksum mismatch comes first, as in a full walk.
    const damage = (reason: SealedDamageError["reason"], detail: string) =>
      check && !checked && !segmentChecksumOk(unit)
        ? checksumDamage()
        : this.#damage(at, reason, detail, undefined, seq, key);
    const run = this.#lastRun;
    if (run === undefined) {
      throw damage("order", "the store starts with a segment, not a run header");
    }
    if (key !== undefined && (key.run !== run.run || key.index !== header.index)) {
      throw damage("order", `holds segment ${header.index} of run ${run.run}`);
    }
    if (run.final) {
      throw damage(
        "order",
        `segment ${header.index} follows the final segment of run ${run.run}`,
      );
    }
    if (header.index !== run.segments) {
      throw damage(
        "order",
        `segment ${header.index} of run ${run.run} is where segment ${run.segments} belongs`,
      );
    }
    if (header.dataFrames > 0 && header.firstSeq <= this.#lastSeq) {
      throw damage(
        "order",
        `segment ${header.index} of run ${run.run} starts at seq ${header.firstSeq}, not after ${this.#lastSeq}`,
      );
    }
    run.segments++;
    run.final = header.final;
    if (header.dataFrames > 0) this.#lastSeq = header.lastSeq;
    this.#advance(at, SEGMENT_HEADER_BYTES + header.wireLength);
    return { kind: "segment", header, unit, offset: at, run: run.run, checked, checksumDamage };
  }

  #advance(at: number, length: number): void {
    this.#position = this.#source.after(at, length);
    this.#units++;
  }

  // A unit cut short at the end, or failing its checksum as the last
  // unit, or a tail of zeros: torn in a file; SQLite rows are never torn.
  #torn(at: number, detail: string): undefined {
    const src = this.#source;
    if (!src.tearable) throw this.#damage(at, "torn", `the unit ${detail}`);
    this.#tornAt = at;
    this.#tornBytes = Math.max(0, src.end() - at);
    return undefined;
  }

  #damage(
    at: number,
    reason: SealedDamageError["reason"],
    detail: string,
    cause?: unknown,
    seq = this.#lastSeq,
    key = this.#source.keyAt(at),
  ): SealedDamageError {
    const where = key === undefined ? "" : `unit ${at} (run ${key.run}, index ${key.index}): `;
    return new SealedDamageError(
      this.#source.path,
      at,
      seq,
      reason,
      where + detail,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * Walks `source` to its current end and returns what it found: a writer's
 * view of a store before it resumes. A torn tail shows as
 * `tornBytes > 0` after `endOffset`.
 *
 * @throws {SealedDamageError} or {SealedFormatError} as {@linkcode StoreWalker.next} does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanStore, type UnitSource } from "./store_scan.ts";
 * const bytes = new Uint8Array([0x89, 0x53, 0x50]);
 * const source: UnitSource = {
 *   path: "torn", tearable: true, read: (p, n) => bytes.subarray(p, p + n),
 *   after: (p, n) => p + n, end: () => bytes.length, zeroFrom: () => false, keyAt: () => undefined,
 * };
 * assert.deepEqual(scanStore(source), { runs: 0, lastRun: undefined, lastSeq: 0, endOffset: 0, tornBytes: 3 });
 * ```
 */
export function scanStore(source: UnitSource, options: ScanOptions = {}): StoreState {
  let checksumFrom = 0;
  if (options.checksums === "last-run") {
    // A first walk, of headers only, finds where the last run starts.
    const headers = new StoreWalker(source, { checksumFrom: Infinity });
    for (let unit = headers.next(); unit !== undefined; unit = headers.next()) {
      if (unit.kind === "run") checksumFrom = unit.offset;
    }
  }
  const walker = new StoreWalker(source, { checksumFrom });
  while (walker.next() !== undefined) { /* walk on */ }
  return walker.state;
}

// Whether the last 512 bytes of `unit` (all of its wire, when shorter) are
// zero: ciphertext never is, a file system's unwritten blocks are.
function endsInZeros(unit: Uint8Array): boolean {
  const from = Math.max(SEGMENT_HEADER_BYTES, unit.length - 512);
  if (from >= unit.length) return false;
  for (let i = from; i < unit.length; i++) if (unit[i] !== 0) return false;
  return true;
}

// The first bytes of a magic, too few to tell: a unit whose first bytes
// are all that was written.
function isMagicPrefix(prefix: Uint8Array): boolean {
  return [RUN_MAGIC, SEGMENT_MAGIC].some((magic) =>
    prefix.length < magic.length && prefix.every((b, i) => b === magic[i])
  );
}

function versionOf(prefix: Uint8Array): number {
  return prefix.length < 10 ? -1 : prefix[8]! | (prefix[9]! << 8);
}

// The header modules' messages name the store and offset, which the damage
// message names already: keep what they say about the unit.
function detailOf(error: SealedFormatError, path: string, at: number): string {
  for (const what of ["Run header", "Segment"]) {
    const prefix = `${what} at offset ${at} of '${path}' `;
    if (error.message.startsWith(prefix)) {
      return `${what.toLowerCase()} ${error.message.slice(prefix.length)}`;
    }
  }
  return error.message;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
