/**
 * `record`: records the traffic between a client and a server command (or
 * the lines of standard input) into a tape. Parsing only; the work is done
 * by `src/proxy/`.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { collect, timerMs } from "./_options.ts";
import { newCommand, runProgram, UsageError } from "./_program.ts";
import { findProgram } from "./manifest.ts";
import {
  parseRedactRule,
  recordStdin,
  Redactor,
  type RedactRule,
  RedactRuleError,
  runStdioProxy,
} from "../src/proxy/mod.ts";
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

Redaction rules (--redact, repeatable; only the recorded copy is changed):
  $.a.b        the value of member b of member a ($ is the message; it may be left out)
  $.a.*.b      * matches every member of an object or element of an array
  $.a[0]       an array element; [*] matches every element
  $['a.b']     a member whose name needs quoting
  $..password  member password at any depth
  re:<regex>   every match of the JavaScript regex in any string value or text line
  A changed frame carries the flag "redacted"; values become "[REDACTED]".

Exit status: the server's (128 + n when it died of signal n); 1 when the server cannot be started
or the tape cannot be written; 2 for a usage error. With --stdin: 0, or 128 + n after signal n;
1 when stdin cannot be read (a directory) or the tape cannot be written (the tape is marked error).
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
      "directory for <tape_id>.jsonl and <tape_id>.meta.json",
      DEFAULT_TAPES_DIR,
    )
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
    .option("-q, --quiet", "do not print the closing 'tape … finalized' line")
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
  const options = {
    out: opts.out,
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

if (import.meta.main) Deno.exit(await runProgram("record", () => main(Deno.args)));
