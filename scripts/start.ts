// `deno task start`: the whole product on one machine — PGlite (or DATABASE_URL), migrations,
// every Edge Function at http://127.0.0.1:54321/functions/v1/<name>.
import { loadConfig } from "../shared/config.ts";
import { openDatabase } from "./local/database.ts";
import { log } from "../shared/log.ts";
import { startStack } from "./local/stack.ts";
import { pgliteDir, readLiveState, removeState, writeState } from "./local/state.ts";

const config = loadConfig();
const dataDir = config.CODEMEMORY_DATA_DIR;
// A new data dir is private (server.json holds the admin token; pgdata, kept private by
// openPglite, every memory); an existing one, which may be any folder, is left as it is.
await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });

const running = await readLiveState(dataDir);
if (running) {
  console.error(`Code Memory is already running at ${running.url} with data in ${dataDir}`);
  Deno.exit(1);
}

const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: pgliteDir(dataDir) });
const adminToken = crypto.randomUUID();
const stack = await startStack({ config, db, adminToken });
await writeState(dataDir, { pid: Deno.pid, url: stack.url, adminToken });

log.info("Code Memory is running", {
  url: stack.url,
  mcp: `${stack.url}/functions/v1/mcp`,
  rest: `${stack.url}/functions/v1/memories`,
  database: config.databaseUrl ? "postgres" : `pglite:${pgliteDir(dataDir)}`,
});
console.log(`Create an API key: deno task key create --email you@example.com`);

// Otherwise the first search waits for the model to be verified and loaded (seconds for
// MiniLM); searches after that only pay for the forward pass.
const { embedder } = stack.ctx;
embedder.ready?.().then(
  () => log.info("Embedding model loaded", { model: embedder.model }),
  (err) => log.warn("Embedding model did not load", { model: embedder.model, error: String(err) }),
);

const shutdown = async () => {
  await stack.close();
  await db.close();
  await removeState(dataDir);
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
