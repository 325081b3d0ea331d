import { createMemoriesApi } from "../../http/memories_api.ts";
import { clientFacing } from "../client_facing.ts";
import { type AppContext, createContext } from "../context.ts";
import type { EdgeFunction } from "../edge_function.ts";

/** The REST API: memories, projects, search, keys, teams, export/import. */
export const memories: EdgeFunction<AppContext> = {
  context: (config, db) => createContext(config, db),
  handler: (ctx) => {
    const app = createMemoriesApi(ctx);
    return clientFacing("rest", async (req) => await app.fetch(req));
  },
};
