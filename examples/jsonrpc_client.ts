/**
 * A small MCP-style JSON-RPC 2.0 client. It starts the server command given
 * after `--`, talks to it over the child's stdin/stdout, answers the
 * server's own requests, prints each exchange on stderr and exits with 0
 * when every answer was as expected.
 *
 * Options before `--`: `--quiet` prints nothing but failures' exit status;
 * `--pace MS` waits MS milliseconds between requests.
 *
 * Run it: `deno run --allow-run examples/jsonrpc_client.ts -- deno run examples/jsonrpc_server.ts`
 *
 * @module
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Message = { [k: string]: Json };

const sep = Deno.args.indexOf("--");
const command = sep === -1 ? [] : Deno.args.slice(sep + 1);
if (command.length === 0) {
  console.error("usage: jsonrpc_client.ts -- <server command> [args...]");
  Deno.exit(2);
}
const own = Deno.args.slice(0, sep);
const quiet = own.includes("--quiet");
// --pace MS waits between requests, so a live follower has something to watch.
const paceAt = own.indexOf("--pace");
const paceMs = paceAt === -1 ? 0 : Number(own[paceAt + 1] ?? 0);

const child = new Deno.Command(command[0]!, {
  args: command.slice(1),
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const writer = child.stdin.getWriter();
const encoder = new TextEncoder();
const pending = new Map<Json, (m: Message) => void>();
let nextId = 0;

function say(text: string): void {
  if (!quiet) console.error(`example-client: ${text}`);
}

async function send(message: Message): Promise<void> {
  await writer.write(encoder.encode(JSON.stringify(message) + "\n"));
}

async function request(method: string, params: Json = {}): Promise<Message> {
  if (paceMs > 0 && nextId > 0) await new Promise((r) => setTimeout(r, paceMs));
  const id = ++nextId;
  const answer = new Promise<Message>((resolve) => pending.set(id, resolve));
  void send({ jsonrpc: "2.0", id, method, params });
  return answer;
}

async function readLoop(): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim() === "") continue;
      const message = JSON.parse(line) as Message;
      if (typeof message.method === "string" && message.id !== undefined) {
        // The server asks us something: answer like a host would.
        say(`server asked ${message.method}`);
        await send({
          jsonrpc: "2.0",
          id: message.id,
          result: { role: "assistant", content: { type: "text", text: "forty-two" } },
        });
      } else if (message.id !== undefined) {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      }
    }
  }
}

const reading = readLoop();
let failures = 0;
function expect(what: string, ok: boolean): void {
  say(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

const init = await request("initialize", {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "spool-example-client", version: "1.0.0" },
});
const negotiated = (init.result as Message | undefined)?.protocolVersion;
expect(`initialize negotiated ${JSON.stringify(negotiated)}`, typeof negotiated === "string");
await send({ jsonrpc: "2.0", method: "notifications/initialized" });
const tools = await request("tools/list");
expect("tools/list", Array.isArray((tools.result as Message | undefined)?.tools));
const sum = await request("tools/call", { name: "add", arguments: { a: 2, b: 3 } });
const sumText = JSON.stringify(sum.result ?? sum.error);
expect(`add(2, 3) answered ${sumText}`, sumText.includes('"5"'));
const asked = await request("tools/call", { name: "ask", arguments: { question: "meaning?" } });
expect("ask round trip through the client", JSON.stringify(asked.result).includes("forty-two"));
const missing = await request("no/such/method");
expect("unknown method gives an error", missing.error !== undefined);
await request("ping");
expect("ping", true);

await writer.close();
await reading;
const status = await child.status;
say(`server exited with ${status.code}`);
Deno.exit(failures === 0 && status.success ? 0 : 1);
