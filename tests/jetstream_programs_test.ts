/**
 * The JetStream tier through the real programs: `archive-tap --archive
 * nats://…` into a real nats-server, resumed with no duplicate, read back
 * by `replay` and `tail`, and one-line errors that never show a secret.
 */

import assert from "node:assert/strict";
import { runProgram } from "./_helpers.ts";
import { natsServerPath, startNatsServer } from "./_nats_server.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";

const ignore = natsServerPath === undefined;

async function liveQueue(dir: string, from: number, to: number): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 1 << 20 });
  try {
    for (let seq = from; seq <= to; seq++) {
      w.append(seq % 7, new TextEncoder().encode(`record ${seq}`), BigInt(seq) * 1000n);
    }
  } finally {
    w.close();
  }
}

Deno.test({
  name:
    "archive-tap copies a live queue into JetStream, resumes with no duplicate, and replay reads it back",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "jetstream_programs_test_" });
    const server = await startNatsServer();
    try {
      const live = `${dir}/live`;
      await liveQueue(live, 1, 500);
      const archive = `${server.url}/QUOTES`;
      const tap = () => runProgram("archive-tap", ["--live", live, "--archive", archive, "--once"]);
      const first = await tap();
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /copied 500 records \(seqs 1\.\.500\)/);
      await liveQueue(live, 501, 700);
      const second = await tap();
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /copied 200 records \(seqs 501\.\.700\)/);
      const want = await runProgram("replay", [live, "--json"]);
      const got = await runProgram("replay", [archive, "--json"]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.stdout.trimEnd().split("\n").length, 700);
      const tail = await runProgram("tail", [archive, "-n", "1", "--json"]);
      assert.match(tail.stdout, /^\{"seq":700,/);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "JetStream mistakes are one line: options that do not apply, a missing stream, a server down",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "jetstream_programs_test_" });
    const server = await startNatsServer();
    try {
      const live = `${dir}/live`;
      await liveQueue(live, 1, 3);
      const oneLine = (out: { code: number; stderr: string }, code: number) => {
        assert.equal(out.code, code, out.stderr);
        assert.equal(out.stderr.trimEnd().split("\n").length, 1, out.stderr);
        return out.stderr;
      };
      const mode = await runProgram("archive-tap", [
        "--live",
        live,
        "--archive",
        `${server.url}/Q`,
        "--mode",
        "0660",
      ]);
      assert.match(oneLine(mode, 2), /leave out '--mode'/);
      const replicas = await runProgram("archive-tap", [
        "--live",
        live,
        "--archive",
        `${dir}/a`,
        "--replicas",
        "3",
        "--once",
      ]);
      assert.match(oneLine(replicas, 2), /leave out '--replicas'/);
      const missing = await runProgram("replay", [`${server.url}/NOPE`, "--json"]);
      assert.match(oneLine(missing, 1), /JetStream stream 'NOPE' does not exist/);
      await server.stop();
      const down = await runProgram("archive-tap", [
        "--live",
        live,
        "--archive",
        server.url.replace("nats://", "nats://ann:s3cret-pw@") + "/Q",
        "--once",
      ]);
      const line = oneLine(down, 1);
      assert.doesNotMatch(line, /s3cret-pw/);
      assert.match(line, /ann:\*\*\*/);
    } finally {
      await server.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
