import { join } from "node:path";

/** What a running stack publishes in its data dir so the CLI can reach it instead of the DB. */
export interface ServerState {
  pid: number;
  url: string;
  adminToken: string;
}

export const stateFile = (dataDir: string) => join(dataDir, "server.json");
export const pgliteDir = (dataDir: string) => join(dataDir, "pgdata");

export async function readLiveState(dataDir: string): Promise<ServerState | null> {
  try {
    const state = JSON.parse(await Deno.readTextFile(stateFile(dataDir))) as ServerState;
    // Only trust it if that stack still answers; a stale file from a crash is ignored.
    const res = await fetch(`${state.url}/health`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok ? state : null;
  } catch {
    return null;
  }
}

export async function writeState(dataDir: string, state: ServerState): Promise<void> {
  await Deno.writeTextFile(stateFile(dataDir), JSON.stringify(state), { mode: 0o600 });
}

export async function removeState(dataDir: string): Promise<void> {
  await Deno.remove(stateFile(dataDir)).catch(() => {});
}
