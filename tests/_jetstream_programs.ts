/**
 * What the JetStream program tests share: a live queue written or grown
 * beside a nats-server of the test's own, and the check that a JetStream
 * archive holds exactly the live queue's records, read back by `replay`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runProgram } from "./_helpers.ts";
import { type NatsServer, startNatsServer } from "./_nats_server.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";

/** Writes seqs from..to into the live queue `dir`, creating it when missing. */
export async function liveQueue(dir: string, from: number, to: number): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
  try {
    for (let seq = from; seq <= to; seq++) {
      w.append(seq % 7, new TextEncoder().encode(`record ${seq}`), BigInt(seq) * 1000n);
    }
  } finally {
    w.close();
  }
}

/** A live queue kept open while a tap copies it; see {@linkcode growingLive}. */
export interface GrowingLive {
  /** Appends `n` records of varied sizes. */
  grow(n: number): void;
  /** Seq of the last record appended. */
  readonly lastSeq: number;
  close(): void;
}

/** Opens (creates) the live queue `dir` for a test to grow while a tap runs. */
export async function growingLive(dir: string): Promise<GrowingLive> {
  const writer = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
  return {
    grow(n) {
      for (let i = 0; i < n; i++) {
        const seq = writer.lastSeq + 1;
        writer.append(seq % 5, new TextEncoder().encode(`r${seq}:${"x".repeat(seq % 300)}`));
      }
    },
    get lastSeq() {
      return writer.lastSeq;
    },
    close: () => writer.close(),
  };
}

/** Runs `fn` with a nats-server of its own and a temporary directory, both gone after it. */
export async function withServer(
  fn: (server: NatsServer, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jetstream_programs_test_" });
  const server = await startNatsServer();
  try {
    await fn(server, dir);
  } finally {
    // A test may have stopped it already.
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Asserts that the JetStream `archive` holds exactly the records of the live
 * queue `live`, seq 1 on, with no gap and no duplicate; returns how many.
 */
export async function assertHoldsLive(
  live: string,
  archive: string,
  note: string,
): Promise<number> {
  const want = await runProgram("replay", [live, "--json"]);
  const got = await runProgram("replay", [archive, "--json"]);
  assert.equal(got.code, 0, `${note}: ${got.stderr}`);
  const seqs = got.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
  // No gap and no duplicate: exactly the live queue, record for record.
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), note);
  assert.equal(got.stdout, want.stdout, note);
  return seqs.length;
}
