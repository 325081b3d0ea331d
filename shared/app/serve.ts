import { loadConfig } from "../config.ts";
import { openDatabase } from "../db/index.ts";
import { createContext } from "./context.ts";
import { FUNCTIONS } from "./functions.ts";

/** Entry point of a deployed Edge Function: build the context once, then serve requests. */
export async function serveFunction(name: keyof typeof FUNCTIONS): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error("SUPABASE_DB_URL (or DATABASE_URL) is not set");
  const db = await openDatabase({ databaseUrl: config.databaseUrl });
  Deno.serve(FUNCTIONS[name](createContext(config, db)));
}
