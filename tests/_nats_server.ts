/**
 * A real `nats-server` with JetStream for the tests: on a free loopback port,
 * its store in a temporary directory, always stopped by the test that
 * started it. Tests that need one are ignored when no server is installed.
 *
 * @module
 */

/** Path of the `nats-server` binary: `/usr/sbin/nats-server` or one on PATH; undefined when missing. */
export const natsServerPath: string | undefined = findNatsServer();

/** A running server; see {@linkcode startNatsServer}. */
export interface NatsServer {
  /** `nats://127.0.0.1:PORT`, without credentials. */
  url: string;
  /** Loopback port the server listens on, the same across restarts. */
  port: number;
  /** Stops the server and removes its store. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), keeping its store for a restart. */
  kill(): void;
  /** Kills the server if it runs and starts it again on the same port and store. */
  restart(): Promise<void>;
}

/** Credentials the server requires; none when not given. */
export interface NatsServerAuth {
  user: string;
  pass: string;
}

/** More of the server's setup, for tests of credentials and TLS. */
export interface NatsServerOptions {
  /** More command-line arguments (`--auth TOKEN`, `--tls`, …). */
  args?: string[];
  /** Text of a configuration file the server reads (`-c`), written into its store directory. */
  config?: string;
  /** Whether JetStream runs (`-js`); true unless given. */
  jetstream?: boolean;
}

/**
 * Starts `nats-server` (with JetStream unless `options` say otherwise) on a
 * free loopback port with a temporary store directory.
 */
export async function startNatsServer(
  auth?: NatsServerAuth,
  options: NatsServerOptions = {},
): Promise<NatsServer> {
  if (natsServerPath === undefined) throw new TypeError("No 'nats-server' installed");
  const dir = await Deno.makeTempDir({ prefix: "spool_nats_" });
  const port = freePort();
  const args = ["-a", "127.0.0.1", "-p", String(port), "-sd", dir, "-l", `${dir}/log`];
  if (options.jetstream ?? true) args.push("-js");
  if (auth !== undefined) args.push("--user", auth.user, "--pass", auth.pass);
  if (options.config !== undefined) {
    await Deno.writeTextFile(`${dir}/server.conf`, options.config);
    args.push("-c", `${dir}/server.conf`);
  }
  args.push(...options.args ?? []);
  const server = natsProcess(port, args);
  try {
    await server.restart();
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * A `nats-server` process on `port` with `args`, not started yet: its first
 * `restart()` starts it, `kill()` ends it at once, `stop()` ends it and waits;
 * its store is left where `args` put it.
 */
export function natsProcess(port: number, args: string[]): NatsServer {
  if (natsServerPath === undefined) throw new TypeError("No 'nats-server' installed");
  const path = natsServerPath;
  let child: Deno.ChildProcess | undefined;
  const kill = () => {
    try {
      child?.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  const halt = async () => {
    kill();
    await child?.status;
    child = undefined;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    kill,
    restart: async () => {
      await halt();
      child = new Deno.Command(path, { args, stdin: "null", stdout: "null", stderr: "null" })
        .spawn();
      try {
        await waitForListener(port, child);
      } catch (e) {
        await halt();
        throw e;
      }
    },
    stop: halt,
  };
}

function findNatsServer(): string | undefined {
  const candidates = ["/usr/sbin/nats-server"];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir !== "") candidates.push(`${dir}/nats-server`);
  }
  return candidates.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** A loopback port nobody listens on now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

// The server's greeting (`INFO {...}`) tells that it accepts clients; JetStream is ready by then.
/** Resolves once the server `child` on `port` greets a client; throws when it exits or stays silent 10 s. */
export async function waitForListener(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (exited) throw new Error(`nats-server on port '${port}' exited while starting`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const buf = new Uint8Array(4);
        const n = await conn.read(buf);
        if (n === 4 && new TextDecoder().decode(buf) === "INFO") return;
      } finally {
        conn.close();
      }
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nats-server on port '${port}' did not answer within 10 s`);
}
