/**
 * JetStreamStream against a real nats-server: messages published by a plain
 * client with the Spool headers are read back with their exact fields, from
 * the start or the last N, followed until an abort; a missing stream and a
 * message without headers fail clearly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect, headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { JetStreamMessageError, JetStreamStream } from "../src/nats/jetstream_stream.ts";
import { copyMessage, type StreamMessage } from "../src/stream/mod.ts";
import { natsServerPath, startNatsServer } from "./_nats_server.ts";

const ignore = natsServerPath === undefined;
const STREAM = "TRADES";
const SUBJECT = `spool.${STREAM}`;
// A second subject in the same stream, which the reader must not see.
const NOISE = `noise.${STREAM}`;

interface Fixture {
  url: string;
  js: JetStreamClient;
  nc: NatsConnection;
}

// A server with the stream created (empty), and a plain client on it.
async function withStream(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const server = await startNatsServer();
  try {
    const nc = await connect({ servers: `127.0.0.1:${server.port}` });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: STREAM, subjects: [SUBJECT, NOISE] });
      await fn({ url: `${server.url}/${STREAM}`, js: jetstream(nc), nc });
    } finally {
      await nc.close();
    }
  } finally {
    await server.stop();
  }
}

function message(seq: number): StreamMessage {
  const payload = new Uint8Array(seq % 37);
  for (let i = 0; i < payload.length; i++) payload[i] = (seq * 31 + i) & 0xff;
  return {
    seq,
    timestampNs: 1_700_000_000_000_000_000n + BigInt(seq) * 1_000_003n,
    typeId: (seq * 13) % 65536,
    payload,
  };
}

function spoolHeaders(m: StreamMessage): MsgHdrs {
  const h = headers();
  h.set("Spool-Seq", String(m.seq));
  h.set("Spool-Timestamp-Ns", String(m.timestampNs));
  h.set("Spool-Type-Id", String(m.typeId));
  return h;
}

async function publish(js: JetStreamClient, m: StreamMessage): Promise<void> {
  await js.publish(SUBJECT, m.payload, { headers: spoolHeaders(m) });
}

// Publishes `from`..`to` with acks outstanding, and a message on another subject every 500.
async function publishRange(js: JetStreamClient, from: number, to: number): Promise<void> {
  const acks = [];
  for (let seq = from; seq <= to; seq++) {
    const m = message(seq);
    acks.push(js.publish(SUBJECT, m.payload, { headers: spoolHeaders(m) }));
    if (seq % 500 === 0) acks.push(js.publish(NOISE, new Uint8Array([1])));
  }
  await Promise.all(acks);
}

async function readAll(stream: JetStreamStream): Promise<StreamMessage[]> {
  const got: StreamMessage[] = [];
  for await (const m of stream) got.push(copyMessage(m));
  return got;
}

Deno.test({
  name: "jetstream stream: 5,000 messages come back with exact fields, skipping other subjects",
  ignore,
  fn: () =>
    withStream(async ({ url, js }) => {
      await publishRange(js, 1, 5000);
      const stream = await JetStreamStream.open(url);
      assert.equal(stream.location, `${url}?subject=${SUBJECT}`);
      const got = await readAll(stream);
      assert.equal(got.length, 5000);
      for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], message(i + 1));
      assert.equal(await stream.wait(), false);
      assert.equal(stream.next(), undefined);
      stream.close();
      await stream.closed();
      // A reader left alone fills its buffer and stops pulling; it resumes as it is read.
      const idle = await JetStreamStream.open(url);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual((await readAll(idle)).map((m) => m.seq), got.map((m) => m.seq));
      idle.close();
      await idle.closed();
    }),
});

Deno.test({
  name: "jetstream stream: last N starts N messages before the end",
  ignore,
  fn: () =>
    withStream(async ({ url, js }) => {
      for (let seq = 1; seq <= 10; seq++) await publish(js, message(seq));
      for (
        const [last, expected] of [[3, [8, 9, 10]], [0, []], [20, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]]
      ) {
        const stream = await JetStreamStream.open(url, { last: last as number });
        assert.deepEqual((await readAll(stream)).map((m) => m.seq), expected);
        stream.close();
        await stream.closed();
      }
      await assert.rejects(JetStreamStream.open(url, { last: -1 }), TypeError);
    }),
});

Deno.test({
  name: "jetstream stream: following sees messages published after open and ends on abort",
  ignore,
  fn: () =>
    withStream(async ({ url, js }) => {
      await publish(js, message(1));
      const abort = new AbortController();
      const stream = await JetStreamStream.open(url, { follow: true, signal: abort.signal });
      assert.equal(await stream.wait(), true);
      assert.equal(stream.next()?.seq, 1);
      assert.equal(await stream.wait(50), false); // nothing more yet, and following goes on
      const published = (async () => {
        for (let seq = 2; seq <= 4; seq++) await publish(js, message(seq));
      })();
      const seqs: number[] = [];
      for await (const m of stream) {
        assert.deepEqual(copyMessage(m), message(m.seq));
        seqs.push(m.seq);
        if (m.seq === 4) abort.abort();
      }
      await published;
      assert.deepEqual(seqs, [2, 3, 4]);
      assert.equal(await stream.wait(), false);
      stream.close();
      await stream.closed();
    }),
});

Deno.test({
  name: "jetstream stream: not following, it ends at the subject's last message at open",
  ignore,
  fn: () =>
    withStream(async ({ url, js }) => {
      for (let seq = 1; seq <= 3; seq++) await publish(js, message(seq));
      const stream = await JetStreamStream.open(url);
      await publish(js, message(4));
      assert.deepEqual((await readAll(stream)).map((m) => m.seq), [1, 2, 3]);
      stream.close();
      await stream.closed();
    }),
});

Deno.test({
  name: "jetstream stream: an empty stream ends at once when not following",
  ignore,
  fn: () =>
    withStream(async ({ url }) => {
      const stream = await JetStreamStream.open(url);
      assert.equal(await stream.wait(), false);
      assert.deepEqual(await readAll(stream), []);
      stream.close();
      await stream.closed();
    }),
});

Deno.test({
  name: "jetstream stream: a missing stream or a subject it does not hold is one clear error",
  ignore,
  fn: () =>
    withStream(async ({ url }) => {
      const base = url.slice(0, url.lastIndexOf("/"));
      await assert.rejects(
        JetStreamStream.open(`${base}/NOPE`),
        (e: Error) =>
          e instanceof Deno.errors.NotFound && e.message.includes("'NOPE' does not exist"),
      );
      await assert.rejects(
        JetStreamStream.open(`${url}?subject=elsewhere`),
        (e: Error) =>
          e instanceof TypeError && e.message.includes("does not hold subject 'elsewhere'"),
      );
    }),
});

Deno.test({
  name: "jetstream stream: a message without Spool headers fails after the ones before it",
  ignore,
  fn: () =>
    withStream(async ({ url, js }) => {
      for (let seq = 1; seq <= 3; seq++) await publish(js, message(seq));
      await js.publish(SUBJECT, new Uint8Array([7]));
      await publish(js, message(4));
      const stream = await JetStreamStream.open(url);
      const seqs: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const m of stream) seqs.push(m.seq);
        })(),
        (e: Error) =>
          e instanceof JetStreamMessageError && e.streamSeq === 4 &&
          e.message.includes("stream seq '4'") && e.message.includes("no 'Spool-Seq' header"),
      );
      assert.deepEqual(seqs, [1, 2, 3]);
      assert.equal(await stream.wait(), false);
      stream.close();
      await stream.closed();
    }),
});
