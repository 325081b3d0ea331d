/**
 * A real HTTP server on 127.0.0.1 that speaks the few Supabase endpoints `deno task key create`
 * uses on a Supabase project: Auth's Admin API (GET/POST /auth/v1/admin/users, POST
 * /auth/v1/invite) and the Data API's insert into api_keys (POST /rest/v1/api_keys). It plays
 * GoTrue, so it alone writes auth.users (in the given test database), pages its user list at
 * `perPage` at most, checks the service-role key like the API gateway, and records every request
 * (and every "invitation email"). Dispose it (`await using`) to stop it.
 */
import { ensureUser } from "../../shared/auth/api_keys.ts";
import type { Database } from "../../shared/db/types.ts";

export interface AdminRequest {
  method: string;
  path: string;
  query: string;
  apikey: string | null;
  authorization: string | null;
  body: Record<string, unknown> | null;
}

interface FakeUser {
  id: string;
  email: string;
  email_confirmed_at: string | null;
  invited_at: string | null;
}

export interface FakeSupabaseAdmin extends AsyncDisposable {
  readonly url: string;
  readonly requests: AdminRequest[];
  /** Addresses an invitation was "emailed" to. */
  readonly invited: string[];
  /** A user already in this project's Auth (and auth.users). */
  addUser(email: string): Promise<FakeUser>;
}

export function startFakeSupabaseAdmin(
  db: Database,
  opts: { serviceRoleKey: string; perPage?: number },
): FakeSupabaseAdmin {
  const users: FakeUser[] = [];
  const requests: AdminRequest[] = [];
  const invited: string[] = [];
  const maxPerPage = opts.perPage ?? 50;

  async function addUser(email: string, confirmed = true, invitedAt: string | null = null) {
    const normalized = email.trim().toLowerCase();
    const id = await ensureUser(db, normalized);
    const user = {
      id,
      email: normalized,
      email_confirmed_at: confirmed ? new Date().toISOString() : null,
      invited_at: invitedAt,
    };
    users.push(user);
    return user;
  }

  const gotrueUser = (u: FakeUser) => ({
    ...u,
    aud: "authenticated",
    role: "authenticated",
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    identities: [],
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  });
  const gotrueError = (status: number, code: string, msg: string) =>
    Response.json({ code: status, error_code: code, msg }, { status });

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "POST" ? await req.json().catch(() => null) : null;
    requests.push({
      method: req.method,
      path: url.pathname,
      query: url.search,
      apikey: req.headers.get("apikey"),
      authorization: req.headers.get("authorization"),
      body,
    });
    const bearer = req.headers.get("authorization")?.replace(/^Bearer /, "");
    if (req.headers.get("apikey") !== opts.serviceRoleKey || bearer !== opts.serviceRoleKey) {
      return Response.json({ message: "Invalid API key" }, { status: 401 });
    }
    const route = `${req.method} ${url.pathname}`;
    const taken = (email: string) => users.some((u) => u.email === email.toLowerCase());
    if (route === "GET /auth/v1/admin/users") {
      const page = Number(url.searchParams.get("page") || 1);
      const per = Math.min(Number(url.searchParams.get("per_page") || 50), maxPerPage);
      const slice = users.slice((page - 1) * per, page * per);
      return Response.json({ users: slice.map(gotrueUser), aud: "authenticated" }, {
        headers: { "x-total-count": String(users.length) },
      });
    }
    if (route === "POST /auth/v1/invite" || route === "POST /auth/v1/admin/users") {
      const email = String(body?.email ?? "");
      if (!email.includes("@")) return gotrueError(400, "validation_failed", "Invalid email");
      if (taken(email)) {
        return gotrueError(
          422,
          "email_exists",
          "A user with this email address has already been registered",
        );
      }
      const inviting = route === "POST /auth/v1/invite";
      if (inviting) invited.push(email);
      const user = await addUser(
        email,
        !inviting && body?.email_confirm === true,
        inviting ? new Date().toISOString() : null,
      );
      return Response.json(gotrueUser(user));
    }
    if (route === "POST /rest/v1/api_keys") {
      const [row] = await db.query(
        `insert into public.api_keys (user_id, name, prefix, key_hash, scopes)
         values ($1, $2, $3, $4, $5::text[]) returning id, name`,
        [body?.user_id, body?.name, body?.prefix, body?.key_hash, body?.scopes],
      );
      const single = req.headers.get("accept")?.includes("vnd.pgrst.object");
      return Response.json(single ? row : [row], { status: 201 });
    }
    return gotrueError(404, "not_found", `No route ${route}`);
  });

  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    invited,
    addUser: (email) => addUser(email),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
