/**
 * The bus layout: where the streams of one host live on disk.
 *
 * ```
 * <bus-root>/live/<stream>/queue/…     hot queue, for live processes
 * <bus-root>/archive/<stream>/queue/…  durable archive, for replay and backtests
 * ```
 *
 * A stream name is one path segment of letters, digits, `.`, `_` and `-`.
 *
 * @module
 */

import { queueExists } from "../chronicle/mod.ts";

/** A tier of the bus. */
export type BusTier = "live" | "archive";

/** The tiers, in the order discovery lists them. */
export const BUS_TIERS: readonly BusTier[] = ["live", "archive"];

/** One stream found on a bus. */
export interface BusStream {
  /** The stream's name. */
  name: string;
  /** Its tier. */
  tier: BusTier;
  /** The queue directory. */
  queue: string;
}

const STREAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * The queue directory of a stream on a bus.
 *
 * @throws {TypeError} for a tier that does not exist or a name that is not one path segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { busQueuePath } from "./bus_layout.ts";
 * assert.equal(busQueuePath("/var/spool/bus", "live", "quotes"), "/var/spool/bus/live/quotes/queue");
 * ```
 */
export function busQueuePath(root: string, tier: BusTier, stream: string): string {
  if (!BUS_TIERS.includes(tier)) {
    throw new TypeError(`Bus tier '${tier}' does not exist: use 'live' or 'archive'`);
  }
  if (!STREAM_NAME.test(stream)) {
    throw new TypeError(
      `Stream name '${stream}' is not valid: use letters, digits, '.', '_' and '-', starting with a letter, digit or '_'`,
    );
  }
  return `${root.replace(/\/+$/, "")}/${tier}/${stream}/queue`;
}

/**
 * The streams of a bus root, live then archive, each sorted by name. A
 * directory under a tier without a queue in it is skipped; a missing root or
 * tier has no streams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listBusStreams } from "./bus_layout.ts";
 * assert.deepEqual(listBusStreams("/nonexistent/bus"), []);
 * ```
 */
export function listBusStreams(root: string): BusStream[] {
  const out: BusStream[] = [];
  for (const tier of BUS_TIERS) {
    const dir = `${root.replace(/\/+$/, "")}/${tier}`;
    let names: string[];
    try {
      names = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        continue;
      }
      throw error;
    }
    for (const name of names.sort()) {
      if (!STREAM_NAME.test(name)) continue;
      const queue = `${dir}/${name}/queue`;
      let isQueue = false;
      try {
        isQueue = queueExists(queue);
      } catch {
        // Something else lives there: not a stream.
      }
      if (isQueue) out.push({ name, tier, queue });
    }
  }
  return out;
}
