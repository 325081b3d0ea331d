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
  const claims = JSON.stringify({ sub: userId, role: "authenticated" });
  return db.transaction(async (tx) => {
    await tx.query(
      "select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)",
      [claims],
    );
    return await fn(tx);
  });
}
