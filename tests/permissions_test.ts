/**
 * Permissions at rest: what spool creates holds what crossed the wire.
 * Tapes are their owner's only (files 0600, a directory made for them
 * 0700); queues are readable by the group (files 0640, directories
 * 0750) unless `mode` / `--mode` widens them; nothing that exists is ever
 * changed, and the umask is obeyed. Modes are checked on real files made
 * by the library and by the real programs, as child processes that
 * inherit the umask each test sets.
 */

import assert from "node:assert/strict";
import { runProgram } from "./_helpers.ts";
import { QueueReader, QueueWriter } from "../src/chronicle/mod.ts";
import { SnapshotStore, SnapshotWriter } from "../src/book/mod.ts";
import { OrderBook } from "../src/book/order_book.ts";
import { SIDE } from "../src/book/book_protocol.ts";
import { metaPathFor, TapeWriter } from "../src/tape/mod.ts";

const work = await Deno.makeTempDir({ prefix: "spool-permissions-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

let dirs = 0;
/** A fresh directory for one test. */
function testDir(): string {
  const dir = `${work}/${++dirs}`;
  Deno.mkdirSync(dir);
  return dir;
}

/** Runs `fn` with the process umask (inherited by the children it starts) set to `mask`. */
async function withUmask(mask: number, fn: () => Promise<void>): Promise<void> {
  const before = Deno.umask(mask);
  try {
    await fn();
  } finally {
    Deno.umask(before);
  }
}

function modeOf(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

/** Every entry under `dir` (itself excluded), by path relative to it, with its mode. */
function modesUnder(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (sub: string) => {
    for (const entry of Deno.readDirSync(`${dir}${sub}`)) {
      const rel = `${sub}/${entry.name}`;
      out.set(rel, modeOf(`${dir}${rel}`));
      if (entry.isDirectory) walk(rel);
    }
  };
  walk("");
  return out;
}

/** Asserts that every file under `dir` has `fileMode` and every directory `dirMode`. */
function assertModes(dir: string, fileMode: number, dirMode: number): void {
  const modes = modesUnder(dir);
  assert.ok(modes.size > 0, `nothing under '${dir}'`);
  for (const [rel, mode] of modes) {
    const want = Deno.statSync(`${dir}${rel}`).isDirectory ? dirMode : fileMode;
    assert.equal(mode.toString(8), want.toString(8), `mode of '${rel}'`);
  }
}

const encoder = new TextEncoder();
const LOBSTER = new URL(
  "./fixtures/lobster/GOOG_2012-06-21_34200000_34630000_message_1.csv",
  import.meta.url,
).pathname;

/** A queue of `count` small records, closed. */
async function queueOf(dir: string, count: number, mode?: number): Promise<void> {
  const w = await QueueWriter.open(dir, {
    segmentBytes: 64 * 1024,
    ...(mode === undefined ? {} : { mode }),
  });
  for (let i = 0; i < count; i++) w.append(1, encoder.encode(`record ${i}`), BigInt(i + 1));
  w.close();
}

/** Commits a named reader's position in the queue `dir`, creating its offset file. */
async function commitReader(dir: string, name: string): Promise<void> {
  const r = await QueueReader.open(dir, { name });
  r.next();
  r.commit();
  r.close();
}

Deno.test("a tape and its meta file are created 0600 in a tapes directory created 0700", async () => {
  await withUmask(0o022, async () => {
    const tapes = `${testDir()}/deep/tapes`;
    const tape = await TapeWriter.create(tapes, { durability: "buffered" });
    await tape.append({ dir: "c2s", env: { jsonrpc: "2.0", method: "secret" } });
    await tape.finalize(); // the meta file is replaced through a temporary file once more
    assert.equal(modeOf(`${tapes}/..`), 0o700);
    assertModes(`${tapes}/..`, 0o600, 0o700);
    assert.deepEqual(
      [...modesUnder(tapes).keys()].sort(),
      [`/${tape.tapeId}.jsonl`, `/${tape.tapeId}.meta.json`],
    );
  });
});

Deno.test("a tapes directory that exists, and a reopened tape, keep their modes", async () => {
  await withUmask(0o022, async () => {
    const tapes = testDir();
    Deno.chmodSync(tapes, 0o755);
    const first = await TapeWriter.create(tapes);
    await first.fail(new Error("stopped"));
    // Modes someone chose, wider than spool's: a reopen neither narrows nor touches them.
    Deno.chmodSync(first.path, 0o644);
    Deno.chmodSync(metaPathFor(first.path), 0o640);
    const again = await TapeWriter.reopen(first.path);
    await again.append({ dir: "s2c", env: { jsonrpc: "2.0", id: 1, result: {} } });
    await again.finalize();
    assert.equal(modeOf(tapes), 0o755);
    assert.equal(modeOf(first.path), 0o644);
    assert.equal(modeOf(metaPathFor(first.path)), 0o640);
  });
});

Deno.test("record --stdin creates its tapes directory 0700 and the tape 0600", async () => {
  await withUmask(0o022, async () => {
    const tapes = `${testDir()}/tapes`;
    const result = await runProgram("record", ["--stdin", "--out", tapes, "--quiet"], {
      stdin: '{"jsonrpc":"2.0","method":"ping"}\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(modeOf(tapes), 0o700);
    assertModes(tapes, 0o600, 0o700);
    assert.equal(modesUnder(tapes).size, 2);
  });
});

Deno.test("a new queue's files are 0640 and its directories, a bus's included, 0750", async () => {
  await withUmask(0o022, async () => {
    const bus = `${testDir()}/bus`;
    const queue = `${bus}/live/quotes/queue`;
    await queueOf(queue, 3);
    await commitReader(queue, "audit");
    const modes = modesUnder(bus);
    for (const name of ["queue.meta", "writer.lock", "0000000000.seg", "0000000000.idx"]) {
      assert.equal(modes.get(`/live/quotes/queue/${name}`), 0o640, name);
    }
    assert.equal(modes.get("/live/quotes/queue/readers/audit.offset"), 0o640);
    assertModes(bus, 0o640, 0o750);
    assert.equal(modeOf(bus), 0o750);
  });
});

Deno.test("mode 0660 widens a new queue: files 0660, directories 0770, reader offsets 0640", async () => {
  await withUmask(0o002, async () => {
    const queue = `${testDir()}/shared/queue`;
    // Enough records for a second segment, made by the writer after it opened.
    await queueOf(queue, 3000, 0o660);
    await commitReader(queue, "peer");
    const modes = modesUnder(queue);
    assert.ok(modes.has("/0000000001.seg"), "a second segment");
    assert.equal(modes.get("/readers"), 0o770);
    assert.equal(modes.get("/readers/peer.offset"), 0o640);
    modes.delete("/readers");
    modes.delete("/readers/peer.offset");
    for (const [rel, mode] of modes) assert.equal(mode, 0o660, rel);
    assert.equal(modeOf(`${queue}/..`), 0o770);
  });
});

Deno.test("a reopened queue keeps its files' modes, and new files follow queue.meta's", async () => {
  await withUmask(0o002, async () => {
    const queue = `${testDir()}/q`;
    await queueOf(queue, 10, 0o600);
    assertModes(queue, 0o600, 0o700);
    // Reopened with no mode: the segments it adds are made like the queue's files.
    await queueOf(queue, 3000);
    assert.ok(modesUnder(queue).has("/0000000001.seg"), "a second segment");
    assertModes(queue, 0o600, 0o700);
  });
});

Deno.test("the umask narrows what spool asks for, and is not fought", async () => {
  await withUmask(0o077, async () => {
    const dir = testDir();
    const tape = await TapeWriter.create(`${dir}/tapes`);
    await tape.finalize();
    await queueOf(`${dir}/q`, 1, 0o660);
    // No wider than asked, with the group's and others' bits taken away by the umask.
    for (const [rel, mode] of modesUnder(dir)) {
      const isDir = Deno.statSync(`${dir}${rel}`).isDirectory;
      assert.equal(mode & ~(isDir ? 0o700 : 0o600), 0, `'${rel}' is ${mode.toString(8)}`);
    }
  });
});

Deno.test("QueueWriter.open refuses a mode that is not a queue file's", async () => {
  const dir = testDir();
  for (const mode of [0o770, 0o440, 0o1660, -1, 0.5]) {
    await assert.rejects(QueueWriter.open(`${dir}/q`, { mode }), RangeError, String(mode));
  }
  assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing created");
});

Deno.test("snapshot files are 0640 in directories 0750, or as mode says", async () => {
  await withUmask(0o002, async () => {
    const book = new OrderBook(1, 2);
    book.setLevel(SIDE.Bid, 100, 5);
    const stamp = { seq: 7, timestampNs: 0n, marketCount: 1, recordCrc: 0 };
    const plain = `${testDir()}/q.snapshots`;
    new SnapshotWriter(new SnapshotStore(plain), { sync: false }).write(book, stamp);
    assertModes(plain, 0o640, 0o750);
    const shared = `${testDir()}/q.snapshots`;
    await new SnapshotWriter(new SnapshotStore(shared), { sync: false, mode: 0o660 })
      .writeInBackground(book, stamp);
    assertModes(shared, 0o660, 0o770);
  });
});

Deno.test("import creates a queue 0640/0750, or 0660/0770 with --mode 0660", async () => {
  await withUmask(0o002, async () => {
    const dir = testDir();
    const input = '{"seq":1,"payload":"a"}\n{"seq":2,"payload":"b"}\n';
    const plain = await runProgram("import", ["--to", `${dir}/plain/q`], { stdin: input });
    assert.equal(plain.code, 0, plain.stderr);
    assertModes(`${dir}/plain`, 0o640, 0o750);
    const shared = await runProgram("import", ["--to", `${dir}/shared/q`, "--mode", "0660"], {
      stdin: input,
    });
    assert.equal(shared.code, 0, shared.stderr);
    assertModes(`${dir}/shared`, 0o660, 0o770);
  });
});

Deno.test("import --mode 0660 into an existing 0600 queue widens nothing there", async () => {
  await withUmask(0o002, async () => {
    const queue = `${testDir()}/q`;
    await queueOf(queue, 2, 0o600);
    const before = modesUnder(queue);
    const result = await runProgram("import", ["--to", queue, "--mode", "0660"], {
      stdin: '{"payload":"more"}\n',
    });
    assert.equal(result.code, 0, result.stderr);
    for (const [rel, mode] of before) assert.equal(modeOf(`${queue}${rel}`), mode, rel);
    assertModes(queue, 0o600, 0o700);
  });
});

Deno.test("import --mode 0660 gives a LOBSTER import's snapshots the same modes", async () => {
  await withUmask(0o002, async () => {
    const dir = testDir();
    const result = await runProgram("import", [
      ...["--to", `${dir}/goog`, "--format", "lobster", "--snapshot-every", "500"],
      ...["--mode", "0660", LOBSTER],
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(modesUnder(`${dir}/goog.snapshots`).size > 0, "snapshots written");
    assertModes(dir, 0o660, 0o770);
  });
});

Deno.test("archive-tap creates an archive 0640/0750; with --mode 0660 it and its snapshots are 0660/0770", async () => {
  await withUmask(0o002, async () => {
    const dir = testDir();
    const live = `${dir}/live`;
    const imported = await runProgram("import", ["--to", live, "--format", "lobster", LOBSTER]);
    assert.equal(imported.code, 0, imported.stderr);
    const plain = await runProgram("archive-tap", [
      ...["--live", live, "--archive", `${dir}/plain/archive`, "--once"],
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assertModes(`${dir}/plain`, 0o640, 0o750);
    const shared = await runProgram("archive-tap", [
      ...["--live", live, "--archive", `${dir}/shared/archive`, "--name", "shared", "--once"],
      ...["--snapshot-every", "500", "--mode", "0660"],
    ]);
    assert.equal(shared.code, 0, shared.stderr);
    assert.ok(modesUnder(`${dir}/shared/archive.snapshots`).size > 0, "snapshots written");
    assertModes(`${dir}/shared`, 0o660, 0o770);
    // The tap's offset on the live queue is a reader's: 0640 whatever --mode says.
    assert.equal(modeOf(`${live}/readers/shared.offset`), 0o640);
  });
});

Deno.test("a bad --mode is a usage error: exit 2, one line naming '--mode'", async () => {
  const dir = testDir();
  for (const mode of ["0777", "0440", "rw-rw----", "1660", "08"]) {
    const imported = await runProgram("import", ["--to", `${dir}/q`, "--mode", mode], {
      stdin: '{"payload":"a"}\n',
    });
    const tapped = await runProgram("archive-tap", [
      "--live",
      `${dir}/live`,
      "--archive",
      `${dir}/archive`,
      "--mode",
      mode,
    ]);
    for (const result of [imported, tapped]) {
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /'--mode <octal>'/);
      assert.match(lines[0]!, new RegExp(`'${mode}'`));
    }
  }
  assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing created");
});
