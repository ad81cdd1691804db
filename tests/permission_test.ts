/**
 * Permission denied by the operating system, through the real programs.
 * Root reads everything, so when the tests run as root the programs are run
 * as the unprivileged user `nobody` (with `setpriv`) from a copy of the
 * sources and of the npm cache that `nobody` can read.
 */

import assert from "node:assert/strict";
import { findProgram } from "../cli/manifest.ts";
import { ROOT } from "./_helpers.ts";
import { QueueWriter } from "../src/chronicle/mod.ts";

const NOBODY = 65534;
const isRoot = Deno.uid() === 0;

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir: string }).denoDir;
}

async function copyTree(from: string, to: string): Promise<void> {
  const status = await new Deno.Command("cp", { args: ["-R", from, to] }).output();
  assert.ok(status.success, `cp -R ${from} ${to}`);
}

/** A place where an unprivileged user can run the programs from source. */
async function unprivilegedCopy(work: string): Promise<string> {
  const repo = `${work}/repo`;
  await Deno.mkdir(repo);
  for (const item of ["cli", "src", "deno.json", "deno.lock"]) {
    await copyTree(`${ROOT}${item}`, `${repo}/${item}`);
  }
  await Deno.mkdir(`${work}/deno_dir`);
  await copyTree(`${await denoDir()}/npm`, `${work}/deno_dir/npm`);
  const chmod = await new Deno.Command("chmod", { args: ["-R", "a+rX", work] }).output();
  assert.ok(chmod.success);
  return repo;
}

/** Where the programs run from: the repository, or as root a copy `nobody` can read. */
function sourcesFor(work: string): Promise<string> {
  return isRoot ? unprivilegedCopy(work) : Promise.resolve(ROOT.replace(/\/$/, ""));
}

async function runAsUser(
  work: string,
  repo: string,
  name: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = findProgram(name)!;
  const deno = [Deno.execPath(), "run", "--cached-only", ...program.permissions];
  const argv = isRoot
    ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...deno]
    : deno;
  const out = await new Deno.Command(argv[0]!, {
    args: [...argv.slice(1), `${repo}/${program.entry}`, ...args],
    stdin: "null",
    env: isRoot ? { DENO_DIR: `${work}/deno_dir`, HOME: work, NO_COLOR: "1" } : { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("a tape the user may not read: one line naming it, exit 1", async () => {
  const work = await Deno.makeTempDir({ prefix: "spool_perm_" });
  try {
    await Deno.chmod(work, 0o755);
    const repo = await sourcesFor(work);
    const tape = `${work}/secret.jsonl`;
    await Deno.writeTextFile(
      tape,
      '{"type":"init","version":1,"tape_id":"secret","session_id":"s","created_at":"2026-11-22T00:00:00.000Z","protocol_version":null}\n',
    );
    await Deno.chmod(tape, 0o000);
    for (const name of ["tail", "replay"]) {
      const out = await runAsUser(work, repo, name, [tape]);
      assert.equal(out.code, 1, `${name}: ${out.stderr} ${out.stdout}`);
      assert.equal(out.stderr, `${name}: Cannot open tape '${tape}': permission denied\n`);
      assert.equal(out.stdout, "");
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("an output directory the user may not write to: one line, exit 1, nothing left", async () => {
  const work = await Deno.makeTempDir({ prefix: "spool_perm_" });
  try {
    await Deno.chmod(work, 0o755);
    const repo = await sourcesFor(work);
    const out = `${work}/locked`;
    await Deno.mkdir(out, { mode: 0o555 });
    await Deno.chmod(out, 0o555);
    const result = await runAsUser(work, repo, "record", ["--stdin", "--out", out]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `record: Cannot create a tape in '${out}': permission denied\n`);
    assert.deepEqual([...Deno.readDirSync(out)], []);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a queue the user may not read: import and archive-tap say so in one line, no 'os error'", async () => {
  const work = await Deno.makeTempDir({ prefix: "spool_perm_" });
  try {
    await Deno.chmod(work, 0o755);
    const repo = await sourcesFor(work);
    const input = `${work}/in.jsonl`;
    await Deno.writeTextFile(input, '{"payload":"a"}\n');
    await Deno.chmod(input, 0o644);
    const queue = `${work}/private`;
    const writer = await QueueWriter.open(queue, { segmentBytes: 65536 });
    writer.append(1, new TextEncoder().encode("kept"));
    writer.close();
    // Root's own directory is closed to `nobody`; another user's only when it has no mode bits.
    await Deno.chmod(queue, isRoot ? 0o700 : 0o000);

    const imported = await runAsUser(work, repo, "import", ["--to", queue, input]);
    assert.equal(imported.code, 1, imported.stderr);
    assert.equal(imported.stderr, `import: Cannot open queue '${queue}': permission denied\n`);

    const tapped = await runAsUser(work, repo, "archive-tap", [
      ...["--live", queue, "--archive", `${work}/archive`, "--once"],
    ]);
    assert.equal(tapped.code, 1, tapped.stderr);
    const lines = tapped.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, tapped.stderr);
    assert.equal(lines[0], `archive-tap: Cannot read directory '${queue}': permission denied`);
    const replayed = await runAsUser(work, repo, "replay", [queue]);
    assert.equal(replayed.code, 1, replayed.stderr);
    assert.equal(replayed.stderr, `replay: Cannot read directory '${queue}': permission denied\n`);
    for (const out of [imported, tapped, replayed]) {
      assert.doesNotMatch(out.stderr, /os error|readdir|queue\.meta/);
    }
  } finally {
    await Deno.chmod(`${work}/private`, 0o755).catch(() => {});
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a queue the user may read but not write: replay and tail read it, follow polls", async () => {
  const work = await Deno.makeTempDir({ prefix: "spool_perm_" });
  try {
    await Deno.chmod(work, 0o755);
    const repo = await sourcesFor(work);
    const queue = `${work}/shared`;
    const writer = await QueueWriter.open(queue, { segmentBytes: 65536 });
    for (const word of ["one", "two", "three"]) writer.append(1, new TextEncoder().encode(word));
    writer.close();
    // Another user's queue as spool leaves it: readable by all, writable by its owner only.
    // Not root: the user owns it, so take write permission away instead.
    await Deno.chmod(queue, 0o755);
    for (const entry of Deno.readDirSync(queue)) {
      if (entry.isFile) await Deno.chmod(`${queue}/${entry.name}`, isRoot ? 0o644 : 0o444);
    }
    const replayed = await runAsUser(work, repo, "replay", [queue, "--json"]);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.deepEqual(
      replayed.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).payload),
      ["one", "two", "three"],
    );
    const tailed = await runAsUser(work, repo, "tail", [queue, "-n", "1"]);
    assert.equal(tailed.code, 0, tailed.stderr);
    assert.match(tailed.stdout, /#3 .*three/);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
