/**
 * The JetStream archive target against a real `nats-server`: stream creation
 * and checks, the ack window, resume, dedup, and server trouble: a record
 * lost on the way, a restart, a server gone beyond the retry budget, a full
 * or deleted stream, another writer with the same message ids, a server
 * without JetStream.
 */

import assert from "node:assert/strict";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { DiscardPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import {
  JetStreamWriteError,
  openJetStreamTarget,
  SEQ_HEADER,
  TIMESTAMP_HEADER,
  TYPE_HEADER,
} from "../src/nats/jetstream_target.ts";
import { type NatsLocation, parseNatsLocation } from "../src/nats/nats_location.ts";
import { JetStreamOpenError, NatsConnectError } from "../src/nats/nats_connection.ts";
import type { RecordTarget } from "../src/stream/record_target.ts";
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

// Appends seqs from..to through the target's window.
async function appendRange(
  target: RecordTarget,
  from: number,
  to: number,
  midway?: (seq: number) => void,
): Promise<void> {
  for (let seq = from; seq <= to; seq++) {
    if (target.full) await target.ready();
    target.append(seq % 7, payloadOf(seq), BigInt(seq));
    midway?.(seq);
  }
}

// Every Spool-Seq on the subject of stream `name`, in stream order.
async function storedSeqs(nc: NatsConnection, name: string): Promise<number[]> {
  const jsm = await jetstreamManager(nc);
  const count = (await jsm.streams.info(name)).state.messages;
  const seqs: number[] = [];
  if (count === 0) return seqs;
  const messages = await (await jetstream(nc).consumers.get(name)).consume();
  for await (const m of messages) {
    seqs.push(Number(m.headers?.get(SEQ_HEADER)));
    assert.deepEqual(new Uint8Array(m.data), payloadOf(seqs.at(-1)!));
    if (seqs.length === count) break;
  }
  messages.stop();
  return seqs;
}

const upTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => i + from);

/**
 * A TCP relay to the server that drops the first publish carrying
 * `Nats-Msg-Id: <msgId>`, as a connection losing one record would.
 */
function relayDropping(serverPort: number, msgId: string): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  let dropped = false;
  const crlf = new TextEncoder().encode("\r\n");
  const find = (buf: Uint8Array, from: number) => {
    for (let i = from; i + 1 < buf.length; i++) {
      if (buf[i] === crlf[0] && buf[i + 1] === crlf[1]) return i;
    }
    return -1;
  };
  const forward = async (client: Deno.Conn, server: Deno.Conn) => {
    let buf = new Uint8Array(0);
    const writer = server.writable.getWriter();
    for await (const chunk of client.readable) {
      const joined = new Uint8Array(buf.length + chunk.length);
      joined.set(buf);
      joined.set(chunk, buf.length);
      buf = joined;
      let at = 0;
      const out: Uint8Array[] = [];
      for (;;) {
        const eol = find(buf, at);
        if (eol < 0) break;
        const line = new TextDecoder().decode(buf.subarray(at, eol));
        let end = eol + 2;
        if (/^H?PUB /.test(line)) {
          end += Number(line.split(" ").at(-1)) + 2;
          if (end > buf.length) break;
          const frame = new TextDecoder().decode(buf.subarray(eol + 2, end));
          if (!dropped && frame.includes(`Nats-Msg-Id: ${msgId}\r\n`)) {
            dropped = true;
            at = end;
            continue;
          }
        }
        out.push(buf.subarray(at, end));
        at = end;
      }
      for (const part of out) await writer.write(part);
      buf = buf.slice(at);
    }
  };
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: serverPort });
      conns.push(client, server);
      forward(client, server).catch(() => {});
      server.readable.pipeTo(client.writable).catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the other side */ }
      }
    },
  };
}

Deno.test({
  name:
    "jetstream target publishes again after a record lost on the way: the stream never has a gap",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const relay = relayDropping(server.port, "live:300");
      try {
        const notices: string[] = [];
        const target = await openJetStreamTarget(
          parseNatsLocation(`nats://127.0.0.1:${relay.port}/GAP`, noEnv)!,
          {
            liveStreamId: "live",
            window: 32,
            ackTimeoutMs: 1000,
            onNotice: (l) => notices.push(l),
          },
        );
        await appendRange(target, 1, 1000);
        await target.sync();
        assert.equal(target.durableSeq, 1000);
        await target.close();
        assert.deepEqual(await storedSeqs(nc, "GAP"), upTo(1000));
        assert.match(
          notices[0] ?? "",
          /^lost JetStream stream '.*GAP.*' \(.*\): retrying for up to 60 s$/,
        );
        assert.match(
          notices[1] ?? "",
          /^JetStream stream '.*GAP.*' resumed at seq 300 after [\d.]+ s$/,
        );
      } finally {
        relay.close();
      }
    }),
});

Deno.test({
  name:
    "jetstream target publishes the last record again when its ack does not come within the ack timeout",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      // The last record lost on the way: no later publish is refused, only its ack is missing.
      const relay = relayDropping(server.port, "live:10");
      try {
        const notices: string[] = [];
        const target = await openJetStreamTarget(
          parseNatsLocation(`nats://127.0.0.1:${relay.port}/LATE`, noEnv)!,
          { liveStreamId: "live", ackTimeoutMs: 300, onNotice: (l) => notices.push(l) },
        );
        await appendRange(target, 1, 10);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<"hung">((resolve) =>
          timer = setTimeout(() => resolve("hung"), HUNG_MS)
        );
        const synced = await Promise.race([target.sync(), hung]);
        clearTimeout(timer);
        assert.notEqual(synced, "hung", "no ack timeout noticed the missing ack");
        assert.equal(target.durableSeq, 10);
        await target.close();
        assert.deepEqual(await storedSeqs(nc, "LATE"), upTo(10));
        assert.match(
          notices[0] ?? "",
          /^lost JetStream stream '.*LATE.*' \(no ack within 300 ms\)/,
        );
        assert.match(notices[1] ?? "", /^JetStream stream '.*LATE.*' resumed at seq 10 after/);
      } finally {
        relay.close();
      }
    }),
});

Deno.test({
  name: "jetstream target stops at once when the server denies its user publishing to the subject",
  ignore,
  fn: async () => {
    // The user may use the JetStream API and inboxes, not publish to the stream's subject.
    const server = await startNatsServer(undefined, {
      config: `authorization { users = [ { user: ann, password: pw, permissions: {
        publish: { allow: ["$JS.API.>", "_INBOX.>"] }, subscribe: { allow: ["_INBOX.>"] } } } ] }`,
    });
    try {
      const notices: string[] = [];
      const target = await openJetStreamTarget(
        parseNatsLocation(`nats://ann:pw@127.0.0.1:${server.port}/DENIED`, noEnv)!,
        {
          liveStreamId: "live",
          ackTimeoutMs: 500,
          retryForMs: 3000,
          onNotice: (l) => notices.push(l),
        },
      );
      target.append(0, payloadOf(1), 0n);
      const error = await target.sync().then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof JetStreamWriteError, String(error));
      assert.match(
        error.message,
        /did not store seq '1': Permissions Violation for Publish to "spool\.DENIED"/,
      );
      assert.equal(target.durableSeq, 0);
      await target.abort();
      assert.deepEqual(notices.filter((l) => /lost/.test(l)), []);
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "jetstream target waits through a server restart mid-publish and stores every seq once",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const notices: string[] = [];
      const target = await openJetStreamTarget(location(server, "RESTART"), {
        liveStreamId: "live",
        window: 64,
        onNotice: (l) => notices.push(l),
      });
      let restarting: Promise<void> | undefined;
      await appendRange(target, 1, 20_000, (seq) => {
        if (seq === 5_000) restarting = server.restart();
        assert.ok(target.durableSeq <= seq);
      });
      await restarting;
      await target.sync();
      assert.equal(target.durableSeq, 20_000);
      await target.close();
      assert.deepEqual(await storedSeqs(nc, "RESTART"), upTo(20_000));
      assert.ok(notices.some((l) => /^lost JetStream stream/.test(l)), notices.join("\n"));
      assert.match(notices.at(-1)!, /resumed at seq \d+ after/);
    }),
});

Deno.test({
  name:
    "jetstream target fails with one clear error after its retry budget, no password, durableSeq kept",
  ignore,
  fn: async () => {
    const server = await startNatsServer({ user: "ann", pass: "hunter2secret" });
    try {
      const loc = parseNatsLocation(
        `nats://ann:hunter2secret@127.0.0.1:${server.port}/ARCH`,
        noEnv,
      )!;
      const notices: string[] = [];
      const target = await openJetStreamTarget(loc, {
        liveStreamId: "live",
        ackTimeoutMs: 500,
        retryForMs: 1500,
        onNotice: (l) => notices.push(l),
      });
      await appendRange(target, 1, 10);
      await target.sync();
      assert.equal(target.durableSeq, 10);
      server.kill();
      target.append(0, payloadOf(11), 0n);
      const error = await target.sync().then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof JetStreamWriteError, String(error));
      assert.match(
        error.message,
        /^JetStream stream 'nats:\/\/ann:\*\*\*@127\.0\.0\.1:\d+\/ARCH.*' did not store seq '11': server lost for 1\.5 s \(.*\)$/,
      );
      assert.equal(error.seq, 11);
      assert.equal(target.durableSeq, 10);
      assert.throws(() => target.append(0, payloadOf(12), 0n), (e) => e === error);
      await assert.rejects(target.sync(), (e) => e === error);
      await target.abort();
      assert.equal(notices.length, 1, notices.join("\n"));
      assert.match(
        notices[0]!,
        /^lost JetStream stream '.*ARCH.*' \(.*\): retrying for up to 1\.5 s$/,
      );
      assert.ok(!`${error.message}${notices}`.includes("hunter2secret"));

      await assert.rejects(
        openJetStreamTarget(loc, { liveStreamId: "live" }),
        (e: Error) => e instanceof NatsConnectError && !e.message.includes("hunter2secret"),
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "jetstream target stops at once at a full stream that discards new messages, keeping what it stored",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: "FULL",
        subjects: ["spool.FULL"],
        max_msgs: 50,
        discard: DiscardPolicy.New,
      });
      const notices: string[] = [];
      const target = await openJetStreamTarget(location(server, "FULL"), {
        liveStreamId: "live",
        window: 16,
        onNotice: (l) => notices.push(l),
      });
      const error = await appendRange(target, 1, 100).then(() => target.sync()).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(error instanceof JetStreamWriteError, String(error));
      assert.match(
        error.message,
        /did not store seq '51': the stream is full and discards new messages \(maximum messages exceeded\): raise its limits/,
      );
      assert.equal(error.seq, 51);
      assert.equal(target.durableSeq, 50);
      await target.abort();
      assert.deepEqual(notices.filter((l) => /lost/.test(l)), []);
      assert.deepEqual(await storedSeqs(nc, "FULL"), upTo(50));
    }),
});

Deno.test({
  name: "jetstream target stops when its stream is deleted under it",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const target = await openJetStreamTarget(location(server, "GONE"), {
        liveStreamId: "live",
        ackTimeoutMs: 1000,
      });
      await appendRange(target, 1, 10);
      await target.sync();
      await (await jetstreamManager(nc)).streams.delete("GONE");
      target.append(0, payloadOf(11), 0n);
      await assert.rejects(
        target.sync(),
        (e: Error) =>
          e instanceof JetStreamWriteError && e.seq === 11 &&
          /did not store seq '11': the stream was deleted: create it again/.test(e.message),
      );
      assert.equal(target.durableSeq, 10);
      await target.abort();
    }),
});

Deno.test({
  name:
    "jetstream target refuses a memory stream, a shared stream and other replicas, and tells of a short duplicate window",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "MEM", subjects: ["spool.MEM"], storage: StorageType.Memory });
      await assert.rejects(
        openJetStreamTarget(location(server, "MEM"), { liveStreamId: "live" }),
        (e: Error) =>
          e instanceof TypeError && /stream '.*MEM.*' keeps its messages in memory/.test(e.message),
      );
      // Two taps of live queues of one name on two subjects of one stream
      // would take each other's message ids for repeats: refused.
      await jsm.streams.add({ name: "SHARED", subjects: ["spool.SHARED", "spool.other"] });
      await assert.rejects(
        openJetStreamTarget(location(server, "SHARED"), { liveStreamId: "live" }),
        (e: Error) =>
          e instanceof TypeError &&
          /takes subjects 'spool\.SHARED, spool\.other', not only 'spool\.SHARED': .*one stream per live stream/
            .test(e.message),
      );
      assert.equal((await jsm.streams.info("SHARED")).state.messages, 0);
      await jsm.streams.add({
        name: "ONE",
        subjects: ["spool.ONE"],
        duplicate_window: 10_000 * 1_000_000,
      });
      await assert.rejects(
        openJetStreamTarget(location(server, "ONE"), { liveStreamId: "live", replicas: 3 }),
        (e: Error) =>
          e instanceof TypeError &&
          /stream '.*ONE.*' has replicas '1', not '3' as asked: leave out '--replicas'/.test(
            e.message,
          ),
      );
      const notices: string[] = [];
      const target = await openJetStreamTarget(location(server, "ONE"), {
        liveStreamId: "live",
        replicas: 1,
        onNotice: (l) => notices.push(l),
      });
      await target.close();
      assert.equal(notices.length, 1);
      assert.match(
        notices[0]!,
        /drops a repeated message id for 10 s only, less than the retry budget of 60 s/,
      );
      const quiet: string[] = [];
      const again = await openJetStreamTarget(location(server, "ONE"), {
        liveStreamId: "live",
        retryForMs: 5000,
        onNotice: (l) => quiet.push(l),
      });
      await again.close();
      assert.deepEqual(quiet, []);
    }),
});

// Deadline that only ends a hung test; nothing asserts how fast anything is.
const HUNG_MS = 60_000;

// Waits until `ok()` holds, ending a hang with a failure.
async function until(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + HUNG_MS;
  while (!ok()) {
    assert.ok(Date.now() < deadline, `never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test({
  name:
    "jetstream target resumes through a restart when the stream's last record was written under another id",
  ignore,
  fn: () =>
    withServer(async (server) => {
      // An import (or a tap of a live queue since renamed) wrote the stream's end.
      const imported = await openJetStreamTarget(location(server, "HANDOVER"), {
        liveStreamId: "import:HANDOVER",
      });
      await appendRange(imported, 1, 3);
      await imported.close();
      const notices: string[] = [];
      const target = await openJetStreamTarget(location(server, "HANDOVER"), {
        liveStreamId: "live",
        onNotice: (l) => notices.push(l),
      });
      assert.equal(target.lastSeq, 3);
      // Idle, having stored nothing yet, the target loses its server.
      await server.restart();
      await until(() => notices.some((l) => /resumed at seq 4 after/.test(l)), "resumed at seq 4");
      await appendRange(target, 4, 10);
      await target.close();
      assert.equal(target.durableSeq, 10);
      // The test's own connection may still be reconnecting: a new one reads.
      const reader = await connect({ servers: `127.0.0.1:${server.port}` });
      try {
        assert.deepEqual(await storedSeqs(reader, "HANDOVER"), upTo(10));
      } finally {
        await reader.close();
      }
      assert.match(notices[0]!, /^lost JetStream stream '.*HANDOVER.*'/);
    }),
});

// Publishes seqs from..to as `appendRange` into a target of `liveStreamId` does.
async function publishAs(
  nc: NatsConnection,
  subject: string,
  liveStreamId: string,
  from: number,
  to: number,
): Promise<void> {
  const js = jetstream(nc);
  for (let seq = from; seq <= to; seq++) {
    const h = headers();
    h.set(SEQ_HEADER, String(seq));
    h.set(TIMESTAMP_HEADER, String(seq));
    h.set(TYPE_HEADER, String(seq % 7));
    await js.publish(subject, payloadOf(seq), { msgID: `${liveStreamId}:${seq}`, headers: h });
  }
}

Deno.test({
  name:
    "jetstream target fails at once when another writer stored different records under its message ids",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      // Two taps of live queues of one name, started together into one stream.
      const first = await openJetStreamTarget(location(server, "TWO"), { liveStreamId: "live" });
      const second = await openJetStreamTarget(location(server, "TWO"), { liveStreamId: "live" });
      await appendRange(first, 1, 10);
      await first.close();
      for (let seq = 1; seq <= 10; seq++) {
        second.append(seq % 7, new TextEncoder().encode(`other ${seq}`), BigInt(seq));
      }
      const error = await second.sync().then(() => undefined, (e: Error) => e);
      assert.ok(error instanceof JetStreamWriteError, String(error));
      assert.match(
        error.message,
        /^JetStream stream '.*TWO.*' did not store seq '1': another writer uses the same message ids \('live:\d+'\) on subject 'spool\.TWO': is a tap of another live queue of the same name writing into this stream\? give each live queue its own stream$/,
      );
      assert.equal(error.seq, 1);
      assert.equal(second.durableSeq, 0);
      assert.throws(() => second.append(0, payloadOf(11), 0n), (e) => e === error);
      await second.abort();
      // The stream holds the first writer's records only, each once.
      assert.deepEqual(await storedSeqs(nc, "TWO"), upTo(10));
    }),
});

Deno.test({
  name:
    "jetstream target counts a record a dead writer had in flight, stored under its message id, as its own",
  ignore,
  fn: () =>
    withServer(async (server, nc) => {
      const target = await openJetStreamTarget(location(server, "HEIR"), { liveStreamId: "live" });
      // The dead writer's last records reach the stream after the target read its end.
      await publishAs(nc, "spool.HEIR", "live", 1, 3);
      await appendRange(target, 1, 6);
      await target.sync();
      assert.equal(target.durableSeq, 6);
      await target.close();
      assert.deepEqual(await storedSeqs(nc, "HEIR"), upTo(6));
    }),
});

Deno.test({
  name: "jetstream target says it could not open the stream of a server without JetStream",
  ignore,
  fn: async () => {
    const server = await startNatsServer({ user: "ann", pass: "hunter2secret" }, {
      jetstream: false,
    });
    try {
      const loc = parseNatsLocation(
        `nats://ann:hunter2secret@127.0.0.1:${server.port}/NOJS`,
        noEnv,
      )!;
      const error = await openJetStreamTarget(loc, { liveStreamId: "live" }).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.ok(error instanceof JetStreamOpenError, String(error));
      assert.match(
        error.message,
        /^Could not open JetStream stream 'nats:\/\/ann:\*\*\*@127\.0\.0\.1:\d+\/NOJS\?subject=spool\.NOJS': JetStream is not enabled on the server: start it with '-js'/,
      );
      assert.ok(!error.message.includes("hunter2secret"));
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "jetstream target's abort() ends a sync() and a ready() waiting for a lost server",
  ignore,
  fn: async () => {
    const server = await startNatsServer();
    try {
      const target = await openJetStreamTarget(location(server, "STOP"), {
        liveStreamId: "live",
        window: 4,
        retryForMs: 600_000,
      });
      await appendRange(target, 1, 3);
      await target.sync();
      server.kill();
      for (let seq = 4; seq <= 10; seq++) target.append(0, payloadOf(seq), 0n);
      assert.ok(target.full);
      const waits = [target.sync(), target.ready()].map((p) => p.then(() => undefined, (e) => e));
      await target.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<"hung">((resolve) =>
        timer = setTimeout(() => resolve("hung"), HUNG_MS)
      );
      const ended = await Promise.race([Promise.all(waits), hung]);
      clearTimeout(timer);
      assert.notEqual(ended, "hung", "abort() left a wait hanging");
      for (const error of ended as unknown[]) {
        assert.ok(error instanceof JetStreamWriteError, String(error));
        assert.match(
          error.message,
          /did not store seq '4': the target was closed before the stream acknowledged it$/,
        );
      }
      assert.equal(target.durableSeq, 3);
    } finally {
      await server.stop();
    }
  },
});
