import { log } from "../log.ts";

/**
 * A workaround for postgres.js 3.4.9 (porsager/postgres#1154, #1208; no fixed release yet):
 * when the server closes a connection while a small write is queued (a restart, a failover),
 * the queued write later runs against the closed socket and throws from a timer. Uncaught, that
 * ends the process; and the connection that threw never flushes a write again, so queries on it
 * hang. This process-wide handler recognises exactly that error, keeps the process alive, and
 * has every registered pool replace its connections.
 */
const pools = new Set<() => void>();
let installed = false;

/** The driver's write to a connection it had already closed (and nothing else). */
export function isWriteToClosedConnection(err: unknown): boolean {
  return err instanceof TypeError && err.message.includes("reading 'write'") &&
    (err.stack ?? "").includes("nextWrite");
}

/** Calls `replaceConnections` after each such error until the returned function is called. */
export function onBrokenConnection(replaceConnections: () => void): () => void {
  if (!installed && typeof globalThis.addEventListener === "function") {
    installed = true;
    globalThis.addEventListener("error", (event) => {
      if (!isWriteToClosedConnection(event.error)) return;
      event.preventDefault();
      log.warn("postgres.js wrote to a closed connection; replacing the pools' connections");
      for (const replace of pools) replace();
    });
  }
  pools.add(replaceConnections);
  return () => pools.delete(replaceConnections);
}
