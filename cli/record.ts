/**
 * `record`: records the traffic between a client and a server command (or
 * the lines of standard input) into a tape, or seals it into a sealed
 * store. Parsing only; the work is done by `src/proxy/`.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { collect, timerMs } from "./_options.ts";
import { newCommand, runProgram, UsageError } from "./_program.ts";
import { recipientOption, recipientsFileOption, recipientsOf } from "./_sealing.ts";
import { findProgram } from "./manifest.ts";
import {
  parseRedactRule,
  recordStdin,
  Redactor,
  type RedactRule,
  RedactRuleError,
  runStdioProxy,
  type SealTo,
} from "../src/proxy/mod.ts";
import { parseSealedLocation } from "../src/sealed/mod.ts";
import { DEFAULT_TAPES_DIR } from "../src/tape/mod.ts";

const EXAMPLES = `
Examples:
  # Sit between an MCP host and its server; tapes go to ./tapes
  record -- deno run examples/jsonrpc_server.ts

  # Name and tag the tape, and make every frame survive a power cut
  record --name login-bug --tag prod --tag auth --durability fsync -- ./server --port 0

  # Keep secrets out of the tape (the server still gets them)
  record --redact '$.params.arguments.password' --redact 're:sk-[A-Za-z0-9]{20,}' -- ./server

  # Record lines piped in (non-JSON lines are kept as text frames)
  tail -f server.log | record --stdin --out logs

  # Seal the recording as it is made: nothing in clear on disk, only the key's holder reads it
  record --seal-to sealed:/srv/vault/mcp --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p -- ./server
  replay sealed:/srv/vault/mcp --json --identity archive.key

Redaction rules (--redact, repeatable; only the recorded copy is changed):
  $.a.b        the value of member b of member a ($ is the message; it may be left out)
  $.a.*.b      * matches every member of an object or element of an array
  $.a[0]       an array element; [*] matches every element
  $['a.b']     a member whose name needs quoting
  $..password  member password at any depth
  re:<regex>   every match of the JavaScript regex in any string value or text line
  A changed frame carries the flag "redacted"; values become "[REDACTED]".

Sealed (--seal-to, docs/sealed-archives.md "Recordings"): the store gets one run per recording,
each frame as the record a tape's frame reads as (seq; timestamp = created_at + ts; type 1 client
to server, 2 server to client; payload the message line, after redaction), after a metadata frame
with the recording's facts (tape id, session id, name, description, tags, transport, environment)
and before one with its final stats (frames by direction and kind, seqs, duration, status).
Correlations and checkpoints are not stored: readers derive them from the frames. flush and fsync
wait for each frame's segment to be on disk; buffered commits every 50 ms.

Exit status: the server's (128 + n when it died of signal n); 1 when the server cannot be started
or the tape (or sealed store) cannot be written; 2 for a usage error. With --stdin: 0, or 128 + n
after signal n; 1 when stdin cannot be read (a directory) or the tape cannot be written (the tape
is marked error).
`;

const DURABILITIES = ["buffered", "flush", "fsync"] as const;

/**
 * Builds the `record` command line parser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordCommand } from "./record.ts";
 * assert.equal(recordCommand().name(), "record");
 * ```
 */
export function recordCommand() {
  return newCommand("record", findProgram("record")?.summary ?? "Record a tape")
    .usage("[options] -- <command> [args...]\n       record --stdin [options]")
    .argument("[command...]", "server command and its arguments, after --")
    .option(
      "-o, --out <dir>",
      "directory for <tape_id>.jsonl and <tape_id>.meta.json, both created 0600 " +
        "(the directory 0700 when created now)",
      DEFAULT_TAPES_DIR,
    )
    .option(
      "--seal-to <store>",
      "record into a sealed store instead of a tape (not with --out): sealed:DIR (or just DIR) " +
        "or sqlite:FILE[#stream], sealed to --recipient or --recipients-file; nothing is " +
        "written in clear",
    )
    .addOption(recipientOption())
    .addOption(recipientsFileOption())
    .option("-n, --name <name>", "name of the tape, shown by listings")
    .option("-d, --description <text>", "free text describing the recording")
    .option("-t, --tag <tag>", "tag the tape (repeatable)", collect)
    .addOption(
      new Option(
        "--durability <mode>",
        "buffered: flushed every 50 ms or 64 KiB; flush: each frame handed to the OS (survives" +
          " a crash of record); fsync: each frame on disk (group commit)",
      ).choices(DURABILITIES).default("flush" as const),
    )
    .option(
      "-r, --redact <rule>",
      "rewrite the recorded copy: a JSON path or re:<regex> (repeatable, see below)",
      collect,
    )
    .option("--stdin", "record the lines of standard input instead of running a server")
    .option(
      "--grace-ms <ms>",
      "time the server gets to exit after the client closes stdin, before SIGTERM (then SIGKILL)",
      timerMs,
      5000,
    )
    .option("-q, --quiet", "do not print the closing 'tape … finalized' (or '… sealed') line")
    .passThroughOptions()
    .addHelpText("after", EXAMPLES);
}

/**
 * Runs `record` with the given arguments and returns its exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./record.ts";
 * Deno.exit(await main(["--stdin", "--out", "tapes"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = recordCommand();
  await program.parseAsync(args, { from: "user" });
  const opts = program.opts();
  const command = program.processedArgs[0];
  if (opts.stdin && command.length > 0) {
    throw new UsageError(`Option '--stdin' takes no server command, got '${command[0]}'`);
  }
  if (!opts.stdin && command.length === 0) {
    throw new UsageError(
      "Missing server command: use 'record [options] -- <command> [args...]' or 'record --stdin'",
    );
  }
  let rules: RedactRule[];
  try {
    rules = (opts.redact ?? []).map(parseRedactRule);
  } catch (error) {
    if (error instanceof RedactRuleError) throw new UsageError(error.message);
    throw error;
  }
  const sealTo = await sealTarget(program, opts);
  const options = {
    out: opts.out,
    ...(sealTo === undefined ? {} : { sealTo }),
    tags: opts.tag ?? [],
    durability: opts.durability,
    redactor: new Redactor(rules),
    quiet: opts.quiet ?? false,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.description === undefined ? {} : { description: opts.description }),
  };
  const result = opts.stdin
    ? await recordStdin(options)
    : await runStdioProxy({ ...options, command, graceMs: opts.graceMs });
  return result.code;
}

// Where `--seal-to` records, checked against '--out' and the recipients.
async function sealTarget(
  program: ReturnType<typeof recordCommand>,
  opts: { sealTo?: string; recipient?: string[]; recipientsFile?: string },
): Promise<SealTo | undefined> {
  if (opts.sealTo === undefined) {
    if (opts.recipient !== undefined || opts.recipientsFile !== undefined) {
      throw new UsageError(
        `Option '${opts.recipient === undefined ? "--recipients-file" : "--recipient"}' ` +
          "applies to '--seal-to'",
      );
    }
    return undefined;
  }
  if (program.getOptionValueSource("out") === "cli") {
    throw new UsageError(
      "Options '--seal-to' and '--out' exclude each other: a sealed recording writes no tape",
    );
  }
  if (opts.recipient === undefined && opts.recipientsFile === undefined) {
    throw new UsageError(
      "Option '--seal-to' needs '--recipient age1…' or '--recipients-file FILE' to seal to",
    );
  }
  let location;
  try {
    location = parseSealedLocation(opts.sealTo) ?? { kind: "file" as const, dir: opts.sealTo };
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  if (location.kind === "file" && location.dir === "") {
    throw new UsageError("Option '--seal-to' names no store: give 'sealed:DIR' or 'sqlite:FILE'");
  }
  return { location, recipients: await recipientsOf(opts) };
}

if (import.meta.main) Deno.exit(await runProgram("record", () => main(Deno.args)));
