import type { Hono } from "hono";
import type { AppContext } from "../app/context.ts";
import { retireOwnedSearches } from "../search/generations.ts";
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
    if (res.ok) await retireOwnedSearches(ctx.cache, ctx.db, userId);
    return res;
  });
}
