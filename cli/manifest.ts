/**
 * The program manifest: the one place that names each spool program, its
 * entry file and the exact Deno permission flags it runs with.
 *
 * `deno task <program>` (see `deno.json`), `deno task compile` and the tests
 * all derive from this list, so a program never runs from source with
 * different permissions than its compiled binary has.
 *
 * @module
 */

/** One program of the manifest. */
export interface ProgramSpec {
  /** Name of the program, as used by `deno task <name>` and `dist/<name>`. */
  readonly name: string;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  /** Deno permission flags the program runs with, in order. */
  readonly permissions: readonly string[];
  /** One-line summary shown by documentation and `--help`. */
  readonly summary: string;
  /**
   * Modules loaded at run time rather than imported (Worker modules), which
   * `deno compile` must be told to embed.
   */
  readonly include: readonly string[];
}

// Every program may seal or open a sealed store, whose ciphers run in Workers.
const SEALED_WORKERS = ["src/sealed/cipher_worker.ts"] as const;

/**
 * Every spool program, in the order the README lists them.
 *
 * @example Every program reads files; the ones reading queues bind libc
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROGRAMS } from "./manifest.ts";
 * assert.deepEqual(
 *   PROGRAMS.map((p) => p.name),
 *   ["record", "replay", "tail", "archive-tap", "import", "keygen"],
 * );
 * assert.ok(PROGRAMS.every((p) => p.permissions.includes("--allow-read")));
 * assert.equal(PROGRAMS.find((p) => p.name === "record")!.permissions.includes("--allow-ffi"), false);
 * ```
 */
export const PROGRAMS: readonly ProgramSpec[] = [
  {
    name: "record",
    entry: "cli/record.ts",
    permissions: ["--allow-read", "--allow-write", "--allow-run", "--allow-env"],
    summary: "Record the traffic between a client and a server command into a tape",
    include: SEALED_WORKERS,
  },
  {
    name: "replay",
    entry: "cli/replay.ts",
    permissions: ["--allow-read", "--allow-run", "--allow-env", "--allow-ffi", "--allow-net"],
    summary: "Replay a tape or queue, serve a tape as a mock server, or verify a server against it",
    include: SEALED_WORKERS,
  },
  {
    name: "tail",
    entry: "cli/tail.ts",
    permissions: ["--allow-read", "--allow-env", "--allow-ffi", "--allow-net"],
    summary: "Show the last records of a tape or queue and follow it as it grows",
    include: SEALED_WORKERS,
  },
  {
    name: "archive-tap",
    entry: "cli/archive_tap.ts",
    permissions: ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-net"],
    summary: "Copy a live queue into its durable archive, in order, resuming with no loss",
    include: SEALED_WORKERS,
  },
  {
    name: "import",
    entry: "cli/import.ts",
    permissions: ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-net"],
    summary: "Backfill JSON lines or a tape into a queue",
    include: SEALED_WORKERS,
  },
  {
    name: "keygen",
    entry: "cli/keygen.ts",
    permissions: ["--allow-read", "--allow-write", "--allow-env"],
    summary: "Make a key pair for sealed stores, in age's format",
    include: [],
  },
];

/**
 * Looks a program up by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findProgram } from "./manifest.ts";
 * assert.equal(findProgram("tail")?.entry, "cli/tail.ts");
 * assert.equal(findProgram("nope"), undefined);
 * ```
 */
export function findProgram(name: string): ProgramSpec | undefined {
  return PROGRAMS.find((p) => p.name === name);
}

/**
 * The `deno run` command line that runs a program from source, as written in
 * the program's `deno.json` task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findProgram, runCommandLine } from "./manifest.ts";
 * assert.equal(
 *   runCommandLine(findProgram("tail")!),
 *   "deno run --allow-read --allow-env --allow-ffi --allow-net cli/tail.ts",
 * );
 * ```
 */
export function runCommandLine(program: ProgramSpec): string {
  return ["deno", "run", ...program.permissions, program.entry].join(" ");
}
