/**
 * Peer: a NATS JetStream stream with file storage, through the official
 * client (`@nats-io/transport-node`, `@nats-io/jetstream`). Records are
 * published with acknowledgement, up to 1,000 publishes outstanding at once
 * (awaited a batch at a time), and read back by an ordered consumer.
 *
 * @module
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type PubAck, StorageType } from "@nats-io/jetstream";
import type { Service } from "../_services.ts";
import {
  encodeRecord,
  HEADER_BYTES,
  makePayload,
  nowNs,
  type Peer,
  recordSeq,
  type Timing,
} from "./peer.ts";

const OUTSTANDING = 1000;
const STREAM = "spool_bench";
const SUBJECT = "spool.bench";

/**
 * A NATS JetStream peer talking to `service` (a server started with `-js`).
 *
 * @example
 * ```ts ignore
 * const peer = await openNatsJetStream(natsService);
 * console.log(await peer.append(100_000, 64), await peer.scan());
 * ```
 */
export async function openNatsJetStream(service: Service): Promise<Peer> {
  // Async traces build an Error per request to keep its call site: most of the client's CPU.
  const nc: NatsConnection = await connect({
    servers: `127.0.0.1:${service.port}`,
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  let written = 0;
  return {
    name: `NATS JetStream (${service.name})`,
    appendMethod: `file storage, async publish, ${OUTSTANDING} acks outstanding`,
    scanMethod: "ordered consumer, consume()",
    async append(count: number, payloadBytes: number): Promise<Timing> {
      await jsm.streams.delete(STREAM).catch(() => false);
      await jsm.streams.add({
        name: STREAM,
        subjects: [SUBJECT],
        storage: StorageType.File,
      });
      const payload = makePayload(payloadBytes);
      const recordBytes = HEADER_BYTES + payloadBytes;
      const t0 = performance.now();
      const acks: Promise<PubAck>[] = [];
      for (let seq = 1; seq <= count; seq++) {
        // The client keeps the bytes until they are flushed: one buffer per record.
        const bytes = new Uint8Array(recordBytes);
        encodeRecord(new DataView(bytes.buffer), bytes, 0, seq, nowNs(), 1, payload);
        acks.push(js.publish(SUBJECT, bytes));
        if (acks.length >= OUTSTANDING) {
          await Promise.all(acks);
          acks.length = 0;
        }
      }
      await Promise.all(acks);
      const seconds = (performance.now() - t0) / 1000;
      written = count;
      const info = await jsm.streams.info(STREAM);
      if (info.state.messages !== count) {
        throw new Error(`NATS stream holds '${info.state.messages}' messages, expected '${count}'`);
      }
      return { records: count, payloadBytes: count * payloadBytes, seconds };
    },
    async scan(): Promise<Timing> {
      const consumer = await js.consumers.get(STREAM);
      const t0 = performance.now();
      let records = 0;
      let payloadTotal = 0;
      let checksum = 0;
      if (written > 0) {
        const messages = await consumer.consume({ max_messages: 10_000 });
        for await (const m of messages) {
          const r = m.data;
          const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
          const length = view.getUint32(0, true);
          checksum += recordSeq(view, 0) + length + r[HEADER_BYTES]!;
          payloadTotal += length;
          records++;
          if (records >= written) break;
        }
        messages.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      if (records !== written || (written > 0 && checksum === 0)) {
        throw new Error(`NATS scan read '${records}' records, expected '${written}'`);
      }
      return { records, payloadBytes: payloadTotal, seconds };
    },
    async close(): Promise<void> {
      await jsm.streams.delete(STREAM).catch(() => false);
      await nc.close();
    },
  };
}
