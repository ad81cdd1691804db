/**
 * NATS JetStream as spool's distributed tier: a JetStream stream as the
 * archive a tap copies into (exactly once across crashes, through each
 * record's `Nats-Msg-Id` and the stream's duplicate window), and as a
 * stream every reader reads (`openStream("nats://HOST:PORT/STREAM")`).
 * Records carry their seq, timestamp and type id in `Spool-*` headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeNats, parseNatsLocation } from "./mod.ts";
 * const loc = parseNatsLocation("nats://ann:pw@127.0.0.1:4222/QUOTES", () => undefined)!;
 * assert.equal(loc.subject, "spool.QUOTES");
 * assert.equal(describeNats(loc).includes("pw"), false);
 * ```
 *
 * @module
 */

export {
  describeNats,
  isNatsLocation,
  type NatsCredentials,
  type NatsLocation,
  type NatsTls,
  parseNatsLocation,
  redactNatsUrl,
  useNatsCredentials,
} from "./nats_location.ts";
export { JetStreamOpenError, NatsConnectError, NatsCredentialsError } from "./nats_connection.ts";
export {
  type JetStreamTargetOptions,
  JetStreamWriteError,
  openJetStreamTarget,
  SEQ_HEADER,
  TIMESTAMP_HEADER,
  TYPE_HEADER,
} from "./jetstream_target.ts";
export {
  JetStreamMessageError,
  JetStreamStream,
  type JetStreamStreamOptions,
} from "./jetstream_stream.ts";
// The types the reader and the writer speak, from the modules that own them.
export type { RecordTarget, StreamKind, StreamMessage, StreamReader } from "../stream/mod.ts";
