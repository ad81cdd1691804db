/**
 * Logging in to real `nats-server` processes through connectNats: user and
 * password, token, nkey seed file, creds file (operator mode), TLS and
 * mutual TLS. Each way connects with the right credentials and is refused
 * with wrong ones, and no message shows a secret.
 */

import assert from "node:assert/strict";
import { nkeys } from "@nats-io/transport-node";
import {
  connectNats,
  NatsConnectError,
  NatsCredentialsError,
} from "../src/nats/nats_connection.ts";
import {
  type NatsLocation,
  parseNatsLocation,
  useNatsCredentials,
} from "../src/nats/nats_location.ts";
import { openJetStreamTarget } from "../src/nats/jetstream_target.ts";
import { JetStreamStream } from "../src/nats/jetstream_stream.ts";
import { freePort, natsServerPath, startNatsServer } from "./_nats_server.ts";
import { withTempDir } from "./_helpers.ts";

const ignore = natsServerPath === undefined;
type Env = (name: string) => string | undefined;
type KeyPair = ReturnType<typeof nkeys.createUser>;
const noEnv: Env = () => undefined;

function envOf(vars: Record<string, string>): Env {
  return (name) => vars[name];
}

function at(text: string, env: Env = noEnv): NatsLocation {
  return parseNatsLocation(text, env)!;
}

async function assertConnects(location: NatsLocation): Promise<void> {
  const nc = await connectNats(location);
  try {
    // A round trip: the server took the login and answers.
    await nc.flush();
    assert.equal(nc.isClosed(), false);
  } finally {
    await nc.close();
  }
}

// Refused by the server: a NatsConnectError that says so, without `secret`.
async function assertRefused(location: NatsLocation, secret: string): Promise<void> {
  const error = await connectNats(location).then(
    async (nc) => {
      await nc.close();
      return undefined;
    },
    (e: Error) => e,
  );
  assert.ok(error instanceof NatsConnectError, `expected a refusal, got ${error}`);
  assert.equal(error.refused, true, error.message);
  assert.match(error.message, /^Cannot connect to '.*': the server refused the credentials/);
  assert.ok(!error.message.includes(secret), error.message);
}

// A bad credentials file: one line naming it, without its content.
async function assertBadFile(
  location: NatsLocation,
  path: string,
  message: RegExp,
  content: string,
): Promise<void> {
  const error = await connectNats(location).then(() => undefined, (e: Error) => e);
  assert.ok(error instanceof NatsCredentialsError, `expected a file error, got ${error}`);
  assert.equal(error.path, path);
  assert.match(error.message, message);
  assert.ok(error.message.includes(`'${path}'`), error.message);
  assert.ok(!error.message.includes("\n"), error.message);
  if (content.trim() !== "") assert.ok(!error.message.includes(content.trim()), error.message);
}

Deno.test({
  name: "nats auth: user and password from the URL, the program's options or the environment",
  ignore,
  fn: async () => {
    const server = await startNatsServer({ user: "ann", pass: "hunter2-pass" });
    const dead = freePort();
    try {
      const base = `127.0.0.1:${server.port}`;
      await assertConnects(at(`nats://ann:hunter2-pass@${base}/S`));
      // One dead seed before the live one: the client moves on.
      await assertConnects(at(`nats://ann:hunter2-pass@127.0.0.1:${dead},${base}/S`));
      await assertConnects(
        at(`nats://${base}/S`, envOf({ NATS_USER: "ann", NATS_PASSWORD: "hunter2-pass" })),
      );
      const before = useNatsCredentials({ user: "ann", pass: "hunter2-pass" });
      try {
        await assertConnects(at(`nats://${base}/S`, envOf({ NATS_TOKEN: "ignored" })));
      } finally {
        useNatsCredentials(before);
      }
      // Refused again and again: the server's reset of each socket never surfaces as an
      // uncaught error after the clean refusal (it did, now and then, before connectNats
      // silenced sockets the client had given up).
      for (let attempt = 0; attempt < 20; attempt++) {
        await assertRefused(at(`nats://ann:wrong-pass-77@${base}/S`), "wrong-pass-77");
      }
      await assertRefused(
        at(`nats://${base}/S`, envOf({ NATS_USER: "ann", NATS_PASSWORD: "wrong-pass-78" })),
        "wrong-pass-78",
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "nats auth: a token from the URL or the environment",
  ignore,
  fn: async () => {
    const server = await startNatsServer(undefined, { args: ["--auth", "s3cr3t-token-1"] });
    try {
      const base = `127.0.0.1:${server.port}`;
      await assertConnects(at(`nats://s3cr3t-token-1@${base}/S`));
      await assertConnects(at(`nats://${base}/S`, envOf({ NATS_TOKEN: "s3cr3t-token-1" })));
      await assertRefused(at(`nats://wrong-token-2@${base}/S`), "wrong-token-2");
      await assertRefused(
        at(`nats://${base}/S`, envOf({ NATS_TOKEN: "wrong-token-3" })),
        "wrong-token-3",
      );
    } finally {
      await server.stop();
    }
  },
});

Deno.test({
  name: "nats auth: an nkey seed file, a refused key, and files that hold no seed",
  ignore,
  fn: () =>
    withTempDir("spool_nats_nkey_", async (dir) => {
      const user = nkeys.createUser();
      const stranger = nkeys.createUser();
      const seedOf = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());
      await Deno.writeTextFile(`${dir}/user.nk`, `${seedOf(user)}\n`);
      await Deno.writeTextFile(`${dir}/stranger.nk`, seedOf(stranger));
      const server = await startNatsServer(undefined, {
        config: `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`,
      });
      try {
        const base = `127.0.0.1:${server.port}`;
        await assertConnects(at(`nats://${base}/S?nkey=${dir}/user.nk`));
        await assertConnects(at(`nats://${base}/S`, envOf({ NATS_NKEY: `${dir}/user.nk` })));
        const before = useNatsCredentials({ nkeyFile: `${dir}/user.nk` });
        try {
          await assertConnects(at(`nats://${base}/S`));
        } finally {
          useNatsCredentials(before);
        }
        await assertRefused(at(`nats://${base}/S?nkey=${dir}/stranger.nk`), seedOf(stranger));

        // The wiring: a target and a reader log in the same way.
        const loc = at(`nats://${base}/AUTHED?nkey=${dir}/user.nk`);
        const target = await openJetStreamTarget(loc, { liveStreamId: "live" });
        target.append(1, new Uint8Array([7]), 0n);
        await target.close();
        const reader = await JetStreamStream.open(loc);
        reader.close();
        await reader.closed();

        // An account seed, a seed whose checksum is wrong, nothing at all.
        const files = {
          account: seedOf(nkeys.createAccount()),
          garbled: `SU${"A".repeat(56)}`,
          empty: "",
        };
        for (const [name, content] of Object.entries(files)) {
          const path = `${dir}/${name}.nk`;
          await Deno.writeTextFile(path, content);
          await assertBadFile(
            at(`nats://${base}/S?nkey=${path}`),
            path,
            /^Nkey file '.*' holds no user nkey seed: give a file holding a user nkey seed \('SU…'\)$/,
            content,
          );
        }
        await assertBadFile(
          at(`nats://${base}/S?nkey=${dir}/missing.nk`),
          `${dir}/missing.nk`,
          /^Nkey file '.*' cannot be read \(no such file or directory\): give a file/,
          "",
        );
      } finally {
        await server.stop();
      }
    }),
});

Deno.test({
  name: "nats auth: TLS with the server's CA, and mutual TLS with a client certificate",
  ignore,
  fn: () =>
    withTempDir("spool_nats_tls_", async (dir) => {
      await makeCertificates(dir);
      const tlsArgs = ["--tls", "--tlscert", `${dir}/server.pem`, "--tlskey", `${dir}/server.key`];
      const server = await startNatsServer(undefined, { args: tlsArgs });
      try {
        const base = `127.0.0.1:${server.port}`;
        await assertConnects(at(`tls://${base}/S?tls-ca=${dir}/ca.pem`));
        // A CA from the environment asks for TLS by itself.
        await assertConnects(at(`nats://${base}/S`, envOf({ NATS_CA: `${dir}/ca.pem` })));
        // Without the CA the server's certificate is not trusted.
        const untrusted = await connectNats(at(`tls://${base}/S`)).then(() => undefined, (e) => e);
        assert.ok(untrusted instanceof NatsConnectError, String(untrusted));
        assert.equal(untrusted.refused, false);
        assert.match(untrusted.message, /unable to verify the first certificate/);
        await assertBadFile(
          at(`tls://${base}/S?tls-ca=${dir}/server.key`),
          `${dir}/server.key`,
          /^TLS CA file '.*' holds no PEM certificate: give the certificate of the authority/,
          await Deno.readTextFile(`${dir}/server.key`),
        );

        const loc = at(`tls://${base}/SECURE?tls-ca=${dir}/ca.pem`);
        const target = await openJetStreamTarget(loc, { liveStreamId: "live" });
        target.append(1, new Uint8Array([7]), 0n);
        await target.close();
      } finally {
        await server.stop();
      }

      const mutual = await startNatsServer(undefined, {
        args: [...tlsArgs, "--tlsverify", "--tlscacert", `${dir}/ca.pem`],
      });
      try {
        const base = `127.0.0.1:${mutual.port}`;
        const client = `tls-cert=${dir}/client.pem&tls-key=${dir}/client.key`;
        await assertConnects(at(`tls://${base}/S?tls-ca=${dir}/ca.pem&${client}`));
        await assertConnects(
          at(
            `nats://${base}/S`,
            envOf({
              NATS_CA: `${dir}/ca.pem`,
              NATS_CERT: `${dir}/client.pem`,
              NATS_KEY: `${dir}/client.key`,
            }),
          ),
        );
        // A client without a certificate is not tested here: under TLS 1.3 the server
        // refuses it after the handshake, and the client then waits for its connect
        // timeout or meets an uncaught alert (a gap between the client and Deno's node:tls).
        const key = await Deno.readTextFile(`${dir}/client.key`);
        await assertBadFile(
          at(
            `tls://${base}/S?tls-ca=${dir}/ca.pem&tls-cert=${dir}/client.pem&tls-key=${dir}/ca.pem`,
          ),
          `${dir}/ca.pem`,
          /^TLS key file '.*' holds no PEM private key: give the client certificate's private key$/,
          key,
        );
      } finally {
        await mutual.stop();
      }
    }),
});

Deno.test({
  name: "nats auth: a creds file against an operator-mode server, and creds files that are not",
  ignore,
  fn: () =>
    withTempDir("spool_nats_creds_", async (dir) => {
      const operator = nkeys.createOperator();
      const account = nkeys.createAccount();
      const user = nkeys.createUser();
      const outsider = nkeys.createAccount();
      const operatorJwt = signJwt(operator, operator.getPublicKey(), { type: "operator" });
      const accountJwt = signJwt(operator, account.getPublicKey(), {
        type: "account",
        limits: {
          subs: -1,
          data: -1,
          payload: -1,
          imports: -1,
          exports: -1,
          wildcards: true,
          conn: -1,
          leaf: -1,
        },
      });
      const userClaims = { type: "user", pub: {}, sub: {}, subs: -1, data: -1, payload: -1 };
      await writeCreds(
        `${dir}/user.creds`,
        signJwt(account, user.getPublicKey(), userClaims),
        user,
      );
      // A user of an account the server does not know.
      const lost = nkeys.createUser();
      await writeCreds(
        `${dir}/lost.creds`,
        signJwt(outsider, lost.getPublicKey(), userClaims),
        lost,
      );
      const server = await startNatsServer(undefined, {
        jetstream: false,
        config: [
          `operator: ${operatorJwt}`,
          "resolver: MEMORY",
          `resolver_preload: { ${account.getPublicKey()}: ${accountJwt} }`,
          "",
        ].join("\n"),
      });
      try {
        const base = `127.0.0.1:${server.port}`;
        await assertConnects(at(`nats://${base}/S?creds=${dir}/user.creds`));
        await assertConnects(at(`nats://${base}/S`, envOf({ NATS_CREDS: `${dir}/user.creds` })));
        await assertRefused(
          at(`nats://${base}/S?creds=${dir}/lost.creds`),
          new TextDecoder().decode(lost.getSeed()),
        );

        const seed = new TextDecoder().decode(user.getSeed());
        await Deno.writeTextFile(
          `${dir}/seed-only.creds`,
          `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
        );
        await Deno.writeTextFile(`${dir}/plain.creds`, seed);
        for (const name of ["seed-only", "plain"]) {
          const path = `${dir}/${name}.creds`;
          await assertBadFile(
            at(`nats://${base}/S?creds=${path}`),
            path,
            /^Creds file '.*' holds no user JWT and nkey seed: give a NATS user credentials file/,
            seed,
          );
        }
      } finally {
        await server.stop();
      }
    }),
});

// A NATS JWT: header and claims in base64url, signed by the issuer's nkey.
function signJwt(issuer: KeyPair, subject: string, nats: Record<string, unknown>): string {
  const header = base64url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }));
  const claims = base64url(JSON.stringify({
    jti: crypto.randomUUID().replaceAll("-", "").toUpperCase(),
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name: subject.slice(0, 8),
    sub: subject,
    nats: { ...nats, version: 2 },
  }));
  const signature = issuer.sign(new TextEncoder().encode(`${header}.${claims}`));
  return `${header}.${claims}.${base64url(signature)}`;
}

function base64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

async function writeCreds(path: string, jwt: string, user: KeyPair): Promise<void> {
  const seed = new TextDecoder().decode(user.getSeed());
  await Deno.writeTextFile(
    path,
    [
      "-----BEGIN NATS USER JWT-----",
      jwt,
      "------END NATS USER JWT------",
      "",
      "The seed below proves the user's identity: keep it secret.",
      "",
      "-----BEGIN USER NKEY SEED-----",
      seed,
      "------END USER NKEY SEED------",
      "",
    ].join("\n"),
  );
}

// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it.
async function makeCertificates(dir: string): Promise<void> {
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const key = (name: string) =>
    openssl(
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      `${name}.key`,
    );
  await key("ca");
  await openssl(
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    "/CN=spool test CA",
    "-days",
    "2",
    "-out",
    "ca.pem",
  );
  for (
    const [name, extension] of [
      ["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"],
      ["client", "extendedKeyUsage=clientAuth"],
    ] as const
  ) {
    await key(name);
    await openssl(
      "req",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      `/CN=spool test ${name}`,
      "-out",
      `${name}.csr`,
    );
    await Deno.writeTextFile(`${dir}/${name}.ext`, `${extension}\n`);
    await openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
  }
}
