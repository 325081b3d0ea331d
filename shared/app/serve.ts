import { loadConfig } from "../config.ts";
import { openPostgres } from "../db/postgres.ts";
import type { EdgeFunction } from "./edge_function.ts";

/**
 * Entry point of a deployed Edge Function: builds the parts of the context this function uses
 * once, then serves requests. Supabase provides SUPABASE_DB_URL.
 */
export function serveFunction<Ctx>(fn: EdgeFunction<Ctx>): void {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error("SUPABASE_DB_URL (or DATABASE_URL) is not set");
  const db = openPostgres(config.databaseUrl);
  Deno.serve(fn.handler(fn.context(config, db)));
}
