import { createEmbedHandler, type EmbedContext } from "../../embed/handler.ts";
import { createConfiguredCache } from "../cache.ts";
import type { EdgeFunction } from "../edge_function.ts";
import { createEmbedder } from "../embedder.ts";

/** The database webhook's target: no users, no HTTP framework, only the embedder and cache. */
export const embed: EdgeFunction<EmbedContext> = {
  context: (config, db) => ({
    config,
    db,
    embedder: createEmbedder(config),
    cache: createConfiguredCache(config),
  }),
  handler: createEmbedHandler,
};
