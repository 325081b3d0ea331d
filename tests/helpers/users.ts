/**
 * The one way tests make users. Emails are unique: the PostgreSQL test database is shared by
 * every test process, and a user found by email would be someone else's.
 */
import { createApiKey, ensureUser } from "../../shared/auth/api_keys.ts";
import type { Database } from "../../shared/db/types.ts";

export interface TestUser {
  userId: string;
  email: string;
  key: string;
}

type Scope = "read" | "write";

const uniqueEmail = (label: string) => `${label}-${crypto.randomUUID()}@test.local`;

/** A new auth.users row; its id. `label` starts the email, to tell users apart in failures. */
export const newTestUser = (db: Database, label = "user"): Promise<string> =>
  ensureUser(db, uniqueEmail(label));

/** A new user with a fresh API key (both scopes unless `scopes` says otherwise). */
export async function newKeyedUser(
  db: Database,
  opts: { scopes?: Scope[]; label?: string } = {},
): Promise<TestUser> {
  const email = uniqueEmail(opts.label ?? "user");
  const userId = await ensureUser(db, email);
  const { key } = await createApiKey(db, userId, { scopes: opts.scopes });
  return { userId, email, key };
}

/** Removes test users and, by cascade, their projects and memories (shared PostgreSQL). */
export async function dropUsers(db: Database, ...userIds: string[]): Promise<void> {
  await db.query("delete from auth.users where id = any($1::uuid[])", [userIds]);
}
