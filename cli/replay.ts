/**
 * `replay`: prints a tape's frames, serves a tape as a mock server, or
 * verifies a server against a tape. Parsing only; the work is done by
 * `src/replay/`.
 *
 * @module
 */

import { newCommand, runProgram, UsageError, writeStderrLine } from "./_program.ts";
import {
  directionOption,
  methodOption,
  parsedBy,
  positiveNumber,
  positiveTimerMs,
  positiveWholeNumber,
  timeNs,
  timerMs,
} from "./_options.ts";
import { findProgram } from "./manifest.ts";
import {
  addNatsCredentialOptions,
  type NatsCredentialFlags,
  useNatsFlags,
} from "./_nats_options.ts";
import { identityOption, useIdentityOption } from "./_sealing.ts";
import { parseJsonPath } from "../src/json/mod.ts";
import { DEFAULT_TAPES_DIR, TapeFormatError } from "../src/tape/mod.ts";
import {
  firstGivenOption,
  type FrameFilter,
  routeSources,
  tapeOnlyOption,
} from "../src/consumer/mod.ts";
import { stopSignals } from "../src/engine/mod.ts";
import { replayStreams, replayTape, serveTape, verifyTape } from "../src/replay/mod.ts";
import { parseEvery, parseFeatures, replayBooks } from "../src/book/mod.ts";

const EXAMPLES = `
Examples:
  # Every frame record of a tape, as JSON lines (a path, a .meta.json or a tape id)
  replay tapes/20261122T031500Z-1a2b3c4d.jsonl
  replay 20261122T031500Z-1a2b3c4d --tapes ./tapes

  # The client's messages only, as originally sent, paced like the recording at 4x
  replay <tape> --raw --dir c2s --speed 4 --max-gap 250

  # The tools/call requests and their responses between seq 10 and 50
  replay <tape> --method tools/call --from-seq 10 --to-seq 50

  # A mock server on stdio that answers from the tape
  my-client -- replay <tape> --serve

  # Check that a new build of the server still answers like the recorded one
  replay <tape> --verify --ignore-path '$.result.serverInfo.version' -- ./server

  # A chronicle queue (or a bus stream directory) from a point in time, paced at 10x, as JSON
  replay /var/spool/bus/archive/quotes --from-time 2026-11-22T03:00:00Z --speed 10 --json

  # Several queues and tapes merged by timestamp (ties: the source listed first)
  replay bus/archive/quotes bus/archive/trades session.jsonl --merge

  # Order books from book events: the book at a time (from the latest snapshot before it),
  # LOBSTER orderbook rows, and features per minute
  replay bus/archive/goog --book --final --to-time 2012-06-21T14:00:00Z --depth 5
  replay bus/archive/goog --book --depth 1 --lobster > orderbook.csv
  replay bus/archive/goog --features mid,spread,microprice,imbalance:5,ofi,vwap,trades --every 1m

Queues and merges print one line per record: <UTC time, ns> #<seq> type <id> <size> B <payload>
(text when UTF-8, else base64:…), or with --json {"seq","timestamp_ns","type_id","encoding",
"payload"}, the form 'import --format jsonl' reads. In a merge, tapes are read as messages too (type 1
client to server, 2 server to client; payload the message line). --from-seq/--to-seq need one source.

Book: after each batch of book events, the book that changed: one line at --depth 1, a ladder
otherwise, {"seq","timestamp_ns","venue","market","symbol","bids","asks"} with --json. --stats
prints event counts and anomalies on stderr. Features: CSV with a header (or --json), one row per
batch or per --every bucket; definitions in docs/features.md.

Serve: a request gets the response recorded for the same method and deep-equal params, id rewritten
to the client's; several recordings are used in recorded order, the last one repeated. --loose falls
back to the responses of the same method. No match: a JSON-RPC error naming the method, code -32601
(method never recorded) or -32001 (method recorded, params differ). Server requests and notifications
recorded while a request was pending are sent before its response (server requests keep their
recorded ids; the client's reply is awaited up to --timeout), those recorded right after it follow it.

Verify: prints one block per response that differs ("differ  seq 7 tools/call (id 3): 1 difference"
then "  $.result.content[0].text: expected \\"5\\", actual \\"6\\"") and a summary line. A bad line
in the tape fails the check before the server starts, naming the line; --lenient skips bad lines
with a warning. A run that compares no response (the tape has no answered request) fails.

Exit status: 0; verify: 0 when responses were compared and every one matched, 1 on any difference
or timeout, on a bad line of the tape (without --lenient) or when nothing was compared, 130 / 143
when interrupted by SIGINT / SIGTERM (passed on to the server); 1 when the tape cannot be read or
the server cannot be started or dies; 2 for a usage error.
`;

const checkedJsonPath = parsedBy(parseJsonPath);

function jsonPath(value: string, previous: string[]): string[] {
  checkedJsonPath(value);
  return [...previous, value];
}

/**
 * Builds the `replay` command line parser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayCommand } from "./replay.ts";
 * assert.equal(replayCommand().name(), "replay");
 * ```
 */
export function replayCommand() {
  const command = newCommand("replay", findProgram("replay")?.summary ?? "Replay a tape")
    .usage(
      "<tape|queue> [options]\n       replay <source...> --merge [options]\n" +
        "       replay <tape> --serve [options]\n" +
        "       replay <tape> --verify [options] -- <command> [args...]",
    )
    .argument(
      "<tape|queue>",
      "tape (a .jsonl or .meta.json file, or a tape id), queue (its directory, or a bus stream's), " +
        "or sealed store (sealed:DIR, sqlite:FILE[#stream], or its directory; with --identity)",
    )
    .argument(
      "[more...]",
      "with --verify: the server command and its arguments, after --; with --merge: more sources",
    )
    .option("--tapes <dir>", "directory where tape ids are looked up", DEFAULT_TAPES_DIR)
    .option("--raw", "print the original messages only, not frame records")
    .option("--realtime", "pace the output like the recording (same as --speed 1)")
    .option("--speed <n>", "pace the output at n times the recorded speed", positiveNumber)
    .option(
      "--max-gap <ms>",
      "longest pause between two frames when paced, in ms",
      timerMs,
      1000,
    )
    .addOption(directionOption())
    .addOption(methodOption())
    .addOption(identityOption())
    .option("--from-seq <n>", "only frames with seq at least n", positiveWholeNumber)
    .option("--to-seq <n>", "only frames with seq at most n", positiveWholeNumber)
    .option("--progress", "show a progress bar on stderr")
    .option("--merge", "replay several tapes and queues as one, merged by timestamp")
    .option("--json", "queues and merges: print records as JSON lines")
    .option(
      "--from-time <time>",
      "queues and merges: only records stamped at or after this ISO 8601 time (or ns since the epoch)",
      timeNs,
    )
    .option(
      "--to-time <time>",
      "queues and merges: stop before the first record stamped after this time",
      timeNs,
    )
    .option("--book", "rebuild order books from book events and print the book after each batch")
    .option(
      "--market <market>",
      "with --book: only this market (symbol, market id, or venue:market)",
    )
    .option("--depth <n>", "with --book: levels per side to print (default 5)", positiveWholeNumber)
    .option("--lobster", "with --book: print rows in LOBSTER's orderbook-file layout")
    .option(
      "--final",
      "with --book: print only the book at the end (with --to-time: the book at T)",
    )
    .option("--stats", "with --book: print the count of events per kind and of anomalies on stderr")
    .option(
      "--features <list>",
      "print features of the books instead: mid,spread,microprice,imbalance[:N],ofi,vwap,trades",
      parsedBy(parseFeatures),
    )
    .option(
      "--every <interval>",
      "with --features: a row per bucket of stream time (1s, 100ms) or per N events",
      parsedBy(parseEvery),
    )
    .option("--csv", "with --features: CSV with a header line (default; --json for JSON lines)")
    .option(
      "-f, --follow",
      "with --book or --features: keep reading as the stream grows (stop with Ctrl-C)",
    )
    .option("--serve", "act as a mock server on stdin/stdout, answering from the tape")
    .option(
      "--loose",
      "with --serve: when no params match, answer with a response of the same method",
    )
    .option("-v, --verbose", "with --serve: describe each request and its answer on stderr")
    .option("--verify", "run the server command after -- and compare its responses with the tape")
    .option(
      "--lenient",
      "with --verify: skip bad lines of the tape with a warning instead of failing the check",
    )
    .option(
      "--ignore-path <path>",
      "with --verify: ignore differences at or below this JSON path (repeatable)",
      jsonPath,
      [] as string[],
    )
    .option(
      "--timeout <ms>",
      "with --verify: longest wait for each response; with --serve: for each client reply",
      positiveTimerMs,
      10_000,
    )
    .addHelpText("after", EXAMPLES);
  return addNatsCredentialOptions(command);
}

/**
 * Runs `replay` with the given arguments and returns its exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./replay.ts";
 * Deno.exit(await main(["tapes/x.jsonl", "--raw"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = replayCommand();
  await program.parseAsync(args, { from: "user" });
  const opts = program.opts();
  useIdentityOption(opts);
  useNatsFlags(opts as NatsCredentialFlags);
  const tape = program.processedArgs[0];
  const command = program.processedArgs[1];
  const filtering = opts.dir !== undefined || opts.method.length > 0 ||
    opts.fromSeq !== undefined || opts.toSeq !== undefined;
  const pacing = opts.realtime || opts.speed !== undefined;
  if (opts.serve && opts.verify) {
    throw new UsageError("Options '--serve' and '--verify' exclude each other");
  }
  if ((opts.serve || opts.verify) && (filtering || pacing || opts.raw || opts.progress)) {
    throw new UsageError(
      `Filters, pacing, '--raw' and '--progress' apply to plain replay, not to '--${
        opts.serve ? "serve" : "verify"
      }'`,
    );
  }
  if (opts.realtime && opts.speed !== undefined && opts.speed !== 1) {
    throw new UsageError(`Options '--realtime' and '--speed ${opts.speed}' contradict each other`);
  }
  if (opts.fromSeq !== undefined && opts.toSeq !== undefined && opts.fromSeq > opts.toSeq) {
    throw new UsageError(`Option '--from-seq ${opts.fromSeq}' is after '--to-seq ${opts.toSeq}'`);
  }
  if (opts.merge && (opts.serve || opts.verify)) {
    throw new UsageError(
      `Option '--merge' replays; it does not apply to '--${opts.serve ? "serve" : "verify"}'`,
    );
  }
  if (opts.merge && command.length === 0) {
    throw new UsageError("Option '--merge' needs at least two sources: 'replay a b --merge'");
  }
  if (opts.verify && command.length === 0) {
    throw new UsageError(
      "Missing server command: use 'replay <tape> --verify -- <command> [args...]'",
    );
  }
  if (opts.lenient && !opts.verify) {
    throw new UsageError("Option '--lenient' applies to '--verify'");
  }
  if (!opts.verify && !opts.merge && command.length > 0) {
    throw new UsageError(`Unexpected argument '${command[0]}': a server command needs '--verify'`);
  }
  const route = await routeSources(opts.merge ? [tape, ...command] : [tape], opts.tapes);
  const books = opts.book || opts.features !== undefined;
  const bookOnly = firstGivenOption([...BOOK_ONLY_OPTIONS, ...BOOK_PRINT_OPTIONS], opts);
  if (bookOnly !== undefined && !books) {
    throw new UsageError(
      `Option '${bookOnly}' applies to '--book'${
        BOOK_ONLY_OPTIONS.includes(bookOnly) ? " and '--features'" : ""
      }`,
    );
  }
  const featureOnly = firstGivenOption(FEATURE_ONLY_OPTIONS, opts);
  if (featureOnly !== undefined && opts.features === undefined) {
    throw new UsageError(`Option '${featureOnly}' applies to '--features'`);
  }
  if (books) {
    if (route.kind !== "stream") {
      throw new UsageError(
        `Option '${
          opts.book ? "--book" : "--features"
        }' reads book events from queues and merges, not a tape`,
      );
    }
    return await replayAsBooks(opts, route.paths);
  }
  if (route.kind === "stream") return await replayAsStream(opts, route.paths);
  const location = { tape: route.path };
  if (opts.json || opts.fromTime !== undefined || opts.toTime !== undefined) {
    throw new UsageError(
      `Options '--json', '--from-time' and '--to-time' apply to queues and merges; a tape replays as its frame records`,
    );
  }
  if (opts.serve) {
    await serveTape({
      ...location,
      loose: opts.loose ?? false,
      replyTimeoutMs: opts.timeout,
      ...(opts.verbose ? { log: (line: string) => writeStderrLine("replay", line) } : {}),
    });
    return 0;
  }
  if (opts.verify) {
    // Ctrl-C or a kill must stop the server too, not leave it running.
    using stop = stopSignals(["SIGINT", "SIGTERM"]);
    try {
      return await verifyTape({
        ...location,
        command,
        ignorePaths: opts.ignorePath,
        timeoutMs: opts.timeout,
        lenient: opts.lenient ?? false,
        signal: stop.signal,
      });
    } catch (error) {
      // Line 1 is the tape's init: a file failing there is no tape, and skipping cannot help.
      if (error instanceof TapeFormatError && (error.line ?? 1) > 1) {
        throw new SyntaxError(`${error.message}; '--lenient' skips bad lines with a warning`, {
          cause: error,
        });
      }
      throw error;
    }
  }
  const filter: FrameFilter = {
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
    ...(opts.method.length === 0 ? {} : { methods: opts.method }),
    ...(opts.fromSeq === undefined ? {} : { fromSeq: opts.fromSeq }),
    ...(opts.toSeq === undefined ? {} : { toSeq: opts.toSeq }),
  };
  await replayTape({
    ...location,
    raw: opts.raw ?? false,
    filter,
    progress: opts.progress ?? false,
    ...(pacing ? { pacing: { speed: opts.speed ?? 1, maxGapMs: opts.maxGap } } : {}),
  });
  return 0;
}

type ParsedReplayOptions = ReturnType<ReturnType<typeof replayCommand>["opts"]>;

// Queues and merges go through the stream API; the tape-only options do not apply.
async function replayAsStream(opts: ParsedReplayOptions, locations: string[]): Promise<number> {
  const misplaced = tapeOnlyOption("replay", opts);
  if (misplaced) {
    throw new UsageError(
      `Option '${misplaced}' applies to a tape, not to a queue, a sealed store or a merge`,
    );
  }
  if (locations.length > 1 && (opts.fromSeq !== undefined || opts.toSeq !== undefined)) {
    throw new UsageError(
      "Options '--from-seq' and '--to-seq' need one source: merged sources each have their own seqs",
    );
  }
  const pacing = opts.realtime || opts.speed !== undefined;
  await replayStreams({
    locations,
    json: opts.json ?? false,
    ...(opts.fromSeq === undefined ? {} : { fromSeq: opts.fromSeq }),
    ...(opts.toSeq === undefined ? {} : { toSeq: opts.toSeq }),
    ...(opts.fromTime === undefined ? {} : { fromTimeNs: opts.fromTime }),
    ...(opts.toTime === undefined ? {} : { toTimeNs: opts.toTime }),
    ...(pacing ? { pacing: { speed: opts.speed ?? 1, maxGapMs: opts.maxGap } } : {}),
  });
  return 0;
}

// Options that only mean something when books are rebuilt.
const BOOK_ONLY_OPTIONS = ["--market", "--stats", "--follow"];
// Options that apply to printing books, or to printing features.
const BOOK_PRINT_OPTIONS = ["--depth", "--lobster", "--final"];
const FEATURE_ONLY_OPTIONS = ["--every", "--csv"];

async function replayAsBooks(opts: ParsedReplayOptions, locations: string[]): Promise<number> {
  const misplaced = tapeOnlyOption("replay", opts);
  if (misplaced) throw new UsageError(`Option '${misplaced}' does not apply to '--book'`);
  if (opts.realtime || opts.speed !== undefined) {
    throw new UsageError("Pacing ('--realtime', '--speed') does not apply to '--book'");
  }
  if (opts.json && (opts.lobster || opts.csv)) {
    throw new UsageError(
      `Options '--json' and '${opts.lobster ? "--lobster" : "--csv"}' exclude each other`,
    );
  }
  if (opts.book && opts.features !== undefined) {
    throw new UsageError(
      "Options '--book' and '--features' exclude each other: features are computed from the books",
    );
  }
  const printOnly = opts.features === undefined
    ? undefined
    : firstGivenOption(BOOK_PRINT_OPTIONS, opts);
  if (printOnly !== undefined) {
    throw new UsageError(`Option '${printOnly}' applies to '--book', not to '--features'`);
  }
  if (locations.length > 1 && (opts.fromSeq !== undefined || opts.toSeq !== undefined)) {
    throw new UsageError(
      "Options '--from-seq' and '--to-seq' need one source: merged sources each have their own seqs",
    );
  }
  if (opts.final && opts.follow) {
    throw new UsageError("Options '--final' and '--follow' exclude each other");
  }
  // Following ends cleanly, with status 0, on Ctrl-C or a kill.
  using stop = stopSignals(opts.follow ? ["SIGINT", "SIGTERM"] : []);
  const result = await replayBooks({
    locations,
    depth: opts.depth ?? 5,
    format: opts.lobster ? "lobster" : opts.json ? "json" : "ladder",
    final: opts.final ?? false,
    follow: opts.follow ?? false,
    signal: stop.signal,
    log: (line) => writeStderrLine("replay", line),
    ...(opts.market === undefined ? {} : { market: opts.market }),
    ...(opts.features === undefined ? {} : {
      features: {
        specs: opts.features,
        format: opts.json ? "json" : "csv",
        ...(opts.every === undefined ? {} : { every: opts.every }),
      },
    }),
    ...(opts.fromSeq === undefined ? {} : { fromSeq: opts.fromSeq }),
    ...(opts.toSeq === undefined ? {} : { toSeq: opts.toSeq }),
    ...(opts.fromTime === undefined ? {} : { fromTimeNs: opts.fromTime }),
    ...(opts.toTime === undefined ? {} : { toTimeNs: opts.toTime }),
  });
  if (opts.stats) {
    for (const line of result.books.stats.lines()) writeStderrLine("replay", line);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await runProgram("replay", () => main(Deno.args)));
