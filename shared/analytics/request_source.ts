import { AsyncLocalStorage } from "node:async_hooks";
import { clientFromHeaders, type ClientInfo } from "./client.ts";

export type Channel = "rest" | "mcp";

/** Where the request being served came from, for the events it causes. */
export interface RequestSource {
  channel: Channel;
  client: ClientInfo | null;
}

// Events are raised deep inside services (MemoryService.onWrite, search) that know nothing of
// HTTP; the request's source travels with its async context instead of through every signature.
const storage = new AsyncLocalStorage<
  { channel: Channel; headers: Headers; client?: ClientInfo | null }
>();

/** Serves each request inside its source's context. */
export function withRequestSource(
  channel: Channel,
  handler: (req: Request) => Promise<Response>,
): (req: Request) => Promise<Response> {
  return (req) => storage.run({ channel, headers: req.headers }, () => handler(req));
}

/** The source of the request being served, or null outside of one (scripts, timers). */
export function currentSource(): RequestSource | null {
  const store = storage.getStore();
  if (!store) return null;
  // Resolved on first use: most requests record nothing.
  if (store.client === undefined) store.client = clientFromHeaders(store.headers, store.channel);
  return { channel: store.channel, client: store.client };
}
