/**
 * The one place spool connects to NATS servers: the location's seed servers,
 * credentials and TLS files become the client's options, and a failure
 * becomes one line that names the location without its secrets.
 *
 * Credential files are read and checked before connecting, so a wrong path
 * or a file of the wrong kind is a {@linkcode NatsCredentialsError} naming
 * the file, never a server's puzzling refusal. Creds and nkey files are
 * read again on each reconnect, so a rotated file takes effect without a
 * restart (the last good content is kept when a re-read fails).
 *
 * @module
 */

import {
  connect,
  type ConnectionOptions,
  jwtAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  nkeys,
  type TlsOptions,
} from "@nats-io/transport-node";
import { NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";
import type { Socket } from "node:net";
import { describeNats, type NatsLocation, type NatsTls } from "./nats_location.ts";
import { ioReason } from "../tape/io_reason.ts";

patchNodeTransport();

/** How {@linkcode connectNats} connects. */
export interface NatsConnectOptions {
  /** The client's name, as the server's monitoring shows it (`spool`). */
  name?: string;
}

/**
 * The servers at a location could not be reached, or refused the
 * credentials. The message names the location as {@linkcode describeNats}
 * shows it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsConnectError } from "./nats_connection.ts";
 * const e = new NatsConnectError("nats://h:4222/S?subject=spool.S", "refused");
 * assert.equal(e.message, "Cannot connect to 'nats://h:4222/S?subject=spool.S': refused");
 * assert.equal(e.location, "nats://h:4222/S?subject=spool.S");
 * assert.equal(e.refused, false);
 * ```
 */
export class NatsConnectError extends Error {
  /** The location, without secrets. */
  readonly location: string;
  /** Whether a server answered and refused the credentials (retrying does not help). */
  readonly refused: boolean;

  /** Builds the error for the location (as `describeNats` shows it) and why. */
  constructor(
    location: string,
    reason: string,
    options?: ErrorOptions & { refused?: boolean },
  ) {
    super(`Cannot connect to '${location}': ${reason}`, options);
    this.name = "NatsConnectError";
    this.location = location;
    this.refused = options?.refused ?? false;
  }
}

/**
 * A credentials or TLS file that cannot be read or does not hold what it
 * should. The message names the file and what to give, never its content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NatsCredentialsError } from "./nats_connection.ts";
 * const e = new NatsCredentialsError("Nkey file '/k/u.nk' holds no user nkey seed", "/k/u.nk");
 * assert.equal(e.path, "/k/u.nk");
 * assert.ok(e instanceof TypeError);
 * ```
 */
export class NatsCredentialsError extends TypeError {
  /** The file at fault. */
  readonly path: string;

  /** Builds the error; the message names the file. */
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NatsCredentialsError";
    this.path = path;
  }
}

/**
 * `message` with every secret of `location` shown as `***`, for text that
 * comes from the client or the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scrubSecrets } from "./nats_connection.ts";
 * const loc = { servers: "h:1", stream: "S", subject: "spool.S", user: "ann", pass: "pw" };
 * assert.equal(scrubSecrets(loc, "bad password 'pw'"), "bad password '***'");
 * ```
 */
export function scrubSecrets(location: NatsLocation, message: string): string {
  return scrub([location.pass, location.token], message);
}

function scrub(secrets: (string | undefined)[], message: string): string {
  for (const secret of secrets) {
    if (secret !== undefined && secret !== "") message = message.replaceAll(secret, "***");
  }
  return message;
}

/**
 * Connects to one of the seed servers of `location` with its credentials
 * and TLS files.
 *
 * @throws {NatsCredentialsError} when a creds, nkey or TLS file cannot be
 * read or holds the wrong thing.
 * @throws {NatsConnectError} when no server answers, TLS fails, or the
 * credentials are refused; the message never shows a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectNats } from "./nats_connection.ts";
 * const loc = { servers: "127.0.0.1:1", stream: "S", subject: "spool.S", user: "ann", pass: "pw" };
 * await assert.rejects(
 *   connectNats(loc),
 *   (e: Error) => e.name === "NatsConnectError" && !e.message.includes("pw"),
 * );
 * await assert.rejects(connectNats({ ...loc, nkeyFile: "/nonexistent/u.nk" }), {
 *   name: "NatsCredentialsError",
 *   message: /^Nkey file '\/nonexistent\/u\.nk' cannot be read \(no such file or directory\)/,
 * });
 * ```
 */
export async function connectNats(
  location: NatsLocation,
  options: NatsConnectOptions = {},
): Promise<NatsConnection> {
  const client: ConnectionOptions = {
    servers: location.servers.split(","),
    noAsyncTraces: true,
    name: options.name ?? "spool",
  };
  if (location.user !== undefined) client.user = location.user;
  if (location.pass !== undefined) client.pass = location.pass;
  if (location.token !== undefined) client.token = location.token;
  // Seeds read from files, scrubbed from messages like the location's own secrets.
  const seeds: string[] = [];
  if (location.nkeyFile !== undefined) {
    const now = await rereading(location.nkeyFile, "nkey");
    seeds.push(now().seed);
    client.authenticator = nkeyAuthenticator(() => encode(now().seed));
  }
  if (location.credsFile !== undefined) {
    const now = await rereading(location.credsFile, "creds");
    seeds.push(now().seed);
    client.authenticator = jwtAuthenticator(() => now().jwt, () => encode(now().seed));
  }
  if (location.tls !== undefined) client.tls = await readTls(location.tls);
  try {
    return await connect(client);
  } catch (e) {
    const refused = (e as Error).name === "AuthorizationError";
    const reason = refused
      ? "the server refused the credentials (authorization violation)"
      : (e as Error).message;
    throw new NatsConnectError(
      describeNats(location),
      scrub([location.pass, location.token, ...seeds], reason),
      { cause: e, refused },
    );
  }
}

interface Credentials {
  /** The user JWT of a creds file; empty for an nkey file. */
  jwt: string;
  /** The user nkey seed, `SU…`. */
  seed: string;
}

type CredentialKind = "nkey" | "creds";

const WHAT: Record<CredentialKind, { label: string; give: string }> = {
  nkey: { label: "Nkey file", give: "give a file holding a user nkey seed ('SU…')" },
  creds: {
    label: "Creds file",
    give: "give a NATS user credentials file (a user JWT and its nkey seed)",
  },
};

async function readCredentialFile(path: string, kind: CredentialKind): Promise<Credentials> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new NatsCredentialsError(
      `${WHAT[kind].label} '${path}' cannot be read (${ioReason(e)}): ${WHAT[kind].give}`,
      path,
    );
  }
  return parseCredentials(text, path, kind);
}

function parseCredentials(text: string, path: string, kind: CredentialKind): Credentials {
  const found = kind === "nkey" ? { jwt: "", seed: text.trim() } : credsBlocks(text);
  if (found !== undefined && isUserSeed(found.seed) && (kind === "nkey" || isJwt(found.jwt))) {
    return found;
  }
  const holds = kind === "nkey" ? "holds no user nkey seed" : "holds no user JWT and nkey seed";
  throw new NatsCredentialsError(
    `${WHAT[kind].label} '${path}' ${holds}: ${WHAT[kind].give}`,
    path,
  );
}

// A creds file holds two blocks fenced by dashed lines
// (`-----BEGIN NATS USER JWT-----` … `------END NATS USER JWT------`): the JWT, then the seed.
function credsBlocks(text: string): Credentials | undefined {
  const blocks: string[] = [];
  let current: string[] | undefined;
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (/^-{3,}.*-{3,}$/.test(line)) {
      if (current === undefined) {
        current = [];
      } else {
        blocks.push(current.join(""));
        current = undefined;
      }
    } else if (current !== undefined) {
      current.push(line);
    }
  }
  const [jwt, seed] = blocks;
  return jwt === undefined || seed === undefined ? undefined : { jwt, seed };
}

function isUserSeed(seed: string): boolean {
  if (!seed.startsWith("SU")) return false;
  try {
    nkeys.fromSeed(encode(seed));
    return true;
  } catch {
    return false;
  }
}

function isJwt(jwt: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(jwt);
}

// Reads the file now (failing on a bad one), then again each time the client
// logs in, keeping the last good credentials when a re-read fails: the server judges them.
async function rereading(path: string, kind: CredentialKind): Promise<() => Credentials> {
  let last = await readCredentialFile(path, kind);
  return () => {
    try {
      last = parseCredentials(Deno.readTextFileSync(path), path, kind);
    } catch { /* keep the last good ones */ }
    return last;
  };
}

const TLS_FILES = [
  {
    field: "caFile",
    option: "ca",
    label: "TLS CA file",
    pem: /-----BEGIN CERTIFICATE-----/,
    holds: "PEM certificate",
    give: "give the certificate of the authority that signed the server's certificate",
  },
  {
    field: "certFile",
    option: "cert",
    label: "TLS certificate file",
    pem: /-----BEGIN CERTIFICATE-----/,
    holds: "PEM certificate",
    give: "give the client certificate",
  },
  {
    field: "keyFile",
    option: "key",
    label: "TLS key file",
    pem: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    holds: "PEM private key",
    give: "give the client certificate's private key",
  },
] as const;

async function readTls(tls: NatsTls): Promise<TlsOptions> {
  const options: TlsOptions = {};
  for (const { field, option, label, pem, holds, give } of TLS_FILES) {
    const path = tls[field];
    if (path === undefined) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new NatsCredentialsError(
        `${label} '${path}' cannot be read (${ioReason(e)}): ${give}`,
        path,
      );
    }
    if (!pem.test(text)) {
      throw new NatsCredentialsError(`${label} '${path}' holds no ${holds}: ${give}`, path);
    }
    options[option] = text;
  }
  return options;
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

// Two gaps between the client and Deno's node:net and node:tls, closed here
// for every connection of the process:
// - The client removes every listener of a socket it gives up, then destroys
//   it. Deno may still deliver a late `read ECONNRESET` on that socket (the
//   server closes it after refusing a login, for example), and an 'error'
//   event without a listener ends the process with an uncaught error after
//   the caller has its clean NatsConnectError. A do-nothing listener, added
//   once the client is done with the socket, keeps that late event harmless.
// - For a server given by IP address the client names no TLS server, and
//   Deno then checks the certificate against 'localhost' where Node checks
//   the address: the address is given as the TLS host, as Node takes it.
function patchNodeTransport(): void {
  type Method = (this: NodeTransport, ...args: unknown[]) => unknown;
  const prototype = NodeTransport.prototype as unknown as Record<string, Method>;
  for (const name of ["connect", "discard", "_closed"]) {
    const original = prototype[name]!;
    prototype[name] = function (this: NodeTransport, ...args: unknown[]) {
      const [hp, options] = args as [{ hostname: string; tlsName: string }?, ConnectionOptions?];
      if (name === "connect" && hp?.tlsName === "" && typeof options?.tls === "object") {
        args[1] = { ...options, tls: { ...options.tls, host: hp.hostname } };
      }
      const before = this.socket as Socket | undefined;
      const silence = () => {
        for (const socket of new Set([before, this.socket as Socket | undefined])) {
          if (socket?.destroyed) socket.on("error", ignore);
        }
      };
      const result = original.apply(this, args);
      if (result instanceof Promise) return result.finally(silence);
      silence();
      return result;
    };
  }
}

function ignore(): void {}

/**
 * Why a JetStream stream could not be opened for reading or writing, before
 * any record was read or sent: no JetStream on the server or the account, or
 * no answer.
 */
export class JetStreamOpenError extends Error {
  /** The stream, as {@linkcode describeNats} shows it. */
  readonly stream: string;

  /**
   * Builds the error for the stream (as `describeNats` shows it) and why.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { JetStreamOpenError } from "./nats_connection.ts";
   * const e = new JetStreamOpenError("nats://h:4222/S?subject=spool.S", "JetStream is not enabled on the server");
   * assert.equal(e.message, "Could not open JetStream stream 'nats://h:4222/S?subject=spool.S': JetStream is not enabled on the server");
   * ```
   */
  constructor(stream: string, reason: string, options?: ErrorOptions) {
    super(`Could not open JetStream stream '${stream}': ${reason}`, options);
    this.name = "JetStreamOpenError";
    this.stream = stream;
  }
}

/**
 * JetStream's error code for an account without JetStream, which both the
 * opening of a stream and a publish can meet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOT_ENABLED_FOR_ACCOUNT } from "./nats_connection.ts";
 * assert.equal(NOT_ENABLED_FOR_ACCOUNT, 10039);
 * ```
 */
export const NOT_ENABLED_FOR_ACCOUNT = 10039;

/**
 * The {@linkcode JetStreamOpenError} for a failure of the client while a
 * stream at `location` was opened, saying what to do where the cause is
 * known; no secret of the location shows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openError } from "./nats_connection.ts";
 * const loc = { servers: "h:4222", stream: "S", subject: "spool.S", user: "ann", pass: "pw" };
 * const e = openError(loc, Object.assign(new Error("no"), { name: "JetStreamNotEnabled" }));
 * assert.match(e.message, /^Could not open JetStream stream 'nats:\/\/ann:\*\*\*@h:4222\/S.*': JetStream is not enabled on the server/);
 * ```
 */
export function openError(location: NatsLocation, e: Error): JetStreamOpenError {
  let reason = e.message;
  if (e.name === "JetStreamNotEnabled") {
    // The client says so for a server without JetStream (no one answers
    // its API) and for an account without it (the server's refusal).
    reason = (e.cause as { code?: number } | undefined)?.code === NOT_ENABLED_FOR_ACCOUNT
      ? "JetStream is not enabled for this account: enable it in the server's account configuration"
      : "JetStream is not enabled on the server: start it with '-js' or a 'jetstream' block in its configuration";
  } else if (e.name === "TimeoutError") {
    reason = "no JetStream server answered in time: check that the server runs and has JetStream";
  }
  return new JetStreamOpenError(describeNats(location), scrubSecrets(location, reason), {
    cause: e,
  });
}
