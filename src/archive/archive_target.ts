/**
 * Opening what a tap copies into: an archive queue (durable profile), or a
 * sealed store. Both are {@linkcode RecordTarget}s from then on.
 *
 * @module
 */

import { QueueWriter } from "../chronicle/mod.ts";
import { type SealedLocation, SealedWriter } from "../sealed/mod.ts";
import { queueRecordTarget, type RecordTarget, sealedRecordTarget } from "../stream/mod.ts";
import { type JetStreamTargetOptions, openJetStreamTarget } from "../nats/jetstream_target.ts";
import type { NatsLocation } from "../nats/nats_location.ts";
import { ARCHIVE_WRITER_OPTIONS } from "./tap_options.ts";

/** Options of {@linkcode openQueueTarget}. */
export interface QueueTargetOptions {
  /** Seq of the first record, for a queue created now. */
  firstSeq?: number;
  /** Segment capacity of a queue created now. */
  segmentBytes?: number;
  /** Permission bits of the files created (`QueueWriterOptions.mode`). */
  mode?: number;
}

/**
 * Opens (or creates, durable profile) the archive queue `dir`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openQueueTarget } from "./archive_target.ts";
 * const dir = Deno.makeTempDirSync();
 * const target = await openQueueTarget(`${dir}/a`, { firstSeq: 5, segmentBytes: 1 << 16 });
 * assert.equal(target.lastSeq, 4);
 * await target.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function openQueueTarget(
  dir: string,
  options: QueueTargetOptions,
): Promise<RecordTarget> {
  return queueRecordTarget(
    await QueueWriter.open(dir, {
      ...ARCHIVE_WRITER_OPTIONS,
      ...(options.firstSeq === undefined ? {} : { firstSeq: options.firstSeq }),
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    }),
  );
}

/** Options of {@linkcode openSealedTarget}. */
export interface SealedTargetOptions {
  /** X25519 public keys the store is sealed to. */
  recipients: Uint8Array[];
  /** The stream's name, in each run header. */
  stream: string;
  /** Cipher workers; default the writer's. */
  workers?: number;
  /** Plaintext bytes at which a segment is cut; default the writer's (1 MiB). */
  segmentBytes?: number;
}

/**
 * Opens (or creates) the sealed store at `location` for a new run. A store
 * holding no record yet has a `lastSeq` of 0; the tap's first record sets
 * where it starts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseRecipient } from "../sealed/mod.ts";
 * import { openSealedTarget } from "./archive_target.ts";
 * const dir = Deno.makeTempDirSync();
 * const { recipient } = await generateIdentity();
 * const target = await openSealedTarget({ kind: "file", dir: `${dir}/s` }, {
 *   recipients: [parseRecipient(recipient, "example")],
 *   stream: "quotes",
 *   workers: 0,
 * });
 * assert.equal(target.lastSeq, 0);
 * target.appendCopy({ seq: 7, timestampNs: 0n, typeId: 1, payload: new Uint8Array([1]) });
 * assert.equal(target.lastSeq, 7);
 * await target.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function openSealedTarget(
  location: SealedLocation,
  options: SealedTargetOptions,
): Promise<RecordTarget> {
  const writer = await SealedWriter.open(location, {
    recipients: options.recipients,
    stream: options.stream,
    producer: "spool archive-tap",
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
  });
  return sealedRecordTarget(writer);
}

/**
 * Opens (or creates, with `replicas`) the JetStream stream at `location`
 * as an archive of the live stream `liveStreamId`: every record carries
 * `Nats-Msg-Id` `<liveStreamId>:<seq>`, so a record a killed tap published
 * and the next one publishes again is stored once. A lost server is waited
 * for up to `retryForMs`, told through `onNotice`.
 *
 * @example
 * ```ts ignore
 * import { parseNatsLocation } from "../nats/nats_location.ts";
 * import { openJetStreamArchive } from "./archive_target.ts";
 * const target = await openJetStreamArchive(parseNatsLocation("nats://127.0.0.1:4222/QUOTES")!, {
 *   liveStreamId: "quotes",
 * });
 * await target.close();
 * ```
 */
export function openJetStreamArchive(
  location: NatsLocation,
  options: Pick<JetStreamTargetOptions, "liveStreamId" | "replicas" | "retryForMs" | "onNotice">,
): Promise<RecordTarget> {
  return openJetStreamTarget(location, options);
}
