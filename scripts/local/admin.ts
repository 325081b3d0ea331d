import { createApiKey, ensureUser } from "../../shared/auth/api_keys.ts";
import type { Cache } from "../../shared/cache/types.ts";
import type { Database } from "../../shared/db/types.ts";
import { errorResponse } from "../../shared/http/errors.ts";
import { badRequest, unauthorized } from "../../shared/errors.ts";
import * as z from "zod";
import { timingSafeEqual } from "node:crypto";
import { handleTransferAdmin } from "./admin_transfer.ts";

const keyRequest = z.object({
  email: z.email(),
  name: z.string().trim().min(1).max(100).optional(),
});

/**
 * Admin API of the embedded stack (loopback only, token from .codememory/server.json): lets the
 * key CLI create keys while the running stack holds the PGlite database exclusively.
 * Also serves /admin/export and /admin/import for `deno task export|import` (admin_transfer.ts).
 */
export function createAdminHandler(
  db: Database,
  token: string,
  opts: { embeddingModel?: string; cache?: Cache } = {},
) {
  const expected = new TextEncoder().encode(token);
  const authorized = (req: Request) => {
    const given = new TextEncoder().encode(req.headers.get("x-admin-token") ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (req: Request): Promise<Response> => {
    try {
      if (!authorized(req)) throw unauthorized("Admin token required");
      const transfer = await handleTransferAdmin(db, req, opts);
      if (transfer) return transfer;
      if (req.method !== "POST" || new URL(req.url).pathname !== "/admin/keys") {
        return Response.json({ error: { code: "not_found", message: "No such admin route" } }, {
          status: 404,
        });
      }
      const parsed = keyRequest.safeParse(await req.json().catch(() => null));
      if (!parsed.success) throw badRequest("Expected JSON { email, name? }");
      return Response.json(await issueKey(db, parsed.data.email, parsed.data.name), {
        status: 201,
      });
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/** Creates the user if needed and a new API key for them. */
export async function issueKey(db: Database, email: string, name?: string) {
  const userId = await ensureUser(db, email);
  const { key, record } = await createApiKey(db, userId, { name });
  return { user_id: userId, email, key_id: record.id, name: record.name, key };
}
