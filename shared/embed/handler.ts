import type { Cache } from "../cache/types.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";
import type { EmbeddingProvider } from "../embeddings/types.ts";
import type { Handler } from "../app/edge_function.ts";
import { requireWebhookSecret } from "../config.ts";
import { AppError, unauthorized } from "../errors.ts";
import { errorResponse } from "../http/errors.ts";
import { log } from "../log.ts";
import { parseEmbedRequest } from "./request.ts";
import { hasValidSecret } from "./secret.ts";
import { embedWithinBudget, SUPABASE_EMBED_BUDGET_MS } from "./budget.ts";
import { embedMemories } from "./worker.ts";
import { bumpGenerations } from "../search/generations.ts";

/** What `embed` uses: no users, so no auth, memory service or HTTP framework. */
export interface EmbedContext {
  config: Config;
  db: Database;
  embedder: EmbeddingProvider;
  cache: Cache;
}

/**
 * The `embed` function: target of the database webhook (pg_net) and of the sweep. It checks
 * the shared secret before anything else, embeds the requested memories and answers with what
 * happened to each id: 200 when every row is settled or `deferred` (not reached within the
 * time budget: still pending, for the sweep), 503 when the provider failed (pg_net records the
 * status; the sweep retries those rows with backoff).
 */
export function createEmbedHandler(
  ctx: EmbedContext,
  opts: { budgetMs?: number; now?: () => number } = {},
): Handler {
  const secret = requireWebhookSecret(ctx.config);
  // In-isolate inference is bounded by time per request (Edge Runtime's CPU limit); the rest of
  // a batch waits for the sweep. Network providers cost no CPU time while they wait.
  const budgetMs = opts.budgetMs ??
    (ctx.embedder.name === "supabase" ? SUPABASE_EMBED_BUDGET_MS : undefined);
  return async (req) => {
    try {
      if (req.method !== "POST") {
        throw new AppError({
          status: 405,
          code: "method_not_allowed",
          message: "Use POST",
          headers: { allow: "POST" },
        });
      }
      if (!hasValidSecret(req.headers, secret)) {
        throw unauthorized("Missing or wrong webhook secret");
      }
      const ids = parseEmbedRequest(await req.json().catch(() => undefined));
      // The privileged connection: the worker acts for the database, not for a user.
      const outcome = budgetMs === undefined
        ? await embedMemories(ctx.db, ctx.embedder, ids)
        : await embedWithinBudget(ctx.db, ctx.embedder, ids, { budgetMs, now: opts.now });
      if (outcome.embedded.length > 0) {
        // New vectors change semantic results: retire cached searches over these projects.
        const projects = await ctx.db.query<{ project_id: string }>(
          "select distinct project_id from public.memories where id = any($1::uuid[])",
          [outcome.embedded],
        );
        await bumpGenerations(ctx.cache, null, projects.map((p) => p.project_id));
      }
      if (outcome.failed.length > 0) {
        log.warn("embed: provider failed", { count: outcome.failed.length, error: outcome.error });
        return Response.json(
          { ...outcome, error: { code: "embedding_unavailable", message: outcome.error } },
          { status: 503 },
        );
      }
      return Response.json(outcome);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
