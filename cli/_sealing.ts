/**
 * The options every program shares for sealed stores: recipients for the
 * programs that seal, an identity for the ones that open. Parsing only; the
 * keys are read and used by `src/sealed/`.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { collect } from "./_options.ts";
import { UsageError } from "./_program.ts";
import {
  IDENTITY_ENV,
  parseRecipient,
  readRecipientsFile,
  SealedKeyError,
  useIdentityFile,
} from "../src/sealed/mod.ts";

/**
 * `--recipient age1…` (repeatable): a public key a sealed store is sealed to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientOption } from "./_sealing.ts";
 * assert.equal(recipientOption().long, "--recipient");
 * ```
 */
export function recipientOption() {
  return new Option(
    "--recipient <age1…>",
    "seal to this public key (repeatable; made by 'age-keygen' or 'deno task keygen')",
  ).argParser(collect);
}

/**
 * `--recipients-file FILE`: public keys, one `age1…` a line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientsFileOption } from "./_sealing.ts";
 * assert.equal(recipientsFileOption().long, "--recipients-file");
 * ```
 */
export function recipientsFileOption() {
  return new Option(
    "--recipients-file <file>",
    "seal to the public keys in FILE, one 'age1…' a line ('#' starts a comment)",
  );
}

/**
 * `--identity FILE`: the private key file that opens sealed stores.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { identityOption } from "./_sealing.ts";
 * assert.equal(identityOption().long, "--identity");
 * ```
 */
export function identityOption() {
  return new Option(
    "--identity <file>",
    `private key file (AGE-SECRET-KEY-1…, as age-keygen writes it) that opens sealed stores; ` +
      `default the file named by ${IDENTITY_ENV}`,
  );
}

/**
 * The recipients given by `--recipient` and `--recipients-file`; none when
 * neither was given.
 *
 * @throws {UsageError} for a `--recipient` that is not a recipient.
 * @throws {SealedKeyError} for a recipients file that cannot be read or holds a bad line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientsOf } from "./_sealing.ts";
 * assert.deepEqual(await recipientsOf({}), []);
 * await assert.rejects(recipientsOf({ recipient: ["age1nope"] }), { name: "UsageError" });
 * ```
 */
export async function recipientsOf(
  opts: { recipient?: string[] | undefined; recipientsFile?: string | undefined },
): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for (const text of opts.recipient ?? []) {
    try {
      keys.push(parseRecipient(text, "--recipient"));
    } catch (error) {
      if (error instanceof SealedKeyError) throw new UsageError(error.message);
      throw error;
    }
  }
  if (opts.recipientsFile !== undefined) {
    keys.push(...await readRecipientsFile(opts.recipientsFile));
  }
  return keys;
}

/**
 * Makes `--identity`, when given, the file every sealed store of this
 * program is opened with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { useIdentityOption } from "./_sealing.ts";
 * import { useIdentityFile } from "../src/sealed/mod.ts";
 * useIdentityOption({ identity: "/keys/a.key" });
 * assert.equal(useIdentityFile(undefined), "/keys/a.key");
 * ```
 */
export function useIdentityOption(opts: { identity?: string | undefined }): void {
  if (opts.identity !== undefined) useIdentityFile(opts.identity);
}
