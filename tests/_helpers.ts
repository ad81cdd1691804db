/**
 * Helpers shared by the tests: run a spool program exactly as
 * `deno task <program>` would, from the manifest, as a real child process.
 *
 * @module
 */

import { findProgram } from "../cli/manifest.ts";

/** Repository root, for locating entry files and examples. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** Command line (`deno run <flags> <entry>`) for a program of the manifest. */
export function programArgv(name: string): string[] {
  const program = findProgram(name);
  if (!program) throw new TypeError(`No program '${name}' in the manifest`);
  return ["run", ...program.permissions, `${ROOT}${program.entry}`];
}

/** Command line that runs the example JSON-RPC server. */
export function exampleServerArgv(...extra: string[]): string[] {
  return [Deno.execPath(), "run", `${ROOT}examples/jsonrpc_server.ts`, ...extra];
}

/** Command line that runs the example JSON-RPC client against a server command. */
export function exampleClientArgv(...server: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-run",
    `${ROOT}examples/jsonrpc_client.ts`,
    "--quiet",
    "--",
    ...server,
  ];
}

/** What a finished program printed and how it ended. */
export interface ProgramOutput {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runProgram}. */
export interface RunOptions {
  /** Text or bytes written to the program's stdin, which is then closed. */
  stdin?: string | Uint8Array;
  cwd?: string;
  env?: Record<string, string>;
}

/** Runs a spool program to completion, as a child process. */
export async function runProgram(
  name: string,
  args: string[],
  options: RunOptions = {},
): Promise<ProgramOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...programArgv(name), ...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  // Output is compared exactly: a leading byte order mark is part of it.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  return {
    code: out.code,
    signal: out.signal,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Spawns a spool program and leaves it running, for follow and kill tests. */
export function spawnProgram(
  name: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [...programArgv(name), ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  }).spawn();
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Runs a TypeScript snippet in a child Deno (`deno eval`, which allows
 * everything) with `args`, killing it with SIGKILL after `limitMs`:
 * a hang the test guards against then fails it (`signal` is set) instead
 * of stalling the run, even where it would spin in microtasks.
 */
export async function evalInChild(
  script: string,
  args: string[],
  limitMs = 30_000,
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), limitMs);
  try {
    return await child.output();
  } finally {
    clearTimeout(guard);
  }
}

/** The JSON of an `init` record (no newline), for tests that write tapes by hand. */
export function initRecordJson(tapeId = "t-1"): string {
  return JSON.stringify({
    type: "init",
    version: 1,
    tape_id: tapeId,
    session_id: "s-1",
    created_at: "2026-11-22T03:00:00.000Z",
    protocol_version: null,
  });
}

/**
 * Whether this machine lets the tests mount a tmpfs (Linux, as root): a
 * real full disk needs a tiny file system. Tests that need one say so in
 * their names and are ignored otherwise.
 */
export async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = await Deno.makeTempDir({ prefix: "spool-tmpfs-probe-" });
  try {
    if (!(await mountTmpfs(dir, "64k"))) return false;
    await new Deno.Command("umount", { args: [dir] }).output();
    return true;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` with a fresh tmpfs of `size` (e.g. "256k") mounted on a temp dir, then unmounts it. */
export async function withTmpfs(size: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool-tmpfs-" });
  try {
    if (!(await mountTmpfs(dir, size))) throw new Error(`Cannot mount a tmpfs on '${dir}'`);
    try {
      await fn(dir);
    } finally {
      const umount = await new Deno.Command("umount", { args: [dir], stderr: "null" }).output();
      if (!umount.success) await new Deno.Command("umount", { args: ["-l", dir] }).output();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  const result = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return result?.success === true;
}

/** The bytes of `parts`, one after another, in a buffer of their own. */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs `fn` in a new temporary directory (named with `prefix`), removed after it, pass or fail. */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Makes the directories of one test file: each call gives a fresh one,
 * all under a temporary directory named with `prefix` that is removed when
 * the process ends.
 */
export async function testDirMaker(prefix: string): Promise<() => Promise<string>> {
  const work = await Deno.makeTempDir({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));
  let dirs = 0;
  return async () => {
    const dir = `${work}/${++dirs}`;
    await Deno.mkdir(dir);
    return dir;
  };
}
