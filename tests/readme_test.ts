/**
 * The README's examples run as written: every shell command of its `sh`
 * blocks, in order, from a directory laid out like the repository root,
 * with the files its `ts` blocks name written there first. Only the
 * opening `npx` commands are left out: they run the demo and this very
 * test suite.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { ROOT } from "./_helpers.ts";

/** A fenced block of the README. */
interface Block {
  lang: string;
  lines: string[];
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  let open: Block | undefined;
  for (const line of markdown.split("\n")) {
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence && open === undefined) open = { lang: fence[1]!, lines: [] };
    else if (fence && open !== undefined) {
      found.push(open);
      open = undefined;
    } else open?.lines.push(line);
  }
  return found;
}

/** The commands of a shell block: no blank or comment lines, comments after a command kept for `sh`. */
function commands(block: Block): string[] {
  return block.lines.filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
}

/** A directory that looks like the repository root to the examples, in a fresh place. */
async function repositoryLike(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "spool-readme-test-" });
  for (const name of ["cli", "src", "examples", "tests"]) {
    await Deno.symlink(`${ROOT}${name}`, `${dir}/${name}`);
  }
  for (const name of ["deno.json", "deno.lock"]) {
    await Deno.copyFile(`${ROOT}${name}`, `${dir}/${name}`);
  }
  return dir;
}

async function run(
  command: string,
  cwd: string,
  limitMs = 60_000,
): Promise<{ code: number; signal: string | null; stdout: string; stderr: string }> {
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    cwd,
    // Open and silent, like a terminal nobody types into: an example that waits for input hangs.
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}` },
  }).spawn();
  // A hang fails the test instead of stalling it.
  const guard = setTimeout(() => child.kill("SIGKILL"), limitMs);
  try {
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    return { code: status.code, signal: status.signal, stdout, stderr };
  } finally {
    clearTimeout(guard);
    await child.stdin.close().catch(() => {});
  }
}

const readme = await Deno.readTextFile(`${ROOT}README.md`);

Deno.test("the README's shell examples run as written, in order, each with exit status 0", async () => {
  const all = blocks(readme);
  const shell = all.filter((b) => b.lang === "sh");
  assert.ok(shell.length >= 3, `${shell.length} shell blocks`);
  assert.ok(commands(shell[0]!).every((c) => c.startsWith("npx ")), "the first block is npx's");
  const examples = shell.slice(1).flatMap(commands);
  assert.ok(examples.some((c) => c.includes("task -q record")), "record is shown");
  assert.ok(examples.some((c) => c.includes("task -q tail")), "tail is shown");
  assert.ok(examples.some((c) => c.includes("task -q replay")), "replay is shown");
  assert.ok(!examples.some((c) => /<[a-z_]+>/.test(c)), "no placeholder to fill in");

  const dir = await repositoryLike();
  try {
    // A ts block that names its file in its first line is that file.
    for (const block of all.filter((b) => b.lang === "ts")) {
      const name = /^\/\/ (\S+\.ts)\b/.exec(block.lines[0] ?? "")?.[1];
      if (name !== undefined) await Deno.writeTextFile(`${dir}/${name}`, block.lines.join("\n"));
    }
    for (const command of examples) {
      const out = await run(command, dir);
      assert.equal(out.signal, null, `'${command}' did not end by itself:\n${out.stderr}`);
      assert.equal(out.code, 0, `'${command}' failed:\n${out.stderr}`);
      // `# prints "a" and "b"`: those lines are in its output.
      const said = /# prints (.*)$/.exec(command)?.[1];
      for (const text of said?.match(/"[^"]*"/g) ?? []) {
        assert.ok(out.stdout.split("\n").includes(text.slice(1, -1)), `${command}: ${out.stdout}`);
      }
    }
    // What they did: the session was recorded, served and verified; the feed reached the archive.
    const verify = await run(
      "deno task -q replay demo --verify -- deno run examples/jsonrpc_server.ts",
      dir,
    );
    assert.match(verify.stdout, /^verify: OK: 6 responses compared, 6 matched/m);
    const archived = await run("deno task -q replay bus/archive/quotes --json", dir);
    assert.equal(archived.stdout.trimEnd().split("\n").length, 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
