import { type Authenticator, createAuthenticator } from "../auth/authenticate.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/types.ts";

/** API keys and Supabase JWTs. JWT users are provisioned locally only: on Supabase, GoTrue owns auth.users. */
export function createAuth(config: Config, db: Database): Authenticator {
  return createAuthenticator(db, { config, provisionUsers: !("Supabase" in globalThis) });
}
