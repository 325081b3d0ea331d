// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { TestStack, TestUser } from "./stack.ts";

/** The SDK's real MCP client connected over HTTP to the stack's mcp function as `user`. */
export async function connectMcp(stack: TestStack, user: TestUser) {
  const client = new Client({ name: "code-memory-tests", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.url}/functions/v1/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${user.key}` } },
  });
  await client.connect(transport);
  return client;
}

/** Every tool the server lists, sorted: tests that cover each tool assert this list. */
export const MCP_TOOLS = [
  "accept_invitation",
  "create_project",
  "decline_invitation",
  "delete_memory",
  "get_memory",
  "get_session_brief",
  "list_memories",
  "list_project_members",
  "list_projects",
  "restore_memory",
  "save_memory",
  "search_memories",
  "share_project",
  "unshare_project",
  "update_memory",
];
