import { ApiKeyService } from "../auth/key_service.ts";
import {
  createProjectSchema,
  getMemoryQuerySchema,
  listMemoriesQuerySchema,
  restoreMemorySchema,
  saveMemorySchema,
  updateMemorySchema,
} from "../memory/schemas.ts";
import { briefSchema } from "../brief/schemas.ts";
import { searchSchema } from "../search/schemas.ts";
import type { AppContext } from "../app/context.ts";
import { createApiApp } from "./api_app.ts";
import { registerKeyRoutes } from "./keys_api.ts";
import { registerTeamRoutes } from "./teams_api.ts";
import { registerTransferRoutes } from "./transfer_api.ts";
import { userOf, uuidParam, valid } from "./validate.ts";

const memoryId = (raw: string) => uuidParam(raw, "memory");

/** POST routes that only read: searches and briefs carry their request in a JSON body. */
const READ_ONLY_POSTS = new Set(["/memories/search", "/memories/brief"]);

/**
 * REST API of the `memories` function, mounted where Supabase routes it: /memories/…
 *   GET/POST   /memories             list (filters, cursor) / save
 *   GET/PATCH/DELETE /memories/:id   one memory (GET ?include_history=true: earlier versions)
 *   POST       /memories/:id/restore  bring back an earlier version { version } as a new one
 *   GET/POST   /memories/projects    list / create projects
 *   POST       /memories/search      hybrid search (a read: the 'read' scope suffices)
 *   POST       /memories/brief       a session brief for a coding agent (a read, likewise)
 *   …/memories/projects/:project…     members and project admin (teams_api.ts)
 *   GET/POST/DELETE /memories/keys…   the caller's API keys (keys_api.ts)
 *   GET /memories/export, POST /memories/import   JSON Lines of your memories (transfer_api.ts)
 */
export function createMemoriesApi(ctx: AppContext) {
  const { service } = ctx;
  const app = createApiApp(ctx, {
    basePath: "/memories",
    writes: (c) => !["GET", "HEAD"].includes(c.req.method) && !READ_ONLY_POSTS.has(c.req.path),
  });

  const user = userOf;

  app.get("/projects", async (c) => c.json({ projects: await service.listProjects(user(c)) }));
  app.post(
    "/projects",
    valid("json", createProjectSchema),
    async (c) =>
      c.json({ project: await service.createProject(user(c), c.req.valid("json")) }, 201),
  );

  app.post(
    "/search",
    valid("json", searchSchema),
    async (c) => {
      const { hits, ...rest } = await ctx.search.search(user(c), c.req.valid("json"));
      return c.json({ results: hits, ...rest });
    },
  );

  app.post(
    "/brief",
    valid("json", briefSchema),
    async (c) => c.json(await ctx.brief.brief(user(c), c.req.valid("json"))),
  );

  // Fixed paths before the /:id routes below.
  registerKeyRoutes(app, new ApiKeyService(ctx.db));
  registerTeamRoutes(app, ctx.teams);
  registerTransferRoutes(app, ctx);

  app.get("/", valid("query", listMemoriesQuerySchema), async (c) => {
    const page = await service.list(user(c), c.req.valid("query"));
    return c.json({ memories: page.items, next_cursor: page.next_cursor });
  });
  app.post("/", valid("json", saveMemorySchema), async (c) => {
    const result = await service.save(user(c), c.req.valid("json"));
    return c.json(result, result.duplicate || result.merged ? 200 : 201);
  });

  app.get("/:id", valid("query", getMemoryQuerySchema), async (c) =>
    c.json(
      await service.getDetail(user(c), memoryId(c.req.param("id")), {
        history: c.req.valid("query").include_history,
      }),
    ));
  app.post("/:id/restore", valid("json", restoreMemorySchema), async (c) => {
    const input = c.req.valid("json");
    const memory = await service.restore(user(c), memoryId(c.req.param("id")), input);
    return c.json({ memory, restored_version: input.version });
  });
  app.patch("/:id", valid("json", updateMemorySchema), async (c) =>
    c.json({
      memory: await service.update(user(c), memoryId(c.req.param("id")), c.req.valid("json")),
    }));
  app.delete(
    "/:id",
    async (c) => c.json(await service.delete(user(c), memoryId(c.req.param("id")))),
  );

  return app;
}
