/**
 * Peer servers for the chronicle benchmarks: `redis-server` and
 * `nats-server`, each started on loopback on a free port with a fresh
 * temporary data directory, and stopped (killed, directory removed) when the
 * bench is done, when it fails, and when it is interrupted.
 *
 * When a server binary is missing, Debian's packages are installed once with
 * `apt-get`; when that fails too, the server is reported unavailable with the
 * reason instead of failing the bench.
 *
 * Redis runs without persistence (`--save "" --appendonly no`): a record is
 * "written" once it is in the server's memory, which is what the chronicle's
 * `ipc` durability promises (in the page cache, visible to other processes,
 * not yet on disk). NATS JetStream keeps file storage in its data directory,
 * and SQLite and the plain file peer write through the page cache, the same
 * as the chronicle.
 *
 * @module
 */

import type { Peer, UnavailablePeer } from "./peers/peer.ts";

/** A running peer server. */
export interface Service {
  /** What runs, e.g. `redis-server 7.0.15`. */
  readonly name: string;
  /** The loopback port it listens on. */
  readonly port: number;
  /** Its temporary data directory. */
  readonly dir: string;
  /** Kills the server and removes its data directory; safe to call twice. */
  stop(): Promise<void>;
}

/** A server that could not be started, and why. */
export interface Unavailable {
  /** The server's binary name. */
  readonly name: string;
  /** One line saying why, e.g. `apt-get install failed (status 100)`. */
  readonly unavailable: string;
}

const PACKAGES = { "redis-server": "redis-server", "nats-server": "nats-server" } as const;
type Binary = keyof typeof PACKAGES;

const live = new Set<{ child: Deno.ChildProcess; dir: string }>();
let installAttempt: Promise<string | undefined> | undefined;

/** Kills every server still running and removes its directory, synchronously. */
function stopAllNow(): void {
  for (const s of live) {
    try {
      s.child.kill("SIGKILL");
    } catch { /* already gone */ }
    try {
      Deno.removeSync(s.dir, { recursive: true });
    } catch { /* already gone */ }
  }
  live.clear();
}
// For an exit that skips the benches' `finally` blocks: Deno.exit, Ctrl-C, an uncaught error.
globalThis.addEventListener("unload", stopAllNow);
globalThis.addEventListener("error", stopAllNow);
globalThis.addEventListener("unhandledrejection", stopAllNow);
const onSignal = () => Deno.exit(130);
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Exits (running the unload cleanup) on Ctrl-C while any server runs. */
function listenForSignals(on: boolean): void {
  for (const signal of SIGNALS) {
    try {
      if (on) Deno.addSignalListener(signal, onSignal);
      else Deno.removeSignalListener(signal, onSignal);
    } catch { /* signals not supported here */ }
  }
}

function which(binary: string): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat([
    "/usr/sbin",
    "/usr/bin",
    "/usr/local/sbin",
    "/usr/local/bin",
    "/sbin",
    "/bin",
  ]);
  for (const d of dirs) {
    if (d === "") continue;
    try {
      const info = Deno.statSync(`${d}/${binary}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${d}/${binary}`;
    } catch { /* not here */ }
  }
  return undefined;
}

async function run(
  cmd: string,
  args: string[],
): Promise<{ ok: boolean; code: number; err: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
    return { ok: out.success, code: out.code, err: new TextDecoder().decode(out.stderr).trim() };
  } catch (e) {
    return { ok: false, code: -1, err: (e as Error).message };
  }
}

/** Installs both servers with apt-get, once per process; returns why it failed, if it did. */
function installServers(): Promise<string | undefined> {
  installAttempt ??= (async () => {
    console.log("bench: installing redis-server and nats-server with apt-get");
    const update = await run("apt-get", ["update", "-q"]);
    if (!update.ok) return `apt-get update failed (status ${update.code})`;
    const install = await run("apt-get", ["install", "-y", "-q", ...Object.values(PACKAGES)]);
    if (!install.ok) return `apt-get install failed (status ${install.code})`;
    return undefined;
  })();
  return installAttempt;
}

/**
 * The path of a server binary, installing Debian's package when it is
 * missing; the reason when that failed.
 */
async function locate(binary: Binary): Promise<{ path: string } | { reason: string }> {
  let path = which(binary);
  if (path !== undefined) return { path };
  const failed = await installServers();
  path = which(binary);
  if (path !== undefined) return { path };
  const reason = failed ?? `'${binary}' is still missing after installing '${PACKAGES[binary]}'`;
  console.log(`bench: ${binary} unavailable: ${reason}`);
  return { reason };
}

/** A port on 127.0.0.1 that nothing listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Connects, optionally sends `hello`, and resolves to the first bytes the server answers. */
async function greet(port: number, hello: string | undefined): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    if (hello !== undefined) await conn.write(new TextEncoder().encode(hello));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

async function version(path: string): Promise<string> {
  try {
    const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped" }).output();
    const m = /v=?(\d+\.\d+\.\d+)/.exec(new TextDecoder().decode(out.stdout));
    return m ? m[1]! : "?";
  } catch {
    return "?";
  }
}

async function launch(
  binary: Binary,
  argsFor: (port: number, dir: string) => string[],
  ready: (port: number) => Promise<boolean>,
): Promise<Service | Unavailable> {
  const found = await locate(binary);
  if ("reason" in found) return { name: binary, unavailable: found.reason };
  const dir = await Deno.makeTempDir({ prefix: `spool-bench-${binary}-` });
  const port = freePort();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(found.path, {
      args: argsFor(port, dir),
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    return { name: binary, unavailable: `cannot start '${found.path}': ${(e as Error).message}` };
  }
  const entry = { child, dir };
  if (live.size === 0) listenForSignals(true);
  live.add(entry);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!live.has(entry)) return;
    live.delete(entry);
    if (live.size === 0) listenForSignals(false);
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline && !exited) {
    if (await ready(port).catch(() => false)) {
      return { name: `${binary} ${await version(found.path)}`, port, dir, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let log = "";
  try {
    log = Deno.readTextFileSync(`${dir}/server.log`).trim().split("\n").slice(-1)[0] ?? "";
  } catch { /* no log */ }
  await stop();
  const why = exited ? "exited at start" : "not ready within 10 s";
  return { name: binary, unavailable: `${binary} ${why}${log ? `: ${log}` : ""}` };
}

/**
 * Starts `redis-server` on a free loopback port without persistence
 * (`--save "" --appendonly no`), with a fresh data directory.
 *
 * @example
 * ```ts ignore
 * const redis = await startRedis();
 * if ("port" in redis) await redis.stop();
 * ```
 */
export function startRedis(): Promise<Service | Unavailable> {
  return launch(
    "redis-server",
    (port, dir) => [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "no",
      "--daemonize",
      "no",
      "--logfile",
      `${dir}/server.log`,
    ],
    async (port) => (await greet(port, "PING\r\n")).startsWith("+PONG"),
  );
}

/**
 * Starts `nats-server` with JetStream on a free loopback port, its file
 * storage in a fresh data directory.
 *
 * @example
 * ```ts ignore
 * const nats = await startNats();
 * if ("port" in nats) await nats.stop();
 * ```
 */
export function startNats(): Promise<Service | Unavailable> {
  return launch(
    "nats-server",
    (
      port,
      dir,
    ) => ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir, "-l", `${dir}/server.log`],
    async (port) => (await greet(port, undefined)).startsWith("INFO"),
  );
}

/** Whether a start result is a running service. */
export function isRunning(s: Service | Unavailable): s is Service {
  return "port" in s;
}

/**
 * A peer on a server this bench started, or why it is unavailable: the
 * server did not start, or its client failed to connect.
 */
export async function serverPeer(
  service: Service | Unavailable,
  open: (s: Service) => Promise<Peer>,
  label: string,
): Promise<Peer | UnavailablePeer> {
  if (!isRunning(service)) return { name: label, unavailable: service.unavailable };
  try {
    return await open(service);
  } catch (e) {
    return { name: label, unavailable: `client failed: ${(e as Error).message}` };
  }
}
