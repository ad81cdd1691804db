/**
 * Sealed stores through the real programs, as child processes on real
 * files: `keygen` and its key files (checked against `age-keygen` when it is
 * installed), `archive-tap` sealing into a directory and a SQLite file,
 * `replay` and `tail` opening them (and refusing a wrong or missing
 * identity, or a tampered segment), `import` in both directions, and
 * `archive-tap` SIGKILLed 50 times while the live queue grows, after which
 * the store equals the live queue and no (key, nonce) pair was used twice.
 */

import assert from "node:assert/strict";
import {
  canMountTmpfs,
  type ProgramOutput,
  runProgram,
  spawnProgram,
  testDirMaker,
  waitFor,
  withTmpfs,
} from "./_helpers.ts";
import { seededRandom } from "./_seeded_random.ts";
import { Lines, readRecords, sleep, type StoredRecord } from "./fixtures/chronicle_common.ts";
import { QueueWriter, ReaderOffset } from "../src/chronicle/mod.ts";
import {
  IDENTITY_ENV,
  parseRecipient,
  readIdentityFile,
  SealedStream,
  SealedWriter,
} from "../src/sealed/mod.ts";
import { openSealedSource } from "../src/sealed/sealed_sink.ts";
import { openRunHeader } from "../src/sealed/run_header.ts";
import { decodeSegmentHeader, segmentNonce } from "../src/sealed/segment_header.ts";
import { crc32c } from "../src/sealed/crc32c.ts";
import { SEGMENT_HEADER_BYTES } from "../src/sealed/sealed_format.ts";
import type { WalkedUnit } from "../src/sealed/store_scan.ts";

// The programs inherit this process's environment: an identity set where
// the tests run would hide what they check about a missing one.
Deno.env.delete(IDENTITY_ENV);

/** A fresh directory for one test. */
const testDir = await testDirMaker("spool-sealed-programs-test-");

const ageKeygenInstalled = await new Deno.Command("age-keygen", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then(() => true, () => false);

/** A key pair made by `keygen -o`: the identity file and its recipient. */
interface Key {
  file: string;
  recipient: string;
}

async function keygen(file: string): Promise<Key> {
  const out = await runProgram("keygen", ["-o", file]);
  assert.equal(out.code, 0, out.stderr);
  const recipient = /^keygen: public key: (age1\S+)\n$/.exec(out.stderr)?.[1];
  assert.ok(recipient !== undefined, `keygen tells the recipient: ${out.stderr}`);
  return { file, recipient };
}

/** Bytes of record `seq`'s payload, `size` of them, that no other seq shares. */
function payloadOf(seq: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (seq * 131 + i * 7) & 255;
  return out;
}

/**
 * Appends `count` records of varied sizes (mostly small, some of tens of
 * KiB, bytes that are not UTF-8 among them), each stamped from its seq.
 */
function appendVaried(w: QueueWriter, count: number, rand: () => number): void {
  for (let i = 0; i < count; i++) {
    const seq = w.lastSeq + 1;
    const r = rand();
    const size = r < 0.7
      ? 1 + Math.floor(rand() * 200)
      : r < 0.95
      ? 200 + Math.floor(rand() * 8000)
      : 8000 + Math.floor(rand() * 100_000);
    w.append(
      seq % 1000,
      payloadOf(seq, size),
      BigInt(seq) * 1_000_003n + 1_700_000_000_000_000_000n,
    );
  }
}

/** A live queue holding `count` records of varied sizes, closed. */
async function liveQueue(dir: string, count: number, seed: number): Promise<void> {
  const w = await QueueWriter.open(dir, { segmentBytes: 256 * 1024 });
  appendVaried(w, count, seededRandom(seed));
  w.close();
}

/** The one line of stderr a program that failed with `code` printed; no stack trace. */
function oneLine(out: ProgramOutput, code: number): string {
  assert.equal(out.code, code, `exit status; stderr: ${out.stderr}`);
  const lines = out.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one line on stderr: ${out.stderr}`);
  assert.doesNotMatch(out.stderr, /^\s+at /m);
  return lines[0]!;
}

/** What `replay --json` prints for `source`, which must succeed. */
async function replayJson(source: string, ...extra: string[]): Promise<string> {
  const out = await runProgram("replay", [source, "--json", ...extra]);
  assert.equal(out.code, 0, `replay ${source}: ${out.stderr}`);
  return out.stdout;
}

async function tap(live: string, archive: string, ...extra: string[]): Promise<ProgramOutput> {
  const out = await runProgram("archive-tap", ["--live", live, "--archive", archive, ...extra]);
  assert.equal(out.code, 0, out.stderr);
  return out;
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o777;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Every unit of the file store in `dir`, walked (and checked) without a key; none when there is no store. */
async function storeUnits(
  dir: string,
): Promise<{ units: WalkedUnit[]; tornAt: number | undefined }> {
  // A tap killed before it opened its store left none.
  if (!exists(`${dir}/stream.sealed`)) return { units: [], tornAt: undefined };
  const source = await openSealedSource({ kind: "file", dir });
  try {
    const units: WalkedUnit[] = [];
    for (let u = source.walker.next(); u !== undefined; u = source.walker.next()) units.push(u);
    return { units, tornAt: source.walker.tornAt };
  } finally {
    source.close();
  }
}

/** The store's records opened with `identityFile`, in order, copied. */
async function openedRecords(dir: string, identityFile: string): Promise<StoredRecord[]> {
  const stream = await SealedStream.open({ kind: "file", dir }, {
    identities: await readIdentityFile(identityFile),
    identitySource: identityFile,
    workers: 0,
  });
  const out: StoredRecord[] = [];
  try {
    for await (const m of stream) {
      out.push({
        seq: m.seq,
        typeId: m.typeId,
        timestampNs: m.timestampNs,
        payload: m.payload.slice(),
      });
    }
  } finally {
    stream.close();
  }
  return out;
}

/** `got` holds exactly `want`'s records: seqs, type ids, timestamps and payloads. */
function assertSameRecords(got: StoredRecord[], want: StoredRecord[], what: string): void {
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (
      a.seq !== b.seq || a.typeId !== b.typeId || a.timestampNs !== b.timestampNs ||
      a.payload.length !== b.payload.length || !a.payload.every((x, j) => x === b.payload[j])
    ) {
      assert.fail(
        `${what}: record ${i} is seq ${a.seq} type ${a.typeId} at ${a.timestampNs} (${a.payload.length} B), ` +
          `expected seq ${b.seq} type ${b.typeId} at ${b.timestampNs} (${b.payload.length} B)`,
      );
    }
  }
  assert.equal(got.length, want.length, `${what}: as many records`);
}

/** What the tap's reader has committed on the live queue. */
function committed(live: string): number | undefined {
  return ReaderOffset.list(live).find((r) => r.name === "archive-tap")?.committedSeq;
}

/** Sends `signal` to a child that may have ended already. */
function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

/** Waits for a spawned program to end and releases its pipes. */
async function finish(child: Deno.ChildProcess, ...lines: Lines[]): Promise<Deno.CommandStatus> {
  await child.stdin.close().catch(() => {});
  // A program that does not end fails the test instead of stalling it.
  const guard = setTimeout(() => kill(child, "SIGKILL"), 20_000);
  const status = await child.status;
  clearTimeout(guard);
  for (const l of lines) await l.rest();
  return status;
}

// 1. keygen

Deno.test("keygen -o writes age-keygen's format 0600 and never overwrites; -y prints the recipient", async () => {
  const dir = await testDir();
  const file = `${dir}/reader.key`;
  const { recipient } = await keygen(file);
  assert.equal(mode(file), 0o600);
  const text = Deno.readTextFileSync(file);
  assert.match(
    text,
    /^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# public key: age1[02-9ac-hj-np-z]{58}\nAGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}\n$/,
  );
  assert.equal(text.split("\n")[1], `# public key: ${recipient}`);

  const again = await runProgram("keygen", ["-o", file]);
  const refused = oneLine(again, 2);
  assert.ok(refused.includes(`'${file}'`), refused);
  assert.equal(again.stdout, "");
  assert.equal(Deno.readTextFileSync(file), text, "the key is left as it was");

  const y = await runProgram("keygen", ["-y", file]);
  assert.equal(y.code, 0, y.stderr);
  assert.equal(y.stdout, `${recipient}\n`);

  // Two keys are two keys.
  const other = await keygen(`${dir}/other.key`);
  assert.notEqual(other.recipient, recipient);
});

Deno.test({
  name: "age-keygen -y reads keygen's file as keygen -y does, and keygen -y reads age-keygen's",
  ignore: !ageKeygenInstalled,
  fn: async () => {
    const dir = await testDir();
    const ours = await keygen(`${dir}/ours.key`);
    const age = await new Deno.Command("age-keygen", { args: ["-y", ours.file] }).output();
    assert.ok(age.success, new TextDecoder().decode(age.stderr));
    assert.equal(new TextDecoder().decode(age.stdout), `${ours.recipient}\n`);

    const made = await new Deno.Command("age-keygen", { args: ["-o", `${dir}/age.key`] }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const told = /age1\S+/.exec(new TextDecoder().decode(made.stderr))?.[0];
    const y = await runProgram("keygen", ["-y", `${dir}/age.key`]);
    assert.equal(y.code, 0, y.stderr);
    assert.equal(y.stdout, `${told}\n`);
  },
});

// 2. archive-tap writing sealed stores

Deno.test("archive-tap --once into sealed:DIR: 0600 files in a 0700 directory, replay equals the live queue, a second run appends a run", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const store = `${dir}/archive/quotes`;
  const key = await keygen(`${dir}/reader.key`);
  await liveQueue(live, 300, 1);
  const first = await tap(live, `sealed:${store}`, "--recipient", key.recipient, "--once");
  assert.match(first.stderr, /copied 300 records \(seqs 1\.\.300\)/);
  assert.equal(mode(`${dir}/archive`), 0o700);
  assert.equal(mode(store), 0o700);
  assert.deepEqual(
    [...Deno.readDirSync(store)].map((e) => [e.name, mode(`${store}/${e.name}`)]).sort(),
    [["stream.sealed", 0o600], ["writer.lock", 0o600]],
  );
  assert.equal(await replayJson(`sealed:${store}`, "--identity", key.file), await replayJson(live));
  // No payload is in clear: the start of the largest is nowhere in the file.
  const largest = (await readRecords(live)).reduce((a, b) =>
    b.payload.length > a.payload.length ? b : a
  );
  const sealedText = Deno.readFileSync(`${store}/stream.sealed`).join(",");
  assert.ok(!sealedText.includes(largest.payload.subarray(0, 32).join(",")), "a payload in clear");

  const w = await QueueWriter.open(live);
  appendVaried(w, 120, seededRandom(2));
  w.close();
  const second = await tap(live, `sealed:${store}`, "--recipient", key.recipient, "--once");
  assert.match(second.stderr, /opened sealed archive '.*' ending at seq 300\n/);
  assert.match(second.stderr, /copied 120 records \(seqs 301\.\.420\)/);
  const replayed = await replayJson(store, "--identity", key.file);
  assert.equal(replayed, await replayJson(live));
  assert.deepEqual(
    replayed.trimEnd().split("\n").map((l) => JSON.parse(l).seq),
    Array.from({ length: 420 }, (_, i) => i + 1),
  );
  const { units } = await storeUnits(store);
  const runs = units.flatMap((u) => u.kind === "run" ? [u.header] : []);
  assert.deepEqual(runs.map((h) => `run ${h.run} cut ${h.prevCut} of ${h.stream}`), [
    "run 0 cut false of live",
    "run 1 cut false of live",
  ]);
  const last = units.findLast((u) => u.kind === "segment");
  assert.ok(
    last?.kind === "segment" && last.header.final,
    "the second run ends with its final segment",
  );
});

Deno.test("archive-tap --once into sqlite:FILE#stream with --recipients-file: replay of FILE and FILE#stream equals the live queue", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const db = `${dir}/db/feeds.db`;
  const key = await keygen(`${dir}/reader.key`);
  const escrow = await keygen(`${dir}/escrow.key`);
  await Deno.writeTextFile(
    `${dir}/recipients.txt`,
    `# operators\n${key.recipient}\n\n# escrow\n${escrow.recipient}\n`,
  );
  await liveQueue(live, 250, 3);
  await tap(live, `sqlite:${db}#quotes`, "--recipients-file", `${dir}/recipients.txt`, "--once");
  assert.equal(mode(`${dir}/db`), 0o700);
  for (const name of Deno.readDirSync(`${dir}/db`)) {
    assert.equal(mode(`${dir}/db/${name.name}`), 0o600, name.name);
  }
  const want = await replayJson(live);
  assert.equal(await replayJson(`sqlite:${db}`, "--identity", key.file), want);
  assert.equal(await replayJson(`sqlite:${db}#quotes`, "--identity", escrow.file), want);

  const w = await QueueWriter.open(live);
  appendVaried(w, 40, seededRandom(4));
  w.close();
  const second = await tap(live, `sqlite:${db}#quotes`, "--recipient", key.recipient, "--once");
  assert.match(second.stderr, /copied 40 records \(seqs 251\.\.290\)/);
  assert.equal(
    await replayJson(`sqlite:${db}#quotes`, "--identity", key.file),
    await replayJson(live),
  );
  // The second run was sealed for the operator only.
  const escrowRead = await runProgram("replay", [
    `sqlite:${db}#quotes`,
    "--json",
    "--identity",
    escrow.file,
  ]);
  const escrowLine = oneLine(escrowRead, 1);
  assert.ok(
    escrowLine.includes(`No identity in '${escrow.file}' opens run 1 of '${db}#quotes'`),
    escrowLine,
  );
  assert.equal(escrowRead.stdout, want, "the first run is delivered before the run it cannot open");
});

Deno.test("archive-tap refuses a sealed archive without recipients, a bad recipient, --snapshot-every and --mode: exit 2, one line, nothing created", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const key = await keygen(`${dir}/reader.key`);
  await liveQueue(live, 5, 5);
  const cases: [string[], RegExp][] = [
    [[], /give at least one recipient.*--recipient/],
    [["--recipient", "age1notakey"], /'age1notakey'/],
    [["--recipient", key.file], /'[^']*reader\.key'/],
    [["--recipient", key.recipient, "--snapshot-every", "100"], /--snapshot-every/],
    [["--recipient", key.recipient, "--mode", "0640"], /--mode/],
  ];
  const runs = [`sealed:${dir}/s`, `sqlite:${dir}/s.db`].flatMap((archive) =>
    cases.map(async ([extra, message]) => {
      const out = await runProgram("archive-tap", [
        "--live",
        live,
        "--archive",
        archive,
        "--once",
        ...extra,
      ]);
      assert.match(oneLine(out, 2), message, `${archive} ${extra.join(" ")}`);
    })
  );
  await Promise.all(runs);
  assert.ok(!exists(`${dir}/s`) && !exists(`${dir}/s.db`), "nothing created");
});

Deno.test("archive-tap --segment-bytes with a sealed archive is applied or refused, never ignored", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const key = await keygen(`${dir}/reader.key`);
  await liveQueue(live, 20, 12);
  const out = await runProgram("archive-tap", [
    "--live",
    live,
    "--archive",
    `sealed:${dir}/s`,
    "--recipient",
    key.recipient,
    "--once",
    "--segment-bytes",
    "65536",
  ]);
  if (out.code === 2) {
    assert.match(oneLine(out, 2), /--segment-bytes/);
    assert.ok(!exists(`${dir}/s`), "nothing created");
    return;
  }
  assert.equal(out.code, 0, out.stderr);
  const [run] = (await storeUnits(`${dir}/s`)).units;
  assert.ok(run?.kind === "run");
  assert.equal(run.header.segmentBytes, 65536, "the run's segment size, as '--segment-bytes' says");
});

// 3. Readers

Deno.test("readers: a wrong identity or none is exit 1 and one line; SPOOL_IDENTITY opens, --identity wins over it", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const store = `${dir}/store`;
  const key = await keygen(`${dir}/reader.key`);
  const other = await keygen(`${dir}/other.key`);
  await liveQueue(live, 50, 6);
  await tap(live, `sealed:${store}`, "--recipient", key.recipient, "--once");
  const want = await replayJson(live);
  const noIdentity =
    `No identity in '${other.file}' opens run 0 of '${store}/stream.sealed' (its header at offset 0, after seq 0)`;
  const reads: [string, string[]][] = [
    ["replay", [`sealed:${store}`, "--json"]],
    ["tail", [store, "--json", "-n", "5"]],
    ["import", ["--to", `${dir}/q`, `sealed:${store}`]],
  ];
  await Promise.all(reads.map(async ([program, args]) => {
    const [wrong, none] = await Promise.all([
      runProgram(program, [...args, "--identity", other.file]),
      runProgram(program, args),
    ]);
    assert.equal(oneLine(wrong, 1), `${program}: ${noIdentity}`);
    assert.equal(wrong.stdout, "", program);
    // Exit 1, not 2: the command line is complete; the key comes from a flag or the environment.
    assert.match(
      oneLine(none, 1),
      /needs a private key.*pass '--identity FILE' or set SPOOL_IDENTITY/,
      program,
    );
    assert.equal(none.stdout, "", program);
  }));
  const wrongEnv = await runProgram("replay", [store, "--json"], {
    env: { [IDENTITY_ENV]: other.file },
  });
  assert.equal(oneLine(wrongEnv, 1), `replay: ${noIdentity}`);
  assert.ok(!exists(`${dir}/q`), "import made no queue from a store it could not open");
  const viaEnv = await runProgram("replay", [`sealed:${store}`, "--json"], {
    env: { [IDENTITY_ENV]: key.file },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal(viaEnv.stdout, want);
  // --identity wins over SPOOL_IDENTITY.
  const both = await runProgram("replay", [`sealed:${store}`, "--json", "--identity", key.file], {
    env: { [IDENTITY_ENV]: other.file },
  });
  assert.equal(both.code, 0, both.stderr);
  assert.equal(both.stdout, want);
  const tailed = await runProgram("tail", [store, "--json", "-n", "5"], {
    env: { [IDENTITY_ENV]: key.file },
  });
  assert.equal(tailed.code, 0, tailed.stderr);
  assert.equal(tailed.stdout, want.trimEnd().split("\n").slice(-5).join("\n") + "\n");
});

Deno.test("tail -f on a sealed archive shows what a following archive-tap seals after it started", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const store = `${dir}/store`;
  const key = await keygen(`${dir}/reader.key`);
  await liveQueue(live, 30, 7);
  await tap(live, `sealed:${store}`, "--recipient", key.recipient, "--once");
  const tapChild = spawnProgram("archive-tap", [
    "--live",
    live,
    "--archive",
    `sealed:${store}`,
    "--recipient",
    key.recipient,
  ]);
  const tapErr = new Lines(tapChild.stderr);
  const tapOut = new Lines(tapChild.stdout);
  const tail = spawnProgram("tail", [
    "-f",
    `sealed:${store}`,
    "--json",
    "-n",
    "3",
    "--identity",
    key.file,
  ]);
  const tailOut = new Lines(tail.stdout);
  const tailErr = new Lines(tail.stderr);
  const seen: string[] = [];
  const until = async (seq: number) => {
    for (;;) {
      const line = await tailOut.next();
      if (line === undefined) {
        assert.fail(`tail ended before seq ${seq}: ${tailErr.seen.join("\n")}`);
      }
      seen.push(line);
      if (JSON.parse(line).seq === seq) return;
    }
  };
  // A tail or tap that never shows the records fails the test instead of stalling it.
  const guard = setTimeout(() => {
    kill(tail, "SIGKILL");
    kill(tapChild, "SIGKILL");
  }, 60_000);
  let tailStatus: Deno.CommandStatus;
  let tapStatus: Deno.CommandStatus;
  try {
    await until(30);
    await tapErr.until("archive-tap: opened sealed archive");
    const w = await QueueWriter.open(live);
    const rand = seededRandom(8);
    for (let burst = 0; burst < 5; burst++) {
      appendVaried(w, 10, rand);
      await sleep(100);
    }
    w.close();
    await until(80);
  } finally {
    clearTimeout(guard);
    kill(tapChild, "SIGTERM");
    kill(tail, "SIGTERM");
    tapStatus = await finish(tapChild, tapErr, tapOut);
    tailStatus = await finish(tail, tailOut, tailErr);
  }
  assert.equal(tapStatus.code, 0, tapErr.seen.join("\n"));
  assert.equal(tailStatus.code, 0, tailErr.seen.join("\n"));
  assert.deepEqual(tailOut.seen, seen, "nothing after seq 80");
  assert.deepEqual(seen, (await replayJson(live)).trimEnd().split("\n").slice(27));
});

// Where a segment header keeps its CRC32C (docs/sealed-format.md).
const CRC_AT = 52;

/** A store of several segments, written in-process, and replay's output of it intact. */
async function segmentedStore(dir: string, key: Key): Promise<string> {
  const writer = await SealedWriter.open({ kind: "file", dir }, {
    recipients: [parseRecipient(key.recipient, "test")],
    stream: "quotes",
    producer: "sealed_programs_test",
    segmentBytes: 4096,
    flushMs: 0,
    workers: 0,
  });
  const rand = seededRandom(9);
  for (let seq = 1; seq <= 120; seq++) {
    writer.append({
      seq,
      timestampNs: BigInt(seq) * 1000n,
      typeId: seq % 7,
      payload: payloadOf(seq, 1 + Math.floor(rand() * 700)),
    });
  }
  await writer.close();
  return await replayJson(dir, "--identity", key.file);
}

Deno.test("a flipped ciphertext byte in a middle segment: replay prints every record before it, then one line naming the file, offset and seq", async () => {
  const dir = await testDir();
  const key = await keygen(`${dir}/reader.key`);
  for (const fixCrc of [false, true]) {
    const store = `${dir}/store-${fixCrc ? "crc-fixed" : "crc-stale"}`;
    const intact = await segmentedStore(store, key);
    const segments = (await storeUnits(store)).units.filter((u) => u.kind === "segment");
    assert.ok(segments.length >= 8, `${segments.length} segments`);
    const middle = segments[Math.floor(segments.length / 2)]!;
    assert.ok(middle.kind === "segment");
    const file = `${store}/stream.sealed`;
    const bytes = Deno.readFileSync(file);
    const wireAt = middle.offset + SEGMENT_HEADER_BYTES;
    const flip = wireAt + Math.floor(middle.header.plaintextLength / 2);
    bytes[flip] = bytes[flip]! ^ 0x10;
    if (fixCrc) {
      // A tamperer can fix the checksum; the AEAD tag is what they cannot forge.
      const crc = crc32c(
        bytes.subarray(middle.offset, middle.offset + CRC_AT),
        bytes.subarray(wireAt, wireAt + middle.header.wireLength),
      );
      new DataView(bytes.buffer).setUint32(middle.offset + CRC_AT, crc, true);
    }
    Deno.writeFileSync(file, bytes);
    const before = middle.header.firstSeq - 1;
    const wantLines = intact.trimEnd().split("\n").slice(0, before);
    for (
      const [program, args] of [
        ["replay", [`sealed:${store}`, "--json"]],
        ["import", ["--to", `${store}-q`, store]],
      ] as const
    ) {
      const out = await runProgram(program, [...args, "--identity", key.file]);
      const line = oneLine(out, 1);
      assert.ok(line.includes(`'${file}'`), line);
      assert.ok(line.includes(`offset ${middle.offset}`), line);
      assert.ok(line.includes(`seq ${before}`), line);
      if (fixCrc) assert.match(line, /authenticat/);
      if (program === "replay") {
        assert.deepEqual(
          out.stdout.trimEnd().split("\n"),
          wantLines,
          "records before the segment, none of it",
        );
      } else {
        assert.equal(await replayJson(`${store}-q`), wantLines.join("\n") + "\n");
      }
    }
  }
});

// 4. import

Deno.test("import --to sealed:DIR seals JSON lines and a tape; import from the store gives the same queue", async () => {
  const dir = await testDir();
  const key = await keygen(`${dir}/reader.key`);
  await liveQueue(`${dir}/live`, 200, 10);
  const jsonl = await replayJson(`${dir}/live`);
  await Deno.writeTextFile(`${dir}/in.jsonl`, jsonl);
  const sealedJsonl = await runProgram("import", [
    "--to",
    `sealed:${dir}/from-jsonl`,
    "--recipient",
    key.recipient,
    `${dir}/in.jsonl`,
  ]);
  assert.equal(sealedJsonl.code, 0, sealedJsonl.stderr);
  assert.equal(mode(`${dir}/from-jsonl`), 0o700);
  assert.equal(mode(`${dir}/from-jsonl/stream.sealed`), 0o600);
  const back = await runProgram("import", [
    "--to",
    `${dir}/q1`,
    `sealed:${dir}/from-jsonl`,
    "--identity",
    key.file,
  ]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(await replayJson(`${dir}/q1`), jsonl);

  const lines = [
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}',
    '{"jsonrpc":"2.0","id":1,"result":{"ok":true}}',
    "a text line",
    '{"jsonrpc":"2.0","method":"notify","params":{"n":"\u00e9"}}',
  ];
  const recorded = await runProgram("record", ["--stdin", "--quiet", "--out", `${dir}/tapes`], {
    stdin: lines.join("\n") + "\n",
  });
  assert.equal(recorded.code, 0, recorded.stderr);
  const tape = [...Deno.readDirSync(`${dir}/tapes`)].map((e) => e.name).find((n) =>
    n.endsWith(".jsonl")
  );
  assert.ok(tape !== undefined, "record wrote a tape");
  const tapePath = `${dir}/tapes/${tape}`;
  const sealedTape = await runProgram("import", [
    "--to",
    `sealed:${dir}/from-tape`,
    "--recipient",
    key.recipient,
    tapePath,
  ]);
  assert.equal(sealedTape.code, 0, sealedTape.stderr);
  const direct = await runProgram("import", ["--to", `${dir}/q-direct`, tapePath]);
  assert.equal(direct.code, 0, direct.stderr);
  const viaStore = await runProgram("import", ["--to", `${dir}/q2`, `${dir}/from-tape`], {
    env: { [IDENTITY_ENV]: key.file },
  });
  assert.equal(viaStore.code, 0, viaStore.stderr);
  const want = await replayJson(`${dir}/q-direct`);
  assert.equal(want.trimEnd().split("\n").length, lines.length);
  assert.equal(await replayJson(`${dir}/q2`), want);
  assert.equal(await replayJson(`sealed:${dir}/from-tape`, "--identity", key.file), want);

  const unsealed = await runProgram("import", ["--to", `sealed:${dir}/none`, `${dir}/in.jsonl`]);
  assert.match(oneLine(unsealed, 2), /recipient/);
  assert.ok(!exists(`${dir}/none`));
});

// 5. SIGKILL

Deno.test("archive-tap SIGKILLed once the live reader has committed loses nothing, even before its store holds a record", async () => {
  const dir = await testDir();
  const live = `${dir}/live`;
  const store = `${dir}/store`;
  const key = await keygen(`${dir}/reader.key`);
  await liveQueue(live, 50, 11);
  const args = ["--live", live, "--archive", `sealed:${store}`, "--recipient", key.recipient];
  const child = spawnProgram("archive-tap", args);
  const stderr = new Lines(child.stderr);
  const stdout = new Lines(child.stdout);
  try {
    await stderr.until("archive-tap: opened live queue");
    // What the reader commits counts as archived: the next tap starts after it.
    await waitFor(
      "the tap to commit seq 50 on the live queue",
      () => committed(live) === 50 || undefined,
    );
  } finally {
    kill(child, "SIGKILL");
    await finish(child, stderr, stdout);
  }
  await tap(live, `sealed:${store}`, "--recipient", key.recipient, "--once");
  assertSameRecords(await openedRecords(store, key.file), await readRecords(live), "store");
});

const KILLS = 50;

/**
 * Notes the bytes sealed under each (run, index, final) nonce of the store
 * as it is now, torn last unit included, and fails when a nonce seen before
 * now seals other bytes: a (key, nonce) pair used twice. Each run header
 * (with its salt) stands for its key; the test checks the keys differ.
 */
function noteSealed(
  seen: Map<string, Uint8Array>,
  units: WalkedUnit[],
  tornAt: number | undefined,
  store: string,
  where: string,
): void {
  const note = (id: string, bytes: Uint8Array) => {
    const before = seen.get(id);
    if (before === undefined) {
      seen.set(id, bytes.slice());
      return;
    }
    const n = Math.min(before.length, bytes.length);
    const same = before.subarray(0, n).every((b, i) => b === bytes[i]);
    assert.ok(same, `${where}: nonce ${id} seals two different segments`);
    if (bytes.length > before.length) seen.set(id, bytes.slice());
  };
  let run = "";
  for (const u of units) {
    if (u.kind === "run") run = hex(u.header.hash);
    else note(`${run}/${u.header.index}/${u.header.final}`, u.unit);
  }
  if (tornAt === undefined) return;
  const bytes = Deno.readFileSync(`${store}/stream.sealed`).subarray(tornAt);
  if (bytes.length < SEGMENT_HEADER_BYTES) return;
  let header;
  try {
    header = decodeSegmentHeader(bytes, store, tornAt);
  } catch {
    return; // not a segment's header: nothing was sealed under a nonce there
  }
  note(`${run}/${header.index}/${header.final}`, bytes);
}

Deno.test("archive-tap into sealed:DIR SIGKILLed 50 times while the live queue grows: the store equals the live queue, no (key, nonce) pair repeats", async () => {
  const seed = Number(Deno.env.get("SEALED_KILL_SEED") ?? Date.now() % 1_000_000);
  const rand = seededRandom(seed);
  const dir = await testDir();
  const live = `${dir}/live`;
  const store = `${dir}/store`;
  const key = await keygen(`${dir}/reader.key`);
  const writer = await QueueWriter.open(live, { segmentBytes: 256 * 1024 });
  appendVaried(writer, 50, rand);
  // Small segments: a tap commits several before it is killed.
  const args = [
    "--live",
    live,
    "--archive",
    `sealed:${store}`,
    "--recipient",
    key.recipient,
    "--segment-bytes",
    "65536",
  ];
  let runsSeen = 0;
  let lastSeq = 0;
  // Every segment ever seen on disk, by (run header, index, final): the bytes sealed under that nonce.
  const sealed = new Map<string, Uint8Array>();
  let advanced = 0;
  let torn = 0;
  try {
    for (let round = 0; round < KILLS; round++) {
      const child = spawnProgram("archive-tap", args);
      const stderr = new Lines(child.stderr);
      const stdout = new Lines(child.stdout);
      let status: Deno.CommandStatus;
      try {
        await stderr.until("archive-tap: opened live queue");
        // The live queue grows while the tap runs, in bursts of varied records.
        const killAt = Date.now() + 50 + Math.floor(rand() * 350);
        while (Date.now() < killAt) {
          appendVaried(writer, Math.floor(rand() * 8), rand);
          await sleep(Math.min(10, Math.max(0, killAt - Date.now())));
        }
      } finally {
        kill(child, "SIGKILL");
        status = await finish(child, stderr, stdout);
      }
      assert.equal(
        status.signal,
        "SIGKILL",
        `seed ${seed}, round ${round}: ${stderr.seen.join("\n")}`,
      );
      const { units, tornAt } = await storeUnits(store);
      // Taken before the next tap cuts a torn tail away: the torn unit is
      // the one a careless resume would seal again under the same nonce.
      noteSealed(sealed, units, tornAt, store, `seed ${seed}, round ${round}`);
      const runs = units.filter((u) => u.kind === "run").length;
      // A tap writes one run at most: its own, never more, never another's.
      assert.ok(
        runs - runsSeen === 0 || runs - runsSeen === 1,
        `seed ${seed}, round ${round}: ${runsSeen} → ${runs} runs`,
      );
      runsSeen = runs;
      const end = units.findLast((u) => u.kind === "segment" && u.header.dataFrames > 0);
      const seq = end?.kind === "segment" ? end.header.lastSeq : 0;
      assert.ok(
        seq >= lastSeq,
        `seed ${seed}, round ${round}: the store went back from seq ${lastSeq} to ${seq}`,
      );
      if (seq > lastSeq) advanced++;
      lastSeq = seq;
      if (tornAt !== undefined) torn++;
    }
  } finally {
    writer.close();
  }
  // Kills landed while the tap was copying: the store grew between many of them.
  assert.ok(advanced >= 5, `seed ${seed}: the store grew in only ${advanced} of ${KILLS} rounds`);
  const once = await runProgram("archive-tap", [...args, "--once"]);
  assert.equal(once.code, 0, `seed ${seed}: ${once.stderr}`);

  // (a) Every run has its own payload key, and every segment index is used once a run.
  const identities = await readIdentityFile(key.file);
  const { units, tornAt } = await storeUnits(store);
  assert.equal(tornAt, undefined);
  noteSealed(sealed, units, tornAt, store, `seed ${seed}, after --once`);
  const keys: string[] = [];
  const pairs = new Set<string>();
  const slots = new Set<string>();
  for (const u of units) {
    if (u.kind === "run") {
      assert.equal(u.header.run, keys.length, `seed ${seed}: runs in order`);
      const { payloadKey } = await openRunHeader(u.header, identities, {
        path: store,
        offset: u.offset,
        seq: 0,
        identitySource: key.file,
      });
      keys.push(hex(payloadKey));
      continue;
    }
    const runKey = keys[u.run];
    assert.ok(
      runKey !== undefined,
      `seed ${seed}: segment at offset ${u.offset} after its run header`,
    );
    const pair = `${runKey}/${hex(segmentNonce(u.header.index, u.header.final))}`;
    assert.ok(
      !pairs.has(pair),
      `seed ${seed}: run ${u.run} uses nonce of index ${u.header.index} twice`,
    );
    pairs.add(pair);
    const slot = `${u.run}:${u.header.index}`;
    assert.ok(!slots.has(slot), `seed ${seed}: run ${u.run} holds index ${u.header.index} twice`);
    slots.add(slot);
  }
  assert.equal(new Set(keys).size, keys.length, `seed ${seed}: a payload key repeats`);
  // Every tap that wrote a run (at least its first segments) kept it, and the last one added its own.
  assert.equal(keys.length, runsSeen + 1, `seed ${seed}: runs`);
  const lastUnit = units.at(-1);
  assert.ok(lastUnit?.kind === "segment" && lastUnit.header.final, "the --once tap ended its run");

  // (b) The store, opened, is the live queue exactly.
  const want = await readRecords(live);
  const got = await openedRecords(store, key.file);
  assert.ok(want.length > 1000, `seed ${seed}: ${want.length} records`);
  assert.ok(want.every((r, i) => r.seq === i + 1), `seed ${seed}: the live queue runs 1..N`);
  assertSameRecords(got, want, `seed ${seed}`);

  console.log(
    `seed ${seed}: ${want.length} records, ${KILLS} kills, ${keys.length} runs, ${pairs.size} segments (${sealed.size} nonces seen on disk across kills); the store grew in ${advanced} rounds, ${torn} kills left a torn tail`,
  );
});

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "import into a sealed store on a full disk counts only what the store made durable",
  ignore: !(await canMountTmpfs()),
  fn: async () => {
    const dir = await testDir();
    const key = await keygen(`${dir}/reader.key`);
    // No seqs: the resume line is the only way back, so it must be right.
    const lines = Array.from(
      { length: 3000 },
      (_, i) => JSON.stringify({ type_id: 1, payload: `${i + 1}:${"x".repeat(200)}` }),
    );
    await Deno.writeTextFile(`${dir}/in.jsonl`, lines.join("\n") + "\n");
    await withTmpfs("256k", async (mount) => {
      const out = await runProgram("import", [
        "--to",
        `sealed:${mount}/s`,
        "--recipient",
        key.recipient,
        `${dir}/in.jsonl`,
      ]);
      const line = oneLine(out, 1);
      const stored = await openedRecords(`${mount}/s`, key.file).catch(() => []);
      // What the message says was imported is exactly what the store holds,
      // and a resume goes on at the first line it does not hold.
      if (stored.length === 0) {
        assert.match(line, /nothing was imported/);
      } else {
        assert.match(line, new RegExp(`\\b${stored.length} records? (was|were) imported`));
        assert.match(line, new RegExp(`from ${stored.length + 1} on`));
      }
      // Before the fix this said all 3000 were imported, with none on disk.
      assert.doesNotMatch(line, /3,?000 records were imported/);
    });
  },
});
