/**
 * A minimal client of the stack's memory API over either transport, as benchmarks and the soak
 * drive it: REST (`/functions/v1/memories`) or MCP (`tools/call` over HTTP to
 * `/functions/v1/mcp`; the endpoint is stateless, so no session handshake per call). Any
 * non-success answer throws, with its status and the start of its body.
 */
import type { SaveMemoryInput, UpdateMemoryInput } from "../../../shared/memory/schemas.ts";
import type { Memory } from "../../../shared/memory/types.ts";
import type { SearchInput } from "../../../shared/search/schemas.ts";
import type { SearchResult } from "../../../shared/search/types.ts";

export type Transport = "rest" | "mcp";
export const TRANSPORTS: Transport[] = ["rest", "mcp"];

export interface MemoryClient {
  save(input: SaveMemoryInput): Promise<{ memory: Memory; duplicate: boolean }>;
  search(input: SearchInput): Promise<SearchResult>;
  get(id: string): Promise<Memory>;
  update(id: string, patch: UpdateMemoryInput): Promise<Memory>;
}

/** A request that has not answered by then fails (the load stays bounded). */
const TIMEOUT_MS = 30_000;

export function memoryClient(transport: Transport, stackUrl: string, key: string): MemoryClient {
  const call = async (path: string, method: string, body?: unknown) => {
    const res = await fetch(`${stackUrl}/functions/v1/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  return transport === "rest" ? restClient(call) : mcpClient(call);
}

type Call = (path: string, method: string, body?: unknown) => Promise<Record<string, unknown>>;

function restClient(call: Call): MemoryClient {
  return {
    save: async (input) => (await call("memories", "POST", input)) as never,
    search: async (input) => {
      const { results, ...rest } = await call("memories/search", "POST", input);
      return { ...rest, hits: results } as never;
    },
    get: async (id) => (await call(`memories/${id}`, "GET")).memory as Memory,
    update: async (id, patch) => (await call(`memories/${id}`, "PATCH", patch)).memory as Memory,
  };
}

function mcpClient(call: Call): MemoryClient {
  let id = 0;
  const tool = async (name: string, args: unknown) => {
    const body = await call("mcp", "POST", {
      jsonrpc: "2.0",
      id: ++id,
      method: "tools/call",
      params: { name, arguments: args },
    }) as { result?: { isError?: boolean; structuredContent?: Record<string, unknown> } };
    if (!body.result?.structuredContent || body.result.isError) {
      throw new Error(`${name}: ${JSON.stringify(body).slice(0, 300)}`);
    }
    return body.result.structuredContent;
  };
  return {
    save: async (input) => (await tool("save_memory", input)) as never,
    search: async (input) => (await tool("search_memories", input)) as never,
    get: async (id) => (await tool("get_memory", { id })).memory as Memory,
    update: async (id, patch) => (await tool("update_memory", { id, ...patch })).memory as Memory,
  };
}
