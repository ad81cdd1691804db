/**
 * `deno task compile [program…]`: builds `dist/<program>` for each program of
 * the manifest with `deno compile` and exactly the manifest's permission
 * flags.
 *
 * `deno compile` needs Deno's base runtime (denort). It is taken from
 * `DENORT_BIN` when that is set, otherwise from Deno's download cache; this
 * task never tries the network, and says in one line what is missing.
 *
 * @module
 */

import { PROGRAMS, type ProgramSpec } from "./manifest.ts";
import { newCommand, runProgram, UsageError, writeStderrLine } from "./_program.ts";

/** Where the base runtime comes from, or why it cannot be had. */
export type RuntimeSource =
  | { ok: true; via: "DENORT_BIN" | "cache"; path: string }
  | { ok: false; reason: string };

/**
 * Path of denort in Deno's download cache for the running Deno version, as
 * `deno compile` looks for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedRuntimePath } from "./compile.ts";
 * assert.equal(
 *   cachedRuntimePath("/root/.cache/deno"),
 *   `/root/.cache/deno/dl/release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`,
 * );
 * ```
 */
export function cachedRuntimePath(denoDir: string): string {
  const version = Deno.version.deno;
  return `${denoDir}/dl/release/v${version}/denort-${Deno.build.target}.zip`;
}

async function denoDir(): Promise<string> {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir?: string };
  if (!info.denoDir) throw new Error("Cannot find Deno's cache directory from 'deno info'");
  return info.denoDir;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Where {@linkcode findRuntime} looks; each defaults to the environment. */
export interface RuntimeLookup {
  /** Value of `DENORT_BIN`; defaults to the environment variable. */
  denortBin?: string | undefined;
  /** Deno's cache directory; defaults to `DENO_DIR` or what `deno info` reports. */
  denoDir?: string;
}

/**
 * Finds the base runtime `deno compile` will use, without touching the
 * network.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findRuntime } from "./compile.ts";
 * const missing = await findRuntime({ denortBin: "/nonexistent/denort" });
 * assert.equal(missing.ok, false);
 * const given = await findRuntime({ denortBin: Deno.execPath() });
 * assert.deepEqual(given, { ok: true, via: "DENORT_BIN", path: Deno.execPath() });
 * ```
 */
export async function findRuntime(lookup: RuntimeLookup = {}): Promise<RuntimeSource> {
  const bin = "denortBin" in lookup ? lookup.denortBin : Deno.env.get("DENORT_BIN");
  if (bin) {
    return (await exists(bin))
      ? { ok: true, via: "DENORT_BIN", path: bin }
      : { ok: false, reason: `DENORT_BIN is set to '${bin}', which is not a file` };
  }
  const cached = cachedRuntimePath(lookup.denoDir ?? await denoDir());
  if (await exists(cached)) return { ok: true, via: "cache", path: cached };
  return {
    ok: false,
    reason: `The Deno base runtime (denort ${Deno.version.deno}) cannot be downloaded here: ` +
      `set DENORT_BIN to a denort binary, or place the archive at '${cached}'`,
  };
}

async function compileOne(program: ProgramSpec, outDir: string): Promise<string> {
  const output = `${outDir}/${program.name}`;
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--quiet",
      "--output",
      output,
      ...program.permissions,
      ...program.include.flatMap((module) => ["--include", module]),
      program.entry,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr);
    // deno prefixes ANSI colours; keep the first line that says what failed.
    // deno-lint-ignore no-control-regex
    const plain = text.replace(/\x1b\[[0-9;]*m/g, "");
    const line = plain.split("\n").find((l) => l.includes("error")) ?? plain.trim();
    throw new Error(`Cannot compile '${program.name}': ${line.trim()}`);
  }
  return output;
}

/**
 * Compiles the named programs (all when none is named) into `outDir`.
 *
 * @example
 * ```ts ignore
 * import { main } from "./compile.ts";
 * Deno.exit(await main(["tail"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const command = newCommand("compile", "Build dist/<program> for each program of the manifest")
    .argument(
      "[programs...]",
      `programs to build (default: all of ${PROGRAMS.map((p) => p.name).join(", ")})`,
    )
    .option("--out-dir <dir>", "directory for the binaries", "dist")
    .addHelpText(
      "after",
      "\nThe base runtime comes from DENORT_BIN, or else from Deno's download cache; the network is never tried.",
    );
  await command.parseAsync(args, { from: "user" });
  const names = command.processedArgs[0];
  const { outDir } = command.opts();
  const unknown = names.filter((n) => !PROGRAMS.some((p) => p.name === n));
  if (unknown.length > 0) {
    throw new UsageError(
      `No program '${unknown[0]}' in the manifest (have: ${
        PROGRAMS.map((p) => p.name).join(", ")
      })`,
    );
  }
  const wanted = names.length === 0 ? PROGRAMS : PROGRAMS.filter((p) => names.includes(p.name));
  const runtime = await findRuntime();
  if (!runtime.ok) throw new Error(runtime.reason);
  await Deno.mkdir(outDir, { recursive: true });
  for (const program of wanted) {
    const output = await compileOne(program, outDir);
    writeStderrLine("compile", `built '${output}' (${program.permissions.join(" ")})`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await runProgram("compile", () => main(Deno.args)));
