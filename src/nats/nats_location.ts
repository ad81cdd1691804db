/**
 * Where a JetStream stream lives, written as
 * `nats://[user:pass@|token@]HOST[:PORT]/STREAM[?subject=SUBJ]`, and how
 * messages name it without showing a secret.
 *
 * @module
 */

/** A JetStream stream on a NATS server, parsed by {@linkcode parseNatsLocation}. */
export interface NatsLocation {
  /** `HOST:PORT` of the server, as the client's `servers` option takes it. */
  servers: string;
  /** Name of the JetStream stream. */
  stream: string;
  /** Subject the records are published on; `spool.<stream>` unless given. */
  subject: string;
  /** User name, from the URL or `NATS_USER`. */
  user?: string;
  /** Password, from the URL or `NATS_PASSWORD`. */
  pass?: string;
  /** Token, from the URL (`token@HOST`) or `NATS_TOKEN`. */
  token?: string;
}

const PREFIX = "nats://";
const DEFAULT_PORT = 4222;
// JetStream refuses these in a stream name: they would split or wildcard subjects and paths.
const BAD_STREAM_NAME = /[\s.*>/\\]/;
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/**
 * Parses a `nats://` location, taking credentials missing from the URL from
 * `NATS_USER`, `NATS_PASSWORD` and `NATS_TOKEN` in `env` (the process
 * environment unless given). A name without a password (`nats://x@HOST`) is
 * a token, as in the NATS CLI, unless `NATS_PASSWORD` gives its password.
 * Returns undefined when `text` is not `nats://`.
 *
 * @throws {TypeError} when the location names no host or no stream, or its
 * stream name or subject is not one JetStream takes; the message never shows
 * a password or a token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNatsLocation } from "./nats_location.ts";
 * const env = (name: string) => (name === "NATS_PASSWORD" ? "s3cret" : undefined);
 * assert.deepEqual(parseNatsLocation("nats://ann@127.0.0.1:4333/TRADES", env), {
 *   servers: "127.0.0.1:4333",
 *   stream: "TRADES",
 *   subject: "spool.TRADES",
 *   user: "ann",
 *   pass: "s3cret",
 * });
 * assert.equal(parseNatsLocation("nats://h/S?subject=a.b", () => undefined)?.subject, "a.b");
 * assert.equal(parseNatsLocation("nats://tok@h/S", () => undefined)?.token, "tok");
 * assert.equal(parseNatsLocation("./queue"), undefined);
 * assert.throws(() => parseNatsLocation("nats://u:pw@h:1/"), (e: Error) => !e.message.includes("pw"));
 * ```
 */
export function parseNatsLocation(
  text: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): NatsLocation | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const shown = redactNatsUrl(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`Location '${shown}' is not a URL: give 'nats://HOST:PORT/STREAM'`);
  }
  if (url.hostname === "") {
    throw new TypeError(`Location '${shown}' names no host: give 'nats://HOST:PORT/STREAM'`);
  }
  const stream = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (stream === "") {
    throw new TypeError(`Location '${shown}' names no stream: give 'nats://HOST:PORT/STREAM'`);
  }
  if (BAD_STREAM_NAME.test(stream)) {
    throw new TypeError(
      `Stream name '${stream}' in '${shown}' has a space, '.', '*', '>', '/' or '\\': JetStream refuses it`,
    );
  }
  const subject = url.searchParams.get("subject") ?? `spool.${stream}`;
  if (!SUBJECT.test(subject)) {
    throw new TypeError(
      `Subject '${subject}' in '${shown}' is not a plain subject: give dot-separated tokens without spaces or wildcards`,
    );
  }
  const location: NatsLocation = {
    servers: `${url.hostname}:${url.port === "" ? DEFAULT_PORT : url.port}`,
    stream,
    subject,
  };
  const name = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password) || env("NATS_PASSWORD") || "";
  // `token@HOST` carries a token, as in the NATS CLI, unless a password is given for that user.
  const user = password !== "" ? name || env("NATS_USER") || "" : "";
  if (user !== "") {
    location.user = user;
    location.pass = password;
  } else {
    const token = name || env("NATS_TOKEN") || "";
    if (token !== "") location.token = token;
  }
  return location;
}

/**
 * The location as messages show it: the user name stays, a password or a
 * token becomes `***`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeNats } from "./nats_location.ts";
 * const loc = { servers: "h:4222", stream: "S", subject: "spool.S", user: "ann", pass: "pw" };
 * assert.equal(describeNats(loc), "nats://ann:***@h:4222/S?subject=spool.S");
 * assert.equal(describeNats({ servers: "h:4222", stream: "S", subject: "x", token: "t" }), "nats://***@h:4222/S?subject=x");
 * ```
 */
export function describeNats(loc: NatsLocation): string {
  const auth = loc.user !== undefined
    ? `${loc.user}${loc.pass === undefined ? "" : ":***"}@`
    : loc.token !== undefined
    ? "***@"
    : "";
  return `${PREFIX}${auth}${loc.servers}/${loc.stream}?subject=${loc.subject}`;
}

/**
 * `text` with the password or token of its `nats://` URL shown as `***`, for
 * messages about a location that may not parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactNatsUrl } from "./nats_location.ts";
 * assert.equal(redactNatsUrl("nats://ann:pw@h:1/S"), "nats://ann:***@h:1/S");
 * assert.equal(redactNatsUrl("nats://tok@h:1/S"), "nats://***@h:1/S");
 * assert.equal(redactNatsUrl("nats://h:1/S"), "nats://h:1/S");
 * ```
 */
export function redactNatsUrl(text: string): string {
  return text.replace(/^(nats:\/\/)([^@/]*)@/, (_, scheme: string, auth: string) => {
    const colon = auth.indexOf(":");
    return colon < 0 ? `${scheme}***@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}
