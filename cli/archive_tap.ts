/**
 * `archive-tap`: Copy a live chronicle queue into its durable archive. Not yet available: it arrives with the chronicle queue.
 * The entry exists so the manifest, `deno task archive-tap` and `deno task compile`
 * already know it.
 *
 * @module
 */

import { newCommand, runProgram } from "./_program.ts";

/**
 * Parses the arguments and reports that the program is not available yet.
 *
 * @example
 * ```ts ignore
 * import { main } from "./archive_tap.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const command = newCommand(
    "archive-tap",
    "Copy a live chronicle queue into its durable archive (not yet available)",
  )
    .option("--live <queue>", "live queue to copy from")
    .option("--archive <queue>", "archive queue to copy into")
    .option("--start <mode>", "where to start: earliest, latest or committed")
    .option("--once", "drain what is there and exit");
  await command.parseAsync(args, { from: "user" });
  throw new Error("Not yet available: 'archive-tap' arrives with the chronicle queue");
}

if (import.meta.main) Deno.exit(await runProgram("archive-tap", () => main(Deno.args)));
