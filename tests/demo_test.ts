import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";
import { openStream } from "../src/stream/mod.ts";

Deno.test("deno task demo records, tails, replays, serves and verifies a session, then runs the live path", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "spool_demo_test_" });
  try {
    const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
      tasks: Record<string, string>;
    };
    // Run the demo task's own command line, in a scratch directory.
    const [, , ...rest] = denoJson.tasks.demo!.split(" ");
    const args = rest.map((a) => (a.startsWith("examples/") ? `${ROOT}${a}` : a));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...args],
      cwd,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stdout + stderr);
    for (let step = 1; step <= 10; step++) {
      assert.match(stdout, new RegExp(`^demo ${step}\\. `, "m"));
    }
    // The live follower printed the exchange, including the server's own request.
    assert.match(stdout, /request\s+sampling\/createMessage/);
    // Serving the tape satisfied every check of the client.
    assert.doesNotMatch(stdout, /example-client: FAIL/);
    assert.match(stdout, /verify: OK: 6 responses compared, 6 matched/);
    assert.match(stdout, /\$\.result\.content\[0\]\.text: expected "5", actual "6"/);
    assert.match(stdout, /^demo: done\./m);
    // The sealed archive holds the 20 quotes, and tail opens it with the key keygen made.
    assert.match(
      stdout,
      /archive-tap: copied 20 records \(seqs 1\.\.20\) in [\d.]+ s; archive 'sealed:/,
    );
    assert.match(stdout, /^ {2}\S+Z #20 type 1 \d+ B \{"sym":"GLOBEX".*\n\n?demo: done/m);
    // Market data: the excerpt's 2,000 vendor events imported with snapshots, the book at
    // 09:33 New York time from a warm start, and one feature row per minute.
    assert.match(stdout, /import: 2000 vendor events at 1 level/);
    assert.match(stdout, /^ {2}2012-06-21T13:32:59\.600560069Z #1030 GOOG$/m);
    assert.match(stdout, /^ {4}107 @ 577\.0000 \| 577\.5800 @ 50$/m);
    assert.match(stdout, /replay: warm start from the snapshots at seq 1000/);
    assert.match(
      stdout,
      /^ {2}seq,timestamp_ns,venue,market,symbol,mid,spread,imbalance_3,vwap,trades$/m,
    );
    assert.match(
      stdout,
      /^ {2}851,1340285520000000000,1,1,GOOG,578\.09500,0\.5500,0\.111111,578\.04701818,15$/m,
    );

    // The live path: the following tap copied what the feed published (all of it, unless the
    // machine was slow), and the --once run after it copied the rest, so the archive holds every
    // quote exactly once.
    assert.match(stdout, /quote_feed: done, last seq 20/);
    const followed = stdout.match(/archive-tap: copied (\d+) records? .*stopped by a signal/);
    assert.ok(followed, stdout);
    const first = Number(followed[1]);
    const left = 20 - first;
    assert.match(
      stdout,
      left === 0
        ? /archive-tap: copied 0 records; archive '[^']+' ends at seq 20/
        : new RegExp(`archive-tap: copied ${left} records? \\(seqs? ${first + 1}.*ends at seq 20`),
    );
    assert.match(stdout, /^ {2}\S+Z #20 type 1 \d+ B \{"sym":"GLOBEX"/m);
    assert.match(stdout, /^ {2}\{"seq":20,"timestamp_ns":\d+,"type_id":1,"encoding":"utf8"/m);
    const quotes = [];
    const reader = await openStream(`${cwd}/.demo/bus/archive/quotes`);
    try {
      for await (const m of reader) quotes.push(m.seq);
    } finally {
      reader.close();
    }
    assert.deepEqual(quotes, Array.from({ length: 20 }, (_, i) => i + 1));

    const tapes = [...Deno.readDirSync(`${cwd}/.demo/tapes`)].map((e) => e.name).sort();
    assert.equal(tapes.length, 2, tapes.join(", "));
    const meta = JSON.parse(
      await Deno.readTextFile(`${cwd}/.demo/tapes/${tapes.find((t) => t.endsWith(".meta.json"))}`),
    );
    assert.equal(meta.status, "finalized");
    assert.equal(meta.protocol_version, "2025-06-18");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
