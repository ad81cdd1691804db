/**
 * Which way a consumer program reads what it is pointed at: one tape as a
 * tape (its records, with the options only a tape has), anything else (a
 * queue, a bus stream, or several sources merged) through the stream API.
 *
 * @module
 */

import { locateStream } from "../stream/mod.ts";

/** How a program reads its sources; see {@linkcode routeSources}. */
export type SourceRoute =
  | {
    /** One tape, read as a tape. */
    kind: "tape";
    /** The tape file. */
    path: string;
  }
  | {
    /** Read through the stream API, merged by time when there are several. */
    kind: "stream";
    /** Each source's tape file or queue directory, in the order given. */
    paths: string[];
  };

/**
 * Finds what each location holds and decides how to read it: a single tape
 * as a tape, everything else as streams.
 *
 * @throws {StreamLocationError} for a location that is neither a tape nor a queue.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TapeWriter } from "../tape/mod.ts";
 * import { routeSources } from "./source_route.ts";
 * const dir = await Deno.makeTempDir();
 * const writer = await TapeWriter.create(dir);
 * await writer.finalize();
 * assert.deepEqual(await routeSources([writer.tapeId], dir), { kind: "tape", path: writer.path });
 * assert.deepEqual(await routeSources([writer.path, writer.path]), {
 *   kind: "stream",
 *   paths: [writer.path, writer.path],
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function routeSources(
  locations: readonly string[],
  tapesDir?: string,
): Promise<SourceRoute> {
  const found = await Promise.all(locations.map((l) => locateStream(l, tapesDir)));
  const only = found.length === 1 ? found[0] : undefined;
  if (only?.kind === "tape") return { kind: "tape", path: only.path };
  return { kind: "stream", paths: found.map((f) => f.path) };
}

/**
 * The options of each consumer program that only a tape read as a tape has,
 * in the order a misplaced one is reported.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TAPE_ONLY_OPTIONS } from "./source_route.ts";
 * assert.ok(TAPE_ONLY_OPTIONS.tail.includes("--stats"));
 * ```
 */
export const TAPE_ONLY_OPTIONS = {
  replay: ["--serve", "--verify", "--raw", "--dir", "--method", "--progress"],
  tail: ["--stats", "--all", "--dir", "--method", "--wall", "--forever"],
} as const;

/**
 * The first of `program`'s tape-only options given in `options`, or
 * undefined; see {@linkcode firstGivenOption}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tapeOnlyOption } from "./source_route.ts";
 * assert.equal(tapeOnlyOption("tail", { json: true, method: ["ping"] }), "--method");
 * assert.equal(tapeOnlyOption("tail", { json: true, method: [] }), undefined);
 * ```
 */
export function tapeOnlyOption(
  program: keyof typeof TAPE_ONLY_OPTIONS,
  options: Readonly<Record<string, unknown>>,
): string | undefined {
  return firstGivenOption(TAPE_ONLY_OPTIONS[program], options);
}

/**
 * The first of `flags` given in `options`, or undefined. `options` are the
 * parsed options, keyed by the camel case of each long option
 * (`--from-seq` is `fromSeq`); an option counts as given unless it is
 * undefined, false or an empty list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstGivenOption } from "./source_route.ts";
 * assert.equal(firstGivenOption(["--depth", "--final"], { final: true }), "--final");
 * assert.equal(firstGivenOption(["--depth"], { depth: undefined }), undefined);
 * ```
 */
export function firstGivenOption(
  flags: readonly string[],
  options: Readonly<Record<string, unknown>>,
): string | undefined {
  return flags.find((flag) => {
    const value = options[flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())];
    return value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0);
  });
}
