/**
 * Order books through the real programs, as child processes started from
 * the manifest: `import --format lobster|tardis-book` of committed vendor
 * files, `replay --book|--features` cold and warm (from snapshots, whole,
 * damaged or missing), `archive-tap --snapshot-every` killed while it
 * writes snapshots, `tail --book -f` on a queue a feed process appends to,
 * and the errors of all of them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { QueueWriter } from "../src/chronicle/mod.ts";
import { busQueuePath } from "../src/stream/mod.ts";
import { BookEventEncoder } from "../src/book/book_event_encoder.ts";
import { BOOK_FLAG, SIDE } from "../src/book/book_protocol.ts";
import { decodeSnapshot } from "../src/book/snapshot_file.ts";
import { isSnapshotTempName } from "../src/book/snapshot_store.ts";
import { type ProgramOutput, ROOT, runProgram, spawnProgram, waitFor } from "./_helpers.ts";
import { fixture, Lines, sleep } from "./fixtures/chronicle_common.ts";

const LOBSTER_NAME = "GOOG_2012-06-21_34200000_34630000";
const MESSAGES = `${ROOT}tests/fixtures/lobster/${LOBSTER_NAME}_message_1.csv`;
const ORDERBOOK = `${ROOT}tests/fixtures/lobster/${LOBSTER_NAME}_orderbook_1.csv`;
const TARDIS_BOOK = `${ROOT}tests/fixtures/tardis/book_one.csv`;
const TAPE = `${ROOT}tests/fixtures/replay_session.jsonl`;
/** Midnight of 2012-06-21 in New York (EDT, UTC-4), where LOBSTER times count from. */
const GOOG_MIDNIGHT_NS = BigInt(Date.parse("2012-06-21T04:00:00Z")) * 1_000_000n;

const work = await Deno.makeTempDir({ prefix: "spool-book-programs-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** The output of a run that must succeed. */
function ok(out: ProgramOutput, what: string): ProgramOutput {
  assert.equal(out.code, 0, `${what}: ${out.stderr}`);
  return out;
}

/** A book line's seq and timestamp, read as text: `timestamp_ns` is past 2^53. */
function stamp(line: string): { seq: number; timestampNs: bigint } {
  const m = /^\{"seq":(\d+),"timestamp_ns":(\d+),/.exec(line);
  assert.ok(m, `not a book line: ${line}`);
  return { seq: Number(m[1]), timestampNs: BigInt(m[2]!) };
}

/** A book line parsed, its timestamp kept exact as text. */
function parseBook(line: string): {
  seq: number;
  timestamp_ns: string;
  market: number;
  symbol: string;
  bids: [number, number][];
  asks: [number, number][];
} {
  return JSON.parse(line.replace(/"timestamp_ns":(\d+)/, '"timestamp_ns":"$1"'));
}

/** Copies a directory tree (queues and snapshots, no writer open on them). */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Every file under a snapshot directory: its path, and its seq when it has a snapshot's name. */
function snapshotFiles(dir: string): { path: string; name: string; seq: number | undefined }[] {
  const out: { path: string; name: string; seq: number | undefined }[] = [];
  const walk = (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const e of entries) {
      if (e.isDirectory) walk(`${d}/${e.name}`);
      else {
        const m = /^snapshot_(\d+)\.bin$/.exec(e.name);
        out.push({ path: `${d}/${e.name}`, name: e.name, seq: m ? Number(m[1]) : undefined });
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.path < b.path ? -1 : 1);
}

/** The seqs of the snapshot sets in a directory, ascending. */
function snapshotSeqs(dir: string): number[] {
  const seqs = snapshotFiles(dir).flatMap((f) => f.seq === undefined ? [] : [f.seq]);
  return [...new Set(seqs)].sort((a, b) => a - b);
}

// ------------------------------------------------------------ the excerpt

interface Excerpt {
  /** Queue imported with no snapshots. */
  plain: string;
  /** The same import with `--snapshot-every 500`; its snapshots in `${snap}.snapshots`. */
  snap: string;
  /** `replay <plain> --book --json`: every row, one per batch. */
  full: string[];
  /** What the two imports printed on stderr. */
  importStderr: string[];
}

let excerpt: Promise<Excerpt> | undefined;

/** The committed LOBSTER excerpt imported twice (once taken by the first test that needs it). */
function goog(): Promise<Excerpt> {
  excerpt ??= (async () => {
    const plain = `${work}/goog`;
    const snap = `${work}/goog-snap`;
    const [a, b] = await Promise.all([
      runProgram("import", ["--to", plain, "--format", "lobster", MESSAGES]),
      runProgram("import", [
        ...["--to", snap, "--format", "lobster", MESSAGES, "--snapshot-every", "500"],
      ]),
    ]);
    ok(a, "import");
    ok(b, "import --snapshot-every 500");
    const full = lines(
      ok(await runProgram("replay", [plain, "--book", "--json"]), "replay").stdout,
    );
    return { plain, snap, full, importStderr: [a.stderr, b.stderr] };
  })();
  return excerpt;
}

/** The rows of a full replay from seq `from` on. */
function rowsFrom(full: string[], from: number): string[] {
  return full.filter((l) => stamp(l).seq >= from);
}

Deno.test("import --format lobster, then replay --book --depth 1 --lobster gives back the vendor's orderbook file byte for byte", async () => {
  const { plain, snap, importStderr } = await goog();
  for (const stderr of importStderr) {
    assert.match(lines(stderr)[0]!, /^import: \d+ records into '.*' \(seq 1\.\.\d+\) in /);
    assert.match(lines(stderr)[1]!, /^import: 2000 vendor events at 1 level; /);
  }
  assert.deepEqual(snapshotFiles(`${plain}.snapshots`), [], "no snapshots without the option");
  const want = await Deno.readFile(ORDERBOOK);
  for (const queue of [plain, snap]) {
    const out = ok(
      await runProgram("replay", [queue, "--book", "--depth", "1", "--lobster"]),
      "replay --lobster",
    );
    assert.equal(out.stderr, "");
    assert.deepEqual(new TextEncoder().encode(out.stdout), want);
  }
});

Deno.test("replay --book --final --to-time T is the last row at or before T, warm from a snapshot or cold", async () => {
  const { plain, snap, full } = await goog();
  assert.equal(full.length, 2000, "one row per vendor event");
  const seqs = snapshotSeqs(`${snap}.snapshots`);
  assert.ok(seqs.length >= 3, `snapshots at ${seqs}`);
  // T in the gap after a row, and T exactly on a row's time, each between two snapshots.
  const rowAfter = (seq: number) => {
    const i = full.findIndex((l, i) =>
      i + 1 < full.length && stamp(l).seq > seq &&
      stamp(full[i + 1]!).timestampNs - stamp(l).timestampNs > 1n
    );
    assert.ok(i >= 0);
    return i;
  };
  const mid = rowAfter(seqs[1]! + 100);
  const exact = rowAfter(seqs[0]! + 50);
  const cases = [
    {
      i: mid,
      t: (stamp(full[mid]!).timestampNs + stamp(full[mid + 1]!).timestampNs) / 2n,
      snapshot: seqs[1]!,
    },
    { i: exact, t: stamp(full[exact]!).timestampNs, snapshot: seqs[0]! },
  ];
  for (const { i, t, snapshot } of cases) {
    assert.ok(stamp(full[i]!).timestampNs <= t && t < stamp(full[i + 1]!).timestampNs);
    const args = ["--book", "--final", "--to-time", String(t), "--json"];
    const [warm, cold] = await Promise.all([
      runProgram("replay", [snap, ...args]),
      runProgram("replay", [plain, ...args]),
    ]);
    ok(warm, "warm");
    ok(cold, "cold");
    assert.deepEqual(lines(warm.stdout), [full[i]], `the book at ${t}`);
    assert.equal(cold.stdout, warm.stdout);
    assert.deepEqual(lines(warm.stderr), [
      `replay: warm start from the snapshots at seq ${snapshot} (1 market) in '${snap}.snapshots'; replayed ${
        stamp(full[i]!).seq - snapshot
      } records to seq ${stamp(full[i]!).seq} from seq ${snapshot + 1}`,
    ]);
    assert.deepEqual(lines(cold.stderr), [
      `replay: cold start: no usable snapshot at or before seq ${
        stamp(full[i]!).seq
      } in '${plain}.snapshots'; replayed ${stamp(full[i]!).seq} records to seq ${
        stamp(full[i]!).seq
      }`,
    ]);
  }
});

Deno.test("replay --book --from-seq S warm from each snapshot prints the tail of a cold full replay from S", async () => {
  const { plain, snap, full } = await goog();
  const seqs = snapshotSeqs(`${snap}.snapshots`);
  const runs = seqs.flatMap((s, k) =>
    [s, s + 1, s + 2].map(async (from) => {
      const out = ok(
        await runProgram("replay", [snap, "--book", "--json", "--from-seq", String(from)]),
        `--from-seq ${from}`,
      );
      assert.deepEqual(lines(out.stdout), rowsFrom(full, from), `--from-seq ${from}`);
      // The book after seq from-1 comes from the latest snapshot at or before it.
      const used = from - 1 >= s ? s : seqs[k - 1];
      assert.equal(lines(out.stderr).length, 1, out.stderr);
      assert.match(
        out.stderr,
        used === undefined
          ? /^replay: cold start: no usable snapshot at or before seq /
          : new RegExp(`^replay: warm start from the snapshots at seq ${used} \\(1 market\\)`),
        `--from-seq ${from}`,
      );
    })
  );
  // Cold for real: the same option where there are no snapshots at all.
  const from = seqs[1]! + 1;
  runs.push((async () => {
    const out = ok(
      await runProgram("replay", [plain, "--book", "--json", "--from-seq", String(from)]),
      "cold --from-seq",
    );
    assert.deepEqual(lines(out.stdout), rowsFrom(full, from));
    assert.match(out.stderr, /^replay: cold start: /);
  })());
  await Promise.all(runs);
});

Deno.test("a corrupt or truncated latest snapshot falls back to an earlier one with a warning; the output is unchanged", async () => {
  const { snap, full } = await goog();
  const queue = `${work}/damaged/q`;
  await copyTree(snap, queue);
  await copyTree(`${snap}.snapshots`, `${queue}.snapshots`);
  const seqs = snapshotSeqs(`${queue}.snapshots`);
  const latest = seqs.at(-1)!;
  const earlier = seqs.at(-2)!;
  const path = `${queue}.snapshots/1/1/snapshot_${latest}.bin`;
  const original = await Deno.readFile(path);
  const from = latest + 40;
  const want = rowsFrom(full, from);
  assert.ok(want.length > 10);

  const check = async (damage: string) => {
    const out = ok(
      await runProgram("replay", [queue, "--book", "--json", "--from-seq", String(from)]),
      damage,
    );
    assert.deepEqual(lines(out.stdout), want, damage);
    const err = lines(out.stderr);
    assert.equal(err.length, 2, out.stderr);
    assert.ok(err[0]!.startsWith("replay: "), err[0]);
    assert.ok(err[0]!.includes(`'${path}'`), `${damage}: the warning names the file: ${err[0]}`);
    assert.match(err[0]!, /; using an earlier snapshot$/);
    assert.match(
      err[1]!,
      new RegExp(`^replay: warm start from the snapshots at seq ${earlier} \\(1 market\\)`),
    );
    // The book at a point past the damage, too.
    const final = ok(
      await runProgram("replay", [
        ...[queue, "--book", "--final", "--to-seq", String(stamp(want[3]!).seq), "--json"],
      ]),
      `${damage} --final`,
    );
    assert.deepEqual(lines(final.stdout), [want[3]]);
    assert.match(
      final.stderr,
      /using an earlier snapshot\n.*warm start from the snapshots at seq /,
    );
  };

  const flipped = original.slice();
  flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
  await Deno.writeFile(path, flipped);
  await check("a flipped byte");
  await Deno.writeFile(path, original.subarray(0, original.length - 7));
  await check("a truncated file");
});

// ------------------------------------------------------------ live feeds

/** The book feed of `tests/fixtures/book_feed_child.ts`, started on `dir`. */
function spawnFeed(dir: string, mode: "follow" | "step", maxBurst = 20): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", fixture("book_feed_child.ts"), dir, mode, String(maxBurst)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Ends a feed (its stdin closes) and returns its last seq. */
async function stopFeed(feed: Deno.ChildProcess, out: Lines): Promise<number> {
  await feed.stdin.close().catch(() => {});
  const last = Number((await out.until("last ")).slice(5));
  await out.cancel();
  const { code } = await feed.status;
  const stderr = await new Response(feed.stderr).text();
  assert.equal(code, 0, stderr);
  return last;
}

/** Waits for a spawned program to end and releases its pipes. */
async function finish(child: Deno.ChildProcess, stderr: Lines): Promise<Deno.CommandStatus> {
  await child.stdin.close().catch(() => {});
  const status = await child.status;
  await stderr.rest();
  await child.stdout.cancel().catch(() => {});
  return status;
}

/** Every file named like a snapshot decodes; returns how many temporary files lie beside them. */
async function assertSnapshotsWhole(dir: string): Promise<number> {
  let temps = 0;
  for (const file of snapshotFiles(dir)) {
    if (file.seq === undefined) {
      assert.ok(isSnapshotTempName(file.name), `unexpected file '${file.path}'`);
      temps++;
      continue;
    }
    const bytes = await Deno.readFile(file.path);
    assert.doesNotThrow(() => decodeSnapshot(bytes, file.path), `'${file.path}' decodes`);
  }
  return temps;
}

Deno.test("archive-tap --snapshot-every, SIGKILLed while it writes snapshots, leaves only whole ones, resumes them, and warm starts agree with cold", async () => {
  const bus = `${work}/bus`;
  const live = busQueuePath(bus, "live", "book");
  const archive = `${bus}/archive/book`;
  const snapshots = `${archive}/snapshots`;
  const feed = spawnFeed(live, "follow");
  const feedOut = new Lines(feed.stdout);
  await feedOut.until("open");
  const args = [
    ...["--live", `${bus}/live/book`, "--archive", archive],
    ...["--snapshot-every", "200", "--segment-bytes", "65536"],
  ];
  let temps = 0;
  let last: number;
  const rounds: string[] = [];
  try {
    for (let round = 0; round < 6; round++) {
      const before = snapshotSeqs(snapshots).at(-1) ?? 0;
      const child = spawnProgram("archive-tap", args);
      const stderr = new Lines(child.stderr);
      let newest = 0;
      try {
        await stderr.until("archive-tap: opened live queue");
        // Resumed: new snapshots appear past the ones the killed run left.
        newest = await waitFor(`a snapshot past seq ${before} in round ${round}`, () => {
          const seq = snapshotSeqs(snapshots).at(-1) ?? 0;
          return seq > before ? seq : undefined;
        });
        // It writes a set every 200 events: a kill soon lands in or near one.
        await sleep([0, 3, 17, 40, 90, 150][round]!);
      } finally {
        child.kill("SIGKILL");
        const status = await finish(child, stderr);
        assert.equal(status.signal, "SIGKILL", stderr.seen.join("\n"));
      }
      if (round > 0) {
        assert.ok(
          stderr.seen.some((l) => /^archive-tap: snapshots: (warm|cold) start\b/.test(l)),
          `round ${round} rebuilt its books first: ${stderr.seen.join("\n")}`,
        );
      }
      temps += await assertSnapshotsWhole(snapshots);
      rounds.push(`${before}->${newest}`);
    }
  } finally {
    last = await stopFeed(feed, feedOut);
  }
  const once = ok(await runProgram("archive-tap", [...args, "--once"]), "archive-tap --once");
  assert.match(lines(once.stderr).at(-1)!, new RegExp(`archive '.*' ends at seq ${last}$`));
  temps += await assertSnapshotsWhole(snapshots);
  // Both markets have had events since the feed's first batches, so a whole set has a file
  // of each; a kill between the two files of a set leaves it incomplete.
  const files = snapshotFiles(snapshots).filter((f) => f.seq !== undefined);
  const complete = snapshotSeqs(snapshots).filter((seq) =>
    [1, 2].every((market) =>
      files.some((f) => f.path === `${snapshots}/1/${market}/snapshot_${seq}.bin`)
    )
  );
  const incomplete = snapshotSeqs(snapshots).length - complete.length;
  assert.ok(complete.length >= 3, `whole snapshot sets at ${complete}`);

  const target = ["--book", "--final", "--to-seq", String(last), "--json", "--depth", "10"];
  const warm = ok(await runProgram("replay", [archive, ...target]), "warm");
  assert.match(
    lines(warm.stderr).at(-1)!,
    new RegExp(`^replay: warm start from the snapshots at seq ${complete.at(-1)} \\(2 markets\\)`),
  );
  const whole = ok(
    await runProgram("replay", [archive, "--book", "--final", "--json", "--depth", "10"]),
    "final with no target",
  );
  await Deno.rename(snapshots, `${bus}/snapshots-away`);
  const cold = ok(await runProgram("replay", [archive, ...target]), "cold");
  assert.match(cold.stderr, /^replay: cold start: /);
  assert.equal(lines(warm.stdout).length, 2, "a line per market");
  assert.equal(warm.stdout, cold.stdout);
  assert.equal(warm.stdout, whole.stdout);
  console.log(
    `snapshots per round ${
      rounds.join(" ")
    }; ${temps} temporary files and ${incomplete} incomplete sets seen`,
  );
});

Deno.test("tail --book -f --json shows the book live as a feed appends, and exits 0 on SIGTERM", async () => {
  const queue = `${work}/tail-q`;
  const feed = spawnFeed(queue, "step");
  const feedOut = new Lines(feed.stdout);
  const feedIn = feed.stdin.getWriter();
  const step = async (batches: number) => {
    await feedIn.write(new TextEncoder().encode(`${batches}\n`));
    const [, seq, side, price, size] = (await feedOut.until("at ")).split(" ");
    return {
      seq: Number(seq),
      side: side as "bid" | "ask",
      price: Number(price),
      size: Number(size),
    };
  };
  await feedOut.until("open");
  const first = await step(10);
  const tail = spawnProgram("tail", [queue, "--book", "-f", "--json", "--depth", "10"]);
  // A tail that never shows a line fails the test instead of stalling it.
  const guard = setTimeout(() => tail.kill("SIGKILL"), 20_000);
  const out = new Lines(tail.stdout);
  const shown: string[] = [];
  /** Reads the tail's lines up to the one for `seq`, and checks the level set there. */
  const upTo = async (at: Awaited<ReturnType<typeof step>>) => {
    for (;;) {
      const line = await out.next();
      assert.ok(line !== undefined, `tail ended before seq ${at.seq}`);
      shown.push(line);
      if (stamp(line).seq < at.seq) continue;
      assert.equal(stamp(line).seq, at.seq, line);
      const book = parseBook(line);
      assert.equal(book.symbol, "AAA");
      const levels = at.side === "bid" ? book.bids : book.asks;
      assert.deepEqual(levels.find(([p]) => p === at.price / 100), [at.price / 100, at.size], line);
      return;
    }
  };
  let status: Deno.CommandStatus;
  let last: number;
  try {
    await upTo(first);
    // Appended after tail printed the book above: it can only see these live.
    await upTo(await step(25));
    await upTo(await step(0));
    await upTo(await step(5));
  } finally {
    tail.kill("SIGTERM");
    status = await tail.status;
    clearTimeout(guard);
    await out.cancel();
    await feedIn.close().catch(() => {});
    last = await stopFeed(feed, feedOut);
  }
  const stderr = await new Response(tail.stderr).text();
  assert.equal(status.code, 0, stderr);
  // It starts at the end: the book as it stands (rebuilt from the start here, no snapshot
  // being there), then each change.
  assert.match(
    stderr,
    new RegExp(
      `^tail: cold start: no usable snapshot at or before seq ${first.seq} in '[^']+'; replayed ${first.seq} records to seq ${first.seq}\n$`,
    ),
  );
  assert.equal(stamp(shown[0]!).seq, first.seq, "the first line is the book as it stood");
  assert.equal(stamp(shown.at(-1)!).seq, last, "the last line is the book after the last event");
  const replay = ok(
    await runProgram("replay", [queue, "--book", "--json", "--depth", "10"]),
    "replay",
  );
  // The opening lines are every market's book as it stood, stamped with the last event read;
  // after them, the same rows as replay's.
  const rows = lines(replay.stdout);
  const opening = shown.filter((line) => stamp(line).seq === first.seq);
  assert.equal(opening.length, 2, "one opening line per market");
  const unstamped = (line: string) => line.replace(/^\{"seq":\d+,"timestamp_ns":\d+,/, "{");
  for (const line of opening) {
    const symbol = parseBook(line).symbol;
    const before = rows.filter((r) => stamp(r).seq <= first.seq && parseBook(r).symbol === symbol);
    assert.equal(unstamped(line), unstamped(before.at(-1)!), `the opening book of ${symbol}`);
  }
  const live = shown.slice(opening.length);
  assert.deepEqual(rows.slice(-live.length), live, "the same rows as replay");
});

Deno.test("replay --features mid,spread,trades --every 60s: a row per minute with batches, values as the vendor's files say; --json the same", async () => {
  const { plain, full } = await goog();
  // By hand from the two files: the minute of each event, its quote after it, and its trades
  // (LOBSTER types 4, 5 and 6: executions, visible and hidden, and cross trades).
  const messages = lines(await Deno.readTextFile(MESSAGES)).map((l) => l.split(","));
  const quotes = lines(await Deno.readTextFile(ORDERBOOK)).map((l) => l.split(",").map(Number));
  const minutes = new Map<number, { trades: number; ask: number; bid: number; row: number }>();
  messages.forEach(([time, type], row) => {
    const minute = Math.floor(Number(time) / 60);
    const m = minutes.get(minute) ?? { trades: 0, ask: 0, bid: 0, row: 0 };
    if (type === "4" || type === "5" || type === "6") m.trades++;
    const [ask, , bid] = quotes[row]!;
    minutes.set(minute, { ...m, ask: ask!, bid: bid!, row });
  });
  assert.equal(minutes.size, 8, "the excerpt spans 09:30 to 09:37");
  /** A whole number of 10^-digits as a decimal. */
  const decimal = (n: number, digits: number) => {
    const text = String(n).padStart(digits + 1, "0");
    return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  };
  const want = [
    "seq,timestamp_ns,venue,market,symbol,mid,spread,trades",
    ...[...minutes].map(([minute, m]) =>
      [
        stamp(full[m.row]!).seq, // one row per vendor event: the minute's last batch
        GOOG_MIDNIGHT_NS + BigInt(minute + 1) * 60_000_000_000n,
        1,
        1,
        "GOOG",
        decimal((m.ask + m.bid) * 5, 5),
        decimal(m.ask - m.bid, 4),
        m.trades,
      ].join(",")
    ),
  ];
  const args = ["--features", "mid,spread,trades", "--every", "60s"];
  const [csv, json] = await Promise.all([
    runProgram("replay", [plain, ...args]),
    runProgram("replay", [plain, ...args, "--json"]),
  ]);
  assert.deepEqual(lines(ok(csv, "csv").stdout), want);
  assert.equal(csv.stderr, "");
  const names = want[0]!.split(",");
  assert.deepEqual(
    lines(ok(json, "json").stdout),
    want.slice(1).map((row) =>
      `{${
        row.split(",").map((v, i) => `"${names[i]}":${names[i] === "symbol" ? `"${v}"` : v}`)
          .join(",")
      }}`
    ),
  );
});

// ------------------------------------------------------------ errors

/** A queue of two markets' books, written here. */
async function twoMarkets(dir: string): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 1 << 16 });
  const enc = new BookEventEncoder();
  enc.header.flags = BOOK_FLAG.BatchEnd;
  enc.header.venue = 1;
  // The type id is read after encoding: the encoder sets it for the event it encodes.
  const append = (bytes: Uint8Array) => w.append(enc.typeId, bytes, enc.header.exchangeNs);
  for (const [market, symbol] of [[1, "AAA"], [2, "BBB"]] as const) {
    enc.header.market = market;
    enc.header.exchangeNs = BigInt(market) * 1000n;
    append(enc.instrument(symbol, 2, 0));
    append(enc.level(SIDE.Bid, 9_990 + market, 7));
  }
  w.close();
}

Deno.test("usage and input errors: one line on stderr, no stack trace, exit 2 for usage and 1 for input", async () => {
  const { plain } = await goog();
  const dir = `${work}/errors`;
  await Deno.mkdir(dir);
  // A message file whose name says nothing, with its orderbook file named.
  await Deno.copyFile(MESSAGES, `${dir}/messages.csv`);
  // A LOBSTER file with a bad row (line 1500), under the vendor's name.
  const bad = `${dir}/${LOBSTER_NAME}_message_1.csv`;
  const rows = lines(await Deno.readTextFile(MESSAGES));
  await Deno.writeTextFile(
    bad,
    rows.map((r, i) => i === 1499 ? "34500.1,4,abc,100,5800000,1" : r).join("\n") + "\n",
  );
  await Deno.copyFile(ORDERBOOK, `${dir}/${LOBSTER_NAME}_orderbook_1.csv`);
  const tardis = lines(await Deno.readTextFile(TARDIS_BOOK));
  tardis[7] = tardis[7]!.split(",").map((v, i) => i === 6 ? "notaprice" : v).join(",");
  await Deno.writeTextFile(`${dir}/tardis.csv`, tardis.join("\n") + "\n");
  await twoMarkets(`${dir}/two`);

  const cases: [string, string[], number, RegExp][] = [
    ["replay", [plain, "--lobster"], 2, /^replay: Option '--lobster' applies to '--book'$/],
    [
      "replay",
      [plain, "--features", "bogus"],
      2,
      /^replay: Option '--features <list>' argument 'bogus' is invalid: unknown feature 'bogus'; valid features: mid, /,
    ],
    [
      "replay",
      [TAPE, "--book"],
      2,
      /^replay: Option '--book' reads book events from queues and merges, not a tape$/,
    ],
    [
      "tail",
      [TAPE, "--book"],
      2,
      /^tail: Option '--book' reads book events from a queue, not a tape$/,
    ],
    [
      "import",
      ["--to", `${dir}/q1`, "--format", "lobster", `${dir}/messages.csv`, "--orderbook", ORDERBOOK],
      2,
      /^import: '.*\/messages\.csv' is not named TICKER_DATE_START_END_message_N\.csv: give the symbol \('--symbol'\), the date \('--date'\)$/,
    ],
    [
      "import",
      ["--to", `${dir}/q2`, "--format", "lobster", bad],
      1,
      new RegExp(
        `^import: '${bad}' line 1500: .*'abc'.*; 1\\d{3} records were imported into '.*q2' \\(seq 1\\.\\.\\d+\\): fix the input and re-run with '--from-line 1500' to resume$`,
      ),
    ],
    [
      "import",
      ["--to", `${dir}/q3`, "--format", "tardis-book", `${dir}/tardis.csv`],
      1,
      /^import: '.*\/tardis\.csv' line 8: Price 'notaprice' is not a decimal number; 6 records were imported into /,
    ],
    [
      "import",
      ["--to", `${dir}/q4`, "--format", "tardis-book", TARDIS_BOOK, "--symbol", "BTCUSDT"],
      2,
      /^import: Option '--symbol' applies to '--format lobster'$/,
    ],
    [
      "replay",
      [`${dir}/two`, "--book", "--lobster"],
      1,
      /^replay: The stream holds several markets: choose one with '--market <symbol>' for LOBSTER rows$/,
    ],
  ];
  await Promise.all(cases.map(async ([program, args, code, text]) => {
    const out = await runProgram(program, args);
    const what = `${program} ${args.join(" ")}`;
    assert.equal(out.code, code, `${what}: ${out.stderr}`);
    assert.equal(lines(out.stderr).length, 1, `${what}: ${out.stderr}`);
    assert.doesNotMatch(out.stderr, /^\s+at /m, `${what}: a stack trace`);
    assert.match(out.stderr.trimEnd(), text, what);
  }));

  // The bad row's advice works: the fixed file from that line completes the import.
  await Deno.copyFile(MESSAGES, bad);
  ok(
    await runProgram("import", [
      ...["--to", `${dir}/q2`, "--format", "lobster", bad, "--from-line", "1500"],
    ]),
    "resume",
  );
  const [resumed, chosen] = await Promise.all([
    runProgram("replay", [`${dir}/q2`, "--book", "--depth", "1", "--lobster"]),
    runProgram("replay", [`${dir}/two`, "--book", "--lobster", "--depth", "1", "--market", "BBB"]),
  ]);
  assert.equal(ok(resumed, "resumed replay").stdout, await Deno.readTextFile(ORDERBOOK));
  // With a market chosen, the rows are that market's only.
  assert.deepEqual(lines(ok(chosen, "--market BBB").stdout), [
    "9999999999,0,-9999999999,0",
    "9999999999,0,9992,7",
  ]);
});

Deno.test({
  name:
    "a bad Tardis row names the '--from-line N' that resumes it, and that resume completes the import",
  async fn() {
    const dir = `${work}/tardis-resume`;
    await Deno.mkdir(dir);
    const rows = lines(await Deno.readTextFile(TARDIS_BOOK));
    const bad = rows.map((r, i) => i === 7 ? r.replace(/,bid,[^,]*,/, ",bid,x,") : r);
    await Deno.writeTextFile(`${dir}/book.csv`, bad.join("\n") + "\n");
    const args = ["--to", `${dir}/q`, "--format", "tardis-book", `${dir}/book.csv`];
    const stopped = await runProgram("import", args);
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /line 8: .*re-run with '--from-line 8' to resume\n$/);
    await Deno.copyFile(TARDIS_BOOK, `${dir}/book.csv`);
    ok(await runProgram("import", [...args, "--from-line", "8"]), "resume");
    const [resumed, whole] = await Promise.all([
      runProgram("replay", [`${dir}/q`, "--book", "--json"]),
      runProgram("import", ["--to", `${dir}/whole`, "--format", "tardis-book", TARDIS_BOOK])
        .then(() => runProgram("replay", [`${dir}/whole`, "--book", "--json"])),
    ]);
    assert.equal(ok(resumed, "resumed").stdout, ok(whole, "whole").stdout);
  },
});

Deno.test("import --format tardis-book of a .csv.gz, then replay --book --json shows the books the file describes", async () => {
  const queue = `${work}/tardis`;
  const imported = ok(
    await runProgram("import", ["--to", queue, "--format", "tardis-book", `${TARDIS_BOOK}.gz`]),
    "import",
  );
  assert.match(
    imported.stderr,
    /^import: 13 records into '.*' \(seq 1\.\.13\) in [\d.]+ s\nimport: events: 1 instrument, 2 clear, 10 level; 2 rows before the first snapshot skipped\n$/,
  );
  const out = ok(await runProgram("replay", [queue, "--book", "--json"]), "replay");
  const books = lines(out.stdout).map(parseBook);
  // By hand from book_one.csv: rows 1-2 come before the first snapshot; each local_timestamp is a batch.
  assert.deepEqual(books.map((b) => [b.seq, b.timestamp_ns]), [
    [1, "1585699200000000000"], // the instrument, before any level
    [6, "1585699200000000000"], // the snapshot: a clear and four levels
    [8, "1585699200100000000"],
    [9, "1585699200200000000"],
    [12, "1585699200300000000"], // a new snapshot clears the book
    [13, "1585699200400000000"],
  ]);
  assert.ok(books.every((b) => b.symbol === "BTCUSDT" && b.market === 1));
  assert.deepEqual(books[1]!.bids, [[6400.1, 1.5], [6399, 10]]);
  assert.deepEqual(books[1]!.asks, [[6401.75, 2.25], [6402.5, 0.003]]);
  // 6400.1 goes (amount 0) and 6400.5 comes in one batch; then 6401.75 grows to 3.
  assert.deepEqual(books[2]!.bids, [[6400.5, 0.7], [6399, 10]]);
  assert.deepEqual(books[3]!.asks, [[6401.75, 3], [6402.5, 0.003]]);
  assert.deepEqual([books[5]!.bids, books[5]!.asks], [[[6390, 4]], [[6395.25, 6]]]);
  // Prices with the inferred decimals (2 for prices, 3 for sizes), exactly as text.
  assert.ok(lines(out.stdout)[5]!.endsWith(`"bids":[[6390.00,4.000]],"asks":[[6395.25,6.000]]}`));
});

Deno.test("archive-tap --snapshot-every copies on past a record that is not a valid book event, and says snapshots stopped", async () => {
  const live = `${work}/bad-event-live`;
  const archive = `${work}/bad-event-archive`;
  const w = await QueueWriter.open(live, { segmentBytes: 1 << 20 });
  const enc = new BookEventEncoder();
  enc.header.flags = BOOK_FLAG.BatchEnd;
  enc.header.venue = 1;
  enc.header.market = 1;
  for (let i = 0; i < 5; i++) {
    const bytes = enc.level(SIDE.Bid, 100 + i, 10);
    w.append(enc.typeId, bytes, BigInt(i + 1));
  }
  // Another producer's traffic under a book type id: 3 bytes, no book event.
  w.append(0x4205, new Uint8Array([1, 2, 3]), 6n);
  for (let i = 0; i < 5; i++) {
    const bytes = enc.level(SIDE.Ask, 200 + i, 10);
    w.append(enc.typeId, bytes, BigInt(i + 7));
  }
  w.close();
  const tap = (): Promise<ProgramOutput> =>
    runProgram("archive-tap", [
      "--live",
      live,
      "--archive",
      archive,
      "--once",
      "--snapshot-every",
      "2",
    ]);
  const first = await tap();
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stderr,
    /^archive-tap: snapshots stopped, archiving goes on: Book event is 3 bytes, shorter than its header at seq 6 in archive '[^']+'$/m,
  );
  const copied = ok(await runProgram("replay", [archive, "--json"]), "replay");
  assert.equal(lines(copied.stdout).length, 11, "every record copied, the bad one included");
  // Snapshots were taken before the bad record, and none after it.
  const seqs = snapshotFiles(`${archive}.snapshots`).map((f) => f.seq);
  assert.ok(seqs.length > 0 && seqs.every((s) => s !== undefined && s < 6), `${seqs}`);
  // A restart reads the archive's books again and meets the same record: it still copies.
  const second = await tap();
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /snapshots stopped, archiving goes on: .* at seq 6/);
});

Deno.test("archive-tap --archive Q --snapshot-every, without --live, builds snapshots for an existing archive, goes on from them when run again, and a warm start uses them", async () => {
  const queue = `${work}/build-snapshots`;
  ok(
    await runProgram("import", ["--to", queue, "--format", "lobster", "--no-progress", MESSAGES]),
    "import",
  );
  const build = () => runProgram("archive-tap", ["--archive", queue, "--snapshot-every", "700"]);
  const first = ok(await build(), "build");
  assert.equal(first.stdout, "");
  assert.match(first.stderr, /^archive-tap: 3 snapshot sets written, reading seqs 1\.\.2292 of/m);
  assert.deepEqual(
    snapshotFiles(`${queue}.snapshots`).map((f) => f.seq).sort((a, b) => a! - b!),
    [700, 1400, 2101],
  );
  const again = ok(await build(), "again");
  assert.match(again.stderr, /warm start from the snapshots at seq 2101/);
  assert.match(
    again.stderr,
    /^archive-tap: 0 snapshot sets written, reading seqs 2102\.\.2292 of/m,
  );
  const warm = ok(
    await runProgram("replay", [queue, "--book", "--from-seq", "1401", "--to-seq", "1401"]),
    "warm",
  );
  assert.match(warm.stderr, /warm start from the snapshots at seq 1400 /);
  const misplaced = await runProgram("archive-tap", [
    "--archive",
    queue,
    "--snapshot-every",
    "700",
    "--once",
  ]);
  assert.equal(misplaced.code, 2);
  assert.equal(
    misplaced.stderr,
    "archive-tap: Option '--once' copies from '--live'; building snapshots takes none\n",
  );
});

Deno.test("replay --book --market naming no market of the stream is one line naming those there, exit 1", async () => {
  const { plain } = await goog();
  const out = await runProgram("replay", [plain, "--book", "--market", "GOOGL", "--final"]);
  assert.equal(out.code, 1);
  assert.equal(out.stdout, "");
  assert.equal(out.stderr, "replay: No market 'GOOGL' in the stream: it holds 'GOOG' (1:1)\n");
});
