// `deno task smoke URL KEY`: smoke-tests a deployment (https://<ref>.supabase.co or the embedded
// stack's http://127.0.0.1:54321) with the MCP SDK's own client and plain REST: discovery and
// 401 challenge, then save → search → get → delete over both. KEY is an API key or a JWT.
// Prints one TAP-like line per check; exits 1 if any failed. Leaves nothing behind.
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export interface SmokeResult {
  name: string;
  ok: boolean;
  skipped?: boolean;
  detail?: string;
}

const REQUIRED_TOOLS = ["save_memory", "get_memory", "delete_memory", "list_memories"];

class Check extends Error {}
const check = (cond: unknown, detail: string) => {
  if (!cond) throw new Check(detail);
};

interface ToolReply {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}
const textOf = (r: ToolReply) => (r.content ?? []).map((c) => c.text ?? "").join("\n");

/** Runs every check against `baseUrl`; never throws, reports each check instead. */
export async function runSmoke(
  baseUrl: string,
  key: string,
  log: (line: string) => void = console.log,
): Promise<SmokeResult[]> {
  const base = baseUrl.replace(/\/+$/, "").replace(/\/functions\/v1$/, "");
  const mcpUrl = `${base}/functions/v1/mcp`;
  const rest = `${base}/functions/v1/memories`;
  const token = `smoke${crypto.randomUUID().replaceAll("-", "")}`;
  const auth = { authorization: `Bearer ${key}` };
  const results: SmokeResult[] = [];

  const step = async (name: string, body: () => Promise<void | "skip">) => {
    try {
      const skipped = (await body()) === "skip";
      results.push({ name, ok: true, skipped });
      log(`ok - ${name}${skipped ? " # SKIP not deployed" : ""}`);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      results.push({ name, ok: false, detail });
      log(`not ok - ${name}: ${detail}`);
    }
  };
  const json = async (res: Response) => {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return { text: text.slice(0, 200) };
    }
  };

  await step("mcp: protected resource metadata (RFC 9728)", async () => {
    const res = await fetch(`${mcpUrl}/.well-known/oauth-protected-resource`);
    const doc = await json(res);
    check(res.status === 200, `status ${res.status}`);
    check(String(doc.resource).endsWith("/functions/v1/mcp"), `resource ${doc.resource}`);
  });
  await step("mcp: 401 without credentials points at the metadata", async () => {
    const res = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    await res.body?.cancel();
    check(res.status === 401, `status ${res.status}`);
    check(/resource_metadata="/.test(res.headers.get("www-authenticate") ?? ""), "no challenge");
  });

  const client = new Client({ name: "code-memory-smoke", version: "1.0.0" });
  let connected = false;
  await step("mcp: connect and list tools", async () => {
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: auth } }),
    );
    connected = true;
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    const missing = REQUIRED_TOOLS.filter((t) => !names.includes(t));
    check(missing.length === 0, `missing tools: ${missing.join(", ")}`);
  });
  if (connected) {
    const call = (name: string, args: Record<string, unknown>) =>
      client.callTool({ name, arguments: args }) as Promise<ToolReply>;
    let id = "";
    await step("mcp: save_memory", async () => {
      const r = await call("save_memory", {
        content: `Smoke test ${token} over MCP`,
        tags: ["smoke"],
        kind: "note",
      });
      check(!r.isError, textOf(r));
      id = String((r.structuredContent?.memory as { id?: string })?.id ?? "");
      check(id, "no memory id in the result");
    });
    await step("mcp: search_memories", async () => {
      const { tools } = await client.listTools();
      if (!tools.some((t) => t.name === "search_memories")) return "skip";
      const r = await call("search_memories", { query: token });
      check(!r.isError, textOf(r));
      check(JSON.stringify(r).includes(id), "the saved memory was not found");
    });
    await step("mcp: get_memory", async () => {
      const r = await call("get_memory", { id });
      check(!r.isError && textOf(r).includes(token), textOf(r));
    });
    await step("mcp: delete_memory, then it is gone", async () => {
      const r = await call("delete_memory", { id });
      check(!r.isError, textOf(r));
      const again = await call("get_memory", { id });
      check(again.isError, "still readable after delete");
    });
    await client.close().catch(() => {});
  }

  let restId = "";
  await step("rest: save", async () => {
    const res = await fetch(rest, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ content: `Smoke test ${token} over REST`, tags: ["smoke"] }),
    });
    const body = await json(res);
    check(res.status === 201, `status ${res.status}: ${JSON.stringify(body)}`);
    restId = body.memory.id;
  });
  await step("rest: search", async () => {
    const res = await fetch(`${rest}/search`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ query: token }),
    });
    const body = await json(res);
    if (res.status === 404 && /No route/.test(JSON.stringify(body))) return "skip";
    check(res.status === 200, `status ${res.status}: ${JSON.stringify(body)}`);
    check(JSON.stringify(body).includes(restId), "the saved memory was not found");
  });
  await step("rest: get and list", async () => {
    const one = await fetch(`${rest}/${restId}`, { headers: auth });
    check(one.status === 200, `get: status ${one.status}`);
    check(JSON.stringify(await json(one)).includes(token), "wrong content");
    const list = await fetch(`${rest}?tags=smoke&limit=100`, { headers: auth });
    check(list.status === 200, `list: status ${list.status}`);
    check(JSON.stringify(await json(list)).includes(restId), "not listed");
  });
  await step("rest: delete, then 404", async () => {
    const del = await fetch(`${rest}/${restId}`, { method: "DELETE", headers: auth });
    await del.body?.cancel();
    check(del.status === 200, `delete: status ${del.status}`);
    const gone = await fetch(`${rest}/${restId}`, { headers: auth });
    await gone.body?.cancel();
    check(gone.status === 404, `after delete: status ${gone.status}`);
  });
  return results;
}

if (import.meta.main) {
  const [url, key] = Deno.args;
  if (!url || !key) {
    console.error("usage: deno task smoke URL KEY   (e.g. https://<ref>.supabase.co cm_…)");
    Deno.exit(2);
  }
  const results = await runSmoke(url, key);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  Deno.exit(failed ? 1 : 0);
}
