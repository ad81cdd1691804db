/**
 * Where a tape is recorded, as its meta file's `environment` says.
 *
 * @module
 */

import type { TapeEnvironment } from "./types.ts";

let cached: TapeEnvironment | undefined;

/**
 * Describes where this process records: working directory, host, process
 * id (so a tape left `recording` can be told from a live one), operating
 * system and Deno version. Only what the process may already read is
 * included: each permission is queried first, never prompted for. The
 * hostname needs `--allow-sys=hostname`, or read access to `/etc/hostname`
 * instead. The facts are gathered once per process; each call returns a
 * fresh copy, to which the caller may add the `command`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordingEnvironment } from "./recording_environment.ts";
 * const env = recordingEnvironment();
 * assert.equal(env.pid, Deno.pid);
 * assert.equal(env.os, Deno.build.os);
 * assert.equal(env.command, undefined);
 * ```
 */
export function recordingEnvironment(): TapeEnvironment {
  cached ??= gather();
  return { ...cached };
}

function gather(): TapeEnvironment {
  const env: TapeEnvironment = {};
  if (granted({ name: "read", path: "." })) {
    try {
      env.cwd = Deno.cwd();
    } catch {
      // The directory was removed.
    }
  }
  const hostname = readHostname();
  if (hostname !== undefined) env.hostname = hostname;
  env.pid = Deno.pid;
  env.os = Deno.build.os;
  env.deno = Deno.version.deno;
  return env;
}

function readHostname(): string | undefined {
  if (granted({ name: "sys", kind: "hostname" })) {
    try {
      return Deno.hostname();
    } catch {
      // Fall through to the file.
    }
  }
  if (!granted({ name: "read", path: "/etc/hostname" })) return undefined;
  try {
    const name = Deno.readTextFileSync("/etc/hostname").trim();
    return name === "" ? undefined : name;
  } catch {
    // Not Linux.
    return undefined;
  }
}

/** Asks without prompting: an unpermitted call would prompt on a terminal. */
function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}
