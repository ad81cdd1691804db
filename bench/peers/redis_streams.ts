/**
 * Peer: a Redis stream through the `redis` client (node-redis). XADD (auto
 * id) of one field holding the record, 1,000 commands per pipeline with up to
 * 4 pipelines in flight, read back with XRANGE pages of 10,000 entries as
 * Buffers. The server runs
 * without persistence (see `bench/_services.ts`), so a record counts as
 * written once it is in the server's memory.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createClient, RESP_TYPES } from "redis";
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

const PER_PIPELINE = 1000;
const IN_FLIGHT = 4;
const PAGE = 10_000;
const KEY = "spool-bench";

/**
 * A Redis Streams peer talking to `service`.
 *
 * @example
 * ```ts ignore
 * const peer = await openRedisStreams(redisService);
 * console.log(await peer.append(100_000, 64), await peer.scan());
 * ```
 */
export async function openRedisStreams(service: Service): Promise<Peer> {
  const client = await createClient({ socket: { host: "127.0.0.1", port: service.port } })
    .connect();
  const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  let written = 0;
  return {
    name: `Redis Streams (${service.name})`,
    scanMethod: `node-redis, XRANGE pages of ${PAGE.toLocaleString("en-US")} as Buffers`,
    appendMethod:
      `node-redis, XADD × ${PER_PIPELINE}/pipeline, ${IN_FLIGHT} in flight, no persistence`,
    async append(count: number, payloadBytes: number): Promise<Timing> {
      await client.del(KEY);
      const payload = makePayload(payloadBytes);
      const recordBytes = HEADER_BYTES + payloadBytes;
      const t0 = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let start = 1; start <= count; start += PER_PIPELINE) {
        const end = Math.min(count, start + PER_PIPELINE - 1);
        // One fresh buffer per pipeline: the client holds the records until sent.
        const buf = Buffer.allocUnsafe((end - start + 1) * recordBytes);
        const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        const pipeline = client.multi();
        let off = 0;
        for (let seq = start; seq <= end; seq++) {
          const next = encodeRecord(view, buf, off, seq, nowNs(), 1, payload);
          pipeline.xAdd(KEY, "*", { r: buf.subarray(off, next) });
          off = next;
        }
        pending.push(pipeline.execAsPipeline());
        if (pending.length >= IN_FLIGHT) await pending.shift();
      }
      await Promise.all(pending);
      const seconds = (performance.now() - t0) / 1000;
      written = count;
      const len = await client.xLen(KEY);
      if (len !== count) {
        throw new Error(`Redis stream holds '${len}' entries, expected '${count}'`);
      }
      return { records: count, payloadBytes: count * payloadBytes, seconds };
    },
    async scan(): Promise<Timing> {
      const t0 = performance.now();
      let records = 0;
      let payloadTotal = 0;
      let checksum = 0;
      let start = "-";
      for (;;) {
        const page = (await binary.xRange(KEY, start, "+", { COUNT: PAGE })) ?? [];
        for (const entry of page) {
          const r = entry.message["r"] as unknown as Buffer;
          const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
          const length = view.getUint32(0, true);
          checksum += recordSeq(view, 0) + length + r[HEADER_BYTES]!;
          payloadTotal += length;
          records++;
        }
        if (page.length < PAGE) break;
        start = "(" + page[page.length - 1]!.id.toString();
      }
      const seconds = (performance.now() - t0) / 1000;
      if (records !== written || checksum === 0) {
        throw new Error(`Redis scan read '${records}' records, expected '${written}'`);
      }
      return { records, payloadBytes: payloadTotal, seconds };
    },
    async close(): Promise<void> {
      await client.del(KEY).catch(() => {});
      await client.quit();
    },
  };
}
