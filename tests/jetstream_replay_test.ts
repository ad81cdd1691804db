/**
 * Readers that do not care where a stream lives, on a JetStream stream:
 * `replay --merge` of a JetStream stream with a local queue, and
 * `replay --book` of market data tapped into JetStream, each compared with
 * the same reading of local queues.
 */

import assert from "node:assert/strict";
import { runProgram } from "./_helpers.ts";
import { natsServerPath, startNatsServer } from "./_nats_server.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";

const ignore = natsServerPath === undefined;
const LOBSTER = "tests/fixtures/lobster/GOOG_2012-06-21_34200000_34630000_message_1.csv";

async function run(program: string, args: string[]): Promise<string> {
  const out = await runProgram(program, args);
  assert.equal(out.code, 0, `${program} ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

Deno.test({
  name:
    "replay --merge and --book read a JetStream stream as they read the queue it was tapped from",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "jetstream_replay_test_" });
    const server = await startNatsServer();
    try {
      for (const [name, offset] of [["a", 0n], ["b", 500n]] as const) {
        const w = await QueueWriter.open(`${dir}/${name}`, { segmentBytes: 1 << 20 });
        for (let i = 1; i <= 50; i++) {
          w.append(i % 3, new TextEncoder().encode(`${name}${i}`), BigInt(i) * 1000n + offset);
        }
        w.close();
      }
      const a = `${server.url}/A`;
      await run("archive-tap", ["--live", `${dir}/a`, "--archive", a, "--once"]);
      const local = await run("replay", ["--merge", `${dir}/a`, `${dir}/b`, "--json"]);
      const mixed = await run("replay", ["--merge", a, `${dir}/b`, "--json"]);
      assert.equal(mixed.trimEnd().split("\n").length, 100);
      assert.equal(mixed, local);

      await run("import", ["--to", `${dir}/book`, "--format", "lobster", LOBSTER]);
      const book = `${server.url}/BOOK`;
      await run("archive-tap", ["--live", `${dir}/book`, "--archive", book, "--once"]);
      const want = await run("replay", [`${dir}/book`, "--book", "--final", "--json"]);
      const got = await run("replay", [book, "--book", "--final", "--json"]);
      assert.match(got, /"symbol":"GOOG","bids":\[\[/);
      assert.equal(got, want);
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
