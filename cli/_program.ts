/**
 * What every spool program shares around its own logic: argument parsing
 * with usage errors on exit status 2, one-line error reports on exit status 1,
 * and no stack trace for a user's mistake.
 *
 * @module
 */

import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { completionScript, type Shell, SHELLS } from "./_completions.ts";
import {
  errorMessage,
  ioMessage,
  isOsError,
  type SyncWriter,
  useWarningLog,
  WarningLog,
  writeTextSync,
} from "../src/tape/mod.ts";
// Imported, not read at run time, so a compiled binary carries its version.
import config from "../deno.json" with { type: "json" };

/**
 * The version of spool, from `deno.json`, that `--version` prints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VERSION } from "./_program.ts";
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = config.version;

/**
 * A mistake in how a program was called that the argument parser cannot see
 * by itself (for example `--speed -1`). Reported like a parser error: one
 * line, exit status 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./_program.ts";
 * const error = new UsageError("Option '--speed' must be a positive number, got '-1'");
 * assert.ok(error instanceof TypeError);
 * assert.equal(error.name, "UsageError");
 * ```
 */
export class UsageError extends TypeError {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit status for a usage error. */
const EXIT_USAGE = 2;
/** Exit status for every other failure. */
const EXIT_FAILURE = 1;

/**
 * Creates a command with spool's conventions: usage errors are thrown (not
 * printed and exited by the parser itself) so {@linkcode runProgram} can
 * report them on one line with status 2; `-V, --version` prints
 * `<program> <version>`; `--completions <shell>` prints a completion script.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newCommand, VERSION } from "./_program.ts";
 * const cmd = newCommand("tail", "Show a tape").argument("<tape>");
 * assert.equal(cmd.name(), "tail");
 * assert.equal(cmd.version(), `tail ${VERSION}`);
 * ```
 */
export function newCommand(name: string, description: string): Command {
  const command = new Command(name)
    .description(description)
    .version(`${name} ${VERSION}`, "-V, --version", "print the program's name and version")
    .exitOverride()
    .configureOutput({
      // The parser's own message becomes our one line; see runProgram.
      writeErr: () => {},
      outputError: () => {},
    })
    .showHelpAfterError(false)
    .allowExcessArguments(false)
    .addOption(
      new Option("--completions <shell>", "print a shell completion script and exit")
        .choices(SHELLS),
    );
  // Option events fire while options are parsed, before missing arguments
  // are checked, so `tail --completions bash` works without a tape.
  command.on("option:completions", (shell: Shell) => {
    writeTextSync(completionScript(command, shell), Deno.stdout);
    throw new CommanderError(0, "spool.completions", "");
  });
  return command;
}

/**
 * Writes `<program>: <line>` and a newline on stderr (or `to`), all of it
 * before returning, so a program's own lines never interleave with each other.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeStderrLine } from "./_program.ts";
 * const written: string[] = [];
 * const to = { writeSync: (p: Uint8Array) => (written.push(new TextDecoder().decode(p)), p.length) };
 * writeStderrLine("demo", "3 records copied", to);
 * assert.deepEqual(written, ["demo: 3 records copied\n"]);
 * ```
 */
export function writeStderrLine(program: string, line: string, to: SyncWriter = Deno.stderr): void {
  writeTextSync(`${program}: ${line}\n`, to);
}

// Only the first line: a multi-line message would break the one-line rule.
function describeError(error: unknown): string {
  // The file system's own error, not yet worded by spool: the tape module words it.
  if (isOsError(error)) return ioMessage(error);
  return errorMessage(error, { firstLine: true }).replace(/^error: /, "");
}

/**
 * Runs a program's main function and turns its outcome into an exit status.
 * Returns the status instead of exiting so tests and the demo can reuse it;
 * entry files call `Deno.exit(await runProgram(...))`.
 *
 * The main function returns the exit status it wants (0 unless it passes a
 * child's status through). Errors are reported as `<program>: <message>` on
 * stderr; set `SPOOL_DEBUG=1` to also see the stack. Warnings about the
 * tapes it reads are `<program>: warning: <message>`, the first five only,
 * then one line counting the rest (see {@linkcode WarningLog}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runProgram, UsageError } from "./_program.ts";
 * assert.equal(await runProgram("demo", () => Promise.resolve(0)), 0);
 * // "demo: Option '--speed' must be positive" on stderr
 * assert.equal(await runProgram("demo", () => Promise.reject(new UsageError("Option '--speed' must be positive"))), 2);
 * ```
 */
export async function runProgram(
  program: string,
  main: () => Promise<number>,
): Promise<number> {
  // Warnings about what the program reads: the first few, then one count.
  const warnings = new WarningLog(program);
  const previous = useWarningLog(warnings);
  try {
    return await main();
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      if (error.exitCode === 0) return 0;
      report(program, error);
      return EXIT_USAGE;
    }
    warnings.end();
    report(program, error);
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    warnings.end();
    useWarningLog(previous);
  }
}

/**
 * Rewrites the argument parser's own message in spool's style: sentence
 * case, values in quotes, no full stops, a suggestion kept on the same line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommanderError } from "@commander-js/extra-typings";
 * import { usageMessage } from "./_program.ts";
 * const e = new CommanderError(1, "commander.unknownOption", "error: unknown option '--jsn'\n(Did you mean --json?)");
 * assert.equal(usageMessage(e), "Unknown option '--jsn' (did you mean '--json'?)");
 * ```
 */
export function usageMessage(error: CommanderError): string {
  const [first = "", ...rest] = error.message.replace(/^error: /, "").split("\n");
  let text = first
    .replace(
      /\. Allowed choices are (.*?)\.?$/,
      (_, list: string) =>
        `: allowed choices are ${list.split(", ").map((c) => `'${c}'`).join(", ")}`,
    )
    .replace(/\. (\w)/, (_, c: string) => `: ${c.toLowerCase()}`)
    .replace(/\.$/, "");
  const suggestion = rest.map((l) => /^\(Did you mean (.+)\?\)$/.exec(l.trim())).find((m) => m);
  if (suggestion) text += ` (did you mean '${suggestion[1]}'?)`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function report(program: string, error: unknown): void {
  const line = error instanceof CommanderError
    ? `${usageMessage(error)} (see '${program} --help')`
    : describeError(error);
  writeStderrLine(program, line);
  if (debugEnabled() && error instanceof Error && error.stack) {
    writeTextSync(`${error.stack}\n`);
  }
}

function debugEnabled(): boolean {
  try {
    return Deno.env.get("SPOOL_DEBUG") === "1";
  } catch {
    return false;
  }
}
