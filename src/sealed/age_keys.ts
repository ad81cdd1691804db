/**
 * Keys in age's text formats, so `age-keygen` makes keys spool uses and
 * spool makes keys age uses: a recipient is an X25519 public key written as
 * bech32 `age1…`, an identity is the X25519 secret written as
 * `AGE-SECRET-KEY-1…`. X25519 itself is WebCrypto's.
 *
 * @module
 */

import { bech32 } from "bech32";
import { SealedKeyError } from "./sealed_errors.ts";

const RECIPIENT_HRP = "age";
const IDENTITY_HRP = "age-secret-key-";
const KEY_BYTES = 32;
/** The longest bech32 string accepted; age's keys are 62 and 74 characters. */
const BECH32_LIMIT = 100;
/** DER prefix of a PKCS#8 X25519 private key (RFC 8410); the 32 secret bytes follow. */
const PKCS8_X25519_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
);
/** The X25519 base point, u = 9: a scalar times it is that scalar's public key. */
const BASE_POINT = Uint8Array.of(9, ...new Uint8Array(31));

function decodeKey(text: string, hrp: string): Uint8Array | undefined {
  const decoded = bech32.decodeUnsafe(text, BECH32_LIMIT);
  if (decoded === undefined || decoded.prefix !== hrp) return undefined;
  const bytes = bech32.fromWordsUnsafe(decoded.words);
  return bytes?.length === KEY_BYTES ? Uint8Array.from(bytes) : undefined;
}

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new TypeError(`An X25519 ${what} is ${KEY_BYTES} bytes, not '${key?.length}'`);
  }
}

/**
 * The X25519 public key of an age recipient (`age1…`).
 *
 * @param text The recipient, without surrounding space.
 * @param source Where it came from (an option, a file and line), for the error.
 * @throws {SealedKeyError} when `text` is not an age X25519 recipient.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecipient, parseRecipient } from "./age_keys.ts";
 * const pub = new Uint8Array(32).fill(3);
 * assert.deepEqual(parseRecipient(encodeRecipient(pub), "--recipient"), pub);
 * assert.throws(() => parseRecipient("age1nope", "--recipient"), { name: "SealedKeyError" });
 * ```
 */
export function parseRecipient(text: string, source: string): Uint8Array {
  const key = decodeKey(text, RECIPIENT_HRP);
  if (key !== undefined) return key;
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  const hint = text.toUpperCase().startsWith("AGE-SECRET-KEY-1")
    ? "this is a secret key: give the public key (age1…) that 'age-keygen -y' prints for it"
    : text.startsWith("ssh-")
    ? "SSH keys are not supported: make an age key with 'age-keygen'"
    : "give an X25519 public key 'age1…' as 'age-keygen' prints it";
  // A secret key given here by mistake must not reach a log.
  const named = text.toUpperCase().startsWith("AGE-SECRET-KEY-") ? "" : ` '${shown}'`;
  throw new SealedKeyError(
    `Recipient${named} in '${source}' is not an age recipient: ${hint}`,
    source,
  );
}

/**
 * The 32-byte X25519 secret of an age identity (`AGE-SECRET-KEY-1…`, in
 * upper or lower case). The error never repeats the text, which may be a
 * secret key with a typo.
 *
 * @param text The identity, without surrounding space.
 * @param source Where it came from (a file and line, an environment variable), for the error.
 * @throws {SealedKeyError} when `text` is not an age X25519 identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIdentity, parseIdentity } from "./age_keys.ts";
 * const secret = new Uint8Array(32).fill(5);
 * assert.deepEqual(parseIdentity(encodeIdentity(secret), "id.txt"), secret);
 * assert.deepEqual(parseIdentity(encodeIdentity(secret).toLowerCase(), "id.txt"), secret);
 * ```
 */
export function parseIdentity(text: string, source: string): Uint8Array {
  const key = decodeKey(text, IDENTITY_HRP);
  if (key !== undefined) return key;
  const upper = text.toUpperCase();
  const hint = upper.startsWith("AGE1")
    ? "this is a recipient (public key): give the secret key file 'age-keygen' wrote"
    : upper.startsWith("AGE-PLUGIN-")
    ? "age plugin identities are not supported: use an X25519 key from 'age-keygen'"
    : upper.startsWith("AGE-SECRET-KEY-1")
    ? "the key is damaged (its checksum does not match): check the file"
    : "give an X25519 secret key 'AGE-SECRET-KEY-1…' as 'age-keygen' writes it";
  throw new SealedKeyError(`Identity in '${source}' is not an age identity: ${hint}`, source);
}

/**
 * Writes an X25519 public key as an age recipient, `age1…`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecipient } from "./age_keys.ts";
 * assert.match(encodeRecipient(new Uint8Array(32)), /^age1q{52}[a-z0-9]{6}$/);
 * ```
 */
export function encodeRecipient(publicKey: Uint8Array): string {
  checkKey(publicKey, "public key");
  return bech32.encode(RECIPIENT_HRP, bech32.toWords(publicKey), BECH32_LIMIT);
}

/**
 * Writes an X25519 secret as an age identity, `AGE-SECRET-KEY-1…`, upper
 * case as age writes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIdentity } from "./age_keys.ts";
 * assert.match(encodeIdentity(new Uint8Array(32)), /^AGE-SECRET-KEY-1Q{52}[A-Z0-9]{6}$/);
 * ```
 */
export function encodeIdentity(secret: Uint8Array): string {
  checkKey(secret, "secret");
  return bech32.encode(IDENTITY_HRP, bech32.toWords(secret), BECH32_LIMIT).toUpperCase();
}

/**
 * Imports a 32-byte X25519 secret into WebCrypto, for `deriveBits`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importSecret } from "./age_keys.ts";
 * const key = await importSecret(new Uint8Array(32).fill(1));
 * assert.equal(key.type, "private");
 * ```
 */
export function importSecret(secret: Uint8Array): Promise<CryptoKey> {
  checkKey(secret, "secret");
  const pkcs8 = new Uint8Array(PKCS8_X25519_PREFIX.length + KEY_BYTES);
  pkcs8.set(PKCS8_X25519_PREFIX);
  pkcs8.set(secret, PKCS8_X25519_PREFIX.length);
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"]);
}

/**
 * X25519(secret, publicKey): the shared secret, or `undefined` when it is
 * all zeros (a low-order public key, which RFC 7748 says to refuse).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipientOf, x25519 } from "./age_keys.ts";
 * const a = new Uint8Array(32).fill(1), b = new Uint8Array(32).fill(2);
 * assert.deepEqual(await x25519(a, await recipientOf(b)), await x25519(b, await recipientOf(a)));
 * assert.equal(await x25519(a, new Uint8Array(32)), undefined);
 * ```
 */
export async function x25519(
  secret: Uint8Array,
  publicKey: Uint8Array,
): Promise<Uint8Array | undefined> {
  checkKey(publicKey, "public key");
  const [priv, pub] = await Promise.all([
    importSecret(secret),
    crypto.subtle.importKey("raw", new Uint8Array(publicKey), { name: "X25519" }, false, []),
  ]);
  let shared: Uint8Array;
  try {
    shared = new Uint8Array(
      await crypto.subtle.deriveBits({ name: "X25519", public: pub }, priv, 256),
    );
  } catch (e) {
    // WebCrypto refuses an all-zero result itself (OperationError).
    if (e instanceof DOMException && e.name === "OperationError") return undefined;
    throw e;
  }
  return shared.some((b) => b !== 0) ? shared : undefined;
}

/**
 * The X25519 public key of a secret: what `age-keygen -y` prints, as bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRecipient, recipientOf } from "./age_keys.ts";
 * const pub = await recipientOf(new Uint8Array(32).fill(1));
 * assert.equal(pub.length, 32);
 * assert.match(encodeRecipient(pub), /^age1/);
 * ```
 */
export async function recipientOf(secret: Uint8Array): Promise<Uint8Array> {
  const pub = await x25519(secret, BASE_POINT);
  // The base point generates the prime-order subgroup, so the result is never zero.
  if (pub === undefined) throw new RangeError("X25519 of the base point is zero");
  return pub;
}

/**
 * A new random identity and its recipient, as `age-keygen` makes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseIdentity, parseRecipient, recipientOf } from "./age_keys.ts";
 * const { identity, recipient } = await generateIdentity();
 * assert.deepEqual(await recipientOf(parseIdentity(identity, "new")), parseRecipient(recipient, "new"));
 * ```
 */
export async function generateIdentity(): Promise<{ identity: string; recipient: string }> {
  const secret = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const recipient = encodeRecipient(await recipientOf(secret));
  return { identity: encodeIdentity(secret), recipient };
}
