/**
 * `deno task demo`: the main job end to end, offline, in a few seconds.
 *
 * 1. record a session between the example JSON-RPC client and server,
 *    while `tail -f` follows the tape as it is written;
 * 2. show the last records and a summary with `tail`;
 * 3. replay the original messages with `replay --raw`;
 * 4. serve the tape as a mock server to the same client;
 * 5. verify the server against the tape, then a changed server that the
 *    verification must catch;
 * 6. the live path: a small feed publishes quotes to a live chronicle queue
 *    on a bus while `archive-tap` follows it into the archive tier; a second,
 *    `--once` run resumes where the first stopped;
 * 7. `tail` and `replay` read both tiers, and the two hold the same records;
 * 8. market data: a LOBSTER excerpt (GOOG, 2012-06-21) imported into a
 *    queue with book snapshots, the book at a moment (a warm start from a
 *    snapshot), and features per minute;
 * 9. a sealed archive: a key pair from `keygen`, the live queue sealed by
 *    `archive-tap` as it copies, and `tail` opening it with the private key.
 *
 * Every step runs the real programs from `cli/manifest.ts` as child
 * processes, exactly as `deno task <program>` would.
 *
 * @module
 */

import { findProgram } from "../cli/manifest.ts";

const root = new URL("../", import.meta.url).pathname;
const deno = Deno.execPath();
const encoder = new TextEncoder();
const useColor = !Deno.noColor && Deno.stdout.isTerminal();
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[0m` : s);

function program(name: string): string[] {
  const spec = findProgram(name);
  if (!spec) throw new TypeError(`No program '${name}' in the manifest`);
  return [deno, "run", ...spec.permissions, `${root}${spec.entry}`];
}

const server = [deno, "run", `${root}examples/jsonrpc_server.ts`];
const client = (...serverCommand: string[]) => [
  deno,
  "run",
  "--allow-run",
  `${root}examples/jsonrpc_client.ts`,
  "--",
  ...serverCommand,
];
// The recorded session is paced so that the live follower visibly follows it.
const pacedClient = (...serverCommand: string[]) => [
  ...client().slice(0, -1),
  "--pace",
  "150",
  "--",
  ...serverCommand,
];

let step = 0;
function say(text: string): void {
  console.log(`\n${bold(`demo ${++step}.`)} ${text}`);
}

function show(argv: string[]): void {
  const shown = argv.map((a) => a.replace(root, "").replace(deno, "deno"));
  console.log(dim(`  $ ${shown.join(" ")}`));
}

async function run(argv: string[], expectCode = 0): Promise<string> {
  show(argv);
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: useColor ? {} : { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  for (const line of (stdout + stderr).trimEnd().split("\n")) {
    if (line !== "") console.log(`  ${line}`);
  }
  if (out.code !== expectCode) {
    throw new Error(
      `'${argv.slice(0, 4).join(" ")}…' exited with ${out.code}, expected ${expectCode}`,
    );
  }
  return stdout;
}

async function newestTape(dir: string): Promise<string> {
  for (let i = 0; i < 500; i++) {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name.endsWith(".jsonl")) return `${dir}/${entry.name}`;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`No tape appeared in '${dir}'`);
}

/**
 * Prints a child's stderr lines as they come (to its end), and resolves
 * true once one matches `until`, or false if the stream ends first. Never
 * rejects, so a child that dies early is told by its exit status.
 */
function echoUntil(stream: ReadableStream<Uint8Array>, until: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    (async () => {
      let seen = false;
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          console.log(`  ${line}`);
          if (!seen && until.test(line)) {
            seen = true;
            resolve(true);
          }
        }
      }
      if (rest !== "") console.log(`  ${rest}`);
      resolve(false);
    })().catch(() => resolve(false));
  });
}

function spawn(argv: string[]): Deno.ChildProcess {
  show(argv);
  return new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

const QUOTES = 20;
const LOBSTER_EXCERPT = "tests/fixtures/lobster/GOOG_2012-06-21_34200000_34630000_message_1.csv";

async function livePath(): Promise<void> {
  const live = `${bus}/live/quotes`;
  const archive = `${bus}/archive/quotes`;
  say(
    "The live path: a feed publishes quotes to a live queue while `archive-tap` copies them to " +
      "the archive.",
  );
  const feedArgv = [
    deno,
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-ffi",
    `${root}examples/quote_feed.ts`,
    `${live}/queue`,
    "--count",
    String(QUOTES),
    "--pace",
    "25",
  ];
  const feed = spawn(feedArgv);
  // The tap needs the live queue to exist: the feed says when it does.
  if (!await echoUntil(feed.stderr, /publishing/)) {
    throw new Error(`The feed ended with status ${(await feed.status).code} before publishing`);
  }
  const tap = spawn([...program("archive-tap"), "--live", live, "--archive", archive]);
  // Its first line comes once it handles SIGTERM: a signal before that would kill it outright.
  const tapLog = echoUntil(tap.stderr, /opened live queue/);
  if (!await tapLog) {
    throw new Error(`archive-tap ended with status ${(await tap.status).code} before it started`);
  }
  const fed = await feed.status;
  if (!fed.success) throw new Error(`The feed failed with status ${fed.code}`);
  // Stop the follower as a supervisor would; it commits what it copied before it exits.
  await new Promise((resolve) => setTimeout(resolve, 200));
  tap.kill("SIGTERM");
  const tapped = await tap.status;
  await tapLog;
  if (!tapped.success) throw new Error(`archive-tap failed with status ${tapped.code}`);
  console.log(`\n${bold("  run again with --once: it resumes after what the archive holds")}`);
  await run([...program("archive-tap"), "--live", live, "--archive", archive, "--once"]);

  say("Read both tiers with the same programs: the last quotes of each, then a replay.");
  const liveTail = await run([...program("tail"), live, "-n", "3"]);
  const archiveTail = await run([...program("tail"), archive, "-n", "3"]);
  if (liveTail !== archiveTail) throw new Error("The archive does not end like the live queue");
  await run([...program("replay"), archive, "--from-seq", String(QUOTES - 1), "--json"]);
}

// The tapes and the bus stay in ./.demo afterwards (git ignores it) for exploring.
const tapes = `${Deno.cwd()}/.demo/tapes`;
const bus = `${Deno.cwd()}/.demo/bus`;
const market = `${Deno.cwd()}/.demo/market`;
const sealed = `${Deno.cwd()}/.demo/sealed`;
for (const dir of [tapes, bus, market, sealed]) {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
// Made as `record` makes a tapes directory: its owner's only.
await Deno.mkdir(tapes, { recursive: true, mode: 0o700 });
try {
  say("Record a session: the example client starts `record`, which starts the server.");
  const recordArgv = [...program("record"), "--out", tapes, "--name", "demo", "--", ...server];
  show(pacedClient(...recordArgv));
  const recording = new Deno.Command(deno, {
    args: pacedClient(...recordArgv).slice(1),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const tape = await newestTape(tapes);
  // Follow the tape live while it is being written; -f stops at finalize.
  const following = new Deno.Command(deno, {
    args: [...program("tail"), tape, "-f", "-n", "100"].slice(1),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const recorded = await recording.output();
  for (const line of new TextDecoder().decode(recorded.stderr).trimEnd().split("\n")) {
    console.log(`  ${line}`);
  }
  if (recorded.code !== 0) throw new Error(`Recording failed with status ${recorded.code}`);
  const followed = await following;
  console.log(
    `\n${bold("  tail -f, started as soon as the tape appeared, printed until finalize:")}`,
  );
  for (const line of new TextDecoder().decode(followed.stdout).trimEnd().split("\n")) {
    console.log(`  ${line}`);
  }

  say("Show the last frames and a summary of the tape.");
  await run([...program("tail"), tape, "-n", "4"]);
  await run([...program("tail"), tape, "--stats"]);

  say("Replay what the client sent, byte for byte as recorded.");
  await run([...program("replay"), tape, "--raw", "--dir", "c2s"]);

  say("Serve the tape as a mock server: the same client talks to the recording.");
  await run(client(...program("replay"), tape, "--serve"));

  say("Verify the real server against the tape: every response must match.");
  await run([...program("replay"), tape, "--verify", "--", ...server]);

  say("Verify a changed server: the difference is caught and the exit status is 1.");
  await run([...program("replay"), tape, "--verify", "--", ...server, "--changed"], 1);

  await livePath();

  say(
    "Market data: import a LOBSTER excerpt (GOOG, 2012-06-21), then the book at 09:33 New York time and features per minute.",
  );
  const goog = `${market}/goog`;
  await run([
    ...program("import"),
    "--to",
    goog,
    "--format",
    "lobster",
    "--snapshot-every",
    "500",
    `${root}${LOBSTER_EXCERPT}`,
  ]);
  await run([
    ...program("replay"),
    goog,
    "--book",
    "--final",
    "--to-time",
    "2012-06-21T13:33:00Z",
    "--depth",
    "3",
  ]);
  await run([
    ...program("replay"),
    goog,
    "--features",
    "mid,spread,imbalance:3,vwap,trades",
    "--every",
    "60s",
  ]);

  say(
    "Seal the archive: a key pair, the live queue sealed as it is copied, then opened with the private key.",
  );
  const key = `${sealed}/archive.key`;
  await Deno.mkdir(sealed, { recursive: true, mode: 0o700 });
  await run([...program("keygen"), "-o", key]);
  const recipient = (await run([...program("keygen"), "-y", key])).trim();
  await run([
    ...program("archive-tap"),
    "--live",
    `${bus}/live/quotes`,
    "--archive",
    `sealed:${sealed}/quotes`,
    "--recipient",
    recipient,
    "--start",
    "earliest",
    "--name",
    "sealed-tap",
    "--once",
  ]);
  await run([...program("tail"), `${sealed}/quotes`, "-n", "3", "--identity", key]);

  const relative = tape.replace(`${Deno.cwd()}/`, "");
  console.log(
    `\n${bold("demo: done.")} Explore the tape: deno task -q tail ${relative} --stats` +
      `\n  and the bus: deno task -q tail ${bus.replace(`${Deno.cwd()}/`, "")}/archive/quotes`,
  );
} catch (error) {
  Deno.stderr.writeSync(
    encoder.encode(`demo: ${error instanceof Error ? error.message : error}\n`),
  );
  Deno.exitCode = 1;
}
