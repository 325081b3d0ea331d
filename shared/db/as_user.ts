import type { Database, Queryable } from "./types.ts";

/**
 * Runs fn in a transaction as Supabase's `authenticated` role with the user's JWT claims, the
 * way PostgREST does, so row level security decides what the user can see and change.
 */
export function asUser<T>(
  db: Database,
  userId: string,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await actAsUser(tx, userId);
    return await fn(tx);
  });
}

/** Makes the rest of the transaction `tx` run as the user (what asUser does first). */
export async function actAsUser(tx: Queryable, userId: string): Promise<void> {
  await tx.query(
    "select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)",
    [JSON.stringify({ sub: userId, role: "authenticated" })],
  );
}
