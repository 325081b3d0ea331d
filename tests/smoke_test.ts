import assert from "node:assert/strict";
import { testEachBackend } from "./helpers/db.ts";
import { connectMcp } from "./helpers/mcp.ts";
import { json, withStack } from "./helpers/stack.ts";

testEachBackend(
  "smoke: save over REST, read back over MCP",
  (backend) =>
    withStack(backend, async (stack) => {
      const alice = await stack.newUser();
      const res = await stack.api(alice, "/functions/v1/memories", {
        method: "POST",
        json: { content: "Deploy with `supabase functions deploy`", kind: "fact" },
      });
      assert.equal(res.status, 201);
      const { memory } = await json<{ memory: { id: string } }>(res);
      const client = await connectMcp(stack, alice);
      try {
        const result = await client.callTool({ name: "get_memory", arguments: { id: memory.id } });
        assert.equal(result.isError, undefined);
        assert.match(JSON.stringify(result.content), /supabase functions deploy/);
      } finally {
        await client.close();
      }
    }),
);
