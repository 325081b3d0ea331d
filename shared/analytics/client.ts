import { createHash } from "node:crypto";

/** The software that made a request, as far as it tells: name and version. */
export interface ClientInfo {
  name: string;
  version: string | null;
}

const clip = (value: string, max: number) => value.trim().slice(0, max);
const info = (name: string, version?: string | null): ClientInfo | null =>
  name.trim()
    ? { name: clip(name, 100), version: version?.trim() ? clip(version, 50) : null }
    : null;

/** The first `product/version` token of a header such as User-Agent or X-Client-Info. */
export function parseProduct(value: string | null): ClientInfo | null {
  const match = value?.trim().match(/^([^\s/;()]+)(?:\/([^\s;()]+))?/);
  return match ? info(match[1], match[2]) : null;
}

const BROWSERS = ["Edg", "OPR", "Firefox", "Chrome", "Safari"];

/** A User-Agent as a client: browsers by their engine token, anything else by its first token. */
export function parseUserAgent(ua: string | null): ClientInfo | null {
  if (ua && /^Mozilla\//.test(ua)) {
    for (const name of BROWSERS) {
      const match = ua.match(new RegExp(`\\b${name}/([^\\s;()]+)`));
      if (match) return info(name === "Edg" ? "Edge" : name === "OPR" ? "Opera" : name, match[1]);
    }
  }
  return parseProduct(ua);
}

/**
 * MCP clients name themselves (clientInfo) only in `initialize`. Stateless MCP serves every
 * later request separately, so the name is remembered per credential and User-Agent and looked
 * up for the tool calls that follow. Per process and bounded: a best-effort label.
 */
class McpClientMemory {
  readonly #known = new Map<string, ClientInfo>();
  constructor(readonly capacity = 1_000) {}

  remember(headers: Headers, clientInfo: { name?: unknown; version?: unknown } | undefined) {
    const client = typeof clientInfo?.name === "string"
      ? info(clientInfo.name, typeof clientInfo.version === "string" ? clientInfo.version : null)
      : null;
    if (!client) return;
    const key = this.#key(headers);
    this.#known.delete(key);
    this.#known.set(key, client);
    if (this.#known.size > this.capacity) this.#known.delete(this.#known.keys().next().value!);
  }

  lookup(headers: Headers): ClientInfo | null {
    return this.#known.get(this.#key(headers)) ?? null;
  }

  // Hashed: the memory never holds a credential.
  #key(headers: Headers): string {
    return createHash("sha256")
      .update(`${headers.get("authorization") ?? ""}\n${headers.get("user-agent") ?? ""}`)
      .digest("base64url");
  }
}

export const mcpClients = new McpClientMemory();

/**
 * Who is calling, most specific first: explicit `X-Client-Name`/`X-Client-Version` headers,
 * the clientInfo an MCP client sent in `initialize`, supabase-js's `X-Client-Info`, and last
 * the User-Agent.
 */
export function clientFromHeaders(headers: Headers, channel: "rest" | "mcp"): ClientInfo | null {
  const named = headers.get("x-client-name");
  if (named) return info(named, headers.get("x-client-version"));
  return (channel === "mcp" ? mcpClients.lookup(headers) : null) ??
    parseProduct(headers.get("x-client-info")) ??
    parseUserAgent(headers.get("user-agent"));
}
