/**
 * The one place spool connects to a NATS server: the location's servers and
 * credentials become the client's options, and a failure becomes one line
 * that names the location without its secrets.
 *
 * @module
 */

import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { describeNats, type NatsLocation } from "./nats_location.ts";

/** How {@linkcode connectNats} connects. */
export interface NatsConnectOptions {
  /** The client's name, as the server's monitoring shows it (`spool`). */
  name?: string;
}

/**
 * The server at a location could not be reached, or refused the
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
 * ```
 */
export class NatsConnectError extends Error {
  /** The location, without secrets. */
  readonly location: string;

  /** Builds the error for the location (as `describeNats` shows it) and why. */
  constructor(location: string, reason: string, options?: ErrorOptions) {
    super(`Cannot connect to '${location}': ${reason}`, options);
    this.name = "NatsConnectError";
    this.location = location;
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
  for (const secret of [location.pass, location.token]) {
    if (secret !== undefined && secret !== "") message = message.replaceAll(secret, "***");
  }
  return message;
}

/**
 * Connects to the server of `location` with its credentials.
 *
 * @throws {NatsConnectError} when no server answers or the credentials are
 * refused; the message never shows a secret.
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
 * ```
 */
export async function connectNats(
  location: NatsLocation,
  options: NatsConnectOptions = {},
): Promise<NatsConnection> {
  const client: ConnectionOptions = {
    servers: location.servers,
    noAsyncTraces: true,
    name: options.name ?? "spool",
  };
  if (location.user !== undefined) client.user = location.user;
  if (location.pass !== undefined) client.pass = location.pass;
  if (location.token !== undefined) client.token = location.token;
  try {
    return await connect(client);
  } catch (e) {
    throw new NatsConnectError(
      describeNats(location),
      scrubSecrets(location, (e as Error).message),
      { cause: e },
    );
  }
}
