/**
 * JetStreamStream against a real nats-server: messages published by a plain
 * client with the Spool headers are read back with their exact fields, from
 * the start, the last N, a spool seq, a time or the latest, followed until
 * an abort; named readers keep their committed position in a durable
 * consumer; a missing stream and a message without headers fail clearly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect, headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { StartPosition } from "../src/chronicle/mod.ts";
import {
  JetStreamMessageError,
  JetStreamStream,
  type JetStreamStreamOptions,
} from "../src/nats/jetstream_stream.ts";
import { copyMessage, isCommittable, openStream, type StreamMessage } from "../src/stream/mod.ts";
import { runProgram } from "./_helpers.ts";
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
      // Seq 1 is where an empty subject goes on, as in an empty queue.
      assert.deepEqual(await seqsFrom(url, { start: { seq: 1 } }), []);
      await assert.rejects(JetStreamStream.open(url, { start: { seq: 2 } }), /it is empty/);
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A header block of these lines, as it goes on the wire.
const headerBlock = (...lines: string[]) =>
  `NATS/1.0\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;

// Publishes messages with exactly these header blocks (a client's MsgHdrs
// would trim and reorder them) through the server's own protocol, and waits
// until stream `stream` holds `total` messages.
async function publishRawHeaders(
  url: string,
  nc: NatsConnection,
  stream: string,
  total: number,
  messages: [subject: string, header: string, payload: Uint8Array][],
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  try {
    const parts: Uint8Array[] = [encoder.encode(`CONNECT {"verbose":false,"headers":true}\r\n`)];
    for (const [subject, header, payload] of messages) {
      const h = encoder.encode(header);
      parts.push(encoder.encode(`HPUB ${subject} ${h.length} ${h.length + payload.length}\r\n`));
      parts.push(h, payload, encoder.encode("\r\n"));
    }
    parts.push(encoder.encode("PING\r\n"));
    for (const part of parts) {
      for (let done = 0; done < part.length;) done += await conn.write(part.subarray(done));
    }
    const buffer = new Uint8Array(4096);
    for (let seen = ""; !seen.includes("PONG");) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`Server closed the connection: '${seen}'`);
      seen += decoder.decode(buffer.subarray(0, n));
      if (seen.includes("-ERR")) throw new Error(`Server refused: '${seen}'`);
    }
  } finally {
    conn.close();
  }
  const jsm = await jetstreamManager(nc);
  while ((await jsm.streams.info(stream)).state.messages < total) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test({
  name: "jetstream stream: Spool headers are read as the client parses them, odd ones too",
  ignore,
  fn: () =>
    withStream(async ({ url, nc }) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "ODD", subjects: ["odd.>"] });
      const base = `${url.slice(0, url.lastIndexOf("/"))}/ODD`;
      const accepted: [string, StreamMessage][] = [
        [
          headerBlock(
            "Spool-Seq: 1",
            "Spool-Timestamp-Ns: 1700000000000000001",
            "Spool-Type-Id: 3",
          ),
          { seq: 1, timestampNs: 1_700_000_000_000_000_001n, typeId: 3, payload: new Uint8Array() },
        ],
        // Padded, in another order, among other headers, repeated: the first counts.
        [
          headerBlock(
            "X-Note: Spool-Seq: 9",
            "Spool-Type-Id:\t7 ",
            "Spool-Seq:2",
            "Spool-Seq: 99",
            "Spool-Timestamp-Ns:  0001700000000000000002\t",
          ),
          { seq: 2, timestampNs: 1_700_000_000_000_000_002n, typeId: 7, payload: new Uint8Array() },
        ],
        // Names match exactly; zeros lead; more digits than a double holds.
        [
          headerBlock(
            "spool-seq: 8",
            "Spool-Seq: 0000000000000000003",
            "Spool-Timestamp-Ns: 123456789012345678901234567890",
            "Spool-Type-Id: 65535",
          ),
          {
            seq: 3,
            timestampNs: 123456789012345678901234567890n,
            typeId: 65535,
            payload: new Uint8Array(),
          },
        ],
        // The status line is not a header.
        [
          "NATS/1.0 Spool-Seq: 7\r\nSpool-Seq: 4\r\nSpool-Type-Id: 0\r\nSpool-Timestamp-Ns: 0\r\n\r\n",
          { seq: 4, timestampNs: 0n, typeId: 0, payload: new Uint8Array() },
        ],
      ];
      const good = headerBlock("Spool-Seq: 1", "Spool-Timestamp-Ns: 5", "Spool-Type-Id: 3");
      const rest = ["Spool-Timestamp-Ns: 5", "Spool-Type-Id: 3"];
      const rejected: [string, string][] = [
        [
          headerBlock("Spool-Seq: 12a", ...rest),
          "has 'Spool-Seq' header '12a', not a decimal: it was not published by spool",
        ],
        [
          headerBlock("Spool-Seq: -4", ...rest),
          "has 'Spool-Seq' header '-4', not a decimal: it was not published by spool",
        ],
        [
          headerBlock("Spool-Seq: 2 3", ...rest),
          "has 'Spool-Seq' header '2 3', not a decimal: it was not published by spool",
        ],
        [
          headerBlock("Spool-Seq:", ...rest),
          "has no 'Spool-Seq' header: it was not published by spool",
        ],
        [
          headerBlock("spool-seq: 2", ...rest),
          "has no 'Spool-Seq' header: it was not published by spool",
        ],
        [
          headerBlock("Spool-Seq: 2", "Spool-Type-Id: 3"),
          "has no 'Spool-Timestamp-Ns' header: it was not published by spool",
        ],
        [
          headerBlock("Spool-Seq: 2", "Spool-Timestamp-Ns: 1.5", "Spool-Type-Id: 3"),
          "has 'Spool-Timestamp-Ns' header '1.5', not a decimal: it was not published by spool",
        ],
        [
          headerBlock("Spool-Seq: 2", "Spool-Timestamp-Ns: 5", "Spool-Type-Id: 65536"),
          "has seq '2' or type id '65536' out of range",
        ],
        [headerBlock("Spool-Seq: 0", ...rest), "has seq '0' or type id '3' out of range"],
        [
          headerBlock("Spool-Seq: 9007199254740993", ...rest),
          "has seq '9007199254740992' or type id '3' out of range",
        ],
        // A lone CR sends it to the client's parse, which refuses the whole block.
        [
          headerBlock("Spool-Seq: 2\rX", ...rest),
          "has a header block that does not parse ('header' values cannot contain \\r or \\n): it was not published by spool",
        ],
      ];
      const payload = (i: number) => Uint8Array.of(i, 1, 2);
      await publishRawHeaders(url, nc, "ODD", accepted.length + 2 * rejected.length, [
        ...accepted.map(([h], i): [string, string, Uint8Array] => ["odd.ok", h, payload(i)]),
        ...rejected.flatMap(([h], i): [string, string, Uint8Array][] => [
          [`odd.bad${i}`, good, payload(0)],
          [`odd.bad${i}`, h, payload(0)],
        ]),
      ]);
      const ok = await JetStreamStream.open(`${base}?subject=odd.ok`);
      const got = await readAll(ok);
      assert.deepEqual(got, accepted.map(([, m], i) => ({ ...m, payload: payload(i) })));
      await closeReader(ok);
      for (const [i, [, what]] of rejected.entries()) {
        const stream = await JetStreamStream.open(`${base}?subject=odd.bad${i}`);
        const seqs: number[] = [];
        const streamSeq = accepted.length + 2 * i + 2;
        await assert.rejects(
          (async () => {
            for await (const m of stream) seqs.push(m.seq);
          })(),
          (e: Error) => {
            assert.ok(e instanceof JetStreamMessageError);
            assert.equal(e.streamSeq, streamSeq);
            assert.equal(
              e.message,
              `Message at stream seq '${streamSeq}' of '${stream.location}' ${what}`,
            );
            return true;
          },
        );
        assert.deepEqual(seqs, [1]);
        assert.equal(await stream.wait(), false);
        await closeReader(stream);
      }
    }),
});

// Spool seqs `from`..`to`, each after a message on the other subject when
// `noisy` says so; returns the stream seq of each spool seq.
async function publishInterleaved(
  js: JetStreamClient,
  from: number,
  to: number,
  noisy: (seq: number) => boolean,
): Promise<Map<number, number>> {
  const streamSeqs = new Map<number, number>();
  for (let seq = from; seq <= to; seq++) {
    if (noisy(seq)) await js.publish(NOISE, new Uint8Array([1]));
    const m = message(seq);
    streamSeqs.set(seq, (await js.publish(SUBJECT, m.payload, { headers: spoolHeaders(m) })).seq);
  }
  return streamSeqs;
}

async function seqsFrom(url: string, options: JetStreamStreamOptions): Promise<number[]> {
  const stream = await JetStreamStream.open(url, options);
  try {
    return (await readAll(stream)).map((m) => m.seq);
  } finally {
    stream.close();
    await stream.closed();
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

// A subject whose first spool seq is 51 at stream seqs far from 51: spool
// 1..150 with other-subject messages between, the first 50 purged, and
// spool 100 deleted.
async function withPurgedStream(
  fn: (f: Fixture & { streamSeqs: Map<number, number> }) => Promise<void>,
): Promise<void> {
  await withStream(async (f) => {
    const streamSeqs = await publishInterleaved(f.js, 1, 150, (seq) => seq % 3 !== 0);
    const jsm = await jetstreamManager(f.nc);
    await jsm.streams.purge(STREAM, { filter: SUBJECT, seq: streamSeqs.get(51)! });
    await jsm.streams.deleteMessage(STREAM, streamSeqs.get(100)!);
    await fn({ ...f, streamSeqs });
  });
}

Deno.test({
  name: "jetstream stream: a start seq is a spool seq, found among other subjects' messages",
  ignore,
  fn: () =>
    withPurgedStream(async ({ url, streamSeqs }) => {
      assert.notEqual(streamSeqs.get(77), 77);
      const kept = [...range(51, 99), ...range(101, 150)];
      assert.deepEqual(await seqsFrom(url, { start: { seq: 51 } }), kept);
      assert.deepEqual(await seqsFrom(url, { start: { seq: 77 } }), kept.slice(kept.indexOf(77)));
      assert.deepEqual(await seqsFrom(url, { start: { seq: 101 } }), range(101, 150));
      assert.deepEqual(await seqsFrom(url, { start: { seq: 150 } }), [150]);
      // One past the last is where the next record goes: nothing yet.
      assert.deepEqual(await seqsFrom(url, { start: { seq: 151 } }), []);
      assert.deepEqual(await seqsFrom(url, { start: "earliest" }), kept);
      // The last N counts spool records, not the other subject's messages.
      assert.deepEqual(await seqsFrom(url, { last: 5 }), range(146, 150));
      assert.deepEqual(await seqsFrom(url, { last: 5, start: { seq: 60 } }), range(146, 150));
      const refused: [StartPosition, RegExp][] = [
        [{ seq: 50 }, /^Seq 50 is no longer in '.*': the earliest is 51$/],
        [{ seq: 1 }, /^Seq 1 is no longer in '.*': the earliest is 51$/],
        [{ seq: 152 }, /^Seq 152 is not in '.*' yet: it ends at seq 150$/],
        [{ seq: 100 }, /^Seq 100 is not in '.*': the next there is 101$/],
      ];
      for (const [start, message] of refused) {
        await assert.rejects(JetStreamStream.open(url, { start }), (e: Error) => {
          assert.ok(e instanceof RangeError);
          assert.match(e.message, message);
          return true;
        });
      }
      await assert.rejects(JetStreamStream.open(url, { start: { seq: 0 } }), RangeError);
      await assert.rejects(
        JetStreamStream.open(url, { start: "committed" }),
        /Start 'committed' needs a named reader/,
      );
      // openStream passes the start on.
      const stream = await openStream(url, { start: { seq: 140 } });
      assert.equal(stream.kind, "jetstream");
      const seqs: number[] = [];
      for await (const m of stream) seqs.push(m.seq);
      assert.deepEqual(seqs, range(140, 150));
      stream.close();
      await assert.rejects(openStream(url, { start: { seq: 10 } }), RangeError);
    }),
});

Deno.test({
  name: "jetstream stream: a start time finds the first record stamped at or after it",
  ignore,
  fn: () =>
    withPurgedStream(async ({ url }) => {
      const at = (seq: number) => message(seq).timestampNs;
      assert.deepEqual(await seqsFrom(url, { start: { timestampNs: at(120) } }), range(120, 150));
      assert.deepEqual(
        await seqsFrom(url, { start: { timestampNs: at(119) + 1n } }),
        range(120, 150),
      );
      // The deleted record's time: the next one kept.
      assert.deepEqual(await seqsFrom(url, { start: { timestampNs: at(100) } }), range(101, 150));
      assert.deepEqual((await seqsFrom(url, { start: { timestampNs: 0 } }))[0], 51);
      assert.deepEqual(await seqsFrom(url, { start: { timestampNs: at(150) + 1n } }), []);
    }),
});

Deno.test({
  name: "jetstream stream: start latest sees only records published after open",
  ignore,
  fn: () =>
    withStream(async ({ url, js }) => {
      await publishInterleaved(js, 1, 5, () => true);
      assert.deepEqual(await seqsFrom(url, { start: "latest" }), []);
      const abort = new AbortController();
      const stream = await JetStreamStream.open(url, {
        start: "latest",
        follow: true,
        signal: abort.signal,
      });
      assert.equal(await stream.wait(50), false);
      const published = publishInterleaved(js, 6, 8, () => true);
      const seqs: number[] = [];
      for await (const m of stream) {
        seqs.push(m.seq);
        if (m.seq === 8) abort.abort();
      }
      await published;
      assert.deepEqual(seqs, [6, 7, 8]);
      stream.close();
      await stream.closed();
    }),
});

// Hands out `count` messages of `stream`, returning their seqs.
async function take(stream: JetStreamStream, count: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length < count && await stream.wait()) seqs.push(stream.next()!.seq);
  return seqs;
}

async function closeReader(stream: JetStreamStream): Promise<void> {
  stream.close();
  await stream.closed();
}

Deno.test({
  name: "jetstream stream: a named reader resumes after its last commit, each name on its own",
  ignore,
  fn: () =>
    withStream(async ({ url, js, nc }) => {
      await publishInterleaved(js, 1, 30, (seq) => seq % 2 === 0);
      const audit = await JetStreamStream.open(url, { name: "audit" });
      assert.equal(audit.name, "audit");
      assert.ok(isCommittable(audit));
      assert.deepEqual(await take(audit, 10), range(1, 10));
      audit.commit();
      assert.deepEqual(await take(audit, 5), range(11, 15)); // handed out, not committed
      await closeReader(audit);

      // Reopened: after the commit, not after what was handed out.
      const again = await JetStreamStream.open(url, { name: "audit" });
      assert.deepEqual(await take(again, 30), range(11, 30));
      await closeReader(again);
      const third = await JetStreamStream.open(url, { name: "audit", start: "committed" });
      assert.deepEqual(await take(third, 3), [11, 12, 13]);
      third.commit();
      await closeReader(third);

      // Another name starts on its own, at the earliest; a commit after each
      // message keeps the last one.
      const other = await openStream(url, { name: "billing" });
      assert.ok(isCommittable(other));
      const first: number[] = [];
      for await (const m of other) {
        first.push(m.seq);
        other.commit();
      }
      assert.deepEqual(first, range(1, 30));
      await closeReader(other as JetStreamStream);
      assert.deepEqual(await seqsFrom(url, { name: "billing" }), []);
      assert.deepEqual(await seqsFrom(url, { name: "audit" }), range(14, 30));

      // An explicit start moves a named reader; its commits count from there.
      const moved = await JetStreamStream.open(url, { name: "audit", start: { seq: 25 } });
      assert.deepEqual(await take(moved, 2), [25, 26]);
      moved.commit();
      await closeReader(moved);
      assert.deepEqual(await seqsFrom(url, { name: "audit" }), range(27, 30));

      // A new name starting at the latest keeps that position.
      const late = await JetStreamStream.open(url, { name: "late", start: "latest" });
      await closeReader(late);
      await publishInterleaved(js, 31, 32, () => true);
      assert.deepEqual(await seqsFrom(url, { name: "late" }), [31, 32]);

      const jsm = await jetstreamManager(nc);
      const names = [];
      for await (const c of jsm.consumers.list(STREAM)) names.push(c.name);
      assert.deepEqual(names.sort(), ["audit", "billing", "late"]);
    }),
});

Deno.test({
  name: "jetstream stream: a name held by another subject's consumer, or not one, is refused",
  ignore,
  fn: () =>
    withStream(async ({ url, nc }) => {
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.add(STREAM, {
        durable_name: "noisy",
        filter_subject: NOISE,
        ack_policy: AckPolicy.All,
      });
      await assert.rejects(JetStreamStream.open(url, { name: "noisy" }), (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, new RegExp(`reads subject '${NOISE}', not '${SUBJECT}'`));
        return true;
      });
      await assert.rejects(JetStreamStream.open(url, { name: "a.b" }), /not valid for JetStream/);
      const anonymous = await JetStreamStream.open(url);
      assert.equal(isCommittable(anonymous), false);
      assert.throws(() => anonymous.commit(), TypeError);
      await closeReader(anonymous);
    }),
});

Deno.test({
  name:
    "jetstream stream: a message the server sends again after its ack wait is not handed out twice",
  ignore,
  fn: () =>
    withStream(async ({ url, js, nc }) => {
      await publishInterleaved(js, 1, 5, () => false);
      const abort = new AbortController();
      const stream = await JetStreamStream.open(url, {
        name: "slow",
        follow: true,
        ackWaitMs: 50,
        signal: abort.signal,
      });
      assert.deepEqual(await take(stream, 5), range(1, 5));
      // Uncommitted past the ack wait: the server sends them again.
      const jsm = await jetstreamManager(nc);
      for (let i = 0; (await jsm.consumers.info(STREAM, "slow")).num_redelivered === 0; i++) {
        assert.ok(i < 200, "the server never sent a message again");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await publishInterleaved(js, 6, 6, () => false);
      assert.deepEqual(await take(stream, 1), [6]);
      assert.equal(await stream.wait(100), false);
      stream.commit();
      abort.abort();
      await closeReader(stream);
      assert.deepEqual(await seqsFrom(url, { name: "slow" }), []);
    }),
});

Deno.test({
  name: "jetstream stream: replay --from-seq starts a JetStream stream at a spool seq",
  ignore,
  fn: () =>
    withPurgedStream(async ({ url }) => {
      const seqsOf = (stdout: string) =>
        stdout.trim().split("\n").map((line) => JSON.parse(line).seq as number);
      const from = await runProgram("replay", [url, "--json", "--from-seq", "140"]);
      assert.equal(from.code, 0, from.stderr);
      assert.deepEqual(seqsOf(from.stdout), range(140, 150));
      // A seq retention removed: replay reads from the earliest kept.
      const purged = await runProgram("replay", [
        url,
        "--json",
        "--from-seq",
        "20",
        "--to-seq",
        "53",
      ]);
      assert.equal(purged.code, 0, purged.stderr);
      assert.deepEqual(seqsOf(purged.stdout), [51, 52, 53]);
    }),
});

// Readers unnamed and named, as both must see the stream change under them.
const READERS: JetStreamStreamOptions[] = [{}, { name: "reader", start: "earliest" }];
// More than a reader holds while it is not read, so most stay on the server.
const MANY = 12_000;

// Opens a reader on `MANY` messages, takes the first, lets `change` alter
// the stream, and returns the reader.
async function readerUnder(
  f: Fixture,
  options: JetStreamStreamOptions,
  change: (jsm: JetStreamManager) => Promise<unknown>,
): Promise<JetStreamStream> {
  await publishRange(f.js, 1, MANY);
  const stream = await JetStreamStream.open(f.url, options);
  assert.deepEqual(await take(stream, 1), [1]);
  await change(await jetstreamManager(f.nc));
  return stream;
}

Deno.test({
  name: "jetstream stream: not following, a reader ends when the rest of its subject is removed",
  ignore,
  fn: async () => {
    const removals: [string, (jsm: JetStreamManager) => Promise<unknown>][] = [
      ["purged", (jsm) => jsm.streams.purge(STREAM, { filter: SUBJECT })],
      ["deleted from 10001", async (jsm) => {
        const last = (await jsm.streams.getMessage(STREAM, { last_by_subj: SUBJECT }))!.seq;
        // The last 2,000 spool seqs, and the other subject's messages among them.
        const seqs = range(last - 2_003, last);
        await Promise.all(seqs.map((seq) => jsm.streams.deleteMessage(STREAM, seq)));
      }],
    ];
    for (const [what, remove] of removals) {
      for (const options of READERS) {
        await withStream(async (f) => {
          const stream = await readerUnder(f, options, remove);
          const seqs = [1, ...(await readAll(stream)).map((m) => m.seq)];
          assert.deepEqual(seqs, range(1, seqs.length), `${what}, ${options.name}`);
          assert.ok(seqs.length < MANY, `${what}, ${options.name}: read ${seqs.length}`);
          if (what !== "purged") assert.ok(seqs.length <= 10_000);
          assert.equal(await stream.wait(), false);
          await closeReader(stream);
        });
      }
    }
  },
});

Deno.test({
  name: "jetstream stream: a stream deleted under a reader fails it once, following or not",
  ignore,
  fn: async () => {
    for (const follow of [false, true]) {
      for (const options of READERS) {
        await withStream(async (f) => {
          const stream = await readerUnder(
            f,
            { ...options, follow },
            (jsm) => jsm.streams.delete(STREAM),
          );
          const seqs = [1];
          await assert.rejects(
            (async () => {
              for await (const m of stream) seqs.push(m.seq);
            })(),
            (e: Error) => {
              assert.ok(e instanceof Deno.errors.NotFound, String(e));
              assert.equal(
                e.message,
                `JetStream stream '${f.url}?subject=${SUBJECT}' was deleted while it was read`,
              );
              return true;
            },
          );
          // Everything that arrived before is handed out, in order.
          assert.deepEqual(seqs, range(1, seqs.length));
          assert.equal(await stream.wait(), false);
          await closeReader(stream);
        });
      }
    }
  },
});

Deno.test({
  name: "jetstream stream: a server without JetStream is one error naming the stream",
  ignore,
  fn: async () => {
    const server = await startNatsServer({ user: "ann", pass: "pw-31" }, { jetstream: false });
    try {
      const url = `nats://ann:pw-31@127.0.0.1:${server.port}/${STREAM}`;
      await assert.rejects(JetStreamStream.open(url), (e: Error) => {
        assert.match(
          e.message,
          new RegExp(
            `^Could not open JetStream stream 'nats://ann:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/${STREAM}\\?subject=${SUBJECT}': \\S`,
          ),
        );
        assert.ok(!e.message.includes("pw-31"), e.message);
        assert.ok(!e.message.includes("\n"), e.message);
        return true;
      });
    } finally {
      await server.stop();
    }
  },
});
