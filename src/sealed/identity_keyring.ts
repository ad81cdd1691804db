/**
 * Which private keys open sealed stores, when a reader is given none: the
 * identity file a program was told about with `--identity`, else the file
 * named by `SPOOL_IDENTITY`. Every reader of a program (replay, a merge, the
 * books, an import's input) then opens sealed stores with no option passed
 * down through each of them.
 *
 * @module
 */

import { readIdentityFile } from "./key_files.ts";
import { SealedKeyError } from "./sealed_errors.ts";

/** Private keys, and where they came from for messages. */
export interface Identities {
  /** X25519 secret keys, 32 bytes each. */
  keys: Uint8Array[];
  /** The file they came from, as messages name it. */
  source: string;
}

/** The environment variable naming an identity file. */
export const IDENTITY_ENV = "SPOOL_IDENTITY";

let chosen: string | undefined;

/**
 * Makes `path` the identity file readers use from now on (a program's
 * `--identity`), or forgets it with undefined. Returns the one before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { useIdentityFile } from "./identity_keyring.ts";
 * const before = useIdentityFile("/keys/archive.key");
 * assert.equal(useIdentityFile(before), "/keys/archive.key");
 * ```
 */
export function useIdentityFile(path: string | undefined): string | undefined {
  const previous = chosen;
  chosen = path;
  return previous;
}

function fromEnvironment(): string | undefined {
  try {
    const value = Deno.env.get(IDENTITY_ENV);
    return value === undefined || value === "" ? undefined : value;
  } catch {
    // Without --allow-env there is no environment to take it from.
    return undefined;
  }
}

/**
 * The identities to open `store` with: the file chosen by
 * {@linkcode useIdentityFile}, else `SPOOL_IDENTITY`'s.
 *
 * @throws {SealedKeyError} when neither names a file, or the file holds no identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultIdentities, useIdentityFile } from "./identity_keyring.ts";
 * const before = useIdentityFile(undefined);
 * Deno.env.delete("SPOOL_IDENTITY");
 * await assert.rejects(defaultIdentities("sealed:/s"), { name: "SealedKeyError" });
 * useIdentityFile(before);
 * ```
 */
export async function defaultIdentities(store: string): Promise<Identities> {
  const path = chosen ?? fromEnvironment();
  if (path === undefined) {
    throw new SealedKeyError(
      `Sealed store '${store}' needs a private key to be read: pass '--identity FILE' ` +
        `or set ${IDENTITY_ENV} to an identity file`,
      "--identity",
    );
  }
  return { keys: await readIdentityFile(path), source: path };
}
