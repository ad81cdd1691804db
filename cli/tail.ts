/**
 * `tail`: shows the last records of a tape, follows it as it grows, or
 * summarizes it. Parsing only; the work is done by `src/tail/`.
 *
 * @module
 */

import { newCommand, runProgram, UsageError, writeStderrLine } from "./_program.ts";
import { directionOption, methodOption, positiveWholeNumber, wholeNumber } from "./_options.ts";
import { findProgram } from "./manifest.ts";
import {
  addNatsCredentialOptions,
  type NatsCredentialFlags,
  useNatsFlags,
} from "./_nats_options.ts";
import { identityOption, useIdentityOption } from "./_sealing.ts";
import {
  type FrameFilter,
  routeSources,
  TAPE_ONLY_OPTIONS,
  tapeOnlyOption,
} from "../src/consumer/mod.ts";
import { stopSignals } from "../src/engine/mod.ts";
import { DEFAULT_TAPES_DIR } from "../src/tape/mod.ts";
import { BookScreen, tailStream, tailTape, tapeStats, wantsColor } from "../src/tail/mod.ts";
import { replayBooks } from "../src/book/mod.ts";

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

  # The last 3 records of a chronicle queue (or a bus stream directory), then follow it
  tail /var/spool/bus/live/quotes -n 3 -f
  tail ./queue -n 3 --json | jq -r .payload

  # The live top of book of a queue of book events, redrawn in place (JSON lines when piped)
  tail /var/spool/bus/live/goog --book -f --depth 5

Human format, one line per frame:
  <seconds since start> <→ client to server | ← server to client> <action> <method> #<id> <RTT> <size>
A response shows its request's method and round trip. Colour only on a terminal, never with NO_COLOR.

Queue format, one line per record:
  <UTC time, ns> #<seq> type <type id> <size> B <payload as text, or base64:… when not UTF-8>
--json prints {"seq","timestamp_ns","type_id","encoding":"utf8"|"base64","payload"} per record,
the form 'import --format jsonl' reads. With a queue, -f follows until Ctrl-C; the tape-only options
(${TAPE_ONLY_OPTIONS.tail.join(", ")}) do not apply.

Exit status: 0; 1 when the tape or queue cannot be read; 2 for a usage error.
`;

/**
 * Builds the `tail` command line parser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tailCommand } from "./tail.ts";
 * assert.equal(tailCommand().name(), "tail");
 * ```
 */
export function tailCommand() {
  const command = newCommand("tail", findProgram("tail")?.summary ?? "Show a tape")
    .argument(
      "<tape|queue>",
      "tape (a .jsonl or .meta.json file, or a tape id), queue (its directory, or a bus stream's), " +
        "or sealed store (sealed:DIR, sqlite:FILE[#stream], or its directory; with --identity)",
    )
    .option("--tapes <dir>", "directory where tape ids are looked up", DEFAULT_TAPES_DIR)
    .option("-n, --lines <n>", "how many records to show before following", wholeNumber, 10)
    .option(
      "-f, --follow",
      "keep showing records as they are appended, until the tape is finalized",
    )
    .option("--forever", "with -f: keep following after the tape is finalized (stop with Ctrl-C)")
    .option(
      "--json",
      "print records as JSON lines, exactly as stored (with --stats: the summary as one JSON object)",
    )
    .option("-a, --all", "also show correlation and checkpoint records, not only frames")
    .addOption(directionOption())
    .addOption(methodOption())
    .addOption(identityOption())
    .option("--wall", "show wall-clock times (local) instead of seconds since the tape started")
    .option("--stats", "print a summary of the whole tape instead of its last records")
    .option("--book", "queues: show the order book rebuilt from book events (with -f: live)")
    .option(
      "--market <market>",
      "with --book: only this market (symbol, market id, or venue:market)",
    )
    .option("--depth <n>", "with --book: levels per side (default 5)", positiveWholeNumber)
    .addHelpText("after", EXAMPLES);
  return addNatsCredentialOptions(command);
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
  useIdentityOption(opts);
  useNatsFlags(opts as NatsCredentialFlags);
  const tape = program.processedArgs[0];
  if (opts.forever && !opts.follow) throw new UsageError("Option '--forever' needs '--follow'");
  if (opts.stats && opts.follow) {
    throw new UsageError("Options '--stats' and '--follow' exclude each other");
  }
  const filter: FrameFilter = {
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
    ...(opts.method.length === 0 ? {} : { methods: opts.method }),
  };
  const route = await routeSources([tape], opts.tapes);
  const misplaced = route.kind === "stream" ? tapeOnlyOption("tail", opts) : undefined;
  if (misplaced) {
    throw new UsageError(`Option '${misplaced}' applies to tapes, not to '${tape}'`);
  }
  if (!opts.book && (opts.market !== undefined || opts.depth !== undefined)) {
    throw new UsageError(
      `Option '${opts.market !== undefined ? "--market" : "--depth"}' applies to '--book'`,
    );
  }

  // Following ends cleanly, with status 0, on Ctrl-C or a kill.
  using stop = stopSignals(opts.follow ? ["SIGINT", "SIGTERM"] : []);
  const common = { lines: opts.lines, follow: opts.follow ?? false, json: opts.json ?? false };
  if (opts.book) {
    if (route.kind !== "stream") {
      throw new UsageError("Option '--book' reads book events from a queue, not a tape");
    }
    await tailBook(route.paths[0]!, opts, stop.signal);
    return 0;
  }
  if (route.kind === "stream") {
    await tailStream({ ...common, location: route.paths[0]!, signal: stop.signal });
    return 0;
  }
  const color = wantsColor();
  if (opts.stats) {
    await tapeStats({ tape: route.path, filter, json: common.json, color });
    return 0;
  }
  await tailTape({
    ...common,
    tape: route.path,
    forever: opts.forever ?? false,
    all: opts.all ?? false,
    filter,
    color,
    time: opts.wall ? "wall" : "relative",
    signal: stop.signal,
  });
  return 0;
}

type ParsedTailOptions = ReturnType<ReturnType<typeof tailCommand>["opts"]>;

// The book now, or followed: a ladder redrawn in place on a terminal, JSON
// lines (one per change) otherwise.
async function tailBook(location: string, opts: ParsedTailOptions, signal: AbortSignal) {
  const depth = opts.depth ?? 5;
  const follow = opts.follow ?? false;
  const screen = follow && !opts.json && Deno.stdout.isTerminal()
    ? new BookScreen(Deno.stdout, depth)
    : undefined;
  await replayBooks({
    locations: [location],
    depth,
    format: opts.json ? "json" : "ladder",
    fromEnd: true,
    follow,
    signal,
    log: (line) => writeStderrLine("tail", line),
    ...(opts.market === undefined ? {} : { market: opts.market }),
    ...(screen === undefined ? {} : {
      onBook: (book, seq, ts) => screen.update(book, seq, ts),
      onIdle: () => screen.flush(),
    }),
  });
  screen?.flush();
}

if (import.meta.main) Deno.exit(await runProgram("tail", () => main(Deno.args)));
