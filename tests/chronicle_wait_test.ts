/**
 * `QueueReader.waitSync`, the wait on the calling thread, against writers in
 * other processes: it wakes for every record (across segment rolls, with no
 * wake-up slept through), returns false only once its timeout has passed,
 * refuses a closed reader, and a reader that may not write `queue.meta`
 * (another user's queue) backs off instead of registering, and still wakes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueClosedError, QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { QueueMeta } from "../src/chronicle/queue_meta.ts";
import { waitFor } from "./_helpers.ts";
import {
  Lines,
  payloadFor,
  payloadProblem,
  ROOT,
  sleep,
  withQueueDir,
} from "./fixtures/chronicle_common.ts";

const SEGMENT_BYTES = 64 * 1024;

/**
 * Runs `code` as a script in a child Deno, with `args`. The script may
 * import `@chronicle` and `@common` (the chronicle and the tests' shared
 * fixtures). With `user`, the child runs as that uid and gid, with a Deno
 * cache of its own.
 */
async function spawnScript(
  code: string,
  args: string[],
  user?: number,
): Promise<{ child: Deno.ChildProcess; cleanup: () => Promise<void> }> {
  const scratch = await Deno.makeTempDir({ prefix: "spool-wait-child-" });
  await Deno.chmod(scratch, 0o777);
  const script = `${scratch}/child.ts`;
  await Deno.writeTextFile(
    script,
    code.replaceAll("@chronicle", `${ROOT}src/chronicle/mod.ts`)
      .replaceAll("@common", `${ROOT}tests/fixtures/chronicle_common.ts`),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--allow-all", script, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...(user === undefined ? {} : { DENO_DIR: `${scratch}/deno` }) },
    ...(user === undefined ? {} : { uid: user, gid: user }),
  }).spawn();
  return { child, cleanup: () => Deno.remove(scratch, { recursive: true }) };
}

// A writer process: appends records 1..count (payloadFor(seq), type
// seq & 0xffff) in bursts, spins, yields and sleeps of up to 2 ms.
const PACED_WRITER = `
import { QueueWriter } from "@chronicle";
import { payloadFor } from "@common";
const [dir, count] = Deno.args;
const w = await QueueWriter.open(dir, { segmentBytes: ${SEGMENT_BYTES} });
let state = 12345;
for (let seq = 1; seq <= Number(count); seq++) {
  w.append(seq & 0xffff, payloadFor(seq));
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  const pause = (state >>> 8) % 8;
  if (pause === 1) { const until = performance.now() + 0.02; while (performance.now() < until); }
  else if (pause === 2) await new Promise((r) => setTimeout(r, (state >>> 16) % 3));
  else if (pause === 3) await Promise.resolve();
}
w.close();
`;

Deno.test("waitSync wakes for every record another process appends, across segment rolls", async () => {
  await withQueueDir(async (dir) => {
    (await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES })).close();
    const r = await QueueReader.open(dir);
    const count = 3000;
    const { child, cleanup } = await spawnScript(PACED_WRITER, [dir, String(count)]);
    try {
      let expected = 1;
      let waits = 0;
      while (expected <= count) {
        const m = r.next();
        if (m === undefined) {
          waits++;
          // A lost wake-up shows as this timeout: the writer never stops for long.
          assert.ok(r.waitSync(20_000), `no record after seq ${expected - 1} for 20 s`);
          continue;
        }
        assert.equal(m.seq, expected);
        assert.equal(m.typeId, expected & 0xffff);
        assert.equal(payloadProblem(m.seq, m.payload), undefined);
        expected++;
      }
      assert.ok(waits > 100, `the reader caught up and waited (${waits} times)`);
      const status = await child.output();
      assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
      const segments = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".seg"));
      assert.ok(segments.length >= 4, `${segments.length} segments: the reader crossed rolls`);
    } finally {
      r.close();
      await cleanup();
    }
  });
});

Deno.test("waitSync returns false only once its timeout has passed, on an empty queue or caught up", async () => {
  await withQueueDir(async (dir) => {
    (await QueueWriter.open(`${dir}/empty`, { segmentBytes: SEGMENT_BYTES })).close();
    const w = await QueueWriter.open(`${dir}/one`, { segmentBytes: SEGMENT_BYTES });
    w.append(1, new Uint8Array(8));
    const readers = {
      "an empty queue": await QueueReader.open(`${dir}/empty`),
      "a caught-up reader": await QueueReader.open(`${dir}/one`, { start: "latest" }),
    };
    try {
      for (const [what, r] of Object.entries(readers)) {
        for (const timeoutMs of [0, 1, 5, 20, 100]) {
          const started = performance.now();
          assert.equal(r.waitSync(timeoutMs), false, `${what}, ${timeoutMs} ms`);
          const took = performance.now() - started;
          assert.ok(took >= timeoutMs, `${what}: false after ${took} ms, before ${timeoutMs} ms`);
          assert.ok(took < timeoutMs + 1000, `${what}: false after ${took} ms, not ${timeoutMs}`);
        }
      }
      w.append(1, new Uint8Array(8));
      assert.equal(readers["a caught-up reader"].waitSync(0), true, "a record is there");
    } finally {
      for (const r of Object.values(readers)) r.close();
      w.close();
    }
  });
});

Deno.test("a reader opened before the queue's first segment exists wakes for its first record", async () => {
  await withQueueDir(async (dir) => {
    // queue.meta alone: what a reader sees while a writer creates the queue.
    await Deno.mkdir(dir);
    QueueMeta.create(dir, { segmentBytes: SEGMENT_BYTES, indexSpacing: 64 }, 0n).close();
    const r = await QueueReader.open(dir);
    assert.equal(r.waitSync(10), false);
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    try {
      w.append(1, payloadFor(1));
      // A reader that kept its first listing would say true here for good
      // and never hand the record out: a waiter spinning at 100% CPU.
      let looks = 0;
      let m = r.next();
      while (m === undefined && looks++ < 3) {
        assert.equal(r.waitSync(5000), true);
        m = r.next();
      }
      assert.equal(m?.seq, 1);
      assert.equal(r.waitSync(10), false, "nothing more");
    } finally {
      r.close();
      w.close();
    }
  });
});

Deno.test("waitSync on a closed reader throws QueueClosedError", async () => {
  await withQueueDir(async (dir) => {
    (await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES })).close();
    const r = await QueueReader.open(dir);
    r.close();
    assert.throws(() => r.waitSync(10), QueueClosedError);
  });
});

// A reader process from the end of the queue: prints "waiting", then takes
// \`count\` records with waitSync and \`count\` more with an async futex wait,
// and prints "got <seq>" at the last.
const WAITING_READER = `
import { QueueReader } from "@chronicle";
import { payloadProblem } from "@common";
const [dir, count] = Deno.args;
const r = await QueueReader.open(dir, { start: "latest", waitStrategy: "futex" });
let seq = r.nextSeq - 1;
const half = seq + Number(count);
const end = half + Number(count);
console.log("waiting");
while (seq < end) {
  const m = r.next();
  if (m === undefined) {
    const ok = seq < half ? r.waitSync(20_000) : await r.wait(20_000);
    if (!ok) throw new Error("no record after seq " + seq + " for 20 s");
    continue;
  }
  if (m.seq !== seq + 1 || payloadProblem(m.seq, m.payload) !== undefined) {
    throw new Error("seq " + m.seq + " where " + (seq + 1) + " belongs");
  }
  seq = m.seq;
}
console.log("got " + seq);
`;

Deno.test("a reader that may not write queue.meta backs off instead of registering, and still wakes", async () => {
  await withQueueDir(async (dir) => {
    // Readable by every user (a queue is the group's only by default), so
    // that another user's reader can map it.
    const w = await QueueWriter.open(dir, { segmentBytes: SEGMENT_BYTES, mode: 0o644 });
    const meta = QueueMeta.open(dir);
    // As root the read-only reader runs as nobody; otherwise the file's mode
    // stops it.
    const asRoot = Deno.uid() === 0;
    await Deno.chmod(`${dir}/..`, 0o755);
    const count = 200;
    try {
      for (const readOnly of [false, true]) {
        if (!asRoot) await Deno.chmod(`${dir}/queue.meta`, readOnly ? 0o444 : 0o644);
        const { child, cleanup } = await spawnScript(
          WAITING_READER,
          [dir, String(count)],
          readOnly && asRoot ? 65534 : undefined,
        );
        const lines = new Lines(child.stdout);
        const errors = new Response(child.stderr).text();
        try {
          // The child's stderr, for a failure: it is there once the child has ended.
          const said = async (line: string | undefined, expected: string) => {
            if (line !== expected) assert.equal(line, expected, await errors);
          };
          await said(await lines.next(), "waiting");
          // A registered waiter shows in the waiter count; a read-only one cannot.
          if (readOnly) {
            await sleep(200);
            assert.equal(meta.hasWaiters(), false, "a read-only reader does not register");
          } else {
            await waitFor("the reader to register", () => meta.hasWaiters() || undefined);
          }
          const first = w.lastSeq;
          for (let i = 1; i <= 2 * count; i++) {
            w.append(1, payloadFor(first + i));
            if (i % 10 === 0) await sleep(1);
          }
          await said(await lines.next(), `got ${first + 2 * count}`);
          assert.equal((await child.status).code, 0);
        } finally {
          await lines.cancel();
          await child.stdin.close().catch(() => {});
          try {
            child.kill("SIGKILL");
          } catch { /* exited */ }
          await errors;
          await cleanup();
        }
      }
    } finally {
      meta.close();
      w.close();
    }
  });
});
