/**
 * Sealed stores: a stream encrypted and authenticated for recipients that
 * hold age X25519 keys, written by a pool of cipher workers, resumable after
 * any crash, in a directory (`sealed:DIR`) or a SQLite database
 * (`sqlite:FILE[#stream]`). The byte format is `docs/sealed-format.md`; the
 * operator's guide is `docs/sealed-archives.md`.
 *
 * @example Seal three records, then open them
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseIdentity, parseRecipient, SealedStream, SealedWriter } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const { identity, recipient } = await generateIdentity();
 * const store = { kind: "file", dir: `${dir}/s` } as const;
 * const writer = await SealedWriter.open(store, {
 *   recipients: [parseRecipient(recipient, "example")],
 *   stream: "quotes",
 *   producer: "example",
 *   workers: 0,
 * });
 * for (const seq of [1, 2, 3]) {
 *   writer.append({ seq, timestampNs: 0n, typeId: 7, payload: new TextEncoder().encode(`r${seq}`) });
 * }
 * await writer.close();
 * const reader = await SealedStream.open(store, {
 *   identities: [parseIdentity(identity, "example")],
 *   identitySource: "example",
 *   workers: 0,
 * });
 * const seen: string[] = [];
 * for await (const m of reader) seen.push(new TextDecoder().decode(m.payload));
 * reader.close();
 * assert.deepEqual(seen, ["r1", "r2", "r3"]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  encodeIdentity,
  encodeRecipient,
  generateIdentity,
  parseIdentity,
  parseRecipient,
  recipientOf,
} from "./age_keys.ts";
export {
  identityFileText,
  parseIdentityFile,
  parseRecipientsFile,
  readIdentityFile,
  readRecipientsFile,
} from "./key_files.ts";
export {
  defaultIdentities,
  type Identities,
  IDENTITY_ENV,
  useIdentityFile,
} from "./identity_keyring.ts";
export {
  type SealedDamage,
  SealedDamageError,
  SealedFormatError,
  SealedKeyError,
} from "./sealed_errors.ts";
export { SealedLockedError } from "./store_lock.ts";
export {
  describeLocation,
  detectSealedStore,
  parseSealedLocation,
  type SealedLocation,
} from "./store_location.ts";
export { DEFAULT_FLUSH_MS, DEFAULT_SEGMENT_BYTES, MAX_SEGMENT_PLAINTEXT } from "./sealed_format.ts";
export {
  type CipherBuffers,
  type CipherOutcome,
  CipherPool,
  CipherWorkerError,
  defaultCipherWorkers,
} from "./cipher_pool.ts";
export * from "./sealed_writer.ts";
export * from "./sealed_stream.ts";
// The stream types the writer and the reader speak, so this module's API
// is whole on its own.
export type { StreamKind, StreamMessage, StreamReader } from "../stream/mod.ts";
export type { SegmentFields } from "./cipher_worker.ts";
export type { SegmentHeader } from "./segment_header.ts";
