import type { Hono } from "hono";
import type { AppContext } from "../app/context.ts";
import { bumpGenerations } from "../search/generations.ts";
import { exportResponse, importResponse } from "../transfer/http.ts";
import { type ApiEnv, userOf } from "./validate.ts";

/**
 * The caller's memories as JSON Lines, to move them between deployments (shared/transfer/):
 *   GET  /memories/export?with_embeddings=true&project=slug   projects the caller owns
 *   POST /memories/import?first_line=N                        body: JSONL, ≤ 1 MiB per request
 */
export function registerTransferRoutes(app: Hono<ApiEnv>, ctx: AppContext): void {
  app.get("/export", (c) => exportResponse(ctx.db, userOf(c), new URL(c.req.url)));
  app.post("/import", async (c) => {
    const userId = userOf(c);
    const res = await importResponse(ctx.db, userId, c.req.raw, ctx.embedder.model);
    if (res.ok) await retireSearches(ctx, userId);
    return res;
  });
}

/** Imported rows land in projects the caller owns: retire cached searches that could miss them. */
async function retireSearches(ctx: AppContext, userId: string): Promise<void> {
  const owned = await ctx.db.query<{ id: string }>(
    "select id from public.projects where owner_id = $1",
    [userId],
  );
  await bumpGenerations(ctx.cache, userId, owned.map((p) => p.id));
}
