/**
 * Where a JetStream stream lives and how spool logs in to its servers,
 * written as
 * `nats://[user:pass@|token@]HOST[:PORT][,HOST[:PORT]…]/STREAM[?subject=SUBJ]`
 * (`tls://` requires TLS), and how messages name it without showing a secret.
 *
 * Credentials come from the most specific source that gives any: the URL
 * (user info; `creds=`, `nkey=` file paths in the query), then the program's
 * defaults ({@linkcode useNatsCredentials}, set from a program's flags), then
 * the environment as the NATS CLI names it (`NATS_USER`, `NATS_PASSWORD`,
 * `NATS_TOKEN`, `NATS_CREDS`, `NATS_NKEY`). TLS files (`tls-ca=`,
 * `tls-cert=`, `tls-key=`; `NATS_CA`, `NATS_CERT`, `NATS_KEY`) are taken one
 * by one in the same order, and any of them requires TLS. Passwords, tokens
 * and the content of credential files never appear in a message; file paths
 * do, so an operator sees which file was used.
 *
 * @module
 */

/** TLS files of a location; each is a path to a PEM file. */
export interface NatsTls {
  /** Certificate of the authority that signed the server's certificate. */
  caFile?: string;
  /** Client certificate, for servers that verify clients (mutual TLS). */
  certFile?: string;
  /** Private key of the client certificate. */
  keyFile?: string;
}

/** A JetStream stream on NATS servers, parsed by {@linkcode parseNatsLocation}. */
export interface NatsLocation {
  /**
   * `HOST:PORT` of the seed servers, comma-separated
   * (`h1:4222,h2:4222`); {@linkcode connectNats} splits them.
   */
  servers: string;
  /** Name of the JetStream stream. */
  stream: string;
  /** Subject the records are published on; `spool.<stream>` unless given. */
  subject: string;
  /** User name, sent with {@linkcode NatsLocation.pass}. */
  user?: string;
  /** Password of {@linkcode NatsLocation.user}. */
  pass?: string;
  /** Token, for servers that authenticate by token. */
  token?: string;
  /** Path of a NATS credentials file (user JWT and nkey seed). */
  credsFile?: string;
  /** Path of a file holding a user nkey seed (`SU…`). */
  nkeyFile?: string;
  /** TLS files; present (even empty) when TLS is required. */
  tls?: NatsTls;
}

/**
 * Credentials a program gives by default, for locations whose URL gives
 * none; see {@linkcode useNatsCredentials}. Fields left undefined or empty
 * are not given.
 */
export interface NatsCredentials {
  /** User name. */
  user?: string | undefined;
  /** Password of the user. */
  pass?: string | undefined;
  /** Token. */
  token?: string | undefined;
  /** Path of a NATS credentials file. */
  credsFile?: string | undefined;
  /** Path of a file holding a user nkey seed. */
  nkeyFile?: string | undefined;
  /** TLS files; present (even empty) when TLS is required. */
  tls?: {
    caFile?: string | undefined;
    certFile?: string | undefined;
    keyFile?: string | undefined;
  } | undefined;
}

const SCHEMES = ["nats://", "tls://"] as const;
const DEFAULT_PORT = 4222;
// JetStream refuses these in a stream name: they would split or wildcard subjects and paths.
const BAD_STREAM_NAME = /[\s.*>/\\]/;
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
// A host name or IPv4 address, or an IPv6 address in brackets, then an optional port.
const SEED = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]@]+)(?::(\d{1,5}))?$/;
const FILE_PARAMS = {
  "creds": "credsFile",
  "nkey": "nkeyFile",
  "tls-ca": "caFile",
  "tls-cert": "certFile",
  "tls-key": "keyFile",
} as const;
const ENV_NAMES = {
  user: "NATS_USER",
  pass: "NATS_PASSWORD",
  token: "NATS_TOKEN",
  credsFile: "NATS_CREDS",
  nkeyFile: "NATS_NKEY",
  caFile: "NATS_CA",
  certFile: "NATS_CERT",
  keyFile: "NATS_KEY",
} as const;
const USAGE = "give 'nats://HOST:PORT/STREAM'";

let defaults: NatsCredentials | undefined;

/**
 * Makes `credentials` the defaults every location parsed from now on uses
 * when its URL gives none (a program's `--creds`, `--nkey`, `--tls-ca`, …
 * flags), or forgets them with undefined. Returns the ones before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNatsLocation, useNatsCredentials } from "./nats_location.ts";
 * const before = useNatsCredentials({ credsFile: "/keys/tap.creds" });
 * assert.equal(parseNatsLocation("nats://h/S", () => undefined)?.credsFile, "/keys/tap.creds");
 * // The URL is more specific: its token wins over the defaults.
 * assert.equal(parseNatsLocation("nats://tok@h/S", () => undefined)?.credsFile, undefined);
 * assert.deepEqual(useNatsCredentials(before), { credsFile: "/keys/tap.creds" });
 * ```
 */
export function useNatsCredentials(
  credentials: NatsCredentials | undefined,
): NatsCredentials | undefined {
  const previous = defaults;
  defaults = credentials;
  return previous;
}

/**
 * Whether `text` is a NATS location (`nats://…` or `tls://…`) rather than a
 * path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isNatsLocation } from "./nats_location.ts";
 * assert.equal(isNatsLocation("tls://h:4222/S"), true);
 * assert.equal(isNatsLocation("./queue"), false);
 * ```
 */
export function isNatsLocation(text: string): boolean {
  return SCHEMES.some((scheme) => text.startsWith(scheme));
}

/**
 * Parses a `nats://` or `tls://` location, taking credentials the URL does
 * not give from {@linkcode useNatsCredentials}'s defaults, then from `env`
 * (the process environment unless given). A name without a password
 * (`nats://x@HOST`) is a token, as in the NATS CLI, unless a less specific
 * source gives its password. Returns undefined when `text` is not a NATS
 * location.
 *
 * @throws {TypeError} when the location names no host or no stream, has
 * an `@` after its servers (a password or token with a raw `/`, `?` or
 * `#`: write them `%2F`, `%3F`, `%23`), a
 * server, stream name, subject or query option is not one NATS takes, one
 * source gives two kinds of credentials, or a TLS certificate comes without
 * its key; the message never shows a password or a token.
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
 * const none = () => undefined;
 * assert.equal(parseNatsLocation("nats://h/S?subject=a.b", none)?.subject, "a.b");
 * assert.equal(parseNatsLocation("nats://tok@h/S", none)?.token, "tok");
 * assert.equal(parseNatsLocation("nats://h1,h2:4223/S", none)?.servers, "h1:4222,h2:4223");
 * assert.deepEqual(parseNatsLocation("tls://h/S?tls-ca=/etc/ca.pem", none)?.tls, { caFile: "/etc/ca.pem" });
 * assert.equal(parseNatsLocation("./queue"), undefined);
 * assert.throws(() => parseNatsLocation("nats://u:pw@h:1/"), (e: Error) => !e.message.includes("pw"));
 * ```
 */
export function parseNatsLocation(
  text: string,
  env: (name: string) => string | undefined = readEnvironment,
): NatsLocation | undefined {
  const scheme = SCHEMES.find((s) => text.startsWith(s));
  if (scheme === undefined) return undefined;
  const shown = redactNatsUrl(text);
  const rest = text.slice(scheme.length).replace(/#.*$/s, "");
  const cut = rest.search(/[/?]/);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  const at = authority.lastIndexOf("@");
  // An '@' past the servers leaves it unclear where a password ends, and
  // what follows it may be one: nothing of the text is shown but `shown`.
  if (text.lastIndexOf("@") > scheme.length + at) {
    throw new TypeError(
      `Location '${shown}' has an '@' after its servers: in a password or token write '/', '?', '#' and '@' as '%2F', '%3F', '%23' and '%40', and '@' elsewhere as '%40'`,
    );
  }
  const hosts = authority.slice(at + 1);
  const afterAuthority = cut < 0 ? "" : rest.slice(cut);
  const question = afterAuthority.indexOf("?");
  const path = question < 0 ? afterAuthority : afterAuthority.slice(0, question);
  const query = new URLSearchParams(question < 0 ? "" : afterAuthority.slice(question + 1));

  const servers = hosts.split(",").map((seed) => parseSeed(seed, shown)).join(",");
  const stream = decode(path.replace(/^\//, ""), shown);
  if (stream === "") throw new TypeError(`Location '${shown}' names no stream: ${USAGE}`);
  if (BAD_STREAM_NAME.test(stream)) {
    throw new TypeError(
      `Stream name '${stream}' in '${shown}' has a space, '.', '*', '>', '/' or '\\': JetStream refuses it`,
    );
  }
  const subject = query.get("subject") ?? `spool.${stream}`;
  if (!SUBJECT.test(subject)) {
    throw new TypeError(
      `Subject '${subject}' in '${shown}' is not a plain subject: give dot-separated tokens without spaces or wildcards`,
    );
  }

  const fromUrl: NatsCredentials = {};
  if (at >= 0) {
    const info = authority.slice(0, at);
    const colon = info.indexOf(":");
    fromUrl.user = decode(colon < 0 ? info : info.slice(0, colon), shown);
    if (colon >= 0) fromUrl.pass = decode(info.slice(colon + 1), shown);
  }
  const urlTls: Record<string, string> = {};
  for (const [key, value] of query) {
    if (key === "subject") continue;
    if (!Object.hasOwn(FILE_PARAMS, key)) {
      throw new TypeError(
        `Location '${shown}' has an unknown option '${key}': give subject, creds, nkey, tls-ca, tls-cert or tls-key`,
      );
    }
    if (value === "") {
      throw new TypeError(`Option '${key}' in '${shown}' is empty: give a file path`);
    }
    const field = FILE_PARAMS[key as keyof typeof FILE_PARAMS];
    if (field === "credsFile" || field === "nkeyFile") fromUrl[field] = value;
    else urlTls[field] = value;
  }
  if (scheme === "tls://" || Object.keys(urlTls).length > 0) fromUrl.tls = urlTls;

  const fromEnv: NatsCredentials = {};
  for (const field of ["user", "pass", "token", "credsFile", "nkeyFile"] as const) {
    fromEnv[field] = env(ENV_NAMES[field]);
  }
  const envTls = {
    caFile: env(ENV_NAMES.caFile),
    certFile: env(ENV_NAMES.certFile),
    keyFile: env(ENV_NAMES.keyFile),
  };
  if (Object.values(envTls).some(given)) fromEnv.tls = envTls;

  const sources: Source[] = [
    { where: `'${shown}'`, credentials: fromUrl, isUrl: true },
    { where: "the program's options", credentials: defaults ?? {}, isUrl: false },
    { where: "the environment", credentials: fromEnv, isUrl: false },
  ];
  return { servers, stream, subject, ...chooseLogin(sources), ...chooseTls(sources) };
}

interface Source {
  where: string;
  credentials: NatsCredentials;
  isUrl: boolean;
}

type Login = Pick<NatsLocation, "user" | "pass" | "token" | "credsFile" | "nkeyFile">;

// One way of logging in, from the most specific source that gives any.
function chooseLogin(sources: Source[]): Login {
  const index = sources.findIndex(({ credentials: c }) =>
    [c.user, c.pass, c.token, c.credsFile, c.nkeyFile].some(given)
  );
  const source = sources[index];
  if (source === undefined) return {};
  const c = source.credentials;
  const kinds = [
    given(c.credsFile) && "a creds file",
    given(c.nkeyFile) && "an nkey file",
    (given(c.user) || given(c.pass)) && "a user and password",
    given(c.token) && "a token",
  ].filter((kind) => kind !== false);
  if (kinds.length > 1) {
    throw new TypeError(
      `Credentials in ${source.where} give both ${kinds[0]} and ${kinds[1]}: give one`,
    );
  }
  if (given(c.credsFile)) return { credsFile: c.credsFile };
  if (given(c.nkeyFile)) return { nkeyFile: c.nkeyFile };
  if (given(c.token)) return { token: c.token };
  // A user name or a password alone takes its partner from a less specific source.
  const later = sources.slice(index + 1).map((s) => s.credentials);
  const user = [c.user, ...later.map((l) => l.user)].find(given);
  const pass = [c.pass, ...later.map((l) => l.pass)].find(given);
  if (user === undefined) {
    throw new TypeError(`Credentials in ${source.where} give a password without a user name`);
  }
  if (pass !== undefined) return { user, pass };
  // `token@HOST` carries a token, as in the NATS CLI.
  return source.isUrl ? { token: user } : { user, pass: "" };
}

// TLS files one by one, each from the most specific source that gives it.
function chooseTls(sources: Source[]): Pick<NatsLocation, "tls"> {
  if (sources.every((s) => s.credentials.tls === undefined)) return {};
  const tls: NatsTls = {};
  for (const field of ["caFile", "certFile", "keyFile"] as const) {
    const path = sources.map((s) => s.credentials.tls?.[field]).find(given);
    if (path !== undefined) tls[field] = path;
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const [has, lacks] = tls.certFile === undefined
      ? [`key '${tls.keyFile}'`, "certificate"]
      : [`certificate '${tls.certFile}'`, "key"];
    throw new TypeError(
      `TLS client ${has} comes without its ${lacks}: give both a certificate and a key file`,
    );
  }
  return { tls };
}

function given(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function parseSeed(seed: string, shown: string): string {
  if (seed === "") throw new TypeError(`Location '${shown}' names no host: ${USAGE}`);
  const match = SEED.exec(seed);
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new TypeError(`Server '${seed}' in '${shown}' is not HOST or HOST:PORT: ${USAGE}`);
  }
  return `${match[1]}:${port}`;
}

function decode(text: string, shown: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError(`Location '${shown}' has a bad '%' escape: write '%25' for '%'`);
  }
}

// Without --allow-env there is no environment to take credentials from.
function readEnvironment(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The location as messages show it: the user name and the file paths stay,
 * a password or a token becomes `***`. Parsing the result gives the same
 * location without its secrets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeNats } from "./nats_location.ts";
 * const loc = { servers: "h:4222", stream: "S", subject: "spool.S", user: "ann", pass: "pw" };
 * assert.equal(describeNats(loc), "nats://ann:***@h:4222/S?subject=spool.S");
 * assert.equal(describeNats({ servers: "h:4222", stream: "S", subject: "x", token: "t" }), "nats://***@h:4222/S?subject=x");
 * assert.equal(
 *   describeNats({ servers: "h1:1,h2:2", stream: "S", subject: "x", credsFile: "/k/u.creds", tls: {} }),
 *   "tls://h1:1,h2:2/S?subject=x&creds=/k/u.creds",
 * );
 * ```
 */
export function describeNats(loc: NatsLocation): string {
  const auth = loc.user !== undefined
    ? `${loc.user}${loc.pass === undefined ? "" : ":***"}@`
    : loc.token !== undefined
    ? "***@"
    : "";
  const files: [string, string | undefined][] = [
    ["creds", loc.credsFile],
    ["nkey", loc.nkeyFile],
    ["tls-ca", loc.tls?.caFile],
    ["tls-cert", loc.tls?.certFile],
    ["tls-key", loc.tls?.keyFile],
  ];
  const query = files.map(([key, path]) => path === undefined ? "" : `&${key}=${path}`).join("");
  const scheme = loc.tls === undefined ? "nats://" : "tls://";
  return `${scheme}${auth}${loc.servers}/${loc.stream}?subject=${loc.subject}${query}`;
}

/**
 * `text` with the password or token of its `nats://` or `tls://` URL shown
 * as `***`, and the values of query options spool does not know too, for
 * messages about a location that may not parse. Everything up to the last
 * `@` counts as user info, so a password with a raw `@`, `/`, `?` or `#`
 * stays hidden, at the cost of hiding more when the path or the query has
 * an `@`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactNatsUrl } from "./nats_location.ts";
 * assert.equal(redactNatsUrl("nats://ann:pw@h:1/S"), "nats://ann:***@h:1/S");
 * assert.equal(redactNatsUrl("nats://ann:p/w@h:1/S"), "nats://ann:***@h:1/S");
 * assert.equal(redactNatsUrl("tls://tok@h:1,h:2/S"), "tls://***@h:1,h:2/S");
 * assert.equal(redactNatsUrl("nats://h:1/S"), "nats://h:1/S");
 * assert.equal(redactNatsUrl("nats://h:1/S?password=pw"), "nats://h:1/S?password=***");
 * ```
 */
export function redactNatsUrl(text: string): string {
  const redacted = text.replace(
    /^(nats:\/\/|tls:\/\/)(.*)@/s,
    (_, scheme: string, auth: string) => {
      const colon = auth.indexOf(":");
      const user = auth.slice(0, colon);
      // A user name never holds '/', '?', '#' or '@': such text may be a secret.
      return colon < 0 || /[/?#@]/.test(user) ? `${scheme}***@` : `${scheme}${user}:***@`;
    },
  );
  // A value given under a name spool does not know may be a secret put there by mistake.
  const question = redacted.indexOf("?");
  if (question < 0) return redacted;
  const query = redacted.slice(question).replace(
    /([?&])([^=&#]*)=([^&#]*)/g,
    (whole, sep: string, key: string) =>
      key === "subject" || Object.hasOwn(FILE_PARAMS, key) ? whole : `${sep}${key}=***`,
  );
  return redacted.slice(0, question) + query;
}
