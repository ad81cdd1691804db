/**
 * Server trouble under a running `archive-tap --archive nats://…`, with real
 * child processes and real nats-servers: a single server restarted while the
 * tap copies, a server gone beyond the tap's retry budget, and the leader of
 * an R3 stream killed. JetStream ends up holding exactly the live seqs.
 */

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { runProgram, spawnProgram } from "./_helpers.ts";
import { Lines, sleep } from "./fixtures/chronicle_common.ts";
import { natsServerPath } from "./_nats_server.ts";
import { startNatsCluster } from "./_nats_cluster.ts";
import {
  assertHoldsLive,
  type GrowingLive,
  growingLive,
  withServer,
} from "./_jetstream_programs.ts";
import { ReaderOffset } from "../src/chronicle/mod.ts";
import { SEQ_HEADER } from "../src/nats/jetstream_target.ts";

const ignore = natsServerPath === undefined;

// Deadlines that only end a hung test; nothing asserts how fast anything is.
const HUNG_MS = 120_000;

/** A tap following the live queue, its stderr read line by line in the background. */
async function startTap(args: string[]) {
  const child = spawnProgram("archive-tap", args);
  const stderr = new Lines(child.stderr);
  await stderr.until("archive-tap: opened live queue");
  const rest = stderr.rest();
  return {
    child,
    lines: stderr.seen,
    /** Waits (growing the live queue meanwhile) until a stderr line matches. */
    async waitForLine(pattern: RegExp, live: GrowingLive): Promise<string> {
      const deadline = Date.now() + HUNG_MS;
      for (;;) {
        const line = stderr.seen.find((l) => pattern.test(l));
        if (line !== undefined) return line;
        assert.ok(Date.now() < deadline, `no line ${pattern}: ${stderr.seen.join("\n")}`);
        live.grow(20);
        await sleep(20);
      }
    },
    /** Stops the tap with SIGTERM, as an operator does, and returns its status. */
    async stop(): Promise<Deno.CommandStatus> {
      try {
        child.kill("SIGTERM");
      } catch { /* it has exited */ }
      const status = await child.status;
      await rest;
      await child.stdout.cancel();
      return status;
    },
  };
}

/** Last `Spool-Seq` stored in stream `name` (0 when empty). */
async function lastStored(servers: string, name: string): Promise<number> {
  const nc = await connect({ servers: servers.replace("nats://", "").split(",") });
  try {
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(name, { last_by_subj: `spool.${name}` });
    return last === null ? 0 : Number(last.header?.get(SEQ_HEADER));
  } finally {
    await nc.close();
  }
}

/** Waits until stream `name` holds the live queue's last seq. */
async function waitForCopy(servers: string, name: string, live: GrowingLive): Promise<void> {
  const deadline = Date.now() + HUNG_MS;
  while ((await lastStored(servers, name).catch(() => 0)) < live.lastSeq) {
    assert.ok(Date.now() < deadline, `stream '${name}' never reached seq ${live.lastSeq}`);
    await sleep(100);
  }
}

/** Grows the live queue for `ms`, a few records at a time. */
async function growFor(live: GrowingLive, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    live.grow(20);
    await sleep(10);
  }
}

Deno.test({
  name:
    "archive-tap waits through a restart of its JetStream server and copies every live seq once",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const live = await growingLive(`${dir}/live`);
      const archive = `${server.url}/RESTART`;
      try {
        live.grow(500);
        const tap = await startTap(["--live", `${dir}/live`, "--archive", archive]);
        try {
          await growFor(live, 300);
          await server.restart();
          await tap.waitForLine(/JetStream stream '.*RESTART.*' resumed at seq \d+ after/, live);
          await growFor(live, 300);
          await waitForCopy(server.url, "RESTART", live);
        } finally {
          const status = await tap.stop();
          assert.equal(status.code, 0, tap.lines.join("\n"));
        }
        assert.ok(
          tap.lines.some((l) =>
            /^archive-tap: lost JetStream stream '.*RESTART.*' \(.*\): retrying for up to 60 s$/
              .test(l)
          ),
          tap.lines.join("\n"),
        );
      } finally {
        live.close();
      }
      await assertHoldsLive(`${dir}/live`, archive, "after a restart");
    }),
});

Deno.test({
  name:
    "archive-tap exits 1 when its JetStream server stays away past --retry-for, and the next run completes the copy",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const live = await growingLive(`${dir}/live`);
      const archive = `${server.url}/AWAY`;
      try {
        live.grow(500);
        const tap = await startTap([
          "--live",
          `${dir}/live`,
          "--archive",
          archive,
          "--retry-for",
          "3s",
        ]);
        await growFor(live, 300);
        server.kill();
        // Records keep coming: the tap has something it cannot store.
        const deadline = Date.now() + HUNG_MS;
        let exited: Deno.CommandStatus | undefined;
        tap.child.status.then((s) => exited = s);
        while (exited === undefined) {
          assert.ok(Date.now() < deadline, `the tap did not give up: ${tap.lines.join("\n")}`);
          live.grow(5);
          await sleep(20);
        }
        const status = await tap.stop();
        assert.equal(status.code, 1, tap.lines.join("\n"));
        const errors = tap.lines.filter((l) => /did not store/.test(l));
        assert.equal(errors.length, 1, tap.lines.join("\n"));
        assert.match(
          errors[0]!,
          /^archive-tap: JetStream stream '.*AWAY.*' did not store seq '\d+': server lost for 3 s \(.*\)$/,
        );
        assert.ok(tap.lines.some((l) => /lost JetStream stream .*retrying for up to 3 s$/.test(l)));

        await server.restart();
        const stored = await lastStored(server.url, "AWAY");
        const committed = ReaderOffset.list(`${dir}/live`).find((r) => r.name === "archive-tap")
          ?.committedSeq ?? 0;
        // The live reader never commits what JetStream did not store.
        assert.ok(committed <= stored, `committed ${committed}, stored ${stored}`);
        assert.ok(stored > 0 && stored < live.lastSeq, `stored ${stored} of ${live.lastSeq}`);
      } finally {
        live.close();
      }
      const again = await runProgram("archive-tap", [
        "--live",
        `${dir}/live`,
        "--archive",
        archive,
        "--once",
      ]);
      assert.equal(again.code, 0, again.stderr);
      await assertHoldsLive(`${dir}/live`, archive, "after a second run");
    }),
});

Deno.test({
  name: "archive-tap into an R3 stream carries on when the stream's leader is SIGKILLed",
  ignore,
  fn: async () => {
    const cluster = await startNatsCluster();
    const dir = await Deno.makeTempDir({ prefix: "jetstream_faults_test_" });
    const archive = `${cluster.url}/TRIPLE`;
    let killed: number | undefined;
    try {
      const live = await growingLive(`${dir}/live`);
      try {
        live.grow(500);
        const tap = await startTap([
          "--live",
          `${dir}/live`,
          "--archive",
          archive,
          "--replicas",
          "3",
        ]);
        try {
          await waitForCopy(cluster.url, "TRIPLE", live);
          const nc = await connect({ servers: cluster.url.replace("nats://", "").split(",") });
          try {
            const info = await (await jetstreamManager(nc)).streams.info("TRIPLE");
            assert.equal(info.config.num_replicas, 3);
            const leader = info.cluster?.leader ?? "";
            killed = Number(/^spool-n(\d)$/.exec(leader)?.[1]);
            assert.ok(Number.isInteger(killed), `leader '${leader}'`);
          } finally {
            await nc.close();
          }
          await growFor(live, 200);
          cluster.nodes[killed]!.kill();
          await growFor(live, 2000);
          await waitForCopy(cluster.url, "TRIPLE", live);
        } finally {
          const status = await tap.stop();
          assert.equal(status.code, 0, tap.lines.join("\n"));
        }
        assert.ok(
          !tap.lines.some((l) => /did not store/.test(l)),
          tap.lines.join("\n"),
        );
      } finally {
        live.close();
      }
      // A 2.9 cluster answers a new reader only once its meta leader is back
      // too: the copy is read back with every node up, holding what it held.
      if (killed !== undefined) await cluster.nodes[killed]?.restart();
      await assertHoldsLive(`${dir}/live`, archive, "after the leader was killed");
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "archive-tap stops at SIGINT while its JetStream server is away, and the next run completes the copy",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const live = await growingLive(`${dir}/live`);
      const archive = `${server.url}/SIGNAL`;
      try {
        live.grow(500);
        // A budget longer than the test's deadline: only the signal ends this run.
        const tap = await startTap([
          "--live",
          `${dir}/live`,
          "--archive",
          archive,
          "--retry-for",
          "10m",
        ]);
        await growFor(live, 300);
        server.kill();
        await tap.waitForLine(/lost JetStream stream '.*SIGNAL.*'/, live);
        // Records the tap takes but cannot store.
        await growFor(live, 200);
        tap.child.kill("SIGINT");
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), HUNG_MS);
        });
        const exited = await Promise.race([tap.child.status, hung]);
        clearTimeout(timer);
        const status = await tap.stop();
        assert.ok(exited !== undefined, `the tap ignored SIGINT: ${tap.lines.join("\n")}`);
        assert.equal(status.code, 0, tap.lines.join("\n"));
        assert.ok(!tap.lines.some((l) => /did not store/.test(l)), tap.lines.join("\n"));
        const stopped = tap.lines.find((l) => /cannot be reached, seqs? \d+/.test(l));
        assert.match(
          stopped ?? tap.lines.join("\n"),
          /^archive-tap: stopped while JetStream archive '.*SIGNAL.*' cannot be reached, seqs? (\d+)(\.\.\d+)? not acknowledged: the next run copies them again$/,
        );
        const summary = tap.lines.at(-1)!;
        assert.match(summary, /, stopped by a signal; archive '.*SIGNAL.*' ends at seq (\d+)$/);
        const acknowledged = Number(/ends at seq (\d+)$/.exec(summary)![1]);

        await server.restart();
        const stored = await lastStored(server.url, "SIGNAL");
        const committed = ReaderOffset.list(`${dir}/live`).find((r) => r.name === "archive-tap")
          ?.committedSeq ?? 0;
        // The live reader commits exactly what the stream acknowledged, no further.
        assert.equal(committed, acknowledged);
        assert.ok(committed <= stored, `committed ${committed}, stored ${stored}`);
        assert.ok(stored < live.lastSeq, `stored ${stored} of ${live.lastSeq}`);
      } finally {
        live.close();
      }
      const again = await runProgram("archive-tap", [
        "--live",
        `${dir}/live`,
        "--archive",
        archive,
        "--once",
      ]);
      assert.equal(again.code, 0, again.stderr);
      await assertHoldsLive(`${dir}/live`, archive, "after a signal and a second run");
    }),
});
