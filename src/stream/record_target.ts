/**
 * Where a program writes records: a chronicle queue or a sealed store, with
 * the same few operations, so the archive tap and the importer keep one set
 * of seq rules for both.
 *
 * @module
 */

import type { QueueMessage, QueueWriter } from "../chronicle/mod.ts";
import {
  MAX_SEGMENT_PLAINTEXT,
  parseSealedLocation,
  type SealedLocation,
  type SealedWriter,
} from "../sealed/mod.ts";
import { type NatsLocation, parseNatsLocation, redactNatsUrl } from "../nats/nats_location.ts";
import type { StreamMessage } from "./stream_message.ts";

/** A queue or a sealed store being written. */
export interface RecordTarget {
  /** Seq of the last record appended; one before the first seq when there is none. */
  readonly lastSeq: number;
  /**
   * Seq of the last record that a killed process would not lose: a queue's
   * records are in shared memory once appended, a sealed store's once their
   * segment is committed to disk.
   */
  readonly durableSeq: number;
  /** Appends a record as the next seq and returns that seq. */
  append(typeId: number, payload: Uint8Array, timestampNs: bigint): number;
  /** Appends a copy of `m` as the next seq (`m.seq` must be it). */
  appendCopy(m: StreamMessage): void;
  /**
   * Whether the target has as much in flight as it may take (a sealed
   * store's ciphers and disk): appending goes on only after `ready()`.
   */
  readonly full: boolean;
  /** Waits while the target is {@linkcode RecordTarget.full}. */
  ready(): Promise<void>;
  /** Makes every record appended durable. */
  sync(): Promise<void>;
  /** Syncs and closes; a sealed store's run ends with its final segment. */
  close(): Promise<void>;
  /** Closes after a failure, keeping what is durable. */
  abort(): Promise<void>;
}

/**
 * A queue writer as a target.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueWriter } from "../chronicle/mod.ts";
 * import { queueRecordTarget } from "./record_target.ts";
 * const dir = Deno.makeTempDirSync();
 * const target = queueRecordTarget(await QueueWriter.open(dir, { segmentBytes: 1 << 16 }));
 * assert.equal(target.append(1, new Uint8Array([1]), 0n), 1);
 * assert.equal(target.lastSeq, 1);
 * await target.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function queueRecordTarget(writer: QueueWriter): RecordTarget {
  return {
    get lastSeq() {
      return writer.lastSeq;
    },
    get durableSeq() {
      return writer.lastSeq;
    },
    full: false,
    append: (typeId, payload, timestampNs) => writer.append(typeId, payload, timestampNs),
    // appendCopy copies a queue's record view word by word, and takes any
    // other message by its type id, payload and timestamp.
    appendCopy: (m) => void writer.appendCopy(m as QueueMessage),
    ready: () => Promise.resolve(),
    sync: () => Promise.resolve(writer.sync()),
    close: () => Promise.resolve(writer.close()),
    abort: () => Promise.resolve(writer.close()),
  };
}

/**
 * A sealed writer as a target. A store that holds no record yet starts at
 * `firstSeq` (default 1), as a queue created with it would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateIdentity, parseRecipient, SealedWriter } from "../sealed/mod.ts";
 * import { sealedRecordTarget } from "./record_target.ts";
 * const dir = Deno.makeTempDirSync();
 * const { recipient } = await generateIdentity();
 * const writer = await SealedWriter.open({ kind: "file", dir: `${dir}/s` }, {
 *   recipients: [parseRecipient(recipient, "example")],
 *   stream: "example",
 *   producer: "example",
 *   workers: 0,
 * });
 * const target = sealedRecordTarget(writer, 10);
 * assert.equal(target.lastSeq, 9);
 * assert.equal(target.append(1, new Uint8Array([1]), 0n), 10);
 * await target.close();
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function sealedRecordTarget(writer: SealedWriter, firstSeq = 1): RecordTarget {
  const start = writer.lastSeq === 0 ? firstSeq - 1 : writer.lastSeq;
  let last = start;
  return {
    get lastSeq() {
      return last;
    },
    get durableSeq() {
      return Math.max(writer.committedSeq, start);
    },
    get full() {
      return writer.full;
    },
    append: (typeId, payload, timestampNs) => {
      writer.append({ seq: last + 1, timestampNs, typeId, payload });
      return ++last;
    },
    appendCopy: (m) => {
      writer.append(m);
      last = m.seq;
    },
    ready: () => writer.ready(),
    sync: () => writer.flush(),
    close: () => writer.close(),
    abort: () => writer.abort(),
  };
}

/** What a location to write to names: a queue, a sealed store or a JetStream stream. */
export type TargetLocation =
  | { kind: "queue" }
  | { kind: "sealed"; sealed: SealedLocation }
  | { kind: "jetstream"; nats: NatsLocation };

/** What a program was asked to write into a target with; see {@linkcode checkTargetOptions}. */
export interface TargetOptions {
  /** X25519 public keys: required for a sealed store, refused elsewhere. */
  recipients?: readonly Uint8Array[];
  /** Book snapshots: a queue's only. */
  snapshotEvery?: unknown;
  /** Permission bits of what is created: a queue's only. */
  mode?: number;
  /** Segment size: a queue's or a sealed store's (whose plaintext per segment is at most 64 MiB). */
  segmentBytes?: number;
  /** Replicas of a JetStream stream created now: a JetStream stream's only. */
  replicas?: number;
  /** How long to keep trying after the server is lost: a JetStream stream's only. */
  retryForMs?: number;
}

/**
 * Checks that the options fit the target `to`, before anything is read or
 * written, and says what `to` names. A sealed store needs recipients and
 * takes neither snapshots nor a mode (it is always `0600` in a `0700`
 * directory); a JetStream stream takes replicas and none of the local
 * options; a queue takes no recipients and no replicas.
 *
 * @throws {TypeError} naming the option that does not fit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTargetOptions } from "./record_target.ts";
 * assert.throws(() => checkTargetOptions("sealed:/s", {}), { message: /give at least one recipient/ });
 * assert.throws(() => checkTargetOptions("./q", { recipients: [new Uint8Array(32)] }), TypeError);
 * assert.equal(checkTargetOptions("./q", {}).kind, "queue");
 * assert.equal(checkTargetOptions("sealed:/s", { recipients: [new Uint8Array(32)] }).kind, "sealed");
 * assert.throws(() => checkTargetOptions("nats://h:1/S", { mode: 0o660 }), { message: /leave out '--mode'/ });
 * assert.throws(() => checkTargetOptions("nats://u:pw@h:1/S", { mode: 0o660 }), { message: /'nats:\/\/u:\*\*\*@h:1\/S'/ });
 * assert.throws(() => checkTargetOptions("./q", { retryForMs: 3000 }), { message: /leave out '--retry-for'/ });
 * ```
 */
export function checkTargetOptions(to: string, options: TargetOptions): TargetLocation {
  const recipients = options.recipients?.length ?? 0;
  const refuse = (what: string, why: string, kind: string) =>
    new TypeError(`${why}, and '${to}' is ${kind}: leave out '${what}'`);
  const nats = parseNatsLocation(to);
  if (nats !== undefined) {
    // The refusals name the stream without its password or token.
    to = redactNatsUrl(to);
    const kind = "a JetStream stream";
    if (recipients > 0) throw refuse("--recipient", "Recipients seal a store", kind);
    if (options.snapshotEvery !== undefined) {
      throw refuse("--snapshot-every", "Book snapshots are written beside a queue", kind);
    }
    if (options.mode !== undefined) throw refuse("--mode", "Modes are a local queue's", kind);
    if (options.segmentBytes !== undefined) {
      throw refuse("--segment-bytes", "Segments are a local store's", kind);
    }
    return { kind: "jetstream", nats };
  }
  if (options.replicas !== undefined) {
    throw new TypeError(
      `Replicas are a JetStream stream's, and '${to}' is not one: leave out '--replicas'`,
    );
  }
  if (options.retryForMs !== undefined) {
    throw new TypeError(
      `Retrying a lost server is a JetStream stream's, and '${to}' is not one: leave out '--retry-for'`,
    );
  }
  const sealed = parseSealedLocation(to);
  if (sealed === undefined) {
    if (recipients > 0) {
      throw new TypeError(
        `Recipients seal a store, and '${to}' is a queue: name a sealed store 'sealed:DIR' or 'sqlite:FILE'`,
      );
    }
    return { kind: "queue" };
  }
  if (recipients === 0) {
    throw new TypeError(
      `Store '${to}' is sealed: give at least one recipient ('--recipient age1…' or '--recipients-file FILE')`,
    );
  }
  const kind = "sealed";
  if (options.snapshotEvery !== undefined) {
    throw new TypeError(
      `Book snapshots are written beside a queue, and '${to}' is ${kind}: leave out '--snapshot-every'`,
    );
  }
  if (options.mode !== undefined) {
    throw new TypeError(
      `A sealed store is always created 0600 in a 0700 directory, and '${to}' is ${kind}: leave out '--mode'`,
    );
  }
  if (options.segmentBytes !== undefined && options.segmentBytes > MAX_SEGMENT_PLAINTEXT) {
    throw new TypeError(
      `Option '--segment-bytes' of a sealed store is at most ${MAX_SEGMENT_PLAINTEXT} (64 MiB), not '${options.segmentBytes}'`,
    );
  }
  return { kind: "sealed", sealed };
}
