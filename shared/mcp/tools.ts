import * as z from "zod";
import { type Principal, requireScope } from "../auth/authenticate.ts";
import { logServerFault, toAppError } from "../errors.ts";
import type { MemoryService } from "../memory/service.ts";
import { listMemoriesShape, saveMemoryShape, updateMemoryShape, uuid } from "../memory/schemas.ts";
import { searchSchema } from "../search/schemas.ts";
import type { SearchService } from "../search/service.ts";
import { formatMemory, formatMemoryList, formatProjects, UNTRUSTED_NOTE } from "./format.ts";
import type { CallToolResult, McpServer } from "./sdk.ts";
import { formatSearchResults } from "./search_format.ts";

/** Runs a tool body; success becomes text + structured content, failure an isError result. */
export async function run(
  body: () => Promise<{ text: string; data: Record<string, unknown> }>,
): Promise<CallToolResult> {
  try {
    const { text, data } = await body();
    return { content: [{ type: "text", text }], structuredContent: data };
  } catch (thrown) {
    const err = toAppError(thrown);
    logServerFault(err, thrown, "tool failed");
    return { content: [{ type: "text", text: `Error: ${err.message}` }], isError: true };
  }
}

const idShape = { id: uuid.describe("The memory id (UUID) from a previous result.") };
// Strict input schemas, as in the REST API: an unknown argument (a misspelt field) is an error
// the model can correct, instead of being silently dropped.

/** Registers the memory tools for one authenticated caller on a (per-request) MCP server. */
export function registerMemoryTools(
  server: McpServer,
  service: MemoryService,
  principal: Principal,
  search: SearchService,
): void {
  const userId = principal.userId;
  const writable = () => requireScope(principal, "write");

  server.registerTool("save_memory", {
    title: "Save memory",
    description:
      "Remember something worth recalling in later sessions: a decision and its reason, a fix, a convention, a snippet, a fact about the codebase, an answer. Make the content self-contained. Saving identical content again in the same project returns the existing memory.",
    inputSchema: z.strictObject(saveMemoryShape),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  }, (args) =>
    run(async () => {
      writable();
      const { memory, duplicate } = await service.save(userId, args);
      const verb = duplicate ? "Already remembered (identical content)" : "Saved";
      return {
        text: `${verb}: memory ${memory.id} in project ${memory.project}.`,
        data: { memory, duplicate },
      };
    }));

  server.registerTool("get_memory", {
    title: "Get memory",
    description: "Fetch one memory by id, with its full content.",
    inputSchema: z.strictObject(idShape),
    annotations: { readOnlyHint: true },
  }, ({ id }) =>
    run(async () => {
      const memory = await service.get(userId, id);
      return { text: `${UNTRUSTED_NOTE}\n\n${formatMemory(memory)}`, data: { memory } };
    }));

  server.registerTool("update_memory", {
    title: "Update memory",
    description:
      "Change fields of a memory you can write (content, title, tags, kind, project, …). Only the fields you pass change. Pass expected_version to avoid overwriting a concurrent change.",
    inputSchema: z.strictObject({ ...idShape, ...updateMemoryShape }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  }, ({ id, ...patch }) =>
    run(async () => {
      writable();
      const memory = await service.update(userId, id, patch);
      return { text: `Updated memory ${id} (now version ${memory.version}).`, data: { memory } };
    }));

  server.registerTool("delete_memory", {
    title: "Delete memory",
    description: "Permanently delete a memory by id. Use when it is wrong or obsolete.",
    inputSchema: z.strictObject(idShape),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  }, ({ id }) =>
    run(async () => {
      writable();
      const result = await service.delete(userId, id);
      return { text: `Deleted memory ${id}.`, data: result };
    }));

  server.registerTool("search_memories", {
    title: "Search memories",
    description:
      "Find memories by meaning and keywords (hybrid search) across your projects, best match first. Use it before starting a task to recall earlier decisions, fixes, conventions and answers. Filter by project, kinds, tags, time, repo or file path. Results show scores and the stored text; call get_memory for a memory's full content.",
    inputSchema: searchSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    run(async () => {
      const result = await search.search(userId, args);
      return { text: formatSearchResults(result), data: { ...result } };
    }));

  server.registerTool("list_memories", {
    title: "List memories",
    description:
      "List memories newest first, optionally filtered by project, kind, tags (all must match) and creation time. Use search_memories to find memories by meaning.",
    inputSchema: z.strictObject(listMemoriesShape),
    annotations: { readOnlyHint: true },
  }, (args) =>
    run(async () => {
      const page = await service.list(userId, args);
      return {
        text: formatMemoryList(page.items, page.next_cursor),
        data: { memories: page.items, next_cursor: page.next_cursor },
      };
    }));

  server.registerTool("list_projects", {
    title: "List projects",
    description:
      "List the projects you can use (your own and shared ones) with your role in each, and how many memories are still waiting to be embedded (pending_embeddings: 0 means all are searchable by meaning). Memories saved without a project go to your default project.",
    inputSchema: z.strictObject({}),
    annotations: { readOnlyHint: true },
  }, () =>
    run(async () => {
      const projects = await service.listProjects(userId);
      return { text: formatProjects(projects), data: { projects } };
    }));
}
