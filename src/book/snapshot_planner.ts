/**
 * When to snapshot the books: every N events, every T of stream time or
 * every B bytes, whichever comes first, and only where a batch ends, so a
 * snapshot never holds half a batch.
 *
 * @module
 */

/**
 * How often to snapshot. Every limit set applies and the first one reached
 * wins; at least one must be set. Counts start again after each snapshot.
 */
export interface SnapshotPlan {
  /** Book events since the last snapshot. */
  everyEvents?: number;
  /** Stream time (record timestamps) since the last snapshot, in ns. */
  everyNs?: bigint;
  /** Record bytes since the last snapshot. */
  everyBytes?: number;
}

const TIME_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/**
 * Parses the text of a `--snapshot-every` option: one or more limits
 * separated by commas. A bare whole number counts events (`1000000`), a
 * number with `ns`, `us`, `ms`, `s`, `m` or `h` is stream time (`10m`), and
 * one with `B`, `KB`, `MB`, `GB`, `KiB`, `MiB` or `GiB` is bytes (`256MiB`).
 *
 * @throws {RangeError} for text that is none of these, a limit given twice, or a limit of zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSnapshotPlan } from "./snapshot_planner.ts";
 * assert.deepEqual(parseSnapshotPlan("1000000,10m"), {
 *   everyEvents: 1_000_000,
 *   everyNs: 600_000_000_000n,
 * });
 * assert.deepEqual(parseSnapshotPlan("64MiB"), { everyBytes: 64 * 1024 * 1024 });
 * assert.throws(() => parseSnapshotPlan("1M"), RangeError);
 * ```
 */
export function parseSnapshotPlan(text: string): SnapshotPlan {
  const plan: SnapshotPlan = {};
  for (const raw of text.split(",")) {
    const item = raw.trim();
    const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(item);
    const unit = match?.[2] ?? "";
    const bad = () =>
      new RangeError(
        `Snapshot interval '${item}' is not valid: use a number of events ('1000000'), ` +
          `a stream time ('10m', '30s', '500ms') or a size ('256MiB', '1GB')`,
      );
    if (match === null) throw bad();
    const number = match[1]!;
    let key: keyof SnapshotPlan;
    let value: number | bigint;
    if (unit === "") {
      if (number.includes(".")) throw bad();
      key = "everyEvents";
      value = Number(number);
    } else if (unit in TIME_UNITS) {
      key = "everyNs";
      const [whole, fraction = ""] = number.split(".");
      const scale = TIME_UNITS[unit]!;
      const digits = BigInt(10 ** fraction.length);
      value = (BigInt(whole!) * digits + BigInt(fraction || "0")) * scale / digits;
    } else if (unit in BYTE_UNITS) {
      key = "everyBytes";
      value = Math.round(Number(number) * BYTE_UNITS[unit]!);
    } else {
      throw bad();
    }
    if (plan[key] !== undefined) {
      throw new RangeError(`Snapshot interval '${text}' gives the ${limitName(key)} twice`);
    }
    if (value === 0 || value === 0n) {
      throw new RangeError(`Snapshot interval '${item}' must be above zero`);
    }
    (plan as Record<string, number | bigint>)[key] = value;
  }
  return plan;
}

function limitName(key: keyof SnapshotPlan): string {
  return key === "everyEvents" ? "event count" : key === "everyNs" ? "stream time" : "size";
}

/**
 * Counts events, bytes and stream time since the last snapshot and says,
 * at each batch end, whether the next snapshot is due. It allocates
 * nothing per event: the stream-time deadline is one bigint, replaced only
 * when a snapshot is taken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SnapshotPlanner } from "./snapshot_planner.ts";
 * const planner = new SnapshotPlanner({ everyEvents: 3 });
 * assert.equal(planner.observe(1n, 72, true), false);
 * assert.equal(planner.observe(2n, 72, false), false);
 * assert.equal(planner.observe(3n, 72, false), false); // due, but inside a batch
 * assert.equal(planner.observe(4n, 72, true), true);   // the batch ends
 * planner.taken(4n);
 * assert.equal(planner.events, 0);
 * ```
 */
export class SnapshotPlanner {
  /** The limits. */
  readonly plan: Readonly<SnapshotPlan>;
  /** Events since the last snapshot. */
  events = 0;
  /** Bytes since the last snapshot. */
  bytes = 0;
  readonly #everyEvents: number;
  readonly #everyBytes: number;
  readonly #everyNs: bigint;
  readonly #timed: boolean;
  // Stream time at which a snapshot falls due; set by the first event seen.
  #dueNs = 0n;
  #started = false;

  /**
   * A planner for `plan`.
   *
   * @throws {RangeError} when no limit is set or one is not above zero.
   */
  constructor(plan: SnapshotPlan) {
    const { everyEvents, everyBytes, everyNs } = plan;
    if (everyEvents === undefined && everyBytes === undefined && everyNs === undefined) {
      throw new RangeError("Snapshot plan sets no limit: give events, stream time or bytes");
    }
    for (const [name, value] of [["events", everyEvents], ["bytes", everyBytes]] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(`Snapshot plan's ${name} '${value}' must be a whole number above 0`);
      }
    }
    if (everyNs !== undefined && !(typeof everyNs === "bigint" && everyNs > 0n)) {
      throw new RangeError(`Snapshot plan's stream time '${everyNs}' must be a bigint above 0`);
    }
    this.plan = { ...plan };
    this.#everyEvents = everyEvents ?? Infinity;
    this.#everyBytes = everyBytes ?? Infinity;
    this.#everyNs = everyNs ?? 0n;
    this.#timed = everyNs !== undefined;
  }

  /**
   * Counts one event of `bytes` bytes stamped `timestampNs`; true when it
   * ends a batch (`batchEnd`) and a limit has been reached, so a snapshot
   * taken now is due. The caller then takes it and calls
   * {@linkcode SnapshotPlanner.taken}.
   */
  observe(timestampNs: bigint, bytes: number, batchEnd: boolean): boolean {
    this.events++;
    this.bytes += bytes;
    if (!this.#started) this.taken(timestampNs);
    if (!batchEnd) return false;
    return this.events >= this.#everyEvents || this.bytes >= this.#everyBytes ||
      (this.#timed && timestampNs >= this.#dueNs);
  }

  /** Starts counting again from a snapshot taken at stream time `timestampNs`. */
  taken(timestampNs: bigint): void {
    if (this.#started) {
      this.events = 0;
      this.bytes = 0;
    }
    this.#started = true;
    if (this.#timed) this.#dueNs = timestampNs + this.#everyNs;
  }
}
