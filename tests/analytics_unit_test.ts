/** Analytics building blocks: client detection, the request source (the batcher: shared/batcher_test.ts). */
import assert from "node:assert/strict";
import {
  clientFromHeaders,
  mcpClients,
  parseProduct,
  parseUserAgent,
} from "../shared/analytics/client.ts";
import { currentSource, withRequestSource } from "../shared/analytics/request_source.ts";

Deno.test("analytics client: names from headers, most specific first", () => {
  assert.deepEqual(parseUserAgent("claude-code/1.0.33 (linux; x64)"), {
    name: "claude-code",
    version: "1.0.33",
  });
  assert.deepEqual(parseUserAgent("node"), { name: "node", version: null });
  assert.deepEqual(
    parseUserAgent(
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    ),
    { name: "Chrome", version: "156.0.0.0" },
  );
  assert.deepEqual(parseProduct("supabase-js-web/2.45.0"), {
    name: "supabase-js-web",
    version: "2.45.0",
  });
  assert.equal(parseUserAgent(null), null);
  assert.equal(parseUserAgent("   "), null);
  assert.equal(parseUserAgent("x".repeat(500))!.name.length, 100);

  const headers = new Headers({
    "user-agent": "Deno/2.9.0",
    "x-client-info": "supabase-js-web/2.45.0",
    authorization: "Bearer cm_secret",
  });
  assert.deepEqual(clientFromHeaders(headers, "rest"), {
    name: "supabase-js-web",
    version: "2.45.0",
  });
  // An MCP client's initialize clientInfo is remembered for its later requests only.
  mcpClients.remember(headers, { name: "cursor", version: "1.2" });
  assert.deepEqual(clientFromHeaders(headers, "mcp"), { name: "cursor", version: "1.2" });
  assert.deepEqual(clientFromHeaders(headers, "rest")!.name, "supabase-js-web");
  const otherKey = new Headers({ "user-agent": "Deno/2.9.0", authorization: "Bearer cm_other" });
  assert.deepEqual(clientFromHeaders(otherKey, "mcp"), { name: "Deno", version: "2.9.0" });
  mcpClients.remember(otherKey, undefined);
  mcpClients.remember(otherKey, { name: 42 });
  assert.equal(clientFromHeaders(otherKey, "mcp")!.name, "Deno");
  // Explicit headers win.
  headers.set("x-client-name", "my-bot");
  assert.deepEqual(clientFromHeaders(headers, "mcp"), { name: "my-bot", version: null });
});

Deno.test("analytics request source: set per request, absent outside", async () => {
  assert.equal(currentSource(), null);
  const handler = withRequestSource("mcp", async () => {
    await new Promise((r) => setTimeout(r, 5)); // survives awaits
    return Response.json(currentSource());
  });
  const res = await handler(new Request("http://x/", { headers: { "user-agent": "agent/2" } }));
  assert.deepEqual(await res.json(), {
    channel: "mcp",
    client: { name: "agent", version: "2" },
  });
  assert.equal(currentSource(), null);
});
