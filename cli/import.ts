/**
 * `import`: backfills JSON lines or a tape into a chronicle queue. Parsing
 * and printing only; the work is done by `src/import/`.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { newCommand, runProgram, UsageError, writeStderrLine } from "./_program.ts";
import { findProgram } from "./manifest.ts";
import {
  addNatsCredentialOptions,
  type NatsCredentialFlags,
  replicasOption,
  retryForOption,
  useNatsFlags,
} from "./_nats_options.ts";
import { modeOption, positiveWholeNumber, snapshotPlan, wholeNumber } from "./_options.ts";
import {
  identityOption,
  recipientOption,
  recipientsFileOption,
  recipientsOf,
  useIdentityOption,
} from "./_sealing.ts";
import { firstGivenOption } from "../src/consumer/mod.ts";
import { redactNatsUrl } from "../src/nats/mod.ts";
import {
  checkImportTarget,
  detectFormat,
  IMPORT_FORMATS,
  type ImportFormat,
  importJsonlFile,
  importLobster,
  type ImportOptions,
  importStream,
  importSummaryLine,
  importTape,
  importTardisBook,
  importTardisTrades,
  lobsterCountsLine,
  lobsterFiles,
  regularFileSize,
  startImportProgress,
  tardisCountsLine,
  VENDOR_FORMATS,
} from "../src/import/mod.ts";

const EXAMPLES = `
Examples:
  # Copy a queue into another one, seqs and timestamps kept
  replay ./quotes --json | import --to ./quotes-copy

  # Backfill a file of JSON lines (one record per line, as 'tail --json' prints)
  import --to /var/spool/bus/live/quotes backfill.jsonl

  # An import stopped at a bad line: fix the line, then run it again on the whole file
  import --to ./quotes backfill.jsonl --skip-existing

  # A tape: each frame becomes a record (type 1 client to server, 2 server to client)
  import --to ./session tapes/20261122T031500Z-1a2b3c4d.jsonl

  # Seal a tape for keeping off the host; open it again with the private key
  import --to sealed:./vault --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p \\
    tapes/20261122T031500Z-1a2b3c4d.jsonl
  import --to ./opened sealed:./vault --identity archive.key

  # Refuse timestamps that go back instead of counting them
  zcat day.jsonl.gz | import --to ./ticks --strict-order

  # Market data as book events: a LOBSTER day (its orderbook file is found beside it), with
  # book snapshots every million events; Tardis incremental L2 book and trades, plain or gzip
  import --to ./goog --format lobster GOOG_2012-06-21_34200000_57600000_message_1.csv \\
    --snapshot-every 1000000
  import --to ./btc --format tardis-book binance_incremental_book_L2_2026-11-01_BTCUSDT.csv.gz
  import --to ./btc-trades --format tardis-trades binance_trades_2026-11-01_BTCUSDT.csv.gz

JSON lines, one record per line (blank lines are skipped):
  {"seq":1,"timestamp_ns":1700000000000000000,"type_id":7,"encoding":"utf8","payload":"hello"}
Only 'payload' is required. 'encoding' is utf8 (the default; a payload that is any other JSON
value is stored as its JSON text) or base64. 'type_id' defaults to 0; a record without
'timestamp_ns' gets the clock's time.

Seqs: records either all have a 'seq' or none do, and seqs go up by one. A new queue starts at the
first record's seq; an existing queue must continue at the input's first seq (--skip-existing
leaves out the records it already has). Records without seqs are appended after what the queue has.

A file whose first line is a tape's init record is read as a tape, anything else as JSON lines;
stdin is always JSON lines (a tape is read by its path).

Market data (lobster, tardis-book, tardis-trades) is written as book events (docs/book-protocol.md);
a stopped import names the '--from-line N' that resumes it, and a second summary line counts events,
corrections and anomalies. Details: docs/import.md.

The queue is synced to disk before the program ends. A summary goes to stderr:
  import: 3 records into './q' (seq 1..3) in 0.02 s

Exit status: 0; 1 when the input or the queue cannot be read or written, or a record is refused
(records before it stay in the queue, and the message says how to resume); 2 for a usage error.
`;

// Options that apply to one kind of input only, and the formats they apply to.
const FORMAT_OPTIONS: ReadonlyArray<readonly [string, readonly ImportFormat[]]> = [
  ["--venue", VENDOR_FORMATS],
  ["--strict", VENDOR_FORMATS],
  ["--from-line", VENDOR_FORMATS],
  ["--snapshot-every", VENDOR_FORMATS],
  ["--symbol", ["lobster"]],
  ["--date", ["lobster"]],
  ["--orderbook", ["lobster"]],
  ["--market", ["lobster"]],
  ["--symbols", ["tardis-book", "tardis-trades"]],
  ["--price-decimals", ["tardis-book", "tardis-trades"]],
  ["--size-decimals", ["tardis-book", "tardis-trades"]],
  ["--skip-existing", ["jsonl", "tape", "sealed", "jetstream"]],
];

/**
 * Builds the `import` command line parser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importCommand } from "./import.ts";
 * assert.equal(importCommand().name(), "import");
 * ```
 */
export function importCommand() {
  const command = newCommand("import", findProgram("import")?.summary ?? "Backfill a queue")
    .argument(
      "[file]",
      "JSON lines, a tape, market data, a sealed store or a JetStream stream 'nats://HOST:PORT/STREAM' " +
        "to import, or - for stdin",
      "-",
    )
    // Checked after parsing, not by the parser: it would report a missing --to before an unknown option.
    .option(
      "--to <queue>",
      "queue directory to import into, created when missing; a sealed store 'sealed:DIR' or " +
        "'sqlite:FILE[#stream]' (with --recipient); or a JetStream stream 'nats://HOST:PORT/STREAM' " +
        "(required)",
    )
    .addOption(replicasOption())
    .addOption(retryForOption())
    .addOption(recipientOption())
    .addOption(recipientsFileOption())
    .addOption(identityOption())
    .addOption(
      new Option(
        "--format <format>",
        "input format (default: a sealed store or a tape when it starts like one, else JSON lines)",
      )
        .choices(IMPORT_FORMATS),
    )
    .option(
      "--skip-existing",
      "leave out input records whose seq the queue already has, to resume an import",
    )
    .option("--strict-order", "refuse a timestamp earlier than the one before instead of counting")
    .option("--durable", "write with the durable profile (msync as it goes), not only at the end")
    .addOption(modeOption())
    .option("--venue <id>", "market data: venue id of the book events (default 1)", wholeNumber)
    .option("--symbol <symbol>", "lobster: the ticker, when the file name does not say it")
    .option("--date <yyyy-mm-dd>", "lobster: the trading day, when the file name does not say it")
    .option("--market <id>", "lobster: market id of the book events (default 1)", wholeNumber)
    .option(
      "--orderbook <file>",
      "lobster: the orderbook file (default: the one beside the message file)",
    )
    .option(
      "--symbols <list>",
      "tardis: import only these symbols, comma-separated, numbered in that order",
    )
    .option("--price-decimals <n>", "tardis: decimals of prices (default: inferred)", wholeNumber)
    .option("--size-decimals <n>", "tardis: decimals of sizes (default: inferred)", wholeNumber)
    .option(
      "--strict",
      "market data: unknown order ids, time going back and a last line without a newline are errors",
    )
    .option(
      "--from-line <n>",
      "market data: resume a stopped import at this line",
      positiveWholeNumber,
    )
    .option(
      "--snapshot-every <limits>",
      "market data: write book snapshots every N events, T of stream time (10m) or B bytes (256MiB)",
      snapshotPlan,
    )
    .option("--progress", "show a progress bar on stderr even when it is not a terminal")
    .option("--no-progress", "never show a progress bar")
    .addHelpText("after", EXAMPLES);
  return addNatsCredentialOptions(command);
}

/**
 * Runs `import` with the given arguments and returns its exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./import.ts";
 * Deno.exit(await main(["--to", "./q", "backfill.jsonl"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = importCommand();
  await program.parseAsync(args, { from: "user" });
  const opts = program.opts();
  const file = program.processedArgs[0];
  if (opts.to === undefined) {
    throw new UsageError("Option '--to <queue>' is required: name the queue to import into");
  }
  const stdin = file === "-";
  if (stdin && Deno.stdin.isTerminal()) {
    throw new UsageError("No input: give a file to import, or pipe JSON lines into stdin");
  }
  const format = opts.format ?? (stdin ? "jsonl" : await detectFormat(file));
  for (const [flag, formats] of FORMAT_OPTIONS) {
    if (firstGivenOption([flag], opts) !== undefined && !formats.includes(format)) {
      throw new UsageError(`Option '${flag}' applies to '--format ${formats.join("|")}'`);
    }
  }
  if (stdin && format === "lobster") {
    throw new UsageError(
      "A LOBSTER import reads two files by path: give the message file instead of '-'",
    );
  }
  if (stdin && format === "tape") {
    // The tape reader opens its file by path, and the program may not open /dev/stdin.
    throw new UsageError("A tape cannot be read from stdin: give the tape's path instead of '-'");
  }
  useIdentityOption(opts);
  useNatsFlags(opts as NatsCredentialFlags);
  const recipients = await recipientsOf(opts);
  const targetOptions = {
    to: opts.to,
    ...(recipients.length === 0 ? {} : { recipients }),
    ...(opts.mode === undefined ? {} : { mode: opts.mode }),
    ...(opts.snapshotEvery === undefined ? {} : { snapshotEvery: opts.snapshotEvery }),
    ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }),
    ...(opts.retryFor === undefined ? {} : { retryForMs: opts.retryFor }),
  };
  let kind;
  try {
    kind = checkImportTarget(targetOptions).kind;
  } catch (error) {
    // Recipients, a mode or snapshots that do not fit '--to': how it was called.
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  if (opts.durable && kind !== "queue") {
    throw new UsageError(
      kind === "sealed"
        ? "Option '--durable' is a queue's: a sealed store syncs every group of segments it commits"
        : "Option '--durable' is a queue's: a JetStream stream stores each record before it acks it",
    );
  }
  const stream = format === "sealed" || format === "jetstream";
  const size = stdin || stream ? undefined : await regularFileSize(file);
  const bar = (opts.progress ?? Deno.stderr.isTerminal()) ? startImportProgress(size) : undefined;
  const options: ImportOptions = {
    ...targetOptions,
    // A JetStream stream is named without its password or token.
    source: stdin ? "stdin" : redactNatsUrl(file),
    skipExisting: opts.skipExisting ?? false,
    strictOrder: opts.strictOrder ?? false,
    durability: opts.durable ? "durable" : "ipc",
    ...(bar === undefined ? {} : { onProgress: bar.update }),
    log: (line) => writeStderrLine("import", line),
  };

  const vendor = {
    ...(opts.venue === undefined ? {} : { venue: opts.venue }),
    ...(opts.strict ? { strict: true, strictOrder: true } : {}),
    ...(opts.fromLine === undefined ? {} : { fromLine: opts.fromLine }),
  };
  const tardis = {
    ...vendor,
    ...(opts.symbols === undefined ? {} : { symbols: opts.symbols.split(",") }),
    ...(opts.priceDecimals === undefined ? {} : { priceDecimals: opts.priceDecimals }),
    ...(opts.sizeDecimals === undefined ? {} : { sizeDecimals: opts.sizeDecimals }),
  };
  const lines: string[] = [];
  try {
    switch (format) {
      case "tape":
        lines.push(importSummaryLine(await importTape(file, options)));
        break;
      case "jsonl":
        lines.push(importSummaryLine(await importJsonlFile(file, options)));
        break;
      case "sealed":
      case "jetstream":
        lines.push(importSummaryLine(await importStream(file, options)));
        break;
      case "lobster": {
        const names = {
          ...(opts.symbol === undefined ? {} : { symbol: opts.symbol }),
          ...(opts.date === undefined ? {} : { date: opts.date }),
          ...(opts.orderbook === undefined ? {} : { orderbook: opts.orderbook }),
        };
        try {
          // What the file name does not say must come from the options: a usage error.
          lobsterFiles(file, names);
        } catch (error) {
          if (error instanceof RangeError) throw new UsageError(error.message);
          throw error;
        }
        const summary = await importLobster(file, {
          ...options,
          ...vendor,
          ...names,
          ...(opts.market === undefined ? {} : { market: opts.market }),
        });
        lines.push(importSummaryLine(summary), lobsterCountsLine(summary.lobster));
        break;
      }
      case "tardis-book":
      case "tardis-trades": {
        const run = format === "tardis-book" ? importTardisBook : importTardisTrades;
        const summary = await run(file, { ...options, ...tardis });
        // The counts are written to end a line ('; ' before each part); here they are the
        // second line, as with LOBSTER.
        const counts = tardisCountsLine(summary.counts).replace(/^; /, "");
        lines.push(importSummaryLine(summary), ...(counts === "" ? [] : [counts]));
        break;
      }
    }
  } finally {
    bar?.stop();
  }
  for (const line of lines) writeStderrLine("import", line);
  return 0;
}

if (import.meta.main) Deno.exit(await runProgram("import", () => main(Deno.args)));
