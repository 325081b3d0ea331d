import { ensureUser } from "../../shared/auth/api_keys.ts";
import type { Cache } from "../../shared/cache/types.ts";
import type { Database } from "../../shared/db/types.ts";
import { retireOwnedSearches } from "../../shared/search/generations.ts";
import { badRequest, notFound } from "../../shared/errors.ts";
import { exportResponse, importResponse } from "../../shared/transfer/http.ts";

/** The user with this email; export never creates one (import does, like `deno task key`). */
export async function findUserId(db: Database, email: string): Promise<string> {
  const [user] = await db.query<{ id: string }>(
    "select id from auth.users where lower(email) = lower($1) limit 1",
    [email.trim()],
  );
  if (!user) throw notFound(`No user with email ${email}`);
  return user.id;
}

/**
 * The transfer API (shared/transfer/http.ts) for any local user, named by email:
 *   GET /admin/export?email=E&…   POST /admin/import?email=E&first_line=N
 * Returns null for other routes.
 */
export async function handleTransferAdmin(
  db: Database,
  req: Request,
  opts: { embeddingModel?: string; cache?: Cache },
): Promise<Response | null> {
  const url = new URL(req.url);
  const route = `${req.method} ${url.pathname}`;
  if (route !== "GET /admin/export" && route !== "POST /admin/import") return null;
  const email = url.searchParams.get("email") ?? "";
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw badRequest("Pass ?email=<the user's email>");
  if (req.method === "GET") return await exportResponse(db, await findUserId(db, email), url);
  const userId = await ensureUser(db, email);
  const res = await importResponse(db, userId, req, opts.embeddingModel);
  // The running stack's cached searches must not hide what was just imported.
  if (res.ok && opts.cache) await retireOwnedSearches(opts.cache, db, userId);
  return res;
}
