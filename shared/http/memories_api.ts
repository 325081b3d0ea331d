import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { requireScope } from "../auth/authenticate.ts";
import { ApiKeyService } from "../auth/key_service.ts";
import { badRequest } from "../errors.ts";
import {
  createProjectSchema,
  formatIssues,
  listMemoriesSchema,
  saveMemorySchema,
  updateMemorySchema,
  uuid,
} from "../memory/schemas.ts";
import { searchSchema } from "../search/schemas.ts";
import type { AppContext } from "../app/context.ts";
import { MAX_BODY_BYTES, payloadTooLarge } from "./body_limit.ts";
import { errorResponse } from "./errors.ts";
import { enforceRateLimit } from "./rate_limit.ts";
import { registerKeyRoutes } from "./keys_api.ts";
import { registerTeamRoutes } from "./teams_api.ts";
import { registerTransferRoutes } from "./transfer_api.ts";
import { type ApiEnv, userOf, valid } from "./validate.ts";

const memoryId = (raw: string) => {
  const parsed = uuid.safeParse(raw);
  if (!parsed.success) throw badRequest(`Invalid memory id '${raw.slice(0, 80)}': must be a UUID`);
  return parsed.data;
};

/** Query strings carry tags as `tags=a,b` or repeated `tags=a&tags=b`. */
const listQuery = (url: URL) => {
  const q: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const tags = url.searchParams.getAll("tags").flatMap((t) => t.split(",")).filter(Boolean);
  if (tags.length) q.tags = tags;
  return q;
};

/** POST routes that only read: searches carry their query in a JSON body. */
const READ_ONLY_POSTS = new Set(["/memories/search"]);

/**
 * REST API of the `memories` function, mounted where Supabase routes it: /memories/…
 *   GET/POST   /memories             list (filters, cursor) / save
 *   GET/PATCH/DELETE /memories/:id   one memory
 *   GET/POST   /memories/projects    list / create projects
 *   POST       /memories/search      hybrid search (a read: the 'read' scope suffices)
 *   …/memories/projects/:project…     members and project admin (teams_api.ts)
 *   GET/POST/DELETE /memories/keys…   the caller's API keys (keys_api.ts)
 *   GET /memories/export, POST /memories/import   JSON Lines of your memories (transfer_api.ts)
 */
export function createMemoriesApi(ctx: AppContext) {
  const { service } = ctx;
  const app = new Hono<ApiEnv>().basePath("/memories");

  app.onError((err) => {
    if (err instanceof HTTPException && err.status < 500) {
      // hono's own 4xx (e.g. malformed JSON from the validator): keep status, use our shape.
      return errorResponse(badRequest(err.message || "Bad request"));
    }
    return errorResponse(err);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}` } }, 404)
  );

  // Before anything reads the body: oversized requests are refused without buffering them.
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw payloadTooLarge();
      },
    }),
  );
  app.use("*", async (c, next) => {
    c.set("principal", await ctx.auth.authenticate(c.req.raw));
    await enforceRateLimit(ctx.rateLimiter, c.get("principal"));
    if (!["GET", "HEAD"].includes(c.req.method) && !READ_ONLY_POSTS.has(c.req.path)) {
      requireScope(c.get("principal"), "write");
    }
    await next();
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

  // Fixed paths before the /:id routes below.
  registerKeyRoutes(app, new ApiKeyService(ctx.db));
  registerTeamRoutes(app, ctx.teams);
  registerTransferRoutes(app, ctx);

  app.get("/", async (c) => {
    const parsed = listMemoriesSchema.safeParse(listQuery(new URL(c.req.url)));
    if (!parsed.success) throw badRequest(`Invalid query: ${formatIssues(parsed.error)}`);
    const page = await service.list(user(c), parsed.data);
    return c.json({ memories: page.items, next_cursor: page.next_cursor });
  });
  app.post("/", valid("json", saveMemorySchema), async (c) => {
    const { memory, duplicate } = await service.save(user(c), c.req.valid("json"));
    return c.json({ memory, duplicate }, duplicate ? 200 : 201);
  });

  app.get(
    "/:id",
    async (c) => c.json({ memory: await service.get(user(c), memoryId(c.req.param("id"))) }),
  );
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
