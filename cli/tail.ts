/**
 * `tail`: shows the last records of a tape, follows it as it grows, or
 * summarizes it. Parsing only; the work is done by `src/tail/`.
 *
 * @module
 */

import { newCommand, runProgram, UsageError } from "./_program.ts";
import { directionOption, methodOption, wholeNumber } from "./_options.ts";
import { findProgram } from "./manifest.ts";
import type { FrameFilter } from "../src/replay/mod.ts";
import { DEFAULT_TAPES_DIR } from "../src/tape/mod.ts";
import { tailTape, tapeStats, wantsColor } from "../src/tail/mod.ts";

const EXAMPLES = `
Examples:
  # The last 10 frames of a tape (a path, a .meta.json or a tape id)
  tail tapes/20261122T031500Z-1a2b3c4d.jsonl

  # Watch a recording live until it is finalized
  tail 20261122T031500Z-1a2b3c4d --tapes ./tapes -f

  # Only the errors' context: tools/call frames, as JSON for jq
  tail <tape> -n 100 --method tools/call --json | jq -c '.env.error // empty'

  # Summary: frames by direction and action, methods with RTT p50/p99, errors, timeouts
  tail <tape> --stats

Human format, one line per frame:
  <seconds since start> <→ client to server | ← server to client> <action> <method> #<id> <RTT> <size>
A response shows its request's method and round trip. Colour only on a terminal, never with NO_COLOR.

Exit status: 0; 1 when the tape cannot be read; 2 for a usage error.
`;

/**
 * Builds the `tail` command line parser.
 *
 * @example
 * ```ts
 * import { tailCommand } from "./tail.ts";
 * console.log(tailCommand().name()); // "tail"
 * ```
 */
export function tailCommand() {
  return newCommand("tail", findProgram("tail")?.summary ?? "Show a tape")
    .argument("<tape>", "tape: path to a .jsonl or .meta.json file, or a tape id")
    .option("--tapes <dir>", "directory where tape ids are looked up", DEFAULT_TAPES_DIR)
    .option("-n, --lines <n>", "how many records to show before following", wholeNumber, 10)
    .option(
      "-f, --follow",
      "keep showing records as they are appended, until the tape is finalized",
    )
    .option("--forever", "with -f: keep following after the tape is finalized (stop with Ctrl-C)")
    .option("--json", "print records as JSON lines (with --stats: the summary as one JSON object)")
    .option("-a, --all", "also show correlation and checkpoint records, not only frames")
    .addOption(directionOption())
    .addOption(methodOption())
    .option("--wall", "show wall-clock times (local) instead of seconds since the tape started")
    .option("--stats", "print a summary of the whole tape instead of its last records")
    .addHelpText("after", EXAMPLES);
}

/**
 * Runs `tail` with the given arguments and returns its exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./tail.ts";
 * Deno.exit(await main(["tapes/x.jsonl", "-n", "5"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = tailCommand();
  await program.parseAsync(args, { from: "user" });
  const opts = program.opts();
  const tape = program.processedArgs[0];
  if (opts.forever && !opts.follow) throw new UsageError("Option '--forever' needs '--follow'");
  if (opts.stats && opts.follow) {
    throw new UsageError("Options '--stats' and '--follow' exclude each other");
  }
  const filter: FrameFilter = {
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
    ...(opts.method.length === 0 ? {} : { methods: opts.method }),
  };
  const color = wantsColor();
  if (opts.stats) {
    await tapeStats({ tape, tapesDir: opts.tapes, filter, json: opts.json ?? false, color });
    return 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  if (opts.follow) Deno.addSignalListener("SIGINT", onSignal);
  try {
    await tailTape({
      tape,
      tapesDir: opts.tapes,
      lines: opts.lines,
      follow: opts.follow ?? false,
      forever: opts.forever ?? false,
      json: opts.json ?? false,
      all: opts.all ?? false,
      filter,
      color,
      time: opts.wall ? "wall" : "relative",
      signal: stop.signal,
    });
  } finally {
    if (opts.follow) Deno.removeSignalListener("SIGINT", onSignal);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await runProgram("tail", () => main(Deno.args)));
