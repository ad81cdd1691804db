/**
 * The options every program shares for NATS JetStream streams: the
 * credential and TLS files a connection uses (beside the URL and the
 * environment), and, for the programs that write, the replicas of a stream
 * created and how long to keep trying when the server is lost. Parsing only;
 * the files are read by `src/nats/` when it connects.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import { durationMs, positiveWholeNumber } from "./_options.ts";
import { type NatsCredentials, useNatsCredentials } from "../src/nats/mod.ts";

/**
 * Adds `--creds`, `--nkey`, `--tls-ca`, `--tls-cert` and `--tls-key` to
 * `command`: files a NATS connection authenticates with. A URL's own
 * credentials win over them, and they win over `NATS_CREDS`, `NATS_NKEY`,
 * `NATS_CA`, `NATS_CERT` and `NATS_KEY`. Read them back with
 * {@linkcode useNatsFlags}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Command } from "@commander-js/extra-typings";
 * import { addNatsCredentialOptions } from "./_nats_options.ts";
 * const command = addNatsCredentialOptions(new Command());
 * assert.deepEqual(command.options.map((o) => o.long), [
 *   "--creds",
 *   "--nkey",
 *   "--tls-ca",
 *   "--tls-cert",
 *   "--tls-key",
 * ]);
 * ```
 */
export function addNatsCredentialOptions<T extends { addOption(option: Option): unknown }>(
  command: T,
): T {
  for (
    const option of [
      new Option("--creds <file>", "NATS credentials file (JWT and nkey seed) for nats:// streams"),
      new Option("--nkey <file>", "file holding an nkey seed (SU…) for nats:// streams"),
      new Option(
        "--tls-ca <file>",
        "CA certificate (PEM) that verifies a nats:// server; means TLS",
      ),
      new Option("--tls-cert <file>", "client certificate (PEM) for mutual TLS; with --tls-key"),
      new Option("--tls-key <file>", "private key (PEM) of --tls-cert"),
    ]
  ) command.addOption(option);
  return command;
}

/** The values of the options {@linkcode addNatsCredentialOptions} adds, as commander parses them. */
export interface NatsCredentialFlags {
  creds?: string | undefined;
  nkey?: string | undefined;
  tlsCa?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

/**
 * Makes the credential and TLS files given by flags the defaults every
 * NATS connection of this program uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { useNatsFlags } from "./_nats_options.ts";
 * import { useNatsCredentials } from "../src/nats/mod.ts";
 * useNatsFlags({ creds: "/keys/tap.creds", tlsCa: "/keys/ca.pem" });
 * assert.deepEqual(useNatsCredentials(undefined), {
 *   credsFile: "/keys/tap.creds",
 *   tls: { caFile: "/keys/ca.pem" },
 * });
 * ```
 */
export function useNatsFlags(flags: NatsCredentialFlags): void {
  const given: NatsCredentials = {};
  if (flags.creds !== undefined) given.credsFile = flags.creds;
  if (flags.nkey !== undefined) given.nkeyFile = flags.nkey;
  const tls: NonNullable<NatsCredentials["tls"]> = {};
  if (flags.tlsCa !== undefined) tls.caFile = flags.tlsCa;
  if (flags.tlsCert !== undefined) tls.certFile = flags.tlsCert;
  if (flags.tlsKey !== undefined) tls.keyFile = flags.tlsKey;
  if (Object.keys(tls).length > 0) given.tls = tls;
  if (Object.keys(given).length > 0) useNatsCredentials(given);
}

/**
 * `--replicas N`: replicas of a JetStream stream created now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replicasOption } from "./_nats_options.ts";
 * assert.equal(replicasOption().long, "--replicas");
 * ```
 */
export function replicasOption() {
  return new Option(
    "--replicas <n>",
    "replicas of a JetStream stream created now (nats://…; default 1); an existing one must have as many",
  ).argParser(positiveWholeNumber);
}

/**
 * `--retry-for DURATION`: how long a JetStream writer keeps trying after it
 * lost the server before it stops.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryForOption } from "./_nats_options.ts";
 * assert.equal(retryForOption().long, "--retry-for");
 * ```
 */
export function retryForOption() {
  return new Option(
    "--retry-for <duration>",
    "with nats://…: keep trying this long after the server is lost, then stop with exit 1 " +
      "(default 60s; '500ms', '30s', '2m')",
  ).argParser(durationMs);
}
