/**
 * The X25519 recipient stanza: a run's file key wrapped for one recipient,
 * so only the holder of the matching identity can unwrap it. The
 * construction is age's X25519 recipient with spool's own HKDF label: the
 * keys are shared with age, the stanzas are not.
 *
 * Layout (81 bytes): type `1`, the ephemeral public key (32), then the file
 * key sealed with ChaCha20-Poly1305 under
 * `HKDF-SHA256(shared, share || recipient, "spool-sealed/v1 X25519")` and a
 * zero nonce (32 + 16 tag).
 *
 * @module
 */

import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto";
import { encodeRecipient, recipientOf, x25519 } from "./age_keys.ts";
import { SealedKeyError } from "./sealed_errors.ts";
import { STANZA_BYTES, STANZA_X25519, TAG_BYTES } from "./sealed_format.ts";

const FILE_KEY_BYTES = 32;
const SHARE_BYTES = 32;
const WRAP_INFO = "spool-sealed/v1 X25519";
// Each wrap key is used once, so a fixed nonce is safe (as in age).
const ZERO_NONCE = new Uint8Array(12);

function wrapKey(shared: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = new Uint8Array(SHARE_BYTES * 2);
  salt.set(share);
  salt.set(recipient, SHARE_BYTES);
  return new Uint8Array(hkdfSync("sha256", shared, salt, WRAP_INFO, 32));
}

/**
 * Wraps `fileKey` (32 bytes) for `recipient` (an X25519 public key) in an
 * 81-byte stanza, with a fresh ephemeral key.
 *
 * @param ephemeralSecret For test vectors only: the ephemeral X25519 secret
 *   to use instead of a random one. Reusing one breaks the stanza's secrecy.
 * @throws {SealedKeyError} when the recipient is a low-order point, which no
 *   real key is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientOf } from "./age_keys.ts";
 * import { unwrapFileKey, wrapFileKey } from "./x25519_stanza.ts";
 * const secret = crypto.getRandomValues(new Uint8Array(32));
 * const fileKey = crypto.getRandomValues(new Uint8Array(32));
 * const stanza = await wrapFileKey(fileKey, await recipientOf(secret));
 * assert.equal(stanza.length, 81);
 * assert.deepEqual(await unwrapFileKey(stanza, secret), fileKey);
 * ```
 */
export async function wrapFileKey(
  fileKey: Uint8Array,
  recipient: Uint8Array,
  ephemeralSecret?: Uint8Array,
): Promise<Uint8Array> {
  if (fileKey.length !== FILE_KEY_BYTES) {
    throw new TypeError(`A file key is ${FILE_KEY_BYTES} bytes, not '${fileKey.length}'`);
  }
  const ephemeral = ephemeralSecret ?? crypto.getRandomValues(new Uint8Array(32));
  const shared = await x25519(ephemeral, recipient);
  if (shared === undefined) {
    const shown = encodeRecipient(recipient);
    throw new SealedKeyError(
      `Recipient '${shown}' is not a usable X25519 key: give one that 'age-keygen' made`,
      shown,
    );
  }
  const share = await recipientOf(ephemeral);
  const cipher = createCipheriv(
    "chacha20-poly1305",
    wrapKey(shared, share, recipient),
    ZERO_NONCE,
    {
      authTagLength: TAG_BYTES,
    },
  );
  const body = cipher.update(fileKey);
  cipher.final();
  const stanza = new Uint8Array(STANZA_BYTES);
  stanza[0] = STANZA_X25519;
  stanza.set(share, 1);
  stanza.set(body, 1 + SHARE_BYTES);
  stanza.set(cipher.getAuthTag(), 1 + SHARE_BYTES + FILE_KEY_BYTES);
  return stanza;
}

/**
 * The file key in `stanza` when `secret` (an X25519 identity) opens it;
 * `undefined` when the stanza is for another recipient (its tag fails) or
 * is not an X25519 stanza.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientOf } from "./age_keys.ts";
 * import { unwrapFileKey, wrapFileKey } from "./x25519_stanza.ts";
 * const mine = new Uint8Array(32).fill(1), other = new Uint8Array(32).fill(2);
 * const stanza = await wrapFileKey(new Uint8Array(32), await recipientOf(mine));
 * assert.equal(await unwrapFileKey(stanza, other), undefined);
 * ```
 */
export async function unwrapFileKey(
  stanza: Uint8Array,
  secret: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (stanza.length !== STANZA_BYTES || stanza[0] !== STANZA_X25519) return undefined;
  const share = stanza.subarray(1, 1 + SHARE_BYTES);
  const shared = await x25519(secret, share);
  if (shared === undefined) return undefined;
  const key = wrapKey(shared, share, await recipientOf(secret));
  const decipher = createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAuthTag(stanza.subarray(1 + SHARE_BYTES + FILE_KEY_BYTES));
  const fileKey = decipher.update(
    stanza.subarray(1 + SHARE_BYTES, 1 + SHARE_BYTES + FILE_KEY_BYTES),
  );
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return Uint8Array.from(fileKey);
}
