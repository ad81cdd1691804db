/**
 * `keygen`: makes a key pair for sealed stores in age's format, so a host
 * without age installed can make one; `age-keygen` makes the same files.
 * Parsing and file writing only; the keys come from `src/sealed/`.
 *
 * @module
 */

import { newCommand, runProgram, UsageError, writeStderrLine } from "./_program.ts";
import { findProgram } from "./manifest.ts";
import {
  encodeRecipient,
  generateIdentity,
  identityFileText,
  readIdentityFile,
  recipientOf,
} from "../src/sealed/mod.ts";
import { writeTextSync } from "../src/tape/mod.ts";

const EXAMPLES = `
Examples:
  # A private key for the readers; its public key (the recipient) goes to stderr
  keygen -o archive.key

  # The recipient again, for the sealing host's --recipient or --recipients-file
  keygen -y archive.key >> recipients.txt

The file is what age-keygen writes: '# created', '# public key' and the AGE-SECRET-KEY-1… line.
'-o' creates it 0600 and never overwrites a file. Keep it off the hosts that only seal.

Exit status: 0; 1 when the file cannot be written or read; 2 for a usage error.
`;

/**
 * Builds the `keygen` command line parser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keygenCommand } from "./keygen.ts";
 * assert.equal(keygenCommand().name(), "keygen");
 * ```
 */
export function keygenCommand() {
  return newCommand("keygen", findProgram("keygen")?.summary ?? "Make a key pair")
    .option("-o, --output <file>", "write the private key to FILE (created 0600) instead of stdout")
    .option("-y, --recipient-of <file>", "print the public key of each private key in FILE")
    .addHelpText("after", EXAMPLES);
}

/**
 * Runs `keygen` with the given arguments and returns its exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./keygen.ts";
 * Deno.exit(await main(["-o", "archive.key"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const program = keygenCommand();
  await program.parseAsync(args, { from: "user" });
  const opts = program.opts();
  if (opts.recipientOf !== undefined) {
    if (opts.output !== undefined) {
      throw new UsageError("Options '-y' and '-o' do not go together: '-y' only reads a key");
    }
    for (const secret of await readIdentityFile(opts.recipientOf)) {
      writeTextSync(`${encodeRecipient(await recipientOf(secret))}\n`, Deno.stdout);
    }
    return 0;
  }
  const { identity, recipient } = await generateIdentity();
  const text = identityFileText(identity, recipient, new Date());
  if (opts.output === undefined) {
    writeTextSync(text, Deno.stdout);
  } else {
    try {
      await Deno.writeTextFile(opts.output, text, { createNew: true, mode: 0o600 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new UsageError(`File '${opts.output}' exists: keygen never overwrites a key`);
      }
      throw error;
    }
  }
  writeStderrLine("keygen", `public key: ${recipient}`);
  return 0;
}

if (import.meta.main) Deno.exit(await runProgram("keygen", () => main(Deno.args)));
