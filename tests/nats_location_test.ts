/**
 * Parsing `nats://` and `tls://` locations: seed lists, query options,
 * where credentials come from (URL, program defaults, environment), and
 * messages that never show a secret.
 */

import assert from "node:assert/strict";
import {
  describeNats,
  isNatsLocation,
  type NatsCredentials,
  parseNatsLocation,
  redactNatsUrl,
  useNatsCredentials,
} from "../src/nats/nats_location.ts";
import { runProgram } from "./_helpers.ts";

type Env = (name: string) => string | undefined;
const noEnv: Env = () => undefined;
const envOf = (vars: Record<string, string>): Env => (name) => vars[name];

function withDefaults<T>(credentials: NatsCredentials, body: () => T): T {
  const before = useNatsCredentials(credentials);
  try {
    return body();
  } finally {
    useNatsCredentials(before);
  }
}

function assertRefusedText(text: string, message: RegExp, secret?: string, env: Env = noEnv) {
  assert.throws(() => parseNatsLocation(text, env), (e: Error) => {
    assert.ok(e instanceof TypeError, String(e));
    assert.match(e.message, message);
    if (secret !== undefined) assert.ok(!e.message.includes(secret), e.message);
    return true;
  });
}

Deno.test("nats location: several seed servers, default ports, IPv6", () => {
  assert.equal(
    parseNatsLocation("nats://h1:4222,h2:4223,10.0.0.3/S", noEnv)?.servers,
    "h1:4222,h2:4223,10.0.0.3:4222",
  );
  assert.equal(
    parseNatsLocation("nats://[::1]:5000,[fe80::2]/S", noEnv)?.servers,
    "[::1]:5000,[fe80::2]:4222",
  );
  const loc = parseNatsLocation("nats://ann:pw@h1,h2:1/S?subject=a.b", noEnv)!;
  assert.deepEqual(loc, {
    servers: "h1:4222,h2:1",
    stream: "S",
    subject: "a.b",
    user: "ann",
    pass: "pw",
  });
  assert.equal(describeNats(loc), "nats://ann:***@h1:4222,h2:1/S?subject=a.b");
});

Deno.test("nats location: bad servers, streams and options are refused by name", () => {
  assertRefusedText("nats:///S", /^Location 'nats:\/\/\/S' names no host/);
  assertRefusedText("nats://h1,,h2/S", /names no host/);
  assertRefusedText("nats://h:99999/S", /^Server 'h:99999' in '.*' is not HOST or HOST:PORT/);
  assertRefusedText("nats://h:x/S", /^Server 'h:x'/);
  assertRefusedText("nats://ann:pw@h", /names no stream/, "pw");
  assertRefusedText("nats://h/A.B", /^Stream name 'A.B'/);
  assertRefusedText("nats://h/S?subject=a.*", /^Subject 'a.\*'/);
  assertRefusedText(
    "nats://h/S?cred=/k/u.creds",
    /unknown option 'cred': give subject, creds, nkey/,
  );
  assertRefusedText("nats://h/S?password=hunter2", /unknown option 'password'/, "hunter2");
  assertRefusedText(
    "nats://h/S?token=tok-4&subject=a.*",
    /^Subject 'a.\*' in 'nats:\/\/h\/S\?token=\*\*\*&/,
    "tok-4",
  );
  assertRefusedText("nats://h/S?creds=", /^Option 'creds' in '.*' is empty: give a file path$/);
  assertRefusedText("nats://tok%zz@h/S", /bad '%' escape/, "tok");
});

Deno.test("nats location: files in the query, and tls:// or any TLS file requires TLS", () => {
  const loc = parseNatsLocation(
    "nats://h/S?creds=/k/u.creds&tls-ca=/k/ca.pem&tls-cert=/k/c.pem&tls-key=/k/c.key",
    noEnv,
  )!;
  assert.equal(loc.credsFile, "/k/u.creds");
  assert.deepEqual(loc.tls, { caFile: "/k/ca.pem", certFile: "/k/c.pem", keyFile: "/k/c.key" });
  assert.equal(
    describeNats(loc),
    "tls://h:4222/S?subject=spool.S&creds=/k/u.creds&tls-ca=/k/ca.pem&tls-cert=/k/c.pem&tls-key=/k/c.key",
  );
  // What describeNats shows parses back to the same location.
  assert.deepEqual(parseNatsLocation(describeNats(loc), noEnv), loc);
  assert.deepEqual(parseNatsLocation("tls://h/S", noEnv)?.tls, {});
  assert.equal(parseNatsLocation("nats://h/S", noEnv)?.tls, undefined);
  assert.equal(parseNatsLocation("nats://h/S?nkey=/k/u.nk", noEnv)?.nkeyFile, "/k/u.nk");
  assertRefusedText(
    "tls://h/S?tls-cert=/k/c.pem",
    /^TLS client certificate '\/k\/c.pem' comes without its key/,
  );
  assertRefusedText(
    "tls://h/S?tls-key=/k/c.key",
    /^TLS client key '\/k\/c.key' comes without its certificate/,
  );
  assert.equal(isNatsLocation("tls://h/S"), true);
  assert.equal(isNatsLocation("nats://h/S"), true);
  assert.equal(isNatsLocation("natsq/S"), false);
});

Deno.test("nats location: credentials come from the URL, then the program's defaults, then the environment", () => {
  const env = envOf({ NATS_USER: "env-user", NATS_PASSWORD: "env-pw", NATS_CA: "/env/ca.pem" });
  // The environment alone.
  const fromEnv = parseNatsLocation("nats://h/S", env)!;
  assert.deepEqual([fromEnv.user, fromEnv.pass, fromEnv.tls], ["env-user", "env-pw", {
    caFile: "/env/ca.pem",
  }]);
  withDefaults({
    credsFile: "/opt/u.creds",
    tls: { certFile: "/opt/c.pem", keyFile: "/opt/c.key" },
  }, () => {
    // The defaults win over the environment; TLS files are taken one by one.
    const loc = parseNatsLocation("nats://h/S", env)!;
    assert.equal(loc.credsFile, "/opt/u.creds");
    assert.equal(loc.user, undefined);
    assert.deepEqual(loc.tls, {
      caFile: "/env/ca.pem",
      certFile: "/opt/c.pem",
      keyFile: "/opt/c.key",
    });
    // The URL wins over both.
    const fromUrl = parseNatsLocation("nats://ann:url-pw@h/S?tls-ca=/url/ca.pem", env)!;
    assert.deepEqual([fromUrl.user, fromUrl.pass], ["ann", "url-pw"]);
    assert.equal(fromUrl.credsFile, undefined);
    assert.equal(fromUrl.tls?.caFile, "/url/ca.pem");
  });
  // Undefined and empty fields in the defaults are not given.
  withDefaults({ user: undefined, token: "", nkeyFile: "/opt/u.nk" }, () => {
    assert.equal(parseNatsLocation("nats://h/S", noEnv)?.nkeyFile, "/opt/u.nk");
  });
  // A URL user without a password takes the password from a less specific source.
  assert.deepEqual(
    parseNatsLocation("nats://ann@h/S", envOf({ NATS_PASSWORD: "pw" })),
    { servers: "h:4222", stream: "S", subject: "spool.S", user: "ann", pass: "pw" },
  );
  // Without one anywhere it is a token, as in the NATS CLI.
  assert.equal(parseNatsLocation("nats://s3cret@h/S", noEnv)?.token, "s3cret");
  assert.equal(parseNatsLocation("nats://h/S", envOf({ NATS_TOKEN: "t" }))?.token, "t");
  assert.deepEqual(
    withDefaults({ user: "svc" }, () => parseNatsLocation("nats://h/S", noEnv)),
    { servers: "h:4222", stream: "S", subject: "spool.S", user: "svc", pass: "" },
  );
});

Deno.test("nats location: one source giving two kinds of credentials is refused, without the secrets", () => {
  assertRefusedText(
    "nats://ann:pw-1@h/S?creds=/k/u.creds",
    /^Credentials in 'nats:\/\/ann:\*\*\*@h\/S\?creds=\/k\/u.creds' give both a creds file and a user and password: give one$/,
    "pw-1",
  );
  assertRefusedText(
    "nats://h/S",
    /^Credentials in the environment give both an nkey file and a token: give one$/,
    "tok-2",
    envOf({ NATS_NKEY: "/k/u.nk", NATS_TOKEN: "tok-2" }),
  );
  withDefaults({ credsFile: "/k/u.creds", nkeyFile: "/k/u.nk" }, () => {
    assertRefusedText(
      "nats://h/S",
      /^Credentials in the program's options give both a creds file and an nkey file/,
    );
  });
  assertRefusedText(
    "nats://h/S",
    /^Credentials in the environment give a password without a user name$/,
    "pw-3",
    envOf({ NATS_PASSWORD: "pw-3" }),
  );
});

Deno.test("nats location: secrets never show in what describes or redacts a location", () => {
  assert.equal(redactNatsUrl("nats://ann:p@ss@h1,h2/S"), "nats://ann:***@h1,h2/S");
  // An '@' past the servers hides more than the secret: never less.
  assert.equal(redactNatsUrl("tls://tok@h/S?creds=/a@b"), "tls://***@b");
  assert.equal(redactNatsUrl("nats://h:1/S?creds=/a@b"), "nats://h:***@b");
  // Only the options that name files or the subject show their values.
  assert.equal(
    redactNatsUrl("nats://h/S?pass=x&subject=a&tls-ca=/c"),
    "nats://h/S?pass=***&subject=a&tls-ca=/c",
  );
  const loc = parseNatsLocation("nats://ann:p%40ss@h/S", noEnv)!;
  assert.equal(loc.pass, "p@ss");
  assert.ok(!describeNats(loc).includes("p@ss"));
  const token = parseNatsLocation("nats://h/S", envOf({ NATS_TOKEN: "tok-9" }))!;
  assert.equal(describeNats(token), "nats://***@h:4222/S?subject=spool.S");
});

// Passwords and tokens holding what ends user info in a URL ('/', '?', '#')
// or '@', written raw.
const RAW_SECRETS = [
  ["nats://ann:k9/zq@127.0.0.1:4222/S", ["k9", "zq"]],
  ["nats://ann:k9?zq@h/S", ["k9", "zq"]],
  ["nats://ann:k9#zq@h/S", ["k9", "zq"]],
  ["nats://ann:19/zq@h:1/S", ["19", "zq"]],
  ["nats://ann:k9@zq/x7@h/S?subject=a.b", ["k9", "zq", "x7"]],
  ["nats://k9/zq@h/S", ["k9", "zq"]],
  ["tls://k9?zq@h/S", ["k9", "zq"]],
  ["nats://k9#zq@h:1/S", ["k9", "zq"]],
  ["nats://k9@zq/x7@h/S", ["k9", "zq", "x7"]],
] as const;

Deno.test("nats location: a raw '/', '?', '#' or '@' in a password or token never shows", () => {
  for (const [text, secrets] of RAW_SECRETS) {
    const shown = redactNatsUrl(text);
    for (const secret of secrets) assert.ok(!shown.includes(secret), `${text} → ${shown}`);
    assert.throws(() => parseNatsLocation(text, noEnv), (e: Error) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.equal(
        e.message,
        `Location '${shown}' has an '@' after its servers: in a password or token write '/', '?', '#' and '@' as '%2F', '%3F', '%23' and '%40', and '@' elsewhere as '%40'`,
      );
      return true;
    });
  }
  assert.equal(
    redactNatsUrl("nats://ann:pa/ss@127.0.0.1:4222/S"),
    "nats://ann:***@127.0.0.1:4222/S",
  );
  assert.equal(redactNatsUrl("nats://to#ken@h:1/S"), "nats://***@h:1/S");
  // Escaped, each is taken as written.
  const loc = parseNatsLocation("nats://ann:pa%2Fs%3Fs%23%40@h/S", noEnv)!;
  assert.equal(loc.pass, "pa/s?s#@");
  assert.equal(describeNats(loc), "nats://ann:***@h:4222/S?subject=spool.S");
  assert.equal(parseNatsLocation("nats://to%2Fken@h/S", noEnv)?.token, "to/ken");
  assert.equal(parseNatsLocation("nats://h/S?creds=/a%40b", noEnv)?.credsFile, "/a@b");
});

Deno.test("nats location: a program shows a raw password in one line, hidden", async () => {
  for (const [text, secrets] of RAW_SECRETS.slice(0, 3)) {
    const out = await runProgram("tail", [text]);
    assert.equal(out.code, 1, out.stderr); // a location tail cannot open, as a missing file
    assert.equal(out.stdout, "");
    const lines = out.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0]!, /^tail: .*'nats:\/\/ann:\*\*\*@.* has an '@' after its servers/);
    for (const secret of secrets) assert.ok(!out.stderr.includes(secret), out.stderr);
  }
});
