/**
 * A small MCP-style JSON-RPC 2.0 server on stdio, used by the demo and the
 * tests as the thing `spool record` sits in front of.
 *
 * Methods: `initialize` (negotiates a protocol version), `ping`,
 * `tools/list`, `tools/call` with the tools `add` and `echo`, and `slow`
 * (answers after `params.ms` milliseconds). Calling the tool `ask` makes the
 * server send its own request (`sampling/createMessage`) to the client and
 * answer with the client's reply. Anything else gets a "method not found"
 * error. With `--changed` the `add` tool answers wrongly, so a verify run
 * has something to catch.
 *
 * Run it: `deno run examples/jsonrpc_server.ts`
 *
 * @module
 */

const SUPPORTED_VERSIONS = ["2025-06-18", "2025-03-26", "2024-11-05"];
const changed = Deno.args.includes("--changed");

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Message = { [k: string]: Json };

const encoder = new TextEncoder();
let outgoingId = 0;
const waiting = new Map<number, (result: Json) => void>();

async function send(message: Message): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(message) + "\n");
  let written = 0;
  while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
}

function log(text: string): void {
  Deno.stderr.writeSync(encoder.encode(`example-server: ${text}\n`));
}

function ask(question: string): Promise<Json> {
  const id = `srv-${++outgoingId}`;
  const reply = new Promise<Json>((resolve) => waiting.set(outgoingId, resolve));
  void send({
    jsonrpc: "2.0",
    id,
    method: "sampling/createMessage",
    params: { messages: [{ role: "user", content: { type: "text", text: question } }] },
  });
  return reply;
}

async function callTool(params: Message): Promise<Json> {
  const args = (params.arguments ?? {}) as Message;
  switch (params.name) {
    case "add": {
      const sum = Number(args.a) + Number(args.b) + (changed ? 1 : 0);
      return { content: [{ type: "text", text: String(sum) }] };
    }
    case "echo":
      return { content: [{ type: "text", text: String(args.text ?? "") }] };
    case "ask": {
      const answer = await ask(String(args.question ?? "?"));
      return { content: [{ type: "text", text: JSON.stringify(answer) }] };
    }
    default:
      throw { code: -32602, message: `Unknown tool '${String(params.name)}'` };
  }
}

async function handle(message: Message): Promise<void> {
  if (message.method === undefined) {
    // A response to one of our own requests.
    const id = typeof message.id === "string" ? Number(message.id.slice(4)) : NaN;
    waiting.get(id)?.(message.result ?? message.error ?? null);
    waiting.delete(id);
    return;
  }
  if (message.id === undefined) {
    if (message.method === "notifications/initialized") log("client initialized");
    return;
  }
  const id = message.id;
  const params = (message.params ?? {}) as Message;
  try {
    let result: Json;
    switch (message.method) {
      case "initialize": {
        const wanted = String(params.protocolVersion ?? "");
        result = {
          protocolVersion: SUPPORTED_VERSIONS.includes(wanted) ? wanted : SUPPORTED_VERSIONS[0]!,
          capabilities: { tools: {} },
          serverInfo: { name: "spool-example-server", version: "1.0.0" },
        };
        break;
      }
      case "ping":
        result = {};
        break;
      case "tools/list":
        result = {
          tools: [
            { name: "add", description: "Adds a and b" },
            { name: "echo", description: "Returns text" },
            { name: "ask", description: "Asks the client a question" },
          ],
        };
        break;
      case "tools/call":
        result = await callTool(params);
        break;
      case "slow":
        await new Promise((r) => setTimeout(r, Number(params.ms ?? 10)));
        result = { waited: Number(params.ms ?? 10) };
        break;
      default:
        throw { code: -32601, message: `Method not found: '${String(message.method)}'` };
    }
    await send({ jsonrpc: "2.0", id, result });
  } catch (error) {
    const e = error as { code?: number; message?: string };
    await send({
      jsonrpc: "2.0",
      id,
      error: { code: e.code ?? -32603, message: e.message ?? String(error) },
    });
  }
}

const decoder = new TextDecoder();
let buffered = "";
for await (const chunk of Deno.stdin.readable) {
  buffered += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = buffered.indexOf("\n")) !== -1) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (line === "") continue;
    try {
      void handle(JSON.parse(line) as Message);
    } catch {
      await send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    }
  }
}
// Let answers still in flight (slow, ask) finish before exiting.
await new Promise((r) => setTimeout(r, 0));
log("stdin closed, exiting");
