/**
 * `import --to nats://…` through the real program into a real nats-server:
 * a backfill keeps the input's seqs, refuses a gap or an overlap as a queue
 * does, resumes with `--skip-existing`, and a failure is one line.
 */

import assert from "node:assert/strict";
import { runProgram } from "./_helpers.ts";
import { natsServerPath } from "./_nats_server.ts";
import { withServer } from "./_jetstream_programs.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";

const ignore = natsServerPath === undefined;

// JSON lines of a queue holding seqs `from..to`, as `replay --json` prints them.
async function jsonLines(dir: string, name: string, from: number, to: number): Promise<string> {
  const queue = `${dir}/${name}`;
  const w = await QueueWriter.open(queue, { segmentBytes: 1 << 20, firstSeq: from });
  try {
    for (let seq = from; seq <= to; seq++) {
      w.append(seq % 7, new TextEncoder().encode(`record ${seq}`), BigInt(seq) * 1000n);
    }
  } finally {
    w.close();
  }
  const out = await runProgram("replay", [queue, "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const file = `${dir}/${name}.jsonl`;
  await Deno.writeTextFile(file, out.stdout);
  return file;
}

Deno.test({
  name:
    "import --to nats:// backfills a new stream from seq 51, refuses an overlap, resumes with --skip-existing",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const first = await jsonLines(dir, "a", 51, 150);
      const stream = `${server.url}/BACKFILL`;
      const imported = await runProgram("import", ["--to", stream, first]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stderr, /100 records/);
      const back = await runProgram("replay", [stream, "--json"]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.stdout, await Deno.readTextFile(first));

      const again = await runProgram("import", ["--to", stream, first]);
      assert.equal(again.code, 1, again.stderr);
      assert.equal(again.stderr.trimEnd().split("\n").length, 1, again.stderr);
      assert.match(
        again.stderr,
        /JetStream stream '.*BACKFILL' ends at seq 150 but the input starts at seq 51/,
      );
      assert.match(again.stderr, /--skip-existing/);

      const more = await jsonLines(dir, "b", 51, 200);
      const resumed = await runProgram("import", ["--to", stream, more, "--skip-existing"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /50 records/);
      const all = await runProgram("replay", [stream, "--json"]);
      assert.equal(all.stdout, await Deno.readTextFile(more));

      const gap = await jsonLines(dir, "c", 210, 220);
      const refused = await runProgram("import", ["--to", stream, gap]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /ends at seq 200 but the input starts at seq 210: seqs 201\.\.209 are missing/,
      );
      const unchanged = await runProgram("replay", [stream, "--json"]);
      assert.equal(unchanged.stdout, all.stdout);
    }),
});

Deno.test({
  name: "import --to nats:// with the server down is one line without the password, exit 1",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const input = await jsonLines(dir, "a", 1, 5);
      await server.stop();
      const stream = server.url.replace("nats://", "nats://ann:s3cret-pw@") + "/DOWN";
      const out = await runProgram("import", ["--to", stream, input]);
      assert.equal(out.code, 1, out.stderr);
      assert.equal(out.stderr.trimEnd().split("\n").length, 1, out.stderr);
      assert.doesNotMatch(out.stderr, /s3cret-pw/);
      assert.match(out.stderr, /ann:\*\*\*@/);
    }),
});

Deno.test({
  name:
    "import reads a JetStream stream into a queue, seqs kept, resumes with --skip-existing, never shows the password",
  ignore,
  fn: () =>
    withServer(async (server, dir) => {
      const input = await jsonLines(dir, "a", 11, 60);
      const stream = `${server.url}/SOURCE`;
      const filled = await runProgram("import", ["--to", stream, input]);
      assert.equal(filled.code, 0, filled.stderr);
      const copy = `${dir}/copy`;
      const first = await runProgram("import", ["--to", copy, stream]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /50 records .*\(seq 11\.\.60\)/);
      const back = await runProgram("replay", [copy, "--json"]);
      assert.equal(back.stdout, await Deno.readTextFile(input));

      const more = await jsonLines(dir, "b", 11, 80);
      const grown = await runProgram("import", ["--to", stream, more, "--skip-existing"]);
      assert.equal(grown.code, 0, grown.stderr);
      const resumed = await runProgram("import", ["--to", copy, stream, "--skip-existing"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /20 records/);
      const all = await runProgram("replay", [copy, "--json"]);
      assert.equal(all.stdout, await Deno.readTextFile(more));

      const secret = server.url.replace("nats://", "nats://ann:s3cret-pw@") + "/SOURCE";
      // A bad line names the input: the stream, without its password.
      const other = `${dir}/other`;
      assert.equal((await runProgram("import", ["--to", other, input])).code, 0);
      const refused = await runProgram("import", ["--to", other, secret]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /ann:\*\*\*@.*SOURCE.*ends at seq 60 but the input starts at seq 11/,
      );
      assert.doesNotMatch(refused.stderr, /s3cret-pw/);
    }),
});
