/**
 * `archive-tap`: copies a live chronicle queue into its durable archive
 * queue. Parsing and signals only; the work is done by `src/archive/`.
 *
 * @module
 */

import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { newCommand, runProgram, UsageError, writeStderrLine } from "./_program.ts";
import { modeOption, positiveWholeNumber, snapshotPlan } from "./_options.ts";
import { recipientOption, recipientsFileOption, recipientsOf } from "./_sealing.ts";
import {
  addNatsCredentialOptions,
  type NatsCredentialFlags,
  replicasOption,
  retryForOption,
  useNatsFlags,
} from "./_nats_options.ts";
import { buildSnapshots, type SnapshotPlan } from "../src/book/mod.ts";
import { locateStream } from "../src/stream/mod.ts";
import { findProgram } from "./manifest.ts";
import {
  ARCHIVE_STARTS,
  archiveTap,
  type ArchiveTapLog,
  checkArchiveTapOptions,
  DEFAULT_READER_NAME,
} from "../src/archive/mod.ts";
import {
  DEFAULT_SEGMENT_BYTES,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  SEGMENT_BYTES_MULTIPLE,
} from "../src/chronicle/queue_writer.ts";
import { signalExitStatus, stopSignals } from "../src/engine/mod.ts";

const EXAMPLES = `
Examples:
  # Keep a bus stream's archive up to date, resuming where the last run stopped
  archive-tap --live /var/spool/bus/live/quotes --archive /var/spool/bus/archive/quotes

  # A cron job: copy what is new, then exit
  archive-tap --live ./hot/quotes --archive ./archive/quotes --once

  # Start a new archive with what is appended from now on
  archive-tap --live ./hot/quotes --archive ./archive/quotes-2 --start latest

  # One line per record copied, on stderr
  archive-tap --live ./hot/quotes --archive ./archive/quotes --once --log-level debug

  # A sealed archive: only the holder of the private key reads it (docs/sealed-archives.md)
  archive-tap --live ./hot/quotes --archive sealed:/srv/archive/quotes \\
    --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  archive-tap --live ./hot/quotes --archive sqlite:/srv/archive/feeds.db#quotes --recipients-file keys.txt

How it works: each live record is appended to the archive with its seq, type id, timestamp and
payload, then the reader '--name' commits on the live queue. The archive's last seq decides where a
run goes on, so a tap killed at any moment (even with SIGKILL) resumes with no loss and no
duplicate. The reader never holds back the live queue's retention: when retention deletes records
before the tap copied them, the archive cannot hold that gap and the tap stops with exit status 1,
naming the missing seqs. The archive is created at the first record copied, with the durable profile.
A live or archive location may be a queue directory or a bus stream directory (with its 'queue/').
Lines go to stderr: what was opened, progress while catching up, and a summary at the end.

Exit status: 0 when done (--once) or stopped by SIGINT/SIGTERM after committing; 1 when a queue cannot
be read or written, the archive is open in another process, or the archive would have a gap; 2 for a
usage error. See docs/archive-tap.md.
`;

const SEGMENT_BYTES_RULE =
  `${MIN_SEGMENT_BYTES}..${MAX_SEGMENT_BYTES} and a multiple of ${SEGMENT_BYTES_MULTIPLE}`;

// The queue's own limits, checked here so a wrong size is a usage error naming the option.
function segmentBytes(value: string): number {
  const n = positiveWholeNumber(value);
  if (n < MIN_SEGMENT_BYTES || n > MAX_SEGMENT_BYTES || n % SEGMENT_BYTES_MULTIPLE !== 0) {
    throw new InvalidArgumentError(`expected ${SEGMENT_BYTES_RULE}, got '${value}'`);
  }
  return n;
}

/**
 * Builds the `archive-tap` command line parser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { archiveTapCommand } from "./archive_tap.ts";
 * assert.equal(archiveTapCommand().name(), "archive-tap");
 * ```
 */
export function archiveTapCommand() {
  const command = newCommand(
    "archive-tap",
    findProgram("archive-tap")?.summary ?? "Copy a live queue into its archive",
  )
    .option("--live <queue>", "live queue (or bus stream) directory to copy from (required)")
    .option(
      "--archive <queue>",
      "archive queue (or bus stream) directory to copy into, created at the first record; a " +
        "sealed archive 'sealed:DIR' or 'sqlite:FILE[#stream]', with --recipient; or a JetStream " +
        "stream 'nats://[user:pass@]HOST:PORT[,HOST:PORT…]/STREAM[?subject=S]' or 'tls://…' (required)",
    )
    .addOption(recipientOption())
    .addOption(recipientsFileOption())
    .addOption(replicasOption())
    .addOption(retryForOption())
    .addOption(
      new Option(
        "--start <mode>",
        "where to start: earliest (the oldest record kept), latest (only new records) or " +
          "committed (after the reader's last commit, else earliest); records the archive " +
          "already holds are never copied twice",
      ).choices(ARCHIVE_STARTS).default("committed" as const),
    )
    .option("--once", "copy what the live queue holds now, then exit (default: follow it)")
    .option("--name <reader>", "name of the tap's reader on the live queue", DEFAULT_READER_NAME)
    .addOption(
      new Option("--log-level <level>", "'debug' adds one line per record copied")
        .choices(["info", "debug"] as const).default("info" as const),
    )
    .option(
      "--segment-bytes <bytes>",
      `segment size of an archive queue created now (${SEGMENT_BYTES_RULE}; default ${
        DEFAULT_SEGMENT_BYTES / 1024 / 1024
      } MiB); for a sealed archive, the plaintext bytes of each sealed segment (default 1 MiB)`,
      segmentBytes,
    )
    .option(
      "--snapshot-every <limits>",
      "write book snapshots beside the archive every N events, T of stream time (10m) or B bytes " +
        "(256MiB); without --live, build them for the archive as it is and exit",
      snapshotPlan,
    )
    .addOption(modeOption())
    .addHelpText("after", EXAMPLES);
  return addNatsCredentialOptions(command);
}

/**
 * Runs `archive-tap` with the given arguments and returns its exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./archive_tap.ts";
 * Deno.exit(await main(["--live", "hot/q", "--archive", "archive/q", "--once"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = archiveTapCommand();
  await program.parseAsync(args, { from: "user" });
  const opts = program.opts();
  if (opts.live === undefined && opts.archive !== undefined && opts.snapshotEvery !== undefined) {
    return await buildArchiveSnapshots(program, opts.archive, opts.snapshotEvery, opts.mode);
  }
  // Checked here rather than by commander, which would report a missing
  // option before an unknown one.
  for (const [flag, value] of [["--live", opts.live], ["--archive", opts.archive]] as const) {
    if (value === undefined) {
      program.error(`error: required option '${flag} <queue>' not specified`, {
        code: "commander.missingMandatoryOptionValue",
      });
    }
  }
  const recipients = await recipientsOf(opts);
  useNatsFlags(opts as NatsCredentialFlags);
  const options = {
    live: opts.live!,
    archive: opts.archive!,
    start: opts.start,
    once: opts.once ?? false,
    name: opts.name,
    ...(opts.segmentBytes === undefined ? {} : { segmentBytes: opts.segmentBytes }),
    ...(opts.snapshotEvery === undefined ? {} : { snapshotEvery: opts.snapshotEvery }),
    ...(opts.mode === undefined ? {} : { mode: opts.mode }),
    ...(recipients.length === 0 ? {} : { recipients }),
    ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }),
    ...(opts.retryFor === undefined ? {} : { retryForMs: opts.retryFor }),
  };
  try {
    checkArchiveTapOptions(options);
  } catch (error) {
    // The same directory twice, or a bad reader name: how it was called.
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  const writeLine = (line: string) => writeStderrLine("archive-tap", line);
  const log: ArchiveTapLog = opts.logLevel === "debug"
    ? { info: writeLine, debug: writeLine }
    : { info: writeLine };
  // The first signal stops the tap cleanly; a second one does not wait.
  using stop = stopSignals(["SIGINT", "SIGTERM"], (signal, count) => {
    if (count > 1) Deno.exit(signalExitStatus(signal));
  });
  await archiveTap({ ...options, signal: stop.signal, log });
  return 0;
}

// `--archive Q --snapshot-every L` without `--live`: snapshots for an
// archive that has none yet, or more after its latest; nothing is copied.
async function buildArchiveSnapshots(
  program: ReturnType<typeof archiveTapCommand>,
  archive: string,
  plan: SnapshotPlan,
  mode: number | undefined,
): Promise<number> {
  const copying = ["--start", "--once", "--name", "--segment-bytes"].find((flag) =>
    program.getOptionValueSource(
      flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
    ) ===
      "cli"
  );
  if (copying !== undefined) {
    throw new UsageError(`Option '${copying}' copies from '--live'; building snapshots takes none`);
  }
  const location = await locateStream(archive);
  if (location.kind !== "queue") {
    const what = location.kind === "tape" ? "a tape" : "a sealed store";
    throw new UsageError(`Option '--archive' names ${what}, '${archive}': give a queue`);
  }
  const say = (line: string) => writeStderrLine("archive-tap", line);
  const built = await buildSnapshots(location.path, plan, {
    onWarning: say,
    ...(mode === undefined ? {} : { mode }),
  });
  say(`snapshots: ${built.description}`);
  const read = built.toSeq > built.fromSeq
    ? `reading seqs ${built.fromSeq + 1}..${built.toSeq}`
    : `nothing after seq ${built.toSeq} to read`;
  say(
    `${built.sets} snapshot set${
      built.sets === 1 ? "" : "s"
    } written, ${read} of archive '${archive}'`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await runProgram("archive-tap", () => main(Deno.args)));
