import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

Deno.test("deno task demo records, tails, replays, serves and verifies a session", async () => {
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
    for (let step = 1; step <= 6; step++) {
      assert.match(stdout, new RegExp(`^demo ${step}\\. `, "m"));
    }
    // The live follower printed the exchange, including the server's own request.
    assert.match(stdout, /request\s+sampling\/createMessage/);
    // Serving the tape satisfied every check of the client.
    assert.doesNotMatch(stdout, /example-client: FAIL/);
    assert.match(stdout, /verify: OK: 6 responses compared, 6 matched/);
    assert.match(stdout, /\$\.result\.content\[0\]\.text: expected "5", actual "6"/);
    assert.match(stdout, /^demo: done\./m);

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
