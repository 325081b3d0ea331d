import type { Hono } from "hono";
import { ApiKeyService, createKeySchema } from "../auth/key_service.ts";
import { type ApiEnv, userOf, uuidParam, valid } from "./validate.ts";

/**
 * The caller's API keys, under the memories function:
 *   GET    /memories/keys       list (never hashes or secrets)
 *   POST   /memories/keys       create { name?, scopes?, expires_at? } → the secret, once
 *   DELETE /memories/keys/:id   revoke (effective immediately)
 */
export function registerKeyRoutes(app: Hono<ApiEnv>, keys: ApiKeyService): void {
  app.get("/keys", async (c) => c.json({ keys: await keys.list(userOf(c)) }));
  app.post("/keys", valid("json", createKeySchema), async (c) => {
    const { key, secret } = await keys.create(userOf(c), c.req.valid("json"));
    return c.json({ key, secret }, 201);
  });
  app.delete(
    "/keys/:id",
    async (c) => c.json({ key: await keys.revoke(userOf(c), uuidParam(c.req.param("id"), "key")) }),
  );
}
