import assert from "node:assert/strict";
import { findProgram, PROGRAMS, runCommandLine } from "../cli/manifest.ts";
import { cachedRuntimePath, findRuntime } from "../cli/compile.ts";
import { ROOT, runProgram } from "./_helpers.ts";

const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
  tasks: Record<string, string>;
};

Deno.test("each program's deno task runs its manifest entry with exactly the manifest flags", () => {
  assert.deepEqual(PROGRAMS.map((p) => p.name), [
    "record",
    "replay",
    "tail",
    "archive-tap",
    "import",
    "keygen",
  ]);
  for (const program of PROGRAMS) {
    assert.equal(denoJson.tasks[program.name], runCommandLine(program), program.name);
    assert.ok(Deno.statSync(`${ROOT}${program.entry}`).isFile, program.entry);
  }
});

Deno.test("README opens with the demo and test commands", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const commands = readme.split("\n").filter((l) => l.startsWith("npx ")).slice(0, 2);
  assert.match(commands[0] ?? "", /^npx -y deno@2\.9\.6 task demo\b/);
  assert.match(commands[1] ?? "", /^npx -y deno@2\.9\.6 task test\b/);
  assert.ok(readme.indexOf("task demo") < readme.indexOf("## "), "commands come first");
});

Deno.test("every program answers --help with its name and exits 0", async () => {
  for (const program of PROGRAMS) {
    const out = await runProgram(program.name, ["--help"]);
    assert.equal(out.code, 0, `${program.name}: ${out.stderr}`);
    assert.match(out.stdout, new RegExp(`Usage: ${program.name}\\b`));
    assert.match(out.stdout, /--completions <shell>/);
  }
});

Deno.test("every program answers --version and -V with its name and deno.json's version", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    version: string;
  };
  assert.match(version, /^\d+\.\d+\.\d+/);
  for (const program of PROGRAMS) {
    for (const flag of ["--version", "-V"]) {
      const out = await runProgram(program.name, [flag]);
      assert.equal(out.code, 0, `${program.name} ${flag}: ${out.stderr}`);
      assert.equal(out.stdout, `${program.name} ${version}\n`);
      assert.equal(out.stderr, "");
    }
  }
});

Deno.test("a time in ms past what a timer holds is a usage error naming the option and the maximum", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spool-foundation-test-" });
  try {
    const recorded = await runProgram("record", ["--stdin", "--quiet", "--out", dir], {
      stdin: '{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
    });
    assert.equal(recorded.code, 0, recorded.stderr);
    const [tape] = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n.endsWith(".jsonl")
    );
    assert.ok(tape !== undefined, "record wrote a tape");
    const path = `${dir}/${tape}`;
    const cases: [string, string[], string][] = [
      ["record", ["--stdin", "--out", dir], "--grace-ms <ms>"],
      ["replay", [path, "--serve"], "--timeout <ms>"],
      ["replay", [path, "--realtime"], "--max-gap <ms>"],
    ];
    for (const [name, args, option] of cases) {
      const flag = option.split(" ")[0]!;
      for (const ms of ["2147483648", "4294967297"]) {
        const out = await runProgram(name, [...args, flag, ms], { stdin: "" });
        assert.equal(out.code, 2, `${name} ${flag} ${ms}: ${out.stderr}`);
        assert.equal(
          out.stderr,
          `${name}: Option '${option}' argument '${ms}' is invalid: expected at most 2147483647 ms, got '${ms}' (see '${name} --help')\n`,
        );
        assert.equal(out.stdout, "");
      }
    }
    const longest = await runProgram("replay", [path, "--realtime", "--max-gap", "2147483647"]);
    assert.equal(longest.code, 0, longest.stderr);
    assert.match(longest.stdout, /"method":"ping"/);
    assert.doesNotMatch(longest.stderr, /TimeoutOverflowWarning/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown option is one line on stderr and exit status 2", async () => {
  for (const program of PROGRAMS) {
    const out = await runProgram(program.name, ["--no-such-option"]);
    assert.equal(out.code, 2, `${program.name}: ${out.stderr}`);
    const lines = out.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, out.stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^${program.name}: Unknown option '--no-such-option' \\(see '${program.name} --help'\\)$`,
      ),
    );
    assert.equal(out.stdout, "");
  }
});

Deno.test("completion scripts name the program and its options", async () => {
  const bash = await runProgram("tail", ["--completions", "bash"]);
  assert.equal(bash.code, 0, bash.stderr);
  assert.match(bash.stdout, /complete -o filenames -F _spool_tail tail/);
  assert.match(bash.stdout, /--completions/);
  const fish = await runProgram("record", ["--completions", "fish"]);
  assert.match(fish.stdout, /^complete -c record -l completions/m);
  const zsh = await runProgram("replay", ["--completions", "zsh"]);
  assert.match(zsh.stdout, /^#compdef replay/);
  const bad = await runProgram("replay", ["--completions", "tcsh"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^replay: .*'tcsh' is invalid/);
});

Deno.test("compile finds the base runtime in DENORT_BIN or the download cache, never the network", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await findRuntime({ denortBin: undefined, denoDir: dir });
    assert.equal(missing.ok, false);
    assert.ok(!missing.ok && missing.reason.includes("DENORT_BIN"), JSON.stringify(missing));
    assert.ok(!missing.ok && missing.reason.includes(cachedRuntimePath(dir)));

    const cached = cachedRuntimePath(dir);
    await Deno.mkdir(cached.slice(0, cached.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(cached, new Uint8Array([1]));
    assert.deepEqual(await findRuntime({ denortBin: undefined, denoDir: dir }), {
      ok: true,
      via: "cache",
      path: cached,
    });

    const wrong = await findRuntime({ denortBin: `${dir}/nope`, denoDir: dir });
    assert.deepEqual(wrong, {
      ok: false,
      reason: `DENORT_BIN is set to '${dir}/nope', which is not a file`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile fails with one clear line when the runtime is missing", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "compile", "--out-dir", "/nonexistent-spool-dist", "tail"],
    cwd: ROOT,
    env: { DENORT_BIN: "/nonexistent/denort" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.equal(
    stderr,
    "compile: DENORT_BIN is set to '/nonexistent/denort', which is not a file\n",
  );
});

Deno.test("deno task compile builds dist/<program> with the runtime from DENORT_BIN", async () => {
  // No real denort can be downloaded here, so the deno binary stands in for
  // it: this proves the task's plumbing (manifest, flags, output path), not
  // that the binary runs.
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "compile", "--out-dir", dir, "tail"],
      cwd: ROOT,
      env: { DENORT_BIN: Deno.execPath() },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const flags = findProgram("tail")!.permissions.join(" ");
    assert.ok(stderr.includes(`built '${dir}/tail' (${flags})`), stderr);
    assert.ok(Deno.statSync(`${dir}/tail`).size > 1_000_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
