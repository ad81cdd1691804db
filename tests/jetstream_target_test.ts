/**
 * The JetStream archive target against a real `nats-server`: stream creation
 * and checks, the ack window, resume, dedup, and a lost server.
 */

import assert from "node:assert/strict";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import {
  JetStreamWriteError,
  openJetStreamTarget,
  SEQ_HEADER,
  TIMESTAMP_HEADER,
  TYPE_HEADER,
} from "../src/nats/jetstream_target.ts";
import { type NatsLocation, parseNatsLocation } from "../src/nats/nats_location.ts";
import { NatsConnectError } from "../src/nats/nats_connection.ts";
import { type NatsServer, natsServerPath, startNatsServer } from "./_nats_server.ts";

const ignore = natsServerPath === undefined;
const noEnv = () => undefined;

function location(server: NatsServer, path: string): NatsLocation {
  return parseNatsLocation(`${server.url}/${path}`, noEnv)!;
}

async function withServer(
  body: (server: NatsServer, nc: NatsConnection) => Promise<void>,
): Promise<void> {
  const server = await startNatsServer();
  try {
    const nc = await connect({ servers: `127.0.0.1:${server.port}` });
    try {
      await body(server, nc);
    } finally {
      await nc.close();
    }
  } finally {
    await server.stop();
  }
}

function payloadOf(seq: number): Uint8Array {
  return new TextEncoder().encode(`record ${seq}`);
}

Deno.test({
  name: "jetstream target creates a missing stream on the location's subject",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const target = await openJetStreamTarget(location(server, "ARCH"), {
        liveStreamId: "live",
        duplicateWindowMs: 30_000,
      });
      assert.equal(target.lastSeq, 0);
      await target.close();
      const info = await (await jetstreamManager(nc)).streams.info("ARCH");
      assert.deepEqual(info.config.subjects, ["spool.ARCH"]);
      assert.equal(info.config.storage, StorageType.File);
      assert.equal(info.config.duplicate_window, 30_000 * 1_000_000);
    }),
});

Deno.test({
  name: "jetstream target refuses an existing stream without its subject",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "OTHER", subjects: ["elsewhere.>"] });
      await assert.rejects(
        openJetStreamTarget(location(server, "OTHER"), { liveStreamId: "live" }),
        (e: Error) =>
          e instanceof TypeError &&
          /stream '.*OTHER.*' takes subjects 'elsewhere\.>'/.test(e.message) &&
          e.message.includes("'spool.OTHER'"),
      );
    }),
});

Deno.test({
  name: "jetstream target appends through its window, syncs, reads back and resumes",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const count = 10_000;
      const target = await openJetStreamTarget(location(server, "ARCH"), {
        liveStreamId: "live",
        window: 64,
      });
      let sawFull = false;
      for (let seq = 1; seq <= count; seq++) {
        if (target.full) {
          sawFull = true;
          await target.ready();
          assert.ok(!target.full);
        }
        if (seq % 2 === 0) {
          assert.equal(target.append(seq % 7, payloadOf(seq), BigInt(seq) * 1000n), seq);
        } else {
          target.appendCopy({
            seq,
            typeId: seq % 7,
            payload: payloadOf(seq),
            timestampNs: BigInt(seq) * 1000n,
          });
        }
        assert.ok(target.durableSeq <= seq);
      }
      assert.ok(sawFull, "the window of 64 filled up");
      await target.sync();
      assert.equal(target.durableSeq, count);
      await target.close();

      const consumer = await jetstream(nc).consumers.get("ARCH");
      const messages = await consumer.consume();
      let expected = 1;
      for await (const m of messages) {
        assert.equal(m.headers?.get(SEQ_HEADER), String(expected));
        assert.equal(m.headers?.get(TIMESTAMP_HEADER), String(BigInt(expected) * 1000n));
        assert.equal(m.headers?.get(TYPE_HEADER), String(expected % 7));
        assert.equal(m.headers?.get("Nats-Msg-Id"), `live:${expected}`);
        assert.deepEqual(new Uint8Array(m.data), payloadOf(expected));
        if (expected++ === count) break;
      }
      messages.stop();
      assert.equal(expected, count + 1);

      const again = await openJetStreamTarget(location(server, "ARCH"), { liveStreamId: "live" });
      assert.equal(again.lastSeq, count);
      assert.equal(again.durableSeq, count);
      assert.throws(
        () => again.appendCopy({ seq: 5, typeId: 0, payload: payloadOf(5), timestampNs: 0n }),
        RangeError,
      );
      again.append(1, payloadOf(count + 1), 1n);
      await again.close();
      const info = await (await jetstreamManager(nc)).streams.info("ARCH");
      assert.equal(info.state.messages, count + 1);
    }),
});

Deno.test({
  name: "jetstream target's stream drops records published again with the same message id",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const target = await openJetStreamTarget(location(server, "ARCH"), { liveStreamId: "live" });
      for (let seq = 1; seq <= 100; seq++) target.append(0, payloadOf(seq), 0n);
      await target.close();
      // A tap that died with records in flight publishes them again, as these are.
      const js = jetstream(nc);
      for (let seq = 51; seq <= 100; seq++) {
        const h = headers();
        h.set(SEQ_HEADER, String(seq));
        const ack = await js.publish("spool.ARCH", payloadOf(seq), {
          msgID: `live:${seq}`,
          headers: h,
        });
        assert.equal(ack.duplicate, true);
      }
      const info = await (await jetstreamManager(nc)).streams.info("ARCH");
      assert.equal(info.state.messages, 100);
      const again = await openJetStreamTarget(location(server, "ARCH"), { liveStreamId: "live" });
      assert.equal(again.lastSeq, 100);
      await again.close();
    }),
});

Deno.test({
  name: "jetstream target fails with one clear error, no password, when its server stops",
  ignore,
  fn: async () => {
    const server = await startNatsServer({ user: "ann", pass: "hunter2secret" });
    try {
      const loc = parseNatsLocation(
        `nats://ann:hunter2secret@127.0.0.1:${server.port}/ARCH`,
        noEnv,
      )!;
      const target = await openJetStreamTarget(loc, { liveStreamId: "live", ackTimeoutMs: 500 });
      for (let seq = 1; seq <= 10; seq++) target.append(0, payloadOf(seq), 0n);
      await target.sync();
      assert.equal(target.durableSeq, 10);
      server.kill();
      for (let seq = 11; seq <= 20; seq++) target.append(0, payloadOf(seq), 0n);
      const error = await target.sync().then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof JetStreamWriteError, String(error));
      assert.match(error.message, /^JetStream stream 'nats:\/\/ann:\*\*\*@127\.0\.0\.1:\d+\/ARCH/);
      assert.match(error.message, /no ack within 500 ms|connection closed/);
      assert.ok(!error.message.includes("hunter2secret"));
      assert.equal(error.seq, 11);
      assert.equal(target.durableSeq, 10);
      assert.throws(() => target.append(0, payloadOf(21), 0n), (e) => e === error);
      await target.abort();

      await assert.rejects(
        openJetStreamTarget(loc, { liveStreamId: "live" }),
        (e: Error) => e instanceof NatsConnectError && !e.message.includes("hunter2secret"),
      );
    } finally {
      await server.stop();
    }
  },
});
