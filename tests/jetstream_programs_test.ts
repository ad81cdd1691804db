/**
 * The JetStream tier through the real programs: `archive-tap --archive
 * nats://…` into a real nats-server, resumed with no duplicate, read back
 * by `replay` and `tail`, and one-line errors that never show a secret.
 */

import assert from "node:assert/strict";
import { runProgram, spawnProgram } from "./_helpers.ts";
import { seededRandom } from "./_seeded_random.ts";
import { Lines, sleep } from "./fixtures/chronicle_common.ts";
import { natsServerPath } from "./_nats_server.ts";
import { assertHoldsLive, growingLive, liveQueue, withServer } from "./_jetstream_programs.ts";
import { ReaderOffset } from "../src/chronicle/mod.ts";

const ignore = natsServerPath === undefined;

Deno.test({
  name:
    "archive-tap copies a live queue into JetStream, resumes with no duplicate, and replay reads it back",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
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
    }),
});

Deno.test({
  name:
    "JetStream mistakes are one line: options that do not apply, a missing stream, a server down",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
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
      const retry = ["--live", live, "--archive", `${dir}/a`, "--once"];
      const notJetStream = await runProgram("archive-tap", [...retry, "--retry-for", "3s"]);
      assert.match(oneLine(notJetStream, 2), /leave out '--retry-for'/);
      const noUnit = await runProgram("archive-tap", [...retry, "--retry-for", "30"]);
      assert.match(oneLine(noUnit, 2), /'--retry-for <duration>'.*with its unit/);
      const secret = server.url.replace("nats://", "nats://ann:s3cret-pw@") + "/Q";
      const modeWithSecret = await runProgram("import", ["--to", secret, "--mode", "0660", "-"]);
      const modeLine = oneLine(modeWithSecret, 2);
      assert.match(modeLine, /'nats:\/\/ann:\*\*\*@.*leave out '--mode'/);
      assert.doesNotMatch(modeLine, /s3cret-pw/);
      const durable = await runProgram("import", ["--to", `${server.url}/Q`, "--durable", "-"]);
      assert.match(oneLine(durable, 2), /'--durable' is a queue's/);
      const creds = await runProgram("replay", [
        `${server.url}/Q`,
        "--creds",
        `${dir}/no-such.creds`,
      ]);
      assert.match(oneLine(creds, 1), /no-such\.creds' cannot be read/);
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
    }),
});

Deno.test({
  name:
    "archive-tap into JetStream SIGKILLed 20 times while the live queue grows: the stream holds every live seq once",
  ignore,
  fn: async () => {
    const seed = Number(Deno.env.get("JETSTREAM_KILL_SEED") ?? Date.now() % 1_000_000);
    const rand = seededRandom(seed);
    await withServer(async (server, dir) => {
      const live = `${dir}/live`;
      const writer = await growingLive(live);
      const grow = writer.grow;
      // The live queue starts at seq 1; the archive starts wherever the tap first reads.
      grow(200);
      const args = ["--live", live, "--archive", `${server.url}/KILLS`];
      try {
        for (let round = 0; round < 20; round++) {
          const child = spawnProgram("archive-tap", args);
          const stderr = new Lines(child.stderr);
          try {
            await stderr.until("archive-tap: opened live queue");
            const killAt = Date.now() + 50 + Math.floor(rand() * 350);
            while (Date.now() < killAt) {
              grow(Math.floor(rand() * 20));
              await sleep(5);
            }
          } finally {
            child.kill("SIGKILL");
            const status = await child.status;
            await stderr.rest();
            await child.stdout.cancel();
            assert.equal(status.signal, "SIGKILL", `seed ${seed}, round ${round}: ${stderr.seen}`);
          }
        }
      } finally {
        writer.close();
      }
      const once = await runProgram("archive-tap", [...args, "--once"]);
      assert.equal(once.code, 0, `seed ${seed}: ${once.stderr}`);
      const held = await assertHoldsLive(live, `${server.url}/KILLS`, `seed ${seed}`);
      assert.ok(held > 400, `seed ${seed}: ${held} records`);
    });
  },
});

Deno.test({
  name: "a new JetStream archive starts at the first record the tap reads, not at seq 1",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const live = `${dir}/live`;
      await liveQueue(live, 1, 80);
      // The tap's reader has committed seq 50 already: it goes on at 51.
      const offset = ReaderOffset.open(live, "archive-tap", false);
      offset.commit(50);
      offset.close();
      const archive = `${server.url}/LATE`;
      const out = await runProgram("archive-tap", ["--live", live, "--archive", archive, "--once"]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stderr, /starts at seq 51/);
      const got = await runProgram("replay", [archive, "--json"]);
      const seqs = got.stdout.trimEnd().split("\n").map((l) =>
        (JSON.parse(l) as { seq: number }).seq
      );
      assert.deepEqual(seqs, Array.from({ length: 30 }, (_, i) => i + 51));
    }),
});
