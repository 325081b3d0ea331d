// `deno task key create` against a Supabase project: users go through Supabase Auth's Admin API
// (supabase-js `auth.admin`), never around it, since GoTrue owns auth.users (identities,
// confirmation, its own triggers). The key row is then inserted through the Data API as
// service_role, so no database password is needed. The service-role key comes from the
// environment and is never printed (errors carry Supabase's message, not the request).
import { createClient, type SupabaseClient, type User } from "@supabase/supabase-js";
import { newApiKey } from "../../shared/auth/api_keys.ts";

/** Asked per page; a server may send fewer, so listing ends at the first empty page. */
const PER_PAGE = 1000;
const MAX_PAGES = 200;

export interface SupabaseAdminEnv {
  url: string;
  serviceRoleKey: string;
}

/** SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY from the environment, or null (not Supabase). */
export function supabaseAdminEnv(
  env: (name: string) => string | undefined,
): SupabaseAdminEnv | null {
  const url = env("SUPABASE_URL");
  const serviceRoleKey = env("SUPABASE_SERVICE_ROLE_KEY");
  return url && serviceRoleKey ? { url, serviceRoleKey } : null;
}

function adminClient({ url, serviceRoleKey }: SupabaseAdminEnv): SupabaseClient {
  return createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { headers: { "x-client-name": "code-memory-cli" } },
  });
}

const fail = (what: string, err: { message?: string; status?: number }) =>
  new Error(`${what}: ${err.message ?? "failed"}${err.status ? ` (HTTP ${err.status})` : ""}`);

async function findUser(client: SupabaseClient, email: string): Promise<User | null> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data, error } = await client.auth.admin.listUsers({ page, perPage: PER_PAGE });
    if (error) throw fail("Supabase Auth would not list users", error);
    const found = data.users.find((u) => u.email?.toLowerCase() === email);
    if (found) return found;
    if (data.users.length === 0) return null;
  }
  throw new Error(`More than ${MAX_PAGES * PER_PAGE} users; cannot look ${email} up`);
}

export interface IssuedKey {
  user_id: string;
  email: string;
  key_id: string;
  name: string;
  key: string;
  /** How the user was found: already there, invited (email sent), or created confirmed. */
  user: "existing" | "invited" | "created";
}

/**
 * Finds the user with this email in Supabase Auth, else invites them (Supabase emails a link
 * to set a password; their address is confirmed when they follow it) or, with `confirmed`,
 * creates them with the address marked confirmed and no email; then creates an API key.
 */
export async function issueKeyThroughSupabase(
  env: SupabaseAdminEnv,
  input: { email: string; name?: string; confirmed?: boolean; redirectTo?: string },
): Promise<IssuedKey> {
  const client = adminClient(env);
  const email = input.email.trim().toLowerCase();
  let user = await findUser(client, email);
  let how: IssuedKey["user"] = "existing";
  if (!user) {
    const { data, error } = input.confirmed
      ? await client.auth.admin.createUser({ email, email_confirm: true })
      : await client.auth.admin.inviteUserByEmail(email, { redirectTo: input.redirectTo });
    if (error) {
      throw fail(
        input.confirmed ? "Supabase Auth would not create the user" : "Supabase Auth would not " +
          "invite the user (no SMTP or its rate limit? --confirmed creates them without an email)",
        error,
      );
    }
    user = data.user;
    how = input.confirmed ? "created" : "invited";
  }
  const { key, prefix, keyHash } = await newApiKey();
  const { data: row, error } = await client.from("api_keys").insert({
    user_id: user!.id,
    name: input.name ?? "default",
    prefix,
    key_hash: keyHash,
    scopes: ["read", "write"],
  }).select("id, name").single();
  if (error) throw fail("Could not store the key through the Data API", error);
  return { user_id: user!.id, email, key_id: row.id, name: row.name, key, user: how };
}
