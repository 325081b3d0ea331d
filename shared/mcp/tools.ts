import * as z from "zod";
import { type Principal, requireScope } from "../auth/authenticate.ts";
import { logServerFault, toAppError } from "../errors.ts";
import type { MemoryService } from "../memory/service.ts";
import {
  getMemoryShape,
  listMemoriesShape,
  restoreMemoryShape,
  saveMemoryShape,
  updateMemoryShape,
  uuid,
} from "../memory/schemas.ts";
import { searchSchema } from "../search/schemas.ts";
import type { SearchService } from "../search/service.ts";
import { formatMemory, formatMemoryList, formatSaved } from "./format.ts";
import * as out from "./output.ts";
import type { CallToolResult, McpServer } from "./sdk.ts";
import { formatSearchResults } from "./search_format.ts";

/**
 * Runs a tool body; success becomes text + structured content (matching the tool's
 * outputSchema, shared/mcp/output.ts), failure an isError result.
 */
export async function run(
  body: () => Promise<{ text: string; data: object }>,
): Promise<CallToolResult> {
  try {
    const { text, data } = await body();
    return {
      content: [{ type: "text", text }],
      structuredContent: data as Record<string, unknown>,
    };
  } catch (thrown) {
    const err = toAppError(thrown);
    logServerFault(err, thrown, "tool failed");
    return { content: [{ type: "text", text: `Error: ${err.message}` }], isError: true };
  }
}

const idShape = { id: uuid.describe("The memory id (UUID) from a previous result.") };
// Strict input schemas, as in the REST API: an unknown argument (a misspelt field) is an error
// the model can correct, instead of being silently dropped. Built once here, not per request:
// a zod schema is immutable, so every per-request server can share it (building these was a
// good part of a server's build time).
const saveInput = z.strictObject(saveMemoryShape);
const getInput = z.strictObject({ ...idShape, ...getMemoryShape });
const updateInput = z.strictObject({ ...idShape, ...updateMemoryShape });
const restoreInput = z.strictObject({ ...idShape, ...restoreMemoryShape });
const deleteInput = z.strictObject(idShape);
const listInput = z.strictObject(listMemoriesShape);

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
      "Remember something worth recalling in later sessions: a decision and its reason, a fix, a convention, a snippet, a fact about the codebase, an answer. Make the content self-contained. A new project name creates that project. Saving identical content again in the same project returns the existing memory; memories very close in meaning are listed as near_duplicates (then update one instead, pass supersedes, or on_duplicate 'merge').",
    inputSchema: saveInput,
    outputSchema: out.saveOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  }, (args) =>
    run(async () => {
      writable();
      const result = await service.save(userId, args);
      return { text: formatSaved(result), data: result };
    }));

  server.registerTool("get_memory", {
    title: "Get memory",
    description:
      "Fetch one memory by id, with its full content, the memory it supersedes and those superseding it; include_history lists its earlier versions.",
    inputSchema: getInput,
    outputSchema: out.getOutput,
    annotations: { readOnlyHint: true },
  }, ({ id, include_history }) =>
    run(async () => {
      const detail = await service.getDetail(userId, id, { history: include_history });
      return { text: formatMemory(detail.memory, detail, detail.history), data: detail };
    }));

  server.registerTool("update_memory", {
    title: "Update memory",
    description:
      "Change fields of a memory you can write (content, title, tags, kind, project, supersedes, …). Only the fields you pass change; the previous version is kept (get_memory with include_history, restore_memory). Pass expected_version to avoid overwriting a concurrent change.",
    inputSchema: updateInput,
    outputSchema: out.memoryResultOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  }, ({ id, ...patch }) =>
    run(async () => {
      writable();
      const memory = await service.update(userId, id, patch);
      return {
        text: `Updated memory ${id} (now version ${memory.version}; version ${
          memory.version - 1
        } is kept in its history).`,
        data: { memory },
      };
    }));

  server.registerTool("restore_memory", {
    title: "Restore memory version",
    description:
      "Bring back an earlier version of a memory (see get_memory with include_history): its content, title, tags, kind and code fields become a new version; the current one stays in the history.",
    inputSchema: restoreInput,
    outputSchema: out.restoreOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  }, ({ id, ...input }) =>
    run(async () => {
      writable();
      const memory = await service.restore(userId, id, input);
      return {
        text: `Restored version ${input.version} of memory ${id} as version ${memory.version}.`,
        data: { memory, restored_version: input.version },
      };
    }));

  server.registerTool("delete_memory", {
    title: "Delete memory",
    description:
      "Permanently delete a memory by id, with all its earlier versions: nothing of it is kept. Use when it is wrong; when it is outdated, prefer saving the new knowledge with supersedes (the old one stays readable, out of search).",
    inputSchema: deleteInput,
    outputSchema: out.deleteOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  }, ({ id }) =>
    run(async () => {
      writable();
      const result = await service.delete(userId, id);
      return {
        text:
          `Deleted memory ${id} and its ${result.versions_deleted} earlier versions; nothing of it is kept.`,
        data: result,
      };
    }));

  server.registerTool("search_memories", {
    title: "Search memories",
    description:
      "Find memories by meaning and keywords (hybrid search) across your projects, best match first. Use it before starting a task to recall earlier decisions, fixes, conventions and answers. Filter by project, kinds, tags, time, repo or file path. Memories superseded by newer ones are left out unless include_superseded. Results show scores and the stored text; call get_memory for a memory's full content.",
    inputSchema: searchSchema,
    outputSchema: out.searchOutput,
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
    inputSchema: listInput,
    outputSchema: out.listOutput,
    annotations: { readOnlyHint: true },
  }, (args) =>
    run(async () => {
      const page = await service.list(userId, args);
      return {
        text: formatMemoryList(page.items, page.next_cursor),
        data: { memories: page.items, next_cursor: page.next_cursor },
      };
    }));
}
