import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import { type Principal, requireScope } from "../auth/authenticate.ts";
import { badRequest } from "../errors.ts";
import {
  createProjectSchema,
  formatIssues,
  listMemoriesSchema,
  saveMemorySchema,
  updateMemorySchema,
  uuid,
} from "../memory/schemas.ts";
import type { AppContext } from "../app/context.ts";
import { errorResponse } from "./errors.ts";

type Env = { Variables: { principal: Principal } };

/** zod-validator with our error shape: 400 JSON naming each bad field. */
const valid = <T extends z.ZodType, Target extends "json" | "query">(target: Target, schema: T) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      throw badRequest(
        `Invalid ${target === "json" ? "body" : "query"}: ${
          formatIssues(result.error as unknown as z.ZodError)
        }`,
      );
    }
  });

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

/**
 * REST API of the `memories` function, mounted where Supabase routes it: /memories/…
 *   GET/POST   /memories             list (filters, cursor) / save
 *   GET/PATCH/DELETE /memories/:id   one memory
 *   GET/POST   /memories/projects    list / create projects
 */
export function createMemoriesApi(ctx: AppContext) {
  const { service } = ctx;
  const app = new Hono<Env>().basePath("/memories");

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

  app.use("*", async (c, next) => {
    c.set("principal", await ctx.auth.authenticate(c.req.raw));
    if (!["GET", "HEAD"].includes(c.req.method)) requireScope(c.get("principal"), "write");
    await next();
  });

  const user = (c: { get(k: "principal"): Principal }) => c.get("principal").userId;

  app.get("/projects", async (c) => c.json({ projects: await service.listProjects(user(c)) }));
  app.post(
    "/projects",
    valid("json", createProjectSchema),
    async (c) =>
      c.json({ project: await service.createProject(user(c), c.req.valid("json")) }, 201),
  );

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
