/**
 * `import`: Backfill JSON lines or a tape into a chronicle queue. Not yet available: it arrives with the chronicle queue.
 * The entry exists so the manifest, `deno task import` and `deno task compile`
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
 * import { main } from "./import.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const command = newCommand(
    "import",
    "Backfill JSON lines or a tape into a chronicle queue (not yet available)",
  )
    .argument("[file]", "JSON lines or tape to import, or - for stdin")
    .option("--to <queue>", "queue to import into")
    .option("--format <format>", "input format: jsonl or tape");
  await command.parseAsync(args, { from: "user" });
  throw new Error("Not yet available: 'import' arrives with the chronicle queue");
}

if (import.meta.main) Deno.exit(await runProgram("import", () => main(Deno.args)));
