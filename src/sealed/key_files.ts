/**
 * Identity and recipients files, as age reads them: one key a line, blank
 * lines and lines starting with `#` ignored, so the file `age-keygen -o`
 * writes is an identity file as it is.
 *
 * @module
 */

import { parseIdentity, parseRecipient } from "./age_keys.ts";
import { SealedKeyError } from "./sealed_errors.ts";

/** The keys of `text`, one a line, each parsed with its `file:line` as source. */
function parseLines(
  text: string,
  source: string,
  what: string,
  parse: (line: string, where: string) => Uint8Array,
): Uint8Array[] {
  if (text.startsWith("age-encryption.org/")) {
    throw new SealedKeyError(
      `The ${what} file '${source}' is encrypted with age: decrypt it first ('age -d')`,
      source,
    );
  }
  const keys: Uint8Array[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    keys.push(parse(line, `${source}:${i + 1}`));
  }
  if (keys.length === 0) {
    throw new SealedKeyError(
      `The ${what} file '${source}' holds no key: make one with 'age-keygen'`,
      source,
    );
  }
  return keys;
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "it does not exist"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (e as Error).message;
    throw new SealedKeyError(`Cannot read the ${what} file '${path}': ${why}`, path, { cause: e });
  }
}

/**
 * The X25519 secrets in the text of an identity file.
 *
 * @param source The file's name, for errors (which say `file:line`).
 * @throws {SealedKeyError} when a line is not an age identity, or there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIdentity } from "./age_keys.ts";
 * import { parseIdentityFile } from "./key_files.ts";
 * const text = `# created: 2024-01-01\n# public key: age1…\n${encodeIdentity(new Uint8Array(32).fill(1))}\n`;
 * assert.equal(parseIdentityFile(text, "key.txt").length, 1);
 * assert.throws(() => parseIdentityFile("# nothing\n", "key.txt"), { name: "SealedKeyError" });
 * ```
 */
export function parseIdentityFile(text: string, source: string): Uint8Array[] {
  return parseLines(text, source, "identity", parseIdentity);
}

/**
 * Reads an identity file and returns its X25519 secrets.
 *
 * @throws {SealedKeyError} when the file cannot be read, a line is not an
 *   age identity, or there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity } from "./age_keys.ts";
 * import { readIdentityFile } from "./key_files.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, (await generateIdentity()).identity + "\n");
 * assert.equal((await readIdentityFile(path)).length, 1);
 * await Deno.remove(path);
 * ```
 */
export async function readIdentityFile(path: string): Promise<Uint8Array[]> {
  return parseIdentityFile(await readKeyFile(path, "identity"), path);
}

/**
 * The X25519 public keys in the text of a recipients file.
 *
 * @param source The file's name, for errors (which say `file:line`).
 * @throws {SealedKeyError} when a line is not an age recipient, or there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecipient } from "./age_keys.ts";
 * import { parseRecipientsFile } from "./key_files.ts";
 * const text = `# ops team\n${encodeRecipient(new Uint8Array(32).fill(1))}\n\n`;
 * assert.equal(parseRecipientsFile(text, "team.txt").length, 1);
 * assert.throws(() => parseRecipientsFile("age1oops\n", "team.txt"), {
 *   message: /^Recipient 'age1oops' in 'team.txt:1'/,
 * });
 * ```
 */
export function parseRecipientsFile(text: string, source: string): Uint8Array[] {
  return parseLines(text, source, "recipients", parseRecipient);
}

/**
 * Reads a recipients file and returns its X25519 public keys.
 *
 * @throws {SealedKeyError} when the file cannot be read, a line is not an
 *   age recipient, or there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity } from "./age_keys.ts";
 * import { readRecipientsFile } from "./key_files.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, (await generateIdentity()).recipient + "\n");
 * assert.equal((await readRecipientsFile(path)).length, 1);
 * await Deno.remove(path);
 * ```
 */
export async function readRecipientsFile(path: string): Promise<Uint8Array[]> {
  return parseRecipientsFile(await readKeyFile(path, "recipients"), path);
}

/**
 * The text of an identity file as `age-keygen` writes it: when it was made,
 * its public key, then the private key, each on a line of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity } from "./age_keys.ts";
 * import { identityFileText, parseIdentityFile } from "./key_files.ts";
 * const { identity, recipient } = await generateIdentity();
 * const text = identityFileText(identity, recipient, new Date("2026-12-05T12:00:00.5Z"));
 * assert.equal(text.split("\n")[0], "# created: 2026-12-05T12:00:00Z");
 * assert.equal(text.split("\n")[1], `# public key: ${recipient}`);
 * assert.equal(parseIdentityFile(text, "new.key").length, 1);
 * ```
 */
export function identityFileText(identity: string, recipient: string, created: Date): string {
  const when = created.toISOString().replace(/\.\d+Z$/, "Z");
  return `# created: ${when}\n# public key: ${recipient}\n${identity}\n`;
}
